/* Host side of the egress broker: one libevent thread serving the listening
 * sockets that cdn_net_sandbox_setup() created inside the sandbox.  Accepted
 * connections live in the sandbox's namespace; outbound connections are made
 * from the host's.  Every connection is decided on a name (CONNECT/SOCKS
 * target, TLS SNI, HTTP Host) by the policy, its resolved address checked,
 * and the names it shows on the way must agree (no domain fronting). */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/thread.h>
#include <event2/util.h>

#include "net/broker_int.h"
#include "net/http_parse.h"
#include "net/socks5.h"
#include "net/splice_relay.h"
#include "net/tls_sni.h"
#include "util/thread.h"
#include "util/cleanup.h"

#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80
#endif
#define IP6T_SO_ORIGINAL_DST_ 80

#define RELAY_HIGH_WATER (256 * 1024)

enum kind { K_HTTP, K_SOCKS, K_TRANS, K_LOCAL, K_PUB };
enum state { ST_HANDSHAKE, ST_RESOLVING, ST_CONNECTING, ST_PARENT, ST_PEEK, ST_RELAY, ST_CLOSING };

typedef struct conn {
    struct cdn_broker *b;
    struct conn *prev, *next;
    enum kind kind;
    cdn_net_proto_t proto;
    enum state state;
    struct bufferevent *cli, *up;
    bool resolving, dead, socks_greeted, cli_eof, up_eof, reported, connected;
    bool is_tls_peeked;
    bool http_head;  /* transparent: c->req is a plain HTTP request to forward */
    bool via_parent; /* connected to the parent proxy, CONNECT not answered yet */
    char host[256];
    uint16_t port;
    char expect[256]; /* name that TLS SNI / HTTP Host inside the tunnel must show */
    struct sockaddr_storage dst; /* transparent: original destination */
    bool have_dst, dst_synthetic;
    char addr[INET6_ADDRSTRLEN + 8];
    cdn_http_req_t req; /* absolute-form request to rewrite */
    cdn_splice_t *sp;   /* set once relaying went zero-copy */
    cdn_net_verdict_t v;
    uint64_t out, in, t0;
    uint64_t pub_id; /* K_PUB: the request waiting for the sandbox's answer */
} conn_t;

uint64_t cdn_broker_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void cdn_broker_emit(struct cdn_broker *b, bool allowed, cdn_net_proto_t proto, const char *host,
                     const char *address, uint16_t port, const cdn_net_verdict_t *v,
                     uint64_t out, uint64_t in, uint64_t dur_us)
{
    if (!b->cb)
        return;
    cdn_broker_event_t ev = {
        .allowed = allowed, .proto = proto, .host = host ? host : "",
        .address = address ? address : "", .port = port,
        .rule = v ? v->rule : "", .setting = v ? v->setting : "", .reason = v ? v->reason : "",
        .bytes_out = out, .bytes_in = in, .duration_us = dur_us,
    };
    b->cb(&ev, b->cb_ctx);
}

/* ---- synthetic addresses ---- */

const char *cdn_broker_syn_name(struct cdn_broker *b, const struct sockaddr *sa)
{
    if (sa->sa_family != AF_INET)
        return NULL;
    uint32_t a = ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr);
    if (a <= CDN_SYN_BASE || a > CDN_SYN_BASE + b->n_syn)
        return NULL;
    return b->syn[a - CDN_SYN_BASE - 1].name;
}

uint32_t cdn_broker_syn_addr(struct cdn_broker *b, const char *name, cdn_syn_entry_t **ent)
{
    for (size_t i = 0; i < b->n_syn; i++)
        if (strcmp(b->syn[i].name, name) == 0) {
            *ent = &b->syn[i];
            return CDN_SYN_BASE + 1 + (uint32_t)i;
        }
    if (b->n_syn >= CDN_SYN_MAX)
        return 0;
    if (b->n_syn == b->cap_syn) {
        size_t cap = b->cap_syn ? b->cap_syn * 2 : 64;
        cdn_syn_entry_t *v = realloc(b->syn, cap * sizeof *v);
        if (!v)
            return 0;
        b->syn = v;
        b->cap_syn = cap;
    }
    char *dup = strdup(name);
    if (!dup)
        return 0;
    b->syn[b->n_syn] = (cdn_syn_entry_t){.name = dup};
    *ent = &b->syn[b->n_syn];
    return CDN_SYN_BASE + 1 + (uint32_t)b->n_syn++;
}

/* ---- connection lifetime ---- */

static void sa_to_str(const struct sockaddr *sa, char *buf, size_t sz)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, ip, sizeof ip);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, ip,
                  sizeof ip);
    snprintf(buf, sz, "%s", ip);
}

static uint16_t sa_port(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)(const void *)sa)->sin_port);
    if (sa->sa_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
    return 0;
}

static void conn_close(conn_t *c)
{
    if (c->dead)
        return;
    c->dead = true;
    if (c->sp) {
        uint64_t o, i;
        cdn_splice_counts(c->sp, &o, &i);
        c->out += o;
        c->in += i;
        cdn_splice_free(c->sp);
        c->sp = NULL;
    }
    if (c->connected && !c->reported)
        cdn_broker_emit(c->b, true, c->proto, c->host, c->addr, c->port, &c->v, c->out, c->in,
                        cdn_broker_now_us() - c->t0);
    c->reported = true;
    if (c->prev)
        c->prev->next = c->next;
    else
        c->b->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    atomic_fetch_sub(&c->b->nconn, 1);
    if (c->cli) {
        bufferevent_free(c->cli);
        c->cli = NULL;
    }
    if (c->up) {
        bufferevent_free(c->up);
        c->up = NULL;
    }
    /* A pending lookup still points at c: its callback frees it. */
    if (!c->resolving)
        free(c);
}

static void close_when_flushed_cb(struct bufferevent *bev, void *arg)
{
    conn_t *c = arg;
    if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        conn_close(c);
}

static void close_on_event_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    (void)what;
    conn_close(arg);
}

/* Stop reading, send what is queued to the client, then close. */
static void finish_after_flush(conn_t *c)
{
    c->state = ST_CLOSING;
    if (c->up) {
        bufferevent_free(c->up);
        c->up = NULL;
    }
    if (!c->cli) {
        conn_close(c);
        return;
    }
    bufferevent_disable(c->cli, EV_READ);
    bufferevent_setcb(c->cli, NULL, close_when_flushed_cb, close_on_event_cb, c);
    struct timeval tv = {.tv_sec = 5};
    bufferevent_set_timeouts(c->cli, NULL, &tv);
    bufferevent_enable(c->cli, EV_WRITE);
    if (evbuffer_get_length(bufferevent_get_output(c->cli)) == 0)
        conn_close(c);
}

static void header_safe(char *dst, size_t sz, const char *s)
{
    size_t i = 0;
    for (; s[i] && i + 1 < sz; i++)
        dst[i] = ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f) ? ' ' : s[i];
    dst[i] = '\0';
}

static void http_error(conn_t *c, int code, const char *status, const cdn_net_verdict_t *v,
                       const char *what)
{
    char rule[400], setting[400], body[2048];
    header_safe(rule, sizeof rule, v ? v->rule : what);
    header_safe(setting, sizeof setting, v ? v->setting : "");
    int n = snprintf(body, sizeof body, "cordon: %s %s:%u: %s\n%s%s%s%s%s",
                     code == 403 ? "denied" : "failed", c->host, c->port, v ? v->rule : what,
                     v && v->reason[0] ? v->reason : "", v && v->reason[0] ? "\n" : "",
                     v && v->setting[0] ? "to allow it: " : "", v ? v->setting : "",
                     v && v->setting[0] ? "\n" : "");
    if (n < 0 || (size_t)n >= sizeof body)
        n = (int)strlen(body);
    evbuffer_add_printf(bufferevent_get_output(c->cli),
                        "HTTP/1.1 %d %s\r\nX-Cordon-Denied: rule=%s%s%s\r\n"
                        "Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
                        "Content-Length: %d\r\n\r\n%s",
                        code, status, rule, setting[0] ? "; allow-with=" : "", setting, n, body);
}

/* A policy denial: one event, then the protocol's own way of saying no. */
static void deny(conn_t *c, const cdn_net_verdict_t *v)
{
    cdn_broker_emit(c->b, false, c->proto, c->host, c->addr, c->port, v, 0, 0,
                    cdn_broker_now_us() - c->t0);
    c->reported = true;
    c->connected = false;
    if (c->kind == K_SOCKS && c->state != ST_PEEK) {
        uint8_t rep[10] = {5, CDN_SOCKS_REP_NOT_ALLOWED, 0, 1, 0, 0, 0, 0, 0, 0};
        bufferevent_write(c->cli, rep, sizeof rep);
    } else if (c->kind == K_HTTP && c->state != ST_PEEK) {
        http_error(c, 403, "Forbidden", v, NULL);
    } else if (!c->is_tls_peeked) {
        /* Transparent or inside a tunnel: plain HTTP can still read a 403. */
        if (c->cli && evbuffer_get_length(bufferevent_get_input(c->cli)) > 0)
            http_error(c, 403, "Forbidden", v, NULL);
    }
    finish_after_flush(c);
}

static void fail(conn_t *c, const char *what, int socks_rep)
{
    cdn_net_verdict_t v = {0};
    snprintf(v.rule, sizeof v.rule, "%s", what);
    snprintf(v.reason, sizeof v.reason, "%s", what);
    cdn_broker_emit(c->b, false, c->proto, c->host, c->addr, c->port, &v, 0, 0,
                    cdn_broker_now_us() - c->t0);
    c->reported = true;
    c->connected = false;
    if (c->kind == K_SOCKS && c->state != ST_PEEK && c->socks_greeted) {
        uint8_t rep[10] = {5, (uint8_t)socks_rep, 0, 1, 0, 0, 0, 0, 0, 0};
        bufferevent_write(c->cli, rep, sizeof rep);
    } else if (c->kind == K_HTTP && c->state != ST_PEEK) {
        http_error(c, 502, "Bad Gateway", NULL, what);
    }
    finish_after_flush(c);
}

/* ---- relaying ---- */

static void relay(conn_t *c, struct bufferevent *from, struct bufferevent *to)
{
    struct evbuffer *in = bufferevent_get_input(from);
    size_t n = evbuffer_get_length(in);
    if (!n)
        return;
    if (from == c->cli)
        c->out += n;
    else
        c->in += n;
    evbuffer_add_buffer(bufferevent_get_output(to), in);
    /* Back-pressure: stop reading until the other side drains. */
    if (evbuffer_get_length(bufferevent_get_output(to)) >= RELAY_HIGH_WATER)
        bufferevent_disable(from, EV_READ);
}

static void maybe_done(conn_t *c)
{
    if (c->cli_eof && c->up_eof &&
        evbuffer_get_length(bufferevent_get_output(c->cli)) == 0 &&
        evbuffer_get_length(bufferevent_get_output(c->up)) == 0)
        conn_close(c);
}

static void relay_write_cb(struct bufferevent *bev, void *arg)
{
    conn_t *c = arg;
    struct bufferevent *other = bev == c->cli ? c->up : c->cli;
    bool other_eof = bev == c->cli ? c->up_eof : c->cli_eof;
    if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
        if (other_eof)
            shutdown(bufferevent_getfd(bev), SHUT_WR);
        else if (c->state == ST_RELAY)
            bufferevent_enable(other, EV_READ);
    }
    maybe_done(c);
}

static void relay_event(conn_t *c, struct bufferevent *bev, short what)
{
    if (what & BEV_EVENT_EOF) {
        struct bufferevent *other = bev == c->cli ? c->up : c->cli;
        relay(c, bev, other);
        if (bev == c->cli)
            c->cli_eof = true;
        else
            c->up_eof = true;
        bufferevent_disable(bev, EV_READ);
        if (evbuffer_get_length(bufferevent_get_output(other)) == 0)
            shutdown(bufferevent_getfd(other), SHUT_WR);
        maybe_done(c);
        return;
    }
    conn_close(c); /* error or idle timeout */
}

static void check_peek(conn_t *c);

static void cli_read_cb(struct bufferevent *bev, void *arg);

static void up_event_cb(struct bufferevent *bev, short what, void *arg);
static void fail(conn_t *c, const char *what, int socks_rep);
static void forward_fail(conn_t *c, int e);

/* The parent proxy's answer to our CONNECT: a 2xx status, then the tunnel. */
static void parent_reply(conn_t *c, struct bufferevent *bev)
{
    struct evbuffer *in = bufferevent_get_input(bev);
    struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
    if (end.pos < 0) {
        if (evbuffer_get_length(in) > 8192)
            fail(c, "parent proxy sent an oversized reply", CDN_SOCKS_REP_FAILURE);
        return;
    }
    char line[128] = "";
    size_t n = evbuffer_get_length(in) < sizeof line - 1 ? evbuffer_get_length(in) : sizeof line - 1;
    evbuffer_copyout(in, line, n);
    line[n] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    if (strncmp(line, "HTTP/1.", 7) != 0 || line[8] != ' ' || line[9] != '2') {
        char what[300];
        snprintf(what, sizeof what, "parent proxy refused: %.200s", line);
        fail(c, what, CDN_SOCKS_REP_FAILURE);
        return;
    }
    evbuffer_drain(in, (size_t)end.pos + 4);
    c->via_parent = false;
    c->state = ST_CONNECTING;
    up_event_cb(bev, BEV_EVENT_CONNECTED, c);
}

static void up_read_cb(struct bufferevent *bev, void *arg)
{
    conn_t *c = arg;
    if (c->state == ST_PARENT) {
        parent_reply(c, bev);
        return;
    }
    relay(c, bev, c->cli);
}

static void splice_done(void *arg)
{
    conn_close(arg);
}

/* After the decision there is nothing left to inspect: hand both sockets
 * to splice(2) once libevent's buffers are empty (the peeked bytes are sent
 * first).  Measured in bench/net_bench.sh against the bufferevent relay. */
static bool try_splice(conn_t *c, const struct timeval *idle)
{
    if (getenv("CDN_NET_NO_SPLICE") ||
        evbuffer_get_length(bufferevent_get_output(c->cli)) ||
        evbuffer_get_length(bufferevent_get_output(c->up)) ||
        evbuffer_get_length(bufferevent_get_input(c->up)))
        return false;
    int cfd = bufferevent_getfd(c->cli), ufd = bufferevent_getfd(c->up);
    struct evbuffer *in = bufferevent_get_input(c->cli);
    size_t n = evbuffer_get_length(in);
    if (n) {
        const uint8_t *p = evbuffer_pullup(in, -1);
        ssize_t w = send(ufd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            c->out += (uint64_t)w;
            evbuffer_drain(in, (size_t)w);
        }
        if (w < 0 || (size_t)w != n)
            return false;
    }
    bufferevent_disable(c->cli, EV_READ | EV_WRITE);
    bufferevent_disable(c->up, EV_READ | EV_WRITE);
    c->sp = cdn_splice_start(c->b->base, cfd, ufd, idle, splice_done, c);
    return c->sp != NULL;
}

static void start_relay(conn_t *c)
{
    c->state = ST_RELAY;
    struct timeval idle = {.tv_sec = c->b->cfg.idle_timeout_ms / 1000,
                           .tv_usec = (c->b->cfg.idle_timeout_ms % 1000) * 1000};
    const struct timeval *t = c->b->cfg.idle_timeout_ms ? &idle : NULL;
    if (try_splice(c, t))
        return;
    bufferevent_set_timeouts(c->cli, t, NULL);
    bufferevent_set_timeouts(c->up, t, NULL);
    bufferevent_enable(c->cli, EV_READ | EV_WRITE);
    bufferevent_enable(c->up, EV_READ | EV_WRITE);
    relay(c, c->cli, c->up);
}

/* ---- connecting ---- */

/* Forward the parsed request head in origin form with "Connection: close"
 * and without Proxy-*, Connection and Keep-Alive headers. */
static void forward_head(conn_t *c, struct bufferevent *up)
{
    struct evbuffer *in = bufferevent_get_input(c->cli);
    const char *head = (const char *)evbuffer_pullup(in, (ssize_t)c->req.head_len);
    struct evbuffer *o = bufferevent_get_output(up);
    evbuffer_add_printf(o, "%s ", c->req.method);
    if (c->req.path_len)
        evbuffer_add(o, head + c->req.path_off, c->req.path_len);
    else
        evbuffer_add(o, "/", 1);
    evbuffer_add_printf(o, " HTTP/1.%d\r\n", c->req.minor);
    const char *p = head + c->req.headers_off, *end = head + c->req.head_len - 2;
    bool host = false;
    while (p < end) {
        const char *le = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (!le)
            break;
        size_t l = (size_t)(le - p);
        if (l >= 5 && strncasecmp(p, "host:", 5) == 0)
            host = true;
        if (!(strncasecmp(p, "proxy-", 6) == 0 ||
              (l >= 11 && strncasecmp(p, "connection:", 11) == 0) ||
              (l >= 11 && strncasecmp(p, "keep-alive:", 11) == 0)))
            evbuffer_add(o, p, l + 2);
        p = le + 2;
    }
    if (!host)
        evbuffer_add_printf(o, "Host: %s\r\n", c->host);
    evbuffer_add_printf(o, "Connection: close\r\n\r\n");
    c->out += c->req.head_len;
    evbuffer_drain(in, c->req.head_len);
}

static void up_event_cb(struct bufferevent *bev, short what, void *arg)
{
    conn_t *c = arg;
    if (c->state == ST_PARENT) {
        fail(c, "parent proxy closed the connection", CDN_SOCKS_REP_FAILURE);
        return;
    }
    if (c->state == ST_CONNECTING) {
        if ((what & BEV_EVENT_CONNECTED) && c->via_parent) {
            bool v6 = strchr(c->host, ':') != NULL;
            evbuffer_add_printf(bufferevent_get_output(bev),
                                v6 ? "CONNECT [%s]:%u HTTP/1.1\r\nHost: [%s]:%u\r\n\r\n"
                                   : "CONNECT %s:%u HTTP/1.1\r\nHost: %s:%u\r\n\r\n",
                                c->host, c->port, c->host, c->port);
            c->state = ST_PARENT;
            bufferevent_enable(bev, EV_READ | EV_WRITE);
            return;
        }
        if (what & BEV_EVENT_CONNECTED) {
            c->connected = true;
            int one = 1;
            setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            if (c->kind == K_HTTP && c->proto == CDN_NET_CONNECT) {
                evbuffer_add_printf(bufferevent_get_output(c->cli),
                                    "HTTP/1.1 200 Connection established\r\n\r\n");
                c->state = ST_PEEK;
            } else if (c->kind == K_SOCKS) {
                uint8_t rep[10] = {5, 0, 0, 1, 0, 0, 0, 0, 0, 0};
                bufferevent_write(c->cli, rep, sizeof rep);
                c->state = ST_PEEK;
            } else {
                /* Plain HTTP (proxy or transparent): the head is rewritten
                 * so the origin serves one request per connection and
                 * every request is decided on its own Host. */
                if (c->kind == K_HTTP || c->http_head)
                    forward_head(c, bev);
                start_relay(c); /* TLS: the peeked ClientHello is still queued */
                return;
            }
            /* Tunnels: the server may speak first; client bytes wait for
             * the peek. */
            struct timeval hs = {.tv_sec = c->b->cfg.handshake_timeout_ms / 1000,
                                 .tv_usec = (c->b->cfg.handshake_timeout_ms % 1000) * 1000};
            bufferevent_set_timeouts(c->up, NULL, NULL);
            bufferevent_set_timeouts(c->cli, &hs, NULL);
            bufferevent_enable(c->up, EV_READ | EV_WRITE);
            bufferevent_enable(c->cli, EV_READ | EV_WRITE);
            if (evbuffer_get_length(bufferevent_get_input(c->cli)))
                check_peek(c);
            return;
        }
        if (c->kind == K_LOCAL) {
            forward_fail(c, EVUTIL_SOCKET_ERROR());
            return;
        }
        char what_s[300];
        snprintf(what_s, sizeof what_s, "connecting to %s port %u failed: %s", c->addr, c->port,
                 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        fail(c, what_s, CDN_SOCKS_REP_REFUSED);
        return;
    }
    relay_event(c, bev, what);
}

static void cli_write_cb(struct bufferevent *bev, void *arg)
{
    conn_t *c = arg;
    if (c->up && (c->state == ST_RELAY || c->state == ST_PEEK))
        relay_write_cb(bev, arg);
}

static void up_write_cb(struct bufferevent *bev, void *arg)
{
    conn_t *c = arg;
    if (c->state == ST_RELAY || c->state == ST_PEEK)
        relay_write_cb(bev, arg);
}

static bool no_proxy_match(const cdn_strv_t *np, const char *host)
{
    for (size_t i = 0; np && i < np->n; i++) {
        const char *p = np->v[i];
        if (strcmp(p, "*") == 0)
            return true;
        if (*p == '.')
            p++;
        size_t hl = strlen(host), pl = strlen(p);
        if (pl && hl >= pl && strcasecmp(host + hl - pl, p) == 0 &&
            (hl == pl || host[hl - pl - 1] == '.'))
            return true;
    }
    return false;
}

/* sa NULL: the name could not be resolved here, only the parent proxy can
 * reach it. */
static void connect_to(conn_t *c, const struct sockaddr *sa, socklen_t len)
{
    struct sockaddr_storage ss;
    if (sa) {
        memcpy(&ss, sa, len);
        if (ss.ss_family == AF_INET)
            ((struct sockaddr_in *)&ss)->sin_port = htons(c->port);
        else
            ((struct sockaddr_in6 *)&ss)->sin6_port = htons(c->port);
        sa_to_str((struct sockaddr *)&ss, c->addr, sizeof c->addr);
    }
    if (c->kind != K_LOCAL && c->b->parent_len && !no_proxy_match(c->b->cfg.parent_no_proxy, c->host)) {
        memcpy(&ss, &c->b->parent, c->b->parent_len);
        len = c->b->parent_len;
        c->via_parent = true;
    } else if (!sa) {
        fail(c, "cannot resolve the name", CDN_SOCKS_REP_HOST_UNREACH);
        return;
    }
    c->up = bufferevent_socket_new(c->b->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!c->up) {
        fail(c, "out of memory", CDN_SOCKS_REP_FAILURE);
        return;
    }
    bufferevent_setcb(c->up, up_read_cb, up_write_cb, up_event_cb, c);
    bufferevent_setwatermark(c->up, EV_READ, 0, RELAY_HIGH_WATER);
    /* libevent reads 16 KiB at a time by default: bulk transfers then cost
     * a syscall per 16 KiB each way. */
    bufferevent_set_max_single_read(c->up, RELAY_HIGH_WATER);
    bufferevent_set_max_single_write(c->up, RELAY_HIGH_WATER);
    c->state = ST_CONNECTING;
    struct timeval tv = {.tv_sec = c->b->cfg.handshake_timeout_ms / 1000,
                         .tv_usec = (c->b->cfg.handshake_timeout_ms % 1000) * 1000};
    bufferevent_set_timeouts(c->up, &tv, &tv);
    if (bufferevent_socket_connect(c->up, (struct sockaddr *)&ss, (int)len) < 0) {
        fail(c, "connect failed", CDN_SOCKS_REP_NET_UNREACH);
        return;
    }
    bufferevent_disable(c->up, EV_READ);
}

static bool same_ip(const struct sockaddr *a, const struct sockaddr *b)
{
    if (a->sa_family != b->sa_family)
        return false;
    if (a->sa_family == AF_INET)
        return ((const struct sockaddr_in *)(const void *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)(const void *)b)->sin_addr.s_addr;
    return memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr, 16) == 0;
}

/* Decide among the addresses the name has (from the lookup or the cache). */
static void use_addrs(conn_t *c, const cdn_addr_cache_t *e)
{
    if (e->n == 0) {
        fail(c, "the name has no IPv4 or IPv6 address", CDN_SOCKS_REP_HOST_UNREACH);
        return;
    }
    int pick = -1;
    cdn_net_verdict_t first_bad = {0};
    bool dst_seen = false;
    for (int i = 0; i < e->n; i++) {
        const struct sockaddr *sa = (const struct sockaddr *)&e->addrs[i];
        cdn_net_verdict_t v;
        bool ok = cdn_net_policy_check_addr(c->b->policy, c->host, sa, &v);
        if (c->have_dst && !c->dst_synthetic) {
            /* Transparent to a real address: it must be one the name has. */
            if (!same_ip(sa, (struct sockaddr *)&c->dst))
                continue;
            dst_seen = true;
        }
        if (ok && pick < 0)
            pick = i;
        if (!ok && !first_bad.rule[0])
            first_bad = v;
    }
    if (c->have_dst && !c->dst_synthetic && !dst_seen) {
        cdn_net_verdict_t v = {0};
        char d[INET6_ADDRSTRLEN];
        sa_to_str((struct sockaddr *)&c->dst, d, sizeof d);
        snprintf(v.rule, sizeof v.rule, "destination %s is not an address of \"%.200s\"", d,
                 c->host);
        snprintf(v.reason, sizeof v.reason,
                 "the name in the connection (TLS SNI or HTTP Host) must resolve to the address "
                 "connected to (domain fronting)");
        snprintf(c->addr, sizeof c->addr, "%s", d);
        deny(c, &v);
        return;
    }
    if (pick < 0) {
        const char *a = strstr(first_bad.rule, "address ");
        if (a)
            sscanf(a + 8, "%45s", c->addr);
        deny(c, &first_bad);
        return;
    }
    connect_to(c, (const struct sockaddr *)&e->addrs[pick], e->lens[pick]);
}

/* A short positive cache: evdns has none, and a lookup per connection is
 * most of the setup latency.  Short, because addresses are checked again
 * only when looked up again. */
#define ADDR_CACHE_US (10u * 1000000u)

static cdn_addr_cache_t *cache_find(struct cdn_broker *b, const char *name)
{
    uint64_t now = cdn_broker_now_us();
    for (size_t i = 0; i < CDN_ADDR_CACHE_N; i++)
        if (b->acache[i].n && now < b->acache[i].expires_us && strcmp(b->acache[i].name, name) == 0)
            return &b->acache[i];
    return NULL;
}

static cdn_addr_cache_t *cache_store(struct cdn_broker *b, const char *name,
                                     const struct evutil_addrinfo *res)
{
    size_t victim = 0;
    for (size_t i = 1; i < CDN_ADDR_CACHE_N; i++)
        if (b->acache[i].expires_us < b->acache[victim].expires_us)
            victim = i;
    cdn_addr_cache_t *e = &b->acache[victim];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    for (const struct evutil_addrinfo *ai = res; ai && e->n < CDN_ADDR_CACHE_ADDRS; ai = ai->ai_next) {
        if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
            ai->ai_addrlen > sizeof e->addrs[0])
            continue;
        memcpy(&e->addrs[e->n], ai->ai_addr, ai->ai_addrlen);
        e->lens[e->n++] = (socklen_t)ai->ai_addrlen;
    }
    e->expires_us = cdn_broker_now_us() + ADDR_CACHE_US;
    return e;
}

static void resolved_cb(int result, struct evutil_addrinfo *res, void *arg)
{
    conn_t *c = arg;
    c->resolving = false;
    if (c->dead) {
        if (res)
            evutil_freeaddrinfo(res);
        free(c);
        return;
    }
    if ((result != 0 || !res) && c->b->parent_len &&
        !no_proxy_match(c->b->cfg.parent_no_proxy, c->host) &&
        !(c->have_dst && !c->dst_synthetic)) {
        /* Behind a corporate proxy the host often cannot resolve outside
         * names: the parent proxy resolves them (no address check here). */
        if (res)
            evutil_freeaddrinfo(res);
        connect_to(c, NULL, 0);
        return;
    }
    if (result != 0 || !res) {
        char what[400];
        snprintf(what, sizeof what, "cannot resolve \"%s\": %s", c->host,
                 evutil_gai_strerror(result));
        if (res)
            evutil_freeaddrinfo(res);
        fail(c, what, CDN_SOCKS_REP_HOST_UNREACH);
        return;
    }
    cdn_addr_cache_t *e = cache_store(c->b, c->host, res);
    evutil_freeaddrinfo(res);
    use_addrs(c, e);
}

/* The name is allowed on this port: find where it lives and connect. */
static void resolve_and_connect(conn_t *c)
{
    struct sockaddr_storage ss = {0};
    socklen_t len = 0;
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, c->host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        len = sizeof *s4;
    } else if (inet_pton(AF_INET6, c->host, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        len = sizeof *s6;
    }
    if (len) {
        cdn_net_verdict_t v;
        if (!cdn_net_policy_check_addr(c->b->policy, c->host, (struct sockaddr *)&ss, &v)) {
            deny(c, &v);
            return;
        }
        connect_to(c, (struct sockaddr *)&ss, len);
        return;
    }
    const cdn_addr_cache_t *hit = cache_find(c->b, c->host);
    if (hit) {
        use_addrs(c, hit);
        return;
    }
    struct evutil_addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                                    .ai_protocol = IPPROTO_TCP};
    c->state = ST_RESOLVING;
    c->resolving = true;
    bufferevent_disable(c->cli, EV_READ);
    evdns_getaddrinfo(c->b->dns, c->host, NULL, &hints, resolved_cb, c);
}

/* Decide on (host, port); on allow, go on to resolve and connect. */
static void decide(conn_t *c, const char *host, uint16_t port)
{
    char norm[256];
    if (cdn_net_host_normalize(host, norm, sizeof norm))
        host = norm;
    snprintf(c->host, sizeof c->host, "%s", host);
    c->port = port;
    if (!cdn_net_policy_check_host(c->b->policy, c->host, port, &c->v)) {
        deny(c, &c->v);
        return;
    }
    resolve_and_connect(c);
}

/* ---- handshakes ---- */

static bool names_agree(const char *a, const char *b)
{
    char x[256], y[256];
    return cdn_net_host_normalize(a, x, sizeof x) && cdn_net_host_normalize(b, y, sizeof y) &&
           strcmp(x, y) == 0;
}

static void fronting(conn_t *c, const char *shown, const char *where)
{
    cdn_net_verdict_t v = {0};
    snprintf(v.rule, sizeof v.rule, "%s \"%.120s\" does not match \"%.120s\"", where, shown,
             c->expect);
    snprintf(v.reason, sizeof v.reason,
             "the names in one connection must agree (CONNECT/SOCKS target, TLS SNI, HTTP "
             "Host): domain fronting is refused");
    deny(c, &v);
}

/* Inside a CONNECT or SOCKS tunnel: the first client bytes must not name
 * another host than the tunnel's. */
static void check_peek(conn_t *c)
{
    struct evbuffer *in = bufferevent_get_input(c->cli);
    size_t n = evbuffer_get_length(in);
    if (n == 0)
        return;
    size_t take = n < CDN_TLS_PEEK_MAX ? n : CDN_TLS_PEEK_MAX;
    const uint8_t *p = evbuffer_pullup(in, (ssize_t)take);
    if (c->expect[0]) {
        char name[256];
        int r = cdn_tls_parse_sni(p, take, name, sizeof name);
        if (r == CDN_TLS_NEED_MORE)
            return;
        if (r == CDN_TLS_SNI_FOUND) {
            c->is_tls_peeked = true;
            if (!names_agree(name, c->expect)) {
                fronting(c, name, "TLS SNI");
                return;
            }
        } else if (r == CDN_TLS_BAD) {
            c->is_tls_peeked = true;
            cdn_net_verdict_t v = {0};
            snprintf(v.rule, sizeof v.rule, "malformed TLS ClientHello");
            deny(c, &v);
            return;
        } else if (r == CDN_TLS_NOT_TLS) {
            cdn_http_req_t req;
            int h = cdn_http_parse_request((const char *)p, take, &req);
            if (h == CDN_HTTP_NEED_MORE && take < CDN_HTTP_HEAD_MAX)
                return;
            if (h > 0 && req.host_header[0] && !names_agree(req.host_header, c->expect)) {
                fronting(c, req.host_header, "HTTP Host");
                return;
            }
        }
    }
    start_relay(c);
}

static void handle_http(conn_t *c)
{
    struct evbuffer *in = bufferevent_get_input(c->cli);
    size_t n = evbuffer_get_length(in);
    size_t take = n < CDN_HTTP_HEAD_MAX ? n : CDN_HTTP_HEAD_MAX;
    const char *p = (const char *)evbuffer_pullup(in, (ssize_t)take);
    int r = cdn_http_parse_request(p, take, &c->req);
    if (r == CDN_HTTP_NEED_MORE)
        return;
    if (r < 0 || c->req.form == CDN_HTTP_ORIGIN_FORM) {
        snprintf(c->host, sizeof c->host, "-");
        fail(c, r == CDN_HTTP_TOO_LARGE ? "request head too large"
                : r < 0 ? "malformed request (cordon's proxy takes http:// URLs and CONNECT)"
                        : "this is a proxy: send absolute http:// URLs or CONNECT",
             0);
        return;
    }
    if (c->req.form == CDN_HTTP_AUTHORITY_FORM) {
        c->proto = CDN_NET_CONNECT;
        evbuffer_drain(in, (size_t)r);
        if (!cdn_net_is_ip_literal(c->req.host))
            snprintf(c->expect, sizeof c->expect, "%s", c->req.host);
    } else {
        c->proto = CDN_NET_HTTP;
        if (c->req.host_header[0] && !names_agree(c->req.host_header, c->req.host)) {
            snprintf(c->host, sizeof c->host, "%s", c->req.host);
            c->port = c->req.port;
            snprintf(c->expect, sizeof c->expect, "%s", c->req.host);
            fronting(c, c->req.host_header, "HTTP Host");
            return;
        }
    }
    decide(c, c->req.host, c->req.port);
}

static void handle_socks(conn_t *c)
{
    struct evbuffer *in = bufferevent_get_input(c->cli);
    size_t n = evbuffer_get_length(in);
    size_t take = n < 512 ? n : 512;
    const uint8_t *p = evbuffer_pullup(in, (ssize_t)take);
    if (!c->socks_greeted) {
        bool noauth;
        int r = cdn_socks5_parse_greeting(p, take, &noauth);
        if (r == 0)
            return;
        if (r < 0 || !noauth) {
            uint8_t no[2] = {5, 0xff};
            bufferevent_write(c->cli, no, 2);
            snprintf(c->host, sizeof c->host, "-");
            fail(c, r < 0 ? "malformed SOCKS5 greeting" : "SOCKS5 client offers no no-auth method", 0);
            return;
        }
        evbuffer_drain(in, (size_t)r);
        c->socks_greeted = true;
        uint8_t ok[2] = {5, 0};
        bufferevent_write(c->cli, ok, 2);
        n = evbuffer_get_length(in);
        if (!n)
            return;
        take = n < 512 ? n : 512;
        p = evbuffer_pullup(in, (ssize_t)take);
    }
    cdn_socks5_req_t req;
    int r = cdn_socks5_parse_request(p, take, &req);
    if (r == 0)
        return;
    if (r < 0 || req.cmd != 1) {
        snprintf(c->host, sizeof c->host, "%s", r < 0 ? "-" : req.host);
        c->port = req.port;
        int rep = r < 0 ? (req.atyp && req.atyp != 1 && req.atyp != 3 && req.atyp != 4
                               ? CDN_SOCKS_REP_ATYP : CDN_SOCKS_REP_FAILURE)
                        : CDN_SOCKS_REP_CMD;
        fail(c, r < 0 ? "malformed SOCKS5 request" : "only SOCKS5 CONNECT is supported", rep);
        return;
    }
    evbuffer_drain(in, (size_t)r);
    if (req.atyp == 3)
        snprintf(c->expect, sizeof c->expect, "%s", req.host);
    decide(c, req.host, req.port);
}

static void handle_trans(conn_t *c)
{
    struct evbuffer *in = bufferevent_get_input(c->cli);
    size_t n = evbuffer_get_length(in);
    size_t take = n < CDN_TLS_PEEK_MAX ? n : CDN_TLS_PEEK_MAX;
    const uint8_t *p = evbuffer_pullup(in, (ssize_t)take);
    char name[256] = "";
    uint16_t port = sa_port((struct sockaddr *)&c->dst);
    int r = cdn_tls_parse_sni(p, take, name, sizeof name);
    if (r == CDN_TLS_NEED_MORE)
        return;
    if (r == CDN_TLS_SNI_FOUND || r == CDN_TLS_NO_SNI || r == CDN_TLS_BAD)
        c->is_tls_peeked = true;
    if (r == CDN_TLS_NOT_TLS) {
        int h = cdn_http_parse_request((const char *)p, take, &c->req);
        if (h == CDN_HTTP_NEED_MORE)
            return;
        if (h > 0 && c->req.form == CDN_HTTP_ORIGIN_FORM && c->req.host_header[0]) {
            snprintf(name, sizeof name, "%s", c->req.host_header);
            c->http_head = true;
        }
    }
    const char *syn = c->dst_synthetic ? cdn_broker_syn_name(c->b, (struct sockaddr *)&c->dst)
                                       : NULL;
    if (!name[0]) {
        /* No name shown: only a listed IP literal can go on. */
        if (!syn && !c->dst_synthetic) {
            decide(c, c->addr, port);
            return;
        }
        snprintf(c->host, sizeof c->host, "%s", syn ? syn : c->addr);
        c->port = port;
        cdn_net_verdict_t v = {0};
        snprintf(v.rule, sizeof v.rule, "no host name in the connection");
        snprintf(v.reason, sizeof v.reason,
                 "transparent capture needs a TLS SNI or an HTTP Host header; for other "
                 "protocols list \"%.100s:%u\" explicitly or use the proxy (HTTPS_PROXY)",
                 syn ? syn : c->addr, port);
        snprintf(v.setting, sizeof v.setting, "add \"%.100s:%u\" to network.allowedDomains",
                 syn ? syn : c->addr, port);
        deny(c, &v);
        return;
    }
    if (c->dst_synthetic) {
        if (!syn || !names_agree(name, syn)) {
            snprintf(c->host, sizeof c->host, "%s", name);
            c->port = port;
            snprintf(c->expect, sizeof c->expect, "%s", syn ? syn : "(unknown address)");
            fronting(c, name, c->is_tls_peeked ? "TLS SNI" : "HTTP Host");
            return;
        }
    }
    decide(c, name, port);
}

static void cli_read_cb(struct bufferevent *bev, void *arg)
{
    conn_t *c = arg;
    switch (c->state) {
    case ST_HANDSHAKE:
        if (c->kind == K_HTTP)
            handle_http(c);
        else if (c->kind == K_SOCKS)
            handle_socks(c);
        else
            handle_trans(c);
        break;
    case ST_PEEK:
        check_peek(c);
        break;
    case ST_RELAY:
        relay(c, bev, c->up);
        break;
    default:
        break;
    }
}

static void cli_event_cb(struct bufferevent *bev, short what, void *arg)
{
    conn_t *c = arg;
    if (c->state == ST_RELAY) {
        relay_event(c, bev, what);
        return;
    }
    if ((what & BEV_EVENT_TIMEOUT) && c->state == ST_HANDSHAKE) {
        cdn_net_verdict_t v = {0};
        snprintf(v.rule, sizeof v.rule, "handshake timeout (%u ms)", c->b->cfg.handshake_timeout_ms);
        snprintf(v.reason, sizeof v.reason, "the client sent no complete request in time");
        if (!c->host[0])
            snprintf(c->host, sizeof c->host, "-");
        cdn_broker_emit(c->b, false, c->proto, c->host, c->addr, c->port, &v, 0, 0,
                        cdn_broker_now_us() - c->t0);
        c->reported = true;
    }
    conn_close(c);
}

typedef struct listener_ctx {
    struct cdn_broker *b;
    enum kind kind;
    uint16_t port; /* K_LOCAL, K_PUB: the port forwarded */
    struct evconnlistener *l;
    struct event *resume; /* re-enables l after an accept() failure */
} listener_ctx_t;

static listener_ctx_t *lctx_alloc(struct cdn_broker *b, enum kind k)
{
    listener_ctx_t *x = calloc(1, sizeof *x);
    if (x) {
        x->b = b;
        x->kind = k;
    }
    return x;
}

static cdn_net_proto_t kind_proto(enum kind k)
{
    switch (k) {
    case K_SOCKS: return CDN_NET_SOCKS;
    case K_TRANS: return CDN_NET_TRANSPARENT;
    case K_LOCAL: return CDN_NET_LOCAL;
    case K_PUB: return CDN_NET_PUBLISH;
    default: return CDN_NET_HTTP;
    }
}

/* The allowed port has nobody behind it: a denial that names the missing
 * server (the host side just closes the client). */
static void forward_fail(conn_t *c, int e)
{
    bool local = c->kind == K_LOCAL;
    cdn_net_verdict_t v = {0};
    snprintf(v.rule, sizeof v.rule, "%s", c->v.rule);
    snprintf(v.reason, sizeof v.reason, "connecting to the %s's 127.0.0.1 port %u failed: %s",
             local ? "host" : "sandbox", c->port, strerror(e));
    snprintf(v.setting, sizeof v.setting, "a server listening on the %s's 127.0.0.1:%u",
             local ? "host" : "sandbox", c->port);
    cdn_broker_emit(c->b, false, c->proto, c->host, c->addr, c->port, &v, 0, 0,
                    cdn_broker_now_us() - c->t0);
    c->reported = true;
    c->connected = false;
    finish_after_flush(c);
}

/* Forwarders decide nothing: the port itself was allowed (allowLocalPorts,
 * --publish).  The client is not read until the other side is connected. */
static void forward_start(conn_t *c, uint16_t port)
{
    snprintf(c->host, sizeof c->host, "127.0.0.1");
    snprintf(c->addr, sizeof c->addr, "127.0.0.1");
    c->port = port;
    c->v.allowed = true;
    if (c->kind == K_LOCAL) {
        snprintf(c->v.rule, sizeof c->v.rule, "allowLocalPorts %u", port);
        snprintf(c->v.reason, sizeof c->v.reason, "the host's loopback port %u", port);
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        connect_to(c, (struct sockaddr *)&sin, sizeof sin);
        return;
    }
    snprintf(c->v.rule, sizeof c->v.rule, "publish %u", port);
    snprintf(c->v.reason, sizeof c->v.reason, "from the host into the sandbox's port %u", port);
    c->state = ST_CONNECTING;
    c->pub_id = ++c->b->next_pub_id;
    if (!c->b->cfg.publish_request ||
        c->b->cfg.publish_request(c->b->cfg.publish_ctx, c->pub_id, port) < 0)
        fail(c, "publish: the sandbox cannot be asked for a connection", 0);
}

struct cdn_pub_reply {
    struct cdn_pub_reply *next;
    uint64_t id;
    int fd, errnum;
};
typedef struct cdn_pub_reply pub_reply_t;

static void pub_reply(struct cdn_broker *b, pub_reply_t *r)
{
    conn_t *c = b->conns;
    while (c && c->pub_id != r->id)
        c = c->next;
    if (!c || c->state != ST_CONNECTING) {
        if (r->fd >= 0)
            close(r->fd);
        free(r);
        return;
    }
    if (r->fd < 0) {
        int e = r->errnum;
        free(r);
        forward_fail(c, e);
        return;
    }
    evutil_make_socket_nonblocking(r->fd);
    c->up = bufferevent_socket_new(b->base, r->fd, BEV_OPT_CLOSE_ON_FREE);
    if (!c->up) {
        close(r->fd);
        free(r);
        fail(c, "out of memory", 0);
        return;
    }
    free(r);
    bufferevent_setcb(c->up, up_read_cb, up_write_cb, up_event_cb, c);
    bufferevent_setwatermark(c->up, EV_READ, 0, RELAY_HIGH_WATER);
    bufferevent_set_max_single_read(c->up, RELAY_HIGH_WATER);
    bufferevent_set_max_single_write(c->up, RELAY_HIGH_WATER);
    c->connected = true;
    start_relay(c);
}

/* Takes the queue under the lock; a stopped broker frees what is left. */
static pub_reply_t *pub_take(struct cdn_broker *b)
{
    pthread_mutex_lock(&b->pub_mu);
    pub_reply_t *q = b->pub_q;
    b->pub_q = NULL;
    pthread_mutex_unlock(&b->pub_mu);
    return q;
}

static void pub_drain_cb(evutil_socket_t unused, short what, void *arg)
{
    (void)unused;
    (void)what;
    struct cdn_broker *b = arg;
    for (pub_reply_t *r = pub_take(b), *next; r; r = next) {
        next = r->next;
        pub_reply(b, r);
    }
}

int cdn_broker_publish_ready(cdn_broker_t *b, uint64_t id, int fd, int errnum)
{
    pub_reply_t *r = malloc(sizeof *r);
    if (!b || !b->pub_ev || !r) {
        free(r);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *r = (pub_reply_t){.id = id, .fd = fd, .errnum = errnum};
    /* The connection lives on the broker thread: queue the answer there. */
    pthread_mutex_lock(&b->pub_mu);
    r->next = b->pub_q;
    b->pub_q = r;
    pthread_mutex_unlock(&b->pub_mu);
    event_active(b->pub_ev, EV_READ, 0);
    return 0;
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg)
{
    (void)l;
    (void)sa;
    (void)salen;
    listener_ctx_t *lc = arg;
    struct cdn_broker *b = lc->b;
    conn_t *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return;
    }
    c->b = b;
    c->kind = lc->kind;
    c->proto = kind_proto(lc->kind);
    c->t0 = cdn_broker_now_us();
    c->cli = bufferevent_socket_new(b->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!c->cli) {
        close(fd);
        free(c);
        return;
    }
    atomic_fetch_add(&b->nconn, 1);
    c->next = b->conns;
    if (b->conns)
        b->conns->prev = c;
    b->conns = c;
    bufferevent_setcb(c->cli, cli_read_cb, cli_write_cb, cli_event_cb, c);
    bufferevent_setwatermark(c->cli, EV_READ, 0, RELAY_HIGH_WATER);
    bufferevent_set_max_single_read(c->cli, RELAY_HIGH_WATER);
    bufferevent_set_max_single_write(c->cli, RELAY_HIGH_WATER);
    struct timeval hs = {.tv_sec = b->cfg.handshake_timeout_ms / 1000,
                         .tv_usec = (b->cfg.handshake_timeout_ms % 1000) * 1000};
    bufferevent_set_timeouts(c->cli, &hs, &hs);

    if (atomic_load(&b->nconn) > b->cfg.max_connections) {
        cdn_net_verdict_t v = {0};
        snprintf(v.rule, sizeof v.rule, "connection limit reached (%u per sandbox)",
                 b->cfg.max_connections);
        snprintf(v.reason, sizeof v.reason,
                 "too many open connections; close some or raise the limit");
        snprintf(c->host, sizeof c->host, "-");
        cdn_broker_emit(b, false, c->proto, c->host, "", 0, &v, 0, 0, 0);
        c->reported = true;
        if (c->kind == K_HTTP)
            http_error(c, 503, "Service Unavailable", &v, NULL);
        finish_after_flush(c);
        return;
    }
    if (c->kind == K_LOCAL || c->kind == K_PUB) {
        forward_start(c, lc->port);
        return;
    }
    if (c->kind == K_TRANS) {
        socklen_t l2 = sizeof c->dst;
        int r = getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &c->dst, &l2);
        if (r < 0) {
            l2 = sizeof c->dst;
            r = getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST_, &c->dst, &l2);
        }
        if (r < 0) {
            snprintf(c->host, sizeof c->host, "-");
            fail(c, "no original destination (SO_ORIGINAL_DST)", 0);
            return;
        }
        c->have_dst = true;
        sa_to_str((struct sockaddr *)&c->dst, c->addr, sizeof c->addr);
        c->port = sa_port((struct sockaddr *)&c->dst);
        if (c->dst.ss_family == AF_INET) {
            uint32_t a = ntohl(((struct sockaddr_in *)&c->dst)->sin_addr.s_addr);
            c->dst_synthetic = (a & 0xfffe0000u) == CDN_SYN_BASE;
        }
        const char *syn = c->dst_synthetic ? cdn_broker_syn_name(b, (struct sockaddr *)&c->dst)
                                           : NULL;
        /* A port listed explicitly for the name carries any protocol,
         * server-speaks-first ones too: no peek. */
        if (syn && cdn_net_policy_port_explicit(b->policy, syn, c->port)) {
            decide(c, syn, c->port);
            return;
        }
    }
    bufferevent_enable(c->cli, EV_READ | EV_WRITE);
}

/* ---- start/stop ---- */

static void quiet_log(int severity, const char *msg)
{
    (void)severity;
    (void)msg;
}

static void broker_global_init(void)
{
    evthread_use_pthreads();
    /* Upstream DNS hiccups surface as denials and events, not as stray
     * lines on the user's terminal. */
    event_set_log_callback(quiet_log);
}

static void *loop_thread(void *arg)
{
    struct cdn_broker *b = arg;
    /* A peer that went away makes write()/splice() raise SIGPIPE in this
     * thread; blocked here, it stays an EPIPE and never touches the
     * caller's process. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    event_base_loop(b->base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

static int upstream_from_resolv_conf(char *out, size_t sz)
{
    _cleanup_fclose_ FILE *f = fopen("/etc/resolv.conf", "re");
    char line[256];
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        char ns[128];
        if (sscanf(line, " nameserver %127s", ns) == 1) {
            snprintf(out, sz, "%s", ns);
            return 0;
        }
    }
    return -1;
}

static void listener_resume(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    listener_ctx_t *lc = arg;
    evconnlistener_enable(lc->l);
}

/* accept() failing for lack of descriptors (EMFILE, ENFILE) or memory
 * leaves the connection in the backlog: pause this listener for a moment
 * instead of spinning on it, and say why. */
static void listener_error(struct evconnlistener *l, void *arg)
{
    listener_ctx_t *lc = arg;
    int e = EVUTIL_SOCKET_ERROR();
    cdn_net_verdict_t v = {0};
    snprintf(v.rule, sizeof v.rule, "accept failed: %s", evutil_socket_error_to_string(e));
    snprintf(v.reason, sizeof v.reason,
             "cordon could not take a new connection; it retries in 100 ms");
    cdn_broker_emit(lc->b, false, kind_proto(lc->kind), "-", "", lc->port, &v, 0, 0, 0);
    struct timeval tv = {.tv_usec = 100000};
    if (!lc->resume)
        lc->resume = evtimer_new(lc->b->base, listener_resume, lc);
    if (lc->resume) {
        evconnlistener_disable(l);
        evtimer_add(lc->resume, &tv);
    }
}

static int add_listener(struct cdn_broker *b, int fd, enum kind k, uint16_t port,
                        cdn_error_t *err)
{
    if (fd < 0)
        return 0;
    if (b->n_listeners >= CDN_ARRAY_SIZE(b->listeners))
        return cdn_error(err, E2BIG, "too many listening sockets");
    int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (d < 0)
        return cdn_error(err, errno, "dup listening socket");
    evutil_make_socket_nonblocking(d);
    listener_ctx_t *lc = lctx_alloc(b, k);
    if (!lc) {
        close(d);
        return cdn_error(err, ENOMEM, "out of memory");
    }
    struct evconnlistener *l = evconnlistener_new(b->base, on_accept, lc,
                                                  LEV_OPT_CLOSE_ON_FREE, -1, d);
    if (!l) {
        free(lc);
        close(d);
        return cdn_error(err, errno, "evconnlistener_new");
    }
    lc->l = l;
    lc->port = port;
    evconnlistener_set_error_cb(l, listener_error);
    b->lctx[b->n_listeners] = lc;
    b->listeners[b->n_listeners++] = l;
    return 0;
}

static int parse_parent(struct cdn_broker *b, const char *url, cdn_error_t *err)
{
    const char *p = url;
    if (strncasecmp(p, "http://", 7) == 0)
        p += 7;
    else if (strstr(p, "://"))
        return cdn_error_usage(err, "network.parentProxy \"%s\": only http:// proxies are "
                               "supported", url);
    char host[256];
    uint16_t port;
    size_t n = strcspn(p, "/");
    if (memchr(p, '@', n))
        return cdn_error_usage(err, "network.parentProxy \"%s\": credentials in the URL are "
                               "not supported", url);
    if (cdn_http_split_authority(p, n, host, sizeof host, &port) < 0)
        return cdn_error_usage(err, "network.parentProxy \"%s\": not http://host:port", url);
    char ports[8];
    snprintf(ports, sizeof ports, "%u", port ? port : 3128);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    int r = getaddrinfo(host, ports, &hints, &res);
    if (r)
        return cdn_error(err, 0, "network.parentProxy: resolving \"%s\": %s", host,
                         gai_strerror(r));
    memcpy(&b->parent, res->ai_addr, res->ai_addrlen);
    b->parent_len = (socklen_t)res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

int cdn_broker_start(const cdn_net_config_t *cfg, const cdn_net_fds_t *fds,
                     cdn_broker_event_cb cb, void *cb_ctx, cdn_broker_t **out, cdn_error_t *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, broker_global_init);
    struct cdn_broker *b = calloc(1, sizeof *b);
    if (!b)
        return cdn_error(err, ENOMEM, "out of memory");
    b->cfg = *cfg;
    b->cb = cb;
    b->cb_ctx = cb_ctx;
    b->dns_udp_fd = -1;
    pthread_mutex_init(&b->pub_mu, NULL);
    if (cdn_net_policy_new(cfg->settings, cfg->default_ports, cfg->n_default_ports, true,
                           &b->policy, err) < 0)
        goto fail;
    b->base = event_base_new();
    if (!b->base) {
        cdn_error(err, ENOMEM, "event_base_new");
        goto fail;
    }
    b->pub_ev = event_new(b->base, -1, 0, pub_drain_cb, b);
    if (!b->pub_ev) {
        cdn_error(err, ENOMEM, "event_new");
        goto fail;
    }
    /* Without a "network" object only the forwarders run: no resolver, no
     * upstream needed. */
    bool proxies = fds->http4 >= 0 || fds->http6 >= 0 || fds->socks4 >= 0 || fds->socks6 >= 0 ||
                   fds->transparent4 >= 0 || fds->transparent6 >= 0 || fds->dns_udp4 >= 0 ||
                   fds->dns_tcp4 >= 0;
    if (!proxies)
        goto listeners;
    b->dns = evdns_base_new(b->base, 0);
    if (!b->dns) {
        cdn_error(err, ENOMEM, "evdns_base_new");
        goto fail;
    }
    char up[160];
    if (cfg->dns_upstream)
        snprintf(up, sizeof up, "%s", cfg->dns_upstream);
    else if (upstream_from_resolv_conf(up, sizeof up) < 0) {
        cdn_error(err, 0, "no nameserver in the host's /etc/resolv.conf");
        goto fail;
    }
    if (evdns_base_nameserver_ip_add(b->dns, up) != 0) {
        cdn_error(err, 0, "bad DNS upstream \"%s\"", up);
        goto fail;
    }
    evdns_base_set_option(b->dns, "timeout:", "3");
    evdns_base_set_option(b->dns, "attempts:", "2");
    evdns_base_set_option(b->dns, "randomize-case:", "0");
    if (cfg->parent_proxy && parse_parent(b, cfg->parent_proxy, err) < 0)
        goto fail;
listeners:
    if (add_listener(b, fds->http4, K_HTTP, 0, err) < 0 ||
        add_listener(b, fds->http6, K_HTTP, 0, err) < 0 ||
        add_listener(b, fds->socks4, K_SOCKS, 0, err) < 0 ||
        add_listener(b, fds->socks6, K_SOCKS, 0, err) < 0 ||
        add_listener(b, fds->transparent4, K_TRANS, 0, err) < 0 ||
        add_listener(b, fds->transparent6, K_TRANS, 0, err) < 0)
        goto fail;
    for (size_t i = 0; i < fds->n_local; i++)
        if (add_listener(b, fds->local[i], K_LOCAL, fds->local_port[i], err) < 0)
            goto fail;
    for (size_t i = 0; i < cfg->n_publish; i++)
        if (add_listener(b, cfg->publish[i].fd, K_PUB, cfg->publish[i].port, err) < 0)
            goto fail;
    if (proxies && cdn_dns_server_start(b, fds, err) < 0)
        goto fail;
    if ((errno = cdn_thread_create(&b->thread, loop_thread, b)) != 0) {
        cdn_error(err, errno, "starting the broker thread");
        goto fail;
    }
    b->thread_started = true;
    *out = b;
    return 0;
fail:
    cdn_broker_stop(b);
    return cdn_error_wrap(err, "egress broker");
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct cdn_broker *b = arg;
    while (b->conns)
        conn_close(b->conns);
    cdn_dns_server_stop(b);
    for (size_t i = 0; i < b->n_listeners; i++) {
        evconnlistener_free(b->listeners[i]);
        listener_ctx_t *lc = b->lctx[i];
        if (lc->resume)
            event_free(lc->resume);
        free(lc);
    }
    b->n_listeners = 0;
    if (b->dns) {
        /* Fails pending lookups; their callbacks (run before the loop
         * exits) free the connections that still wait on them. */
        evdns_base_free(b->dns, 1);
        b->dns = NULL;
    }
    event_base_loopexit(b->base, NULL);
}

void cdn_broker_stop(cdn_broker_t *b)
{
    if (!b)
        return;
    if (b->thread_started) {
        /* Teardown runs on the loop thread, so no callback races it. */
        event_base_once(b->base, -1, EV_TIMEOUT, stop_cb, b, NULL);
        pthread_join(b->thread, NULL);
    } else if (b->base) {
        stop_cb(-1, 0, b);
    }
    if (b->dns)
        evdns_base_free(b->dns, 1);
    if (b->pub_ev)
        event_free(b->pub_ev);
    for (pub_reply_t *r = pub_take(b), *next; r; r = next) {
        next = r->next;
        if (r->fd >= 0)
            close(r->fd);
        free(r);
    }
    pthread_mutex_destroy(&b->pub_mu);
    if (b->base)
        event_base_free(b->base);
    for (size_t i = 0; i < b->n_syn; i++)
        free(b->syn[i].name);
    free(b->syn);
    cdn_net_policy_free(b->policy);
    free(b);
}

unsigned cdn_broker_connections(cdn_broker_t *b)
{
    return atomic_load(&b->nconn);
}
