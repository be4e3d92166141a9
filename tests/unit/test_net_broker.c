/* The broker on host loopback, without namespaces (so it runs unprivileged):
 * an HTTP proxy socket served by cdn_broker_start(), a tiny origin server,
 * CONNECT and absolute-URI requests allowed and denied, events counted. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/net.h"

static int listen_lo(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 16), 0);
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    *port = ntohs(a.sin_port);
    return fd;
}

/* Origin: answers every connection with one fixed response, then closes. */
static void *origin(void *arg)
{
    int lfd = *(int *)arg;
    for (;;) {
        int c = accept(lfd, NULL, NULL);
        if (c < 0)
            return NULL;
        char buf[4096];
        ssize_t n = read(c, buf, sizeof buf);
        (void)n;
        const char *r = "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        if (write(c, r, strlen(r)) < 0)
            perror("write");
        close(c);
    }
}

static int connect_lo(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static size_t read_all(int fd, char *buf, size_t sz)
{
    size_t got = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (got + 1 < sz && poll(&p, 1, 5000) == 1) {
        ssize_t n = read(fd, buf + got, sz - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    return got;
}

static int n_allow, n_deny, n_accept_failed;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static void on_event(const cdn_broker_event_t *ev, void *ctx)
{
    (void)ctx;
    pthread_mutex_lock(&mu);
    if (ev->allowed)
        n_allow++;
    else if (strncmp(ev->rule, "accept failed", 13) == 0)
        n_accept_failed++;
    else
        n_deny++;
    pthread_mutex_unlock(&mu);
}

/* Out of descriptors: the broker pauses accepting, says so, and takes the
 * waiting connections once descriptors are back. */
static void test_emfile(void **state)
{
    (void)state;
    cdn_net_config_t cfg;
    cdn_net_config_init(&cfg, NULL);
    cfg.dns_upstream = "127.0.0.1:9";
    uint16_t pport;
    cdn_net_fds_t fds;
    cdn_net_fds_init(&fds);
    fds.http4 = listen_lo(&pport);
    cdn_broker_t *b = NULL;
    cdn_error_t err;
    assert_int_equal(cdn_broker_start(&cfg, &fds, on_event, NULL, &b, &err), 0);
    cdn_net_fds_close(&fds);
    enum { N = 6 };
    int cl[N];
    for (int i = 0; i < N; i++)
        cl[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct rlimit old, low;
    getrlimit(RLIMIT_NOFILE, &old);
    low = old;
    low.rlim_cur = (rlim_t)cl[N - 1] + 2; /* room for about one accept */
    setrlimit(RLIMIT_NOFILE, &low);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(pport),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    for (int i = 0; i < N; i++)
        assert_int_equal(connect(cl[i], (struct sockaddr *)&a, sizeof a), 0);
    for (int i = 0; i < 100 && !n_accept_failed; i++)
        usleep(10000);
    setrlimit(RLIMIT_NOFILE, &old);
    assert_true(n_accept_failed > 0);
    unsigned got = 0;
    for (int i = 0; i < 200 && (got = cdn_broker_connections(b)) < N; i++)
        usleep(10000);
    assert_int_equal(got, N);
    for (int i = 0; i < N; i++)
        close(cl[i]);
    cdn_broker_stop(b);
}

static void test_proxy_on_loopback(void **state)
{
    (void)state;
    uint16_t oport, pport;
    int ofd = listen_lo(&oport);
    pthread_t th;
    pthread_create(&th, NULL, origin, &ofd);
    pthread_detach(th);

    cdn_settings_t s;
    memset(&s, 0, sizeof s);
    cdn_error_t err;
    char allow[64];
    snprintf(allow, sizeof allow, "127.0.0.1:%u", oport);
    cdn_strv_add(&s.network.allowed_domains, allow, &err);
    uint16_t hport; /* a server that never accepts: connections wait in its backlog */
    int hfd = listen_lo(&hport);
    snprintf(allow, sizeof allow, "127.0.0.1:%u", hport);
    cdn_strv_add(&s.network.allowed_domains, allow, &err);
    cdn_net_config_t cfg;
    cdn_net_config_init(&cfg, &s);
    cfg.dns_upstream = "127.0.0.1:9"; /* never asked: only IP literals here */
    cdn_net_fds_t fds;
    cdn_net_fds_init(&fds);
    fds.http4 = listen_lo(&pport);
    cdn_broker_t *b = NULL;
    if (cdn_broker_start(&cfg, &fds, on_event, NULL, &b, &err) < 0) {
        cdn_error_print(&err, stderr);
        fail();
    }
    cdn_net_fds_close(&fds);

    char req[256], buf[4096];
    /* CONNECT to the listed address: tunnel, then the origin's answer. */
    int c = connect_lo(pport);
    snprintf(req, sizeof req, "CONNECT 127.0.0.1:%u HTTP/1.1\r\n\r\nGET / HTTP/1.0\r\n\r\n", oport);
    assert_int_equal(write(c, req, strlen(req)), (ssize_t)strlen(req));
    read_all(c, buf, sizeof buf);
    close(c);
    assert_non_null(strstr(buf, "HTTP/1.1 200 Connection established"));
    assert_non_null(strstr(buf, "hello"));

    /* Absolute URI to the listed address. */
    c = connect_lo(pport);
    snprintf(req, sizeof req, "GET http://127.0.0.1:%u/x HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n\r\n",
             oport, oport);
    assert_int_equal(write(c, req, strlen(req)), (ssize_t)strlen(req));
    read_all(c, buf, sizeof buf);
    close(c);
    assert_non_null(strstr(buf, "hello"));

    /* Another port of the same address: 403 naming the setting. */
    c = connect_lo(pport);
    snprintf(req, sizeof req, "CONNECT 127.0.0.1:%u HTTP/1.1\r\n\r\n", (unsigned)pport);
    assert_int_equal(write(c, req, strlen(req)), (ssize_t)strlen(req));
    read_all(c, buf, sizeof buf);
    close(c);
    assert_non_null(strstr(buf, "HTTP/1.1 403 Forbidden"));
    assert_non_null(strstr(buf, "is not allowed for \"127.0.0.1\"; allow-with=add \"127.0.0.1:"));

    /* Garbage: 502 with an explanation, no crash. */
    c = connect_lo(pport);
    assert_int_equal(write(c, "\x16\x03\x01\x00\x05hello", 10), 10);
    read_all(c, buf, sizeof buf);
    close(c);
    assert_non_null(strstr(buf, "HTTP/1.1 502"));

    for (int i = 0; i < 100 && cdn_broker_connections(b) > 0; i++)
        usleep(10000);
    assert_int_equal(cdn_broker_connections(b), 0);

    /* A tunnel still open (relaying) when the broker stops: torn down
     * cleanly, reported once. */
    c = connect_lo(pport);
    snprintf(req, sizeof req, "CONNECT 127.0.0.1:%u HTTP/1.1\r\n\r\n", hport);
    assert_int_equal(write(c, req, strlen(req)), (ssize_t)strlen(req));
    struct pollfd pf = {.fd = c, .events = POLLIN};
    assert_int_equal(poll(&pf, 1, 5000), 1);
    ssize_t n = read(c, buf, sizeof buf - 1);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_non_null(strstr(buf, " 200 "));
    assert_int_equal(write(c, "\x01\x02bin", 5), 5); /* not TLS, not HTTP: relayed */
    usleep(50000);
    assert_int_equal(cdn_broker_connections(b), 1);
    cdn_broker_stop(b);
    assert_int_equal(read_all(c, buf, sizeof buf), 0); /* closed by the stop */
    close(c);
    close(hfd);
    assert_int_equal(n_allow, 3);
    assert_int_equal(n_deny, 2);
    shutdown(ofd, SHUT_RDWR);
    cdn_strv_free(&s.network.allowed_domains);
}

static void test_env(void **state)
{
    (void)state;
    cdn_net_config_t cfg;
    cdn_net_config_init(&cfg, NULL);
    cdn_strv_t env = {0};
    cdn_error_t err;
    assert_int_equal(cdn_net_proxy_env(&cfg, &env, &err), 0);
    assert_true(cdn_strv_contains(&env, "HTTPS_PROXY=http://127.0.0.1:3128"));
    assert_true(cdn_strv_contains(&env, "https_proxy=http://127.0.0.1:3128"));
    assert_true(cdn_strv_contains(&env, "ALL_PROXY=socks5h://127.0.0.1:1080"));
    assert_true(cdn_strv_contains(&env, "NO_PROXY=localhost,127.0.0.1,::1"));
    assert_true(cdn_strv_contains(&env, "NODE_USE_ENV_PROXY=1"));
    assert_true(cdn_strv_contains(&env, "PIP_PROXY=http://127.0.0.1:3128"));
    bool jvm = false;
    for (size_t i = 0; i < env.n; i++)
        jvm |= strncmp(env.v[i], "JAVA_TOOL_OPTIONS=-Dhttp.proxyHost=127.0.0.1", 44) == 0;
    assert_true(jvm);
    assert_non_null(strstr(cdn_net_resolv_conf(), "nameserver 127.0.0.1\n"));
    cdn_strv_free(&env);
}

/* A port nobody listens on: bound, then closed. */
static uint16_t dead_port(void)
{
    uint16_t p;
    close(listen_lo(&p));
    return p;
}

/* Stands in for pid 1: connects on the broker thread and answers at once. */
static cdn_broker_t *fwd_broker;
static int fake_pid1(void *ctx, uint64_t id, uint16_t port)
{
    (void)ctx;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        int e = errno;
        close(fd);
        return cdn_broker_publish_ready(fwd_broker, id, -1, e);
    }
    return cdn_broker_publish_ready(fwd_broker, id, fd, 0);
}

static void wait_events(int allow, int deny)
{
    for (int i = 0; i < 300; i++) {
        pthread_mutex_lock(&mu);
        bool done = n_allow >= allow && n_deny >= deny;
        pthread_mutex_unlock(&mu);
        if (done)
            break;
        usleep(10000);
    }
    pthread_mutex_lock(&mu);
    assert_int_equal(n_allow, allow);
    assert_int_equal(n_deny, deny);
    pthread_mutex_unlock(&mu);
}

/* allowLocalPorts and --publish without proxies: no resolver, no upstream;
 * each connection relayed is one allow, each dead end one denial and a
 * closed client. */
static void test_forwarders(void **state)
{
    (void)state;
    uint16_t oport;
    int ofd = listen_lo(&oport);
    pthread_t th;
    pthread_create(&th, NULL, origin, &ofd);
    pthread_detach(th);
    uint16_t dead = dead_port();

    cdn_net_config_t cfg;
    cdn_net_config_init(&cfg, NULL);
    cfg.dns_upstream = "not an address"; /* proves no resolver is set up */
    cdn_net_fds_t fds;
    cdn_net_fds_init(&fds);
    uint16_t l_ok, l_dead, p_ok, p_dead;
    fds.local[0] = listen_lo(&l_ok);
    fds.local_port[0] = oport;
    fds.local[1] = listen_lo(&l_dead);
    fds.local_port[1] = dead;
    fds.n_local = 2;
    cdn_net_publish_t pub[2] = {{.fd = listen_lo(&p_ok), .port = oport},
                                {.fd = listen_lo(&p_dead), .port = dead}};
    cfg.publish = pub;
    cfg.n_publish = 2;
    cfg.publish_request = fake_pid1;
    pthread_mutex_lock(&mu);
    n_allow = n_deny = 0;
    pthread_mutex_unlock(&mu);
    cdn_error_t err;
    if (cdn_broker_start(&cfg, &fds, on_event, NULL, &fwd_broker, &err) < 0) {
        cdn_error_print(&err, stderr);
        fail();
    }
    cdn_net_fds_close(&fds);
    close(pub[0].fd);
    close(pub[1].fd);

    char buf[4096];
    const uint16_t ok_ports[] = {l_ok, p_ok};
    for (size_t i = 0; i < 2; i++) {
        int c = connect_lo(ok_ports[i]);
        assert_int_equal(write(c, "GET / HTTP/1.0\r\n\r\n", 18), 18);
        read_all(c, buf, sizeof buf);
        close(c);
        assert_non_null(strstr(buf, "hello"));
    }
    const uint16_t dead_ports[] = {l_dead, p_dead};
    for (size_t i = 0; i < 2; i++) {
        int c = connect_lo(dead_ports[i]);
        assert_int_equal(read_all(c, buf, sizeof buf), 0); /* closed, nothing said */
        close(c);
    }
    wait_events(2, 2);
    cdn_broker_stop(fwd_broker);
    fwd_broker = NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_env),
        cmocka_unit_test(test_proxy_on_loopback),
        cmocka_unit_test(test_emfile),
        cmocka_unit_test(test_forwarders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
