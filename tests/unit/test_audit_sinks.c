/* Audit sinks: the JSON-lines file with two writers at once, the facade's
 * session stamping, the OTLP configuration from OTEL_* and the exporter's
 * bounded queue. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "audit/audit.h"
#include "audit/http.h"

#define PER_WRITER 1000

static char big[6000];

static void writer(const char *path, int id)
{
    cdn_error_t err;
    cdn_audit_t *a;
    cdn_audit_config_t cfg = {.jsonl_path = path, .quiet = true, .agent_id = "w"};
    if (cdn_audit_open(&cfg, &a, &err) < 0)
        _exit(10);
    for (int i = 0; i < PER_WRITER; i++) {
        cdn_event_t *ev;
        char m[64];
        snprintf(m, sizeof m, "w%d-%d ", id, i);
        if (cdn_event_policy_warning(&ev, "k", m, &err) < 0)
            _exit(11);
        /* Lines of ~6 kB: larger than a pipe's atomic write, so interleaving
         * would show if the sink did not serialise whole lines. */
        char *msg = malloc(strlen(m) + sizeof big);
        sprintf(msg, "%s%s", m, big);
        if (cdn_event_set_message(ev, msg, &err) < 0)
            _exit(12);
        free(msg);
        cdn_audit_emit(a, ev);
    }
    _exit(cdn_audit_close(a, NULL) == 0 ? 0 : 13);
}

static void test_jsonl_two_writers(void **state)
{
    (void)state;
    memset(big, 'x', sizeof big - 1);
    char path[] = "/tmp/cordon-audit-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    pid_t p[2];
    for (int w = 0; w < 2; w++) {
        p[w] = fork();
        assert_true(p[w] >= 0);
        if (p[w] == 0)
            writer(path, w);
    }
    for (int w = 0; w < 2; w++) {
        int st;
        assert_int_equal(waitpid(p[w], &st, 0), p[w]);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int seen[2][PER_WRITER] = {{0}};
    char sessions[2][33] = {"", ""};
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lines = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        lines++;
        assert_int_equal(line[n - 1], '\n');
        json_error_t je;
        json_t *j = json_loads(line, 0, &je);
        if (!j)
            fail_msg("line %d is not JSON: %s", lines, je.text);
        const char *msg = json_string_value(json_object_get(j, "message"));
        int w, i;
        assert_int_equal(sscanf(msg, "w%d-%d ", &w, &i), 2);
        assert_true(w == 0 || w == 1);
        assert_true(i >= 0 && i < PER_WRITER);
        assert_int_equal(strlen(msg), strlen(strchr(msg, ' ')) + (size_t)(strchr(msg, ' ') - msg));
        assert_int_equal(strlen(strchr(msg, ' ') + 1), sizeof big - 1);
        seen[w][i]++;
        const char *sid = json_string_value(json_object_get(j, "session_id"));
        assert_non_null(sid);
        if (!sessions[w][0])
            snprintf(sessions[w], sizeof sessions[w], "%s", sid);
        assert_string_equal(sessions[w], sid);
        assert_string_equal(json_string_value(json_object_get(j, "agent_id")), "w");
        json_decref(j);
    }
    free(line);
    fclose(f);
    unlink(path);
    assert_int_equal(lines, 2 * PER_WRITER);
    for (int w = 0; w < 2; w++)
        for (int i = 0; i < PER_WRITER; i++)
            assert_int_equal(seen[w][i], 1);
    assert_string_not_equal(sessions[0], sessions[1]);
}

static void test_facade_spans(void **state)
{
    (void)state;
    char path[] = "/tmp/cordon-audit-test-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    cdn_error_t err;
    cdn_audit_t *a;
    setenv("CORDON_AGENT_ID", "env-agent", 1);
    cdn_audit_config_t cfg = {.jsonl_path = path, .workspace = "/ws", .policy_json = "{}"};
    assert_int_equal(cdn_audit_open(&cfg, &a, &err), 0);
    unsetenv("CORDON_AGENT_ID");
    const char *argv[] = {"true", NULL};
    cdn_event_t *ev;
    cdn_net_info_t ni = {.host = "h", .port = 1, .protocol = "tcp"};
    assert_int_equal(cdn_event_session_start(&ev, &err), 0);
    cdn_audit_emit(a, ev);
    assert_int_equal(cdn_event_process_start(&ev, argv, 9, &err), 0);
    cdn_audit_emit(a, ev);
    assert_int_equal(cdn_event_net(&ev, CDN_DECISION_DENY, &ni, &err), 0);
    cdn_audit_emit(a, ev);
    assert_int_equal(cdn_event_process_exit(&ev, 9, 0, 0, 1, NULL, &err), 0);
    cdn_audit_emit(a, ev);
    assert_int_equal(cdn_event_error(&ev, 0, "after", &err), 0);
    cdn_audit_emit(a, ev);
    /* As the supervisor would send it from inside the sandbox. */
    cdn_fs_info_t fi = {.path = "/ws/.bashrc", .operation = "write", .pid = 3};
    assert_int_equal(cdn_event_fs_violation(&ev, &fi, &err), 0);
    size_t len;
    char *line = cdn_event_to_line(ev, &len);
    cdn_event_free(ev);
    assert_int_equal(cdn_audit_emit_json(a, line, len, &err), 0);
    free(line);
    assert_true(cdn_audit_emit_json(a, "{\"kind\":\"session.end\"}", 23, &err) < 0);
    cdn_audit_emit(NULL, NULL);
    assert_int_equal(cdn_event_error(&ev, 0, "no session", &err), 0);
    cdn_audit_emit(NULL, ev); /* consumed: ASan would see a leak otherwise */
    char report[2048] = "";
    FILE *rf = fmemopen(report, sizeof report - 1, "w");
    assert_int_equal(cdn_audit_close(a, rf), 0);
    fclose(rf);
    assert_non_null(strstr(report, "<sandbox_violations>\nconnect h:1 denied"));
    assert_non_null(strstr(report, "write /ws/.bashrc denied"));

    FILE *f = fopen(path, "r");
    json_t *j[6];
    for (int i = 0; i < 6; i++) {
        j[i] = json_loadf(f, JSON_DISABLE_EOF_CHECK, NULL);
        assert_non_null(j[i]);
    }
    fclose(f);
    unlink(path);
#define S(i, k) json_string_value(json_object_get(j[i], k))
    const char *root = S(0, "span_id"), *cmd = S(1, "span_id");
    assert_int_equal(strlen(root), 16);
    assert_int_equal(strlen(cmd), 16);
    assert_string_not_equal(root, cmd);
    assert_null(json_object_get(j[0], "parent_span_id"));
    assert_string_equal(S(1, "parent_span_id"), root);
    assert_string_equal(S(2, "span_id"), cmd);
    assert_string_equal(S(3, "span_id"), cmd);
    assert_string_equal(S(4, "span_id"), root); /* after the command: the session again */
    assert_string_equal(S(5, "kind"), "fs.violation");
    assert_string_equal(S(5, "span_id"), root);
    for (int i = 0; i < 6; i++) {
        assert_string_equal(S(i, "session_id"), S(0, "session_id"));
        assert_string_equal(S(i, "agent_id"), "env-agent");
        assert_string_equal(S(i, "workspace"), "/ws");
        assert_string_equal(S(i, "tier"), "os-sandbox");
        assert_string_equal(S(i, "policy_digest"),
                            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
        assert_int_equal(json_integer_value(json_object_get(j[i], "uid")), (json_int_t)getuid());
    }
    for (int i = 0; i < 6; i++)
        json_decref(j[i]);
}

static const char *const *fake_env;
static const char *fake_getenv(const char *name)
{
    for (size_t i = 0; fake_env[i]; i += 2)
        if (strcmp(fake_env[i], name) == 0)
            return fake_env[i + 1];
    return NULL;
}

static void test_otlp_env(void **state)
{
    (void)state;
    cdn_error_t err;
    bool on;
    cdn_otlp_config_t c = {0};
    const char *e1[] = {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://col:4318/",
                        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://t.example/custom",
                        "OTEL_EXPORTER_OTLP_HEADERS", " api-key = a%3Db%2Cc , x=1,",
                        "OTEL_RESOURCE_ATTRIBUTES", "a=1,service.name=from-res",
                        "OTEL_EXPORTER_OTLP_TIMEOUT", "1500", NULL};
    fake_env = e1;
    assert_int_equal(cdn_otlp_config_from_env(&c, &on, fake_getenv, &err), 0);
    assert_true(on);
    assert_string_equal(c.logs_url, "http://col:4318/v1/logs");
    assert_string_equal(c.traces_url, "https://t.example/custom");
    assert_int_equal(c.headers.n, 2);
    assert_string_equal(c.headers.v[0], "api-key: a=b,c");
    assert_string_equal(c.headers.v[1], "x: 1");
    assert_int_equal(c.request_timeout_ms, 1500);
    assert_null(c.warning);
    json_t *r = cdn_otlp_resource(&c);
    char *s = json_dumps(r, JSON_COMPACT);
    assert_non_null(strstr(s, "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"from-res\"}}"));
    free(s);
    json_decref(r);
    cdn_otlp_config_free(&c);

    const char *e2[] = {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c", "OTEL_TRACES_EXPORTER", "none",
                        "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", "OTEL_SERVICE_NAME", "svc", NULL};
    fake_env = e2;
    assert_int_equal(cdn_otlp_config_from_env(&c, &on, fake_getenv, &err), 0);
    assert_true(on);
    assert_null(c.traces_url);
    assert_non_null(c.warning);
    r = cdn_otlp_resource(&c);
    s = json_dumps(r, JSON_COMPACT);
    assert_non_null(strstr(s, "\"stringValue\":\"svc\""));
    free(s);
    json_decref(r);
    cdn_otlp_config_free(&c);

    const char *e3[] = {"OTEL_SDK_DISABLED", "true", "OTEL_EXPORTER_OTLP_ENDPOINT", "http://c", NULL};
    fake_env = e3;
    assert_int_equal(cdn_otlp_config_from_env(&c, &on, fake_getenv, &err), 0);
    assert_false(on);
    cdn_otlp_config_free(&c);
    const char *e4[] = {NULL};
    fake_env = e4;
    assert_int_equal(cdn_otlp_config_from_env(&c, &on, fake_getenv, &err), 0);
    assert_false(on);

    static const char *const bad[][2] = {
        {"OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://x"},
        {"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "col:4318"},
        {"OTEL_EXPORTER_OTLP_HEADERS", "novalue"},
        {"OTEL_EXPORTER_OTLP_HEADERS", "a=b%0D%0AInjected: 1"},
        {"OTEL_EXPORTER_OTLP_HEADERS", "bad name=1"},
        {"OTEL_EXPORTER_OTLP_HEADERS", "=1"},
        {"OTEL_EXPORTER_OTLP_TIMEOUT", "soon"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *e[] = {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://ok", bad[i][0], bad[i][1], NULL};
        if (strcmp(bad[i][0], "OTEL_EXPORTER_OTLP_ENDPOINT") == 0)
            e[1] = bad[i][1];
        fake_env = e;
        memset(&c, 0, sizeof c);
        if (cdn_otlp_config_from_env(&c, &on, fake_getenv, &err) == 0)
            fail_msg("%s=%s accepted", bad[i][0], bad[i][1]);
        assert_int_equal(err.status, CDN_EXIT_USAGE);
        cdn_otlp_config_free(&c);
    }
    assert_int_equal(cdn_otlp_parse_retry_after("3"), 3);
    assert_int_equal(cdn_otlp_parse_retry_after(" 12 \r\n"), 12);
    assert_int_equal(cdn_otlp_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), -1);
    assert_int_equal(cdn_otlp_parse_retry_after("-1"), -1);
    assert_int_equal(cdn_otlp_parse_retry_after("99999999999"), 86400);
    assert_int_equal(cdn_otlp_parse_retry_after(NULL), -1);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_otlp_queue_bounds(void **state)
{
    (void)state;
    /* A port bound but not listening: connections are refused at once. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof sa;
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &l), 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/logs", ntohs(sa.sin_port));
    cdn_otlp_config_t c = {.logs_url = url, .queue_max = 8, .batch_max = 1000,
                           .schedule_delay_ms = 600000, .flush_timeout_ms = 300};
    cdn_error_t err;
    cdn_otlp_t *x;
    assert_int_equal(cdn_otlp_start(&c, &x, &err), 0);
    int64_t t0 = mono_ms();
    int accepted = 0;
    for (int i = 0; i < 20; i++) {
        cdn_event_t *ev;
        assert_int_equal(cdn_event_error(&ev, 0, "e", &err), 0);
        accepted += cdn_otlp_enqueue(x, ev);
    }
    assert_true(mono_ms() - t0 < 50); /* never waits */
    assert_int_equal(accepted, 8);
    cdn_otlp_stats_t st;
    t0 = mono_ms();
    cdn_otlp_stop(x, &st);
    int64_t took = mono_ms() - t0;
    close(s);
    assert_true(took < 1000);
    assert_int_equal(st.events, 8);
    assert_int_equal(st.queue_dropped, 12);
    assert_int_equal(st.logs_sent, 0);
    assert_int_equal(st.logs_dropped, 8);
    assert_true(st.requests >= 1);
    assert_non_null(strstr(st.last_error, "127.0.0.1"));
}

static void test_http_parsers(void **state)
{
    (void)state;
    cdn_http_target_t t;
    assert_true(cdn_http_loopback_url("http://127.0.0.1:4318/v1/logs", &t));
    assert_string_equal(t.hostport, "127.0.0.1:4318");
    assert_string_equal(t.path, "/v1/logs");
    assert_true(cdn_http_loopback_url("http://localhost:4318/v1/traces", &t));
    assert_true(cdn_http_loopback_url("http://[::1]:4318/x", &t));
    assert_true(cdn_http_loopback_url("http://127.1.2.3", &t));
    assert_string_equal(t.path, "/");
    static const char *const not_builtin[] = {
        "https://127.0.0.1/v1/logs", "http://10.0.0.1:4318/v1/logs", "http://collector:4318/",
        "http://127.0.0.1:0/", "http://127.0.0.1:99999/", "http://127.0.0.1:43a/",
        "http://[::2]/", "http://127.0.0.1/a b", "http://user@127.0.0.1/",
    };
    for (size_t i = 0; i < sizeof not_builtin / sizeof *not_builtin; i++)
        if (cdn_http_loopback_url(not_builtin[i], &t))
            fail_msg("%s taken by the built-in client", not_builtin[i]);

    cdn_http_resp_t r = {0};
    const char *ok = "HTTP/1.1 429 Too Many\r\nRetry-After: 7\r\nContent-Length: 2\r\n\r\n{}";
    assert_int_equal(cdn_http_parse_head(ok, strlen(ok), &r), 1);
    assert_int_equal(r.status, 429);
    assert_int_equal(r.retry_after, 7);
    assert_int_equal(r.content_length, 2);
    assert_true(r.keep_alive);
    assert_int_equal(r.head_len, strlen(ok) - 2);
    const char *partial = "HTTP/1.1 200 OK\r\nContent-Le";
    assert_int_equal(cdn_http_parse_head(partial, strlen(partial), &r), 0);
    const char *chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    assert_int_equal(cdn_http_parse_head(chunked, strlen(chunked), &r), 1);
    assert_false(r.keep_alive);
    const char *closing = "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";
    assert_int_equal(cdn_http_parse_head(closing, strlen(closing), &r), 1);
    assert_false(r.keep_alive);
    static const char *const bad[] = {
        "HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 100 Continue\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
        "HTTP/1.1 200 OK\nBare: lf\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (cdn_http_parse_head(bad[i], strlen(bad[i]), &r) != -1)
            fail_msg("accepted %s", bad[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonl_two_writers),
        cmocka_unit_test(test_facade_spans),
        cmocka_unit_test(test_otlp_env),
        cmocka_unit_test(test_otlp_queue_bounds),
        cmocka_unit_test(test_http_parsers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
