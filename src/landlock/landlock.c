#include "landlock/landlock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "landlock/landlock_compat.h"
#include "util/cleanup.h"

/* The newest ABI whose rights and flags this file knows. */
#define ABI_KNOWN 7

#define ACCESS_READ \
    (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
/* The rights Landlock accepts on a non-directory; others make add_rule fail. */
#define ACCESS_FILE                                                                     \
    (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |                       \
     LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)
#define ACCESS_REMOVE (LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR)

/* Marks the grant that must exist when applied; the rest may be absent. */
static const char WHY_WORKSPACE[] = "workspace";
/* Guards against a runaway walk (a hidden path below a huge tree). */
#define MAX_DEPTH 64

static const char *const dev_nodes[] = {
    "/dev/null", "/dev/zero", "/dev/tty", "/dev/full", "/dev/random", "/dev/urandom",
    "/dev/ptmx", "/dev/pts",
};

int cdn_landlock_abi(void)
{
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return abi > 0 ? (int)abi : 0;
}

uint64_t cdn_landlock_fs_rights(int abi)
{
    if (abi <= 0)
        return 0;
    uint64_t r = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1: EXECUTE .. MAKE_SYM */
    if (abi >= 2)
        r |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3)
        r |= LANDLOCK_ACCESS_FS_TRUNCATE;
    if (abi >= 5)
        r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
    return r;
}

/* Audit flags (ABI 7, Documentation/userspace-api/landlock.rst).  The default
 * logs denials of the code that created the domain: here the sandbox's pid 1,
 * cordon itself, which should never be denied, so a record there means a bug
 * or an attack: kept.  LOG_NEW_EXEC_ON also logs denials of the programs
 * executed in the domain.  The kernel docs advise it only when those programs
 * are expected to comply; in cordon they mostly are, because the mount layer
 * refuses ordinary attempts before Landlock is consulted (a hidden path is a
 * mode-000 mask, so DAC fails first; a read-only mount fails with EROFS
 * first).  A Landlock denial in the command therefore means something got
 * past the first layer, or a TCP port outside tcpPorts: rare and exactly what
 * the host's audit trail should show.  LOG_SUBDOMAINS_OFF is left to the
 * nested sandbox's own choice, as the docs ask (runtime configuration, not a
 * hard-coded mute). */
unsigned cdn_landlock_restrict_flags(int abi)
{
    return abi >= 7 ? LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON : 0;
}

void cdn_landlock_plan_free(cdn_landlock_plan_t *ll)
{
    for (size_t i = 0; i < ll->n_paths; i++) {
        free(ll->paths[i].path);
        free(ll->paths[i].why);
    }
    free(ll->paths);
    cdn_strv_free(&ll->read_except);
    free(ll->tcp_ports);
    memset(ll, 0, sizeof *ll);
}

/* Adds a grant, or widens an existing one for the same path. */
static int plan_add(cdn_landlock_plan_t *ll, const char *path, uint64_t access, const char *why,
                    cdn_error_t *err)
{
    for (size_t i = 0; i < ll->n_paths; i++)
        if (strcmp(ll->paths[i].path, path) == 0) {
            ll->paths[i].access |= access;
            return 0;
        }
    cdn_ll_path_t *v = realloc(ll->paths, (ll->n_paths + 1) * sizeof *v);
    if (!v)
        return cdn_error(err, ENOMEM, "landlock plan");
    ll->paths = v;
    char *p = strdup(path), *w = strdup(why);
    if (!p || !w) {
        free(p);
        free(w);
        return cdn_error(err, ENOMEM, "landlock plan");
    }
    ll->paths[ll->n_paths++] = (cdn_ll_path_t){ .path = p, .access = access, .why = w };
    return 0;
}

static int plan_add_all(cdn_landlock_plan_t *ll, const cdn_rule_paths_t *rp, uint64_t access,
                        const char *why, cdn_error_t *err)
{
    for (size_t i = 0; i < rp->n; i++)
        if (plan_add(ll, rp->v[i].path, access, why, err) < 0)
            return -1;
    return 0;
}

static int plan_except_all(cdn_landlock_plan_t *ll, const cdn_rule_paths_t *rp, cdn_error_t *err)
{
    for (size_t i = 0; i < rp->n; i++)
        if (!cdn_strv_contains(&ll->read_except, rp->v[i].path) &&
            cdn_strv_add(&ll->read_except, rp->v[i].path, err) < 0)
            return -1;
    return 0;
}

static int fill_plan(cdn_plan_t *plan, int abi, cdn_error_t *err)
{
    cdn_landlock_plan_t *ll = &plan->landlock;
    const cdn_policy_t *p = plan->policy;
    const uint64_t all = cdn_landlock_fs_rights(abi);
    const uint64_t dev = (ACCESS_READ | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
                          LANDLOCK_ACCESS_FS_IOCTL_DEV) & all;

    ll->abi = abi;
    ll->handled_fs = all;

    if (plan_add(ll, "/", ACCESS_READ, "read everywhere except hidden paths", err) < 0)
        return -1;
    /* Host unix sockets' directories are hidden wholesale by the mount layer;
     * Landlock keeps them out of the read grant too. */
    if (plan_except_all(ll, &p->hidden, err) < 0 || plan_except_all(ll, &p->socket_dirs, err) < 0)
        return -1;
    if (plan_add_all(ll, &p->reopen_read, ACCESS_READ, "allowRead inside a hidden region", err) < 0)
        return -1;

    if (p->workspace) {
        uint64_t ws;
        switch (p->ws_mode) {
        case CDN_WS_READ_ONLY:
            ws = ACCESS_READ;
            break;
        case CDN_WS_READ_WRITE_NO_DELETE:
            /* Renaming out of a directory needs REMOVE_* on it, so moves away
             * are refused too: intended, a move is a delete of the source. */
            ws = all & ~ACCESS_REMOVE;
            break;
        case CDN_WS_READ_WRITE:
        default:
            ws = all;
            break;
        }
        if (plan_add(ll, p->workspace, ws, WHY_WORKSPACE, err) < 0)
            return -1;
    }

    /* denyWrite paths inside these cannot be expressed: Landlock only adds
     * rights, a rule below cannot take away what a rule above grants.  The
     * mount layer makes them read-only (EROFS), which Landlock cannot undo. */
    if (plan_add_all(ll, &p->writable, all, "allowWrite", err) < 0 ||
        plan_add_all(ll, &p->private_tmp, all, "private tmpfs", err) < 0)
        return -1;
    for (size_t i = 0; i < plan->n_mounts; i++)
        if (plan->mounts[i].kind == CDN_MNT_TMPFS &&
            plan_add(ll, plan->mounts[i].target, all, "private tmpfs", err) < 0)
            return -1;

    for (size_t i = 0; i < CDN_ARRAY_SIZE(dev_nodes); i++)
        if (plan_add(ll, dev_nodes[i], dev, "device everyone writes", err) < 0)
            return -1;
    if (plan_add(ll, "/proc", ACCESS_READ | LANDLOCK_ACCESS_FS_WRITE_FILE,
                 "programs write /proc/self/...", err) < 0)
        return -1;

    /* Without tcpPorts the private network namespace (loopback only) is the
     * whole network policy and TCP is left unhandled.  With tcpPorts on
     * ABI < 4 handled_net stays 0: the planner must refuse, as it cannot be
     * enforced. */
    if (p->tcp_ports_set && abi >= 4) {
        ll->handled_net = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
        if (p->n_tcp_ports) {
            ll->tcp_ports = calloc(p->n_tcp_ports, sizeof *ll->tcp_ports);
            if (!ll->tcp_ports)
                return cdn_error(err, ENOMEM, "landlock plan");
        }
        for (size_t i = 0; i < p->n_tcp_ports; i++) {
            if (p->tcp_ports[i] < 0 || p->tcp_ports[i] > 65535)
                return cdn_error(err, EINVAL, "TCP port out of range: %d", p->tcp_ports[i]);
            ll->tcp_ports[i] = p->tcp_ports[i];
        }
        ll->n_tcp_ports = p->n_tcp_ports;
    }
    if (abi >= 6)
        ll->scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
    return 0;
}

int cdn_landlock_plan(cdn_plan_t *plan, int abi, cdn_error_t *err)
{
    cdn_landlock_plan_free(&plan->landlock);
    if (!plan->policy)
        return cdn_error(err, EINVAL, "landlock plan: no policy");
    if (abi <= 0)
        return 0;
    if (abi > ABI_KNOWN)
        abi = ABI_KNOWN;
    if (fill_plan(plan, abi, err) < 0) {
        cdn_landlock_plan_free(&plan->landlock);
        return -1;
    }
    return 0;
}

/* ---- applying ---- */

typedef struct walk {
    int ruleset;
    int count;
    const char **hidden; /* existing hidden paths */
    size_t n_hidden;
} walk_t;

static bool is_hidden(const walk_t *w, const char *path)
{
    for (size_t i = 0; i < w->n_hidden; i++)
        if (strcmp(w->hidden[i], path) == 0)
            return true;
    return false;
}

static bool hides_below(const walk_t *w, const char *dir)
{
    size_t n = strlen(dir);
    if (n == 1 && dir[0] == '/')
        n = 0; /* "/" + "/x" */
    for (size_t i = 0; i < w->n_hidden; i++)
        if (strncmp(w->hidden[i], dir, n) == 0 && w->hidden[i][n] == '/' && w->hidden[i][n + 1])
            return true;
    return false;
}

static int add_rule_fd(walk_t *w, int fd, uint64_t access, bool is_dir, const char *path,
                       cdn_error_t *err)
{
    struct landlock_path_beneath_attr attr = {
        .allowed_access = is_dir ? access : access & ACCESS_FILE,
        .parent_fd = fd,
    };
    if (!attr.allowed_access)
        return 0;
    if (syscall(SYS_landlock_add_rule, w->ruleset, LANDLOCK_RULE_PATH_BENEATH, &attr, 0) < 0)
        return cdn_error(err, errno, "landlock_add_rule(%s)", path);
    w->count++;
    return 0;
}

static int join(char *buf, size_t len, const char *dir, const char *name, cdn_error_t *err)
{
    const char *sep = strcmp(dir, "/") == 0 ? "" : "/";
    if (snprintf(buf, len, "%s%s%s", dir, sep, name) >= (int)len)
        return cdn_error(err, ENAMETOOLONG, "path too long: %s/%s", dir, name);
    return 0;
}

static int expand(walk_t *w, const char *dir, uint64_t access, unsigned depth, cdn_error_t *err);

/* One entry of a directory being expanded. */
static int expand_entry(walk_t *w, int dfd, const char *dir, const char *name, unsigned char type,
                        uint64_t access, unsigned depth, cdn_error_t *err)
{
    char child[PATH_MAX];
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return 0;
    if (join(child, sizeof child, dir, name, err) < 0)
        return -1;
    if (is_hidden(w, child))
        return 0;
    if (type == DT_UNKNOWN) {
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT)
                return 0; /* gone meanwhile */
            return cdn_error(err, errno, "fstatat(%s)", child);
        }
        type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISLNK(st.st_mode) ? DT_LNK : DT_REG;
    }
    if (type == DT_LNK)
        return 0;
    if (type == DT_DIR && hides_below(w, child))
        return expand(w, child, access, depth + 1, err);
    _cleanup_close_ int fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        /* Gone meanwhile, or a mount we may not even look up (another
         * user's FUSE mount): no rule, so Landlock refuses it too. */
        if (errno == ENOENT || errno == EACCES)
            return 0;
        return cdn_error(err, errno, "open(%s, O_PATH)", child);
    }
    return add_rule_fd(w, fd, access, type == DT_DIR, child, err);
}

/* `dir` may be searched but not listed (a 0711 /home): its entries cannot
 * be enumerated, so only the ones leading to hidden paths are walked; the
 * unknown others get no rule and stay refused, which fails closed. */
static int expand_unlistable(walk_t *w, const char *dir, uint64_t access, unsigned depth,
                             cdn_error_t *err)
{
    _cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return cdn_error(err, errno, "open(%s, O_PATH)", dir);
    size_t n = strcmp(dir, "/") == 0 ? 0 : strlen(dir);
    for (size_t i = 0; i < w->n_hidden; i++) {
        const char *h = w->hidden[i];
        if (strncmp(h, dir, n) != 0 || h[n] != '/' || !h[n + 1])
            continue;
        char name[NAME_MAX + 1];
        size_t len = strcspn(h + n + 1, "/");
        if (len > NAME_MAX)
            continue;
        memcpy(name, h + n + 1, len);
        name[len] = '\0';
        bool seen = false; /* two hidden paths below the same entry */
        for (size_t k = 0; k < i && !seen; k++)
            seen = strncmp(w->hidden[k], h, n + 1 + len) == 0 &&
                   (w->hidden[k][n + 1 + len] == '/' || !w->hidden[k][n + 1 + len]);
        if (!seen && expand_entry(w, dfd, dir, name, DT_UNKNOWN, access, depth, err) < 0)
            return -1;
    }
    return 0;
}

/* `dir` contains a hidden path somewhere below: every entry gets the grant
 * on its own, except the hidden ones, symlinks (their targets get a rule
 * where they live) and directories that again hide something (recursed). */
static int expand(walk_t *w, const char *dir, uint64_t access, unsigned depth, cdn_error_t *err)
{
    if (depth > MAX_DEPTH)
        return cdn_error(err, ELOOP, "landlock: too deep below %s", dir);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 && errno == EACCES)
        return expand_unlistable(w, dir, access, depth, err);
    if (dfd < 0)
        return cdn_error(err, errno, "open(%s) to grant reading around a hidden path", dir);
    _cleanup_closedir_ DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return cdn_error(err, errno, "fdopendir(%s)", dir);
    }
    /* Listing the expanded directory itself stays possible (`ls /`, `ls ~`):
     * READ_DIR alone lets names be listed below it, never contents read; the
     * mount layer already shows hidden places as empty. */
    if (access & LANDLOCK_ACCESS_FS_READ_DIR) {
        struct landlock_path_beneath_attr self = {
            .allowed_access = LANDLOCK_ACCESS_FS_READ_DIR,
            .parent_fd = dfd,
        };
        if (syscall(SYS_landlock_add_rule, w->ruleset, LANDLOCK_RULE_PATH_BENEATH, &self, 0) < 0)
            return cdn_error(err, errno, "landlock_add_rule(%s)", dir);
        w->count++;
    }
    struct dirent *de;
    for (errno = 0; (de = readdir(d)); errno = 0)
        if (expand_entry(w, dfd, dir, de->d_name, de->d_type, access, depth, err) < 0)
            return -1;
    if (errno)
        return cdn_error(err, errno, "readdir(%s)", dir);
    return 0;
}

static int grant(walk_t *w, const cdn_ll_path_t *g, cdn_error_t *err)
{
    bool required = g->why && strcmp(g->why, WHY_WORKSPACE) == 0;
    /* Followed: a symlink given here (/dev/ptmx -> pts/ptmx) means its target. */
    _cleanup_close_ int fd = open(g->path, O_PATH | O_CLOEXEC);
    if (fd < 0) {
        if ((errno == ENOENT || errno == ENOTDIR) && !required)
            return 0;
        return cdn_error(err, errno, "open(%s, O_PATH) for Landlock (%s)", g->path,
                         g->why ? g->why : "grant");
    }
    struct stat st;
    if (fstat(fd, &st) < 0)
        return cdn_error(err, errno, "fstat(%s)", g->path);
    bool is_dir = S_ISDIR(st.st_mode);
    if (is_dir && hides_below(w, g->path))
        return expand(w, g->path, g->access, 0, err);
    return add_rule_fd(w, fd, g->access, is_dir, g->path, err);
}

static int add_port(int ruleset, uint64_t access, int port, cdn_error_t *err)
{
    struct landlock_net_port_attr attr = { .allowed_access = access, .port = (__u64)port };
    if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_NET_PORT, &attr, 0) < 0)
        return cdn_error(err, errno, "landlock_add_rule(TCP port %d)", port);
    return 0;
}

int cdn_landlock_build(const cdn_landlock_plan_t *ll, int *ruleset_out, cdn_error_t *err)
{
    if (ll->abi <= 0)
        return cdn_error(err, EOPNOTSUPP, "Landlock is not available");
    int abi = ll->abi > ABI_KNOWN ? ABI_KNOWN : ll->abi;

    struct cdn_landlock_ruleset_attr attr = {
        .handled_access_fs = ll->handled_fs & cdn_landlock_fs_rights(abi),
        .handled_access_net = abi >= 4 ? ll->handled_net : 0,
        .scoped = abi >= 6 ? ll->scoped : 0,
    };
    size_t size = abi >= 6   ? sizeof attr
                  : abi >= 4 ? offsetof(struct cdn_landlock_ruleset_attr, scoped)
                             : offsetof(struct cdn_landlock_ruleset_attr, handled_access_net);
    _cleanup_close_ int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
    *ruleset_out = -1;
    if (ruleset < 0)
        return cdn_error(err, errno, "landlock_create_ruleset(ABI %d)", abi);

    /* Hidden paths that do not exist hide nothing. */
    _cleanup_free_ const char **hidden = calloc(ll->read_except.n + 1, sizeof *hidden);
    if (!hidden)
        return cdn_error(err, ENOMEM, "landlock");
    walk_t w = { .ruleset = ruleset, .hidden = hidden };
    for (size_t i = 0; i < ll->read_except.n; i++) {
        struct stat st;
        const char *h = ll->read_except.v[i];
        if (h[0] == '/' && h[1] && lstat(h, &st) == 0)
            hidden[w.n_hidden++] = h;
    }

    for (size_t i = 0; i < ll->n_paths; i++)
        if (grant(&w, &ll->paths[i], err) < 0)
            return cdn_error_wrap(err, "Landlock");

    if (attr.handled_access_net)
        for (size_t i = 0; i < ll->n_tcp_ports; i++) {
            if (add_port(ruleset, attr.handled_access_net, ll->tcp_ports[i], err) < 0)
                return cdn_error_wrap(err, "Landlock");
            w.count++;
        }

    *ruleset_out = steal_fd(&ruleset);
    return w.count;
}

int cdn_landlock_restrict(int ruleset, int abi, cdn_error_t *err)
{
    if (abi > ABI_KNOWN)
        abi = ABI_KNOWN;
    if (syscall(SYS_landlock_restrict_self, ruleset, cdn_landlock_restrict_flags(abi)) < 0) {
        cdn_error(err, errno, "landlock_restrict_self");
        if (errno == EPERM)
            cdn_error_hint(err, "set no_new_privs (prctl PR_SET_NO_NEW_PRIVS) before Landlock");
        return -1;
    }
    return 0;
}

int cdn_landlock_apply(const cdn_landlock_plan_t *ll, cdn_error_t *err)
{
    _cleanup_close_ int ruleset = -1;
    int n = cdn_landlock_build(ll, &ruleset, err);
    if (n < 0 || cdn_landlock_restrict(ruleset, ll->abi, err) < 0)
        return -1;
    return n;
}

void cdn_landlock_access_str(uint64_t access, char *buf, size_t len)
{
    static const struct {
        uint64_t bit;
        const char *name;
    } names[] = {
        { LANDLOCK_ACCESS_FS_READ_FILE, "read-file" },
        { LANDLOCK_ACCESS_FS_READ_DIR, "read-dir" },
        { LANDLOCK_ACCESS_FS_EXECUTE, "exec" },
        { LANDLOCK_ACCESS_FS_WRITE_FILE, "write-file" },
        { LANDLOCK_ACCESS_FS_TRUNCATE, "truncate" },
        { LANDLOCK_ACCESS_FS_REMOVE_FILE, "remove-file" },
        { LANDLOCK_ACCESS_FS_REMOVE_DIR, "remove-dir" },
        { LANDLOCK_ACCESS_FS_MAKE_REG, "make-reg" },
        { LANDLOCK_ACCESS_FS_MAKE_DIR, "make-dir" },
        { LANDLOCK_ACCESS_FS_MAKE_SYM, "make-sym" },
        { LANDLOCK_ACCESS_FS_MAKE_SOCK, "make-sock" },
        { LANDLOCK_ACCESS_FS_MAKE_FIFO, "make-fifo" },
        { LANDLOCK_ACCESS_FS_MAKE_CHAR, "make-char" },
        { LANDLOCK_ACCESS_FS_MAKE_BLOCK, "make-block" },
        { LANDLOCK_ACCESS_FS_REFER, "refer" },
        { LANDLOCK_ACCESS_FS_IOCTL_DEV, "ioctl-dev" },
    };
    if (!len)
        return;
    buf[0] = '\0';
    size_t used = 0;
    uint64_t known = 0;
    for (size_t i = 0; i < CDN_ARRAY_SIZE(names); i++) {
        known |= names[i].bit;
        if (!(access & names[i].bit))
            continue;
        int n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", names[i].name);
        if (n < 0 || (size_t)n >= len - used)
            return;
        used += (size_t)n;
    }
    if (access & ~known)
        snprintf(buf + used, len - used, "%s0x%llx", used ? "," : "",
                 (unsigned long long)(access & ~known));
    else if (!used)
        snprintf(buf, len, "none");
}
