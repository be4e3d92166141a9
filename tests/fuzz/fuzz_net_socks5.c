#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "net/socks5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bool noauth;
    int r = cdn_socks5_parse_greeting(data, size, &noauth);
    if (r > 0 && (size_t)r <= size) {
        cdn_socks5_req_t req;
        int r2 = cdn_socks5_parse_request(data + r, size - (size_t)r, &req);
        if (r2 > 0 && ((size_t)r2 > size - (size_t)r || strlen(req.host) >= sizeof req.host))
            __builtin_trap();
    }
    return 0;
}
