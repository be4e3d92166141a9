/* The seccomp filter, loaded for real in forked children (with no_new_privs):
 * each refused syscall fails with its errno, each allowed one still works,
 * foreign ABIs are killed, and the notify rules reach a supervisor. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "seccomp/seccomp.h"

#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif

/* Child-side checks report on stderr and turn into the exit status. */
static int failures;
#define CHECK(cond, ...)                                              \
    do {                                                              \
        if (!(cond)) {                                                \
            fprintf(stderr, "child: %s:%d: ", __FILE__, __LINE__);    \
            fprintf(stderr, __VA_ARGS__);                             \
            fprintf(stderr, "\n");                                    \
            failures++;                                               \
        }                                                             \
    } while (0)

/* rc must be -1 with errno `e`. */
#define EXPECT_ERRNO(call, e)                                                          \
    do {                                                                               \
        errno = 0;                                                                     \
        long rc_ = (long)(call);                                                       \
        int errno_ = errno;                                                            \
        CHECK(rc_ == -1 && errno_ == (e), "%s: rc %ld errno %s, want %s", #call, rc_,  \
              strerror(errno_), strerror(e));                                          \
    } while (0)

#define EXPECT_OK(call)                                                                \
    do {                                                                               \
        errno = 0;                                                                     \
        long rc_ = (long)(call);                                                       \
        CHECK(rc_ >= 0, "%s: rc %ld errno %s, want success", #call, rc_, strerror(errno)); \
    } while (0)

static void install_or_die(const cdn_seccomp_opts_t *opts, int *nfd)
{
    cdn_error_t err = { 0 };
    int fd = -1;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        perror("child: PR_SET_NO_NEW_PRIVS");
        _exit(90);
    }
    if (cdn_seccomp_install(opts, &fd, &err) < 0) {
        cdn_error_print(&err, stderr);
        _exit(91);
    }
    if (nfd)
        *nfd = fd;
    else if (fd >= 0)
        close(fd);
}

/* Runs fn in a child under the filter; returns its wait status. */
static int run_filtered(const cdn_seccomp_opts_t *opts, void (*fn)(void *), void *arg)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        install_or_die(opts, NULL);
        failures = 0;
        fn(arg);
        _exit(failures ? 1 : 0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void assert_exit0(int status)
{
    if (WIFSIGNALED(status))
        fail_msg("child killed by signal %d", WTERMSIG(status));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- refused ---- */

static void denied_body(void *arg)
{
    (void)arg;
    EXPECT_ERRNO(syscall(SYS_bpf, 0, NULL, 0), EPERM);
    EXPECT_ERRNO(syscall(SYS_keyctl, 0, 0, 0, 0, 0), EPERM);
    EXPECT_ERRNO(syscall(SYS_add_key, "user", "x", "y", 1, 0), EPERM);
    EXPECT_ERRNO(unshare(CLONE_NEWUSER), EPERM);
    EXPECT_ERRNO(unshare(CLONE_NEWNS), EPERM);
    EXPECT_ERRNO(unshare(CLONE_NEWNET), EPERM);
    EXPECT_ERRNO(unshare(CLONE_FILES | CLONE_NEWPID), EPERM);
    EXPECT_ERRNO(syscall(SYS_clone3, NULL, 0), ENOSYS);
    EXPECT_ERRNO(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0), EPERM);
    EXPECT_ERRNO(syscall(SYS_io_uring_setup, 1, NULL), EPERM);
    EXPECT_ERRNO(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0), EPERM);
    EXPECT_ERRNO(syscall(SYS_userfaultfd, 0), EPERM);
    EXPECT_ERRNO(syscall(SYS_mount, "none", "/", "tmpfs", 0, NULL), EPERM);
    EXPECT_ERRNO(syscall(SYS_setns, 0, 0), EPERM);
    EXPECT_ERRNO(syscall(SYS_open_by_handle_at, 0, NULL, 0), EPERM);
    EXPECT_ERRNO(personality(PER_BSD), EPERM);
    EXPECT_ERRNO(personality(READ_IMPLIES_EXEC), EPERM);
    EXPECT_ERRNO(personality(0xffffffffu & ~(unsigned)ADDR_NO_RANDOMIZE), EPERM);
    EXPECT_ERRNO(personality(PER_LINUX32 | ADDR_NO_RANDOMIZE), EPERM);
    EXPECT_ERRNO(socket(AF_PACKET, SOCK_RAW, 0), EAFNOSUPPORT);
    EXPECT_ERRNO(socket(AF_VSOCK, SOCK_STREAM, 0), EAFNOSUPPORT);
    EXPECT_ERRNO(socket(AF_BLUETOOTH, SOCK_STREAM, 0), EAFNOSUPPORT);
    EXPECT_ERRNO(socket(0, SOCK_STREAM, 0), EAFNOSUPPORT);
    EXPECT_ERRNO(socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT), EAFNOSUPPORT);
    EXPECT_ERRNO(socket(AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER), EAFNOSUPPORT);
    EXPECT_ERRNO(clock_settime(CLOCK_REALTIME, &(struct timespec){ 0 }), EPERM);

    int pty = posix_openpt(O_RDWR | O_NOCTTY);
    CHECK(pty >= 0, "posix_openpt: %s", strerror(errno));
    if (pty >= 0) {
        char c = 'x';
        EXPECT_ERRNO(ioctl(pty, TIOCSTI, &c), EPERM);
        /* The kernel reads the request as 32 bits: garbage above must not
         * slip past the rule. */
        EXPECT_ERRNO(syscall(SYS_ioctl, pty, (1UL << 32) | TIOCSTI, &c), EPERM);
        EXPECT_ERRNO(ioctl(pty, TIOCLINUX, &c), EPERM);
        close(pty);
    }
}

static void test_denied(void **state)
{
    (void)state;
    cdn_seccomp_opts_t opts = { 0 };
    assert_exit0(run_filtered(&opts, denied_body, NULL));
}

/* ---- still allowed ---- */

static void *thread_fn(void *arg)
{
    return arg;
}

static void allowed_body(void *arg)
{
    bool nested = *(bool *)arg;
    int fd;
    EXPECT_OK(fd = socket(AF_UNIX, SOCK_STREAM, 0));
    close(fd);
    EXPECT_OK(fd = socket(AF_INET, SOCK_STREAM, 0));
    close(fd);
    EXPECT_OK(fd = socket(AF_INET6, SOCK_DGRAM, 0));
    close(fd);
    EXPECT_OK(fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE));
    close(fd);
    EXPECT_OK(fd = open("/etc/hostname", O_RDONLY));
    close(fd);
    EXPECT_OK(personality(0xffffffff));
    EXPECT_OK(personality(PER_LINUX | ADDR_NO_RANDOMIZE));
    EXPECT_OK(personality(PER_LINUX));
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0)
        _exit(7);
    int status = 0;
    if (pid > 0) {
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7, "forked child status %d", status);
    }
    /* Threads: glibc tries clone3 first and must fall back to clone. */
    pthread_t t;
    CHECK(pthread_create(&t, NULL, thread_fn, NULL) == 0, "pthread_create failed");
    pthread_join(t, NULL);
    if (nested)
        EXPECT_OK(unshare(CLONE_NEWUSER));
}

static void test_allowed(void **state)
{
    (void)state;
    bool nested = false;
    cdn_seccomp_opts_t opts = { 0 };
    assert_exit0(run_filtered(&opts, allowed_body, &nested));
}

static void test_allowed_nested_userns(void **state)
{
    (void)state;
    bool nested = true;
    cdn_seccomp_opts_t opts = { .allow_nested_userns = true };
    assert_exit0(run_filtered(&opts, allowed_body, &nested));
}

/* ---- foreign ABIs ---- */

static void x32_body(void *arg)
{
    (void)arg;
    long r = syscall(__X32_SYSCALL_BIT | __NR_getpid);
    fprintf(stderr, "child: x32 getpid returned %ld (%s)\n", r, strerror(errno));
    _exit(3); /* reaching this means the call was not stopped */
}

static void test_x32_killed(void **state)
{
    (void)state;
    cdn_seccomp_opts_t opts = { 0 };
    int status = run_filtered(&opts, x32_body, NULL);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGSYS);
}

#if defined(__x86_64__)
static void ia32_body(void *arg)
{
    (void)arg;
    long r;
    /* int 0x80 enters the i386 table: eax 20 is getpid there. */
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
    fprintf(stderr, "child: int 0x80 getpid returned %ld\n", r);
    _exit(3);
}

static void test_ia32_killed(void **state)
{
    (void)state;
    cdn_seccomp_opts_t opts = { 0 };
    int status = run_filtered(&opts, ia32_body, NULL);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGSYS);
}
#endif

/* ---- notify ---- */

typedef struct sup {
    int fd;
    int received;
    int last_nr;
    uint64_t last_flags;
    int bad;
} sup_t;

/* A minimal supervisor: refuses everything with EROFS, an errno nothing
 * else here would produce, after a pause that proves the caller waited. */
static void *supervise(void *arg)
{
    sup_t *s = arg;
    struct seccomp_notif *req = NULL;
    struct seccomp_notif_resp *resp = NULL;
    if (seccomp_notify_alloc(&req, &resp) < 0) {
        s->bad = 1;
        return NULL;
    }
    for (;;) {
        struct pollfd p = { .fd = s->fd, .events = POLLIN };
        int n = poll(&p, 1, 10000);
        if (n <= 0 || !(p.revents & POLLIN)) {
            if (n <= 0) {
                fprintf(stderr, "supervisor: poll %d: %s\n", n, strerror(errno));
                s->bad = 4;
            }
            break; /* POLLHUP: the filtered child is gone */
        }
        /* The kernel refuses (EINVAL) a request buffer that is not zeroed,
         * and libseccomp 2.5.4 does not clear it. */
        memset(req, 0, sizeof *req);
        if (seccomp_notify_receive(s->fd, req) < 0) {
            if (errno == ENOENT || errno == EINTR)
                continue;
            fprintf(stderr, "supervisor: receive: %s\n", strerror(errno));
            s->bad = 2;
            break;
        }
        s->received++;
        s->last_nr = req->data.nr;
        s->last_flags = req->data.nr == __NR_openat ? req->data.args[2] : req->data.args[1];
        usleep(100 * 1000);
        resp->id = req->id;
        resp->val = 0;
        resp->error = -EROFS;
        resp->flags = 0;
        if (seccomp_notify_respond(s->fd, resp) < 0 && errno != ENOENT)
        {
            fprintf(stderr, "supervisor: respond: %s\n", strerror(errno));
            s->bad = 3;
        }
    }
    seccomp_notify_free(req, resp);
    return NULL;
}

static int send_fd(int sock, int fd)
{
    char dummy = 'f';
    struct iovec iov = { .iov_base = &dummy, .iov_len = 1 };
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    memset(&u, 0, sizeof u);
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                          .msg_controllen = sizeof u.buf };
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
    char dummy;
    struct iovec iov = { .iov_base = &dummy, .iov_len = 1 };
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                          .msg_controllen = sizeof u.buf };
    if (recvmsg(sock, &msg, 0) != 1)
        return -1;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_type != SCM_RIGHTS)
        return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void test_notify(void **state)
{
    (void)state;
    char dir[] = "/tmp/cdn-seccomp-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char existing[128], fresh[160];
    snprintf(existing, sizeof existing, "%s/existing", dir);
    snprintf(fresh, sizeof fresh, "%s/fresh", dir);
    int tmp = open(existing, O_WRONLY | O_CREAT, 0644);
    assert_true(tmp >= 0);
    close(tmp);

    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(sv[0]);
        int nfd = -1;
        cdn_seccomp_opts_t opts = { .notify = true };
        install_or_die(&opts, &nfd);
        if (nfd < 0 || send_fd(sv[1], nfd) < 0)
            _exit(92);
        close(nfd);
        failures = 0;
        /* A read-only open never reaches the supervisor. */
        int fd;
        EXPECT_OK(fd = open(existing, O_RDONLY));
        close(fd);
        /* openat2 is refused outright so callers fall back to openat. */
        EXPECT_ERRNO(syscall(SYS_openat2, AT_FDCWD, fresh, NULL, 0), ENOSYS);
        double t0 = now_ms();
        EXPECT_ERRNO(open(fresh, O_WRONLY | O_CREAT, 0644), EROFS);
        double waited = now_ms() - t0;
        CHECK(waited >= 90, "write-open returned after %.1f ms, before the supervisor answered",
              waited);
        EXPECT_ERRNO(unlink(existing), EROFS);
        _exit(failures ? 1 : 0);
    }
    close(sv[1]);
    sup_t s = { .fd = recv_fd(sv[0]) };
    close(sv[0]);
    assert_true(s.fd >= 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, supervise, &s), 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    pthread_join(t, NULL);
    close(s.fd);
    assert_exit0(status);
    assert_int_equal(s.bad, 0);
    /* Exactly the write-open and the unlink, not the read-open. */
    assert_int_equal(s.received, 2);
    assert_true(s.last_nr == __NR_unlink || s.last_nr == __NR_unlinkat);

    /* Without the supervisor's "yes" nothing happened on disk. */
    assert_int_equal(access(fresh, F_OK), -1);
    assert_int_equal(access(existing, F_OK), 0);
    unlink(existing);
    rmdir(dir);
}

/* ---- description ---- */

typedef struct desc {
    int n;
    bool tiocsti, newuser, notify_open, openat2, ptrace, vm86;
} desc_t;

static void collect(void *ctx, const char *sc, const char *action, const char *cond,
                    const char *why)
{
    desc_t *d = ctx;
    d->n++;
    assert_non_null(why);
    assert_true(why[0] != '\0');
    if (!strcmp(sc, "ioctl") && !strcmp(cond, "request == TIOCSTI") && !strcmp(action, "EPERM"))
        d->tiocsti = true;
    if (!strcmp(sc, "unshare") && !strcmp(cond, "flags & CLONE_NEWUSER"))
        d->newuser = true;
    if (!strcmp(sc, "openat") && !strcmp(cond, "flags & O_WRONLY") && !strcmp(action, "notify"))
        d->notify_open = true;
    if (!strcmp(sc, "openat2") && !strcmp(action, "ENOSYS"))
        d->openat2 = true;
    if (!strcmp(sc, "ptrace") && !strcmp(action, "allow"))
        d->ptrace = true;
    if (!strcmp(sc, "vm86"))
        d->vm86 = true;
}

static void test_describe(void **state)
{
    (void)state;
    desc_t plain = { 0 }, nested = { 0 }, notify = { 0 };
    cdn_seccomp_describe(&(cdn_seccomp_opts_t){ 0 }, collect, &plain);
    cdn_seccomp_describe(&(cdn_seccomp_opts_t){ .allow_nested_userns = true }, collect, &nested);
    cdn_seccomp_describe(&(cdn_seccomp_opts_t){ .notify = true }, collect, &notify);
    assert_true(plain.tiocsti && plain.newuser && plain.ptrace);
    assert_false(plain.notify_open || plain.openat2);
    assert_false(nested.newuser);
    assert_int_equal(nested.n, plain.n - 2); /* unshare and clone with CLONE_NEWUSER */
    assert_true(notify.notify_open && notify.openat2);
#if defined(__x86_64__)
    assert_false(plain.vm86); /* not an x86_64 syscall: neither loaded nor described */
#endif
}

/* ---- cost ---- */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_denied),
        cmocka_unit_test(test_allowed),
        cmocka_unit_test(test_allowed_nested_userns),
        cmocka_unit_test(test_x32_killed),
#if defined(__x86_64__)
        cmocka_unit_test(test_ia32_killed),
#endif
        cmocka_unit_test(test_notify),
        cmocka_unit_test(test_describe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
