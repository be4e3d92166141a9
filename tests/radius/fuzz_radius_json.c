/* libFuzzer target: the reader of `cordon radius --json` reports, which
 * --compare feeds with files of unknown origin. */
#include <stddef.h>
#include <stdint.h>

#include "radius/radius.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cdn_error_t err;
    cdn_radius_t *r = NULL;
    if (cdn_radius_load_buffer("fuzz", (const char *)data, size, &r, &err) == 0) {
        cdn_rad_count_t c = cdn_radius_count(r, NULL);
        (void)c;
        cdn_radius_free(r);
    }
    return 0;
}
