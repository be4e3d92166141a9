#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
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
    "  -c STRING              run STRING with /bin/sh -c\n"
    "\n"
    "Exit status: the command's (128+N if signal N killed it); 125 if cordon\n"
    "failed before running anything; 2 for bad usage or settings.\n";

static const char *klass_name(int k)
{
    switch (k) {
    case -1:
        return "read-only place";
    case 1:
        return "protected file";
    case 2:
        return "git config with keys that run programs";
    case 3:
        return "protected folder";
    }
    return "denied";
}

static const char *klass_fix(int k)
{
    switch (k) {
    case -1:
        return "run in a workspace that contains it, or add it to filesystem.allowWrite";
    case 2:
        return "set filesystem.allowGitConfig to true";
    default:
        return "persistence files are always protected; edit them outside the sandbox";
    }
}

static void print_violations(const cdn_run_result_t *res)
{
    if (!res->n_violations)
        return;
    fprintf(stderr, "<sandbox_violations>\n");
    for (size_t i = 0; i < res->n_violations; i++) {
        const cdn_violation_rec_t *v = &res->violations[i];
        fprintf(stderr, "%s[%d] %s %s%s%s: %s (%s). To allow: %s.\n", v->comm, v->pid, v->op,
                v->path, v->path2[0] ? " <-> " : "", v->path2, strerror(v->err),
                klass_name(v->klass), klass_fix(v->klass));
    }
    if (res->n_violations_dropped)
        fprintf(stderr, "... and %zu more\n", res->n_violations_dropped);
    fprintf(stderr, "</sandbox_violations>\n");
}

int cdn_cmd_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        CDN_COMMON_LONGOPTS,
        {"no-pty", no_argument, NULL, OPT_NO_PTY},
        {"without-landlock", no_argument, NULL, OPT_WITHOUT_LANDLOCK},
        {NULL, 0, NULL, 0},
    };
    cdn_cli_common_t c = {0};
    cdn_error_t err;
    cdn_error_clear(&err);
    cdn_run_opts_t ro = {0};
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
        fprintf(stderr, " (the sandbox has no network at all)\n");
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
    cdn_run_result_t res;
    if (cdn_sandbox_run(c.plan, &ro, &res, &err) < 0) {
        rc = cdn_cli_fail(&err);
        cdn_run_result_free(&res);
        goto out;
    }
    if (!c.quiet)
        print_violations(&res);
    rc = res.exit_status;
    cdn_run_result_free(&res);
out:
    cdn_cli_common_free(&c);
    return rc;
}
