#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "audit/audit.h"
#include "sandbox/run.h"

static const char run_usage[] =
    "usage: cordon run [OPTIONS] -- COMMAND [ARGS...]\n"
    "       cordon run [OPTIONS] -c 'SHELL STRING'\n"
    "\n"
    "Run COMMAND confined: the workspace writable, the rest of the host read-only,\n"
    "secrets hidden, persistence files protected, no network.\n"
    "\n"
    "  --settings FILE        settings (default: ~/.config/cordon/settings.json,\n"
    "                         then ~/.srt-settings.json, then the built-in default)\n"
    "  --workspace DIR        the writable workspace (default: the current directory)\n"
    "  --workspace-mode MODE  read-write (default), read-only, read-write-no-delete\n"
    "  --env-pass NAME        keep a variable that looks secret (repeatable)\n"
    "  --setenv NAME=VALUE    set a variable inside (repeatable)\n"
    "  --allow-nested-userns  let the command create user namespaces\n"
    "  --no-pty               never give the command a private pseudo-terminal\n"
    "  --without-landlock     run on a kernel without Landlock, with one layer less\n"
    "                         (announced on stderr every time)\n"
    "  --quiet                no violations report on stderr\n"
    "  --audit-log FILE       append one JSON event per line (several sandboxes may\n"
    "                         share the file); OTLP export follows the standard\n"
    "                         OTEL_EXPORTER_OTLP_* variables\n"
    "  --agent-id ID          the agent's identity in every event (default:\n"
    "                         $CORDON_AGENT_ID)\n"
    "  --dns-upstream ADDR    the resolver the egress broker asks for allowed names\n"
    "                         (default: the host's /etc/resolv.conf)\n"
    "  --publish PORT[:HOSTPORT]\n"
    "                         serve the sandbox's 127.0.0.1:PORT on the host's\n"
    "                         127.0.0.1:HOSTPORT (default: the same port); repeatable,\n"
    "                         at most 16; a taken HOSTPORT runs nothing\n"
    "  -c STRING              run STRING with /bin/sh -c\n"
    "\n"
    "Exit status: the command's (128+N if signal N killed it); 125 if cordon\n"
    "failed before running anything; 2 for bad usage or settings.\n";

extern char **environ;

/* Local to `cordon run`: far from cli.h's common values. */
enum { OPT_PUBLISH = 2000 };

/* "PORT" or "PORT:HOSTPORT", each 1..65535, decimal only. */
static int parse_publish(const char *arg, cdn_publish_t *out, cdn_error_t *err)
{
    unsigned long v[2] = {0, 0};
    const char *p = arg;
    for (int i = 0; i < 2; i++) {
        char *end;
        if (*p < '0' || *p > '9')
            break;
        errno = 0;
        v[i] = strtoul(p, &end, 10);
        if (errno || v[i] < 1 || v[i] > 65535 || end - p > 5)
            return cdn_error_usage(err, "--publish %s: ports are 1 to 65535", arg);
        p = end;
        if (i == 0 && *p == ':')
            p++;
        else
            break;
    }
    if (*p || !v[0] || (p > arg && p[-1] == ':'))
        return cdn_error_usage(err, "--publish %s: expected PORT or PORT:HOSTPORT", arg);
    out->port = (uint16_t)v[0];
    out->host_port = (uint16_t)(v[1] ? v[1] : v[0]);
    return 0;
}

/* Values of the variables kept out of the sandbox must not reach any audit
 * sink either (an argv could carry one). */
static void redact_removed_env(const cdn_policy_t *pol)
{
    cdn_error_t err;
    for (size_t i = 0; i < pol->env_removed.n; i++) {
        const char *v = getenv(pol->env_removed.v[i]);
        if (v && strlen(v) >= 4)
            (void)cdn_audit_add_secret(v, &err);
    }
}

static char *plan_json(const cdn_plan_t *plan)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cdn_error_t err;
    if (!f)
        return NULL;
    if (cdn_plan_print_json(plan, f, &err) < 0) {
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    return buf;
}

static void emit_session(cdn_audit_t *a, bool start, const cdn_run_result_t *res)
{
    cdn_event_t *ev = NULL;
    cdn_error_t err;
    int st = res ? res->exit_status : 0;
    bool sig = st > 128 && st < 128 + 65;
    int r = start ? cdn_event_session_start(&ev, &err)
                  : cdn_event_session_end(&ev, sig ? -1 : st, sig ? st - 128 : 0,
                                          res ? res->duration_ns : 0, &err);
    if (r == 0)
        cdn_audit_emit(a, ev);
}

int cdn_cmd_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        CDN_COMMON_LONGOPTS,
        {"no-pty", no_argument, NULL, OPT_NO_PTY},
        {"without-landlock", no_argument, NULL, OPT_WITHOUT_LANDLOCK},
        {"audit-log", required_argument, NULL, OPT_AUDIT_LOG},
        {"agent-id", required_argument, NULL, OPT_AGENT_ID},
        {"dns-upstream", required_argument, NULL, OPT_DNS_UPSTREAM},
        {"publish", required_argument, NULL, OPT_PUBLISH},
        {NULL, 0, NULL, 0},
    };
    cdn_cli_common_t c = {0};
    cdn_error_t err;
    cdn_error_clear(&err);
    cdn_run_opts_t ro = {0};
    const char *audit_log = NULL, *agent_id = NULL, *dns_upstream = NULL;
    cdn_audit_t *audit = NULL;
    cdn_publish_t publish[CDN_NET_MAX_FORWARDS];
    size_t n_publish = 0;
    char *pj = NULL;
    int opt, rc;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "+c:h", longopts, NULL)) != -1) {
        if (opt == OPT_HELP || opt == 'h') {
            fputs(run_usage, stdout);
            cdn_cli_common_free(&c);
            return 0;
        }
        if (opt == 'c') {
            c.shell_cmd = optarg;
            continue;
        }
        if (opt == OPT_NO_PTY) {
            ro.force_no_pty = true;
            continue;
        }
        if (opt == OPT_WITHOUT_LANDLOCK) {
            ro.without_landlock = true;
            continue;
        }
        if (opt == OPT_AUDIT_LOG) {
            audit_log = optarg;
            continue;
        }
        if (opt == OPT_AGENT_ID) {
            agent_id = optarg;
            continue;
        }
        if (opt == OPT_DNS_UPSTREAM) {
            dns_upstream = optarg;
            continue;
        }
        if (opt == OPT_PUBLISH) {
            if (n_publish == CDN_NET_MAX_FORWARDS) {
                cdn_error_usage(&err, "--publish: at most %d ports", CDN_NET_MAX_FORWARDS);
                rc = cdn_cli_fail(&err);
                goto out;
            }
            if (parse_publish(optarg, &publish[n_publish], &err) < 0) {
                rc = cdn_cli_fail(&err);
                goto out;
            }
            for (size_t i = 0; i < n_publish; i++)
                if (publish[i].host_port == publish[n_publish].host_port) {
                    cdn_error_usage(&err, "--publish: host port %u given twice",
                                    publish[i].host_port);
                    rc = cdn_cli_fail(&err);
                    goto out;
                }
            n_publish++;
            continue;
        }
        int r = cdn_cli_common_opt(&c, opt, optarg, &err);
        if (r < 0) {
            rc = cdn_cli_fail(&err);
            goto out;
        }
        if (r == 0) {
            fputs(run_usage, stderr);
            rc = CDN_EXIT_USAGE;
            goto out;
        }
    }
    if (!c.shell_cmd && optind >= argc) {
        fprintf(stderr, "cordon run: no command given\n\n%s", run_usage);
        rc = CDN_EXIT_USAGE;
        goto out;
    }
    if (c.shell_cmd && optind < argc) {
        fprintf(stderr, "cordon run: -c takes the whole command as one string\n");
        rc = CDN_EXIT_USAGE;
        goto out;
    }
    if (cdn_cli_build_plan(&c, argv + optind, &err) < 0) {
        rc = cdn_cli_fail(&err);
        goto out;
    }
    if (c.policy->not_enforced.n) {
        fprintf(stderr, "cordon: %s: read but not enforced yet:", c.policy->source);
        for (size_t i = 0; i < c.policy->not_enforced.n; i++)
            fprintf(stderr, " %s", c.policy->not_enforced.v[i]);
        fprintf(stderr, "\n");
    }
    if (c.settings->enable_weaker_nested_sandbox)
        fprintf(stderr, "cordon: %s: enableWeakerNestedSandbox is ignored: cordon has no weaker "
                        "sandbox; it runs with every layer or not at all\n",
                c.policy->source);
    if (c.plan->landlock.abi <= 0) {
        if (!ro.without_landlock) {
            cdn_error(&err, EOPNOTSUPP, "this kernel has no Landlock: one of the sandbox's layers "
                                        "is missing, so nothing was run");
            cdn_error_hint(&err, "enable it (CONFIG_SECURITY_LANDLOCK and \"landlock\" in the "
                                 "lsm= boot parameter), or accept a weaker sandbox with "
                                 "--without-landlock");
            rc = cdn_cli_fail(&err);
            goto out;
        }
        fprintf(stderr, "cordon: WEAKER SANDBOX: running without Landlock (--without-landlock); "
                        "the mount layer alone keeps the filesystem policy\n");
    }
    ro.quiet = c.quiet;
    c.plan->dns_upstream = dns_upstream;
    c.plan->publish = publish;
    c.plan->n_publish = n_publish;

    redact_removed_env(c.policy);
    bool exporting = audit_log || getenv("OTEL_EXPORTER_OTLP_ENDPOINT") ||
                     getenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT") ||
                     getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    /* The policy digest costs a JSON rendering and libcrypto: only when some
     * sink will carry it. */
    pj = exporting ? plan_json(c.plan) : NULL;
    cdn_audit_config_t acfg = {
        .jsonl_path = audit_log,
        .otlp_from_env = true,
        .quiet = c.quiet,
        .agent_id = agent_id,
        .workspace = c.policy->workspace,
        .policy_json = pj,
        .ignore = c.policy->ignore_violations,
        .n_ignore = c.policy->n_ignore_violations,
    };
    if (cdn_audit_open(&acfg, &audit, &err) < 0) {
        /* An audit trail that was asked for and cannot be written: run
         * nothing rather than run unobserved. */
        rc = cdn_cli_fail(&err);
        goto out;
    }
    ro.audit = audit;
    emit_session(audit, true, NULL);
    cdn_run_result_t res;
    if (cdn_sandbox_run(c.plan, &ro, &res, &err) < 0) {
        cdn_event_t *ev = NULL;
        cdn_error_t e2;
        if (cdn_event_error(&ev, err.errnum, err.msg, &e2) == 0)
            cdn_audit_emit(audit, ev);
        emit_session(audit, false, &res);
        cdn_audit_close(audit, stderr);
        audit = NULL;
        rc = cdn_cli_fail(&err);
        cdn_run_result_free(&res);
        goto out;
    }
    emit_session(audit, false, &res);
    cdn_audit_close(audit, stderr);
    audit = NULL;
    rc = res.exit_status;
    cdn_run_result_free(&res);
out:
    free(pj);
    cdn_cli_common_free(&c);
    return rc;
}
