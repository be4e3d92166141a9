#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "net/tls_sni.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char name[256];
    int r = cdn_tls_parse_sni(data, size, name, sizeof name);
    if (r == CDN_TLS_SNI_FOUND && (strlen(name) == 0 || strlen(name) > 253))
        __builtin_trap();
    return 0;
}
