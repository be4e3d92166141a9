/* The hidden-path observer's request parser (src/sandbox/hidden_fuse.c):
 * the input is a stream of requests, each prefixed by its 16-bit length,
 * served on one connection (so INIT state carries over); the first byte
 * chooses the nodes. */
#include <linux/fuse.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sandbox/hidden_fuse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cdn_hf_conn_t c;
    memset(&c, 0, sizeof c);
    /* First byte: how many nodes, and which are folders. */
    c.n = size > 0 ? data[0] % 5 : 0;
    for (size_t i = 0; i < c.n; i++)
        c.is_dir[i] = (data[0] >> (3 + i)) & 1;
    static uint8_t req[CDN_HF_BUFSIZE + 2];
    uint8_t out[CDN_HF_REPLY_MAX];
    size_t off = size > 0 ? 1 : 0;
    while (off + 2 <= size) {
        size_t len = (size_t)data[off] | (size_t)data[off + 1] << 8;
        off += 2;
        if (len > size - off)
            len = size - off;
        if (len > sizeof req)
            len = sizeof req;
        memcpy(req, data + off, len); /* exact-size copy: ASan sees overreads */
        off += len;
        cdn_hf_seen_t seen;
        int r = cdn_hf_handle(&c, req, len, out, sizeof out, &seen);
        if (r > (int)sizeof out)
            __builtin_trap();
        if (r > 0) {
            struct fuse_out_header h;
            memcpy(&h, out, sizeof h);
            if (h.len != (uint32_t)r || h.error > 0)
                __builtin_trap();
        }
        if (seen.kind != CDN_HF_NONE && seen.node >= c.n)
            __builtin_trap();
        if (seen.kind == CDN_HF_LOOKUP &&
            (strlen(seen.name) == 0 || strlen(seen.name) >= sizeof seen.name ||
             strchr(seen.name, '/')))
            __builtin_trap();
        (void)cdn_hf_op_name(seen.kind, (long)(len % 400));
    }
    return 0;
}
