#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "net/dns_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cdn_dns_query_t q;
    int r = cdn_dns_parse_query(data, size, &q);
    uint8_t out[512];
    uint8_t addrs[4 * 16];
    memset(addrs, 0x5a, sizeof addrs);
    if (r == 0) {
        cdn_dns_query_t round;
        int n = cdn_dns_build_response(&q, 0, addrs, q.qtype == 28 ? 4 : 16,
                                       60, out, sizeof out);
        /* What we build must parse as the same question (QR cleared). */
        if (n > 0) {
            out[2] &= 0x7f;
            if (cdn_dns_parse_query(out, (size_t)n, &round) != -2 &&
                cdn_dns_parse_query(out, (size_t)n, &round) == 0 && strcmp(round.name, q.name))
                __builtin_trap();
        }
    } else if (r == -2) {
        cdn_dns_build_response(&q, 1, NULL, 0, 0, out, sizeof out);
    }
    return 0;
}
