#include "net/policy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"

typedef struct pattern {
    char host[256];  /* normalized; for wildcards the suffix without "*." */
    bool wildcard;   /* "*.suffix" */
    bool any;        /* "*" (deny list only) */
    bool ip;         /* IP literal */
    uint16_t port;   /* 0 = default ports (allow) / all ports (deny) */
    char text[300];  /* as written, for messages */
    const char *reason;
} pattern_t;

struct cdn_net_policy {
    pattern_t *allow, *deny;
    size_t n_allow, n_deny;
    uint16_t ports[16];
    size_t n_ports;
    cdn_net_cidr_t *denied_addrs;
    size_t n_denied_addrs;
    struct sockaddr_storage *own;
    size_t n_own;
    const cdn_settings_t *settings;
};

bool cdn_net_is_ip_literal(const char *host)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

bool cdn_net_host_normalize(const char *in, char *out, size_t outsz)
{
    size_t n = strlen(in);
    if (n && in[n - 1] == '.')
        n--;
    if (n == 0 || n >= outsz || n > 253)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (!(isalnum(c) || c == '-' || c == '.' || c == '_' || c == ':'))
            return false;
        out[i] = (char)tolower(c);
    }
    out[n] = '\0';
    if (strchr(out, ':'))
        return cdn_net_is_ip_literal(out);
    if (strstr(out, "..") || out[0] == '.')
        return false;
    return true;
}

int cdn_net_cidr_parse(const char *s, cdn_net_cidr_t *out)
{
    char buf[64];
    if (strlen(s) >= sizeof buf)
        return -1;
    strcpy(buf, s);
    char *slash = strchr(buf, '/');
    long prefix = -1;
    if (slash) {
        *slash = '\0';
        char *end;
        errno = 0;
        prefix = strtol(slash + 1, &end, 10);
        if (errno || *end || end == slash + 1 || prefix < 0)
            return -1;
    }
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, buf, out->addr) == 1) {
        out->family = AF_INET;
        if (prefix > 32)
            return -1;
        out->prefix = prefix < 0 ? 32 : (unsigned)prefix;
    } else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
        out->family = AF_INET6;
        if (prefix > 128)
            return -1;
        out->prefix = prefix < 0 ? 128 : (unsigned)prefix;
    } else {
        return -1;
    }
    return 0;
}

static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;
    if (memcmp(a, b, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
}

/* Family and raw bytes of sa; an IPv4-mapped IPv6 address counts as IPv4 so
 * "::ffff:10.0.0.1" cannot slip past a v4 rule. */
static int sa_bytes(const struct sockaddr *sa, uint8_t out[16])
{
    if (sa->sa_family == AF_INET) {
        memcpy(out, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        return AF_INET;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            memcpy(out, a->s6_addr + 12, 4);
            return AF_INET;
        }
        memcpy(out, a->s6_addr, 16);
        return AF_INET6;
    }
    return -1;
}

bool cdn_net_cidr_match(const cdn_net_cidr_t *c, const struct sockaddr *sa)
{
    uint8_t b[16];
    int fam = sa_bytes(sa, b);
    return fam == c->family && prefix_eq(b, c->addr, c->prefix);
}

static int parse_pattern(const char *text, bool deny, pattern_t *p, cdn_error_t *err)
{
    const char *list = deny ? "network.deniedDomains" : "network.allowedDomains";
    memset(p, 0, sizeof *p);
    snprintf(p->text, sizeof p->text, "%s", text);
    if (strcmp(text, "*") == 0) {
        if (!deny)
            return cdn_error_usage(err, "%s: \"*\" is only accepted in network.deniedDomains",
                                   list);
        p->any = true;
        return 0;
    }
    if (strstr(text, "://") || strchr(text, '/') || strchr(text, '@'))
        return cdn_error_usage(err, "%s: \"%s\": give a host name, not a URL", list, text);
    char host[300];
    const char *portstr = NULL;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || (size_t)(close - text - 1) >= sizeof host)
            return cdn_error_usage(err, "%s: \"%s\": bad [IPv6] literal", list, text);
        memcpy(host, text + 1, (size_t)(close - text - 1));
        host[close - text - 1] = '\0';
        if (close[1] == ':')
            portstr = close + 2;
        else if (close[1])
            return cdn_error_usage(err, "%s: \"%s\": bad [IPv6]:port", list, text);
    } else {
        const char *colon = strchr(text, ':');
        if (colon && strchr(colon + 1, ':')) {
            snprintf(host, sizeof host, "%s", text); /* bare IPv6 literal */
        } else {
            size_t n = colon ? (size_t)(colon - text) : strlen(text);
            if (n >= sizeof host)
                return cdn_error_usage(err, "%s: \"%s\": name too long", list, text);
            memcpy(host, text, n);
            host[n] = '\0';
            if (colon)
                portstr = colon + 1;
        }
    }
    if (portstr) {
        char *end;
        errno = 0;
        long port = strtol(portstr, &end, 10);
        if (errno || *end || end == portstr || port < 1 || port > 65535)
            return cdn_error_usage(err, "%s: \"%s\": bad port", list, text);
        p->port = (uint16_t)port;
    }
    const char *name = host;
    if (strncmp(host, "*.", 2) == 0) {
        p->wildcard = true;
        name = host + 2;
    }
    if (strchr(name, '*'))
        return cdn_error_usage(err, "%s: \"%s\": '*' is only allowed as a leading \"*.\"", list,
                               text);
    if (!cdn_net_host_normalize(name, p->host, sizeof p->host))
        return cdn_error_usage(err, "%s: \"%s\": not a host name or IP literal", list, text);
    p->ip = cdn_net_is_ip_literal(p->host);
    if (p->wildcard && (p->ip || !strchr(p->host, '.')) && !deny)
        return cdn_error_usage(err, "%s: \"%s\": a wildcard must leave at least two labels "
                               "(\"*.example.com\", not \"*.com\")", list, text);
    return 0;
}

static bool host_matches(const pattern_t *p, const char *host)
{
    if (p->any)
        return true;
    if (!p->wildcard)
        return strcmp(p->host, host) == 0;
    size_t hl = strlen(host), sl = strlen(p->host);
    return hl > sl + 1 && host[hl - sl - 1] == '.' && strcmp(host + hl - sl, p->host) == 0;
}

static int load_list(const cdn_strv_t *sv, bool deny, const cdn_kvlist_t *reasons, pattern_t **out,
                     size_t *n_out, cdn_error_t *err)
{
    *out = NULL;
    *n_out = 0;
    if (!sv || sv->n == 0)
        return 0;
    pattern_t *v = calloc(sv->n, sizeof *v);
    if (!v)
        return cdn_error(err, ENOMEM, "out of memory");
    for (size_t i = 0; i < sv->n; i++) {
        if (parse_pattern(sv->v[i], deny, &v[i], err) < 0) {
            free(v);
            return -1;
        }
        for (size_t k = 0; reasons && k < reasons->n; k++)
            if (strcmp(reasons->v[k].key, sv->v[i]) == 0)
                v[i].reason = reasons->v[k].val;
    }
    *out = v;
    *n_out = sv->n;
    return 0;
}

static int load_own_addrs(cdn_net_policy_t *p, cdn_error_t *err)
{
    struct ifaddrs *ifa;
    if (getifaddrs(&ifa) < 0)
        return cdn_error(err, errno, "getifaddrs");
    size_t n = 0;
    for (struct ifaddrs *i = ifa; i; i = i->ifa_next)
        if (i->ifa_addr && (i->ifa_addr->sa_family == AF_INET || i->ifa_addr->sa_family == AF_INET6))
            n++;
    p->own = calloc(n ? n : 1, sizeof *p->own);
    if (!p->own) {
        freeifaddrs(ifa);
        return cdn_error(err, ENOMEM, "out of memory");
    }
    for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
        if (!i->ifa_addr)
            continue;
        if (i->ifa_addr->sa_family == AF_INET)
            memcpy(&p->own[p->n_own++], i->ifa_addr, sizeof(struct sockaddr_in));
        else if (i->ifa_addr->sa_family == AF_INET6)
            memcpy(&p->own[p->n_own++], i->ifa_addr, sizeof(struct sockaddr_in6));
    }
    freeifaddrs(ifa);
    return 0;
}

int cdn_net_policy_new(const cdn_settings_t *s, const uint16_t *default_ports, size_t n_ports,
                       bool with_host_addrs, cdn_net_policy_t **out, cdn_error_t *err)
{
    cdn_net_policy_t *p = calloc(1, sizeof *p);
    if (!p)
        return cdn_error(err, ENOMEM, "out of memory");
    p->settings = s;
    if (!default_ports) {
        p->ports[0] = 80;
        p->ports[1] = 443;
        p->n_ports = 2;
    } else {
        if (n_ports > CDN_ARRAY_SIZE(p->ports)) {
            cdn_net_policy_free(p);
            return cdn_error_usage(err, "too many default ports (at most %zu)",
                                   CDN_ARRAY_SIZE(p->ports));
        }
        memcpy(p->ports, default_ports, n_ports * sizeof *default_ports);
        p->n_ports = n_ports;
    }
    if (s) {
        if (load_list(&s->network.allowed_domains, false, NULL, &p->allow, &p->n_allow, err) < 0 ||
            load_list(&s->network.denied_domains, true, &s->network.denied_domain_reasons,
                      &p->deny, &p->n_deny, err) < 0) {
            cdn_net_policy_free(p);
            return cdn_error_wrap(err, "network policy");
        }
        size_t nd = s->network.denied_resolved_addresses.n;
        p->denied_addrs = calloc(nd ? nd : 1, sizeof *p->denied_addrs);
        if (!p->denied_addrs) {
            cdn_net_policy_free(p);
            return cdn_error(err, ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < nd; i++) {
            if (cdn_net_cidr_parse(s->network.denied_resolved_addresses.v[i],
                                   &p->denied_addrs[i]) < 0) {
                cdn_error_usage(err, "network.deniedResolvedAddresses: \"%s\" is not an address "
                                "or CIDR", s->network.denied_resolved_addresses.v[i]);
                cdn_net_policy_free(p);
                return -1;
            }
        }
        p->n_denied_addrs = nd;
    }
    if (with_host_addrs && load_own_addrs(p, err) < 0) {
        cdn_net_policy_free(p);
        return -1;
    }
    *out = p;
    return 0;
}

void cdn_net_policy_free(cdn_net_policy_t *p)
{
    if (!p)
        return;
    free(p->allow);
    free(p->deny);
    free(p->denied_addrs);
    free(p->own);
    free(p);
}

static bool default_port(const cdn_net_policy_t *p, uint16_t port)
{
    for (size_t i = 0; i < p->n_ports; i++)
        if (p->ports[i] == port)
            return true;
    return false;
}

static void fmt_hostport(char *buf, size_t sz, const char *host, uint16_t port)
{
    bool v6 = strchr(host, ':') != NULL;
    if (port)
        snprintf(buf, sz, v6 ? "[%s]:%u" : "%s:%u", host, port);
    else
        snprintf(buf, sz, "%s", host);
}

bool cdn_net_policy_check_host(const cdn_net_policy_t *p, const char *host_in, uint16_t port,
                               cdn_net_verdict_t *v)
{
    char host[256];
    memset(v, 0, sizeof *v);
    if (!cdn_net_host_normalize(host_in, host, sizeof host)) {
        snprintf(v->rule, sizeof v->rule, "invalid host name");
        snprintf(v->reason, sizeof v->reason, "\"%.200s\" is not a valid host name", host_in);
        return false;
    }
    for (size_t i = 0; i < p->n_deny; i++) {
        const pattern_t *d = &p->deny[i];
        if (host_matches(d, host) && (d->port == 0 || port == 0 || d->port == port)) {
            /* A port-specific deny does not refuse the name as a whole. */
            if (port == 0 && d->port != 0)
                continue;
            snprintf(v->rule, sizeof v->rule, "network.deniedDomains \"%.280s\"", d->text);
            snprintf(v->setting, sizeof v->setting,
                     "remove \"%.280s\" from network.deniedDomains", d->text);
            snprintf(v->reason, sizeof v->reason, "%.500s",
                     d->reason ? d->reason : "the name is on the deny list");
            return false;
        }
    }
    char hp[300];
    fmt_hostport(hp, sizeof hp, host, port && !default_port(p, port) ? port : 0);
    if (p->n_allow == 0) {
        snprintf(v->rule, sizeof v->rule, "network.allowedDomains is empty (no network)");
        snprintf(v->setting, sizeof v->setting, "add \"%.280s\" to network.allowedDomains", hp);
        snprintf(v->reason, sizeof v->reason, "this sandbox has no network access");
        return false;
    }
    bool name_seen = false;
    for (size_t i = 0; i < p->n_allow; i++) {
        const pattern_t *a = &p->allow[i];
        if (!host_matches(a, host))
            continue;
        name_seen = true;
        if (port == 0 || (a->port ? a->port == port : default_port(p, port))) {
            snprintf(v->rule, sizeof v->rule, "network.allowedDomains \"%.280s\"", a->text);
            v->allowed = true;
            return true;
        }
    }
    if (name_seen) {
        snprintf(v->rule, sizeof v->rule, "port %u is not allowed for \"%.200s\"", port, host);
        snprintf(v->setting, sizeof v->setting, "add \"%.280s\" to network.allowedDomains", hp);
        snprintf(v->reason, sizeof v->reason,
                 "patterns without a port allow only the default ports (80, 443)");
        return false;
    }
    bool ip = cdn_net_is_ip_literal(host);
    snprintf(v->rule, sizeof v->rule, ip ? "IP literal not in network.allowedDomains"
                                         : "no match in network.allowedDomains");
    snprintf(v->setting, sizeof v->setting, "add \"%.280s\" to network.allowedDomains", hp);
    snprintf(v->reason, sizeof v->reason, ip ? "IP addresses are reachable only when listed"
                                             : "the name is not on the allow list");
    return false;
}

bool cdn_net_policy_port_explicit(const cdn_net_policy_t *p, const char *host_in, uint16_t port)
{
    char host[256];
    if (!cdn_net_host_normalize(host_in, host, sizeof host))
        return false;
    for (size_t i = 0; i < p->n_allow; i++)
        if (p->allow[i].port == port && host_matches(&p->allow[i], host))
            return true;
    return false;
}

static const struct {
    const char *cidr, *what;
} forbidden[] = {
    {"0.0.0.0/8", "unspecified"},        {"127.0.0.0/8", "loopback"},
    {"10.0.0.0/8", "private"},           {"172.16.0.0/12", "private"},
    {"192.168.0.0/16", "private"},       {"100.64.0.0/10", "CGNAT"},
    {"169.254.0.0/16", "link-local (cloud metadata)"},
    {"224.0.0.0/4", "multicast"},        {"240.0.0.0/4", "reserved"},
    {"::/128", "unspecified"},           {"::1/128", "loopback"},
    {"fc00::/7", "private (ULA)"},       {"fe80::/10", "link-local"},
    {"ff00::/8", "multicast"},           {"64:ff9b:1::/48", "private (NAT64)"},
};

static bool addr_listed(const cdn_net_policy_t *p, const char *host, const struct sockaddr *sa,
                        bool loopback)
{
    for (size_t i = 0; i < p->n_allow; i++) {
        const pattern_t *a = &p->allow[i];
        cdn_net_cidr_t c;
        if (a->ip && cdn_net_cidr_parse(a->host, &c) == 0 && cdn_net_cidr_match(&c, sa))
            return true;
        /* srt lets "localhost" be listed; it means the host's loopback. */
        if (loopback && !a->wildcard && strcmp(a->host, "localhost") == 0 && host &&
            strcmp(host, "localhost") == 0)
            return true;
    }
    return false;
}

static bool same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
    uint8_t x[16], y[16];
    int fa = sa_bytes(a, x), fb = sa_bytes(b, y);
    return fa == fb && fa > 0 && memcmp(x, y, fa == AF_INET ? 4 : 16) == 0;
}

bool cdn_net_policy_check_addr(const cdn_net_policy_t *p, const char *host,
                               const struct sockaddr *sa, cdn_net_verdict_t *v)
{
    char as[INET6_ADDRSTRLEN] = "?";
    uint8_t b[16];
    int fam = sa_bytes(sa, b);
    memset(v, 0, sizeof *v);
    if (fam < 0) {
        snprintf(v->rule, sizeof v->rule, "not an IP address");
        return false;
    }
    inet_ntop(fam, b, as, sizeof as);
    for (size_t i = 0; i < p->n_denied_addrs; i++) {
        if (cdn_net_cidr_match(&p->denied_addrs[i], sa)) {
            snprintf(v->rule, sizeof v->rule, "network.deniedResolvedAddresses (%s)", as);
            snprintf(v->setting, sizeof v->setting,
                     "remove the entry covering %s from network.deniedResolvedAddresses", as);
            snprintf(v->reason, sizeof v->reason, "\"%.200s\" resolved to %s, which is denied",
                     host ? host : "", as);
            return false;
        }
    }
    const char *what = NULL;
    bool loopback = false;
    for (size_t i = 0; i < CDN_ARRAY_SIZE(forbidden) && !what; i++) {
        cdn_net_cidr_t c;
        if (cdn_net_cidr_parse(forbidden[i].cidr, &c) == 0 && cdn_net_cidr_match(&c, sa)) {
            what = forbidden[i].what;
            loopback = strcmp(what, "loopback") == 0;
        }
    }
    for (size_t i = 0; i < p->n_own && !what; i++)
        if (same_addr((const struct sockaddr *)&p->own[i], sa))
            what = "one of the host's own addresses";
    if (what && !addr_listed(p, host, sa, loopback)) {
        snprintf(v->rule, sizeof v->rule, "resolved address %s is %s", as, what);
        snprintf(v->setting, sizeof v->setting, "add \"%s\" to network.allowedDomains", as);
        snprintf(v->reason, sizeof v->reason,
                 "\"%.200s\" resolved to %s (%s); such addresses are refused unless listed "
                 "(DNS rebinding, SSRF)", host ? host : "", as, what);
        return false;
    }
    v->allowed = true;
    snprintf(v->rule, sizeof v->rule, "resolved address %s accepted", as);
    return true;
}
