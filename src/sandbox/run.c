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
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <termios.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/landlock_audit.h"
#include "kernel/kernel.h"
#include "net/net.h"
#include "util/cleanup.h"
#include "util/fdpass.h"

_Static_assert(CDN_MSG_MAX_FDS <= CDN_FDPASS_MAX, "control messages carry at most CDN_FDPASS_MAX fds");

#define MAX_VIOLATIONS 1024

typedef struct pty_state {
    int master; /* arrives from pid 1 */
    bool raw;
    struct termios saved;
} pty_state_t;

static void pty_prepare(pty_state_t *pt, cdn_tty_setup_t *ts)
{
    memset(ts, 0, sizeof *ts);
    if (tcgetattr(STDIN_FILENO, &ts->termios) == 0) {
        ts->have_termios = true;
        pt->saved = ts->termios;
        struct termios raw = ts->termios;
        cfmakeraw(&raw);
        pt->raw = tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) == 0;
    }
    ts->have_winsize = ioctl(STDIN_FILENO, TIOCGWINSZ, &ts->winsize) == 0;
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

/* What would allow a denied operation, for people and agents. */
static const char *violation_setting(const cdn_violation_rec_t *v)
{
    switch (v->klass) {
    case -1:
        return "filesystem.allowWrite";
    case CDN_VIOLATION_HIDDEN:
        return "filesystem.denyRead / built-in secret list: not openable";
    case 2: /* git config with keys that run programs */
        return "filesystem.allowGitConfig";
    default:
        return "none: persistence files are always protected; edit them outside the sandbox";
    }
}

static void emit_violation(struct cdn_audit *a, const cdn_violation_rec_t *v)
{
    if (!a)
        return;
    cdn_error_t err;
    cdn_event_t *ev = NULL;
    char path[sizeof v->path + sizeof v->path2 + 8];
    if (v->path2[0])
        snprintf(path, sizeof path, "%s (with %s)", v->path, v->path2);
    else
        snprintf(path, sizeof path, "%s", v->path);
    cdn_fs_info_t fs = {
        .path = path,
        .operation = v->op,
        .pid = v->pid,
        .process_name = v->comm[0] ? v->comm : NULL,
        .errnum = v->err,
        .setting = violation_setting(v),
    };
    if (cdn_event_fs_violation(&ev, &fs, &err) == 0)
        cdn_audit_emit(a, ev);
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

/* Everything the host side keeps while the sandbox runs. */
typedef struct host_ctx {
    const cdn_plan_t *plan;
    pty_state_t *pt;
    cdn_run_result_t *res;
    cdn_error_t setup_err;
    bool have_setup_err;
    struct cdn_audit *audit;
    cdn_net_config_t net;
    cdn_broker_t *broker;
    pid_t pid1;
    int ctl;
    cdn_net_publish_t pub[CDN_NET_MAX_FORWARDS]; /* --publish listeners (host side) */
    size_t n_pub;
} host_ctx_t;

/* Broker thread: a published port got a connection; pid 1 makes the one
 * inside and answers with CDN_MSG_CONNECTED. */
static int ask_pid1(void *arg, uint64_t id, uint16_t port)
{
    host_ctx_t *h = arg;
    cdn_msg_t m;
    memset(&m, 0, sizeof m);
    m.type = CDN_MSG_CONNECT;
    m.u.connect.id = id;
    m.u.connect.port = port;
    return send(h->ctl, &m, sizeof m, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)sizeof m ? 0 : -1;
}

/* Fail closed before anything runs: a published port that is taken. */
static int publish_listen(const cdn_plan_t *plan, host_ctx_t *h, cdn_error_t *err)
{
    if (plan->n_publish > CDN_NET_MAX_FORWARDS)
        return cdn_error_usage(err, "--publish: at most %d ports", CDN_NET_MAX_FORWARDS);
    for (size_t i = 0; i < plan->n_publish; i++) {
        cdn_net_publish_t *p = &h->pub[h->n_pub];
        p->port = plan->publish[i].port;
        p->host_port = plan->publish[i].host_port;
        if (cdn_net_publish_listen(p->host_port, &p->fd, err) < 0)
            return -1;
        h->n_pub++;
    }
    return 0;
}

static void publish_close(host_ctx_t *h)
{
    for (size_t i = 0; i < h->n_pub; i++)
        close(h->pub[i].fd);
    h->n_pub = 0;
}

/* Runs on the broker's thread; the audit facade is thread-safe. */
static void on_broker_event(const cdn_broker_event_t *bev, void *arg)
{
    host_ctx_t *h = arg;
    if (!h->audit)
        return;
    cdn_net_info_t ni = {
        .host = bev->host && *bev->host ? bev->host : NULL,
        .address = bev->address && *bev->address ? bev->address : NULL,
        .port = bev->port ? bev->port : (bev->proto == CDN_NET_DNS ? 53 : 0),
        .protocol = bev->proto == CDN_NET_DNS ? "udp" : "tcp",
        .rule = bev->rule && *bev->rule ? bev->rule : cdn_net_proto_name(bev->proto),
        .bytes_in = bev->bytes_in,
        .bytes_out = bev->bytes_out,
        .duration_ns = (int64_t)bev->duration_us * 1000,
    };
    if (ni.port <= 0)
        ni.port = 1; /* the schema wants a port: unknown before the request was read */
    cdn_event_t *ev = NULL;
    cdn_error_t err;
    if (cdn_event_net(&ev, bev->allowed ? CDN_DECISION_ALLOW : CDN_DECISION_DENY, &ni, &err) < 0)
        return;
    char msg[600];
    snprintf(msg, sizeof msg, "%s%s%s", cdn_net_proto_name(bev->proto),
             bev->reason && *bev->reason ? ": " : "", bev->reason ? bev->reason : "");
    if (bev->setting && *bev->setting) {
        size_t l = strlen(msg);
        snprintf(msg + l, sizeof msg - l, " (to allow: %s)", bev->setting);
    }
    (void)cdn_event_set_message(ev, msg, &err);
    cdn_audit_emit(h->audit, ev);
}

static void start_broker(host_ctx_t *h, const cdn_msg_t *m, const int *fds, size_t nfds)
{
    cdn_net_fds_t nf;
    cdn_net_fds_init(&nf);
    int *slots[] = {&nf.http4,        &nf.http6,        &nf.socks4,   &nf.socks6,
                    &nf.transparent4, &nf.transparent6, &nf.dns_udp4, &nf.dns_tcp4};
    size_t k = 0;
    for (size_t i = 0; i < CDN_ARRAY_SIZE(slots) && k < nfds; i++)
        if (m->u.netfds.present & (1u << i))
            *slots[i] = fds[k++];
    for (size_t i = 0; i < m->u.netfds.n_local && i < CDN_NET_MAX_FORWARDS && k < nfds; i++) {
        nf.local_port[nf.n_local] = m->u.netfds.local_port[i];
        nf.local[nf.n_local++] = fds[k++];
    }
    while (k < nfds)
        close(fds[k++]);
    cdn_net_config_init(&h->net, h->plan->policy->settings);
    h->net.dns_upstream = h->plan->dns_upstream;
    h->net.publish = h->pub;
    h->net.n_publish = h->n_pub;
    h->net.publish_request = ask_pid1;
    h->net.publish_ctx = h;
    cdn_error_t err;
    if (h->broker || cdn_broker_start(&h->net, &nf, on_broker_event, h, &h->broker, &err) < 0) {
        /* Fail closed: without its broker the sandbox must not run at all. */
        if (!h->broker) {
            h->setup_err = err;
            cdn_error_wrap(&h->setup_err, "starting the egress broker");
            h->have_setup_err = true;
        }
        kill(h->pid1, SIGKILL);
    }
    cdn_net_fds_close(&nf); /* the broker keeps its own copies */
}

static void handle_msg(host_ctx_t *h, const cdn_msg_t *m, int *fds, size_t nfds)
{
    if (m->type == CDN_MSG_PTY && nfds == 1 && h->pt->master < 0) {
        h->pt->master = fds[0];
        return;
    }
    if (m->type == CDN_MSG_NETFDS) {
        start_broker(h, m, fds, nfds);
        return;
    }
    if (m->type == CDN_MSG_CONNECTED) {
        int fd = nfds ? fds[0] : -1;
        for (size_t i = 1; i < nfds; i++)
            close(fds[i]);
        if (h->broker)
            cdn_broker_publish_ready(h->broker, m->u.connect.id, fd, m->u.connect.errnum);
        else if (fd >= 0)
            close(fd);
        return;
    }
    for (size_t i = 0; i < nfds; i++)
        close(fds[i]);
    cdn_run_result_t *res = h->res;
    cdn_error_t *setup_err = &h->setup_err;
    bool *have_setup_err = &h->have_setup_err;
    struct cdn_audit *audit = h->audit;
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
        emit_violation(audit, &m->u.violation);
        break;
    }
}

/* Returns false once the other end is closed (pid 1 is gone). */
static bool drain_ctl(int ctl, host_ctx_t *h)
{
    for (;;) {
        cdn_msg_t m;
        int fds[CDN_MSG_MAX_FDS];
        size_t nfds = CDN_MSG_MAX_FDS;
        ssize_t n = cdn_recv_fds(ctl, &m, sizeof m, fds, &nfds, MSG_DONTWAIT);
        if (n == 0)
            return false;
        if (n < 0)
            return errno == EAGAIN || errno == EINTR;
        if ((size_t)n == sizeof m) {
            handle_msg(h, &m, fds, nfds);
        } else {
            for (size_t i = 0; i < nfds; i++)
                close(fds[i]);
        }
    }
}

int cdn_sandbox_run(const cdn_plan_t *plan, const cdn_run_opts_t *opts, cdn_run_result_t *res,
                    cdn_error_t *err)
{
    memset(res, 0, sizeof *res);
    if (plan->argv.n == 0)
        return cdn_error_usage(err, "no command to run");

    host_ctx_t h = {.plan = plan, .res = res, .audit = opts->audit};
    if (publish_listen(plan, &h, err) < 0) {
        publish_close(&h);
        return -1;
    }
    pty_state_t pt = {.master = -1};
    cdn_tty_setup_t ts;
    bool use_pty = !opts->force_no_pty && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    if (use_pty)
        pty_prepare(&pt, &ts);

    int ctl[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0) {
        pty_restore(&pt);
        publish_close(&h);
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
        publish_close(&h);
        return -1;
    }
    if (pid == 0) {
        close(ctl[0]);
        publish_close(&h); /* host-side sockets: never inside */
        if (sfd >= 0)
            close(sfd);
        sigprocmask(SIG_SETMASK, &oldmask, NULL);
        cdn_sandbox_init(plan, ctl[1], use_pty ? &ts : NULL);
    }
    close(ctl[1]);
    struct timespec t_start;
    clock_gettime(CLOCK_MONOTONIC, &t_start);
    if (opts->audit) {
        cdn_event_t *ev = NULL;
        cdn_error_t e2;
        const char *sh_argv[] = {"/bin/sh", "-c", plan->argv.v[0], NULL};
        if (cdn_event_process_start(&ev, plan->use_shell ? sh_argv
                                                         : (const char *const *)plan->argv.v,
                                    pid, &e2) == 0)
            cdn_audit_emit(opts->audit, ev);
    }

    h.pt = &pt;
    h.pid1 = pid;
    h.ctl = ctl[0];
    int status = -1;
    /* Reads of hidden paths never reach the supervisor; the kernel's own
     * Landlock audit records do, for a reader with CAP_AUDIT_READ (root).
     * Observation only: without it nothing is less contained. */
    cdn_landlock_audit_t *llr = NULL;
    if (opts->audit && geteuid() == 0) {
        cdn_error_t e2;
        if (cdn_landlock_audit_open(false, &llr, &e2) == 0 &&
            cdn_landlock_audit_watch(llr, pid) < 0) {
            cdn_landlock_audit_close(llr, NULL);
            llr = NULL;
        }
    }
    bool stdin_open = use_pty, master_open = true, ctl_open = true;
    for (;;) {
        struct pollfd pfd[5];
        nfds_t np = 0;
        pfd[np++] = (struct pollfd){sfd, POLLIN, 0};
        pfd[np++] = (struct pollfd){ctl_open ? ctl[0] : -1, POLLIN, 0};
        pfd[2].revents = pfd[3].revents = 0;
        if (pt.master >= 0 && master_open) {
            pfd[np++] = (struct pollfd){pt.master, POLLIN, 0};
            if (stdin_open)
                pfd[np++] = (struct pollfd){STDIN_FILENO, POLLIN, 0};
        }
        nfds_t ll_idx = np;
        if (llr)
            pfd[np++] = (struct pollfd){cdn_landlock_audit_fd(llr), POLLIN, 0};
        if (poll(pfd, np, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pfd[1].revents & (POLLIN | POLLHUP)) {
            ctl_open = drain_ctl(ctl[0], &h);
            if (pfd[0].revents == 0)
                continue; /* the fd set may have changed */
        }
        if (llr && (pfd[ll_idx].revents & POLLIN)) {
            cdn_error_t e2;
            (void)cdn_landlock_audit_read(llr, opts->audit, &e2);
        }
        if (np > 2 && ll_idx != 2 && (pfd[2].revents & (POLLIN | POLLHUP)))
            master_open = copy_once(pt.master, STDOUT_FILENO); /* EIO: every slave closed */
        if (np > 3 && ll_idx != 3 && (pfd[3].revents & (POLLIN | POLLHUP)))
            if (!copy_once(STDIN_FILENO, pt.master))
                stdin_open = false;
        if (pfd[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) != (ssize_t)sizeof si)
                continue;
            int sig = (int)si.ssi_signo;
            if (sig == SIGCHLD) {
                int st;
                struct rusage ru;
                if (wait4(pid, &st, WNOHANG, &ru) == pid) {
                    status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                    res->rusage = ru;
                    break;
                }
            } else if (sig == SIGWINCH && pt.master >= 0) {
                struct winsize ws;
                if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
                    ioctl(pt.master, TIOCSWINSZ, &ws);
            } else if (sig != SIGPIPE) {
                kill(pid, sig);
            }
        }
    }
    if (pt.master >= 0) {
        while (copy_once(pt.master, STDOUT_FILENO)) {
            struct pollfd p = {pt.master, POLLIN, 0};
            if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN))
                break;
        }
        close(pt.master);
    }
    pty_restore(&pt);
    (void)drain_ctl(ctl[0], &h);
    /* Before ctl[0] closes: the broker thread sends on it. */
    cdn_broker_stop(h.broker); /* every process of the sandbox is gone */
    h.broker = NULL;
    publish_close(&h);
    close(ctl[0]);
    if (sfd >= 0)
        close(sfd);
    sigprocmask(SIG_SETMASK, &oldmask, NULL);
    if (llr) {
        cdn_error_t e2;
        (void)cdn_landlock_audit_read(llr, opts->audit, &e2); /* what arrived last */
        cdn_landlock_audit_close(llr, opts->audit);
    }
    if (h.have_setup_err) {
        *err = h.setup_err;
        return -1;
    }
    if (status < 0)
        return cdn_error(err, errno, "waiting for the sandbox");
    res->exit_status = status;
    struct timespec t_end;
    clock_gettime(CLOCK_MONOTONIC, &t_end);
    res->duration_ns = (int64_t)(t_end.tv_sec - t_start.tv_sec) * 1000000000 +
                       (t_end.tv_nsec - t_start.tv_nsec);
    if (opts->audit) {
        /* pid 1 exits with the command's status, or 128+N for signal N. */
        cdn_event_t *ev = NULL;
        cdn_error_t e2;
        int code = status > 128 && status < 128 + 65 ? -1 : status;
        int sig = status > 128 && status < 128 + 65 ? status - 128 : 0;
        if (cdn_event_process_exit(&ev, pid, code, sig, res->duration_ns, &res->rusage, &e2) == 0)
            cdn_audit_emit(opts->audit, ev);
    }
    return 0;
}

void cdn_run_result_free(cdn_run_result_t *res)
{
    free(res->violations);
    res->violations = NULL;
    res->n_violations = 0;
}
