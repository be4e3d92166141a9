/* Settings loader and JSON position index. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "settings/json_pos.h"
#include "settings/settings.h"
#include "settings/validate.h"

/* Every key srt 0.0.83 accepts; srt's own schema accepts this file as is. */
static const char full_srt[] =
    "{\n"
    "  \"network\": {\n"
    "    \"allowedDomains\": [\"github.com\", \"*.npmjs.org\", \"localhost\", "
    "\"api.example.com:443\", \"[::1]\", \"[2001:db8::1]:8443\", \"10.0.0.1\", "
    "\"localhost:3000\"],\n"
    "    \"deniedDomains\": [\"*\", \"*:22\", \"evil.example.com\", \"[fe80::1]\"],\n"
    "    \"deniedDomainReasons\": {\"*:22\": \"SSH is blocked; use https\"},\n"
    "    \"strictAllowlist\": true,\n"
    "    \"deniedResolvedAddresses\": [\"10.0.0.0/8\", \"169.254.169.254\", \"fc00::/7\", "
    "\"::ffff:10.0.0.0/104\", \"fe80::1%eth0\"],\n"
    "    \"allowUnixSockets\": [\"/run/user/1000/ssh-agent.sock\"],\n"
    "    \"allowAllUnixSockets\": false,\n"
    "    \"allowLocalBinding\": true,\n"
    "    \"allowMachLookup\": [\"com.example.*\", \"*\"],\n"
    "    \"httpProxyPort\": 3128,\n"
    "    \"socksProxyPort\": 1080,\n"
    "    \"mitmProxy\": {\"socketPath\": \"/tmp/mitm.sock\", \"domains\": [\"api.example.com\", "
    "\"*.internal.example.org\"]},\n"
    "    \"allowPlaintextHeaderSet\": false,\n"
    "    \"stripResponseHeaders\": [\"set-cookie\"],\n"
    "    \"refuseOpaqueTunnels\": false,\n"
    "    \"requireHostMatch\": true,\n"
    "    \"ambiguousRequestTarget\": \"refuse\",\n"
    "    \"tlsTerminate\": {\"caCertPath\": \"/etc/ca.pem\", \"caKeyPath\": \"/etc/ca.key\", "
    "\"excludeDomains\": [\"pinned.example.com\"], \"extraCaCertPaths\": [\"/etc/extra.pem\"], "
    "\"maxTunnels\": 256, \"handshakeTimeoutMs\": 10000},\n"
    "    \"parentProxy\": {\"http\": \"http://proxy.corp:3128\", \"https\": "
    "\"http://proxy.corp:3129\", \"noProxy\": \"localhost, .corp,10.0.0.0/8\"}\n"
    "  },\n"
    "  \"filesystem\": {\n"
    "    \"disabled\": false,\n"
    "    \"denyRead\": [\"~/.ssh\", {\"path\": \"/work/*.env\", \"literal\": true}],\n"
    "    \"allowRead\": [\"~/.ssh/known_hosts\"],\n"
    "    \"allowWrite\": [\".\", \"/tmp/build\"],\n"
    "    \"denyWrite\": [\"./secrets\"],\n"
    "    \"allowGitConfig\": true\n"
    "  },\n"
    "  \"credentials\": {\n"
    "    \"files\": [{\"path\": \"~/.netrc\", \"mode\": \"mask\", \"extract\": \"password "
    "(\\\\S+)\", \"onExtractNoMatch\": \"deny\", \"maskDuplicates\": true, \"injectHosts\": "
    "[\"github.com\"]},\n"
    "              {\"path\": \"~/.config/jwt\", \"mode\": \"mask\", \"decode\": \"jwt\", "
    "\"maskClaims\": [\"sub\"]},\n"
    "              {\"path\": \"~/.aws/\", \"mode\": \"deny\"}],\n"
    "    \"envVars\": [{\"name\": \"GITHUB_TOKEN\", \"mode\": \"mask\", \"injectHosts\": "
    "[\"github.com\"]},\n"
    "                {\"name\": \"AWS_ACCESS_KEY_ID\", \"mode\": \"mask\"},\n"
    "                {\"name\": \"AWS_SECRET_ACCESS_KEY\", \"mode\": \"mask\"},\n"
    "                {\"name\": \"NPM_TOKEN\", \"mode\": \"deny\"}],\n"
    "    \"allowPlaintextInject\": false,\n"
    "    \"awsPairs\": [{\"accessKeyIdVar\": \"AWS_ACCESS_KEY_ID\", \"secretAccessKeyVar\": "
    "\"AWS_SECRET_ACCESS_KEY\"}],\n"
    "    \"sigv4\": {\"streaming\": \"deny\", \"presigned\": \"passthrough\", \"sigv4a\": "
    "\"deny\"}\n"
    "  },\n"
    "  \"ignoreViolations\": {\"*\": [\"/usr/bin\"], \"git push\": [\"/dev/tty\"]},\n"
    "  \"enableWeakerNestedSandbox\": false,\n"
    "  \"allowNestedUserNamespaces\": true,\n"
    "  \"enableWeakerNetworkIsolation\": false,\n"
    "  \"allowAppleEvents\": false,\n"
    "  \"ripgrep\": {\"command\": \"rg\", \"args\": [\"--hidden\"], \"argv0\": \"rg\"},\n"
    "  \"mandatoryDenySearchDepth\": 5,\n"
    "  \"allowPty\": true,\n"
    "  \"seccomp\": {\"applyPath\": \"/usr/lib/apply-seccomp\", \"argv0\": \"apply-seccomp\"},\n"
    "  \"bwrapPath\": \"/usr/bin/bwrap\",\n"
    "  \"socatPath\": \"/usr/bin/socat\",\n"
    "  \"javaAgentJarPath\": \"/opt/srt/srt-proxy-agent.jar\",\n"
    "  \"windows\": {\"backend\": \"srt-win\", \"sandboxUser\": \"srt-sandbox\", \"sublayerGuid\": "
    "\"0f3d5a7e-1c2b-4d5e-8f9a-0b1c2d3e4f5a\", \"wfpSublayerGuid\": "
    "\"0F3D5A7E-1C2B-4D5E-8F9A-0B1C2D3E4F5A\", \"proxyPortRange\": [60080, 60089], \"srtWin\": "
    "{\"path\": \"C:\\\\srt\\\\srt-win.exe\"}},\n"
    "  \"git\": {\"safeDirectories\": [\"/work/repo\"]}\n"
    "}\n";

static cdn_settings_t *load_ok(const char *json)
{
    cdn_error_t err = {0};
    cdn_settings_t *s = NULL;
    int r = cdn_settings_load_buffer("settings.json", json, strlen(json), &s, &err);
    if (r < 0)
        fail_msg("unexpected error: %s", err.msg);
    assert_non_null(s);
    return s;
}

/* The full message of a load that must fail with CDN_EXIT_USAGE. */
static char last_msg[1024];
static const char *load_err(const char *json)
{
    cdn_error_t err = {0};
    cdn_settings_t *s = NULL;
    int r = cdn_settings_load_buffer("settings.json", json, strlen(json), &s, &err);
    if (r == 0) {
        cdn_settings_free(s);
        fail_msg("settings were accepted: %s", json);
    }
    assert_null(s);
    assert_int_equal(err.status, CDN_EXIT_USAGE);
    snprintf(last_msg, sizeof last_msg, "%s", err.msg);
    return last_msg;
}

/* Only the first line: the earliest problem. */
static const char *first_line(const char *msg)
{
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s", msg);
    buf[strcspn(buf, "\n")] = '\0';
    return buf;
}

static void test_full_srt_file(void **state)
{
    (void)state;
    cdn_settings_t *s = load_ok(full_srt);
    assert_string_equal(s->source, "settings.json");
    assert_false(s->from_file);

    assert_int_equal(s->network.allowed_domains.n, 8);
    assert_string_equal(s->network.allowed_domains.v[0], "github.com");
    assert_string_equal(s->network.allowed_domains.v[5], "[2001:db8::1]:8443");
    assert_int_equal(s->network.denied_domains.n, 4);
    assert_string_equal(s->network.denied_domains.v[0], "*");
    assert_int_equal(s->network.denied_domain_reasons.n, 1);
    assert_string_equal(s->network.denied_domain_reasons.v[0].key, "*:22");
    assert_true(s->network.strict_allowlist);
    assert_int_equal(s->network.denied_resolved_addresses.n, 5);
    assert_int_equal(s->network.allow_unix_sockets.n, 1);
    assert_false(s->network.allow_all_unix_sockets);
    assert_true(s->network.allow_local_binding);
    assert_int_equal(s->network.http_proxy_port, 3128);
    assert_int_equal(s->network.socks_proxy_port, 1080);
    assert_string_equal(s->network.mitm_proxy.socket_path, "/tmp/mitm.sock");
    assert_int_equal(s->network.mitm_proxy.domains.n, 2);
    assert_true(s->network.tls_terminate.present);
    assert_string_equal(s->network.tls_terminate.ca_cert_path, "/etc/ca.pem");
    assert_string_equal(s->network.tls_terminate.ca_key_path, "/etc/ca.key");
    assert_int_equal(s->network.tls_terminate.max_tunnels, 256);
    assert_int_equal(s->network.tls_terminate.handshake_timeout_ms, 10000);
    assert_int_equal(s->network.tls_terminate.exclude_domains.n, 1);
    assert_int_equal(s->network.tls_terminate.extra_ca_cert_paths.n, 1);
    assert_string_equal(s->network.parent_proxy.http, "http://proxy.corp:3128");
    assert_string_equal(s->network.parent_proxy.https, "http://proxy.corp:3129");
    assert_int_equal(s->network.parent_proxy.no_proxy.n, 3);
    assert_string_equal(s->network.parent_proxy.no_proxy.v[1], ".corp");

    assert_int_equal(s->filesystem.deny_read.n, 2);
    assert_string_equal(s->filesystem.deny_read.v[0].path, "~/.ssh");
    assert_false(s->filesystem.deny_read.v[0].literal);
    assert_string_equal(s->filesystem.deny_read.v[1].path, "/work/*.env");
    assert_true(s->filesystem.deny_read.v[1].literal);
    assert_int_equal(s->filesystem.deny_read.v[0].pos.line, 25);
    assert_int_equal(s->filesystem.deny_read.v[0].pos.col, 18);
    assert_int_equal(s->filesystem.allow_read.n, 1);
    assert_int_equal(s->filesystem.allow_write.n, 2);
    assert_int_equal(s->filesystem.deny_write.n, 1);
    assert_true(s->filesystem.allow_git_config);
    assert_false(s->filesystem.disabled);

    assert_int_equal(s->credentials.n_file_entries, 3);
    assert_int_equal(s->credentials.n_env_entries, 4);
    assert_string_equal(s->credentials.env_entries[0].name, "GITHUB_TOKEN");
    assert_int_equal(s->credentials.env_entries[0].mode, CDN_CRED_MASK);
    assert_int_equal(s->credentials.env_entries[3].mode, CDN_CRED_DENY);
    assert_int_equal(s->credentials.env_vars.n, 4);
    assert_int_equal(s->credentials.files.n, 3);
    assert_string_equal(s->credentials.files.v[2], "~/.aws/");
    assert_int_equal(s->credentials.mode, CDN_CRED_DENY);
    assert_int_equal(s->credentials.inject_hosts.n, 1);

    assert_int_equal(s->n_ignore_violations, 2);
    assert_false(s->enable_weaker_nested_sandbox);
    assert_true(s->allow_nested_user_namespaces);
    assert_int_equal(s->mandatory_deny_search_depth, 5);
    cdn_settings_free(s);
}

static void test_cordon_keys(void **state)
{
    (void)state;
    cdn_settings_t *s =
        load_ok("{\"cordon\": {\n"
                "  \"workspace\": {\"mode\": \"read-write-no-delete\"},\n"
                "  \"env\": {\"passthrough\": [\"GH_TOKEN\"], \"set\": {\"LANG\": "
                "\"C.UTF-8\", \"EMPTY\": \"\"}},\n"
                "  \"hide\": [\"~/.gnupg\", {\"path\": \"/a[1]\", \"literal\": true}],\n"
                "  \"protect\": [\".env\", \"config/*.key\"],\n"
                "  \"tcpPorts\": [8080, 5432],\n"
                "  \"allowLocalPorts\": [5432, 6379, 5432]\n"
                "}}");
    assert_int_equal(s->cordon.workspace_mode, CDN_WS_READ_WRITE_NO_DELETE);
    assert_int_equal(s->cordon.env_passthrough.n, 1);
    assert_string_equal(s->cordon.env_passthrough.v[0], "GH_TOKEN");
    assert_int_equal(s->cordon.env_set.n, 2);
    assert_string_equal(s->cordon.env_set.v[0].key, "LANG");
    assert_string_equal(s->cordon.env_set.v[0].val, "C.UTF-8");
    assert_int_equal(s->cordon.hide.n, 2);
    assert_true(s->cordon.hide.v[1].literal);
    assert_int_equal(s->cordon.protect.n, 2);
    assert_true(s->cordon.allow_tcp_ports_set);
    assert_int_equal(s->cordon.n_tcp_ports, 2);
    assert_int_equal(s->cordon.tcp_ports[1], 5432);
    assert_int_equal(s->cordon.n_local_ports, 2);
    assert_int_equal(s->cordon.local_ports[0], 5432);
    assert_int_equal(s->cordon.local_ports[1], 6379);
    assert_int_equal(s->not_enforced.n, 0);
    cdn_settings_free(s);

    s = load_ok("{\"cordon\": {\"workspace\": {\"mode\": \"read-only\"}, \"tcpPorts\": []}}");
    assert_int_equal(s->cordon.workspace_mode, CDN_WS_READ_ONLY);
    assert_true(s->cordon.allow_tcp_ports_set);
    assert_int_equal(s->cordon.n_tcp_ports, 0);
    cdn_settings_free(s);

    s = load_ok("{}");
    assert_int_equal(s->cordon.workspace_mode, CDN_WS_READ_WRITE);
    assert_false(s->cordon.allow_tcp_ports_set);
    assert_int_equal(s->mandatory_deny_search_depth, -1);
    cdn_settings_free(s);

    assert_string_equal(load_err("{\"cordon\": {\"workspace\": {\"mode\": \"ro\"}}}"),
                        "settings.json:1:35: cordon.workspace.mode: \"ro\" is not one of "
                        "\"read-write\", \"read-only\", \"read-write-no-delete\"");
    assert_string_equal(load_err("{\"cordon\": {\"env\": {\"set\": {\"1X\": \"v\"}}}}"),
                        "settings.json:1:29: cordon.env.set: key \"1X\": an environment variable "
                        "name starts with a letter or '_'");
    assert_non_null(strstr(load_err("{\"cordon\": {\"protect\": [\"/etc/passwd\"]}}"),
                           "relative to the workspace"));
    assert_non_null(strstr(load_err("{\"cordon\": {\"protect\": [\"a/../b\"]}}"), "\"..\""));
    assert_non_null(strstr(load_err("{\"cordon\": {\"tcpPorts\": [0]}}"), "cordon.tcpPorts[0]"));
    assert_non_null(strstr(load_err("{\"cordon\": {\"allowLocalPorts\": [65536]}}"),
                           "cordon.allowLocalPorts[0]"));
    assert_non_null(strstr(load_err("{\"cordon\": {\"allowLocalPorts\": [\"5432\"]}}"),
                           "expected an integer"));
    assert_non_null(strstr(load_err("{\"cordon\": {\"allowLocalPorts\": [1,2,3,4,5,6,7,8,9,10,"
                                    "11,12,13,14,15,16,17]}}"),
                           "at most 16 ports"));
    assert_non_null(strstr(load_err("{\"cordon\": {\"hide\": [\"\"]}}"), "must not be empty"));
    assert_string_equal(load_err("{\"cordon\": {\"tcpPort\": [1]}}"),
                        "settings.json:1:13: unknown key \"tcpPort\" in \"cordon\" (did you mean "
                        "\"tcpPorts\"?)");
}

static void test_syntax_error(void **state)
{
    (void)state;
    assert_string_equal(load_err("{\"a\": 1,\n  \"b\": tru}"),
                        "settings.json:2:10: invalid token near 'tru'");
    /* Columns count bytes: "é" is two. */
    assert_string_equal(load_err("{\"\xc3\xa9\": x}"), "settings.json:1:8: invalid token near 'x'");
    assert_string_equal(load_err("{\"a\": 1,}"),
                        "settings.json:1:9: string or '}' expected near '}'");
    assert_string_equal(load_err("{} x"), "settings.json:1:4: end of file expected near 'x'");
}

static void test_duplicate_key(void **state)
{
    (void)state;
    assert_string_equal(load_err("{\"cordon\": {},\n \"cordon\": {}}"),
                        "settings.json:2:9: duplicate object key near '\"cordon\"'");
}

static void test_wrong_type_nested(void **state)
{
    (void)state;
    assert_string_equal(load_err("{\n"
                                 "  \"network\": {\n"
                                 "    \"allowedDomains\": [\"ok.example.com\",\n"
                                 "      42]\n"
                                 "  }\n"
                                 "}\n"),
                        "settings.json:4:7: network.allowedDomains[1]: expected a string, got a "
                        "number");
    assert_string_equal(load_err("{\"enableWeakerNestedSandbox\": \"true\"}"),
                        "settings.json:1:31: enableWeakerNestedSandbox: expected true or false, "
                        "got a string");
    assert_string_equal(load_err("{\"filesystem\": []}"),
                        "settings.json:1:16: filesystem: expected an object, got an array");
    assert_string_equal(load_err("[]"),
                        "settings.json:1:1: the settings must be a JSON object, got an array");
    /* srt's credentials entries are objects, not bare names. */
    assert_non_null(strstr(load_err("{\"credentials\": {\"envVars\": [\"TOKEN\"]}}"),
                           "credentials.envVars[0]: expected an object, got a string"));
}

static void test_unknown_keys(void **state)
{
    (void)state;
    assert_string_equal(load_err("{\"netwrok\": {}}"),
                        "settings.json:1:2: unknown key \"netwrok\" at the top level (did you "
                        "mean \"network\"?)");
    assert_string_equal(load_err("{\n"
                                 "  \"filesystem\": {\n"
                                 "    \"allowWrite\": [\".\"],\n"
                                 "    \"allowWrit\": [\"/tmp\"]\n"
                                 "  }\n"
                                 "}\n"),
                        "settings.json:4:5: unknown key \"allowWrit\" in \"filesystem\" (did you "
                        "mean \"allowWrite\"?)");
    /* Case and transposition count as close. */
    assert_non_null(
        strstr(load_err("{\"filesystem\": {\"DenyRead\": []}}"), "(did you mean \"denyRead\"?)"));
    assert_non_null(
        strstr(load_err("{\"filesystem\": {\"dneyRead\": []}}"), "(did you mean \"denyRead\"?)"));
    /* Far from everything: no suggestion, but a key from another section is placed. */
    assert_string_equal(load_err("{\"frobnicate\": 1}"),
                        "settings.json:1:2: unknown key \"frobnicate\" at the top level");
    /* Control characters from the file never reach the terminal. */
    assert_string_equal(load_err("{\"a\\u001b[2Jb\": 1}"),
                        "settings.json:1:2: unknown key \"a?[2Jb\" at the top level");
    assert_string_equal(load_err("{\"allowWrite\": []}"),
                        "settings.json:1:2: unknown key \"allowWrite\" at the top level "
                        "(\"allowWrite\" belongs in \"filesystem\")");
    assert_string_equal(load_err("{\"network\": {\"tlsTerminate\": {\"caCert\": \"x\"}}}"),
                        "settings.json:1:31: unknown key \"caCert\" in \"network.tlsTerminate\" "
                        "(did you mean \"caCertPath\"?)");
}

static void test_several_problems_first_reported(void **state)
{
    (void)state;
    cdn_error_t err = {0};
    cdn_settings_t *s = NULL;
    const char *json = "{\"zzz\": 1,\n \"network\": {\"httpProxyPort\": 0}}";
    assert_int_equal(cdn_settings_load_buffer("f.json", json, strlen(json), &s, &err), -1);
    assert_string_equal(err.msg, "f.json:1:2: unknown key \"zzz\" at the top level\n"
                                 "f.json:2:31: network.httpProxyPort: expected an integer from 1 "
                                 "to 65535");
    assert_non_null(strstr(err.hint, "2 problems"));
    /* The earliest position comes first whatever order the checks run in. */
    const char *m = load_err("{\"network\": {\"httpProxyPort\": 0}, \"zzz\": 1}");
    assert_string_equal(first_line(m),
                        "settings.json:1:31: network.httpProxyPort: expected an integer from 1 to "
                        "65535");
}

static void test_domain_patterns(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "*",
        "*.com",
        "*.",
        "https://example.com",
        "http://x.example.com/",
        "example.com/path",
        "",
        " ",
        "a b.com",
        "example .com",
        "com",
        ".example.com",
        "example.com.",
        "a..b.com",
        "ex*ample.com",
        "*.*.example.com",
        "2001:db8::1",
        "[::1",
        "[nothost]",
        "[::1]x",
        "[::1]:0",
        "example.com:0",
        "example.com:65536",
        "example.com:080",
        "example.com:http",
        "*:443",
        "ex\"ample.com",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char json[256];
        snprintf(json, sizeof json, "{\"network\": {\"allowedDomains\": [\"%s\"]}}",
                 bad[i][0] == 'e' && strchr(bad[i], '"') ? "ex\\\"ample.com" : bad[i]);
        const char *m = load_err(json);
        if (strncmp(m, "settings.json:1:33: network.allowedDomains[0]: ", 47) != 0)
            fail_msg("%s: %s", bad[i], m);
    }
    static const char *const good[] = {
        "example.com",
        "*.example.com",
        "localhost",
        "localhost:3000",
        "api.example.com:443",
        "[::1]",
        "[2001:db8::1]:8443",
        "10.0.0.1",
        "10.0.0.1:80",
        "B\xc3\xbc"
        "cher.de",
        "under_score.example.com",
        "*.a.b.c.example.com",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        char json[256];
        snprintf(json, sizeof json, "{\"network\": {\"allowedDomains\": [\"%s\"]}}", good[i]);
        cdn_settings_free(load_ok(json));
    }
    /* deniedDomains also takes a bare "*", with or without a port. */
    cdn_settings_t *s =
        load_ok("{\"network\": {\"deniedDomains\": [\"*\", \"*:22\", \"x.example.com\"]}}");
    assert_int_equal(s->network.denied_domains.n, 3);
    cdn_settings_free(s);
    assert_non_null(
        strstr(load_err("{\"network\": {\"deniedDomains\": [\"*.com\"]}}"), "too broad"));
    /* Hosts-only lists take no port and a bare IPv6 address. */
    assert_non_null(strstr(load_err("{\"network\": {\"mitmProxy\": {\"socketPath\": \"/s\", "
                                    "\"domains\": [\"a.example.com:443\"]}}}"),
                           "a port is not accepted here"));
    assert_null(cdn_check_domain("2001:db8::1", CDN_DOMAIN_HOST));
    assert_non_null(cdn_check_domain("[2001:db8::1]", CDN_DOMAIN_HOST));
    assert_non_null(cdn_check_domain("*", CDN_DOMAIN_HOST));
}

static void test_cidr(void **state)
{
    (void)state;
    static const char *const bad[] = {"",
                                      "10.0.0.0/33",
                                      "::/129",
                                      "1.2.3",
                                      "10.0.0.0/",
                                      "10.0.0.0/8/8",
                                      "10.0.0.0/-1",
                                      "10.0.0.0/0008",
                                      "::ffff:1.2.3.4/64",
                                      "example.com",
                                      "[::1]",
                                      "1.2.3.4 "};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char json[256];
        snprintf(json, sizeof json, "{\"network\": {\"deniedResolvedAddresses\": [\"%s\"]}}",
                 bad[i]);
        const char *m = load_err(json);
        if (strncmp(m, "settings.json:1:42: network.deniedResolvedAddresses[0]: ", 56) != 0)
            fail_msg("%s: %s", bad[i], m);
    }
    static const char *const good[] = {
        "10.0.0.0/8", "192.168.1.10", "0.0.0.0/0",           "fc00::/7",
        "::1",        "fe80::1%eth0", "::ffff:10.0.0.0/104", "::/0"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_null(cdn_check_cidr(good[i]));
}

static void test_ports_and_numbers(void **state)
{
    (void)state;
    static const char *const bad[] = {"0", "65536", "-1", "\"80\"", "80.5", "true", "null", "1e10"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char json[128];
        snprintf(json, sizeof json, "{\"network\": {\"httpProxyPort\": %s}}", bad[i]);
        const char *m = load_err(json);
        if (strncmp(m,
                    "settings.json:1:31: network.httpProxyPort: expected an integer from 1 to "
                    "65535",
                    74) != 0)
            fail_msg("%s: %s", bad[i], m);
    }
    /* A JSON number that is an integer counts, as it does for srt. */
    cdn_settings_t *s = load_ok("{\"network\": {\"socksProxyPort\": 1080.0}}");
    assert_int_equal(s->network.socks_proxy_port, 1080);
    cdn_settings_free(s);
    assert_non_null(strstr(load_err("{\"mandatoryDenySearchDepth\": 11}"), "from 1 to 10"));
    assert_non_null(
        strstr(load_err("{\"network\": {\"tlsTerminate\": {\"handshakeTimeoutMs\": 99}}}"),
               "from 100 to 600000"));
}

static void test_modes_and_credentials(void **state)
{
    (void)state;
    assert_string_equal(
        load_err("{\"credentials\": {\"files\": [{\"path\": \"~/.netrc\", \"mode\": \"hide\"}]}}"),
        "settings.json:1:57: credentials.files[0].mode: \"hide\" is not one of \"deny\", \"mask\"");
    assert_non_null(strstr(load_err("{\"credentials\": {\"envVars\": [{\"name\": \"T\"}]}}"),
                           "missing required key \"mode\""));
    assert_non_null(strstr(
        load_err("{\"credentials\": {\"envVars\": [{\"name\": \"A-B\", \"mode\": \"deny\"}]}}"),
        "environment variable name"));
    /* Masking needs TLS termination, as in srt. */
    assert_non_null(strstr(
        load_err("{\"credentials\": {\"envVars\": [{\"name\": \"T\", \"mode\": \"mask\"}]}}"),
        "requires network.tlsTerminate"));
    cdn_settings_t *s = load_ok("{\"credentials\": {\"allowPlaintextInject\": true, \"envVars\": "
                                "[{\"name\": \"T\", \"mode\": \"mask\"}]}}");
    assert_int_equal(s->credentials.mode, CDN_CRED_MASK);
    cdn_settings_free(s);
    assert_non_null(strstr(
        load_err("{\"network\": {\"allowedDomains\": [\"a.example.com\"], \"tlsTerminate\": {}},"
                 " \"credentials\": {\"envVars\": [{\"name\": \"T\", \"mode\": \"mask\", "
                 "\"injectHosts\": [\"b.example.com\"]}]}}"),
        "not reachable through network.allowedDomains"));
    s = load_ok("{\"network\": {\"allowedDomains\": [\"*.example.com:443\"], \"tlsTerminate\": {}},"
                " \"credentials\": {\"envVars\": [{\"name\": \"T\", \"mode\": \"mask\", "
                "\"injectHosts\": [\"api.example.com\", \"*.x.example.com\"]}]}}");
    cdn_settings_free(s);
    assert_non_null(
        strstr(load_err("{\"credentials\": {\"files\": [{\"path\": \"/a\", \"mode\": \"deny\", "
                        "\"maskClaims\": [\"sub\"]}]}}"),
               "maskClaims requires decode"));
    static const char *const no_group[] = {"token", "(?:a)b", "\\\\(x\\\\)", "[(]x", "(?<=a)b", ""};
    for (size_t i = 0; i < sizeof no_group / sizeof *no_group; i++) {
        char json[256];
        snprintf(json, sizeof json,
                 "{\"credentials\": {\"files\": [{\"path\": \"/a\", \"mode\": \"deny\", "
                 "\"extract\": \"%s\"}]}}",
                 no_group[i]);
        assert_non_null(strstr(load_err(json), "extract needs a capturing group"));
    }
    static const char *const group[] = {"token: (\\\\S+)", "(?<tok>x)", "[)](a)", "\\\\((b)"};
    for (size_t i = 0; i < sizeof group / sizeof *group; i++) {
        char json[256];
        snprintf(json, sizeof json,
                 "{\"credentials\": {\"files\": [{\"path\": \"/a\", \"mode\": \"deny\", "
                 "\"extract\": \"%s\"}]}}",
                 group[i]);
        cdn_settings_free(load_ok(json));
    }
    assert_non_null(strstr(load_err("{\"credentials\": {\"injectHosts\": []}}"),
                           "unknown key \"injectHosts\" in \"credentials\""));
}

static void test_literal_paths(void **state)
{
    (void)state;
    cdn_settings_t *s = load_ok("{\"filesystem\": {\"allowWrite\": [{\"path\": \"/w/[WIP]\", "
                                "\"literal\": true}, \"/w/*.log\"]}}");
    assert_int_equal(s->filesystem.allow_write.n, 2);
    assert_true(s->filesystem.allow_write.v[0].literal);
    assert_string_equal(s->filesystem.allow_write.v[0].path, "/w/[WIP]");
    assert_int_equal(s->filesystem.allow_write.v[0].pos.col, 32);
    assert_false(s->filesystem.allow_write.v[1].literal);
    cdn_settings_free(s);

    assert_non_null(strstr(load_err("{\"filesystem\": {\"denyRead\": [{\"path\": \"/x\"}]}}"),
                           "missing \"literal\": true"));
    assert_string_equal(
        load_err("{\"filesystem\": {\"denyRead\": [{\"path\": \"/x\", \"literal\": false}]}}"),
        "settings.json:1:56: filesystem.denyRead[0].literal: expected true (an "
        "object entry is a literal path; write a plain string for a pattern)");
    assert_string_equal(load_err("{\"filesystem\": {\"denyRead\": [{\"path\": \"/x\", \"literal\": "
                                 "true, \"glob\": 1}]}}"),
                        "settings.json:1:62: unknown key \"glob\" in \"filesystem.denyRead[0]\"");
    assert_non_null(
        strstr(load_err("{\"filesystem\": {\"denyRead\": [{\"path\": \"\", \"literal\": true}]}}"),
               "filesystem.denyRead[0].path: must not be empty"));
    assert_non_null(strstr(load_err("{\"filesystem\": {\"denyRead\": [7]}}"),
                           "expected a path string or {\"path\": \"...\", \"literal\": true}"));
    /* srt: a rooted deny glob ending in '/' matches nothing. */
    assert_non_null(
        strstr(load_err("{\"filesystem\": {\"denyWrite\": [\"/data/*/\"]}}"), "matches nothing"));
    s = load_ok("{\"filesystem\": {\"denyWrite\": [\"/data/\", \"build/*/\"]}}");
    cdn_settings_free(s);
}

static void test_empty_and_oversized(void **state)
{
    (void)state;
    assert_string_equal(load_err(""), "settings.json:1:1: the settings file is empty");
    assert_string_equal(load_err(" \n\t "), "settings.json:1:1: the settings file is empty");

    size_t n = CDN_JPOS_MAX_INPUT;
    char *buf = malloc(n + 2);
    assert_non_null(buf);
    memset(buf, ' ', n + 1);
    memcpy(buf, "{}", 2);
    cdn_error_t err = {0};
    cdn_settings_t *s = NULL;
    /* Exactly at the limit is accepted... */
    assert_int_equal(cdn_settings_load_buffer("big.json", buf, n, &s, &err), 0);
    cdn_settings_free(s);
    /* ...one byte more is not. */
    assert_int_equal(cdn_settings_load_buffer("big.json", buf, n + 1, &s, &err), -1);
    assert_int_equal(err.status, CDN_EXIT_USAGE);
    assert_string_equal(err.msg, "big.json: settings file larger than 1048576 bytes");

    /* Also through a file. */
    char path[] = "/tmp/cordon-settings-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, n + 1), (ssize_t)(n + 1));
    close(fd);
    assert_int_equal(cdn_settings_load_file(path, &s, &err), -1);
    assert_non_null(strstr(err.msg, "larger than"));
    unlink(path);
    free(buf);
}

static char *nested(unsigned depth)
{
    /* {"x": [[...[]...]]}: the object is one level, each '[' another. */
    char *buf = malloc(2 * depth + 16);
    assert_non_null(buf);
    size_t n = 0;
    n += (size_t)sprintf(buf, "{\"x\": ");
    for (unsigned i = 1; i < depth; i++)
        buf[n++] = '[';
    for (unsigned i = 1; i < depth; i++)
        buf[n++] = ']';
    buf[n++] = '}';
    buf[n] = '\0';
    return buf;
}

static void test_deep_nesting(void **state)
{
    (void)state;
    char *ok = nested(64), *deep = nested(65);
    /* 64 levels pass the index; the key is still unknown. */
    assert_string_equal(first_line(load_err(ok)),
                        "settings.json:1:2: unknown key \"x\" at the top level");
    assert_string_equal(load_err(deep), "settings.json:1:70: nesting deeper than 64 levels");
    free(ok);
    free(deep);
}

static bool has(const cdn_strv_t *sv, const char *s)
{
    return cdn_strv_contains(sv, s);
}

static void test_not_enforced(void **state)
{
    (void)state;
    cdn_settings_t *s = load_ok(full_srt);
    /* enforced by the egress broker */
    assert_false(has(&s->not_enforced, "network.allowedDomains"));
    assert_false(has(&s->not_enforced, "network.deniedDomains"));
    assert_false(has(&s->not_enforced, "network.parentProxy"));
    assert_false(has(&s->not_enforced, "network.deniedResolvedAddresses"));
    assert_true(s->network.present);
    /* parsed, not enforced yet */
    assert_true(has(&s->not_enforced, "network.tlsTerminate"));
    assert_true(has(&s->not_enforced, "network.allowLocalBinding"));
    assert_false(has(&s->not_enforced, "network.allowUnixSockets"));
    assert_false(has(&s->not_enforced, "network.allowAllUnixSockets"));
    assert_true(has(&s->not_enforced, "credentials.files"));
    assert_true(has(&s->not_enforced, "credentials.envVars"));
    assert_true(has(&s->not_enforced, "filesystem.disabled"));
    assert_true(has(&s->not_enforced, "allowPty"));
    assert_false(has(&s->not_enforced, "ignoreViolations"));
    assert_false(has(&s->not_enforced, "mandatoryDenySearchDepth"));
    assert_false(has(&s->not_enforced, "enableWeakerNestedSandbox"));
    assert_false(has(&s->not_enforced, "allowNestedUserNamespaces"));
    assert_false(has(&s->not_enforced, "filesystem.denyRead"));
    cdn_settings_free(s);

    s = load_ok("{\"network\": {\"allowAllUnixSockets\": true, \"allowUnixSockets\": [\"/s\"]},"
                " \"filesystem\": {\"allowWrite\": [\".\"]}}");
    assert_int_equal(s->not_enforced.n, 0);
    cdn_settings_free(s);
    s = load_ok("{\"network\": {\"allowedDomains\": [], \"mitmProxy\": {\"socketPath\": \"/x\", "
                "\"domains\": [\"a.com\"]}}}");
    assert_int_equal(s->not_enforced.n, 1);
    assert_string_equal(s->not_enforced.v[0], "network.mitmProxy");
    cdn_settings_free(s);
}

static void test_default(void **state)
{
    (void)state;
    cdn_error_t err = {0};
    cdn_settings_t *s = NULL;
    assert_int_equal(cdn_settings_default(&s, &err), 0);
    assert_string_equal(s->source, "built-in default");
    assert_false(s->from_file);
    assert_int_equal(s->mandatory_deny_search_depth, -1);
    assert_int_equal(s->network.allowed_domains.n, 0);
    assert_int_equal(s->not_enforced.n, 0);
    cdn_settings_free(s);
    cdn_settings_free(NULL);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_load_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/cordon-settings-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/s.json", dir);
    cdn_error_t err = {0};
    cdn_settings_t *s = NULL;
    assert_int_equal(cdn_settings_load_file(path, &s, &err), -1);
    assert_int_equal(err.errnum, ENOENT);
    assert_non_null(strstr(err.msg, path));

    write_file(path, "{\n  \"filesystem\": {\"allowWrite\": 1}\n}\n");
    assert_int_equal(cdn_settings_load_file(path, &s, &err), -1);
    char want[512];
    snprintf(want, sizeof want, "%s:2:32: filesystem.allowWrite: expected an array, got a number",
             path);
    assert_string_equal(err.msg, want);

    write_file(path, "{\"filesystem\": {\"allowWrite\": [\".\"]}}");
    assert_int_equal(cdn_settings_load_file(path, &s, &err), 0);
    assert_true(s->from_file);
    assert_string_equal(s->source, path);
    cdn_settings_free(s);

    assert_int_equal(cdn_settings_load_file(dir, &s, &err), -1);
    assert_int_equal(err.errnum, EISDIR);
    unlink(path);
    rmdir(dir);
}

static void test_locate(void **state)
{
    (void)state;
    char home[] = "/tmp/cordon-home-XXXXXX";
    assert_non_null(mkdtemp(home));
    char cfgdir[256], cordondir[256], cordon[256], srt[256], missing[256];
    snprintf(cfgdir, sizeof cfgdir, "%s/.config", home);
    snprintf(cordondir, sizeof cordondir, "%s/.config/cordon", home);
    snprintf(cordon, sizeof cordon, "%s/.config/cordon/settings.json", home);
    snprintf(srt, sizeof srt, "%s/.srt-settings.json", home);
    snprintf(missing, sizeof missing, "%s/nope.json", home);
    cdn_error_t err = {0};
    char *p = NULL;

    /* Nothing there: the built-in default. */
    assert_int_equal(cdn_settings_locate(NULL, home, &p, &err), 0);
    assert_null(p);
    assert_int_equal(cdn_settings_locate(NULL, NULL, &p, &err), 0);
    assert_null(p);

    write_file(srt, "{}");
    assert_int_equal(cdn_settings_locate(NULL, home, &p, &err), 0);
    assert_string_equal(p, srt);
    free(p);

    assert_int_equal(mkdir(cfgdir, 0700), 0);
    assert_int_equal(mkdir(cordondir, 0700), 0);
    write_file(cordon, "{}");
    assert_int_equal(cdn_settings_locate(NULL, home, &p, &err), 0);
    assert_string_equal(p, cordon);
    free(p);

    /* An explicit path wins, and must exist. */
    assert_int_equal(cdn_settings_locate(srt, home, &p, &err), 0);
    assert_string_equal(p, srt);
    free(p);
    assert_int_equal(cdn_settings_locate(missing, home, &p, &err), -1);
    assert_null(p);
    assert_int_equal(err.status, CDN_EXIT_USAGE);
    assert_non_null(strstr(err.msg, missing));

    /* Present but not readable as a file is an error, not a fall-through. */
    unlink(cordon);
    assert_int_equal(mkdir(cordon, 0700), 0);
    assert_int_equal(cdn_settings_locate(NULL, home, &p, &err), -1);
    assert_int_equal(err.errnum, EISDIR);
    rmdir(cordon);
    rmdir(cordondir);
    rmdir(cfgdir);
    write_file(cfgdir, "not a directory");
    assert_int_equal(cdn_settings_locate(NULL, home, &p, &err), -1);
    assert_int_equal(err.errnum, ENOTDIR);
    unlink(cfgdir);
    if (geteuid() != 0) {
        assert_int_equal(chmod(srt, 0), 0);
        assert_int_equal(cdn_settings_locate(NULL, home, &p, &err), -1);
        assert_int_equal(err.errnum, EACCES);
    }
    unlink(srt);
    rmdir(home);
}

/* ---- json_pos ----------------------------------------------------------- */

static cdn_jpos_t *index_of(const char *text)
{
    cdn_jpos_t *idx = NULL;
    cdn_pos_t ep;
    cdn_error_t err = {0};
    if (cdn_jpos_build(text, strlen(text), &idx, &ep, &err) < 0)
        fail_msg("index failed at %u:%u: %s", ep.line, ep.col, err.msg);
    return idx;
}

static void test_jpos_positions(void **state)
{
    (void)state;
    const char *text = "{\n"
                       "  \"network\": {\n"
                       "    \"allowedDomains\": [\"a.com\", \"b.com\",\n"
                       "\t\"c.com\"],\n"
                       "    \"x\\u0041\": {\"k.v\": null, \"q\\\"\": [true, false, -1.5e3]}\n"
                       "  },\n"
                       "  \"\xf0\x9f\x98\x80\": 1\n"
                       "}";
    cdn_jpos_t *idx = index_of(text);
    int n = cdn_jpos_lookup(idx, "network.allowedDomains[2]");
    assert_true(n > 0);
    assert_int_equal(idx->nodes[n].val_pos.line, 4);
    assert_int_equal(idx->nodes[n].val_pos.col, 2);
    assert_int_equal(idx->nodes[n].type, CDN_JPOS_STRING);
    int ad = cdn_jpos_lookup(idx, "network.allowedDomains");
    assert_int_equal(idx->nodes[ad].key_pos.line, 3);
    assert_int_equal(idx->nodes[ad].key_pos.col, 5);
    assert_int_equal(idx->nodes[ad].val_pos.col, 23);
    assert_int_equal(idx->nodes[ad].n_children, 3);
    assert_int_equal(cdn_jpos_child_index(idx, ad, 2), n);
    assert_int_equal(cdn_jpos_child_index(idx, ad, 3), -1);

    /* Escapes are decoded, so a key is found by its value. */
    int xa = cdn_jpos_lookup(idx, "network.xA");
    assert_true(xa > 0);
    assert_int_equal(idx->nodes[xa].key_pos.line, 5);
    assert_int_equal(idx->nodes[xa].key_pos.col, 5);
    int kv = cdn_jpos_lookup(idx, "network.xA[\"k.v\"]");
    assert_true(kv > 0);
    assert_int_equal(idx->nodes[kv].type, CDN_JPOS_NULL);
    int num = cdn_jpos_lookup(idx, "network.xA[\"q\\\"\"][2]");
    assert_true(num > 0);
    assert_int_equal(idx->nodes[num].type, CDN_JPOS_NUMBER);
    char path[128];
    cdn_jpos_path(idx, num, path, sizeof path);
    assert_string_equal(path, "network.xA[\"q\\\"\"][2]");
    cdn_jpos_path(idx, kv, path, sizeof path);
    assert_string_equal(path, "network.xA[\"k.v\"]");
    /* Columns count bytes: the emoji key is 4 bytes wide. */
    int emoji = cdn_jpos_lookup(idx, "[\"\xf0\x9f\x98\x80\"]");
    assert_true(emoji > 0);
    assert_int_equal(idx->nodes[emoji].val_pos.line, 7);
    assert_int_equal(idx->nodes[emoji].val_pos.col, 11);
    cdn_jpos_path(idx, 0, path, sizeof path);
    assert_string_equal(path, "");
    /* Truncation keeps the buffer terminated. */
    cdn_jpos_path(idx, num, path, 5);
    assert_string_equal(path, "netw");

    assert_int_equal(cdn_jpos_lookup(idx, ""), 0);
    assert_int_equal(cdn_jpos_lookup(idx, "network.missing"), -1);
    assert_int_equal(cdn_jpos_lookup(idx, "network.allowedDomains[9]"), -1);
    assert_int_equal(cdn_jpos_lookup(idx, "network..x"), -1);
    assert_int_equal(cdn_jpos_lookup(idx, "network[0]"), -1);
    assert_int_equal(cdn_jpos_child_key(idx, n, "x"), -1);
    cdn_jpos_free(idx);
}

static void test_jpos_many_members(void **state)
{
    (void)state;
    /* Members are found by binary search whatever their order. */
    char text[8192];
    size_t n = (size_t)sprintf(text, "{");
    for (int i = 299; i >= 0; i--)
        n += (size_t)sprintf(text + n, "\"k%d\": %d%s", i, i, i ? ", " : "}");
    cdn_jpos_t *idx = index_of(text);
    assert_int_equal(idx->nodes[0].n_children, 300);
    for (int i = 0; i < 300; i++) {
        char key[16];
        sprintf(key, "k%d", i);
        int c = cdn_jpos_child_key(idx, 0, key);
        assert_true(c > 0);
        assert_string_equal(idx->nodes[c].key, key);
        assert_int_equal(idx->nodes[c].index, 299 - i);
    }
    cdn_jpos_free(idx);
}

static void test_jpos_rejects(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        unsigned line, col;
        const char *msg;
    } cases[] = {
        {"", 1, 1, "value expected"},
        {"{\"a\": 1,}", 1, 9, "object key expected"},
        {"[1,]", 1, 4, "value expected"},
        {"{\"a\" 1}", 1, 6, "':' expected"},
        {"{\"a\": 01}", 1, 8, "',' or '}' expected"},
        {"[1.]", 1, 4, "invalid number"},
        {"[-]", 1, 3, "invalid number"},
        {"[1e]", 1, 4, "invalid number"},
        {"[tru]", 1, 2, "invalid token"},
        {"[\"a\nb\"]", 1, 4, "control character in string"},
        {"[\"\\x\"]", 1, 4, "invalid escape in string"},
        {"[\"\\u12\"]", 1, 4, "invalid \\u escape"},
        {"[\"\\u0000\"]", 1, 9, "\\u0000 is not allowed"},
        {"[\"\\ud800\"]", 1, 9, "lone high surrogate in \\u escape"},
        {"[\"\\udc00\"]", 1, 9, "lone low surrogate in \\u escape"},
        {"[\"abc", 1, 6, "unterminated string"},
        {"{} {}", 1, 4, "end of input expected"},
        {"\n\n  [1 2]", 3, 6, "',' or ']' expected"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cdn_jpos_t *idx = NULL;
        cdn_pos_t ep;
        cdn_error_t err = {0};
        if (cdn_jpos_build(cases[i].text, strlen(cases[i].text), &idx, &ep, &err) == 0)
            fail_msg("accepted: %s", cases[i].text);
        assert_null(idx);
        if (ep.line != cases[i].line || ep.col != cases[i].col ||
            strcmp(err.msg, cases[i].msg) != 0)
            fail_msg("%s: got %u:%u %s", cases[i].text, ep.line, ep.col, err.msg);
        assert_int_equal(err.status, CDN_EXIT_USAGE);
    }
    /* The depth limit: 64 nested containers pass, 65 do not. */
    char deep[200];
    memset(deep, '[', 65);
    memset(deep + 65, ']', 65);
    cdn_jpos_t *idx = NULL;
    cdn_pos_t ep;
    cdn_error_t err = {0};
    assert_int_equal(cdn_jpos_build(deep + 1, 128, &idx, &ep, &err), 0);
    cdn_jpos_free(idx);
    assert_int_equal(cdn_jpos_build(deep, 130, &idx, &ep, &err), -1);
    assert_int_equal(ep.col, 65);
    /* The size limit. */
    assert_int_equal(cdn_jpos_build("{}", CDN_JPOS_MAX_INPUT + 1, &idx, &ep, &err), -1);
    assert_non_null(strstr(err.msg, "larger than"));
}

static void test_edit_distance(void **state)
{
    (void)state;
    assert_int_equal(cdn_edit_distance("allowWrite", "allowWrite", 3), 0);
    assert_int_equal(cdn_edit_distance("allowWrit", "allowWrite", 3), 1);
    assert_int_equal(cdn_edit_distance("AllowWrite", "allowWrite", 3), 0);
    assert_int_equal(cdn_edit_distance("alowWirte", "allowWrite", 3), 2);
    assert_int_equal(cdn_edit_distance("x", "allowWrite", 3), 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_srt_file),
        cmocka_unit_test(test_cordon_keys),
        cmocka_unit_test(test_syntax_error),
        cmocka_unit_test(test_duplicate_key),
        cmocka_unit_test(test_wrong_type_nested),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_several_problems_first_reported),
        cmocka_unit_test(test_domain_patterns),
        cmocka_unit_test(test_cidr),
        cmocka_unit_test(test_ports_and_numbers),
        cmocka_unit_test(test_modes_and_credentials),
        cmocka_unit_test(test_literal_paths),
        cmocka_unit_test(test_empty_and_oversized),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_not_enforced),
        cmocka_unit_test(test_default),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_locate),
        cmocka_unit_test(test_jpos_positions),
        cmocka_unit_test(test_jpos_many_members),
        cmocka_unit_test(test_jpos_rejects),
        cmocka_unit_test(test_edit_distance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
