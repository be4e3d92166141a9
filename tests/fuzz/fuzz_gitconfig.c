/* libFuzzer target for the git config validator: it must never crash, read
 * out of bounds or hang, and every verdict of "unsafe" must carry a reason. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protect/gitconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[128];
    /* A copy without slack, so ASan sees any read past the end. */
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    bool safe = cdn_gitconfig_is_safe(buf, size, why, sizeof why);
    if (!safe && why[0] == '\0')
        abort();
    bool safe_at =
        cdn_gitconfig_is_safe_at(buf, size, "/ws/.git/modules/s/config", "/ws", why, sizeof why);
    /* Context only ever adds core.worktree; it never makes anything unsafe. */
    if (safe && !safe_at)
        abort();
    if (!cdn_gitmodules_is_safe(buf, size, why, sizeof why) && why[0] == '\0')
        abort();
    free(buf);
    return 0;
}
