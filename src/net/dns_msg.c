#include "net/dns_msg.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

int cdn_dns_parse_query(const uint8_t *buf, size_t len, cdn_dns_query_t *q)
{
    memset(q, 0, sizeof *q);
    if (len < 12)
        return -1;
    q->id = (uint16_t)(buf[0] << 8 | buf[1]);
    q->flags = (uint16_t)(buf[2] << 8 | buf[3]);
    if (q->flags & 0x8000) /* a response: never answer those (loops) */
        return -1;
    if (len > 65535)
        return -2;
    if (((q->flags >> 11) & 0xf) != 0)
        return -3;
    uint16_t qd = (uint16_t)(buf[4] << 8 | buf[5]);
    uint16_t an = (uint16_t)(buf[6] << 8 | buf[7]);
    uint16_t ns = (uint16_t)(buf[8] << 8 | buf[9]);
    if (qd != 1 || an != 0 || ns != 0)
        return -2;
    size_t off = 12, nl = 0;
    for (;;) {
        if (off >= len)
            return -2;
        uint8_t l = buf[off++];
        if (l == 0)
            break;
        if (l > 63 || off + l > len) /* also rejects compression (0xc0) */
            return -2;
        if (nl + l + 1 > 253)
            return -2;
        if (nl)
            q->name[nl++] = '.';
        for (uint8_t i = 0; i < l; i++) {
            unsigned char c = buf[off + i];
            if (!(isalnum(c) || c == '-' || c == '_'))
                return -2;
            q->name[nl++] = (char)tolower(c);
        }
        off += l;
    }
    q->name[nl] = '\0';
    if (off + 4 > len)
        return -2;
    q->qtype = (uint16_t)(buf[off] << 8 | buf[off + 1]);
    q->qclass = (uint16_t)(buf[off + 2] << 8 | buf[off + 3]);
    q->question_end = off + 4;
    return 0;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

int cdn_dns_build_response(const cdn_dns_query_t *q, int rcode, const uint8_t *addrs, size_t n,
                           uint32_t ttl, uint8_t *out, size_t outsz)
{
    size_t alen = q->qtype == CDN_DNS_AAAA ? 16 : 4;
    size_t namelen = q->name[0] ? strlen(q->name) + 2 : 1;
    bool with_q = q->question_end != 0;
    size_t need = 12 + (with_q ? namelen + 4 : 0) + n * (12 + alen);
    if (need > outsz || (n && (!with_q || rcode != CDN_DNS_NOERROR)))
        return -1;
    memset(out, 0, 12);
    put16(out, q->id);
    /* QR, opcode 0, RD copied, RA set. */
    put16(out + 2, (uint16_t)(0x8000 | (q->flags & 0x0100) | 0x0080 | (rcode & 0xf)));
    put16(out + 4, with_q ? 1 : 0);
    put16(out + 6, (uint16_t)n);
    size_t off = 12;
    if (with_q) {
        const char *s = q->name;
        while (*s) {
            const char *dot = strchr(s, '.');
            size_t l = dot ? (size_t)(dot - s) : strlen(s);
            out[off++] = (uint8_t)l;
            memcpy(out + off, s, l);
            off += l;
            s += l + (dot ? 1 : 0);
        }
        out[off++] = 0;
        put16(out + off, q->qtype);
        put16(out + off + 2, q->qclass);
        off += 4;
    }
    for (size_t i = 0; i < n; i++) {
        put16(out + off, 0xc00c); /* pointer to the question name */
        put16(out + off + 2, q->qtype);
        put16(out + off + 4, CDN_DNS_IN);
        put16(out + off + 6, (uint16_t)(ttl >> 16));
        put16(out + off + 8, (uint16_t)ttl);
        put16(out + off + 10, (uint16_t)alen);
        memcpy(out + off + 12, addrs + i * alen, alen);
        off += 12 + alen;
    }
    return (int)off;
}
