/* Audit events: constructors, the JSON schema field by field, redaction of
 * every kind, and the ignoreViolations filter. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audit/audit.h"
#include "audit/jsonw.h"
#include "audit/report.h"

static const char *jstr(json_t *o, const char *path)
{
    /* "a.b": one level of nesting is all the schema has. */
    char buf[64];
    snprintf(buf, sizeof buf, "%s", path);
    char *dot = strchr(buf, '.');
    if (dot) {
        *dot = '\0';
        o = json_object_get(o, buf);
        path = path + (dot - buf) + 1;
    }
    json_t *v = json_object_get(o, path);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static json_int_t jint(json_t *o, const char *sub, const char *key)
{
    json_t *s = sub ? json_object_get(o, sub) : o;
    json_t *v = json_object_get(s, key);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static void test_kind_names(void **state)
{
    (void)state;
    for (int k = 0; k < CDN_EV__COUNT; k++)
        assert_int_equal(cdn_event_kind_from_name(cdn_event_kind_name((cdn_event_kind_t)k)), k);
    assert_int_equal(cdn_event_kind_from_name("nope"), -1);
    assert_string_equal(cdn_decision_name(CDN_DECISION_DENY), "deny");
}

static void test_required_fields(void **state)
{
    (void)state;
    cdn_error_t err;
    cdn_event_t *ev = NULL;
    assert_true(cdn_event_process_start(&ev, NULL, 1, &err) < 0);
    assert_int_equal(err.status, CDN_EXIT_USAGE);
    const char *empty[] = {NULL};
    assert_true(cdn_event_process_start(&ev, empty, 1, &err) < 0);
    cdn_net_info_t ni = {.port = 80, .protocol = "tcp"};
    assert_true(cdn_event_net(&ev, CDN_DECISION_DENY, &ni, &err) < 0); /* no host/address */
    ni.host = "x";
    assert_true(cdn_event_net(&ev, CDN_DECISION_OBSERVE, &ni, &err) < 0);
    ni.protocol = NULL;
    assert_true(cdn_event_net(&ev, CDN_DECISION_DENY, &ni, &err) < 0);
    cdn_fs_info_t fi = {.path = "/x"};
    assert_true(cdn_event_fs_violation(&ev, &fi, &err) < 0); /* no operation */
    assert_true(cdn_event_policy_warning(&ev, "k", NULL, &err) < 0);
    assert_true(cdn_event_error(&ev, 0, NULL, &err) < 0);
    assert_true(cdn_event_process_exit(&ev, 1, -1, 0, 0, NULL, &err) < 0);
    assert_null(ev);
}

static void test_json_process(void **state)
{
    (void)state;
    cdn_error_t err;
    cdn_event_t *ev;
    const char *argv[] = {"/bin/echo", "hi", "caf\xc3\xa9", "bad\xff", NULL};
    assert_int_equal(cdn_event_process_start(&ev, argv, 42, &err), 0);
    ev->time_ns = 1795741266123456789LL;
    json_t *j = cdn_event_to_json(ev);
    assert_non_null(j);
    assert_string_equal(jstr(j, "schema"), "cordon.audit/1");
    assert_string_equal(jstr(j, "kind"), "process.start");
    assert_string_equal(jstr(j, "decision"), "observe");
    assert_string_equal(jstr(j, "time"), "2026-11-27T01:01:06.123456789Z");
    assert_int_equal(jint(j, NULL, "time_unix_nano"), 1795741266123456789LL);
    assert_int_equal(jint(j, "process", "pid"), 42);
    json_t *a = json_object_get(json_object_get(j, "process"), "argv");
    assert_int_equal(json_array_size(a), 4);
    assert_string_equal(json_string_value(json_array_get(a, 2)), "caf\xc3\xa9");
    assert_string_equal(json_string_value(json_array_get(a, 3)), "bad\\xff");
    assert_null(json_object_get(j, "net"));
    assert_null(json_object_get(j, "uid")); /* not stamped */
    json_decref(j);
    cdn_event_free(ev);

    struct rusage ru = {.ru_utime = {1, 500}, .ru_stime = {0, 250000}, .ru_maxrss = 2048};
    assert_int_equal(cdn_event_process_exit(&ev, 42, 3, 0, 1500, &ru, &err), 0);
    j = cdn_event_to_json(ev);
    assert_int_equal(jint(j, "process", "exit_code"), 3);
    assert_int_equal(jint(j, "process", "signal"), 0);
    assert_int_equal(jint(j, "process", "duration_ns"), 1500);
    assert_int_equal(jint(j, "process", "cpu_user_ns"), 1000500000);
    assert_int_equal(jint(j, "process", "cpu_sys_ns"), 250000000);
    assert_int_equal(jint(j, "process", "peak_rss_bytes"), 2048 * 1024);
    json_decref(j);
    cdn_event_free(ev);

    assert_int_equal(cdn_event_process_exit(&ev, 42, 0, 9, 10, NULL, &err), 0);
    j = cdn_event_to_json(ev);
    assert_true(json_is_null(json_object_get(json_object_get(j, "process"), "exit_code")));
    assert_int_equal(jint(j, "process", "signal"), 9);
    assert_null(json_object_get(json_object_get(j, "process"), "peak_rss_bytes"));
    json_decref(j);
    cdn_event_free(ev);

    assert_int_equal(cdn_event_session_end(&ev, 1, 0, 77, &err), 0);
    j = cdn_event_to_json(ev);
    assert_string_equal(jstr(j, "kind"), "session.end");
    assert_int_equal(jint(j, "session", "exit_code"), 1);
    assert_int_equal(jint(j, "session", "duration_ns"), 77);
    json_decref(j);
    cdn_event_free(ev);
}

static void test_json_net_fs(void **state)
{
    (void)state;
    cdn_error_t err;
    cdn_event_t *ev;
    cdn_net_info_t ni = {.host = "api.github.com", .address = "140.82.112.6", .port = 443,
                         .protocol = "tcp", .rule = "allowedDomains:*.github.com",
                         .bytes_in = 5000000000ULL, .bytes_out = 7, .duration_ns = 99};
    assert_int_equal(cdn_event_net(&ev, CDN_DECISION_ALLOW, &ni, &err), 0);
    json_t *j = cdn_event_to_json(ev);
    assert_string_equal(jstr(j, "kind"), "net.allow");
    assert_string_equal(jstr(j, "decision"), "allow");
    assert_string_equal(jstr(j, "net.host"), "api.github.com");
    assert_string_equal(jstr(j, "net.address"), "140.82.112.6");
    assert_string_equal(jstr(j, "net.protocol"), "tcp");
    assert_string_equal(jstr(j, "net.rule"), "allowedDomains:*.github.com");
    assert_int_equal(jint(j, "net", "port"), 443);
    assert_int_equal(jint(j, "net", "bytes_in"), 5000000000LL);
    assert_int_equal(jint(j, "net", "bytes_out"), 7);
    assert_int_equal(jint(j, "net", "duration_ns"), 99);
    json_decref(j);
    cdn_event_free(ev);

    cdn_fs_info_t fi = {.path = "/ws/.git/hooks/pre-commit", .operation = "create", .pid = 5,
                        .process_name = "sh", .exe = "/bin/sh", .errnum = EACCES,
                        .setting = "none (protected persistence path)"};
    assert_int_equal(cdn_event_fs_violation(&ev, &fi, &err), 0);
    j = cdn_event_to_json(ev);
    assert_string_equal(jstr(j, "kind"), "fs.violation");
    assert_string_equal(jstr(j, "decision"), "deny");
    assert_string_equal(jstr(j, "fs.path"), "/ws/.git/hooks/pre-commit");
    assert_string_equal(jstr(j, "fs.operation"), "create");
    assert_string_equal(jstr(j, "fs.process_name"), "sh");
    assert_string_equal(jstr(j, "fs.exe"), "/bin/sh");
    assert_string_equal(jstr(j, "fs.errno_name"), "EACCES");
    assert_int_equal(jint(j, "fs", "errno"), EACCES);
    assert_int_equal(jint(j, "fs", "pid"), 5);
    assert_string_equal(jstr(j, "fs.setting"), "none (protected persistence path)");
    json_decref(j);
    cdn_event_free(ev);

    assert_int_equal(cdn_event_policy_warning(&ev, "network.tlsTerminate", "not enforced", &err), 0);
    j = cdn_event_to_json(ev);
    assert_string_equal(jstr(j, "setting"), "network.tlsTerminate");
    assert_string_equal(jstr(j, "message"), "not enforced");
    json_decref(j);
    cdn_event_free(ev);

    assert_int_equal(cdn_event_error(&ev, ENOENT, "no such thing", &err), 0);
    j = cdn_event_to_json(ev);
    assert_string_equal(jstr(j, "errno_name"), "ENOENT");
    json_decref(j);
    size_t len;
    char *line = cdn_event_to_line(ev, &len);
    assert_non_null(line);
    assert_int_equal(strlen(line), len);
    assert_int_equal(line[len - 1], '\n');
    assert_null(memchr(line, '\n', len - 1));
    free(line);
    cdn_event_free(ev);
}

/* Every string of every kind passes through redaction. */
#define SECRET "tok-PLANTED-91c4d0e2"
static void test_redaction_every_kind(void **state)
{
    (void)state;
    cdn_error_t err;
    cdn_audit_clear_secrets();
    assert_int_equal(cdn_audit_add_secret(SECRET, &err), 0);
    assert_int_equal(cdn_audit_add_secret("abc", &err), 0); /* too short: ignored */
    cdn_event_t *evs[9];
    const char *argv[] = {"curl", "-H", "X-Key: " SECRET, "--password", "pw-sep-arg",
                          "--token=inline-tok", "api_key=kv-secret", "-u", "bob:pw-userinfo",
                          "https://alice:url-pass@h.example/p?access_token=q-secret&x=1", NULL};
    assert_int_equal(cdn_event_session_start(&evs[0], &err), 0);
    assert_int_equal(cdn_event_session_end(&evs[1], 0, 0, 1, &err), 0);
    assert_int_equal(cdn_event_process_start(&evs[2], argv, 1, &err), 0);
    assert_int_equal(cdn_event_process_exit(&evs[3], 1, 0, 0, 1, NULL, &err), 0);
    cdn_net_info_t ni = {.host = SECRET ".example", .address = "10.0.0.1", .port = 1,
                         .protocol = "tcp", .rule = "rule " SECRET};
    assert_int_equal(cdn_event_net(&evs[4], CDN_DECISION_ALLOW, &ni, &err), 0);
    assert_int_equal(cdn_event_net(&evs[5], CDN_DECISION_DENY, &ni, &err), 0);
    cdn_fs_info_t fi = {.path = "/home/u/" SECRET, .operation = "write", .process_name = SECRET,
                        .exe = "/x/" SECRET, .setting = SECRET};
    assert_int_equal(cdn_event_fs_violation(&evs[6], &fi, &err), 0);
    assert_int_equal(cdn_event_policy_warning(&evs[7], SECRET, "w " SECRET, &err), 0);
    assert_int_equal(cdn_event_error(&evs[8], 0, "Authorization: Bearer hdr-secret", &err), 0);
    for (size_t i = 0; i < 9; i++) {
        assert_int_equal(cdn_event_set_message(evs[i], evs[i]->message ? evs[i]->message
                                                                       : "msg " SECRET, &err), 0);
        free(evs[i]->agent_id);
        evs[i]->agent_id = strdup("agent-" SECRET);
        free(evs[i]->workspace);
        evs[i]->workspace = strdup("/ws/" SECRET);
        assert_int_equal(cdn_event_redact(evs[i], &err), 0);
        char *line = cdn_event_to_line(evs[i], NULL);
        assert_non_null(line);
        static const char *const planted[] = {SECRET, "pw-sep-arg", "inline-tok", "kv-secret",
                                              "pw-userinfo", "url-pass", "q-secret",
                                              "hdr-secret"};
        for (size_t p = 0; p < sizeof planted / sizeof *planted; p++)
            if (strstr(line, planted[p]))
                fail_msg("kind %s leaks %s: %s", cdn_event_kind_name(evs[i]->kind), planted[p],
                         line);
        assert_non_null(strstr(line, CDN_REDACTED));
        free(line);
        cdn_event_free(evs[i]);
    }
    cdn_audit_clear_secrets();
}

static void test_redact_text_shapes(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain text", "plain text"},
        {"--password=x", "--password=[REDACTED]"},
        {"TOKEN=abc def", "TOKEN=[REDACTED] def"},
        {"a=1&secret_key=zz;b", "a=1&secret_key=[REDACTED];b"},
        {"http://u:p@h/x", "http://u:[REDACTED]@h/x"},
        {"http://u@h/x", "http://u@h/x"},
        {"ssh://h:22/x", "ssh://h:22/x"},
        {"Authorization: Basic Zm9v", "Authorization: [REDACTED]"},
        {"x bearer abc y", "x bearer [REDACTED] y"},
        {"monkey=1", "monkey=[REDACTED]"}, /* over-redaction is the safe side */
        {"=", "="},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *r = cdn_redact_text(cases[i].in);
        assert_non_null(r);
        assert_string_equal(r, cases[i].out);
        free(r);
    }
    assert_null(cdn_redact_text(NULL));
}

static void test_overlapping_secrets(void **state)
{
    (void)state;
    cdn_error_t err;
    cdn_audit_clear_secrets();
    assert_int_equal(cdn_audit_add_secret("abcd", &err), 0);
    assert_int_equal(cdn_audit_add_secret("abcdefgh", &err), 0);
    char *r = cdn_redact_text("xabcdefghy abcd");
    assert_string_equal(r, "x[REDACTED]y [REDACTED]");
    free(r);
    cdn_audit_clear_secrets();
}

static void test_ignore_rules(void **state)
{
    (void)state;
    cdn_error_t err;
    char star[] = "*", git[] = "git push";
    cdn_ignore_rule_t rules[2] = {{.command_pattern = star}, {.command_pattern = git}};
    assert_int_equal(cdn_strv_add(&rules[0].paths, "/usr/lib", &err), 0);
    assert_int_equal(cdn_strv_add(&rules[1].paths, ".gitconfig", &err), 0);
    assert_true(cdn_violation_ignored("ls", "/usr/lib/x", rules, 2));
    assert_false(cdn_violation_ignored("ls", "/home/.gitconfig", rules, 2));
    assert_true(cdn_violation_ignored("git push origin", "/home/.gitconfig", rules, 2));
    assert_false(cdn_violation_ignored(NULL, "/home/.gitconfig", rules, 2));

    cdn_violations_t *v = cdn_violations_new();
    char *argv[] = {git, NULL};
    assert_int_equal(cdn_violations_set_command(v, argv), 0);
    cdn_event_t *ev;
    cdn_fs_info_t a = {.path = "/home/.gitconfig", .operation = "write"};
    cdn_fs_info_t b = {.path = "/ws/.bashrc", .operation = "write", .process_name = "sh",
                       .setting = "filesystem.allowWrite"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(cdn_event_fs_violation(&ev, i ? &b : &a, &err), 0);
        assert_int_equal(cdn_violations_add(v, ev), 0);
        cdn_event_free(ev);
    }
    char buf[1024] = "";
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");
    assert_int_equal(cdn_violations_print(v, f, rules, 2), 1);
    fclose(f);
    assert_non_null(strstr(buf, "<sandbox_violations>\nwrite /ws/.bashrc denied (sh) x2; "
                                "allowed by: filesystem.allowWrite\n</sandbox_violations>\n"));
    assert_null(strstr(buf, "gitconfig"));
    f = fmemopen(buf, sizeof buf - 1, "w");
    assert_int_equal(cdn_violations_print(v, f, NULL, 0), 2);
    fclose(f);
    assert_non_null(strstr(buf, ".gitconfig"));
    cdn_violations_free(v);
    cdn_strv_free(&rules[0].paths);
    cdn_strv_free(&rules[1].paths);
}

/* The direct writer (OTLP hot path) and jansson (JSON lines) must agree on
 * every string, including bytes that are not UTF-8. */
static void test_jsonw_matches_jansson(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "plain", "quote\" back\\slash", "ctl\x01\x1f\x7f tab\t nl\n", "caf\xc3\xa9 \xe2\x82\xac",
        "bad\xff\xfe", "overlong\xc0\xaf", "surrogate\xed\xa0\x80", "cut\xe2\x82", "",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cdn_jsonw_t w = {0};
        cdn_jsonw_str(&w, cases[i]);
        assert_false(w.oom);
        json_error_t je;
        json_t *parsed = json_loads(w.s, JSON_DECODE_ANY, &je);
        if (!parsed)
            fail_msg("case %zu: %s: %s", i, w.s, je.text);
        json_t *ref = cdn_json_bytes(cases[i]);
        assert_non_null(ref);
        assert_string_equal(json_string_value(parsed), json_string_value(ref));
        json_decref(parsed);
        json_decref(ref);
        free(w.s);
    }
}

static void test_from_json(void **state)
{
    (void)state;
    cdn_error_t err;
    cdn_event_t *ev, *back;
    cdn_fs_info_t fi = {.path = "/ws/.git/hooks/x", .operation = "create", .pid = 3,
                        .process_name = "git", .exe = "/usr/bin/git", .errnum = EPERM,
                        .setting = "none"};
    assert_int_equal(cdn_event_fs_violation(&ev, &fi, &err), 0);
    assert_int_equal(cdn_event_set_message(ev, "m", &err), 0);
    size_t len;
    char *line = cdn_event_to_line(ev, &len);
    assert_int_equal(cdn_event_from_json(line, len, &back, &err), 0);
    back->time_ns = ev->time_ns;
    char *again = cdn_event_to_line(back, NULL);
    assert_string_equal(line, again);
    free(line);
    free(again);
    cdn_event_free(ev);
    cdn_event_free(back);

    cdn_net_info_t ni = {.host = "h", .port = 8, .protocol = "udp", .bytes_in = 3};
    assert_int_equal(cdn_event_net(&ev, CDN_DECISION_DENY, &ni, &err), 0);
    line = cdn_event_to_line(ev, &len);
    assert_int_equal(cdn_event_from_json(line, len, &back, &err), 0);
    assert_int_equal(back->kind, CDN_EV_NET_DENY);
    assert_string_equal(back->protocol, "udp");
    assert_int_equal(back->bytes_in, 3);
    free(line);
    cdn_event_free(ev);
    cdn_event_free(back);

    static const char *const bad[] = {
        "{\"kind\":\"session.start\"}",
        "{\"kind\":\"process.exit\",\"process\":{\"pid\":1}}",
        "{\"kind\":\"fs.violation\",\"fs\":{\"operation\":\"write\"}}",
        "{\"kind\":\"fs.violation\",\"fs\":{\"path\":1,\"operation\":\"write\"}}",
        "{\"kind\":\"fs.violation\",\"fs\":{\"path\":\"/x\",\"operation\":\"w\",\"pid\":-1}}",
        "{\"kind\":\"net.deny\",\"net\":{\"host\":\"h\",\"port\":70000,\"protocol\":\"tcp\"}}",
        "{\"kind\":\"error\"}",
        "{\"kind\":\"error\",\"message\":\"a\",\"message\":\"b\"}",
        "[1]",
        "not json",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        back = NULL;
        if (cdn_event_from_json(bad[i], strlen(bad[i]), &back, &err) == 0)
            fail_msg("accepted %s", bad[i]);
        assert_null(back);
    }
}

static void test_digest_ids(void **state)
{
    (void)state;
    cdn_error_t err;
    char d[72];
    assert_int_equal(cdn_audit_digest("abc", 3, d, &err), 0);
    assert_string_equal(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    char a[33], b[33];
    assert_int_equal(cdn_audit_random_hex(a, 16, &err), 0);
    assert_int_equal(cdn_audit_random_hex(b, 16, &err), 0);
    assert_int_equal(strlen(a), 32);
    assert_int_equal(strspn(a, "0123456789abcdef"), 32);
    assert_string_not_equal(a, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_names),         cmocka_unit_test(test_required_fields),
        cmocka_unit_test(test_json_process),       cmocka_unit_test(test_json_net_fs),
        cmocka_unit_test(test_redaction_every_kind), cmocka_unit_test(test_redact_text_shapes),
        cmocka_unit_test(test_overlapping_secrets), cmocka_unit_test(test_ignore_rules),
        cmocka_unit_test(test_digest_ids),         cmocka_unit_test(test_from_json),         cmocka_unit_test(test_jsonw_matches_jansson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
