/* The server name of a TLS ClientHello, read from the first record(s)
 * without decrypting anything.  Strict and bounded: the ClientHello must
 * arrive within CDN_TLS_PEEK_MAX bytes of handshake records. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define CDN_TLS_PEEK_MAX 16389 /* one maximal record */

enum {
    CDN_TLS_SNI_FOUND = 1,
    CDN_TLS_NEED_MORE = 0,
    CDN_TLS_NOT_TLS = -1,  /* not a TLS handshake at all */
    CDN_TLS_BAD = -2,      /* TLS, but malformed */
    CDN_TLS_NO_SNI = -3,   /* a valid ClientHello without a host name */
};

/* Returns one of the above; on CDN_TLS_SNI_FOUND, name holds the host name
 * (NUL-terminated, as sent). */
int cdn_tls_parse_sni(const uint8_t *buf, size_t len, char *name, size_t namesz);
