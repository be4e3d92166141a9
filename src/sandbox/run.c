/* The host side of `cordon run`: creates the namespaces with one clone(),
 * relays a pseudo-terminal when attached to one, forwards signals, collects
 * pid 1's reports, and returns only when pid 1 -- and with it every process
 * of the sandbox -- is gone. */
#include "sandbox/run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "kernel/kernel.h"
#include "util/cleanup.h"

#define MAX_VIOLATIONS 1024

typedef struct pty_state {
    int master;
    int slave;
    bool raw;
    struct termios saved;
} pty_state_t;

static int pty_open(pty_state_t *pt, cdn_error_t *err)
{
    pt->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (pt->master < 0 || grantpt(pt->master) < 0 || unlockpt(pt->master) < 0)
        return cdn_error(err, errno, "allocating a pseudo-terminal");
    char name[64];
    if (ptsname_r(pt->master, name, sizeof name) != 0)
        return cdn_error(err, errno, "naming the pseudo-terminal");
    pt->slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (pt->slave < 0)
        return cdn_error(err, errno, "opening %s", name);
    struct termios t;
    struct winsize ws;
    if (tcgetattr(STDIN_FILENO, &t) == 0) {
        tcsetattr(pt->slave, TCSANOW, &t);
        pt->saved = t;
        struct termios raw = t;
        cfmakeraw(&raw);
        pt->raw = tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) == 0;
    }
    if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
        ioctl(pt->master, TIOCSWINSZ, &ws);
    return 0;
}

static void pty_restore(pty_state_t *pt)
{
    if (pt->raw)
        tcsetattr(STDIN_FILENO, TCSADRAIN, &pt->saved);
    pt->raw = false;
}

static bool copy_once(int from, int to)
{
    char buf[16384];
    ssize_t n = read(from, buf, sizeof buf);
    if (n <= 0)
        return n < 0 && (errno == EINTR || errno == EAGAIN);
    for (ssize_t off = 0; off < n;) {
        ssize_t w = write(to, buf + off, (size_t)(n - off));
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        off += w;
    }
    return true;
}

static void record_violation(cdn_run_result_t *res, const cdn_violation_rec_t *v)
{
    if (res->n_violations >= MAX_VIOLATIONS) {
        res->n_violations_dropped++;
        return;
    }
    cdn_violation_rec_t *nv = realloc(res->violations, (res->n_violations + 1) * sizeof *nv);
    if (!nv) {
        res->n_violations_dropped++;
        return;
    }
    res->violations = nv;
    nv[res->n_violations++] = *v;
}

static void handle_msg(const cdn_msg_t *m, cdn_run_result_t *res, cdn_error_t *setup_err,
                       bool *have_setup_err)
{
    switch (m->type) {
    case CDN_MSG_ERROR:
        *setup_err = m->u.error;
        *have_setup_err = true;
        break;
    case CDN_MSG_EXEC_FAILED:
        fprintf(stderr, "cordon: %s: %s\n", m->u.exec.what, strerror(m->u.exec.errnum));
        break;
    case CDN_MSG_VIOLATION:
        record_violation(res, &m->u.violation);
        break;
    }
}

static void drain_ctl(int ctl, cdn_run_result_t *res, cdn_error_t *setup_err, bool *have)
{
    for (;;) {
        cdn_msg_t m;
        ssize_t n = recv(ctl, &m, sizeof m, MSG_DONTWAIT);
        if (n <= 0)
            return;
        if ((size_t)n == sizeof m)
            handle_msg(&m, res, setup_err, have);
    }
}

int cdn_sandbox_run(const cdn_plan_t *plan, const cdn_run_opts_t *opts, cdn_run_result_t *res,
                    cdn_error_t *err)
{
    memset(res, 0, sizeof *res);
    if (plan->argv.n == 0)
        return cdn_error_usage(err, "no command to run");

    pty_state_t pt = {.master = -1, .slave = -1};
    bool use_pty = !opts->force_no_pty && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    if (use_pty && pty_open(&pt, err) < 0)
        return -1;

    int ctl[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0) {
        pty_restore(&pt);
        return cdn_error(err, errno, "creating the control channel");
    }
    /* Violation reports must never block pid 1: give the channel room. */
    int sz = 1 << 20;
    setsockopt(ctl[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    setsockopt(ctl[0], SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);

    sigset_t mask, oldmask;
    sigemptyset(&mask);
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2,
                               SIGWINCH, SIGCHLD, SIGPIPE};
    for (size_t i = 0; i < CDN_ARRAY_SIZE(sigs); i++)
        sigaddset(&mask, sigs[i]);
    sigprocmask(SIG_BLOCK, &mask, &oldmask);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC);

    const unsigned long flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC |
                                CLONE_NEWUTS | CLONE_NEWNET | CLONE_NEWCGROUP;
    pid_t pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
    if (pid < 0) {
        int e = errno;
        sigprocmask(SIG_SETMASK, &oldmask, NULL);
        pty_restore(&pt);
        char why[512];
        cdn_userns_diagnose(e, why, sizeof why);
        cdn_error(err, e, "cannot create the sandbox's namespaces (clone)");
        cdn_error_hint(err, "%s", why);
        close(ctl[0]);
        close(ctl[1]);
        if (sfd >= 0)
            close(sfd);
        return -1;
    }
    if (pid == 0) {
        close(ctl[0]);
        if (pt.master >= 0)
            close(pt.master);
        if (sfd >= 0)
            close(sfd);
        sigprocmask(SIG_SETMASK, &oldmask, NULL);
        cdn_sandbox_init(plan, ctl[1], pt.slave);
    }
    close(ctl[1]);
    if (pt.slave >= 0)
        close(pt.slave);

    cdn_error_t setup_err;
    bool have_setup_err = false;
    int status = -1;
    bool stdin_open = use_pty;
    for (;;) {
        struct pollfd pfd[4];
        nfds_t np = 0;
        pfd[np++] = (struct pollfd){sfd, POLLIN, 0};
        pfd[np++] = (struct pollfd){ctl[0], POLLIN, 0};
        if (use_pty) {
            pfd[np++] = (struct pollfd){pt.master, POLLIN, 0};
            if (stdin_open)
                pfd[np++] = (struct pollfd){STDIN_FILENO, POLLIN, 0};
        }
        if (poll(pfd, np, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pfd[1].revents & POLLIN)
            drain_ctl(ctl[0], res, &setup_err, &have_setup_err);
        if (use_pty && (pfd[2].revents & (POLLIN | POLLHUP)))
            if (!copy_once(pt.master, STDOUT_FILENO) && (pfd[2].revents & POLLHUP)) {
                /* nothing left to read; wait for pid 1 */
            }
        if (use_pty && stdin_open && (pfd[3].revents & (POLLIN | POLLHUP)))
            if (!copy_once(STDIN_FILENO, pt.master))
                stdin_open = false;
        if (pfd[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) != (ssize_t)sizeof si)
                continue;
            int sig = (int)si.ssi_signo;
            if (sig == SIGCHLD) {
                int st;
                if (waitpid(pid, &st, WNOHANG) == pid) {
                    status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                    break;
                }
            } else if (sig == SIGWINCH && use_pty) {
                struct winsize ws;
                if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
                    ioctl(pt.master, TIOCSWINSZ, &ws);
            } else if (sig != SIGPIPE) {
                kill(pid, sig);
            }
        }
    }
    if (use_pty) {
        while (copy_once(pt.master, STDOUT_FILENO)) {
            struct pollfd p = {pt.master, POLLIN, 0};
            if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN))
                break;
        }
        close(pt.master);
    }
    pty_restore(&pt);
    drain_ctl(ctl[0], res, &setup_err, &have_setup_err);
    close(ctl[0]);
    if (sfd >= 0)
        close(sfd);
    sigprocmask(SIG_SETMASK, &oldmask, NULL);
    if (have_setup_err) {
        *err = setup_err;
        return -1;
    }
    if (status < 0)
        return cdn_error(err, errno, "waiting for the sandbox");
    res->exit_status = status;
    return 0;
}

void cdn_run_result_free(cdn_run_result_t *res)
{
    free(res->violations);
    res->violations = NULL;
    res->n_violations = 0;
}
