/* See hidden_fuse.h.  Each hidden place is a node of one FUSE connection
 * (nodeid 2 + index), bind-mounted onto the place: mode 000, size 0, no
 * entries.  Every LOOKUP inside, every OPEN/OPENDIR of a node and every
 * access() asking for a right is refused with EACCES -- what the plain masks
 * answer -- and reported.  Mounted without default_permissions on purpose: the kernel then
 * asks us instead of refusing a mode-000 inode silently. */
#include "sandbox/hidden_fuse.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <linux/landlock.h>
#include <linux/mount.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/process.h"
#include "sandbox/supervisor.h"
#include "util/cleanup.h"

/* Attributes never change: let the kernel cache them for a day. */
#define ATTR_VALID_S 86400
/* Oldest protocol we speak: Linux 3.15; FUSE in user namespaces came with
 * 4.18 (7.27), so every kernel that mounts us is newer. */
#define MIN_MINOR 23

/* ---- the protocol (pure) ------------------------------------------------ */

static int reply_hdr(void *out, size_t cap, uint64_t unique, int error, const void *body,
                     size_t blen)
{
    struct fuse_out_header h = {.len = (uint32_t)(sizeof h + blen), .error = -error,
                                .unique = unique};
    if (sizeof h + blen > cap)
        return -1;
    memcpy(out, &h, sizeof h);
    if (blen)
        memcpy((char *)out + sizeof h, body, blen);
    return (int)(sizeof h + blen);
}

static int reply_err(void *out, size_t cap, uint64_t unique, int error)
{
    return reply_hdr(out, cap, unique, error, NULL, 0);
}

/* nodeid 1 is the root, a folder; 2 + i is hidden place i. */
static void node_attr(const cdn_hf_conn_t *c, uint64_t nodeid, struct fuse_attr *a)
{
    bool dir = nodeid == FUSE_ROOT_ID || c->is_dir[nodeid - 2];
    memset(a, 0, sizeof *a);
    a->ino = nodeid;
    a->mode = dir ? S_IFDIR : S_IFREG; /* no permission bits at all */
    a->nlink = dir ? 2 : 1;
    a->uid = c->uid;
    a->gid = c->gid;
    a->blksize = 4096;
    a->atime = a->mtime = a->ctime = c->time;
}

static int do_init(cdn_hf_conn_t *c, const struct fuse_in_header *h, const uint8_t *body,
                   size_t blen, void *out, size_t cap)
{
    struct fuse_init_in in;
    if (blen < 8 || c->initialized)
        return reply_err(out, cap, h->unique, EPROTO);
    memset(&in, 0, sizeof in);
    memcpy(&in, body, blen < sizeof in ? blen : sizeof in);
    if (in.major != FUSE_KERNEL_VERSION || in.minor < MIN_MINOR)
        return reply_err(out, cap, h->unique, EPROTO);
    c->minor = in.minor < FUSE_KERNEL_MINOR_VERSION ? in.minor : FUSE_KERNEL_MINOR_VERSION;
    c->initialized = true;
    /* No feature flags: no readdirplus, no async reads, no writeback, no
     * security contexts -- nothing the kernel would then expect of us. */
    struct fuse_init_out o;
    memset(&o, 0, sizeof o);
    o.major = FUSE_KERNEL_VERSION;
    o.minor = c->minor;
    o.max_write = 4096;
    o.time_gran = 1;
    o.max_background = 1;
    o.congestion_threshold = 1;
    return reply_hdr(out, cap, h->unique, 0, &o, sizeof o);
}

/* A name in a LOOKUP: NUL-terminated inside the body, a single component. */
static bool valid_name(const uint8_t *body, size_t blen, char *name, size_t cap)
{
    const uint8_t *nul = memchr(body, '\0', blen);
    if (!nul)
        return false;
    size_t l = (size_t)(nul - body);
    if (l == 0 || l >= cap || memchr(body, '/', l))
        return false;
    memcpy(name, body, l);
    name[l] = '\0';
    return strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/* "0" .. "n-1", strictly decimal without leading zeros. */
static bool node_index(const char *name, size_t n, size_t *idx)
{
    size_t v = 0, l = strlen(name);
    if (l == 0 || l > 2 || (l > 1 && name[0] == '0'))
        return false;
    for (size_t i = 0; i < l; i++) {
        if (name[i] < '0' || name[i] > '9')
            return false;
        v = v * 10 + (size_t)(name[i] - '0');
    }
    *idx = v;
    return v < n;
}

/* The root: only pid 1 reaches it, to bind the nodes (afterwards it is a
 * detached mount nobody holds). */
static int root_request(const cdn_hf_conn_t *c, const struct fuse_in_header *h,
                        const uint8_t *body, size_t blen, void *out, size_t cap)
{
    char name[256];
    size_t idx;
    switch (h->opcode) {
    case FUSE_LOOKUP: {
        if (!valid_name(body, blen, name, sizeof name))
            return reply_err(out, cap, h->unique, EIO);
        if (!node_index(name, c->n, &idx))
            return reply_err(out, cap, h->unique, ENOENT);
        struct fuse_entry_out e;
        memset(&e, 0, sizeof e);
        e.nodeid = idx + 2;
        e.generation = 1;
        e.entry_valid = e.attr_valid = ATTR_VALID_S;
        node_attr(c, e.nodeid, &e.attr);
        return reply_hdr(out, cap, h->unique, 0, &e, sizeof e);
    }
    case FUSE_GETATTR:
    case FUSE_STATFS:
    case FUSE_ACCESS:
        return 1; /* as for any node */
    default:
        return reply_err(out, cap, h->unique, EACCES);
    }
}

int cdn_hf_handle(cdn_hf_conn_t *c, const void *req, size_t len, void *out, size_t cap,
                  cdn_hf_seen_t *seen)
{
    struct fuse_in_header h;
    memset(seen, 0, sizeof *seen);
    if (len < sizeof h || len > CDN_HF_BUFSIZE || cap < CDN_HF_REPLY_MAX ||
        c->n > CDN_HF_MAX_MOUNTS)
        return -1;
    memcpy(&h, req, sizeof h);
    if (h.len != len)
        return -1;
    const uint8_t *body = (const uint8_t *)req + sizeof h;
    size_t blen = len - sizeof h;

    switch (h.opcode) {
    case FUSE_FORGET:
    case FUSE_BATCH_FORGET: /* the nodes are fixed: nothing to forget */
    case FUSE_INTERRUPT:    /* every request is answered at once: nothing to cancel */
        return 0;
    case FUSE_INIT:
        return do_init(c, &h, body, blen, out, cap);
    default:
        break;
    }
    if (!c->initialized)
        return reply_err(out, cap, h.unique, EIO);
    /* Only the root and the nodes exist: anything else is a kernel we do
     * not understand. */
    if (h.nodeid < FUSE_ROOT_ID || h.nodeid >= c->n + 2)
        return reply_err(out, cap, h.unique, EIO);
    if (h.nodeid == FUSE_ROOT_ID) {
        int r = root_request(c, &h, body, blen, out, cap);
        if (r != 1)
            return r;
    }
    bool is_dir = h.nodeid == FUSE_ROOT_ID || c->is_dir[h.nodeid - 2];
    bool report = h.nodeid != FUSE_ROOT_ID;
    seen->pid = h.pid;
    seen->node = report ? h.nodeid - 2 : 0;

    switch (h.opcode) {
    case FUSE_GETATTR: {
        struct fuse_attr_out o;
        memset(&o, 0, sizeof o);
        o.attr_valid = ATTR_VALID_S;
        node_attr(c, h.nodeid, &o.attr);
        return reply_hdr(out, cap, h.unique, 0, &o, sizeof o);
    }
    case FUSE_LOOKUP:
        if (!is_dir)
            return reply_err(out, cap, h.unique, ENOTDIR);
        if (!valid_name(body, blen, seen->name, sizeof seen->name))
            return reply_err(out, cap, h.unique, EIO);
        /* EACCES, not ENOENT: the answer the plain mask gives, and nothing
         * is cached, so every later attempt is seen too. */
        seen->kind = CDN_HF_LOOKUP;
        return reply_err(out, cap, h.unique, EACCES);
    case FUSE_OPEN:
        if (is_dir)
            return reply_err(out, cap, h.unique, EISDIR);
        seen->kind = CDN_HF_OPEN;
        return reply_err(out, cap, h.unique, EACCES);
    case FUSE_OPENDIR:
        if (!is_dir)
            return reply_err(out, cap, h.unique, ENOTDIR);
        seen->kind = CDN_HF_OPENDIR;
        return reply_err(out, cap, h.unique, EACCES);
    case FUSE_READDIR: /* unreachable (OPENDIR never succeeds); lists nothing */
    case FUSE_RELEASE:
    case FUSE_RELEASEDIR:
        return reply_err(out, cap, h.unique, 0);
    case FUSE_ACCESS: {
        struct fuse_access_in in;
        if (blen < sizeof in)
            return reply_err(out, cap, h.unique, EIO);
        memcpy(&in, body, sizeof in);
        if (in.mask == 0 || !report)
            return reply_err(out, cap, h.unique, in.mask ? EACCES : 0); /* F_OK: it exists */
        seen->kind = CDN_HF_ACCESS;
        return reply_err(out, cap, h.unique, EACCES);
    }
    case FUSE_STATFS: {
        struct fuse_statfs_out o;
        memset(&o, 0, sizeof o);
        o.st.bsize = o.st.frsize = 4096;
        o.st.namelen = 255;
        return reply_hdr(out, cap, h.unique, 0, &o, sizeof o);
    }
    default:
        return reply_err(out, cap, h.unique, ENOSYS);
    }
}

const char *cdn_hf_op_name(cdn_hf_kind_t kind, long nr)
{
    switch (kind) {
    case CDN_HF_OPEN:
        return "read";
    case CDN_HF_OPENDIR:
        return "list";
    case CDN_HF_LOOKUP:
    case CDN_HF_ACCESS:
        break;
    default:
        return "read";
    }
    switch (nr) {
#ifdef __NR_stat
    case __NR_stat:
#endif
#ifdef __NR_lstat
    case __NR_lstat:
#endif
#ifdef __NR_newfstatat
    case __NR_newfstatat:
#endif
#ifdef __NR_fstatat64
    case __NR_fstatat64:
#endif
#ifdef __NR_access
    case __NR_access:
#endif
#ifdef __NR_readlink
    case __NR_readlink:
#endif
#ifdef __NR_getxattr
    case __NR_getxattr:
    case __NR_lgetxattr:
    case __NR_listxattr:
    case __NR_llistxattr:
#endif
#ifdef __NR_statfs
    case __NR_statfs:
#endif
    case __NR_statx:
    case __NR_faccessat:
    case __NR_faccessat2:
    case __NR_readlinkat:
        return "stat";
    case __NR_chdir:
        return "list";
    case __NR_execve:
    case __NR_execveat:
        return "exec";
    default:
        /* A name inside asked for by open/exec or anything unknown: an
         * attempt at the contents. */
        return kind == CDN_HF_ACCESS ? "stat" : "read";
    }
}

bool cdn_hf_is_path_search(const char *mount, const char *name, const char *sp)
{
    size_t ml = strcmp(mount, "/") == 0 ? 0 : strlen(mount), nl = strlen(name);
    for (const char *e = sp; e && *e;) {
        const char *end = strchr(e, ':');
        size_t l = end ? (size_t)(end - e) : strlen(e);
        if (l > ml + 1 + nl && strncmp(e, mount, ml) == 0 && e[ml] == '/' &&
            strncmp(e + ml + 1, name, nl) == 0 && (e[ml + 1 + nl] == '/' || ml + 1 + nl == l))
            return true;
        if (l == ml + 1 + nl && strncmp(e, mount, ml) == 0 && e[ml] == '/' &&
            strncmp(e + ml + 1, name, nl) == 0)
            return true;
        e = end ? end + 1 : NULL;
    }
    return false;
}

/* ---- mounting (pid 1, with CAP_SYS_ADMIN in the user namespace) -------- */

void cdn_hf_init(cdn_hidden_fuse_t *hf, int report_fd, char *const *env)
{
    memset(hf, 0, sizeof *hf);
    hf->dev = hf->mnt = -1;
    hf->report_fd = report_fd;
    for (char *const *e = env; e && *e; e++)
        if (strncmp(*e, "PATH=", 5) == 0)
            snprintf(hf->search_path[0], sizeof hf->search_path[0], "%s", *e + 5);
    const char *own = getenv("PATH");
    snprintf(hf->search_path[1], sizeof hf->search_path[1], "%s", own ? own : "");
}

int cdn_hf_open_dev(void)
{
    return open("/dev/fuse", O_RDWR | O_CLOEXEC | O_NONBLOCK);
}

int cdn_hf_add(cdn_hidden_fuse_t *hf, const char *target, bool is_dir)
{
    if (hf->conn.n >= CDN_HF_MAX_MOUNTS || hf->running)
        return -1;
    char *p = strdup(target);
    if (!p)
        return -1;
    size_t i = hf->conn.n++;
    hf->path[i] = p;
    hf->conn.is_dir[i] = is_dir;
    return (int)i;
}

static void *server_thread(void *arg);

static int fsconfig_str(int fs, const char *key, const char *val)
{
    return (int)syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, key, val, 0);
}

int cdn_hf_start(cdn_hidden_fuse_t *hf, int devfd)
{
    _cleanup_close_ int dev = devfd;
    if (dev < 0 || hf->conn.n == 0)
        return -1;
    hf->conn.uid = (uint32_t)getuid();
    hf->conn.gid = (uint32_t)getgid();
    hf->conn.time = (uint64_t)time(NULL);
    /* Detached (fsmount): the root needs no mount point, and once pid 1
     * closes it only the bound nodes remain reachable.  No allow_other:
     * every process inside has the one mapped uid/gid.  No
     * default_permissions: see the top of this file. */
    _cleanup_close_ int fs = (int)syscall(SYS_fsopen, "fuse", FSOPEN_CLOEXEC);
    char num[32], uid[32], gid[32];
    snprintf(num, sizeof num, "%d", dev);
    snprintf(uid, sizeof uid, "%u", hf->conn.uid);
    snprintf(gid, sizeof gid, "%u", hf->conn.gid);
    if (fs < 0 || fsconfig_str(fs, "source", "cordon-hidden") < 0 ||
        fsconfig_str(fs, "fd", num) < 0 || fsconfig_str(fs, "rootmode", "40000") < 0 ||
        fsconfig_str(fs, "user_id", uid) < 0 || fsconfig_str(fs, "group_id", gid) < 0 ||
        syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        return -1;
    int mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
                           MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                               MOUNT_ATTR_NOEXEC);
    if (mnt < 0)
        return -1;
    /* The server must run before anything looks at the mount: binding the
     * nodes below is already a LOOKUP. */
    hf->dev = steal_fd(&dev);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t th;
    int e = pthread_create(&th, NULL, server_thread, hf);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e != 0) {
        close(mnt);
        close(hf->dev);
        hf->dev = -1;
        return -1;
    }
    pthread_detach(th);
    hf->running = true;
    hf->mnt = mnt;
    return 0;
}

int cdn_hf_bind(cdn_hidden_fuse_t *hf, int idx)
{
    if (hf->mnt < 0 || idx < 0 || (size_t)idx >= hf->conn.n)
        return -1;
    char name[8];
    snprintf(name, sizeof name, "%d", idx);
    _cleanup_close_ int t = (int)syscall(SYS_open_tree, hf->mnt, name,
                                         OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (t < 0 || syscall(SYS_move_mount, t, "", AT_FDCWD, hf->path[idx],
                         MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return -1;
    hf->bound[idx] = true;
    return 0;
}

void cdn_hf_release(cdn_hidden_fuse_t *hf)
{
    atomic_store(&hf->setup_done, true);
    if (hf->mnt >= 0)
        close(hf->mnt);
    hf->mnt = -1;
    if (!hf->running && hf->dev >= 0) {
        close(hf->dev);
        hf->dev = -1;
    }
}

/* ---- the server ---------------------------------------------------------- */

/* The system call the caller is blocked in (it waits for our answer), and
 * its first arguments; -1 when unknown. */
static long caller_syscall(uint32_t pid, unsigned long args[2])
{
    char p[64], buf[256];
    snprintf(p, sizeof p, "/proc/%u/syscall", pid);
    _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *end;
    long nr = strtol(buf, &end, 10);
    if (end == buf)
        return -1;
    for (int i = 0; i < 2; i++) {
        char *e2;
        args[i] = strtoul(end, &e2, 16);
        end = e2;
    }
    return nr;
}

/* The path the caller handed to its system call, made absolute, for the
 * report only (nothing is decided on it).  false when not known. */
static bool caller_path(uint32_t pid, long nr, const unsigned long args[2], char *out,
                        size_t cap)
{
    unsigned long addr;
    int dirfd = AT_FDCWD;
    switch (nr) {
    case __NR_openat:
    case __NR_newfstatat:
    case __NR_statx:
    case __NR_faccessat:
    case __NR_faccessat2:
    case __NR_readlinkat:
    case __NR_execveat:
        dirfd = (int)args[0];
        addr = args[1];
        break;
#ifdef __NR_open
    case __NR_open:
    case __NR_stat:
    case __NR_lstat:
    case __NR_access:
    case __NR_readlink:
#endif
    case __NR_execve:
    case __NR_chdir:
        addr = args[0];
        break;
    default:
        return false;
    }
    char path[1024];
    struct iovec local = {path, sizeof path - 1}, remote = {(void *)(uintptr_t)addr, sizeof path - 1};
    ssize_t n = process_vm_readv((pid_t)pid, &local, 1, &remote, 1, 0);
    if (n <= 0)
        return false;
    path[n] = '\0';
    if (strlen(path) == (size_t)n || !path[0])
        return false; /* unterminated within bounds (or a page edge): not worth more */
    if (path[0] == '/') {
        snprintf(out, cap, "%s", path);
        return true;
    }
    char link[64], base[1024];
    if (dirfd == AT_FDCWD)
        snprintf(link, sizeof link, "/proc/%u/cwd", pid);
    else
        snprintf(link, sizeof link, "/proc/%u/fd/%d", pid, dirfd);
    ssize_t l = readlink(link, base, sizeof base - 1);
    if (l <= 0)
        return false;
    base[l] = '\0';
    snprintf(out, cap, "%s%s%s", base, strcmp(base, "/") == 0 ? "" : "/", path);
    return true;
}

static void report_seen(const cdn_hidden_fuse_t *hf, const cdn_hf_seen_t *s)
{
    /* pid 1 is the supervisor resolving a write on the caller's behalf; it
     * reports that itself.  0: a process outside the sandbox. */
    if (s->kind == CDN_HF_NONE || s->pid <= 1)
        return;
    char path[1024], asked[1024];
    const char *base = hf->path[s->node];
    if (s->kind == CDN_HF_LOOKUP)
        snprintf(path, sizeof path, "%s%s%s", base, strcmp(base, "/") == 0 ? "" : "/", s->name);
    else
        snprintf(path, sizeof path, "%s", base);
    unsigned long args[2] = {0, 0};
    long nr = caller_syscall(s->pid, args);
    const char *op = cdn_hf_op_name(s->kind, nr);
    /* Looking for a program along PATH is no attempt at the contents;
     * opening something there still is. */
    if (s->kind == CDN_HF_LOOKUP && strcmp(op, "read") != 0 &&
        (cdn_hf_is_path_search(base, s->name, hf->search_path[0]) ||
         cdn_hf_is_path_search(base, s->name, hf->search_path[1])))
        return;
    /* We see one name below the mount; the caller may have asked for more
     * (~/.ssh/keys/id_rsa) or come through a symlink elsewhere. */
    const char *via = NULL;
    if (s->kind == CDN_HF_LOOKUP && caller_path(s->pid, nr, args, asked, sizeof asked)) {
        size_t l = strlen(path);
        if (strncmp(asked, path, l) == 0 && (asked[l] == '/' || !asked[l]))
            snprintf(path, sizeof path, "%s", asked);
        else
            via = asked;
    }
    cdn_violation_send(hf->report_fd, op, path, via, (pid_t)s->pid, EACCES,
                       CDN_VIOLATION_HIDDEN);
}

/* Serve what is queued (counting the replies in *replies).  false: drop
 * the connection (closing aborts it, and its callers get ENOTCONN -- still
 * nothing readable). */
static bool serve(cdn_hidden_fuse_t *hf, uint8_t *buf, size_t *replies)
{
    for (;;) {
        ssize_t n = read(hf->dev, buf, CDN_HF_BUFSIZE);
        if (n < 0) {
            if (errno == EINTR || errno == ENOENT) /* ENOENT: interrupted meanwhile */
                continue;
            return errno == EAGAIN;
        }
        (*replies)++;
        uint8_t out[CDN_HF_REPLY_MAX];
        cdn_hf_seen_t seen;
        int r = cdn_hf_handle(&hf->conn, buf, (size_t)n, out, sizeof out, &seen);
        if (r < 0)
            return false;
        /* Who and what, while the caller still waits in its system call. */
        report_seen(hf, &seen);
        if (r > 0 && write(hf->dev, out, (size_t)r) < 0 && errno != ENOENT)
            return false; /* ENOENT: the caller was interrupted and is gone */
    }
}

/* A thread of pid 1 rather than a process: a fork of pid 1 and its exit
 * cost about 0.3 ms per sandbox, a thread almost nothing.  It keeps no power
 * pid 1 is about to drop: capabilities and no_new_privs are per thread.  It
 * blocks every signal (pid 1 reads its own through a signalfd), and when it
 * gives up it closes the device, which aborts the connection: callers then
 * get ENOTCONN, still nothing readable. */
static void *server_thread(void *arg)
{
    cdn_hidden_fuse_t *hf = arg;
    cdn_error_t err;
    prctl(PR_SET_NAME, "cordon-observe");
    if (cdn_caps_drop_all(&err) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        goto out;
    static uint8_t buf[CDN_HF_BUFSIZE];
    size_t replies = 0;
    /* While pid 1 binds the nodes (INIT and one LOOKUP each), poll without
     * sleeping: a sleeping server costs a wake-up per request, ~80 us on a
     * VM.  Until pid 1 is done binding, at most 2 ms, and yielding, so a
     * single CPU still runs pid 1. */
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!atomic_load(&hf->setup_done)) {
        if (!serve(hf, buf, &replies))
            goto out;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) > 2000000L)
            break;
        sched_yield();
    }
    struct pollfd pfd = {hf->dev, POLLIN, 0};
    for (;;) {
        if (poll(&pfd, 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            goto out;
        }
        /* POLLERR: aborted or unmounted; anything else we cannot parse. */
        if ((pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) || !serve(hf, buf, &replies))
            goto out;
    }
out:
    close(hf->dev);
    return NULL;
}

int cdn_hf_landlock_grant(const cdn_hidden_fuse_t *hf, int ruleset, cdn_error_t *err)
{
    for (size_t i = 0; i < hf->conn.n; i++) {
        if (!hf->bound[i] || hf->conn.is_dir[i])
            continue; /* listing is granted from above already; lookups need nothing */
        _cleanup_close_ int fd = open(hf->path[i], O_PATH | O_CLOEXEC);
        if (fd < 0)
            return cdn_error(err, errno, "open(%s, O_PATH) for the hidden-path observer",
                             hf->path[i]);
        struct landlock_path_beneath_attr a = {.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE,
                                               .parent_fd = fd};
        if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &a, 0) < 0)
            return cdn_error(err, errno, "landlock_add_rule(%s) for the hidden-path observer",
                             hf->path[i]);
    }
    return 0;
}

void cdn_hf_free(cdn_hidden_fuse_t *hf)
{
    /* A running server keeps using the paths until pid 1 exits. */
    cdn_hf_release(hf);
    if (hf->running)
        return;
    for (size_t i = 0; i < hf->conn.n; i++) {
        free(hf->path[i]);
        hf->path[i] = NULL;
    }
    hf->conn.n = 0;
}
