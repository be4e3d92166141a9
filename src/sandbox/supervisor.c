/* See supervisor.h for why every allowed call is emulated.  Resolution is
 * done here component by component (bounded: 40 links, PATH_MAX) so that
 * "/proc/self" means the caller, not us; /proc's magic links (fd/N, cwd)
 * are left to the kernel, which resolves them for the pid we name. */
#include "sandbox/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include "protect/gitconfig.h"
#include "sandbox/run.h"
#include "util/cleanup.h"

#define MAX_LINKS 40

typedef struct req_ctx {
    cdn_supervisor_t *s;
    pid_t tid;
    pid_t tgid;
    int root; /* O_PATH fd of "/" */
    unsigned links;
    uint64_t id;
} req_ctx_t;

/* A resolved target: the directory it lives in (checked object) and its
 * final name, or an already-opened object (a /proc magic link). */
typedef struct target {
    int parent;
    char name[NAME_MAX + 1];
    int obj;
} target_t;

static void target_close(target_t *t)
{
    if (t->parent >= 0)
        close(t->parent);
    if (t->obj >= 0)
        close(t->obj);
    t->parent = t->obj = -1;
}

/* ---- reading the caller ------------------------------------------------ */

static int read_string(pid_t tid, uint64_t addr, char *buf, size_t len)
{
    size_t got = 0;
    long page = sysconf(_SC_PAGESIZE);
    while (got < len) {
        size_t chunk = (size_t)page - ((addr + got) % (size_t)page);
        if (chunk > len - got)
            chunk = len - got;
        struct iovec local = {buf + got, chunk};
        struct iovec remote = {(void *)(uintptr_t)(addr + got), chunk};
        ssize_t r = process_vm_readv(tid, &local, 1, &remote, 1, 0);
        if (r <= 0)
            return -EFAULT;
        if (memchr(buf + got, '\0', (size_t)r))
            return 0;
        got += (size_t)r;
    }
    return -ENAMETOOLONG;
}

static unsigned read_umask_tgid(pid_t tid, pid_t *tgid)
{
    char p[64], line[256];
    unsigned um = 022;
    snprintf(p, sizeof p, "/proc/%d/status", tid);
    _cleanup_fclose_ FILE *f = fopen(p, "re");
    *tgid = tid;
    if (!f)
        return um;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "Umask:", 6) == 0)
            um = (unsigned)strtoul(line + 6, NULL, 8);
        else if (strncmp(line, "Tgid:", 5) == 0)
            *tgid = (pid_t)strtol(line + 5, NULL, 10);
    }
    return um;
}

/* ---- resolution -------------------------------------------------------- */

static bool on_procfs(int fd)
{
    struct statfs sf;
    return fstatfs(fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC;
}

static int fd_path(int fd, char *buf, size_t len)
{
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    ssize_t r = readlink(p, buf, len - 1);
    if (r < 0)
        return -errno;
    buf[r] = '\0';
    return 0;
}

static int start_fd(req_ctx_t *c, int dirfd, const char *path)
{
    if (path[0] == '/')
        return fcntl(c->root, F_DUPFD_CLOEXEC, 3);
    char p[64];
    if (dirfd == AT_FDCWD)
        snprintf(p, sizeof p, "/proc/%d/cwd", c->tid);
    else
        snprintf(p, sizeof p, "/proc/%d/fd/%d", c->tid, dirfd);
    int fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? -EBADF : -errno;
    /* The caller may have died and its pid been reused between the
     * notification and this open: only trust the fd if the request lives. */
    if (seccomp_notify_id_valid(c->s->notify_fd, c->id) < 0) {
        close(fd);
        return -ESRCH;
    }
    return fd;
}

/* Resolve every component but the last; `rem` is consumed.  On success
 * t->parent is the directory and t->name the final component ("." for
 * "/"). */
static int resolve_parent(req_ctx_t *c, int cur, char *rem, target_t *t)
{
    char buf[PATH_MAX * 2];
    for (;;) {
        if (rem[0] == '/') {
            close(cur);
            cur = fcntl(c->root, F_DUPFD_CLOEXEC, 3);
            if (cur < 0)
                return -errno;
        }
        while (*rem == '/')
            rem++;
        char *slash = strchr(rem, '/');
        char *rest = NULL;
        if (slash) {
            *slash = '\0';
            rest = slash + 1;
            while (*rest == '/')
                rest++;
            if (!*rest)
                rest = NULL; /* trailing slash: the final component is this one */
        }
        if (!rest) {
            const char *name = *rem ? rem : ".";
            if (strlen(name) > NAME_MAX) {
                close(cur);
                return -ENAMETOOLONG;
            }
            strcpy(t->name, name);
            t->parent = cur;
            return 0;
        }
        int next;
        if (strcmp(rem, ".") == 0) {
            rem = rest;
            continue;
        }
        bool proc = on_procfs(cur);
        if (proc && (strcmp(rem, "self") == 0 || strcmp(rem, "thread-self") == 0)) {
            char sub[64];
            if (strcmp(rem, "self") == 0)
                snprintf(sub, sizeof sub, "%d", c->tgid);
            else
                snprintf(sub, sizeof sub, "%d/task/%d", c->tgid, c->tid);
            next = openat(cur, sub, O_PATH | O_DIRECTORY | O_CLOEXEC);
        } else {
            next = openat(cur, rem, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        }
        if (next < 0) {
            int e = errno;
            close(cur);
            return -e;
        }
        struct stat st;
        if (fstat(next, &st) < 0) {
            int e = errno;
            close(next);
            close(cur);
            return -e;
        }
        if (S_ISLNK(st.st_mode)) {
            if (++c->links > MAX_LINKS) {
                close(next);
                close(cur);
                return -ELOOP;
            }
            if (proc) {
                /* A magic link (fd/N, cwd, root): the kernel resolves it
                 * for the pid named in the path, i.e. the caller. */
                close(next);
                next = openat(cur, rem, O_PATH | O_CLOEXEC);
                if (next < 0) {
                    int e = errno;
                    close(cur);
                    return -e;
                }
                close(cur);
                cur = next;
                rem = rest;
                continue;
            }
            char link[PATH_MAX];
            ssize_t l = readlinkat(next, "", link, sizeof link - 1);
            close(next);
            if (l < 0) {
                int e = errno;
                close(cur);
                return -e;
            }
            link[l] = '\0';
            int n = snprintf(buf, sizeof buf, "%s/%s", link, rest);
            if (n < 0 || (size_t)n >= PATH_MAX) {
                close(cur);
                return -ENAMETOOLONG;
            }
            memmove(rem, buf, (size_t)n + 1); /* rem has PATH_MAX*2 room */
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            close(next);
            close(cur);
            return -ENOTDIR;
        }
        close(cur);
        cur = next;
        rem = rest;
    }
}

static int resolve(req_ctx_t *c, int dirfd, const char *path, target_t *t)
{
    char rem[PATH_MAX * 2];
    t->parent = t->obj = -1;
    if (!*path)
        return -ENOENT;
    snprintf(rem, sizeof rem, "%s", path);
    int cur = start_fd(c, dirfd, path);
    if (cur < 0)
        return cur;
    return resolve_parent(c, cur, rem, t);
}

/* Follow the final component while it is a symlink.  Leaves either
 * (parent, name) of a non-link / missing entry, or obj for a magic link. */
static int follow_final(req_ctx_t *c, target_t *t)
{
    for (;;) {
        struct stat st;
        if (fstatat(t->parent, t->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return errno == ENOENT ? 0 : -errno;
        if (!S_ISLNK(st.st_mode))
            return 0;
        if (++c->links > MAX_LINKS)
            return -ELOOP;
        if (on_procfs(t->parent)) {
            bool self = strcmp(t->name, "self") == 0 || strcmp(t->name, "thread-self") == 0;
            char sub[64];
            if (self)
                snprintf(sub, sizeof sub, strcmp(t->name, "self") == 0 ? "%d" : "%d/task/%d",
                         c->tgid, c->tid);
            t->obj = openat(t->parent, self ? sub : t->name, O_PATH | O_CLOEXEC);
            return t->obj < 0 ? -errno : 0;
        }
        char link[PATH_MAX * 2];
        ssize_t l = readlinkat(t->parent, t->name, link, PATH_MAX - 1);
        if (l < 0)
            return -errno;
        link[l] = '\0';
        int cur = link[0] == '/' ? fcntl(c->root, F_DUPFD_CLOEXEC, 3) : t->parent;
        if (cur < 0)
            return -errno;
        if (cur != t->parent)
            close(t->parent);
        t->parent = -1;
        int r = resolve_parent(c, cur, link, t);
        if (r < 0)
            return r;
    }
}

static int target_abspath(const target_t *t, char *buf, size_t len)
{
    if (t->obj >= 0)
        return fd_path(t->obj, buf, len);
    char dir[PATH_MAX];
    int r = fd_path(t->parent, dir, sizeof dir);
    if (r < 0)
        return r;
    if (strcmp(t->name, ".") == 0)
        snprintf(buf, len, "%s", dir);
    else if (strcmp(t->name, "..") == 0) {
        /* rare: classify the parent's parent conservatively as the dir itself */
        snprintf(buf, len, "%s", dir);
    } else
        snprintf(buf, len, "%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", t->name);
    return 0;
}

/* ---- policy ------------------------------------------------------------ */

static bool under(const char *path, const char *root)
{
    size_t l = strlen(root);
    if (strcmp(root, "/") == 0)
        return true;
    return strncmp(path, root, l) == 0 && (path[l] == '\0' || path[l] == '/');
}

static cdn_protect_class_t classify(const cdn_supervisor_t *s, const char *abs)
{
    for (size_t i = 0; i < s->n_roots; i++)
        if (under(abs, s->roots[i]))
            return cdn_protect_classify(&s->protect, s->roots[i], abs);
    return CDN_PROT_NONE;
}

static bool in_nodelete_workspace(const cdn_supervisor_t *s, const char *abs)
{
    return s->ws_mode == CDN_WS_READ_WRITE_NO_DELETE && under(abs, s->workspace);
}

static const char *basename_of(const char *p)
{
    const char *b = strrchr(p, '/');
    return b ? b + 1 : p;
}

/* A create or write of `abs` is refused when it is a protected file (git may
 * still write inert *.sample hooks), git config, or a name that leads to a
 * protected folder (a file called ".git" could point git elsewhere). */
static bool write_refused(const cdn_supervisor_t *s, const char *abs, cdn_protect_class_t *cls)
{
    *cls = classify(s, abs);
    if (*cls == CDN_PROT_NONE)
        return false;
    if (*cls == CDN_PROT_FILE && cdn_protect_is_inert_hook_name(basename_of(abs)))
        return false;
    /* A regular file on the way to a protected folder is harmless (git
     * keeps lock files there), except one called ".git": a gitdir link. */
    if (*cls == CDN_PROT_DIR_PREFIX && strcmp(basename_of(abs), ".git") != 0)
        return false;
    return true;
}

void cdn_violation_send(int report_fd, const char *op, const char *p1, const char *p2, pid_t pid,
                        int e, int klass)
{
    if (report_fd < 0)
        return;
    cdn_msg_t m;
    memset(&m, 0, sizeof m);
    m.type = CDN_MSG_VIOLATION;
    cdn_violation_rec_t r;
    memset(&r, 0, sizeof r);
    snprintf(r.op, sizeof r.op, "%s", op);
    snprintf(r.path, sizeof r.path, "%s", p1 ? p1 : "");
    snprintf(r.path2, sizeof r.path2, "%s", p2 ? p2 : "");
    r.pid = pid;
    r.err = e;
    r.klass = klass;
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/comm", pid);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, r.comm, sizeof r.comm - 1);
        if (n > 0 && r.comm[n - 1] == '\n')
            r.comm[n - 1] = '\0';
        close(fd);
    }
    /* Never block the sandbox on the reporting channel: drop when full. */
    m.u.violation = r;
    (void)send(report_fd, &m, sizeof m, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void report(req_ctx_t *c, const char *op, const char *p1, const char *p2, int e, int klass)
{
    c->s->denied++;
    cdn_violation_send(c->s->report_fd, op, p1, p2, c->tid, e, klass);
}

/* ---- operations -------------------------------------------------------- */

static int send_fd(req_ctx_t *c, uint64_t id, int fd, int flags)
{
    struct seccomp_notif_addfd a = {
        .id = id,
        .flags = SECCOMP_ADDFD_FLAG_SEND,
        .srcfd = (uint32_t)fd,
        .newfd = 0,
        .newfd_flags = (uint32_t)(flags & O_CLOEXEC),
    };
    int r = ioctl(c->s->notify_fd, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
    close(fd);
    return r < 0 ? -errno : 1; /* 1: answered already */
}

static int reopen(const target_t *t, int flags)
{
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", t->obj);
    int fd = open(p, (flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW)) | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

/* Opening a FIFO blocks until the other end shows up; do it in a child so
 * the supervisor keeps serving everyone else. */
static int open_fifo_async(req_ctx_t *c, uint64_t id, const target_t *t, int flags)
{
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        int fd = reopen(t, flags);
        if (fd < 0) {
            struct seccomp_notif_resp resp = {.id = id, .error = fd};
            ioctl(c->s->notify_fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
            _exit(0);
        }
        send_fd(c, id, fd, flags);
        _exit(0);
    }
    return 1;
}

static int do_open(req_ctx_t *c, uint64_t id, int dirfd, const char *path, int flags,
                   mode_t mode, unsigned umask_)
{
    target_t t;
    char abs[PATH_MAX];
    cdn_protect_class_t cls;
    int r = resolve(c, dirfd, path, &t);
    if (r < 0)
        return r;
    bool excl = (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL);
    if (!(flags & O_NOFOLLOW) && !excl && (r = follow_final(c, &t)) < 0)
        goto out;
    struct stat st;
    if (t.obj < 0 && fstatat(t.parent, t.name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno != ENOENT || !(flags & O_CREAT)) {
            r = -errno;
            if (r == -EACCES && target_abspath(&t, abs, sizeof abs) == 0)
                report(c, "write", abs, NULL, EACCES, -1); /* inside a hidden place */
            goto out;
        }
        if ((r = target_abspath(&t, abs, sizeof abs)) < 0)
            goto out;
        if (write_refused(c->s, abs, &cls)) {
            report(c, "create", abs, NULL, EACCES, (int)cls);
            r = -EACCES;
            goto out;
        }
        /* No setuid/setgid file is born here (see the chmod rules). */
        int fd = openat(t.parent, t.name, flags | O_NOFOLLOW | O_CLOEXEC,
                        mode & ~umask_ & ~(mode_t)(S_ISUID | S_ISGID));
        r = fd < 0 ? -errno : send_fd(c, id, fd, flags);
        if (r == -EROFS || r == -EACCES)
            report(c, "create", abs, NULL, -r, -1);
        goto out;
    }
    if (t.obj < 0) {
        if (excl) {
            r = -EEXIST;
            goto out;
        }
        if (S_ISLNK(st.st_mode)) {
            r = -ELOOP; /* O_NOFOLLOW on a link */
            goto out;
        }
        t.obj = openat(t.parent, t.name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (t.obj < 0) {
            r = -errno;
            goto out;
        }
    }
    if (fstat(t.obj, &st) < 0 || (r = target_abspath(&t, abs, sizeof abs)) < 0) {
        r = r < 0 ? r : -errno;
        goto out;
    }
    if (write_refused(c->s, abs, &cls)) {
        report(c, "write", abs, NULL, EACCES, (int)cls);
        r = -EACCES;
        goto out;
    }
    if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(5, 0)) {
        /* /dev/tty means the caller's controlling terminal, not ours. */
        if (c->s->tty_fd < 0) {
            r = -ENXIO;
            goto out;
        }
        char p[64];
        snprintf(p, sizeof p, "/proc/self/fd/%d", c->s->tty_fd);
        int fd = open(p, (flags & ~(O_CREAT | O_EXCL)) | O_CLOEXEC | O_NOCTTY);
        r = fd < 0 ? -errno : send_fd(c, id, fd, flags);
        goto out;
    }
    if (S_ISFIFO(st.st_mode) && !(flags & O_NONBLOCK)) {
        r = open_fifo_async(c, id, &t, flags);
        goto out;
    }
    int fd = reopen(&t, flags);
    if (fd < 0) {
        r = fd;
        if (r == -EROFS || r == -EACCES)
            report(c, "write", abs, NULL, -r, -1);
        goto out;
    }
    r = send_fd(c, id, fd, flags);
out:
    target_close(&t);
    return r;
}

static int do_unlink(req_ctx_t *c, int dirfd, const char *path, int flags)
{
    target_t t;
    char abs[PATH_MAX];
    int r = resolve(c, dirfd, path, &t);
    if (r < 0)
        return r;
    if ((r = target_abspath(&t, abs, sizeof abs)) < 0)
        goto out;
    cdn_protect_class_t cls = classify(c->s, abs);
    /* Deleting git config or an empty protected folder persists nothing;
     * deleting a protected file (a user's hook, rc file) is tampering. */
    if ((cls == CDN_PROT_FILE && !cdn_protect_is_inert_hook_name(t.name)) ||
        in_nodelete_workspace(c->s, abs)) {
        report(c, flags & AT_REMOVEDIR ? "rmdir" : "unlink", abs, NULL, EACCES, (int)cls);
        r = -EACCES;
        goto out;
    }
    r = unlinkat(t.parent, t.name, flags) < 0 ? -errno : 0;
    if (r == -EROFS)
        report(c, "unlink", abs, NULL, EROFS, -1);
out:
    target_close(&t);
    return r;
}

/* git writes config as config.lock then renames it over config: accept the
 * new file only if it sets harmless keys, and install exactly the bytes
 * that were checked (a copy), so a writer still holding config.lock cannot
 * change them after the check.  Same for .gitmodules. */
typedef enum { VALIDATE_GITCONFIG, VALIDATE_GITMODULES } validate_kind_t;

static bool validate(const cdn_supervisor_t *s, validate_kind_t kind, const char *abs_dst,
                     const char *buf, size_t len, char *why, size_t why_len)
{
    if (kind == VALIDATE_GITMODULES)
        return cdn_gitmodules_is_safe(buf, len, why, why_len);
    const char *root = s->workspace;
    for (size_t i = 0; i < s->n_roots; i++)
        if (under(abs_dst, s->roots[i]))
            root = s->roots[i];
    return cdn_gitconfig_is_safe_at(buf, len, abs_dst, root, why, why_len);
}

static int install_validated(req_ctx_t *c, validate_kind_t kind, const target_t *src,
                             const target_t *dst, const char *abs_dst)
{
    int in = openat(src->parent, src->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return -errno;
    char *buf = malloc(CDN_GITCONFIG_MAX + 1);
    if (!buf) {
        close(in);
        return -ENOMEM;
    }
    size_t len = 0;
    ssize_t n;
    while (len <= CDN_GITCONFIG_MAX &&
           (n = read(in, buf + len, CDN_GITCONFIG_MAX + 1 - len)) > 0)
        len += (size_t)n;
    close(in);
    char why[256] = "";
    if (len > CDN_GITCONFIG_MAX || !validate(c->s, kind, abs_dst, buf, len, why, sizeof why)) {
        free(buf);
        char detail[PATH_MAX + 300];
        snprintf(detail, sizeof detail, "%s (%s)", abs_dst, why[0] ? why : "too large");
        report(c, kind == VALIDATE_GITCONFIG ? "gitconfig" : "gitmodules", detail, NULL, EACCES,
               kind == VALIDATE_GITCONFIG ? CDN_PROT_GITCONFIG : CDN_PROT_FILE);
        return -EACCES;
    }
    char tmp[64];
    snprintf(tmp, sizeof tmp, ".cordon-config.%d.tmp", c->tid);
    int out = openat(dst->parent, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (out < 0) {
        free(buf);
        return -errno;
    }
    size_t off = 0;
    while (off < len) {
        n = write(out, buf + off, len - off);
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            close(out);
            unlinkat(dst->parent, tmp, 0);
            free(buf);
            return -e;
        }
        off += (size_t)n;
    }
    free(buf);
    close(out);
    if (renameat(dst->parent, tmp, dst->parent, dst->name) < 0) {
        int e = errno;
        unlinkat(dst->parent, tmp, 0);
        return -e;
    }
    unlinkat(src->parent, src->name, 0);
    return 0;
}

static int do_rename(req_ctx_t *c, int od, const char *op, int nd, const char *np,
                     unsigned flags)
{
    target_t a, b;
    char absa[PATH_MAX], absb[PATH_MAX];
    int r = resolve(c, od, op, &a);
    if (r < 0)
        return r;
    b.parent = b.obj = -1;
    if ((r = resolve(c, nd, np, &b)) < 0 || (r = target_abspath(&a, absa, sizeof absa)) < 0 ||
        (r = target_abspath(&b, absb, sizeof absb)) < 0)
        goto out;
    cdn_protect_class_t ca = classify(c->s, absa), cb = classify(c->s, absb);
    struct stat sta;
    bool a_dir = fstatat(a.parent, a.name, &sta, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(sta.st_mode);
    /* Files moving on the way to protected folders are fine; directories
     * (which could carry hooks in or out) and ".git" links are not. */
    bool inert_a = (ca == CDN_PROT_FILE && cdn_protect_is_inert_hook_name(a.name)) ||
                   (ca == CDN_PROT_DIR_PREFIX && !a_dir && strcmp(a.name, ".git") != 0);
    bool inert_b = (cb == CDN_PROT_FILE && cdn_protect_is_inert_hook_name(b.name)) ||
                   (cb == CDN_PROT_DIR_PREFIX && !a_dir && strcmp(b.name, ".git") != 0);
    if (in_nodelete_workspace(c->s, absa)) {
        report(c, "rename", absa, absb, EACCES, -1);
        r = -EACCES;
        goto out;
    }
    if ((ca != CDN_PROT_NONE && !inert_a) || (flags & RENAME_EXCHANGE && cb != CDN_PROT_NONE)) {
        report(c, "rename", absa, absb, EACCES, (int)ca);
        r = -EACCES;
        goto out;
    }
    /* git replaces its config and .gitmodules through a lock file and a
     * rename: what lands there is checked, and only harmless keys pass. */
    bool gitmodules = cb == CDN_PROT_FILE && strcmp(b.name, ".gitmodules") == 0;
    if (cb == CDN_PROT_GITCONFIG || gitmodules) {
        struct stat st;
        if ((flags & RENAME_NOREPLACE) && fstatat(b.parent, b.name, &st, AT_SYMLINK_NOFOLLOW) == 0)
            r = -EEXIST;
        else
            r = install_validated(c, gitmodules ? VALIDATE_GITMODULES : VALIDATE_GITCONFIG, &a,
                                  &b, absb);
        goto out;
    }
    if (cb != CDN_PROT_NONE && !inert_b) {
        report(c, "rename", absb, absa, EACCES, (int)cb);
        r = -EACCES;
        goto out;
    }
    r = syscall(SYS_renameat2, a.parent, a.name, b.parent, b.name, flags) < 0 ? -errno : 0;
    if (r == -EROFS)
        report(c, "rename", absb, absa, EROFS, -1);
out:
    target_close(&a);
    target_close(&b);
    return r;
}

static int do_link(req_ctx_t *c, int od, const char *op, int nd, const char *np, int flags)
{
    target_t a, b;
    char absa[PATH_MAX], absb[PATH_MAX];
    int r = resolve(c, od, op, &a);
    if (r < 0)
        return r;
    b.parent = b.obj = -1;
    if ((flags & AT_SYMLINK_FOLLOW) && (r = follow_final(c, &a)) < 0)
        goto out;
    if ((r = resolve(c, nd, np, &b)) < 0 || (r = target_abspath(&a, absa, sizeof absa)) < 0 ||
        (r = target_abspath(&b, absb, sizeof absb)) < 0)
        goto out;
    /* A second name for a protected file would be a way to write it. */
    cdn_protect_class_t ca = classify(c->s, absa), cb = classify(c->s, absb);
    if (ca != CDN_PROT_NONE || cb != CDN_PROT_NONE) {
        report(c, "link", absb, absa, EACCES, (int)(cb != CDN_PROT_NONE ? cb : ca));
        r = -EACCES;
        goto out;
    }
    if (a.obj >= 0) {
        char p[64];
        snprintf(p, sizeof p, "/proc/self/fd/%d", a.obj);
        r = linkat(AT_FDCWD, p, b.parent, b.name, AT_SYMLINK_FOLLOW) < 0 ? -errno : 0;
    } else {
        r = linkat(a.parent, a.name, b.parent, b.name, 0) < 0 ? -errno : 0;
    }
out:
    target_close(&a);
    target_close(&b);
    return r;
}

/* Resolve a path that a call is about to create, and refuse (reporting it)
 * when any protected class covers it: symlinks and device/fifo nodes may not
 * take a protected name. */
static int resolve_new_name(req_ctx_t *c, int dirfd, const char *path, const char *op,
                            const char *detail, target_t *t)
{
    char abs[PATH_MAX];
    int r = resolve(c, dirfd, path, t);
    if (r < 0)
        return r;
    if ((r = target_abspath(t, abs, sizeof abs)) < 0) {
        target_close(t);
        return r;
    }
    cdn_protect_class_t cls = classify(c->s, abs);
    if (cls != CDN_PROT_NONE) {
        report(c, op, abs, detail, EACCES, (int)cls);
        target_close(t);
        return -EACCES;
    }
    return 0;
}

static int do_symlink(req_ctx_t *c, const char *target, int nd, const char *np)
{
    target_t b;
    int r = resolve_new_name(c, nd, np, "symlink", target, &b);
    if (r < 0)
        return r;
    r = symlinkat(target, b.parent, b.name) < 0 ? -errno : 0;
    target_close(&b);
    return r;
}

static int do_mknod(req_ctx_t *c, int dirfd, const char *path, mode_t mode, dev_t dev,
                    unsigned umask_)
{
    target_t t;
    int r = resolve_new_name(c, dirfd, path, "mknod", NULL, &t);
    if (r < 0)
        return r;
    /* No setuid/setgid node is born here (see the chmod rules). */
    r = mknodat(t.parent, t.name, mode & ~umask_ & ~(mode_t)(S_ISUID | S_ISGID), dev) < 0 ? -errno
                                                                                       : 0;
    target_close(&t);
    return r;
}

static int do_truncate(req_ctx_t *c, const char *path, off_t len)
{
    target_t t;
    char abs[PATH_MAX];
    cdn_protect_class_t cls;
    int r = resolve(c, AT_FDCWD, path, &t);
    if (r < 0)
        return r;
    if ((r = follow_final(c, &t)) < 0)
        goto out;
    if (t.obj < 0) {
        t.obj = openat(t.parent, t.name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (t.obj < 0) {
            r = -errno;
            goto out;
        }
    }
    if ((r = target_abspath(&t, abs, sizeof abs)) < 0)
        goto out;
    if (write_refused(c->s, abs, &cls)) {
        report(c, "truncate", abs, NULL, EACCES, (int)cls);
        r = -EACCES;
        goto out;
    }
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", t.obj);
    r = truncate(p, len) < 0 ? -errno : 0;
out:
    target_close(&t);
    return r;
}

/* ---- dispatch ---------------------------------------------------------- */

static int dispatch(req_ctx_t *c, const struct seccomp_notif *req)
{
    const __u64 *a = req->data.args;
    char p1[PATH_MAX], p2[PATH_MAX];
    unsigned um = read_umask_tgid(c->tid, &c->tgid);
    int r;
#define STR(idx, buf)                                                                       \
    do {                                                                                    \
        if ((r = read_string(c->tid, a[idx], buf, sizeof buf)) < 0)                         \
            return r;                                                                       \
    } while (0)
    switch (req->data.nr) {
#ifdef __NR_open
    case __NR_open:
        STR(0, p1);
        return do_open(c, req->id, AT_FDCWD, p1, (int)a[1], (mode_t)a[2], um);
#endif
    case __NR_openat:
        STR(1, p1);
        return do_open(c, req->id, (int)a[0], p1, (int)a[2], (mode_t)a[3], um);
#ifdef __NR_creat
    case __NR_creat:
        STR(0, p1);
        return do_open(c, req->id, AT_FDCWD, p1, O_CREAT | O_WRONLY | O_TRUNC, (mode_t)a[1], um);
#endif
#ifdef __NR_unlink
    case __NR_unlink:
        STR(0, p1);
        return do_unlink(c, AT_FDCWD, p1, 0);
#endif
#ifdef __NR_rmdir
    case __NR_rmdir:
        STR(0, p1);
        return do_unlink(c, AT_FDCWD, p1, AT_REMOVEDIR);
#endif
    case __NR_unlinkat:
        STR(1, p1);
        return do_unlink(c, (int)a[0], p1, (int)a[2]);
#ifdef __NR_rename
    case __NR_rename:
        STR(0, p1);
        STR(1, p2);
        return do_rename(c, AT_FDCWD, p1, AT_FDCWD, p2, 0);
#endif
    case __NR_renameat:
        STR(1, p1);
        STR(3, p2);
        return do_rename(c, (int)a[0], p1, (int)a[2], p2, 0);
    case __NR_renameat2:
        STR(1, p1);
        STR(3, p2);
        return do_rename(c, (int)a[0], p1, (int)a[2], p2, (unsigned)a[4]);
#ifdef __NR_link
    case __NR_link:
        STR(0, p1);
        STR(1, p2);
        return do_link(c, AT_FDCWD, p1, AT_FDCWD, p2, 0);
#endif
    case __NR_linkat:
        STR(1, p1);
        STR(3, p2);
        if ((int)a[4] & AT_EMPTY_PATH)
            return -EPERM; /* needs CAP_DAC_READ_SEARCH, which nobody inside has */
        return do_link(c, (int)a[0], p1, (int)a[2], p2, (int)a[4]);
#ifdef __NR_symlink
    case __NR_symlink:
        STR(0, p1);
        STR(1, p2);
        return do_symlink(c, p1, AT_FDCWD, p2);
#endif
    case __NR_symlinkat:
        STR(0, p1);
        STR(2, p2);
        return do_symlink(c, p1, (int)a[1], p2);
#ifdef __NR_mknod
    case __NR_mknod:
        STR(0, p1);
        return do_mknod(c, AT_FDCWD, p1, (mode_t)a[1], (dev_t)a[2], um);
#endif
    case __NR_mknodat:
        STR(1, p1);
        return do_mknod(c, (int)a[0], p1, (mode_t)a[2], (dev_t)a[3], um);
    case __NR_truncate:
        STR(0, p1);
        return do_truncate(c, p1, (off_t)a[1]);
    default:
        return -ENOSYS;
    }
#undef STR
}

int cdn_supervisor_init(cdn_supervisor_t *s, const cdn_plan_t *plan, int report_fd, int tty_fd,
                        cdn_error_t *err)
{
    const cdn_policy_t *pol = plan->policy;
    memset(s, 0, sizeof *s);
    s->notify_fd = -1;
    s->report_fd = report_fd;
    s->tty_fd = tty_fd;
    s->plan = plan;
    s->ws_mode = pol->ws_mode;
    s->workspace = pol->workspace;
    if (cdn_protect_init(&s->protect, &pol->protected_names, pol->allow_git_config, err) < 0)
        return -1;
    s->roots[s->n_roots++] = pol->workspace;
    for (size_t i = 0; i < plan->n_mounts && s->n_roots < CDN_ARRAY_SIZE(s->roots); i++)
        if (plan->mounts[i].kind == CDN_MNT_BIND_RW &&
            strcmp(plan->mounts[i].target, pol->workspace) != 0)
            s->roots[s->n_roots++] = plan->mounts[i].target;
    return 0;
}

int cdn_supervisor_handle(cdn_supervisor_t *s, cdn_error_t *err)
{
    struct seccomp_notif *req = NULL;
    struct seccomp_notif_resp *resp = NULL;
    if (seccomp_notify_alloc(&req, &resp) < 0)
        return cdn_error(err, ENOMEM, "allocating a seccomp notification");
    int rc = 0;
    int r = seccomp_notify_receive(s->notify_fd, req);
    if (r < 0) {
        /* ENOENT: the caller went away before we read it (e.g. killed). */
        if (r != -ENOENT && r != -EINTR && errno != ENOENT && errno != EINTR)
            rc = cdn_error(err, -r, "receiving a seccomp notification");
        goto out;
    }
    req_ctx_t c = {.s = s, .tid = (pid_t)req->pid, .tgid = (pid_t)req->pid, .root = -1,
                   .id = req->id};
    c.root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    /* The id check after reading guards against a pid reused between the
     * notification and our reads of /proc/<pid>. */
    s->handled++;
    r = c.root < 0 ? -errno : dispatch(&c, req);
    if (c.root >= 0)
        close(c.root);
    if (r == 1)
        goto out; /* answered through ADDFD */
    if (seccomp_notify_id_valid(s->notify_fd, req->id) < 0)
        goto out;
    resp->id = req->id;
    resp->flags = 0;
    resp->val = 0;
    resp->error = r < 0 ? r : 0;
    (void)seccomp_notify_respond(s->notify_fd, resp);
out:
    seccomp_notify_free(req, resp);
    return rc;
}

void cdn_supervisor_free(cdn_supervisor_t *s)
{
    cdn_protect_free(&s->protect);
}
