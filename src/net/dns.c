/* The sandbox's resolver, served from the broker thread on 127.0.0.1:53
 * inside the sandbox (UDP and TCP).
 *
 * It answers A and AAAA for names the policy allows and REFUSED for
 * everything else, so DNS cannot carry data out: a query for a denied or
 * unknown name never leaves the host.
 *
 * Synthetic answers, not real ones.  For an allowed name the broker first
 * resolves it upstream (so that a name that does not exist gets NXDOMAIN and
 * one that resolves only to private, loopback, link-local or metadata
 * addresses is refused here, with an event), then answers with an address
 * from 198.18.0.0/15 that stands for that name for the broker's lifetime.
 * Why:
 *  - transparent capture becomes exact: a connection to 198.18.x.y names
 *    its host even when the client sends no SNI or Host, so a listed
 *    "host:port" can carry any protocol (ssh, databases) and an SNI that
 *    differs from the name the address was handed out for is fronting;
 *  - the broker resolves again at connect time and checks the addresses it
 *    will really use, so DNS rebinding between the answer and the connect
 *    gains nothing;
 *  - the real addresses (and so the host's view of the network) are not
 *    shown to the sandbox.
 * The cost: programs that compare a name's address with an expected one see
 * a 198.18 address, and AAAA queries get an empty answer (clients fall back
 * to IPv4; the broker still connects over IPv6 when that is what the name
 * has). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "net/broker_int.h"
#include "net/dns_msg.h"
#include "util/cleanup.h"

#define DNS_TTL 300
#define CHECK_VALID_US (60u * 1000000u)

typedef struct dns_tcp {
    struct cdn_broker *b;
    struct dns_tcp *prev, *next;
    struct bufferevent *bev;
    unsigned pending;
    bool closed, linked;
} dns_tcp_t;

typedef struct dns_req {
    struct cdn_broker *b;
    cdn_dns_query_t q;
    struct sockaddr_storage from; /* UDP */
    socklen_t fromlen;
    dns_tcp_t *tcp; /* or TCP */
    cdn_net_verdict_t v; /* the allowedDomains pattern that let the name through */
} dns_req_t;

static void tcp_unlink_free(dns_tcp_t *t)
{
    if (!t->linked) {
        free(t);
        return;
    }
    if (t->prev)
        t->prev->next = t->next;
    else
        t->b->dns_conns = t->next;
    if (t->next)
        t->next->prev = t->prev;
    free(t);
}

static void tcp_close(dns_tcp_t *t)
{
    if (t->closed)
        return;
    t->closed = true;
    bufferevent_free(t->bev);
    t->bev = NULL;
    if (!t->pending)
        tcp_unlink_free(t);
}

static void send_reply(struct cdn_broker *b, dns_req_t *r, int rcode, const uint8_t *addrs,
                       size_t n)
{
    uint8_t out[512];
    int len = cdn_dns_build_response(&r->q, rcode, addrs, n, DNS_TTL, out, sizeof out);
    if (len < 0)
        return;
    if (r->tcp) {
        if (!r->tcp->closed) {
            uint8_t pfx[2] = {(uint8_t)(len >> 8), (uint8_t)len};
            bufferevent_write(r->tcp->bev, pfx, 2);
            bufferevent_write(r->tcp->bev, out, (size_t)len);
        }
    } else {
        sendto(b->dns_udp_fd, out, (size_t)len, MSG_DONTWAIT, (struct sockaddr *)&r->from,
               r->fromlen);
    }
}

static void answer_allowed(struct cdn_broker *b, dns_req_t *r, cdn_syn_entry_t *ent,
                           uint32_t syn)
{
    ent->checked_us = cdn_broker_now_us();
    /* Every answer is a decision: it gets its event like a denial does. */
    char addr[INET_ADDRSTRLEN] = "";
    struct in_addr ia = {.s_addr = htonl(syn)};
    if (r->q.qtype == CDN_DNS_A)
        inet_ntop(AF_INET, &ia, addr, sizeof addr);
    cdn_broker_emit(b, true, CDN_NET_DNS, r->q.name, addr, 53, &r->v, 0, 0, 0);
    if (r->q.qtype == CDN_DNS_A) {
        uint32_t be = htonl(syn);
        send_reply(b, r, CDN_DNS_NOERROR, (const uint8_t *)&be, 1);
    } else {
        send_reply(b, r, CDN_DNS_NOERROR, NULL, 0); /* AAAA: no data, see above */
    }
}

static void req_done(dns_req_t *r)
{
    if (r->tcp) {
        r->tcp->pending--;
        if (r->tcp->closed && !r->tcp->pending)
            tcp_unlink_free(r->tcp);
    }
    free(r);
}

static void upstream_cb(int result, struct evutil_addrinfo *res, void *arg)
{
    dns_req_t *r = arg;
    struct cdn_broker *b = r->b;
    if (result == EVUTIL_EAI_CANCEL || !b->dns) {
        /* shutting down */
    } else if (result == EVUTIL_EAI_NONAME || result == EVUTIL_EAI_NODATA) {
        send_reply(b, r, CDN_DNS_NXDOMAIN, NULL, 0);
    } else if (result != 0 || !res) {
        send_reply(b, r, CDN_DNS_SERVFAIL, NULL, 0);
    } else {
        bool ok = false;
        cdn_net_verdict_t bad = {0};
        char bad_addr[INET6_ADDRSTRLEN] = "";
        for (struct evutil_addrinfo *ai = res; ai && !ok; ai = ai->ai_next) {
            cdn_net_verdict_t v;
            if (cdn_net_policy_check_addr(b->policy, r->q.name, ai->ai_addr, &v))
                ok = true;
            else if (!bad.rule[0]) {
                bad = v;
                const void *a = ai->ai_family == AF_INET
                                    ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                                    : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
                inet_ntop(ai->ai_family, a, bad_addr, sizeof bad_addr);
            }
        }
        cdn_syn_entry_t *ent;
        uint32_t syn;
        if (!ok) {
            cdn_broker_emit(b, false, CDN_NET_DNS, r->q.name, bad_addr, 53, &bad, 0, 0, 0);
            send_reply(b, r, CDN_DNS_REFUSED, NULL, 0);
        } else if ((syn = cdn_broker_syn_addr(b, r->q.name, &ent)) == 0) {
            send_reply(b, r, CDN_DNS_SERVFAIL, NULL, 0);
        } else {
            answer_allowed(b, r, ent, syn);
        }
    }
    if (res)
        evutil_freeaddrinfo(res);
    req_done(r);
}

/* Takes ownership of r. */
static void handle_query(struct cdn_broker *b, dns_req_t *r, int parsed)
{
    if (parsed == -1) {
        req_done(r);
        return;
    }
    if (parsed == -2 || parsed == -3) {
        send_reply(b, r, parsed == -2 ? CDN_DNS_FORMERR : CDN_DNS_NOTIMP, NULL, 0);
        req_done(r);
        return;
    }
    cdn_net_verdict_t v;
    if (!r->q.name[0] || !cdn_net_policy_check_host(b->policy, r->q.name, 0, &v)) {
        if (!r->q.name[0])
            snprintf(v.rule, sizeof v.rule, "root zone");
        cdn_broker_emit(b, false, CDN_NET_DNS, r->q.name, "", 53, &v, 0, 0, 0);
        send_reply(b, r, CDN_DNS_REFUSED, NULL, 0);
        req_done(r);
        return;
    }
    r->v = v;
    if (r->q.qclass != CDN_DNS_IN || (r->q.qtype != CDN_DNS_A && r->q.qtype != CDN_DNS_AAAA)) {
        /* Only addresses: TXT, NULL and friends are the usual tunnels. */
        snprintf(v.rule, sizeof v.rule, "only A and AAAA queries are answered");
        snprintf(v.reason, sizeof v.reason, "query type %u refused", r->q.qtype);
        v.setting[0] = '\0';
        cdn_broker_emit(b, false, CDN_NET_DNS, r->q.name, "", 53, &v, 0, 0, 0);
        send_reply(b, r, CDN_DNS_REFUSED, NULL, 0);
        req_done(r);
        return;
    }
    cdn_syn_entry_t *ent = NULL;
    const char *known = NULL;
    for (size_t i = 0; i < b->n_syn; i++)
        if (strcmp(b->syn[i].name, r->q.name) == 0) {
            ent = &b->syn[i];
            known = ent->name;
        }
    if (known && cdn_broker_now_us() - ent->checked_us < CHECK_VALID_US) {
        uint32_t syn = cdn_broker_syn_addr(b, r->q.name, &ent);
        answer_allowed(b, r, ent, syn);
        req_done(r);
        return;
    }
    struct evutil_addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                                    .ai_protocol = IPPROTO_TCP};
    evdns_getaddrinfo(b->dns, r->q.name, NULL, &hints, upstream_cb, r);
}

static void udp_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct cdn_broker *b = arg;
    for (int i = 0; i < 64; i++) {
        uint8_t buf[1500];
        dns_req_t *r = calloc(1, sizeof *r);
        if (!r)
            return;
        r->b = b;
        r->fromlen = sizeof r->from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&r->from,
                             &r->fromlen);
        if (n < 0) {
            free(r);
            return;
        }
        handle_query(b, r, cdn_dns_parse_query(buf, (size_t)n, &r->q));
    }
}

static void tcp_read_cb(struct bufferevent *bev, void *arg)
{
    dns_tcp_t *t = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    while (!t->closed && evbuffer_get_length(in) >= 2) {
        uint8_t pfx[2];
        evbuffer_copyout(in, pfx, 2);
        size_t len = (size_t)pfx[0] << 8 | pfx[1];
        if (len < 12 || len > 4096 || t->pending > 16) {
            tcp_close(t);
            return;
        }
        if (evbuffer_get_length(in) < 2 + len)
            return;
        uint8_t buf[4096];
        evbuffer_drain(in, 2);
        evbuffer_remove(in, buf, len);
        dns_req_t *r = calloc(1, sizeof *r);
        if (!r) {
            tcp_close(t);
            return;
        }
        r->b = t->b;
        r->tcp = t;
        t->pending++;
        handle_query(t->b, r, cdn_dns_parse_query(buf, len, &r->q));
    }
}

static void tcp_event_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    (void)what;
    tcp_close(arg);
}

static void tcp_accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                          int salen, void *arg)
{
    (void)l;
    (void)sa;
    (void)salen;
    struct cdn_broker *b = arg;
    dns_tcp_t *t = calloc(1, sizeof *t);
    if (!t) {
        close(fd);
        return;
    }
    t->b = b;
    t->bev = bufferevent_socket_new(b->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!t->bev) {
        close(fd);
        free(t);
        return;
    }
    t->next = b->dns_conns;
    if (b->dns_conns)
        b->dns_conns->prev = t;
    b->dns_conns = t;
    t->linked = true;
    struct timeval tv = {.tv_sec = 10};
    bufferevent_set_timeouts(t->bev, &tv, &tv);
    bufferevent_setcb(t->bev, tcp_read_cb, NULL, tcp_event_cb, t);
    bufferevent_enable(t->bev, EV_READ | EV_WRITE);
}

int cdn_dns_server_start(struct cdn_broker *b, const cdn_net_fds_t *fds, cdn_error_t *err)
{
    if (fds->dns_udp4 >= 0) {
        b->dns_udp_fd = fcntl(fds->dns_udp4, F_DUPFD_CLOEXEC, 3);
        if (b->dns_udp_fd < 0)
            return cdn_error(err, errno, "dup DNS socket");
        evutil_make_socket_nonblocking(b->dns_udp_fd);
        b->dns_udp_ev = event_new(b->base, b->dns_udp_fd, EV_READ | EV_PERSIST, udp_cb, b);
        if (!b->dns_udp_ev || event_add(b->dns_udp_ev, NULL) < 0)
            return cdn_error(err, ENOMEM, "DNS event");
    }
    if (fds->dns_tcp4 >= 0) {
        int d = fcntl(fds->dns_tcp4, F_DUPFD_CLOEXEC, 3);
        if (d < 0)
            return cdn_error(err, errno, "dup DNS socket");
        evutil_make_socket_nonblocking(d);
        struct evconnlistener *l =
            evconnlistener_new(b->base, tcp_accept_cb, b, LEV_OPT_CLOSE_ON_FREE, -1, d);
        if (!l) {
            close(d);
            return cdn_error(err, errno, "DNS listener");
        }
        b->dns_listener = l;
    }
    return 0;
}

void cdn_dns_server_stop(struct cdn_broker *b)
{
    while (b->dns_conns) {
        dns_tcp_t *t = b->dns_conns;
        if (t->closed) {
            /* waits on lookups; unlink so the loop ends, callbacks free it */
            b->dns_conns = t->next;
            if (t->next)
                t->next->prev = NULL;
            t->next = t->prev = NULL;
            t->linked = false;
            continue;
        }
        tcp_close(t);
    }
    if (b->dns_listener) {
        evconnlistener_free(b->dns_listener);
        b->dns_listener = NULL;
    }
    if (b->dns_udp_ev) {
        event_free(b->dns_udp_ev);
        b->dns_udp_ev = NULL;
    }
    if (b->dns_udp_fd >= 0) {
        close(b->dns_udp_fd);
        b->dns_udp_fd = -1;
    }
}
