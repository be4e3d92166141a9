/* HTTP/1.x request-head parser for the proxy and for transparent capture:
 * strict (CRLF line ends, token methods, no obs-fold, no NUL), bounded
 * (CDN_HTTP_HEAD_MAX), zero-copy except for the few fields the broker
 * decides on. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define CDN_HTTP_HEAD_MAX 16384

typedef enum cdn_http_form {
    CDN_HTTP_ORIGIN_FORM = 0, /* GET /path */
    CDN_HTTP_ABSOLUTE_FORM,   /* GET http://host/path */
    CDN_HTTP_AUTHORITY_FORM,  /* CONNECT host:port */
} cdn_http_form_t;

typedef struct cdn_http_req {
    char method[16];
    cdn_http_form_t form;
    char host[256];       /* from the target (absolute/authority form) */
    uint16_t port;        /* from the target; 0 if none */
    char host_header[256];/* Host header host part, "" if none */
    uint16_t host_header_port;
    size_t path_off, path_len; /* origin-form path within buf */
    size_t headers_off;        /* first header line within buf */
    size_t head_len;           /* through the blank line */
    int minor;                 /* HTTP/1.minor */
} cdn_http_req_t;

enum {
    CDN_HTTP_NEED_MORE = 0,
    CDN_HTTP_BAD = -1,
    CDN_HTTP_TOO_LARGE = -2,
};

/* > 0: head length; CDN_HTTP_NEED_MORE; CDN_HTTP_BAD; CDN_HTTP_TOO_LARGE. */
int cdn_http_parse_request(const char *buf, size_t len, cdn_http_req_t *req);

/* Splits "host", "host:port", "[v6]:port" into host and port (0 if none);
 * -1 if malformed. */
int cdn_http_split_authority(const char *s, size_t n, char *host, size_t hostsz, uint16_t *port);
