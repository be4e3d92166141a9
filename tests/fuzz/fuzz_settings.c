/* libFuzzer target: the settings loader (jansson + position index + schema)
 * and the position index alone on raw, unvalidated input. */
#include <stddef.h>
#include <stdint.h>

#include "settings/json_pos.h"
#include "settings/settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cdn_error_t err;
    cdn_settings_t *s = NULL;
    if (cdn_settings_load_buffer("fuzz.json", (const char *)data, size, &s, &err) == 0)
        cdn_settings_free(s);

    /* The index is meant for text jansson accepted; it must still be safe
     * on anything. */
    cdn_jpos_t *idx = NULL;
    cdn_pos_t epos;
    if (cdn_jpos_build((const char *)data, size, &idx, &epos, &err) == 0) {
        char path[256];
        for (size_t i = 0; i < idx->n; i++)
            cdn_jpos_path(idx, (int)i, path, sizeof path);
        if (idx->n > 0)
            (void)cdn_jpos_lookup(idx, path);
        cdn_jpos_free(idx);
    }
    return 0;
}
