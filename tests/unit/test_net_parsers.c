#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "net/dns_msg.h"
#include "net/http_parse.h"
#include "net/socks5.h"
#include "net/tls_sni.h"

static int http(const char *s, cdn_http_req_t *r)
{
    return cdn_http_parse_request(s, strlen(s), r);
}

static void test_http(void **state)
{
    (void)state;
    cdn_http_req_t r;
    const char *abs = "GET http://Example.com:8080/p?q HTTP/1.1\r\nHost: example.com:8080\r\n\r\nX";
    assert_int_equal(http(abs, &r), (int)strlen(abs) - 1);
    assert_int_equal(r.form, CDN_HTTP_ABSOLUTE_FORM);
    assert_string_equal(r.host, "Example.com");
    assert_int_equal(r.port, 8080);
    assert_string_equal(r.host_header, "example.com");
    assert_int_equal(r.path_len, 4);
    assert_memory_equal(abs + r.path_off, "/p?q", 4);
    assert_true(http("CONNECT a.test:443 HTTP/1.1\r\n\r\n", &r) > 0);
    assert_int_equal(r.form, CDN_HTTP_AUTHORITY_FORM);
    assert_int_equal(r.port, 443);
    assert_true(http("CONNECT [2001:db8::1]:443 HTTP/1.1\r\n\r\n", &r) > 0);
    assert_string_equal(r.host, "2001:db8::1");
    assert_true(http("GET / HTTP/1.0\r\nhost:  b.test \r\n\r\n", &r) > 0);
    assert_string_equal(r.host_header, "b.test");
    assert_int_equal(http("GET / HTTP/1.1\r\nHost: a", &r), CDN_HTTP_NEED_MORE);
    const char *bad[] = {
        "CONNECT a.test HTTP/1.1\r\n\r\n",              /* no port */
        "GET http://u@a.test/ HTTP/1.1\r\n\r\n",        /* userinfo */
        "GET https://a.test/ HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", /* two Hosts */
        "GET / HTTP/2.0\r\n\r\n",
        "GET / HTTP/1.1\nHost: a\r\n\r\n",              /* bare LF */
        "GET / HTTP/1.1\r\n folded\r\n\r\n",
        "\x16\x03\x01\x02\x00",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(http(bad[i], &r), CDN_HTTP_BAD);
    static char big[CDN_HTTP_HEAD_MAX + 10];
    memset(big, 'a', sizeof big);
    memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
    assert_int_equal(cdn_http_parse_request(big, sizeof big, &r), CDN_HTTP_TOO_LARGE);
}

static void test_socks(void **state)
{
    (void)state;
    bool noauth;
    assert_int_equal(cdn_socks5_parse_greeting((const uint8_t *)"\x05\x02\x02\x00", 4, &noauth), 4);
    assert_true(noauth);
    assert_int_equal(cdn_socks5_parse_greeting((const uint8_t *)"\x05\x01\x02", 3, &noauth), 3);
    assert_false(noauth);
    assert_int_equal(cdn_socks5_parse_greeting((const uint8_t *)"\x04\x01", 2, &noauth), -1);
    cdn_socks5_req_t r;
    const uint8_t dom[] = {5, 1, 0, 3, 6, 'a', '.', 't', 'e', 's', 't', 1, 187};
    assert_int_equal(cdn_socks5_parse_request(dom, sizeof dom, &r), (int)sizeof dom);
    assert_string_equal(r.host, "a.test");
    assert_int_equal(r.port, 443);
    assert_int_equal(cdn_socks5_parse_request(dom, sizeof dom - 1, &r), 0);
    const uint8_t v4[] = {5, 1, 0, 1, 10, 0, 0, 1, 0, 80};
    assert_int_equal(cdn_socks5_parse_request(v4, sizeof v4, &r), 10);
    assert_string_equal(r.host, "10.0.0.1");
    const uint8_t nul[] = {5, 1, 0, 3, 3, 'a', 0, 'b', 0, 80};
    assert_int_equal(cdn_socks5_parse_request(nul, sizeof nul, &r), -1);
    const uint8_t atyp[] = {5, 1, 0, 9, 0, 0};
    assert_int_equal(cdn_socks5_parse_request(atyp, sizeof atyp, &r), -1);
}

static void test_dns(void **state)
{
    (void)state;
    const uint8_t q[] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                         1, 'A', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1};
    cdn_dns_query_t dq;
    assert_int_equal(cdn_dns_parse_query(q, sizeof q, &dq), 0);
    assert_string_equal(dq.name, "a.test");
    assert_int_equal(dq.qtype, 1);
    uint8_t out[512];
    const uint8_t addr[4] = {198, 18, 0, 1};
    int n = cdn_dns_build_response(&dq, 0, addr, 1, 5, out, sizeof out);
    assert_int_equal(n, (int)sizeof q + 16);
    assert_int_equal(out[2] & 0x80, 0x80);
    assert_int_equal(out[7], 1);
    assert_memory_equal(out + n - 4, addr, 4);
    n = cdn_dns_build_response(&dq, CDN_DNS_REFUSED, NULL, 0, 0, out, sizeof out);
    assert_int_equal(out[3] & 0xf, CDN_DNS_REFUSED);
    uint8_t comp[sizeof q];
    memcpy(comp, q, sizeof q);
    comp[12] = 0xc0;
    assert_int_equal(cdn_dns_parse_query(comp, sizeof comp, &dq), -2);
    uint8_t resp[sizeof q];
    memcpy(resp, q, sizeof q);
    resp[2] |= 0x80;
    assert_int_equal(cdn_dns_parse_query(resp, sizeof resp, &dq), -1);
    uint8_t weird[sizeof q];
    memcpy(weird, q, sizeof q);
    weird[13] = '/';
    assert_int_equal(cdn_dns_parse_query(weird, sizeof weird, &dq), -2);
}

static size_t client_hello(uint8_t *b, const char *sni, bool twice)
{
    uint8_t ext[600];
    size_t e = 0;
    for (int k = 0; k < (twice ? 2 : 1) && sni; k++) {
        size_t nl = strlen(sni);
        ext[e++] = 0; ext[e++] = 0;
        ext[e++] = (uint8_t)((nl + 5) >> 8); ext[e++] = (uint8_t)(nl + 5);
        ext[e++] = (uint8_t)((nl + 3) >> 8); ext[e++] = (uint8_t)(nl + 3);
        ext[e++] = 0;
        ext[e++] = (uint8_t)(nl >> 8); ext[e++] = (uint8_t)nl;
        memcpy(ext + e, sni, nl);
        e += nl;
    }
    uint8_t body[800];
    size_t n = 0;
    body[n++] = 3; body[n++] = 3;
    memset(body + n, 7, 32); n += 32;
    body[n++] = 0;                  /* session id */
    body[n++] = 0; body[n++] = 2; body[n++] = 0x13; body[n++] = 1;
    body[n++] = 1; body[n++] = 0;   /* compression */
    body[n++] = (uint8_t)(e >> 8); body[n++] = (uint8_t)e;
    memcpy(body + n, ext, e); n += e;
    size_t h = 0;
    b[h++] = 0x16; b[h++] = 3; b[h++] = 1;
    b[h++] = (uint8_t)((n + 4) >> 8); b[h++] = (uint8_t)(n + 4);
    b[h++] = 1; b[h++] = 0; b[h++] = (uint8_t)(n >> 8); b[h++] = (uint8_t)n;
    memcpy(b + h, body, n);
    return h + n;
}

static void test_tls(void **state)
{
    (void)state;
    uint8_t b[1024];
    char name[256];
    size_t n = client_hello(b, "api.example.com", false);
    assert_int_equal(cdn_tls_parse_sni(b, n, name, sizeof name), CDN_TLS_SNI_FOUND);
    assert_string_equal(name, "api.example.com");
    for (size_t k = 0; k < n; k++)
        assert_int_equal(cdn_tls_parse_sni(b, k, name, sizeof name), CDN_TLS_NEED_MORE);
    n = client_hello(b, "a.test", true);
    assert_int_equal(cdn_tls_parse_sni(b, n, name, sizeof name), CDN_TLS_BAD);
    n = client_hello(b, NULL, false);
    assert_int_equal(cdn_tls_parse_sni(b, n, name, sizeof name), CDN_TLS_NO_SNI);
    assert_int_equal(cdn_tls_parse_sni((const uint8_t *)"GET ", 4, name, sizeof name),
                     CDN_TLS_NOT_TLS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http),
        cmocka_unit_test(test_socks),
        cmocka_unit_test(test_dns),
        cmocka_unit_test(test_tls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
