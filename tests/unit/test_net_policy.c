#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "net/policy.h"
#include "settings/settings.h"

static cdn_settings_t *mk(const char **allow, const char **deny)
{
    cdn_settings_t *s = calloc(1, sizeof *s);
    cdn_error_t err;
    for (; allow && *allow; allow++)
        assert_int_equal(cdn_strv_add(&s->network.allowed_domains, *allow, &err), 0);
    for (; deny && *deny; deny++)
        assert_int_equal(cdn_strv_add(&s->network.denied_domains, *deny, &err), 0);
    return s;
}

static void freeset(cdn_settings_t *s)
{
    cdn_strv_free(&s->network.allowed_domains);
    cdn_strv_free(&s->network.denied_domains);
    cdn_strv_free(&s->network.denied_resolved_addresses);
    free(s->network.denied_domain_reasons.v);
    free(s);
}

static cdn_net_policy_t *pol(cdn_settings_t *s)
{
    cdn_net_policy_t *p = NULL;
    cdn_error_t err;
    assert_int_equal(cdn_net_policy_new(s, NULL, 0, false, &p, &err), 0);
    return p;
}

static void test_wildcards_and_ports(void **state)
{
    (void)state;
    cdn_settings_t *s = mk((const char *[]){"*.example.com", "api.test", "git.test:22",
                                            "10.1.2.3", "[2001:db8::5]:8443", NULL},
                           (const char *[]){"evil.example.com", NULL});
    cdn_net_policy_t *p = pol(s);
    cdn_net_verdict_t v;
    assert_true(cdn_net_policy_check_host(p, "a.example.com", 443, &v));
    assert_true(cdn_net_policy_check_host(p, "A.B.Example.COM.", 80, &v));
    assert_false(cdn_net_policy_check_host(p, "example.com", 443, &v)); /* apex */
    assert_string_equal(v.rule, "no match in network.allowedDomains");
    assert_false(cdn_net_policy_check_host(p, "xexample.com", 443, &v));
    assert_false(cdn_net_policy_check_host(p, "evil.example.com", 443, &v)); /* deny wins */
    assert_non_null(strstr(v.rule, "deniedDomains"));
    assert_true(cdn_net_policy_check_host(p, "api.test", 443, &v));
    assert_false(cdn_net_policy_check_host(p, "api.test", 22, &v));
    assert_non_null(strstr(v.setting, "\"api.test:22\""));
    assert_true(cdn_net_policy_check_host(p, "git.test", 22, &v));
    assert_false(cdn_net_policy_check_host(p, "git.test", 443, &v));
    assert_true(cdn_net_policy_check_host(p, "10.1.2.3", 80, &v));
    assert_false(cdn_net_policy_check_host(p, "10.1.2.4", 80, &v));
    assert_string_equal(v.rule, "IP literal not in network.allowedDomains");
    assert_true(cdn_net_policy_check_host(p, "2001:db8::5", 8443, &v));
    assert_false(cdn_net_policy_check_host(p, "bad name", 80, &v));
    assert_true(cdn_net_policy_port_explicit(p, "git.test", 22));
    assert_false(cdn_net_policy_port_explicit(p, "api.test", 443));
    cdn_net_policy_free(p);
    freeset(s);
}

static void test_empty_and_star(void **state)
{
    (void)state;
    cdn_settings_t *s = mk(NULL, NULL);
    cdn_net_policy_t *p = pol(s);
    cdn_net_verdict_t v;
    assert_false(cdn_net_policy_check_host(p, "example.com", 443, &v));
    assert_non_null(strstr(v.rule, "empty"));
    assert_string_equal(v.setting, "add \"example.com\" to network.allowedDomains");
    cdn_net_policy_free(p);
    freeset(s);

    s = mk((const char *[]){"a.test", NULL}, (const char *[]){"*", NULL});
    p = pol(s);
    assert_false(cdn_net_policy_check_host(p, "a.test", 443, &v));
    cdn_net_policy_free(p);
    freeset(s);

    cdn_error_t err;
    const char *bad[] = {"*", "*.com", "http://a.test", "a.test/x", "a.*.test", "a.test:0",
                         "a.test:99999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s = mk((const char *[]){bad[i], NULL}, NULL);
        p = NULL;
        assert_int_equal(cdn_net_policy_new(s, NULL, 0, false, &p, &err), -1);
        assert_int_equal(err.status, CDN_EXIT_USAGE);
        freeset(s);
    }
}

static struct sockaddr_storage sa(const char *ip)
{
    struct sockaddr_storage ss = {0};
    if (strchr(ip, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        inet_pton(AF_INET6, ip, &s6->sin6_addr);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        inet_pton(AF_INET, ip, &s4->sin_addr);
    }
    return ss;
}

static void test_resolved(void **state)
{
    (void)state;
    cdn_settings_t *s = mk((const char *[]){"a.test", "10.9.9.9", "localhost", NULL}, NULL);
    cdn_error_t err;
    assert_int_equal(cdn_strv_add(&s->network.denied_resolved_addresses, "203.0.113.0/24", &err),
                     0);
    cdn_net_policy_t *p = pol(s);
    cdn_net_verdict_t v;
    const char *bad[] = {"127.0.0.1", "10.0.0.5", "172.16.1.1", "192.168.1.1", "100.64.0.1",
                         "169.254.169.254", "0.0.0.0", "224.0.0.1", "::1", "fd00::1",
                         "fe80::1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
                         "203.0.113.7"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct sockaddr_storage a = sa(bad[i]);
        assert_false(cdn_net_policy_check_addr(p, "a.test", (struct sockaddr *)&a, &v));
    }
    struct sockaddr_storage ok = sa("93.184.216.34");
    assert_true(cdn_net_policy_check_addr(p, "a.test", (struct sockaddr *)&ok, &v));
    struct sockaddr_storage listed = sa("10.9.9.9");
    assert_true(cdn_net_policy_check_addr(p, "a.test", (struct sockaddr *)&listed, &v));
    struct sockaddr_storage lo = sa("127.0.0.1");
    assert_true(cdn_net_policy_check_addr(p, "localhost", (struct sockaddr *)&lo, &v));
    struct sockaddr_storage meta = sa("169.254.169.254");
    assert_false(cdn_net_policy_check_addr(p, "a.test", (struct sockaddr *)&meta, &v));
    assert_non_null(strstr(v.rule, "link-local"));
    cdn_net_policy_free(p);
    freeset(s);
}

static void test_reasons(void **state)
{
    (void)state;
    cdn_settings_t *s = mk((const char *[]){"*.corp.test", NULL},
                           (const char *[]){"paste.corp.test", NULL});
    cdn_kv_t kv = {.key = (char *)(uintptr_t)"paste.corp.test",
                   .val = (char *)(uintptr_t)"pastebins leak code"};
    s->network.denied_domain_reasons.v = calloc(1, sizeof kv);
    s->network.denied_domain_reasons.v[0] = kv;
    s->network.denied_domain_reasons.n = 1;
    cdn_net_policy_t *p = pol(s);
    cdn_net_verdict_t v;
    assert_false(cdn_net_policy_check_host(p, "paste.corp.test", 443, &v));
    assert_string_equal(v.reason, "pastebins leak code");
    assert_string_equal(v.setting, "remove \"paste.corp.test\" from network.deniedDomains");
    assert_false(cdn_net_policy_check_host(p, "paste.corp.test", 0, &v)); /* DNS question */
    assert_true(cdn_net_policy_check_host(p, "git.corp.test", 0, &v));
    cdn_net_policy_free(p);
    freeset(s);
}

/* What the settings layer accepts, the policy must accept too. */
static void test_from_settings(void **state)
{
    (void)state;
    static const char json[] =
        "{\"network\": {\"allowedDomains\": [\"example.com\", \"*.example.org\", "
        "\"localhost\", \"api.test:8443\", \"[2001:db8::1]:443\", \"10.1.2.3\", "
        "\"Mixed.Case.Test\"], \"deniedDomains\": [\"*\", \"bad.example.org\"], "
        "\"deniedDomainReasons\": {\"bad.example.org\": \"no\"}, "
        "\"deniedResolvedAddresses\": [\"203.0.113.0/24\", \"2001:db8:ffff::/48\"]}}";
    cdn_settings_t *s = NULL;
    cdn_error_t err;
    if (cdn_settings_load_buffer("test", json, sizeof json - 1, &s, &err) < 0) {
        cdn_error_print(&err, stderr);
        fail();
    }
    cdn_net_policy_t *p = NULL;
    if (cdn_net_policy_new(s, NULL, 0, false, &p, &err) < 0) {
        cdn_error_print(&err, stderr);
        fail();
    }
    cdn_net_verdict_t v;
    assert_false(cdn_net_policy_check_host(p, "example.com", 443, &v)); /* "*" denies */
    assert_non_null(strstr(v.rule, "\"*\""));
    cdn_net_policy_free(p);
    cdn_settings_free(s);
}

static void test_cidr(void **state)
{
    (void)state;
    cdn_net_cidr_t c;
    assert_int_equal(cdn_net_cidr_parse("10.0.0.0/8", &c), 0);
    assert_int_equal(cdn_net_cidr_parse("fc00::/7", &c), 0);
    assert_int_equal(cdn_net_cidr_parse("10.0.0.0/33", &c), -1);
    assert_int_equal(cdn_net_cidr_parse("10.0.0.0/", &c), -1);
    assert_int_equal(cdn_net_cidr_parse("nope", &c), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wildcards_and_ports),
        cmocka_unit_test(test_empty_and_star),
        cmocka_unit_test(test_resolved),
        cmocka_unit_test(test_reasons),
        cmocka_unit_test(test_from_settings),
        cmocka_unit_test(test_cidr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
