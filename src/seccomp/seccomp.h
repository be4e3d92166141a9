/* The seccomp filter over the dangerous kernel surface, built with
 * libseccomp.  One table drives both the filter and its description, so
 * `cordon plan` shows exactly what `cordon run` loads. */
#pragma once

#include <stdbool.h>

#include "util/error.h"

typedef struct cdn_seccomp_opts {
    bool allow_nested_userns; /* CLONE_NEWUSER permitted (srt allowNestedUserNamespaces) */
    bool notify;              /* route path-mutating syscalls to the protect supervisor */
} cdn_seccomp_opts_t;

/* The syscalls sent to the supervisor when opts->notify (see
 * sandbox/supervisor.c, which must handle exactly these):
 *   open, openat, creat       when the flags ask for O_WRONLY, O_RDWR, O_CREAT or O_TRUNC
 *   mknod, mknodat, symlink, symlinkat, link, linkat, rename, renameat,
 *   renameat2, unlink, unlinkat, rmdir, truncate              always
 * openat2 fails with ENOSYS (callers fall back to openat; its struct argument
 * cannot be inspected by BPF). */

/* Load the filter on the calling thread.  With opts->notify, *notify_fd
 * receives the listener (SECCOMP_FILTER_FLAG_NEW_LISTENER); else -1.
 * no_new_privs must be set before. */
int cdn_seccomp_install(const cdn_seccomp_opts_t *opts, int *notify_fd, cdn_error_t *err);

/* Describe each rule: syscall name, action ("EPERM", "ENOSYS", "notify",
 * "kill"), condition text ("" if unconditional), and why. */
typedef void (*cdn_seccomp_desc_cb)(void *ctx, const char *syscall, const char *action,
                                    const char *condition, const char *why);
void cdn_seccomp_describe(const cdn_seccomp_opts_t *opts, cdn_seccomp_desc_cb cb, void *ctx);
