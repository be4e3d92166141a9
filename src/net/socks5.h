/* SOCKS5 (RFC 1928) server-side parsing: the method greeting and the
 * request.  Only what cordon serves: no authentication, CONNECT, with IPv4,
 * IPv6 or a domain name (remote resolution). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    CDN_SOCKS_NEED_MORE = 0,
    CDN_SOCKS_BAD = -1,
};

enum {
    CDN_SOCKS_REP_OK = 0x00,
    CDN_SOCKS_REP_FAILURE = 0x01,
    CDN_SOCKS_REP_NOT_ALLOWED = 0x02,
    CDN_SOCKS_REP_NET_UNREACH = 0x03,
    CDN_SOCKS_REP_HOST_UNREACH = 0x04,
    CDN_SOCKS_REP_REFUSED = 0x05,
    CDN_SOCKS_REP_TTL = 0x06,
    CDN_SOCKS_REP_CMD = 0x07,
    CDN_SOCKS_REP_ATYP = 0x08,
};

typedef struct cdn_socks5_req {
    uint8_t cmd;  /* 1 = CONNECT */
    uint8_t atyp; /* 1 = IPv4, 3 = domain, 4 = IPv6 */
    char host[256]; /* domain as given, or the address as text */
    uint16_t port;
} cdn_socks5_req_t;

/* > 0 bytes consumed, 0 need more, -1 bad.  *noauth: client offers 0x00. */
int cdn_socks5_parse_greeting(const uint8_t *buf, size_t len, bool *noauth);
/* > 0 bytes consumed, 0 need more, -1 bad (unknown atyp: -1 with
 * req->atyp set, so the caller can answer 0x08). */
int cdn_socks5_parse_request(const uint8_t *buf, size_t len, cdn_socks5_req_t *req);
