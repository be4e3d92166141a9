/* The protected-path supervisor: serves the seccomp user notifications of
 * path-mutating syscalls for the whole sandbox, from the sandbox's pid 1.
 *
 * Why emulate instead of answering "continue": the kernel re-reads a path
 * from the caller's memory after a "continue", so another thread could swap
 * a harmless name for ".bashrc" between the check and the act.  The
 * supervisor therefore reads each path once, resolves it itself, decides,
 * and performs the operation with *at() calls on the directory it checked,
 * handing back the result (and a new fd through SECCOMP_IOCTL_NOTIF_ADDFD).
 * It runs with the same uid, the same Landlock domain and no capabilities,
 * so an emulated call can do nothing the caller could not have done. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "plan/plan.h"
#include "protect/protect.h"

typedef struct cdn_supervisor {
    int notify_fd;
    int report_fd; /* SOCK_SEQPACKET to the host side: one record per denial; -1 = none */
    int tty_fd;    /* the command's terminal, for opens of /dev/tty; -1 = none */
    const cdn_plan_t *plan;
    cdn_protect_t protect;
    const char *roots[64]; /* writable places in which protected names are checked */
    size_t n_roots;
    cdn_ws_mode_t ws_mode;
    const char *workspace;
    unsigned long handled, denied;
} cdn_supervisor_t;

int cdn_supervisor_init(cdn_supervisor_t *s, const cdn_plan_t *plan, int report_fd, int tty_fd,
                        cdn_error_t *err);
/* Handle one pending notification (call when notify_fd is readable).
 * Returns 0, or -1 with err set when the listener itself failed. */
int cdn_supervisor_handle(cdn_supervisor_t *s, cdn_error_t *err);
void cdn_supervisor_free(cdn_supervisor_t *s);

/* The record sent on report_fd for each denial (fixed layout, host reads it). */
typedef struct cdn_violation_rec {
    char op[16];      /* "open", "rename", "unlink", ... */
    char path[1024];  /* the target, absolute, as seen inside */
    char path2[1024]; /* rename/link: the other side */
    char comm[32];
    int pid;          /* pid inside the sandbox */
    int err;          /* errno returned */
    int klass;        /* cdn_protect_class_t, -1 for a read-only place,
                         CDN_VIOLATION_HIDDEN for a hidden one */
} cdn_violation_rec_t;

/* klass of a read, listing or lookup of a hidden place (sandbox/hidden_fuse.h). */
#define CDN_VIOLATION_HIDDEN (-2)

/* Send one record on report_fd (a cdn_msg_t CDN_MSG_VIOLATION; the caller's
 * name comes from /proc/<pid>/comm).  Never blocks: dropped when the channel
 * is full; nothing when report_fd < 0. */
void cdn_violation_send(int report_fd, const char *op, const char *path, const char *path2,
                        pid_t pid, int err, int klass);
