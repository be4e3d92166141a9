/* The filesystem in a straight list of steps (after nsjail's contain.cc):
 *   1. make every mount private, so nothing propagates back to the host;
 *   2. take detached copies (open_tree) of everything that comes from the
 *      host: the whole tree read-only, each bind source, /dev/null for masks,
 *      the device nodes -- while the host view is still intact;
 *   3. attach the read-only tree and pivot_root into it, dropping the host;
 *   4. apply the plan's mounts parent-first, creating mount points inside our
 *      own tmpfs where needed;
 *   5. make the helper tmpfs read-only.
 * Mount flags in a user namespace can only be tightened, never loosened, so
 * nothing here can make a host mount more writable than it is. */
#include "sandbox/mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"

/* glibc 2.36 has no wrappers for the new mount API. */
static int sys_open_tree(int dfd, const char *path, unsigned flags)
{
    return (int)syscall(SYS_open_tree, dfd, path, flags);
}
static int sys_move_mount(int from_dfd, const char *from, int to_dfd, const char *to,
                          unsigned flags)
{
    return (int)syscall(SYS_move_mount, from_dfd, from, to_dfd, to, flags);
}
static int sys_mount_setattr(int dfd, const char *path, unsigned flags, struct mount_attr *a)
{
    return (int)syscall(SYS_mount_setattr, dfd, path, flags, a, sizeof *a);
}

static const char *const dev_nodes[] = {"null", "zero", "full", "random", "urandom", "tty", NULL};
#define N_DEV_NODES 6

static int clone_tree(const char *path, bool recursive, uint64_t attrs, cdn_error_t *err)
{
    int fd = sys_open_tree(AT_FDCWD, path,
                           OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
    if (fd < 0)
        return cdn_error(err, errno, "copying the mount at %s (open_tree)", path);
    struct mount_attr a = {.attr_set = attrs};
    if (sys_mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a) < 0) {
        int e = errno;
        close(fd);
        return cdn_error(err, e, "restricting the mount copy of %s (mount_setattr)", path);
    }
    return fd;
}

static int attach(int fd, const char *target, cdn_error_t *err)
{
    if (sys_move_mount(fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return cdn_error(err, errno, "mounting onto %s (move_mount)", target);
    return 0;
}

/* Create `path` (and missing parents) as a directory or an empty file.
 * Only succeeds inside places that are writable at this point: our own
 * tmpfs.  An existing path of the wrong type is left to mount to refuse. */
static int ensure_mountpoint(const char *path, bool dir, cdn_error_t *err)
{
    struct stat st;
    if (lstat(path, &st) == 0)
        return 0;
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *s = buf + 1; (s = strchr(s, '/')); s++) {
        *s = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return cdn_error(err, errno, "creating the mount point %s", buf);
        *s = '/';
    }
    if (dir) {
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
            return cdn_error(err, errno, "creating the mount point %s", path);
    } else {
        int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0444);
        if (fd < 0)
            return cdn_error(err, errno, "creating the mount point %s", path);
        close(fd);
    }
    return 0;
}

static int setup_dev(const int *devfds, cdn_error_t *err)
{
    if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k") < 0)
        return cdn_error(err, errno, "mounting a tmpfs on /dev");
    for (size_t i = 0; dev_nodes[i]; i++) {
        char p[64];
        snprintf(p, sizeof p, "/dev/%s", dev_nodes[i]);
        if (devfds[i] < 0)
            continue; /* absent on the host (e.g. no /dev/tty in a daemon) */
        if (ensure_mountpoint(p, false, err) < 0 || attach(devfds[i], p, err) < 0)
            return -1;
    }
    if (mkdir("/dev/pts", 0755) < 0 || mkdir("/dev/shm", 01777) < 0)
        return cdn_error(err, errno, "creating /dev/pts and /dev/shm");
    if (mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
              "newinstance,ptmxmode=0666,mode=620") < 0)
        return cdn_error(err, errno, "mounting a private devpts on /dev/pts");
    static const char *const links[][2] = {
        {"pts/ptmx", "/dev/ptmx"},       {"/proc/self/fd", "/dev/fd"},
        {"/proc/self/fd/0", "/dev/stdin"}, {"/proc/self/fd/1", "/dev/stdout"},
        {"/proc/self/fd/2", "/dev/stderr"},
    };
    for (size_t i = 0; i < CDN_ARRAY_SIZE(links); i++)
        if (symlink(links[i][0], links[i][1]) < 0)
            return cdn_error(err, errno, "creating the symlink %s", links[i][1]);
    return 0;
}

static int remount_ro(const char *target, unsigned long extra, cdn_error_t *err)
{
    if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | extra, NULL) < 0)
        return cdn_error(err, errno, "making %s read-only", target);
    return 0;
}

int cdn_mounts_apply(const cdn_plan_t *plan, cdn_hidden_fuse_t *hf, cdn_error_t *err)
{
    int rc = -1;
    size_t n = plan->n_mounts;
    int *fds = calloc(n ? n : 1, sizeof(int));
    int *node = calloc(n ? n : 1, sizeof(int)); /* observer node per mask, or -1 */
    int fusedev = -1;
    bool *observed = calloc(n ? n : 1, sizeof(bool));
    int devfds[N_DEV_NODES];
    int rootfd = -1;
    if (!fds || !node || !observed) {
        free(fds);
        free(node);
        free(observed);
        return cdn_error(err, ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        fds[i] = node[i] = -1;
    for (size_t i = 0; i < N_DEV_NODES; i++)
        devfds[i] = -1;

    /* 1 */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        cdn_error(err, errno, "making the mount namespace private");
        goto out;
    }

    /* 2 */
    const uint64_t ro = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    for (size_t i = 0; i < n; i++) {
        const cdn_mount_t *m = &plan->mounts[i];
        switch (m->kind) {
        case CDN_MNT_BIND_RW:
            fds[i] = clone_tree(m->target, true, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, err);
            break;
        case CDN_MNT_BIND_RO:
            fds[i] = clone_tree(m->target, true, ro, err);
            break;
        case CDN_MNT_MASK_FILE:
            /* /dev/null on a nodev mount: every open fails with EACCES and
             * a write cannot land anywhere. */
            fds[i] = clone_tree("/dev/null", false, ro | MOUNT_ATTR_NOEXEC, err);
            break;
        default:
            continue;
        }
        if (fds[i] < 0)
            goto out;
    }
    /* The observer's device, while the host's /dev is in view; without it
     * the masks simply stay plain. */
    if (hf && plan->layers[CDN_LAYER_HIDDEN_OBSERVER].enabled &&
        (fusedev = cdn_hf_open_dev()) >= 0)
        for (size_t i = 0; i < n; i++)
            if (cdn_plan_mask_observable(plan, i))
                node[i] = cdn_hf_add(hf, plan->mounts[i].target,
                                     plan->mounts[i].kind == CDN_MNT_MASK_DIR);
    for (size_t i = 0; dev_nodes[i]; i++) {
        char p[64];
        snprintf(p, sizeof p, "/dev/%s", dev_nodes[i]);
        if (access(p, F_OK) < 0)
            continue;
        devfds[i] = clone_tree(p, false, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, err);
        if (devfds[i] < 0)
            goto out;
    }
    rootfd = clone_tree("/", true, ro, err);
    if (rootfd < 0)
        goto out;

    /* 3: pivot_root(".", ".") stacks the old root on the new one; detaching
     * it leaves only the copy (the trick runc and lxc use). */
    if (attach(rootfd, "/tmp", err) < 0)
        goto out;
    if (chdir("/tmp") < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
        umount2(".", MNT_DETACH) < 0 || chdir("/") < 0) {
        cdn_error(err, errno, "pivot_root into the sandbox's root");
        goto out;
    }

    /* The observer's server, before step 4 looks at its mounts. */
    if (fusedev >= 0 && cdn_hf_start(hf, steal_fd(&fusedev)) < 0)
        for (size_t i = 0; i < n; i++)
            node[i] = -1;

    /* 4 */
    for (size_t i = 0; i < n; i++) {
        const cdn_mount_t *m = &plan->mounts[i];
        struct stat st;
        /* A mask behind a directory we cannot enter (another user's 0700
         * home, seen by root outside): the command, with fewer rights still,
         * cannot reach it either, so there is nothing to mask. */
        if ((m->kind == CDN_MNT_MASK_FILE || m->kind == CDN_MNT_MASK_DIR) &&
            lstat(m->target, &st) < 0 && errno == EACCES)
            continue;
        switch (m->kind) {
        case CDN_MNT_ROOT_RO:
            break;
        case CDN_MNT_PROC:
            if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
                cdn_error(err, errno, "mounting the sandbox's /proc");
                goto out;
            }
            break;
        case CDN_MNT_DEV:
            if (setup_dev(devfds, err) < 0)
                goto out;
            break;
        case CDN_MNT_TMPFS:
            if (ensure_mountpoint(m->target, true, err) < 0)
                goto out;
            if (mount("tmpfs", m->target, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0) {
                cdn_error(err, errno, "mounting a private tmpfs on %s", m->target);
                goto out;
            }
            break;
        case CDN_MNT_MASK_DIR:
            if (ensure_mountpoint(m->target, true, err) < 0)
                goto out;
            if (node[i] >= 0 && (observed[i] = cdn_hf_bind(hf, node[i]) == 0))
                break;
            /* mode 000: unreadable even before Landlock; made read-only in
             * step 5, after any re-opened path inside got its mount point. */
            if (mount("tmpfs", m->target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                      "mode=000,size=16k,nr_inodes=64") < 0) {
                cdn_error(err, errno, "hiding %s", m->target);
                goto out;
            }
            break;
        case CDN_MNT_MASK_FILE:
        case CDN_MNT_BIND_RO:
        case CDN_MNT_BIND_RW: {
            if (node[i] >= 0 && ensure_mountpoint(m->target, false, err) == 0 &&
                (observed[i] = cdn_hf_bind(hf, node[i]) == 0))
                break;
            bool dir = false;
            if (m->kind != CDN_MNT_MASK_FILE && fstat(fds[i], &st) == 0)
                dir = S_ISDIR(st.st_mode);
            if (ensure_mountpoint(m->target, dir, err) < 0 || attach(fds[i], m->target, err) < 0)
                goto out;
            break;
        }
        }
    }

    /* 5: a hidden folder with something re-opened inside it (a workspace
     * under /root) must stay traversable: search-only, never listable. */
    for (size_t i = 0; i < n; i++) {
        const cdn_mount_t *m = &plan->mounts[i];
        if (m->kind != CDN_MNT_MASK_DIR || observed[i])
            continue; /* FUSE masks are mounted read-only and stay mode 000 */
        size_t l = strlen(m->target);
        for (size_t j = i + 1; j < n; j++)
            if (strncmp(plan->mounts[j].target, m->target, l) == 0 &&
                plan->mounts[j].target[l] == '/') {
                if (chmod(m->target, 0111) < 0) {
                    cdn_error(err, errno, "making %s traversable", m->target);
                    goto out;
                }
                break;
            }
        if (remount_ro(m->target, MS_NOSUID | MS_NODEV | MS_NOEXEC, err) < 0)
            goto out;
    }
    if (remount_ro("/dev", MS_NOSUID | MS_NOEXEC, err) < 0)
        goto out;
    rc = 0;
out:
    for (size_t i = 0; i < n; i++) {
        if (fds[i] >= 0)
            close(fds[i]);
    }
    for (size_t i = 0; i < N_DEV_NODES; i++)
        if (devfds[i] >= 0)
            close(devfds[i]);
    if (rootfd >= 0)
        close(rootfd);
    if (fusedev >= 0)
        close(fusedev);
    if (hf)
        cdn_hf_release(hf);
    free(fds);
    free(node);
    free(observed);
    return rc;
}
