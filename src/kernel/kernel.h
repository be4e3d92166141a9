/* What this kernel offers, probed cheaply and without privileges (no fork):
 * used by the planner to say which layers are supported, and by `run` to
 * fail closed with a precise reason when a required one is missing. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct cdn_kernel {
    char release[65];
    int landlock_abi;        /* 0: Landlock unavailable (not built, or disabled at boot) */
    bool seccomp_filter;     /* SECCOMP_SET_MODE_FILTER available */
    bool seccomp_notify;     /* user notification (SECCOMP_GET_NOTIF_SIZES works) */
    bool seccomp_addfd;      /* SECCOMP_IOCTL_NOTIF_ADDFD (kernel >= 5.14) */
    bool mount_setattr;      /* kernel >= 5.12 */
    bool userns_possible;    /* no sysctl / LSM knob visibly forbids it */
    char userns_block[512];  /* when !userns_possible: cause and fix */
    bool cgroup2;            /* cgroup v2 mounted somewhere */
    bool cgroup_hybrid;      /* v1 hierarchies plus a v2 mount */
} cdn_kernel_t;

/* Fill *k.  Never fails: unknown things are reported as unavailable. */
void cdn_kernel_probe(cdn_kernel_t *k);

/* After creating a user namespace failed with `errnum`, explain why and how to
 * fix it (AppArmor's unprivileged-userns restriction on Ubuntu >= 23.10,
 * kernel.unprivileged_userns_clone=0, user.max_user_namespaces=0, a container
 * runtime's seccomp profile, ...).  Writes a full sentence into buf. */
void cdn_userns_diagnose(int errnum, char *buf, size_t len);
