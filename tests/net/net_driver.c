/* Test driver for the egress broker: runs the sandbox side in a fresh
 * network (and mount) namespace and the broker in the caller's namespace,
 * exactly as `cordon run` wires them, then runs a command inside.
 *
 *   net_driver [--allow D]... [--deny D]... [--deny-addr CIDR]... [--max-conn N]
 *              [--upstream ADDR] [--parent-proxy URL] [--events FILE] -- CMD ARGS...
 *
 * Events are written to FILE as one line each:
 *   allow|deny PROTO HOST ADDRESS PORT out=N in=N rule=...
 * Exit status: the command's. Needs root (it unshares a netns and mounts). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/net.h"

static FILE *events;
static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_event(const cdn_broker_event_t *ev, void *ctx)
{
    (void)ctx;
    if (!events)
        return;
    pthread_mutex_lock(&ev_lock);
    fprintf(events, "%s %s %s %s %u out=%llu in=%llu us=%llu rule=%s | setting=%s | reason=%s\n",
            ev->allowed ? "allow" : "deny", cdn_net_proto_name(ev->proto),
            ev->host[0] ? ev->host : "-", ev->address[0] ? ev->address : "-", ev->port,
            (unsigned long long)ev->bytes_out, (unsigned long long)ev->bytes_in,
            (unsigned long long)ev->duration_us, ev->rule, ev->setting, ev->reason);
    fflush(events);
    pthread_mutex_unlock(&ev_lock);
}

static int send_fds(int sock, const int *fds, size_t n)
{
    char dummy = 'x';
    struct iovec iov = {.iov_base = &dummy, .iov_len = 1};
    union {
        char buf[CMSG_SPACE(sizeof(int) * 8)];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                         .msg_controllen = CMSG_SPACE(sizeof(int) * n)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * n);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
    return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fds(int sock, int *fds, size_t n)
{
    char dummy;
    struct iovec iov = {.iov_base = &dummy, .iov_len = 1};
    union {
        char buf[CMSG_SPACE(sizeof(int) * 8)];
        struct cmsghdr align;
    } u;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                         .msg_controllen = sizeof u.buf};
    if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
        return -1;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int) * n))
        return -1;
    memcpy(fds, CMSG_DATA(c), sizeof(int) * n);
    return 0;
}

static int child(int sock, const cdn_net_config_t *cfg, char **argv)
{
    cdn_error_t err;
    if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0) {
        perror("net_driver: unshare");
        return 125;
    }
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        perror("net_driver: make / private");
        return 125;
    }
    cdn_net_fds_t fds;
    if (cdn_net_sandbox_setup(cfg, &fds, &err) < 0) {
        cdn_error_print(&err, stderr);
        return 125;
    }
    /* resolv.conf: what the lead's mount code will do inside the sandbox. */
    char path[] = "/tmp/cdn-resolv-XXXXXX";
    int rfd = mkstemp(path);
    if (rfd < 0 || write(rfd, cdn_net_resolv_conf(), strlen(cdn_net_resolv_conf())) < 0 ||
        mount(path, "/etc/resolv.conf", NULL, MS_BIND, NULL) < 0) {
        perror("net_driver: resolv.conf");
        return 125;
    }
    close(rfd);
    unlink(path);
    int all[8] = {fds.http4, fds.http6, fds.socks4, fds.socks6,
                  fds.transparent4, fds.transparent6, fds.dns_udp4, fds.dns_tcp4};
    if (send_fds(sock, all, 8) < 0) {
        perror("net_driver: send fds");
        return 125;
    }
    /* The sandbox keeps no listening sockets open: the broker owns them. */
    cdn_net_fds_close(&fds);
    char go;
    if (read(sock, &go, 1) != 1 || go != 'g') {
        fprintf(stderr, "net_driver: broker did not start\n");
        return 125;
    }
    close(sock);
    cdn_strv_t env = {0};
    for (char **e = __environ; *e; e++)
        cdn_strv_add(&env, *e, &err);
    if (!getenv("CDN_NO_PROXY_ENV") && cdn_net_proxy_env(cfg, &env, &err) < 0) {
        cdn_error_print(&err, stderr);
        return 125;
    }
    execvpe(argv[0], argv, env.v);
    perror("net_driver: exec");
    return 127;
}

int main(int argc, char **argv)
{
    cdn_settings_t s;
    memset(&s, 0, sizeof s);
    cdn_error_t err;
    const char *upstream = NULL, *evpath = NULL;
    unsigned max_conn = 0;
    int i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "net_driver: %s needs a value\n", argv[i]);
            return 2;
        }
        const char *v = argv[++i];
        if (strcmp(argv[i - 1], "--allow") == 0)
            cdn_strv_add(&s.network.allowed_domains, v, &err);
        else if (strcmp(argv[i - 1], "--deny") == 0)
            cdn_strv_add(&s.network.denied_domains, v, &err);
        else if (strcmp(argv[i - 1], "--deny-addr") == 0)
            cdn_strv_add(&s.network.denied_resolved_addresses, v, &err);
        else if (strcmp(argv[i - 1], "--parent-proxy") == 0)
            s.network.parent_proxy.https = argv[i];
        else if (strcmp(argv[i - 1], "--upstream") == 0)
            upstream = v;
        else if (strcmp(argv[i - 1], "--events") == 0)
            evpath = v;
        else if (strcmp(argv[i - 1], "--max-conn") == 0)
            max_conn = (unsigned)atoi(v);
        else {
            fprintf(stderr, "net_driver: unknown option %s\n", argv[i - 1]);
            return 2;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "usage: net_driver [options] -- CMD ARGS...\n");
        return 2;
    }
    if (geteuid() != 0) {
        fprintf(stderr, "net_driver: needs root (network namespaces, mounts)\n");
        return 125;
    }
    if (evpath && !(events = fopen(evpath, "ae"))) {
        perror(evpath);
        return 125;
    }
    cdn_net_config_t cfg;
    cdn_net_config_init(&cfg, &s);
    cfg.dns_upstream = upstream;
    cfg.handshake_timeout_ms = 5000;
    if (max_conn)
        cfg.max_connections = max_conn;

    int sp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
        perror("socketpair");
        return 125;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 125;
    }
    if (pid == 0) {
        close(sp[0]);
        _exit(child(sp[1], &cfg, argv + i));
    }
    close(sp[1]);
    int all[8];
    cdn_net_fds_t fds;
    cdn_broker_t *b = NULL;
    if (recv_fds(sp[0], all, 8) < 0) {
        fprintf(stderr, "net_driver: sandbox setup failed\n");
        int st;
        waitpid(pid, &st, 0);
        return 125;
    }
    cdn_net_fds_init(&fds);
    int *slot[] = {&fds.http4,        &fds.http6,        &fds.socks4,   &fds.socks6,
                   &fds.transparent4, &fds.transparent6, &fds.dns_udp4, &fds.dns_tcp4};
    for (size_t k = 0; k < 8; k++)
        *slot[k] = all[k];
    if (cdn_broker_start(&cfg, &fds, on_event, NULL, &b, &err) < 0) {
        cdn_error_print(&err, stderr);
        kill(pid, SIGKILL);
        return 125;
    }
    cdn_net_fds_close(&fds); /* the broker holds its own copies */
    if (write(sp[0], "g", 1) != 1) {
        perror("net_driver: go");
        return 125;
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (getenv("CDN_DRIVER_REPORT_CONNS"))
        fprintf(stderr, "net_driver: %u connections open at exit\n", cdn_broker_connections(b));
    cdn_broker_stop(b);
    close(sp[0]);
    cdn_strv_free(&s.network.allowed_domains);
    cdn_strv_free(&s.network.denied_domains);
    cdn_strv_free(&s.network.denied_resolved_addresses);
    if (events)
        fclose(events);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
