#include "seccomp/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/stat.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/socket.h>

#include "util/cleanup.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

typedef enum act {
    ACT_EPERM,
    ACT_ENOSYS,
    ACT_EAFNOSUPPORT,
    ACT_NOTIFY,
} act_t;

typedef enum when {
    WHEN_ALWAYS,
    WHEN_NOTIFY,           /* only with opts->notify */
    WHEN_NO_NESTED_USERNS, /* only without opts->allow_nested_userns */
} when_t;

typedef enum cond {
    COND_NONE,
    COND_FLAG,         /* (arg & value) == value */
    COND_EQ32,         /* (arg & 0xffffffff) == value: ioctl's request is an int */
    COND_SOCKET_OTHER, /* domain (arg 0) outside the allowed families */
    COND_NETLINK_PROTO,/* domain == AF_NETLINK and protocol (arg 2) != NETLINK_ROUTE */
    COND_PERSONALITY,  /* persona (arg 0) other than the allowed ones */
} cond_t;

typedef struct rule {
    const char *syscall;
    act_t act;
    when_t when;
    cond_t cond;
    unsigned arg;
    uint64_t value;
    const char *cond_text;
    const char *why;
} rule_t;

static const char WHY_BPF[] = "kernel attack surface: loads programs into the kernel";
static const char WHY_KEYS[] = "the kernel keyring is not namespaced: keys of the user outside";
static const char WHY_MOD[] = "loads or removes kernel code";
static const char WHY_URING[] = "io_uring bypasses seccomp for the operations it performs, and is a large attack surface";
static const char WHY_HANDLE[] = "opens files by handle, escaping the mount view (with CAP_DAC_READ_SEARCH)";
static const char WHY_ADMIN[] = "system administration, never needed by a sandboxed command";
static const char WHY_MOUNT[] = "changes the mount view that hides secrets and makes the host read-only";
static const char WHY_NS[] = "would leave or rebuild the sandbox's namespaces";
static const char WHY_TIME[] = "sets the host's clock";
static const char WHY_TTY[] = "injects input into the controlling terminal outside the sandbox";
static const char WHY_UNSHARE[] = "a new namespace would let the command rebuild mounts or networking; nested user namespaces are kernel attack surface";
static const char WHY_SUID[] = "a setuid/setgid file left in the workspace runs with its owner's rights on the host";
static const char WHY_CLONE[] = "same as unshare: namespaces created at clone time";

#define DENY(name, why) { name, ACT_EPERM, WHEN_ALWAYS, COND_NONE, 0, 0, "", why }
#define UNSHARE(flag, when) \
    { "unshare", ACT_EPERM, when, COND_FLAG, 0, flag, "flags & " #flag, WHY_UNSHARE }
/* Arg 0 holds the flags on x86_64 and most architectures (s390 swaps the
 * first two); cordon is built for x86_64 and aarch64 where this holds. */
#define CLONE(flag, when) { "clone", ACT_EPERM, when, COND_FLAG, 0, flag, "flags & " #flag, WHY_CLONE }
#define NOTIFY(name) \
    { name, ACT_NOTIFY, WHEN_NOTIFY, COND_NONE, 0, 0, "", "changes a path: checked by the protected-path supervisor" }
#define NOTIFY_OPEN(name, arg, flag)                                                     \
    { name, ACT_NOTIFY, WHEN_NOTIFY, COND_FLAG, arg, flag, "flags & " #flag,             \
      "opens for writing or creating: checked by the protected-path supervisor" }

static const rule_t rules[] = {
    DENY("bpf", WHY_BPF),
    DENY("perf_event_open", "kernel attack surface and a side channel on other processes"),
    DENY("userfaultfd", "used to stall the kernel at chosen points in exploits"),
    DENY("keyctl", WHY_KEYS),
    DENY("add_key", WHY_KEYS),
    DENY("request_key", WHY_KEYS),
    DENY("kexec_load", WHY_MOD),
    DENY("kexec_file_load", WHY_MOD),
    DENY("init_module", WHY_MOD),
    DENY("finit_module", WHY_MOD),
    DENY("delete_module", WHY_MOD),
    DENY("io_uring_setup", WHY_URING),
    DENY("io_uring_enter", WHY_URING),
    DENY("io_uring_register", WHY_URING),
    DENY("open_by_handle_at", WHY_HANDLE),
    DENY("name_to_handle_at", WHY_HANDLE),
    DENY("acct", WHY_ADMIN),
    DENY("swapon", WHY_ADMIN),
    DENY("swapoff", WHY_ADMIN),
    DENY("reboot", WHY_ADMIN),
    DENY("syslog", "reads the kernel log, which leaks addresses and host activity"),
    DENY("quotactl", WHY_ADMIN),
    DENY("lookup_dcookie", WHY_ADMIN),
    DENY("uselib", "obsolete loader interface, only attack surface"),
    DENY("ioperm", "direct hardware port access"),
    DENY("iopl", "direct hardware port access"),
    DENY("vm86", "obsolete virtual-8086 mode, only attack surface"),
    DENY("vm86old", "obsolete virtual-8086 mode, only attack surface"),
    DENY("fanotify_init", "watches file activity system-wide"),
    DENY("mount", WHY_MOUNT),
    DENY("umount2", WHY_MOUNT),
    DENY("pivot_root", WHY_MOUNT),
    DENY("move_mount", WHY_MOUNT),
    DENY("open_tree", WHY_MOUNT),
    DENY("fsopen", WHY_MOUNT),
    DENY("fsmount", WHY_MOUNT),
    DENY("fsconfig", WHY_MOUNT),
    DENY("fspick", WHY_MOUNT),
    DENY("mount_setattr", WHY_MOUNT),
    DENY("setns", WHY_NS),
    DENY("chroot", WHY_MOUNT),
    { "personality", ACT_EPERM, WHEN_ALWAYS, COND_PERSONALITY, 0, 0,
      "persona not PER_LINUX, PER_LINUX|ADDR_NO_RANDOMIZE or 0xffffffff (query)",
      "other personas change memory layout or make data executable (READ_IMPLIES_EXEC, MMAP_PAGE_ZERO)" },
    DENY("clock_settime", WHY_TIME),
    DENY("settimeofday", WHY_TIME),
    DENY("adjtimex", WHY_TIME),
    DENY("clock_adjtime", WHY_TIME),
    UNSHARE(CLONE_NEWNS, WHEN_ALWAYS),
    UNSHARE(CLONE_NEWUTS, WHEN_ALWAYS),
    UNSHARE(CLONE_NEWIPC, WHEN_ALWAYS),
    UNSHARE(CLONE_NEWPID, WHEN_ALWAYS),
    UNSHARE(CLONE_NEWNET, WHEN_ALWAYS),
    UNSHARE(CLONE_NEWCGROUP, WHEN_ALWAYS),
    UNSHARE(CLONE_NEWTIME, WHEN_ALWAYS),
    UNSHARE(CLONE_NEWUSER, WHEN_NO_NESTED_USERNS),
    /* No CLONE_NEWTIME rule for clone: clone() rejects it (0x80 lies in the
     * exit-signal byte there); only unshare and clone3 take it. */
    CLONE(CLONE_NEWNS, WHEN_ALWAYS),
    CLONE(CLONE_NEWUTS, WHEN_ALWAYS),
    CLONE(CLONE_NEWIPC, WHEN_ALWAYS),
    CLONE(CLONE_NEWPID, WHEN_ALWAYS),
    CLONE(CLONE_NEWNET, WHEN_ALWAYS),
    CLONE(CLONE_NEWCGROUP, WHEN_ALWAYS),
    CLONE(CLONE_NEWUSER, WHEN_NO_NESTED_USERNS),
    { "clone3", ACT_ENOSYS, WHEN_ALWAYS, COND_NONE, 0, 0, "",
      "its flags live in a struct BPF cannot read; ENOSYS makes glibc fall back to clone" },
    { "ioctl", ACT_EPERM, WHEN_ALWAYS, COND_EQ32, 1, TIOCSTI, "request == TIOCSTI", WHY_TTY },
    { "ioctl", ACT_EPERM, WHEN_ALWAYS, COND_EQ32, 1, TIOCLINUX, "request == TIOCLINUX",
      "console control: injects input or reads the screen of the virtual console" },
    { "socket", ACT_EAFNOSUPPORT, WHEN_ALWAYS, COND_SOCKET_OTHER, 0, 0,
      "domain not AF_UNIX, AF_INET, AF_INET6 or AF_NETLINK",
      "other families (packet, vsock, bluetooth, ...) are rarely needed and a frequent source of kernel bugs" },
    { "socket", ACT_EAFNOSUPPORT, WHEN_ALWAYS, COND_NETLINK_PROTO, 0, 0,
      "domain == AF_NETLINK and protocol != NETLINK_ROUTE",
      "only route netlink (addresses, links) is needed by ordinary tools; audit, xfrm, netfilter... are not" },
    /* A setuid or setgid file made in the workspace would run with the
     * owner's rights on the host later (as root: root's).  The workspace is
     * nosuid inside, but not outside. */
    { "chmod", ACT_EPERM, WHEN_ALWAYS, COND_FLAG, 1, S_ISUID, "mode & S_ISUID", WHY_SUID },
    { "chmod", ACT_EPERM, WHEN_ALWAYS, COND_FLAG, 1, S_ISGID, "mode & S_ISGID", WHY_SUID },
    { "fchmod", ACT_EPERM, WHEN_ALWAYS, COND_FLAG, 1, S_ISUID, "mode & S_ISUID", WHY_SUID },
    { "fchmod", ACT_EPERM, WHEN_ALWAYS, COND_FLAG, 1, S_ISGID, "mode & S_ISGID", WHY_SUID },
    { "fchmodat", ACT_EPERM, WHEN_ALWAYS, COND_FLAG, 2, S_ISUID, "mode & S_ISUID", WHY_SUID },
    { "fchmodat", ACT_EPERM, WHEN_ALWAYS, COND_FLAG, 2, S_ISGID, "mode & S_ISGID", WHY_SUID },
    { "fchmodat2", ACT_EPERM, WHEN_ALWAYS, COND_FLAG, 2, S_ISUID, "mode & S_ISUID", WHY_SUID },
    { "fchmodat2", ACT_EPERM, WHEN_ALWAYS, COND_FLAG, 2, S_ISGID, "mode & S_ISGID", WHY_SUID },
    /* ptrace is allowed on purpose: the pid namespace holds only the
     * sandbox's processes, and Landlock refuses tracing across domains. */
    { "openat2", ACT_ENOSYS, WHEN_NOTIFY, COND_NONE, 0, 0, "",
      "its flags live in a struct BPF cannot read; callers fall back to openat, which is checked" },
    NOTIFY_OPEN("open", 1, O_WRONLY),
    NOTIFY_OPEN("open", 1, O_RDWR),
    NOTIFY_OPEN("open", 1, O_CREAT),
    NOTIFY_OPEN("open", 1, O_TRUNC),
    NOTIFY_OPEN("openat", 2, O_WRONLY),
    NOTIFY_OPEN("openat", 2, O_RDWR),
    NOTIFY_OPEN("openat", 2, O_CREAT),
    NOTIFY_OPEN("openat", 2, O_TRUNC),
    NOTIFY("creat"),
    NOTIFY("mknod"),
    NOTIFY("mknodat"),
    NOTIFY("symlink"),
    NOTIFY("symlinkat"),
    NOTIFY("link"),
    NOTIFY("linkat"),
    NOTIFY("rename"),
    NOTIFY("renameat"),
    NOTIFY("renameat2"),
    NOTIFY("unlink"),
    NOTIFY("unlinkat"),
    NOTIFY("rmdir"),
    NOTIFY("truncate"),
};

/* Families socket() may create; everything else fails with EAFNOSUPPORT. */
static const int allowed_families[] = { AF_UNIX, AF_INET, AF_INET6, AF_NETLINK };
/* The highest allowed family: everything above is refused with one rule. */
#define FAMILY_MAX AF_NETLINK

static bool rule_applies(const rule_t *r, const cdn_seccomp_opts_t *opts)
{
    switch (r->when) {
    case WHEN_NOTIFY:
        return opts->notify;
    case WHEN_NO_NESTED_USERNS:
        return !opts->allow_nested_userns;
    case WHEN_ALWAYS:
    default:
        return true;
    }
}

static uint32_t act_value(act_t a)
{
    switch (a) {
    case ACT_ENOSYS:
        return SCMP_ACT_ERRNO(ENOSYS);
    case ACT_EAFNOSUPPORT:
        return SCMP_ACT_ERRNO(EAFNOSUPPORT);
    case ACT_NOTIFY:
        return SCMP_ACT_NOTIFY;
    case ACT_EPERM:
    default:
        return SCMP_ACT_ERRNO(EPERM);
    }
}

static const char *act_name(act_t a)
{
    switch (a) {
    case ACT_ENOSYS:
        return "ENOSYS";
    case ACT_EAFNOSUPPORT:
        return "EAFNOSUPPORT";
    case ACT_NOTIFY:
        return "notify";
    case ACT_EPERM:
    default:
        return "EPERM";
    }
}

static bool family_allowed(int fam)
{
    for (size_t i = 0; i < CDN_ARRAY_SIZE(allowed_families); i++)
        if (allowed_families[i] == fam)
            return true;
    return false;
}

/* Spelled out rather than SCMP_A0() & co., which leave datum_b to the
 * compiler's zeroing and trip -Wmissing-field-initializers. */
static struct scmp_arg_cmp cmp(unsigned arg, enum scmp_compare op, scmp_datum_t a, scmp_datum_t b)
{
    return (struct scmp_arg_cmp){ .arg = arg, .op = op, .datum_a = a, .datum_b = b };
}

static int add1(scmp_filter_ctx ctx, uint32_t act, int nr, struct scmp_arg_cmp cmp)
{
    return seccomp_rule_add(ctx, act, nr, 1, cmp);
}

/* libseccomp 2.5 takes one comparison per argument per rule, so "not one of
 * these values" is written as a union of rules that each match a part of
 * the refused values. */
static int add_socket_other(scmp_filter_ctx ctx, uint32_t act, int nr)
{
    int r;
    for (int fam = 0; fam < FAMILY_MAX; fam++) {
        if (family_allowed(fam))
            continue;
        if ((r = add1(ctx, act, nr, cmp(0, SCMP_CMP_EQ, (scmp_datum_t)fam, 0))) < 0)
            return r;
    }
    /* Above the last allowed family; also catches garbage in the upper half
     * of the register, which the kernel would ignore: refusing is safe. */
    return add1(ctx, act, nr, cmp(0, SCMP_CMP_GT, FAMILY_MAX, 0));
}

/* Allowed personas (the kernel reads the low 32 bits): 0, ADDR_NO_RANDOMIZE,
 * 0xffffffff.  Let B be the 31 bits other than ADDR_NO_RANDOMIZE's, taken in
 * a cycle b0..b30.  If the B-bits of x are neither all clear nor all set,
 * some b_i is set and b_(i+1) clear: one masked rule per i catches it.  B all
 * clear gives 0 or ADDR_NO_RANDOMIZE (allowed); B all set gives 0xffffffff
 * (allowed) or 0xffffffff & ~ADDR_NO_RANDOMIZE, refused by one more rule. */
static int add_personality(scmp_filter_ctx ctx, uint32_t act, int nr)
{
    unsigned bits[31];
    unsigned n = 0;
    for (unsigned b = 0; b < 32; b++)
        if ((1u << b) != ADDR_NO_RANDOMIZE)
            bits[n++] = b;
    int r;
    for (unsigned i = 0; i < n; i++) {
        uint64_t set = 1ull << bits[i], clear = 1ull << bits[(i + 1) % n];
        if ((r = add1(ctx, act, nr, cmp(0, SCMP_CMP_MASKED_EQ, set | clear, set))) < 0)
            return r;
    }
    return add1(ctx, act, nr,
                cmp(0, SCMP_CMP_MASKED_EQ, (uint64_t)ADDR_NO_RANDOMIZE | 1u, 1u));
}

static int add_rule(scmp_filter_ctx ctx, const rule_t *r, int nr)
{
    uint32_t act = act_value(r->act);
    switch (r->cond) {
    case COND_NONE:
        return seccomp_rule_add(ctx, act, nr, 0);
    case COND_FLAG:
        return add1(ctx, act, nr, cmp(r->arg, SCMP_CMP_MASKED_EQ, r->value, r->value));
    case COND_EQ32:
        return add1(ctx, act, nr, cmp(r->arg, SCMP_CMP_MASKED_EQ, 0xffffffffu, r->value));
    case COND_SOCKET_OTHER:
        return add_socket_other(ctx, act, nr);
    case COND_NETLINK_PROTO:
        return seccomp_rule_add(ctx, act, nr, 2, cmp(0, SCMP_CMP_EQ, AF_NETLINK, 0),
                                cmp(2, SCMP_CMP_NE, NETLINK_ROUTE, 0));
    case COND_PERSONALITY:
        return add_personality(ctx, act, nr);
    }
    return -EINVAL;
}

/* Syscalls the native architecture does not have (vm86 on x86_64) resolve
 * to libseccomp's negative pseudo numbers: skipped, and not described. */
static int native_nr(const char *name)
{
    return seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, name);
}

static void release_ctx(scmp_filter_ctx *ctx)
{
    if (*ctx)
        seccomp_release(*ctx);
}

int cdn_seccomp_install(const cdn_seccomp_opts_t *opts, int *notify_fd, cdn_error_t *err)
{
    *notify_fd = -1;
    __attribute__((cleanup(release_ctx))) scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx)
        return cdn_error(err, ENOMEM, "seccomp_init");

    int r;
    /* Only the native ABI: on x86_64 a process could otherwise enter through
     * int 0x80 (i386 numbers) or the x32 bit, where the rules, written for
     * native numbers, would not match.  i386 has its own audit arch; x32
     * shares x86_64's, and libseccomp's x86_64 filter sends numbers with the
     * x32 bit to this same bad-arch action (test_x32_killed checks it). */
    if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0)
        return cdn_error(err, -r, "seccomp_attr_set(ACT_BADARCH)");
    /* The caller sets no_new_privs itself, before Landlock and this. */
    if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0)
        return cdn_error(err, -r, "seccomp_attr_set(CTL_NNP)");
    /* A binary search over syscall numbers: every syscall of the command runs
     * the filter, so fewer comparisons per call matter more than load time.
     * No TSYNC: the command process is single-threaded when it loads this. */
    if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0)
        return cdn_error(err, -r, "seccomp_attr_set(CTL_OPTIMIZE)");

    for (size_t i = 0; i < CDN_ARRAY_SIZE(rules); i++) {
        const rule_t *rule = &rules[i];
        if (!rule_applies(rule, opts))
            continue;
        int nr = native_nr(rule->syscall);
        if (nr < 0)
            continue;
        if ((r = add_rule(ctx, rule, nr)) < 0)
            return cdn_error(err, -r, "seccomp rule for %s (%s)", rule->syscall,
                             rule->cond_text[0] ? rule->cond_text : "always");
    }

    if ((r = seccomp_load(ctx)) < 0) {
        cdn_error(err, -r, "seccomp_load");
        if (r == -EACCES || r == -EPERM)
            cdn_error_hint(err, "no_new_privs must be set before the filter is loaded");
        return -1;
    }
    if (opts->notify) {
        int fd = seccomp_notify_fd(ctx);
        if (fd < 0)
            return cdn_error(err, -fd, "seccomp_notify_fd");
        *notify_fd = fd;
    }
    return 0;
}

void cdn_seccomp_describe(const cdn_seccomp_opts_t *opts, cdn_seccomp_desc_cb cb, void *ctx)
{
    for (size_t i = 0; i < CDN_ARRAY_SIZE(rules); i++) {
        const rule_t *r = &rules[i];
        if (!rule_applies(r, opts) || native_nr(r->syscall) < 0)
            continue;
        cb(ctx, r->syscall, act_name(r->act), r->cond_text, r->why);
    }
    cb(ctx, "ptrace", "allow", "",
       "the pid namespace holds only the sandbox's processes, and Landlock refuses tracing "
       "outside its domain");
    cb(ctx, "(non-native ABI)", "kill", "i386 (int 0x80) or x32 syscall",
       "the rules are written for native syscall numbers");
}
