/* DNS messages (RFC 1035), only as much as the sandbox resolver needs:
 * parse a query with exactly one question, and build a response to it with
 * A/AAAA answers or an error code.  Strict: no compression in the question,
 * host-name characters only, bounded by the 512/65535-byte message. */
#pragma once

#include <stddef.h>
#include <stdint.h>

enum {
    CDN_DNS_NOERROR = 0,
    CDN_DNS_FORMERR = 1,
    CDN_DNS_SERVFAIL = 2,
    CDN_DNS_NXDOMAIN = 3,
    CDN_DNS_NOTIMP = 4,
    CDN_DNS_REFUSED = 5,
};

enum { CDN_DNS_A = 1, CDN_DNS_AAAA = 28, CDN_DNS_IN = 1 };

typedef struct cdn_dns_query {
    uint16_t id;
    uint16_t flags;
    char name[254];   /* dotted, lower-case, no trailing dot; "" = root */
    uint16_t qtype, qclass;
    size_t question_end; /* offset after the question */
} cdn_dns_query_t;

/* 0 ok; -1 unusable (too short: drop it); -2 well-formed header but bad
 * question (answer FORMERR with the id); -3 not a standard query (NOTIMP). */
int cdn_dns_parse_query(const uint8_t *buf, size_t len, cdn_dns_query_t *q);

/* Writes the response (addrs: n entries of 4 bytes for A or 16 for AAAA,
 * matching q->qtype) into out; returns its length or -1 if it does not fit. */
int cdn_dns_build_response(const cdn_dns_query_t *q, int rcode, const uint8_t *addrs, size_t n,
                           uint32_t ttl, uint8_t *out, size_t outsz);
