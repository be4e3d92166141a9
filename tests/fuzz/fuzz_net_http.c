#include <stddef.h>
#include <stdint.h>

#include "net/http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cdn_http_req_t req;
    int r = cdn_http_parse_request((const char *)data, size, &req);
    if (r > 0 && ((size_t)r > size || req.path_off + req.path_len > (size_t)r))
        __builtin_trap();
    char host[256];
    uint16_t port;
    cdn_http_split_authority((const char *)data, size < 300 ? size : 300, host, sizeof host, &port);
    return 0;
}
