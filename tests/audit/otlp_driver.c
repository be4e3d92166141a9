/* Drives the audit facade as `cordon run` will: opens a session (OTLP from
 * the OTEL_* environment, JSON lines if --jsonl), emits the events of a
 * command and closes.  Prints one JSON line on stdout for the test:
 * {"session_id", "lost", "emit_max_us", "close_ms", "wall_ms"}.
 *
 *   otlp_driver [--events N] [--jsonl FILE] [--flush-ms MS] [--secret S]
 *               [--run PROG] [--connects N] [--no-audit] [--quiet] [--linger-ms MS]
 *
 * --events N: session.start, process.start, N-4 mixed events (net.deny,
 *   net.allow, fs.violation, policy.warning, error) each with message
 *   "seq=<i>", process.exit, session.end: N events in all.
 * --run PROG: really fork+exec PROG (for the bench), events as cordon run.
 * --connects N: really make N connections to a refused loopback port and
 *   emit a net.deny for each (the bench's "1,000 denied connections"). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t emit_max_us;

static void emit(cdn_audit_t *a, cdn_event_t *ev, int seq)
{
    cdn_error_t err;
    if (!ev) {
        fprintf(stderr, "driver: constructor failed\n");
        exit(3);
    }
    if (seq >= 0) {
        char m[64];
        snprintf(m, sizeof m, "seq=%d", seq);
        if (cdn_event_set_message(ev, m, &err) < 0)
            exit(3);
    }
    int64_t t0 = mono_us();
    cdn_audit_emit(a, ev);
    int64_t d = mono_us() - t0;
    if (d > emit_max_us)
        emit_max_us = d;
}

static cdn_event_t *must(int rc, cdn_event_t **ev, cdn_error_t *err)
{
    if (rc < 0) {
        cdn_error_print(err, stderr);
        exit(3);
    }
    return *ev;
}

/* A loopback port bound but never listening: connect() is refused at once. */
static int refused_port(int *keep)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof sa;
    *keep = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (*keep < 0 || bind(*keep, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        getsockname(*keep, (struct sockaddr *)&sa, &l) < 0)
        return -1;
    return ntohs(sa.sin_port);
}

int main(int argc, char **argv)
{
    int n_events = 0, flush_ms = 0, connects = 0, linger_ms = 0;
    const char *jsonl = NULL, *secret = NULL, *run = NULL;
    bool no_audit = false, quiet = false;
    static const struct option opts[] = {
        {"events", required_argument, NULL, 'n'}, {"jsonl", required_argument, NULL, 'j'},
        {"flush-ms", required_argument, NULL, 'f'}, {"secret", required_argument, NULL, 's'},
        {"run", required_argument, NULL, 'r'},   {"connects", required_argument, NULL, 'c'},
        {"no-audit", no_argument, NULL, 'x'},     {"quiet", no_argument, NULL, 'q'},
        {"linger-ms", required_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    for (int o; (o = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        switch (o) {
        case 'n': n_events = atoi(optarg); break;
        case 'j': jsonl = optarg; break;
        case 'f': flush_ms = atoi(optarg); break;
        case 's': secret = optarg; break;
        case 'r': run = optarg; break;
        case 'c': connects = atoi(optarg); break;
        case 'x': no_audit = true; break;
        case 'q': quiet = true; break;
        case 'l': linger_ms = atoi(optarg); break;
        default: return 2;
        }
    }
    int64_t t_start = mono_us(), open_us = 0;
    cdn_error_t err = {0};
    cdn_audit_t *a = NULL;
    char star[] = "*";
    cdn_ignore_rule_t ignore = {.command_pattern = star};
    if (cdn_strv_add(&ignore.paths, "/ignored/", &err) < 0)
        return 3;
    if (!no_audit) {
        if (secret && cdn_audit_add_secret(secret, &err) < 0)
            return 3;
        cdn_audit_config_t cfg = {
            .jsonl_path = jsonl,
            .otlp_from_env = true,
            .quiet = quiet,
            .agent_id = "driver-agent",
            .workspace = "/work/space",
            .policy_json = "{\"filesystem\":{}}",
            .ignore = &ignore,
            .n_ignore = 1,
            .flush_timeout_ms = flush_ms,
        };
        int64_t t_open = mono_us();
        int orc = cdn_audit_open(&cfg, &a, &err);
        open_us = mono_us() - t_open;
        if (orc < 0) {
            cdn_error_print(&err, stderr);
            return 3;
        }
    }
    cdn_event_t *ev = NULL;
    int seq = 0;
    emit(a, must(cdn_event_session_start(&ev, &err), &ev, &err), seq++);
    char pw[128];
    snprintf(pw, sizeof pw, "--password=%s", secret ? secret : "x");
    const char *cmd_argv[] = {run ? run : "/usr/bin/tool", "--flag", pw,
                              "https://user:hunter22@example.com/x", secret ? secret : "none",
                              NULL};
    int status = 0;
    struct rusage ru = {0};
    int64_t t_cmd = mono_us();
    pid_t pid = 4242;
    if (run) {
        pid = fork();
        if (pid == 0) {
            execl(run, run, (char *)NULL);
            _exit(127);
        }
    }
    emit(a, must(cdn_event_process_start(&ev, cmd_argv, pid, &err), &ev, &err), seq++);
    if (connects > 0) {
        int keep;
        int port = refused_port(&keep);
        if (port < 0)
            return 3;
        for (int i = 0; i < connects; i++) {
            struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                     .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
            int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            int rc = connect(s, (struct sockaddr *)&sa, sizeof sa);
            close(s);
            if (rc == 0)
                return 3;
            cdn_net_info_t ni = {.host = "blocked.example", .address = "127.0.0.1",
                                 .port = port, .protocol = "tcp", .rule = "default deny"};
            emit(a, must(cdn_event_net(&ev, CDN_DECISION_DENY, &ni, &err), &ev, &err), -1);
        }
    }
    for (int i = 0; i < n_events - 4; i++) {
        switch (i % 5) {
        case 0: {
            cdn_net_info_t ni = {.host = "evil.example", .address = "203.0.113.9", .port = 443,
                                 .protocol = "tcp", .rule = "deniedDomains:evil.example"};
            must(cdn_event_net(&ev, CDN_DECISION_DENY, &ni, &err), &ev, &err);
            break;
        }
        case 1: {
            cdn_net_info_t ni = {.host = "api.github.com", .address = "140.82.112.6",
                                 .port = 443, .protocol = "tcp", .rule = "allowedDomains:*.github.com",
                                 .bytes_in = 1000, .bytes_out = 200, .duration_ns = 5000000};
            must(cdn_event_net(&ev, CDN_DECISION_ALLOW, &ni, &err), &ev, &err);
            break;
        }
        case 2: {
            cdn_fs_info_t fi = {.path = i % 10 == 2 ? "/work/space/.bashrc" : "/ignored/x",
                                .operation = "write", .pid = 7, .process_name = "sh",
                                .exe = "/bin/sh", .errnum = EACCES,
                                .setting = "filesystem.allowWrite"};
            must(cdn_event_fs_violation(&ev, &fi, &err), &ev, &err);
            break;
        }
        case 3:
            must(cdn_event_policy_warning(&ev, "network.tlsTerminate", "not enforced yet", &err),
                 &ev, &err);
            break;
        default:
            must(cdn_event_error(&ev, ENOENT, "something failed", &err), &ev, &err);
            break;
        }
        emit(a, ev, seq++);
    }
    int code = 0, sig = 0;
    if (run) {
        if (wait4(pid, &status, 0, &ru) < 0)
            return 3;
        code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    }
    int64_t dur = (mono_us() - t_cmd) * 1000;
    emit(a, must(cdn_event_process_exit(&ev, pid, code, sig, dur, &ru, &err), &ev, &err), seq++);
    emit(a, must(cdn_event_session_end(&ev, code, sig, dur, &err), &ev, &err), seq++);
    char session[33] = "";
    if (a)
        snprintf(session, sizeof session, "%s", cdn_audit_session_id(a));
    /* A command that runs on after its events: sends start before close. */
    if (linger_ms > 0)
        usleep((useconds_t)linger_ms * 1000);
    int64_t t_close = mono_us();
    long lost = cdn_audit_close(a, stderr);
    int64_t t_end = mono_us();
    printf("{\"session_id\":\"%s\",\"lost\":%ld,\"events\":%d,\"emit_max_us\":%lld,"
           "\"open_ms\":%.1f,\"close_ms\":%.1f,\"wall_ms\":%.1f}\n",
           session, lost, seq, (long long)emit_max_us, (double)open_us / 1000.0,
           (double)(t_end - t_close) / 1000.0,
           (double)(t_end - t_start) / 1000.0);
    cdn_strv_free(&ignore.paths);
    cdn_audit_clear_secrets();
    return 0;
}
