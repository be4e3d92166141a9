/* The hidden-path observer: hidden places served by a tiny FUSE server, so
 * that every attempt to look into or open one arrives as a request carrying
 * the caller's pid, is refused (EACCES) and reported as a violation.
 *
 * Observation, not protection: the server only ever refuses, the mount is
 * read-only, and when FUSE is unavailable the plain masks (sandbox/mounts.c)
 * stay, unobserved.  A dead server leaves the mounts answering ENOTCONN:
 * still nothing readable.
 *
 * Why a hand-written protocol subset rather than libfuse3: we answer ten
 * opcodes with constant replies; libfuse's session loop, threads and option
 * parser would be most of the code in the sandbox's process tree and a new
 * runtime dependency.  The parser below is pure (bytes in, bytes out) so it
 * is unit-tested and fuzzed (tests/fuzz/fuzz_hidden_fuse.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

#define CDN_HF_MAX_MOUNTS 64 /* node names are at most two digits */
#define CDN_HF_BUFSIZE 8192  /* FUSE_MIN_READ_BUFFER: no request we accept is larger */
#define CDN_HF_REPLY_MAX 256 /* the largest reply we build (fuse_attr_out + header) */

/* The protocol state.  One connection serves every hidden place: its root
 * (nodeid 1) holds one node per place, named by its index ("0", "1", ...),
 * and each node is bind-mounted onto its place.  One superblock, because
 * each costs about 0.2 ms to tear down (its bdi's RCU grace period). */
typedef struct cdn_hf_conn {
    size_t n;                          /* nodes: nodeid 2 + index */
    bool is_dir[CDN_HF_MAX_MOUNTS];    /* the hidden place is a folder (else a file) */
    bool initialized;                  /* FUSE_INIT answered */
    uint32_t minor;                    /* negotiated protocol minor */
    uint32_t uid, gid; /* owner shown, inside the user namespace */
    uint64_t time;     /* shown as atime/mtime/ctime */
} cdn_hf_conn_t;

typedef enum cdn_hf_kind {
    CDN_HF_NONE = 0, /* nothing to report */
    CDN_HF_LOOKUP,   /* a name inside the hidden folder was asked for */
    CDN_HF_OPEN,     /* the hidden file was opened */
    CDN_HF_OPENDIR,  /* the hidden folder was opened to be listed */
    CDN_HF_ACCESS,   /* access()/chdir() asked for more than existence */
} cdn_hf_kind_t;

typedef struct cdn_hf_seen {
    cdn_hf_kind_t kind;
    size_t node;    /* which hidden place (index) */
    uint32_t pid;   /* the caller, in the connection's pid namespace (0: none) */
    char name[256]; /* CDN_HF_LOOKUP: the name asked for */
} cdn_hf_seen_t;

/* Handle one request exactly as read from /dev/fuse.  Writes the reply to
 * `reply` (at least CDN_HF_REPLY_MAX bytes) and returns its length, 0 when
 * the request takes no reply (FORGET, INTERRUPT), or -1 when the byte stream
 * is not a well-formed request (the connection must then be dropped). */
int cdn_hf_handle(cdn_hf_conn_t *c, const void *req, size_t len, void *reply, size_t cap,
                  cdn_hf_seen_t *seen);

/* The operation named in the violation: "read", "list", "stat" or "exec", refined
 * by the system call the caller is blocked in (-1: unknown). */
const char *cdn_hf_op_name(cdn_hf_kind_t kind, long syscall_nr);

/* A program search, not a read: `name` in the hidden folder `mount` leads
 * to an entry of the colon-separated `search_path` (a PATH naming
 * /root/.cargo/bin makes every shell look there for each command). */
bool cdn_hf_is_path_search(const char *mount, const char *name, const char *search_path);

/* The hidden places of one sandbox, and the server process serving them. */
typedef struct cdn_hidden_fuse {
    cdn_hf_conn_t conn;
    char *path[CDN_HF_MAX_MOUNTS];
    bool bound[CDN_HF_MAX_MOUNTS];
    int dev;       /* /dev/fuse: the server thread's once running */
    int mnt;       /* the detached root mount, until cdn_hf_release() */
    int report_fd; /* where violations go (the host side's channel) */
    bool running;  /* the server thread was started */
    _Atomic bool setup_done; /* pid 1 bound the nodes: the server may sleep */
    char search_path[2][4096]; /* the command's PATH and pid 1's (execvpe's) */
} cdn_hidden_fuse_t;

/* `env` is the command's environment (for its PATH). */
void cdn_hf_init(cdn_hidden_fuse_t *hf, int report_fd, char *const *env);
/* /dev/fuse, opened while the host's /dev is still visible; -1 if absent. */
int cdn_hf_open_dev(void);
/* A hidden place to serve; its node index, or -1 when full. */
int cdn_hf_add(cdn_hidden_fuse_t *hf, const char *target, bool is_dir);
/* Create the filesystem (detached) on `dev` (consumed) and start the
 * server thread (no capabilities, every signal blocked).  `hf` must live as
 * long as the process.  -1: no observer, keep the plain masks. */
int cdn_hf_start(cdn_hidden_fuse_t *hf, int dev);
/* Mount node `idx` on its place.  -1: keep the plain mask there. */
int cdn_hf_bind(cdn_hidden_fuse_t *hf, int idx);
/* pid 1 lets go of the detached root; only the server thread holds the
 * device, and closes it when it gives up (callers then get ENOTCONN). */
void cdn_hf_release(cdn_hidden_fuse_t *hf);
/* Landlock refuses opening a hidden file before the request could reach the
 * server: grant reading the decoy inode (the FUSE node, which has no
 * content; the host file under it gets nothing). */
int cdn_hf_landlock_grant(const cdn_hidden_fuse_t *hf, int ruleset, cdn_error_t *err);
void cdn_hf_free(cdn_hidden_fuse_t *hf);
