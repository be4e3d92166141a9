/* The egress broker: the sandbox's only way out.
 *
 * Two halves.  cdn_net_sandbox_setup() runs inside the sandbox's fresh
 * network namespace (while it still holds CAP_NET_ADMIN in its user
 * namespace): it brings up lo, gives the namespace a default route into a
 * dead-end interface, installs nftables rules that send every outbound TCP
 * connection to the broker's transparent port and DNS to the broker's
 * resolver, drops all other UDP and ICMP, and creates the listening sockets
 * on loopback.  Those descriptors travel to the host-side `cordon run`
 * process, where cdn_broker_start() serves them from a libevent thread and
 * makes the outbound connections from the host's namespace.  See
 * docs/network.md. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "settings/settings.h"
#include "util/error.h"
#include "util/strv.h"

#define CDN_NET_HTTP_PORT 3128
#define CDN_NET_SOCKS_PORT 1080
#define CDN_NET_TRANSPARENT_PORT 15001
#define CDN_NET_DNS_PORT 53
/* Bound on cordon.allowLocalPorts and on --publish (each is one socket). */
#define CDN_NET_MAX_FORWARDS 16

typedef struct cdn_net_publish {
    int fd;             /* host side: listening on 127.0.0.1:host_port */
    uint16_t port;      /* the sandbox's loopback port it reaches */
    uint16_t host_port;
} cdn_net_publish_t;

/* Asks the sandbox for a socket connected to its 127.0.0.1:port; the answer
 * comes back through cdn_broker_publish_ready(id).  Runs on the broker
 * thread; returns < 0 when the request could not be sent. */
typedef int (*cdn_net_publish_request_fn)(void *ctx, uint64_t id, uint16_t port);

typedef struct cdn_net_config {
    /* network.* of the settings; NULL = built-in default (no network). */
    const cdn_settings_t *settings;
    /* Upstream DNS server "ADDR" or "ADDR:PORT" ("[v6]:PORT"); NULL = the
     * first nameserver of the host's /etc/resolv.conf. */
    const char *dns_upstream;
    uint16_t http_port, socks_port, transparent_port, dns_port;
    unsigned max_connections;      /* per sandbox */
    unsigned handshake_timeout_ms; /* until the decision */
    unsigned idle_timeout_ms;      /* after it; 0 = none */
    /* Ports an allowed name may be reached on when the pattern names none. */
    const uint16_t *default_ports;
    size_t n_default_ports;
    bool ipv6; /* also listen on ::1 */
    /* Upstream proxy "http://host:port" for every allowed connection (the
     * broker sends it CONNECT host:port); NULL = connect directly.  Set from
     * network.parentProxy (https, else http) by cdn_net_config_init();
     * callers that honour the host's HTTPS_PROXY set it themselves. */
    const char *parent_proxy;
    const cdn_strv_t *parent_no_proxy; /* hosts (suffixes) reached directly */
    /* cordon.allowLocalPorts: host loopback ports the sandbox reaches on its
     * own 127.0.0.1 (set by cdn_net_config_init). */
    const uint16_t *local_ports;
    size_t n_local_ports;
    /* cordon run --publish: host listeners relayed into the sandbox. */
    const cdn_net_publish_t *publish;
    size_t n_publish;
    cdn_net_publish_request_fn publish_request;
    void *publish_ctx;
} cdn_net_config_t;

/* Listening sockets created inside the sandbox; -1 where absent.  The
 * proxies' are absent when the settings have no "network" object and only
 * the forwarders run. */
typedef struct cdn_net_fds {
    int http4, http6, socks4, socks6, transparent4, transparent6, dns_udp4, dns_tcp4;
    int local[CDN_NET_MAX_FORWARDS]; /* 127.0.0.1:local_port[i], to the host's */
    uint16_t local_port[CDN_NET_MAX_FORWARDS];
    size_t n_local;
} cdn_net_fds_t;

/* Defaults: ports above, 512 connections, 10 s handshake, idle 0 (tunnels
 * live as long as both sides want), default ports 80 and 443. */
void cdn_net_config_init(cdn_net_config_t *cfg, const cdn_settings_t *settings);
void cdn_net_fds_init(cdn_net_fds_t *fds);
void cdn_net_fds_close(cdn_net_fds_t *fds);

int cdn_net_sandbox_setup(const cdn_net_config_t *cfg, cdn_net_fds_t *fds, cdn_error_t *err);
/* Only the listeners of cfg->local_ports (cdn_net_sandbox_setup makes them
 * too): for a sandbox with loopback only.  Appends to fds. */
int cdn_net_forward_listeners(const cdn_net_config_t *cfg, cdn_net_fds_t *fds, cdn_error_t *err);
/* Listens on the host's 127.0.0.1:port for --publish (fails if taken). */
int cdn_net_publish_listen(uint16_t port, int *out, cdn_error_t *err);

/* Content for /etc/resolv.conf inside the sandbox (static string). */
const char *cdn_net_resolv_conf(void);
/* Appends NAME=VALUE entries announcing the proxies to env. */
int cdn_net_proxy_env(const cdn_net_config_t *cfg, cdn_strv_t *env, cdn_error_t *err);

typedef enum cdn_net_proto {
    CDN_NET_HTTP = 0,  /* absolute-URI request through the HTTP proxy */
    CDN_NET_CONNECT,   /* CONNECT through the HTTP proxy */
    CDN_NET_SOCKS,     /* SOCKS5 CONNECT */
    CDN_NET_TRANSPARENT,
    CDN_NET_DNS,
    CDN_NET_LOCAL,   /* to a host loopback port of cordon.allowLocalPorts */
    CDN_NET_PUBLISH, /* from the host into the sandbox (--publish) */
} cdn_net_proto_t;

const char *cdn_net_proto_name(cdn_net_proto_t p);

/* One event per decision; bytes and duration are filled when an allowed
 * connection ends (allowed connections report once, at the end). */
typedef struct cdn_broker_event {
    bool allowed;
    cdn_net_proto_t proto;
    const char *host;    /* name asked for (or IP literal), may be "" */
    const char *address; /* address connected to (host side) or asked for, "" if none */
    uint16_t port;
    const char *rule;    /* the pattern or rule that decided */
    const char *setting; /* for denials: the setting that would allow it, "" if none */
    const char *reason;  /* human text */
    uint64_t bytes_out, bytes_in; /* sandbox->world, world->sandbox */
    uint64_t duration_us;
} cdn_broker_event_t;

typedef void (*cdn_broker_event_cb)(const cdn_broker_event_t *ev, void *ctx);

typedef struct cdn_broker cdn_broker_t;

/* Takes ownership of nothing: the fds are dup'ed (close yours after).
 * cfg->settings must stay valid until cdn_broker_stop().  cb runs on the
 * broker thread.  Errors: bad network settings (CDN_EXIT_USAGE), no DNS
 * upstream, an unreachable parentProxy name. */
int cdn_broker_start(const cdn_net_config_t *cfg, const cdn_net_fds_t *fds,
                     cdn_broker_event_cb cb, void *cb_ctx, cdn_broker_t **out, cdn_error_t *err);
/* The sandbox's answer to a publish request: fd connected inside (taken),
 * or -1 and errnum.  Any thread. */
int cdn_broker_publish_ready(cdn_broker_t *b, uint64_t id, int fd, int errnum);
/* Stops the thread, closes every connection; NULL is fine. */
void cdn_broker_stop(cdn_broker_t *b);
/* Open connections right now (for tests and the bench). */
unsigned cdn_broker_connections(cdn_broker_t *b);
