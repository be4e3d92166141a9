/* Egress policy: which (name, port) pairs the sandbox may reach and which
 * resolved addresses are acceptable, with srt's semantics (deny wins;
 * "*.example.com" matches subdomains at any depth but not the apex;
 * "host:port"; IP literals only when listed; "*" only in the deny list;
 * ports 80 and 443 when a pattern names none; empty allowlist = no network).
 * Every verdict carries the rule that decided and, for a denial, the setting
 * that would allow it, so the agent can act on it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "settings/settings.h"
#include "util/error.h"

typedef struct cdn_net_policy cdn_net_policy_t;

typedef struct cdn_net_verdict {
    bool allowed;
    char rule[320];    /* e.g. 'deniedDomains "*.evil.com"' */
    char setting[320]; /* e.g. 'add "example.com:22" to network.allowedDomains' */
    char reason[512];  /* deniedDomainReasons text or a sentence */
} cdn_net_verdict_t;

typedef struct cdn_net_cidr {
    int family; /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    unsigned prefix;
} cdn_net_cidr_t;

/* "10.0.0.0/8", "::1", "fc00::/7"; a bare address is a host route. */
int cdn_net_cidr_parse(const char *s, cdn_net_cidr_t *out);
bool cdn_net_cidr_match(const cdn_net_cidr_t *c, const struct sockaddr *sa);

/* settings may be NULL (no network).  default_ports: ports allowed for a
 * pattern without one (NULL = 80 and 443).  with_host_addrs: also refuse the
 * host's own addresses (getifaddrs); tests of the pure logic pass false. */
int cdn_net_policy_new(const cdn_settings_t *settings, const uint16_t *default_ports,
                       size_t n_default_ports, bool with_host_addrs, cdn_net_policy_t **out,
                       cdn_error_t *err);
void cdn_net_policy_free(cdn_net_policy_t *p);

/* May `host` (a name, or an IP literal without brackets) be reached on
 * `port`?  port 0 = any port (the DNS question: is the name allowed at all). */
bool cdn_net_policy_check_host(const cdn_net_policy_t *p, const char *host, uint16_t port,
                               cdn_net_verdict_t *v);
/* May a connection for allowed `host` go to address `sa` (what the name
 * resolved to)?  Refuses loopback, link-local, private, CGNAT, unspecified,
 * multicast, the host's own addresses and deniedResolvedAddresses unless the
 * address is listed in allowedDomains. */
bool cdn_net_policy_check_addr(const cdn_net_policy_t *p, const char *host,
                               const struct sockaddr *sa, cdn_net_verdict_t *v);
/* Is the name allowed for raw (non-TLS, non-HTTP) TCP on this port?  Only
 * when a pattern names the port explicitly. */
bool cdn_net_policy_port_explicit(const cdn_net_policy_t *p, const char *host, uint16_t port);

/* Lower-cases and strips one trailing dot; false if not a valid host name
 * or IP literal (letters, digits, '-', '_', '.', ':' for v6). */
bool cdn_net_host_normalize(const char *in, char *out, size_t outsz);
bool cdn_net_is_ip_literal(const char *host);
