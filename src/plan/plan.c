/* Policy + host facts -> plan.  Pure computation plus read-only looks at the
 * host (lstat, /proc/net/unix, kernel features): no privileges needed, so
 * `cordon plan` shows exactly what `cordon run` will apply. */
#include "plan/plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/kernel.h"
#include "landlock/landlock.h"
#include "net/net.h"
#include "util/cleanup.h"

static int add_mount(cdn_plan_t *p, cdn_mount_kind_t kind, const char *target, const char *why,
                     cdn_error_t *err)
{
    for (size_t i = 0; i < p->n_mounts; i++)
        if (strcmp(p->mounts[i].target, target) == 0)
            return 0; /* first rule for a place wins; callers add in precedence order */
    cdn_mount_t *v = realloc(p->mounts, (p->n_mounts + 1) * sizeof *v);
    if (!v)
        return cdn_error(err, ENOMEM, "out of memory");
    p->mounts = v;
    v[p->n_mounts].kind = kind;
    v[p->n_mounts].target = strdup(target);
    v[p->n_mounts].why = strdup(why);
    if (!v[p->n_mounts].target || !v[p->n_mounts].why) {
        free(v[p->n_mounts].target);
        free(v[p->n_mounts].why);
        return cdn_error(err, ENOMEM, "out of memory");
    }
    p->n_mounts++;
    return 0;
}

static bool under(const char *path, const char *root)
{
    size_t l = strlen(root);
    if (strcmp(root, "/") == 0)
        return true;
    return strncmp(path, root, l) == 0 && (path[l] == '\0' || path[l] == '/');
}

static size_t depth(const char *path)
{
    if (strcmp(path, "/") == 0)
        return 0;
    size_t d = 0;
    for (const char *c = path; *c; c++)
        d += *c == '/';
    return d;
}

static int cmp_depth(const void *a, const void *b)
{
    const cdn_mount_t *ma = a, *mb = b;
    size_t da = depth(ma->target), db = depth(mb->target);
    if (da != db)
        return da < db ? -1 : 1;
    return strcmp(ma->target, mb->target);
}

static bool covered_by_private(const cdn_policy_t *pol, const char *path)
{
    for (size_t i = 0; i < pol->private_tmp.n; i++)
        if (under(path, pol->private_tmp.v[i].path))
            return true;
    for (size_t i = 0; i < pol->socket_dirs.n; i++)
        if (under(path, pol->socket_dirs.v[i].path))
            return true;
    for (size_t i = 0; i < pol->hidden.n; i++)
        if (under(path, pol->hidden.v[i].path))
            return true;
    return under(path, "/dev") || under(path, "/proc");
}

/* Every listening unix socket of the host's network namespace that has a
 * path: whatever directory it lives in, it gets masked unless allowed.  This
 * is what makes "host unix sockets unreachable" complete for the sockets that
 * exist when the command starts, not just for the usual directories. */
static int mask_host_sockets(cdn_plan_t *p, cdn_error_t *err)
{
    const cdn_policy_t *pol = p->policy;
    _cleanup_fclose_ FILE *f = fopen("/proc/net/unix", "re");
    if (!f)
        return 0; /* no procfs view of sockets: the directory rules still apply */
    char line[4096];
    if (!fgets(line, sizeof line, f))
        return 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long flags = 0;
        char path[4096] = "";
        /* Num RefCount Protocol Flags Type St Inode Path */
        if (sscanf(line, "%*s %*s %*s %lx %*s %*s %*s %4095s", &flags, path) < 2)
            continue;
        if (path[0] != '/' || !(flags & 0x10000 /* __SO_ACCEPTCON: listening */))
            continue;
        struct stat st;
        if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
            continue;
        if (covered_by_private(pol, path))
            continue;
        bool allowed = false;
        for (size_t i = 0; i < pol->unix_allow.n; i++)
            allowed |= strcmp(pol->unix_allow.v[i].path, path) == 0;
        if (allowed || cdn_strv_contains(&p->masked_sockets, path))
            continue;
        if (cdn_strv_add(&p->masked_sockets, path, err) < 0)
            return -1;
        if (add_mount(p, CDN_MNT_MASK_FILE, path, "host unix socket", err) < 0)
            return -1;
    }
    return 0;
}

static void set_layer(cdn_plan_t *p, cdn_layer_id_t id, const char *name, bool supported,
                      bool enabled, const char *detail)
{
    p->layers[id].name = name;
    p->layers[id].supported = supported;
    p->layers[id].enabled = enabled && supported;
    snprintf(p->layers[id].detail, sizeof p->layers[id].detail, "%s", detail);
}

/* Hidden places the observer serves: masks of hidden paths with nothing
 * mounted below them (a re-opened path inside keeps the plain mask, which
 * stays traversable). */
bool cdn_plan_mask_observable(const cdn_plan_t *p, size_t i)
{
    const cdn_mount_t *m = &p->mounts[i];
    if (m->kind != CDN_MNT_MASK_DIR && m->kind != CDN_MNT_MASK_FILE)
        return false;
    bool hidden = false;
    for (size_t j = 0; j < p->policy->hidden.n && !hidden; j++)
        hidden = strcmp(p->policy->hidden.v[j].path, m->target) == 0;
    if (!hidden)
        return false; /* a host socket's mask: connecting is refused, not a read */
    for (size_t j = i + 1; j < p->n_mounts; j++)
        if (under(p->mounts[j].target, m->target) && strcmp(p->mounts[j].target, m->target) != 0)
            return false;
    return true;
}

/* FUSE mounts in a user namespace since Linux 4.18; the device must be
 * there and open to us.  Nothing is probed by mounting: `cordon run` keeps
 * the plain masks when mounting fails anyway. */
static void plan_observer(cdn_plan_t *p)
{
    struct stat st;
    bool dev = stat("/dev/fuse", &st) == 0 && S_ISCHR(st.st_mode) &&
               access("/dev/fuse", R_OK | W_OK) == 0;
    size_t n = 0;
    for (size_t i = 0; i < p->n_mounts; i++)
        n += cdn_plan_mask_observable(p, i);
    char d[160];
    if (!dev)
        snprintf(d, sizeof d, "no usable /dev/fuse: hidden paths stay masked, reads of them "
                              "are refused but not reported");
    else if (!n)
        snprintf(d, sizeof d, "no hidden path exists here");
    else
        snprintf(d, sizeof d, "%zu hidden place%s served by FUSE: each read, listing or lookup "
                              "refused and reported",
                 n, n == 1 ? "" : "s");
    set_layer(p, CDN_LAYER_HIDDEN_OBSERVER, "hidden-path observer", dev, n > 0, d);
}

static void plan_layers(cdn_plan_t *p, const cdn_kernel_t *k)
{
    char d[160];
    const char *ns_detail = k->userns_possible ? "" : k->userns_block;
    set_layer(p, CDN_LAYER_USERNS, "user namespace", k->userns_possible, true,
              p->policy->as_root ? "uid 0 mapped to itself, all capabilities dropped"
                                 : ns_detail[0] ? ns_detail : "own uid mapped, rootless");
    set_layer(p, CDN_LAYER_MNTNS, "mount namespace", true, true,
              "host read-only, workspace bound, secrets masked, pivot_root");
    set_layer(p, CDN_LAYER_PIDNS, "pid namespace", true, true,
              "fresh /proc; cordon waits until every process is gone");
    set_layer(p, CDN_LAYER_IPCNS, "ipc namespace", true, true, "private SysV IPC and mqueues");
    set_layer(p, CDN_LAYER_UTSNS, "uts namespace", true, true, "private hostname");
    set_layer(p, CDN_LAYER_NETNS, "network namespace", true, true,
              p->net == CDN_NET_BROKER
                  ? "out only through the egress broker (proxies, DNS, transparent capture)"
                  : "loopback only");
    set_layer(p, CDN_LAYER_CGROUPNS, "cgroup namespace", true, true,
              k->cgroup_hybrid ? "host uses cgroup v1+v2 (hybrid)" : "");
    snprintf(d, sizeof d, "ABI %d", k->landlock_abi);
    set_layer(p, CDN_LAYER_LANDLOCK_FS, "landlock filesystem", k->landlock_abi >= 1, true,
              k->landlock_abi ? d : "not available in this kernel");
    bool tcp = p->landlock.handled_net != 0;
    set_layer(p, CDN_LAYER_LANDLOCK_NET, "landlock tcp", k->landlock_abi >= 4, tcp,
              k->landlock_abi < 4 ? "needs ABI 4"
              : tcp              ? "TCP bind/connect only on cordon.tcpPorts"
                                 : "not needed: the network namespace has loopback only "
                                   "(set cordon.tcpPorts to restrict ports)");
    set_layer(p, CDN_LAYER_LANDLOCK_SCOPE, "landlock scopes", k->landlock_abi >= 6, true,
              k->landlock_abi >= 6 ? "abstract unix sockets and signals scoped to the sandbox"
                                   : "needs ABI 6");
    set_layer(p, CDN_LAYER_SECCOMP, "seccomp filter", k->seccomp_filter, true,
              "libseccomp deny-list, native ABI only");
    set_layer(p, CDN_LAYER_SECCOMP_NOTIFY, "protected-path supervisor",
              k->seccomp_notify && k->seccomp_addfd, true,
              "seccomp user notification: every write is checked by path at the moment it "
              "happens");
    set_layer(p, CDN_LAYER_NO_NEW_PRIVS, "no_new_privs", true, true, "");
    set_layer(p, CDN_LAYER_CAPS, "capabilities", true, true, "all dropped, bounding set empty");
    set_layer(p, CDN_LAYER_NO_CORE, "core dumps", true, true, "RLIMIT_CORE 0");
    set_layer(p, CDN_LAYER_SESSION, "new session", true, true,
              "setsid; a private pseudo-terminal when attached to one");
    plan_observer(p);
}

int cdn_plan_build(const cdn_policy_t *pol, char *const *argv, bool use_shell, cdn_plan_t **out,
                   cdn_error_t *err)
{
    cdn_plan_t *p = calloc(1, sizeof *p);
    if (!p)
        return cdn_error(err, ENOMEM, "out of memory");
    p->policy = pol;
    p->use_shell = use_shell;
    p->allow_nested_userns = pol->allow_nested_userns;
    p->net = pol->settings && pol->settings->network.present ? CDN_NET_BROKER : CDN_NET_NONE;
    for (size_t i = 0; i < pol->env.n; i++)
        if (cdn_strv_add(&p->env, pol->env.v[i], err) < 0)
            goto fail;
    if (p->net == CDN_NET_BROKER) {
        cdn_net_config_t nc;
        cdn_net_config_init(&nc, pol->settings);
        if (cdn_net_proxy_env(&nc, &p->env, err) < 0)
            goto fail;
    }
    for (char *const *a = argv; a && *a; a++)
        if (cdn_strv_add(&p->argv, *a, err) < 0)
            goto fail;

    p->cwd = strdup(pol->cwd);
    if (!p->cwd)
        goto oom;

    if (add_mount(p, CDN_MNT_ROOT_RO, "/", "host filesystem, read-only", err) < 0 ||
        add_mount(p, CDN_MNT_PROC, "/proc", "the sandbox's own processes only", err) < 0 ||
        add_mount(p, CDN_MNT_DEV, "/dev", "minimal devices", err) < 0)
        goto fail;
    for (size_t i = 0; i < pol->private_tmp.n; i++)
        if (add_mount(p, CDN_MNT_TMPFS, pol->private_tmp.v[i].path, "private, empty, writable",
                      err) < 0)
            goto fail;
    for (size_t i = 0; i < pol->socket_dirs.n; i++) {
        struct stat st;
        if (stat(pol->socket_dirs.v[i].path, &st) < 0 || !S_ISDIR(st.st_mode))
            continue;
        if (add_mount(p, CDN_MNT_TMPFS, pol->socket_dirs.v[i].path, pol->socket_dirs.v[i].why,
                      err) < 0)
            goto fail;
    }
    /* Hidden before writable: the first rule for a place wins. */
    for (size_t i = 0; i < pol->hidden.n; i++) {
        struct stat st;
        if (lstat(pol->hidden.v[i].path, &st) < 0)
            continue; /* nothing there to read; outside writable places nothing can appear */
        bool nested = false; /* inside another hidden folder: already out of sight */
        for (size_t j = 0; j < pol->hidden.n; j++)
            nested |= j != i && under(pol->hidden.v[i].path, pol->hidden.v[j].path) &&
                      strcmp(pol->hidden.v[i].path, pol->hidden.v[j].path) != 0;
        if (nested)
            continue;
        if (add_mount(p, S_ISDIR(st.st_mode) ? CDN_MNT_MASK_DIR : CDN_MNT_MASK_FILE,
                      pol->hidden.v[i].path, pol->hidden.v[i].why, err) < 0)
            goto fail;
    }
    if (add_mount(p, pol->ws_mode == CDN_WS_READ_ONLY ? CDN_MNT_BIND_RO : CDN_MNT_BIND_RW,
                  pol->workspace,
                  pol->ws_mode == CDN_WS_READ_ONLY               ? "workspace (read-only)"
                  : pol->ws_mode == CDN_WS_READ_WRITE_NO_DELETE ? "workspace (read-write-no-delete)"
                                                                 : "workspace (read-write)",
                  err) < 0)
        goto fail;
    for (size_t i = 0; i < pol->readonly.n; i++) {
        struct stat st;
        if (lstat(pol->readonly.v[i].path, &st) == 0 &&
            add_mount(p, CDN_MNT_BIND_RO, pol->readonly.v[i].path, pol->readonly.v[i].why, err) <
                0)
            goto fail;
    }
    for (size_t i = 0; i < pol->writable.n; i++) {
        struct stat st;
        if (lstat(pol->writable.v[i].path, &st) == 0 &&
            add_mount(p, CDN_MNT_BIND_RW, pol->writable.v[i].path, pol->writable.v[i].why, err) <
                0)
            goto fail;
    }
    for (size_t i = 0; i < pol->reopen_read.n; i++) {
        struct stat st;
        if (lstat(pol->reopen_read.v[i].path, &st) == 0 &&
            add_mount(p, CDN_MNT_BIND_RO, pol->reopen_read.v[i].path, pol->reopen_read.v[i].why,
                      err) < 0)
            goto fail;
    }
    for (size_t i = 0; i < pol->unix_allow.n; i++) {
        struct stat st;
        if (lstat(pol->unix_allow.v[i].path, &st) == 0 && S_ISSOCK(st.st_mode) &&
            add_mount(p, CDN_MNT_BIND_RO, pol->unix_allow.v[i].path, pol->unix_allow.v[i].why,
                      err) < 0)
            goto fail;
    }
    if (!pol->allow_all_unix_sockets && mask_host_sockets(p, err) < 0)
        goto fail;
    qsort(p->mounts, p->n_mounts, sizeof *p->mounts, cmp_depth);

    cdn_kernel_t k;
    cdn_kernel_probe(&k);
    if (k.landlock_abi > 0 && cdn_landlock_plan(p, k.landlock_abi, err) < 0)
        goto fail;
    if (pol->tcp_ports_set && k.landlock_abi < 4) {
        /* Fail closed: a port restriction the kernel cannot enforce. */
        cdn_error(err, EOPNOTSUPP, "cordon.tcpPorts needs Landlock ABI 4 (Linux 6.7), this "
                                   "kernel has ABI %d", k.landlock_abi);
        cdn_error_hint(err, "remove cordon.tcpPorts from the settings or use a newer kernel");
        goto fail;
    }
    plan_layers(p, &k);
    *out = p;
    return 0;
oom:
    cdn_error(err, ENOMEM, "out of memory");
fail:
    cdn_plan_free(p);
    return -1;
}

void cdn_plan_free(cdn_plan_t *p)
{
    if (!p)
        return;
    cdn_strv_free(&p->argv);
    cdn_strv_free(&p->env);
    free(p->cwd);
    for (size_t i = 0; i < p->n_mounts; i++) {
        free(p->mounts[i].target);
        free(p->mounts[i].why);
    }
    free(p->mounts);
    cdn_strv_free(&p->masked_sockets);
    cdn_landlock_plan_free(&p->landlock);
    free(p);
}

const char *cdn_mount_kind_name(cdn_mount_kind_t k)
{
    switch (k) {
    case CDN_MNT_ROOT_RO:
        return "root-ro";
    case CDN_MNT_BIND_RW:
        return "bind-rw";
    case CDN_MNT_BIND_RO:
        return "bind-ro";
    case CDN_MNT_TMPFS:
        return "tmpfs";
    case CDN_MNT_MASK_DIR:
        return "hide-dir";
    case CDN_MNT_MASK_FILE:
        return "hide-file";
    case CDN_MNT_PROC:
        return "proc";
    case CDN_MNT_DEV:
        return "dev";
    }
    return "?";
}
