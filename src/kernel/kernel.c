#include "kernel/kernel.h"

#include <errno.h>
#include <limits.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "util/cleanup.h"

#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif

/* Lines in /proc files we read are short; a longer one is not ours to parse. */
#define LINE_MAX_LEN 4096
/* mountinfo of a busy host has a few thousand lines; stop well after that. */
#define MOUNTINFO_MAX_LINES 100000

static FILE *open_at_root(const char *root, const char *path)
{
    char full[PATH_MAX];
    if (snprintf(full, sizeof full, "%s%s", root ? root : "", path) >= (int)sizeof full)
        return NULL;
    return fopen(full, "re");
}

static bool exists_at_root(const char *root, const char *path)
{
    char full[PATH_MAX];
    if (snprintf(full, sizeof full, "%s%s", root ? root : "", path) >= (int)sizeof full)
        return false;
    return access(full, F_OK) == 0;
}

/* A sysctl file holds one decimal integer and a newline. */
static bool read_long(const char *root, const char *path, long *out)
{
    _cleanup_fclose_ FILE *f = open_at_root(root, path);
    char buf[64];
    if (!f || !fgets(buf, sizeof buf, f))
        return false;
    char *end;
    errno = 0;
    long v = strtol(buf, &end, 10);
    if (errno || end == buf || (*end != '\n' && *end != '\0'))
        return false;
    *out = v;
    return true;
}

bool cdn_kernel_at_least(const char *release, unsigned maj, unsigned min)
{
    unsigned a, b;
    if (!release || sscanf(release, "%u.%u", &a, &b) != 2)
        return false;
    return a > maj || (a == maj && b >= min);
}

/* The filesystem type is the first field after the " - " separator. */
static const char *mountinfo_fstype(const char *line, size_t *len)
{
    const char *sep = strstr(line, " - ");
    if (!sep)
        return NULL;
    const char *t = sep + 3;
    *len = strcspn(t, " \n");
    return *len ? t : NULL;
}

void cdn_cgroup_probe_at(const char *root, bool *v2, bool *hybrid)
{
    *v2 = *hybrid = false;
    _cleanup_fclose_ FILE *f = open_at_root(root, "/proc/self/mountinfo");
    if (!f)
        return;
    bool v1 = false;
    _cleanup_free_ char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    for (unsigned i = 0; i < MOUNTINFO_MAX_LINES && (n = getline(&line, &cap, f)) > 0; i++) {
        if (n > LINE_MAX_LEN)
            continue;
        size_t len;
        const char *t = mountinfo_fstype(line, &len);
        if (!t)
            continue;
        if (len == 7 && memcmp(t, "cgroup2", 7) == 0)
            *v2 = true;
        else if (len == 6 && memcmp(t, "cgroup", 6) == 0)
            v1 = true;
    }
    *hybrid = *v2 && v1;
}

static int read_seccomp_mode(const char *root)
{
    _cleanup_fclose_ FILE *f = open_at_root(root, "/proc/self/status");
    if (!f)
        return -1;
    char line[256];
    for (unsigned i = 0; i < 200 && fgets(line, sizeof line, f); i++) {
        int mode;
        if (strncmp(line, "Seccomp:", 8) == 0 && sscanf(line + 8, "%d", &mode) == 1)
            return mode;
    }
    return -1;
}

/* "unconfined" when AppArmor does not confine us, or has no label here at all. */
static bool read_apparmor_unconfined(const char *root)
{
    _cleanup_fclose_ FILE *f = open_at_root(root, "/proc/self/attr/apparmor/current");
    if (!f)
        f = open_at_root(root, "/proc/self/attr/current");
    char buf[256];
    if (!f || !fgets(buf, sizeof buf, f))
        return true;
    buf[strcspn(buf, "\n")] = '\0';
    return buf[0] == '\0' || strcmp(buf, "unconfined") == 0;
}

void cdn_userns_facts_read(const char *root, cdn_userns_facts_t *f)
{
    long v;
    memset(f, 0, sizeof *f);
    f->have_userns = exists_at_root(root, "/proc/self/ns/user");
    f->unpriv_clone = read_long(root, "/proc/sys/kernel/unprivileged_userns_clone", &v) ? (int)(v != 0) : -1;
    f->max_userns = read_long(root, "/proc/sys/user/max_user_namespaces", &v) ? v : -1;
    f->apparmor_restrict =
        read_long(root, "/proc/sys/kernel/apparmor_restrict_unprivileged_userns", &v) ? (int)(v != 0) : -1;
    f->apparmor_unconfined = read_apparmor_unconfined(root);
    f->seccomp_mode = read_seccomp_mode(root);
    f->in_container = exists_at_root(root, "/.dockerenv") || exists_at_root(root, "/run/.containerenv");
    f->privileged = geteuid() == 0;
}

static void say_apparmor(const char *exe, char *buf, size_t len)
{
    snprintf(buf, len,
             "AppArmor restricts unprivileged user namespaces "
             "(kernel.apparmor_restrict_unprivileged_userns=1, Ubuntu >= 23.10) and cordon is "
             "unconfined; allow it with a profile as Ubuntu documents: put the lines "
             "`abi <abi/4.0>,` / `include <tunables/global>` / `profile cordon %s "
             "flags=(unconfined) { userns, }` in /etc/apparmor.d/cordon and run "
             "`sudo apparmor_parser -r /etc/apparmor.d/cordon` (or system-wide: "
             "`sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`).",
             exe);
}

bool cdn_userns_facts_allow(const cdn_userns_facts_t *f, const char *exe, char *buf, size_t len)
{
    if (!f->have_userns) {
        snprintf(buf, len, "this kernel has no user namespaces (built without CONFIG_USER_NS); "
                           "cordon needs a kernel with CONFIG_USER_NS=y.");
        return false;
    }
    if (f->max_userns == 0) {
        snprintf(buf, len, "user namespaces are disabled: user.max_user_namespaces is 0; enable "
                           "them with `sudo sysctl -w user.max_user_namespaces=15000` (persist it "
                           "in /etc/sysctl.d/).");
        return false;
    }
    if (!f->privileged && f->unpriv_clone == 0) {
        snprintf(buf, len, "unprivileged user namespaces are disabled: "
                           "kernel.unprivileged_userns_clone is 0; enable them with "
                           "`sudo sysctl -w kernel.unprivileged_userns_clone=1` (persist it in "
                           "/etc/sysctl.d/).");
        return false;
    }
    if (!f->privileged && f->apparmor_restrict == 1 && f->apparmor_unconfined) {
        say_apparmor(exe, buf, len);
        return false;
    }
    if (len)
        buf[0] = '\0';
    return true;
}

void cdn_userns_explain(const cdn_userns_facts_t *f, int errnum, const char *exe, char *buf,
                        size_t len)
{
    if (!cdn_userns_facts_allow(f, exe, buf, len))
        return;
    switch (errnum) {
    case ENOSPC:
        snprintf(buf, len, "the limit on user namespaces is reached (user.max_user_namespaces = "
                           "%ld, or the per-user count in an enclosing namespace); raise it with "
                           "`sudo sysctl -w user.max_user_namespaces=15000`.",
                 f->max_userns);
        return;
    case EUSERS:
        snprintf(buf, len, "user namespaces are nested 32 deep already, the kernel's limit; run "
                           "cordon from a less nested environment.");
        return;
    case EINVAL:
        snprintf(buf, len, "the kernel refused the namespace flags (EINVAL): it may lack "
                           "CONFIG_USER_NS or one of the other namespaces; cordon needs user, "
                           "mount, pid, ipc, uts, net and cgroup namespaces.");
        return;
    case ENOMEM:
        snprintf(buf, len, "the kernel ran out of memory or of a namespace limit "
                           "(/proc/sys/user/max_*_namespaces) while creating the namespaces.");
        return;
    default:
        break;
    }
    if (errnum == EPERM && f->seccomp_mode == 2) {
        snprintf(buf, len,
                 "cordon already runs under a seccomp filter (Seccomp: 2 in /proc/self/status)%s "
                 "that forbids creating user namespaces, as Docker's default profile does; run the "
                 "container with `docker run --security-opt seccomp=unconfined` (and "
                 "`--security-opt apparmor=unconfined` on AppArmor hosts), or `--privileged`, or "
                 "run cordon outside the container.",
                 f->in_container ? " and inside a container" : "");
        return;
    }
    if (errnum == EPERM && f->in_container) {
        snprintf(buf, len, "cordon runs inside a container whose runtime forbids creating user "
                           "namespaces; run it with `docker run --security-opt seccomp=unconfined "
                           "--security-opt apparmor=unconfined`, or `--privileged`, or run cordon "
                           "outside the container.");
        return;
    }
    snprintf(buf, len, "creating a user namespace failed (%s) and no known knob explains it: "
                       "check for a security module policy (SELinux user_namespace create, "
                       "AppArmor) or a seccomp filter in a parent process.",
             strerror(errnum));
}

static void self_exe(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    if (n <= 0)
        snprintf(buf, len, "/usr/bin/cordon");
    else
        buf[n] = '\0';
}

void cdn_userns_diagnose(int errnum, char *buf, size_t len)
{
    cdn_userns_facts_t f;
    char exe[PATH_MAX] = "";
    cdn_userns_facts_read("", &f);
    self_exe(exe, sizeof exe);
    cdn_userns_explain(&f, errnum, exe, buf, len);
}

void cdn_kernel_probe(cdn_kernel_t *k)
{
    memset(k, 0, sizeof *k);
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(k->release, sizeof k->release, "%s", u.release);

    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    k->landlock_abi = abi > 0 ? (int)abi : 0;

    /* PR_GET_SECCOMP fails with EINVAL without CONFIG_SECCOMP; asking whether
     * the ERRNO action is available tells that filters (not only strict
     * mode) are built in. */
    if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0) {
        unsigned action = SECCOMP_RET_ERRNO;
        k->seccomp_filter = syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
        struct seccomp_notif_sizes sizes;
        k->seccomp_notify =
            k->seccomp_filter && syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) == 0;
    }
    k->seccomp_addfd = k->seccomp_notify && cdn_kernel_at_least(k->release, 5, 14);
    k->mount_setattr = cdn_kernel_at_least(k->release, 5, 12);

    cdn_userns_facts_t f;
    char exe[PATH_MAX] = "";
    cdn_userns_facts_read("", &f);
    self_exe(exe, sizeof exe);
    k->userns_possible = cdn_userns_facts_allow(&f, exe, k->userns_block, sizeof k->userns_block);

    cdn_cgroup_probe_at("", &k->cgroup2, &k->cgroup_hybrid);
}
