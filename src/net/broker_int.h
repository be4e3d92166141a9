/* Internal to src/net: the broker state shared by broker.c (TCP proxies,
 * transparent capture) and dns.c (the sandbox's resolver). */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "net/net.h"
#include "net/policy.h"

/* Synthetic addresses handed out by the sandbox resolver: 198.18.0.0/15
 * (RFC 2544 benchmarking, never routed on the internet). */
#define CDN_SYN_BASE 0xC6120000u /* 198.18.0.0 */
#define CDN_SYN_MAX 131070u

typedef struct cdn_syn_entry {
    char *name;
    uint64_t checked_us; /* when the name last resolved to acceptable addresses */
} cdn_syn_entry_t;

struct conn;
struct dns_tcp;

#define CDN_ADDR_CACHE_N 64
#define CDN_ADDR_CACHE_ADDRS 8
typedef struct cdn_addr_cache {
    char name[256];
    struct sockaddr_storage addrs[CDN_ADDR_CACHE_ADDRS];
    socklen_t lens[CDN_ADDR_CACHE_ADDRS];
    int n;
    uint64_t expires_us;
} cdn_addr_cache_t;

struct cdn_broker {
    cdn_net_config_t cfg;
    cdn_net_policy_t *policy;
    struct event_base *base;
    struct evdns_base *dns;
    pthread_t thread;
    bool thread_started;
    struct evconnlistener *listeners[8 + 2 * CDN_NET_MAX_FORWARDS];
    void *lctx[8 + 2 * CDN_NET_MAX_FORWARDS];
    size_t n_listeners;
    struct evconnlistener *dns_listener;
    struct event *dns_udp_ev;
    int dns_udp_fd;
    cdn_broker_event_cb cb;
    void *cb_ctx;
    atomic_uint nconn;
    struct conn *conns; /* every live proxy connection, for stop */
    struct dns_tcp *dns_conns;
    cdn_addr_cache_t acache[CDN_ADDR_CACHE_N];
    struct sockaddr_storage parent; /* parent proxy, if parent_len */
    socklen_t parent_len;
    cdn_syn_entry_t *syn;
    size_t n_syn, cap_syn;
    uint64_t next_pub_id;
    /* Answers to publish requests, from the thread reading pid 1's
     * messages (cdn_broker_publish_ready) to the broker thread. */
    pthread_mutex_t pub_mu;
    struct cdn_pub_reply *pub_q;
    struct event *pub_ev;
};

uint64_t cdn_broker_now_us(void);
void cdn_broker_emit(struct cdn_broker *b, bool allowed, cdn_net_proto_t proto, const char *host,
                     const char *address, uint16_t port, const cdn_net_verdict_t *v,
                     uint64_t out, uint64_t in, uint64_t dur_us);
/* The name a synthetic address stands for, or NULL. */
const char *cdn_broker_syn_name(struct cdn_broker *b, const struct sockaddr *sa);
/* The synthetic address (host order) for name, allocating one; 0 when full. */
uint32_t cdn_broker_syn_addr(struct cdn_broker *b, const char *name, cdn_syn_entry_t **ent);

int cdn_dns_server_start(struct cdn_broker *b, const cdn_net_fds_t *fds, cdn_error_t *err);
void cdn_dns_server_stop(struct cdn_broker *b);
