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

/* The facts behind the user-namespace verdict, read from files under a root
 * prefix ("" for the real system) so tests can feed fake contents. */
typedef struct cdn_userns_facts {
    bool have_userns;         /* /proc/self/ns/user exists (CONFIG_USER_NS) */
    int unpriv_clone;         /* kernel.unprivileged_userns_clone, -1: absent */
    long max_userns;          /* user.max_user_namespaces, -1: absent */
    int apparmor_restrict;    /* kernel.apparmor_restrict_unprivileged_userns, -1: absent */
    bool apparmor_unconfined; /* our AppArmor label is "unconfined" (or AppArmor absent) */
    int seccomp_mode;         /* "Seccomp:" of /proc/self/status, -1: unknown */
    bool in_container;        /* /.dockerenv or /run/.containerenv exists */
    bool privileged;          /* euid 0 (the unprivileged knobs do not apply) */
} cdn_userns_facts_t;

void cdn_userns_facts_read(const char *root, cdn_userns_facts_t *f);
/* false, with cause and fix in buf, when a knob visibly forbids user namespaces. */
bool cdn_userns_facts_allow(const cdn_userns_facts_t *f, const char *exe, char *buf, size_t len);
/* The sentence of cdn_userns_diagnose() from given facts; `exe` is the path
 * of the cordon binary named in the AppArmor profile. */
void cdn_userns_explain(const cdn_userns_facts_t *f, int errnum, const char *exe, char *buf,
                        size_t len);

/* cgroup v2 / hybrid from a mountinfo file (root + "/proc/self/mountinfo"). */
void cdn_cgroup_probe_at(const char *root, bool *v2, bool *hybrid);

/* true if uname release "X.Y..." is at least maj.min. */
bool cdn_kernel_at_least(const char *release, unsigned maj, unsigned min);
