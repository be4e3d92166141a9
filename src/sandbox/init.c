/* The sandbox's pid 1.  Sets the sandbox up as a straight list of steps,
 * starts the command as pid 2, then stays as a small, capability-less,
 * non-dumpable init: it reaps orphans, forwards signals to the command's
 * process group, serves the protected-path supervisor, and exits with the
 * command's status -- which ends every other process of the namespace
 * before the host side's waitpid() returns. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "landlock/landlock.h"
#include "net/net.h"
#include "sandbox/hidden_fuse.h"
#include "sandbox/mounts.h"
#include "sandbox/process.h"
#include "sandbox/run.h"
#include "sandbox/supervisor.h"
#include "seccomp/seccomp.h"
#include "util/cleanup.h"
#include "util/fdpass.h"

static int g_ctl = -1;

static _Noreturn void fail(const cdn_error_t *err, int status)
{
    cdn_msg_t m;
    memset(&m, 0, sizeof m);
    m.type = CDN_MSG_ERROR;
    m.u.error = *err;
    (void)send(g_ctl, &m, sizeof m, MSG_NOSIGNAL);
    _exit(status);
}

static int send_fd(int sock, int fd)
{
    return cdn_send_fds(sock, "F", 1, &fd, 1);
}

static int recv_fd(int sock)
{
    char dummy;
    int fd = -1;
    size_t n = 1;
    if (cdn_recv_fds(sock, &dummy, 1, &fd, &n, 0) <= 0 || n != 1)
        return -1;
    return fd;
}

/* pid 2: the command.  Errors go back through `errpipe` (close-on-exec, so
 * a successful exec reads as EOF on the other side). */
static _Noreturn void exec_command(const cdn_plan_t *plan, int tty_fd, int ruleset, int fdsock,
                                   int errpipe, const sigset_t *oldmask)
{
    cdn_error_t err;
    cdn_error_clear(&err);
    int e = 0;
    const char *what = "setting up the command";

    sigprocmask(SIG_SETMASK, oldmask, NULL);
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            signal(s, SIG_DFL);
    if (setsid() < 0) {
        e = errno, what = "setsid";
        goto fail;
    }
    if (tty_fd >= 0) {
        if (ioctl(tty_fd, TIOCSCTTY, 0) < 0) {
            e = errno, what = "taking the terminal";
            goto fail;
        }
        dup2(tty_fd, 0);
        dup2(tty_fd, 1);
        if (isatty(2))
            dup2(tty_fd, 2);
        if (tty_fd > 2)
            close(tty_fd);
    }
    if (chdir(plan->cwd) < 0 && chdir(plan->policy->workspace) < 0) {
        e = errno, what = "entering the working directory";
        goto fail;
    }
    /* A second Landlock layer: the command's domain nests inside pid 1's,
     * so it can neither ptrace nor signal pid 1. */
    if (ruleset >= 0 && cdn_landlock_restrict(ruleset, plan->landlock.abi, &err) < 0)
        goto fail_err;
    if (ruleset >= 0)
        close(ruleset);
    struct rlimit nocore = {0, 0};
    if (setrlimit(RLIMIT_CORE, &nocore) < 0) {
        e = errno, what = "turning core dumps off";
        goto fail;
    }
    if (cdn_caps_drop_all(&err) < 0)
        goto fail_err;
    cdn_seccomp_opts_t so = {.allow_nested_userns = plan->allow_nested_userns, .notify = true};
    int nfd = -1;
    if (cdn_seccomp_install(&so, &nfd, &err) < 0)
        goto fail_err;
    if (send_fd(fdsock, nfd) < 0) {
        e = errno, what = "handing the notification listener to pid 1";
        goto fail;
    }
    close(nfd);
    close(fdsock);
    syscall(SYS_close_range, 3, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */);

    const char *file = plan->use_shell ? "/bin/sh" : plan->argv.v[0];
    char *const *argv = plan->argv.v;
    char sh[] = "sh", dash_c[] = "-c";
    char *shargv[] = {sh, dash_c, plan->argv.v[0], NULL};
    if (plan->use_shell)
        argv = shargv;
    execvpe(file, argv, plan->env.v);
    e = errno;
    what = file;
fail:
    (void)!write(errpipe, &e, sizeof e);
    (void)!write(errpipe, what, strlen(what));
    _exit(127);
fail_err:
    e = err.errnum ? err.errnum : EPERM;
    (void)!write(errpipe, &e, sizeof e);
    (void)!write(errpipe, err.msg, strlen(err.msg));
    _exit(127);
}

static int send_msg_fds(int ctl_fd, const cdn_msg_t *m, const int *fds, size_t n)
{
    return cdn_send_fds(ctl_fd, m, sizeof *m, fds, n);
}

/* The listening sockets go to the host side, which serves them; this
 * namespace keeps none of them. */
static int send_netfds(int ctl_fd, cdn_net_fds_t *nf, cdn_error_t *err)
{
    int *slots[] = {&nf->http4,        &nf->http6,        &nf->socks4,   &nf->socks6,
                    &nf->transparent4, &nf->transparent6, &nf->dns_udp4, &nf->dns_tcp4};
    int fds[CDN_MSG_MAX_FDS];
    size_t n = 0;
    cdn_msg_t m;
    memset(&m, 0, sizeof m);
    m.type = CDN_MSG_NETFDS;
    for (size_t i = 0; i < CDN_ARRAY_SIZE(slots); i++)
        if (*slots[i] >= 0) {
            m.u.netfds.present |= 1u << i;
            fds[n++] = *slots[i];
        }
    for (size_t i = 0; i < nf->n_local; i++) {
        m.u.netfds.local_port[i] = nf->local_port[i];
        fds[n++] = nf->local[i];
    }
    m.u.netfds.n_local = (unsigned)nf->n_local;
    int r = send_msg_fds(ctl_fd, &m, fds, n);
    int e = errno;
    cdn_net_fds_close(nf);
    if (r < 0)
        return cdn_error(err, e, "handing the network sockets to the host side");
    return 0;
}

/* The sandbox's only way out: lo, a dead-end default route, nftables rules
 * sending everything to the broker's sockets, /etc/resolv.conf naming the
 * broker's resolver.  The listening sockets go to the host side, which
 * serves them; this namespace keeps none of them. */
static int setup_network(const cdn_plan_t *plan, int ctl_fd, cdn_error_t *err)
{
    cdn_net_config_t nc;
    cdn_net_fds_t nf;
    cdn_net_config_init(&nc, plan->policy->settings);
    cdn_net_fds_init(&nf);
    if (cdn_net_sandbox_setup(&nc, &nf, err) < 0)
        return cdn_error_wrap(err, "setting up the sandbox's network");

    /* resolv.conf: written in the private /tmp, bound read-only where the
     * sandbox looks for it, then unlinked so only the read-only view stays. */
    const char *conf = cdn_net_resolv_conf();
    static const char tmpname[] = "/tmp/.cordon-resolv.conf";
    int fd = open(tmpname, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0 || write(fd, conf, strlen(conf)) != (ssize_t)strlen(conf)) {
        cdn_net_fds_close(&nf);
        return cdn_error(err, errno, "writing the sandbox's resolv.conf");
    }
    close(fd);
    char target[4096];
    if (!realpath("/etc/resolv.conf", target)) {
        /* A link into /run (systemd-resolved), now an empty private tmpfs:
         * make the file it points to. */
        ssize_t l = readlink("/etc/resolv.conf", target, sizeof target - 1);
        snprintf(target + (l > 0 ? l : 0), sizeof target - (size_t)(l > 0 ? l : 0), "%s",
                 l > 0 ? "" : "/etc/resolv.conf");
        if (target[0] != '/') {
            char rel[4096];
            snprintf(rel, sizeof rel, "/etc/%s", target);
            snprintf(target, sizeof target, "%s", rel);
        }
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", target);
        for (char *c = dir + 1; (c = strchr(c, '/')); c++) {
            *c = '\0';
            mkdir(dir, 0755);
            *c = '/';
        }
        int t = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (t >= 0)
            close(t);
    }
    if (mount(tmpname, target, NULL, MS_BIND, NULL) < 0 ||
        mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV,
              NULL) < 0) {
        unlink(tmpname);
        cdn_net_fds_close(&nf);
        return cdn_error(err, errno, "mounting the sandbox's resolv.conf on %s", target);
    }
    unlink(tmpname);
    return send_netfds(ctl_fd, &nf, err);
}

/* No "network" object: loopback only, plus the forwarders' listeners when
 * there are any (allowLocalPorts, --publish), which make the host side
 * start the broker with nothing but forwarders. */
static int setup_loopback(const cdn_plan_t *plan, int ctl_fd, cdn_error_t *err)
{
    if (cdn_net_loopback_up(err) < 0)
        return -1;
    cdn_net_config_t nc;
    cdn_net_fds_t nf;
    cdn_net_config_init(&nc, plan->policy->settings);
    cdn_net_fds_init(&nf);
    if (nc.n_local_ports == 0 && plan->n_publish == 0)
        return 0;
    if (cdn_net_forward_listeners(&nc, &nf, err) < 0) {
        cdn_net_fds_close(&nf);
        return cdn_error_wrap(err, "setting up the sandbox's network");
    }
    return send_netfds(ctl_fd, &nf, err);
}

/* A published port's connection, made for the host side.  Loopback
 * connects finish at once or are refused; the short wait only covers a
 * listener whose backlog is full, so pid 1 never stalls for long. */
static void serve_connect(const cdn_plan_t *plan, int ctl_fd, const cdn_msg_t *req)
{
    cdn_msg_t m;
    memset(&m, 0, sizeof m);
    m.type = CDN_MSG_CONNECTED;
    m.u.connect = req->u.connect;
    int e = EPERM, fd = -1;
    for (size_t i = 0; i < plan->n_publish; i++)
        if (plan->publish[i].port == req->u.connect.port)
            e = 0;
    if (!e && (fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
        e = errno;
    if (fd >= 0) {
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(req->u.connect.port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0 && errno != EINPROGRESS) {
            e = errno;
        } else {
            struct pollfd p = {fd, POLLOUT, 0};
            socklen_t l = sizeof e;
            if (poll(&p, 1, 200) <= 0)
                e = ETIMEDOUT;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0)
                e = errno;
        }
        if (e) {
            close(fd);
            fd = -1;
        }
    }
    m.u.connect.errnum = e;
    (void)send_msg_fds(ctl_fd, &m, &fd, fd >= 0 ? 1 : 0);
    if (fd >= 0)
        close(fd);
}

/* Allocate the command's terminal inside, and hand its master to the host
 * side.  Returns the slave fd. */
static int open_pty(const cdn_tty_setup_t *tty, int ctl_fd, cdn_error_t *err)
{
    int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || unlockpt(master) < 0)
        return cdn_error(err, errno, "allocating a pseudo-terminal inside the sandbox");
    char name[64];
    if (ptsname_r(master, name, sizeof name) != 0)
        return cdn_error(err, errno, "naming the sandbox's pseudo-terminal");
    int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0)
        return cdn_error(err, errno, "opening %s", name);
    if (tty->have_termios)
        tcsetattr(slave, TCSANOW, &tty->termios);
    if (tty->have_winsize)
        ioctl(slave, TIOCSWINSZ, &tty->winsize);
    cdn_msg_t m;
    memset(&m, 0, sizeof m);
    m.type = CDN_MSG_PTY;
    if (send_msg_fds(ctl_fd, &m, &master, 1) < 0)
        return cdn_error(err, errno, "handing the terminal to the host side");
    close(master);
    return slave;
}

_Noreturn void cdn_sandbox_init(const cdn_plan_t *plan, int ctl_fd, const cdn_tty_setup_t *tty)
{
    int tty_fd = -1;
    cdn_error_t err;
    cdn_error_clear(&err);
    g_ctl = ctl_fd;
    const cdn_policy_t *pol = plan->policy;

    /* The host side owns our lifetime. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);

    if (cdn_userns_map_self(pol->uid, pol->gid, &err) < 0) {
        cdn_error_wrap(&err, "mapping the user namespace");
        fail(&err, 125);
    }
    /* The observer's server thread starts before anything here can touch
     * its mounts: pid 1 itself looks at hidden paths (Landlock's walk, the
     * supervisor's path resolution) and must never wait on itself.  Static:
     * the thread uses it until pid 1 exits. */
    static cdn_hidden_fuse_t hf;
    cdn_hf_init(&hf, ctl_fd, plan->env.v);
    if (cdn_mounts_apply(plan, &hf, &err) < 0) {
        cdn_error_wrap(&err, "building the sandbox's filesystem");
        fail(&err, 125);
    }
    if (plan->net == CDN_NET_BROKER ? setup_network(plan, ctl_fd, &err) < 0
                                    : setup_loopback(plan, ctl_fd, &err) < 0)
        fail(&err, 125);
    if (tty && (tty_fd = open_pty(tty, ctl_fd, &err)) < 0)
        fail(&err, 125);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        cdn_error(&err, errno, "setting no_new_privs");
        fail(&err, 125);
    }
    int ruleset = -1;
    if (plan->landlock.abi > 0 && (cdn_landlock_build(&plan->landlock, &ruleset, &err) < 0 ||
                                   cdn_hf_landlock_grant(&hf, ruleset, &err) < 0 ||
                                   cdn_landlock_restrict(ruleset, plan->landlock.abi, &err) < 0)) {
        cdn_error_wrap(&err, "applying Landlock");
        fail(&err, 125);
    }

    sigset_t mask, oldmask;
    sigemptyset(&mask);
    static const int fwd[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH,
                              SIGCONT, SIGCHLD};
    for (size_t i = 0; i < CDN_ARRAY_SIZE(fwd); i++)
        sigaddset(&mask, fwd[i]);
    sigprocmask(SIG_BLOCK, &mask, &oldmask);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    if (sfd < 0) {
        cdn_error(&err, errno, "signalfd in pid 1");
        fail(&err, 125);
    }

    int fdsock[2], errpipe[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fdsock) < 0 ||
        pipe2(errpipe, O_CLOEXEC) < 0) {
        cdn_error(&err, errno, "creating the pid 1 channels");
        fail(&err, 125);
    }
    pid_t cmd = fork();
    if (cmd < 0) {
        cdn_error(&err, errno, "starting the command");
        fail(&err, 125);
    }
    if (cmd == 0) {
        close(fdsock[0]);
        close(errpipe[0]);
        close(sfd);
        close(ctl_fd);
        exec_command(plan, tty_fd, ruleset, fdsock[1], errpipe[1], &oldmask);
    }
    if (ruleset >= 0)
        close(ruleset);
    close(fdsock[1]);
    close(errpipe[1]);

    /* pid 1 keeps no power the command lacks: it performs the supervisor's
     * emulated calls on the command's behalf. */
    umask(0);
    if (cdn_caps_drop_all(&err) < 0)
        fail(&err, 125);
    prctl(PR_SET_DUMPABLE, 0);

    cdn_supervisor_t sup;
    if (cdn_supervisor_init(&sup, plan, ctl_fd, tty_fd, &err) < 0)
        fail(&err, 125);
    sup.notify_fd = recv_fd(fdsock[0]);
    close(fdsock[0]);

    int e = 0;
    char what[256] = "";
    ssize_t n = read(errpipe[0], &e, sizeof e);
    if (n == (ssize_t)sizeof e) {
        ssize_t m = read(errpipe[0], what, sizeof what - 1);
        what[m > 0 ? m : 0] = '\0';
        cdn_msg_t msg;
        memset(&msg, 0, sizeof msg);
        msg.type = CDN_MSG_EXEC_FAILED;
        msg.u.exec.errnum = e;
        snprintf(msg.u.exec.what, sizeof msg.u.exec.what, "%s", what);
        (void)send(ctl_fd, &msg, sizeof msg, MSG_NOSIGNAL);
        waitpid(cmd, NULL, 0);
        _exit(e == ENOENT ? 127 : 126);
    }
    close(errpipe[0]);

    int status = 0;
    /* The host side asks for published ports' connections on ctl_fd. */
    bool serve = plan->n_publish > 0;
    for (;;) {
        struct pollfd pfd[3] = {{sfd, POLLIN, 0}, {sup.notify_fd, POLLIN, 0},
                                {serve ? ctl_fd : -1, POLLIN, 0}};
        int np = sup.notify_fd >= 0 ? 2 : 1;
        if (poll(pfd, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pfd[2].revents) {
            cdn_msg_t req;
            ssize_t rn = recv(ctl_fd, &req, sizeof req, MSG_DONTWAIT);
            if (rn == (ssize_t)sizeof req && req.type == CDN_MSG_CONNECT)
                serve_connect(plan, ctl_fd, &req);
            else if (rn == 0 || (rn < 0 && errno != EAGAIN && errno != EINTR))
                serve = false;
        }
        if (np == 2 && (pfd[1].revents & POLLIN)) {
            if (cdn_supervisor_handle(&sup, &err) < 0)
                fail(&err, 125); /* fail closed: a dead supervisor stops everything */
        } else if (np == 2 && (pfd[1].revents & (POLLHUP | POLLERR))) {
            close(sup.notify_fd);
            sup.notify_fd = -1;
        }
        if (pfd[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) != (ssize_t)sizeof si)
                continue;
            if (si.ssi_signo != SIGCHLD) {
                if (kill(-cmd, (int)si.ssi_signo) < 0)
                    kill(cmd, (int)si.ssi_signo);
                continue;
            }
            pid_t p;
            int st;
            while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
                if (p == cmd) {
                    status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                    _exit(status);
                }
            }
        }
    }
    _exit(125);
}
