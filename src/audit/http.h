/* A small HTTP/1.1 client for OTLP to a collector on this machine.
 *
 * Why not libcurl for this too: loading libcurl costs ~3 ms (30 shared
 * libraries), more than a short `cordon run` takes.  The usual OTLP
 * deployment is a collector agent on localhost:4318; for a plain http://
 * URL whose host is a loopback address or "localhost" cordon speaks HTTP
 * itself: one keep-alive connection, POST with Content-Length, a strict and
 * bounded response parser, every wait bounded by a deadline.  Everything
 * else (https, remote hosts, proxies) goes through libcurl. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "util/strv.h"

typedef struct cdn_http_target {
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char hostport[80]; /* Host: header */
    char path[1024];
} cdn_http_target_t;

/* true when url is http://(127.x.x.x|[::1]|localhost)[:port][/path]. */
bool cdn_http_loopback_url(const char *url, cdn_http_target_t *t);

typedef struct cdn_http_resp {
    int status;        /* 0 = no response (see error) */
    int retry_after;   /* seconds, -1 = none */
    bool keep_alive;   /* the connection can carry the next request */
    long content_length; /* -1 = none / not usable */
    size_t head_len;   /* bytes of status line and headers, blank line included */
    char *body;        /* up to 64 kB, NUL-terminated, may be NULL */
    char error[128];
} cdn_http_resp_t;

/* Parses a response head in buf[0..n): returns 1 when complete (fills r),
 * 0 when more bytes are needed, -1 when malformed or over 16 kB. */
int cdn_http_parse_head(const char *buf, size_t n, cdn_http_resp_t *r);

/* Polled during waits; true aborts the request (close deadline passed). */
typedef bool (*cdn_http_abort_fn)(void *ud);

/* POSTs body over *fd (a kept-alive connection, or -1: connects).  Waits
 * at most until deadline_ns (CLOCK_MONOTONIC).  Leaves *fd open for reuse
 * or -1.  r->body must be freed by the caller. */
void cdn_http_post(int *fd, const cdn_http_target_t *t, const cdn_strv_t *headers,
                   const char *body, size_t len, int64_t deadline_ns, cdn_http_abort_fn abort_fn,
                   void *ud, cdn_http_resp_t *r);
