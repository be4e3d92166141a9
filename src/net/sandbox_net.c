/* Sandbox side of the broker: runs inside the sandbox's network namespace,
 * before exec, with CAP_NET_ADMIN over that namespace.  Talks rtnetlink and
 * nf_tables directly (libmnl + libnftnl) so that no `ip` or `nft` binary is
 * needed inside, and so that every step fails with a precise error. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>

#include "net/net.h"
#include "util/cleanup.h"

#define DEAD_END_IF "cdn0"
#define DEAD_END_PEER "cdn1"
#define TABLE_NAME "cordon"
#define NLBUF 8192

static void mnl_closep(struct mnl_socket **s)
{
    if (*s)
        mnl_socket_close(*s);
}
#define _cleanup_mnl_ __attribute__((cleanup(mnl_closep)))

static struct mnl_socket *nl_open(int bus, cdn_error_t *err)
{
    struct mnl_socket *nl = mnl_socket_open2(bus, SOCK_CLOEXEC);
    if (!nl) {
        cdn_error(err, errno, "netlink socket");
        return NULL;
    }
    if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        cdn_error(err, errno, "netlink bind");
        mnl_socket_close(nl);
        return NULL;
    }
    /* A lost ack must not hang the sandbox start. */
    struct timeval tv = {.tv_sec = 2};
    setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return nl;
}

/* Send one request (or batch) and wait for its ack; -errno on failure. */
static int nl_talk(struct mnl_socket *nl, const void *msg, size_t len)
{
    char buf[NLBUF];
    if (mnl_socket_sendto(nl, msg, len) < 0)
        return -errno;
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof buf);
        if (n < 0)
            return -errno;
        int r = mnl_cb_run(buf, (size_t)n, 0, mnl_socket_get_portid(nl), NULL, NULL);
        if (r < 0)
            return -errno;
        if (r == MNL_CB_STOP)
            return 0;
    }
}

static struct nlmsghdr *rt_hdr(char *buf, uint16_t type, uint16_t flags)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
    nlh->nlmsg_seq = (uint32_t)time(NULL);
    return nlh;
}

static int link_up(struct mnl_socket *nl, unsigned ifindex)
{
    char buf[NLBUF];
    struct nlmsghdr *nlh = rt_hdr(buf, RTM_NEWLINK, 0);
    struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
    ifm->ifi_family = AF_UNSPEC;
    ifm->ifi_index = (int)ifindex;
    ifm->ifi_flags = IFF_UP;
    ifm->ifi_change = IFF_UP;
    return nl_talk(nl, nlh, nlh->nlmsg_len);
}

static int link_create(struct mnl_socket *nl, const char *kind)
{
    char buf[NLBUF];
    struct nlmsghdr *nlh = rt_hdr(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
    ifm->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, DEAD_END_IF);
    struct nlattr *li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
    if (strcmp(kind, "veth") == 0) {
        struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
        struct nlattr *peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
        struct ifinfomsg *pifm = mnl_nlmsg_put_extra_header(nlh, sizeof *pifm);
        memset(pifm, 0, sizeof *pifm);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, DEAD_END_PEER);
        mnl_attr_nest_end(nlh, peer);
        mnl_attr_nest_end(nlh, data);
    }
    mnl_attr_nest_end(nlh, li);
    return nl_talk(nl, nlh, nlh->nlmsg_len);
}

static int addr_add(struct mnl_socket *nl, int family, unsigned ifindex, const char *addr,
                    uint8_t prefix)
{
    char buf[NLBUF];
    unsigned char a[16];
    if (inet_pton(family, addr, a) != 1)
        return -EINVAL;
    struct nlmsghdr *nlh = rt_hdr(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
    struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof *ifa);
    ifa->ifa_family = (uint8_t)family;
    ifa->ifa_prefixlen = prefix;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = ifindex;
    mnl_attr_put(nlh, IFA_LOCAL, family == AF_INET ? 4 : 16, a);
    mnl_attr_put(nlh, IFA_ADDRESS, family == AF_INET ? 4 : 16, a);
    if (family == AF_INET6)
        mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
    return nl_talk(nl, nlh, nlh->nlmsg_len);
}

static int default_route(struct mnl_socket *nl, int family, unsigned ifindex)
{
    char buf[NLBUF];
    struct nlmsghdr *nlh = rt_hdr(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
    struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof *rtm);
    rtm->rtm_family = (uint8_t)family;
    rtm->rtm_dst_len = 0;
    rtm->rtm_table = RT_TABLE_MAIN;
    rtm->rtm_protocol = RTPROT_STATIC;
    rtm->rtm_scope = RT_SCOPE_LINK;
    rtm->rtm_type = RTN_UNICAST;
    mnl_attr_put_u32(nlh, RTA_OIF, ifindex);
    return nl_talk(nl, nlh, nlh->nlmsg_len);
}

/* A dead-end interface carrying the default routes: connect() to any
 * address then gets as far as the nat hook (and the broker) instead of
 * failing with ENETUNREACH.  dummy where the kernel has it, else a veth
 * pair whose both ends stay in this namespace. */
static int setup_links(cdn_error_t *err)
{
    _cleanup_mnl_ struct mnl_socket *nl = nl_open(NETLINK_ROUTE, err);
    if (!nl)
        return -1;
    int r = link_up(nl, 1);
    if (r < 0)
        return cdn_error(err, -r, "bringing up lo");
    r = link_create(nl, "dummy");
    if (r < 0 && r != -EEXIST) {
        int r2 = link_create(nl, "veth");
        if (r2 < 0 && r2 != -EEXIST)
            return cdn_error(err, -r2, "creating the dead-end interface (dummy: %s; veth)",
                             strerror(-r));
        unsigned peer = if_nametoindex(DEAD_END_PEER);
        if (!peer || (r = link_up(nl, peer)) < 0)
            return cdn_error(err, peer ? -r : errno, "bringing up %s", DEAD_END_PEER);
    }
    unsigned idx = if_nametoindex(DEAD_END_IF);
    if (!idx)
        return cdn_error(err, errno, "finding %s", DEAD_END_IF);
    if ((r = link_up(nl, idx)) < 0)
        return cdn_error(err, -r, "bringing up %s", DEAD_END_IF);
    /* TEST-NET addresses: they never exist outside, so nothing real is
     * shadowed and a leak would be visible at once. */
    if ((r = addr_add(nl, AF_INET, idx, "192.0.2.1", 32)) < 0)
        return cdn_error(err, -r, "adding an IPv4 address to %s", DEAD_END_IF);
    if ((r = default_route(nl, AF_INET, idx)) < 0)
        return cdn_error(err, -r, "adding the IPv4 default route");
    if ((r = addr_add(nl, AF_INET6, idx, "2001:db8::1", 128)) < 0)
        return cdn_error(err, -r, "adding an IPv6 address to %s", DEAD_END_IF);
    if ((r = default_route(nl, AF_INET6, idx)) < 0)
        return cdn_error(err, -r, "adding the IPv6 default route");
    return 0;
}

/* ---- nf_tables ---- */

static struct nftnl_expr *e_meta(uint32_t key)
{
    struct nftnl_expr *e = nftnl_expr_alloc("meta");
    if (e) {
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
    }
    return e;
}

static struct nftnl_expr *e_cmp(uint32_t op, const void *data, uint32_t len)
{
    struct nftnl_expr *e = nftnl_expr_alloc("cmp");
    if (e) {
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
        nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
    }
    return e;
}

static struct nftnl_expr *e_payload_dport(void)
{
    struct nftnl_expr *e = nftnl_expr_alloc("payload");
    if (e) {
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, 2);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 2);
    }
    return e;
}

static struct nftnl_expr *e_port_imm(uint16_t port)
{
    struct nftnl_expr *e = nftnl_expr_alloc("immediate");
    uint16_t be = htons(port);
    if (e) {
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
        nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &be, sizeof be);
    }
    return e;
}

static struct nftnl_expr *e_redir(void)
{
    struct nftnl_expr *e = nftnl_expr_alloc("redir");
    if (e) {
        nftnl_expr_set_u32(e, NFTNL_EXPR_REDIR_REG_PROTO_MIN, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_REDIR_FLAGS, NF_NAT_RANGE_PROTO_SPECIFIED);
    }
    return e;
}

static struct nftnl_expr *e_verdict(int verdict)
{
    struct nftnl_expr *e = nftnl_expr_alloc("immediate");
    if (e) {
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
    }
    return e;
}

static struct nftnl_expr *e_ct_status(void)
{
    struct nftnl_expr *e = nftnl_expr_alloc("ct");
    if (e) {
        nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATUS);
        nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
    }
    return e;
}

static struct nftnl_expr *e_and(uint32_t mask)
{
    struct nftnl_expr *e = nftnl_expr_alloc("bitwise");
    uint32_t zero = 0;
    if (e) {
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, sizeof mask);
        nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, sizeof mask);
        nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, sizeof zero);
    }
    return e;
}

typedef struct batch {
    struct mnl_nlmsg_batch *b;
    uint32_t seq;
    bool oom;
} batch_t;

static void add_rule(batch_t *bt, const char *chain, struct nftnl_expr **ex, size_t n, bool last)
{
    struct nftnl_rule *r = nftnl_rule_alloc();
    bool ok = r != NULL;
    for (size_t i = 0; i < n; i++) {
        if (!ex[i])
            ok = false;
        else if (r)
            nftnl_rule_add_expr(r, ex[i]); /* the rule owns it now */
        else
            nftnl_expr_free(ex[i]);
    }
    if (!ok) {
        bt->oom = true;
        if (r)
            nftnl_rule_free(r);
        return;
    }
    nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
    nftnl_rule_set_str(r, NFTNL_RULE_TABLE, TABLE_NAME);
    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
    struct nlmsghdr *nlh = nftnl_rule_nlmsg_build_hdr(
        mnl_nlmsg_batch_current(bt->b), NFT_MSG_NEWRULE, NFPROTO_INET,
        NLM_F_APPEND | NLM_F_CREATE | (last ? NLM_F_ACK : 0), bt->seq++);
    nftnl_rule_nlmsg_build_payload(nlh, r);
    nftnl_rule_free(r);
    mnl_nlmsg_batch_next(bt->b);
}

static void add_chain(batch_t *bt, const char *name, const char *type, int prio, uint32_t policy)
{
    struct nftnl_chain *c = nftnl_chain_alloc();
    if (!c) {
        bt->oom = true;
        return;
    }
    nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, TABLE_NAME);
    nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
    nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type);
    nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_LOCAL_OUT);
    nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
    nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, policy);
    struct nlmsghdr *nlh = nftnl_chain_nlmsg_build_hdr(mnl_nlmsg_batch_current(bt->b),
                                                       NFT_MSG_NEWCHAIN, NFPROTO_INET,
                                                       NLM_F_CREATE, bt->seq++);
    nftnl_chain_nlmsg_build_payload(nlh, c);
    nftnl_chain_free(c);
    mnl_nlmsg_batch_next(bt->b);
}

static int setup_nftables(const cdn_net_config_t *cfg, cdn_error_t *err)
{
    _cleanup_mnl_ struct mnl_socket *nl = nl_open(NETLINK_NETFILTER, err);
    if (!nl)
        return cdn_error_wrap(err, "nftables");
    static char buf[32768];
    batch_t bt = {.b = mnl_nlmsg_batch_start(buf, sizeof buf), .seq = (uint32_t)time(NULL)};
    if (!bt.b)
        return cdn_error(err, ENOMEM, "nftables batch");
    nftnl_batch_begin(mnl_nlmsg_batch_current(bt.b), bt.seq++);
    mnl_nlmsg_batch_next(bt.b);

    struct nftnl_table *t = nftnl_table_alloc();
    if (!t) {
        mnl_nlmsg_batch_stop(bt.b);
        return cdn_error(err, ENOMEM, "nftables table");
    }
    nftnl_table_set_str(t, NFTNL_TABLE_NAME, TABLE_NAME);
    struct nlmsghdr *nlh = nftnl_table_nlmsg_build_hdr(mnl_nlmsg_batch_current(bt.b),
                                                       NFT_MSG_NEWTABLE, NFPROTO_INET,
                                                       NLM_F_CREATE, bt.seq++);
    nftnl_table_nlmsg_build_payload(nlh, t);
    nftnl_table_free(t);
    mnl_nlmsg_batch_next(bt.b);

    add_chain(&bt, "nat_out", "nat", -100, NF_ACCEPT);
    add_chain(&bt, "filter_out", "filter", 0, NF_DROP);

    uint32_t lo = 1; /* lo is always ifindex 1 in a new namespace */
    uint8_t tcp = IPPROTO_TCP, udp = IPPROTO_UDP;
    uint16_t dns_be = htons(53);
    /* nat: loopback stays; all other TCP goes to the transparent port; DNS
     * sent to any server goes to ours. */
    add_rule(&bt, "nat_out",
             (struct nftnl_expr *[]){e_meta(NFT_META_OIF), e_cmp(NFT_CMP_EQ, &lo, 4),
                                     e_verdict(NF_ACCEPT)}, 3, false);
    add_rule(&bt, "nat_out",
             (struct nftnl_expr *[]){e_meta(NFT_META_L4PROTO), e_cmp(NFT_CMP_EQ, &tcp, 1),
                                     e_port_imm(cfg->transparent_port), e_redir()}, 4, false);
    add_rule(&bt, "nat_out",
             (struct nftnl_expr *[]){e_meta(NFT_META_L4PROTO), e_cmp(NFT_CMP_EQ, &udp, 1),
                                     e_payload_dport(), e_cmp(NFT_CMP_EQ, &dns_be, 2),
                                     e_port_imm(cfg->dns_port), e_redir()}, 6, false);
    /* filter (policy drop): only loopback and what the nat chain redirected
     * leave; other UDP, ICMP and everything else is dropped. */
    uint32_t zero = 0;
    add_rule(&bt, "filter_out",
             (struct nftnl_expr *[]){e_meta(NFT_META_OIF), e_cmp(NFT_CMP_EQ, &lo, 4),
                                     e_verdict(NF_ACCEPT)}, 3, false);
    add_rule(&bt, "filter_out",
             (struct nftnl_expr *[]){e_ct_status(), e_and(IPS_DST_NAT),
                                     e_cmp(NFT_CMP_NEQ, &zero, 4), e_verdict(NF_ACCEPT)}, 4,
             true);

    nftnl_batch_end(mnl_nlmsg_batch_current(bt.b), bt.seq++);
    mnl_nlmsg_batch_next(bt.b);
    if (bt.oom) {
        mnl_nlmsg_batch_stop(bt.b);
        return cdn_error(err, ENOMEM, "nftables rules");
    }
    int r = nl_talk(nl, mnl_nlmsg_batch_head(bt.b), mnl_nlmsg_batch_size(bt.b));
    mnl_nlmsg_batch_stop(bt.b);
    if (r < 0)
        return cdn_error(err, -r, "installing the nftables rules");
    return 0;
}

static int listen_on(int family, int type, uint16_t port, int *out, cdn_error_t *err)
{
    _cleanup_close_ int fd = socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return cdn_error(err, errno, "socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_storage ss = {0};
    socklen_t sl;
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sl = sizeof *sin;
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        sin6->sin6_addr = in6addr_loopback;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        sl = sizeof *sin6;
    }
    if (bind(fd, (struct sockaddr *)&ss, sl) < 0)
        return cdn_error(err, errno, "binding %s port %u", family == AF_INET ? "127.0.0.1" : "[::1]",
                         port);
    if (type == SOCK_STREAM && listen(fd, 4096) < 0)
        return cdn_error(err, errno, "listen on port %u", port);
    *out = steal_fd(&fd);
    return 0;
}

int cdn_net_sandbox_setup(const cdn_net_config_t *cfg, cdn_net_fds_t *fds, cdn_error_t *err)
{
    cdn_net_fds_init(fds);
    if (setup_links(err) < 0)
        return cdn_error_wrap(err, "sandbox network");
    if (setup_nftables(cfg, err) < 0) {
        cdn_error_hint(err, "the kernel needs nf_tables with nat, redir and conntrack "
                            "(CONFIG_NFT_NAT, CONFIG_NFT_REDIR, CONFIG_NFT_CT)");
        return cdn_error_wrap(err, "sandbox network");
    }
    if (listen_on(AF_INET, SOCK_STREAM, cfg->http_port, &fds->http4, err) < 0 ||
        listen_on(AF_INET, SOCK_STREAM, cfg->socks_port, &fds->socks4, err) < 0 ||
        listen_on(AF_INET, SOCK_STREAM, cfg->transparent_port, &fds->transparent4, err) < 0 ||
        listen_on(AF_INET, SOCK_DGRAM, cfg->dns_port, &fds->dns_udp4, err) < 0 ||
        listen_on(AF_INET, SOCK_STREAM, cfg->dns_port, &fds->dns_tcp4, err) < 0)
        goto fail;
    if (cfg->ipv6 &&
        (listen_on(AF_INET6, SOCK_STREAM, cfg->http_port, &fds->http6, err) < 0 ||
         listen_on(AF_INET6, SOCK_STREAM, cfg->socks_port, &fds->socks6, err) < 0 ||
         listen_on(AF_INET6, SOCK_STREAM, cfg->transparent_port, &fds->transparent6, err) < 0))
        goto fail;
    if (cdn_net_forward_listeners(cfg, fds, err) < 0)
        goto fail;
    return 0;
fail:
    cdn_net_fds_close(fds);
    return cdn_error_wrap(err, "sandbox network: listening sockets");
}

/* Loopback traffic is accepted before the nat rule, so connections to these
 * ports reach the listener here and are never captured. */
int cdn_net_forward_listeners(const cdn_net_config_t *cfg, cdn_net_fds_t *fds, cdn_error_t *err)
{
    if (cfg->n_local_ports + fds->n_local > CDN_NET_MAX_FORWARDS)
        return cdn_error(err, E2BIG, "cordon.allowLocalPorts: at most %d ports",
                         CDN_NET_MAX_FORWARDS);
    for (size_t i = 0; i < cfg->n_local_ports; i++) {
        if (listen_on(AF_INET, SOCK_STREAM, cfg->local_ports[i], &fds->local[fds->n_local], err) < 0)
            return cdn_error_wrap(err, "cordon.allowLocalPorts");
        fds->local_port[fds->n_local++] = cfg->local_ports[i];
    }
    return 0;
}

int cdn_net_publish_listen(uint16_t port, int *out, cdn_error_t *err)
{
    if (listen_on(AF_INET, SOCK_STREAM, port, out, err) < 0) {
        if (errno == EADDRINUSE || err->errnum == EADDRINUSE)
            cdn_error_hint(err, "another program listens on the host's 127.0.0.1:%u; pick another "
                                "host port with --publish PORT:HOSTPORT", port);
        return cdn_error_wrap(err, "--publish");
    }
    return 0;
}
