#include "net/tls_sni.h"

#include <string.h>

static uint32_t rd16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t rd24(const uint8_t *p) { return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2]; }

int cdn_tls_parse_sni(const uint8_t *buf, size_t len, char *name, size_t namesz)
{
    if (namesz)
        name[0] = '\0';
    if (len >= 1 && buf[0] != 0x16)
        return CDN_TLS_NOT_TLS;
    if (len >= 2 && buf[1] != 0x03)
        return CDN_TLS_NOT_TLS;
    if (len < 5)
        return CDN_TLS_NEED_MORE;
    size_t rlen = rd16(buf + 3);
    if (rlen == 0 || rlen > 16384)
        return CDN_TLS_BAD;
    if (len < 5 + rlen)
        return len >= CDN_TLS_PEEK_MAX ? CDN_TLS_BAD : CDN_TLS_NEED_MORE;
    /* The whole ClientHello must sit in this one record: it does for every
     * client seen in practice (even with post-quantum key shares), and it
     * keeps the parser free of reassembly. */
    const uint8_t *p = buf + 5, *end = buf + 5 + rlen;
    if (end - p < 4 || p[0] != 0x01)
        return CDN_TLS_BAD;
    size_t hlen = rd24(p + 1);
    p += 4;
    if (hlen > (size_t)(end - p))
        return CDN_TLS_BAD;
    end = p + hlen;
    /* client_version(2) random(32) */
    if (end - p < 34)
        return CDN_TLS_BAD;
    p += 34;
    /* session_id */
    if (end - p < 1 || p[0] > 32 || (size_t)(end - p) < 1u + p[0])
        return CDN_TLS_BAD;
    p += 1 + p[0];
    /* cipher_suites */
    if (end - p < 2)
        return CDN_TLS_BAD;
    size_t cs = rd16(p);
    if (cs < 2 || cs % 2 || (size_t)(end - p) < 2 + cs)
        return CDN_TLS_BAD;
    p += 2 + cs;
    /* compression_methods */
    if (end - p < 1 || p[0] < 1 || (size_t)(end - p) < 1u + p[0])
        return CDN_TLS_BAD;
    p += 1 + p[0];
    if (p == end)
        return CDN_TLS_NO_SNI; /* no extensions */
    if (end - p < 2)
        return CDN_TLS_BAD;
    size_t elen = rd16(p);
    p += 2;
    if (elen != (size_t)(end - p))
        return CDN_TLS_BAD;
    int found = 0;
    while (p < end) {
        if (end - p < 4)
            return CDN_TLS_BAD;
        uint32_t type = rd16(p), l = rd16(p + 2);
        p += 4;
        if (l > (size_t)(end - p))
            return CDN_TLS_BAD;
        if (type == 0) {
            /* Two server_name extensions would let the check and the
             * server disagree. */
            if (found++)
                return CDN_TLS_BAD;
            const uint8_t *q = p, *qe = p + l;
            if (qe - q < 2 || rd16(q) != (size_t)(qe - q - 2))
                return CDN_TLS_BAD;
            q += 2;
            int hosts = 0;
            while (q < qe) {
                if (qe - q < 3)
                    return CDN_TLS_BAD;
                uint8_t nt = q[0];
                size_t nl = rd16(q + 1);
                q += 3;
                if (nl > (size_t)(qe - q))
                    return CDN_TLS_BAD;
                if (nt == 0) {
                    if (hosts++ || nl == 0 || nl >= namesz || nl > 253)
                        return CDN_TLS_BAD;
                    for (size_t i = 0; i < nl; i++)
                        if (q[i] <= 0x20 || q[i] >= 0x7f)
                            return CDN_TLS_BAD;
                    memcpy(name, q, nl);
                    name[nl] = '\0';
                }
                q += nl;
            }
            if (!hosts)
                return CDN_TLS_BAD;
        }
        p += l;
    }
    return found ? CDN_TLS_SNI_FOUND : CDN_TLS_NO_SNI;
}
