#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net/net.h"

const char *cdn_net_resolv_conf(void)
{
    /* One resolver, the broker's; short timeouts because a refusal is an
     * answer, not a reason to retry. */
    return "# written by cordon: the broker answers for allowed names only\n"
           "nameserver 127.0.0.1\n"
           "options timeout:2 attempts:1\n";
}

void cdn_net_config_init(cdn_net_config_t *cfg, const cdn_settings_t *settings)
{
    static const uint16_t ports[] = {80, 443};
    memset(cfg, 0, sizeof *cfg);
    cfg->settings = settings;
    cfg->http_port = CDN_NET_HTTP_PORT;
    cfg->socks_port = CDN_NET_SOCKS_PORT;
    cfg->transparent_port = CDN_NET_TRANSPARENT_PORT;
    cfg->dns_port = CDN_NET_DNS_PORT;
    cfg->max_connections = 512;
    cfg->handshake_timeout_ms = 10000;
    cfg->idle_timeout_ms = 0;
    cfg->default_ports = ports;
    cfg->n_default_ports = 2;
    cfg->ipv6 = true;
    if (settings) {
        cfg->parent_proxy = settings->network.parent_proxy.https ? settings->network.parent_proxy.https
                                                                 : settings->network.parent_proxy.http;
        cfg->parent_no_proxy = &settings->network.parent_proxy.no_proxy;
        cfg->local_ports = settings->cordon.local_ports;
        cfg->n_local_ports = settings->cordon.n_local_ports;
    }
}

void cdn_net_fds_init(cdn_net_fds_t *fds)
{
    fds->http4 = fds->http6 = fds->socks4 = fds->socks6 = -1;
    fds->transparent4 = fds->transparent6 = fds->dns_udp4 = fds->dns_tcp4 = -1;
    for (size_t i = 0; i < CDN_NET_MAX_FORWARDS; i++) {
        fds->local[i] = -1;
        fds->local_port[i] = 0;
    }
    fds->n_local = 0;
}

void cdn_net_fds_close(cdn_net_fds_t *fds)
{
    int *all[] = {&fds->http4,        &fds->http6,        &fds->socks4,   &fds->socks6,
                  &fds->transparent4, &fds->transparent6, &fds->dns_udp4, &fds->dns_tcp4};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (*all[i] >= 0)
            close(*all[i]);
        *all[i] = -1;
    }
    for (size_t i = 0; i < fds->n_local; i++) {
        if (fds->local[i] >= 0)
            close(fds->local[i]);
        fds->local[i] = -1;
    }
    fds->n_local = 0;
}

const char *cdn_net_proto_name(cdn_net_proto_t p)
{
    switch (p) {
    case CDN_NET_HTTP: return "http";
    case CDN_NET_CONNECT: return "connect";
    case CDN_NET_SOCKS: return "socks5";
    case CDN_NET_TRANSPARENT: return "transparent";
    case CDN_NET_DNS: return "dns";
    case CDN_NET_LOCAL: return "local";
    case CDN_NET_PUBLISH: return "publish";
    }
    return "?";
}

int cdn_net_proxy_env(const cdn_net_config_t *cfg, cdn_strv_t *env, cdn_error_t *err)
{
    char http[64], socks[64];
    snprintf(http, sizeof http, "http://127.0.0.1:%u", cfg->http_port);
    /* socks5h: the proxy resolves names, so the policy sees the name. */
    snprintf(socks, sizeof socks, "socks5h://127.0.0.1:%u", cfg->socks_port);
    /* The sandbox's own loopback is its own: local servers stay direct. */
    const char *no_proxy = "localhost,127.0.0.1,::1";
    const struct {
        const char *name, *val;
    } vars[] = {
        {"HTTP_PROXY", http},   {"http_proxy", http},   {"HTTPS_PROXY", http},
        {"https_proxy", http},  {"ALL_PROXY", socks},   {"all_proxy", socks},
        {"NO_PROXY", no_proxy}, {"no_proxy", no_proxy},
        /* npm reads its own config keys before the standard variables. */
        {"npm_config_proxy", http}, {"npm_config_https_proxy", http},
        {"npm_config_noproxy", no_proxy},
        {"PIP_PROXY", http},
        /* Node >= 22.21/24: fetch() and http honour the variables with this. */
        {"NODE_USE_ENV_PROXY", "1"},
        {"GLOBAL_AGENT_HTTP_PROXY", http},
        {"YARN_HTTP_PROXY", http}, {"YARN_HTTPS_PROXY", http},
    };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (cdn_strv_addf(env, err, "%s=%s", vars[i].name, vars[i].val) < 0)
            return -1;
    /* The JVM ignores the variables; git and Go read HTTP(S)_PROXY above. */
    if (cdn_strv_addf(env, err,
                      "JAVA_TOOL_OPTIONS=-Dhttp.proxyHost=127.0.0.1 -Dhttp.proxyPort=%u "
                      "-Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=%u "
                      "-Dhttp.nonProxyHosts=localhost|127.0.0.1|[::1] "
                      "-Djava.net.useSystemProxies=false",
                      cfg->http_port, cfg->http_port) < 0)
        return -1;
    return 0;
}
