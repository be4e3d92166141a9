#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"

static const char plan_usage[] =
    "usage: cordon plan [OPTIONS] [--json] [-- COMMAND [ARGS...]]\n"
    "\n"
    "Print what `cordon run` would do with these options -- mounts, hidden and\n"
    "protected paths, Landlock rules, seccomp rules, environment, network, and\n"
    "which layers this kernel supports -- without running anything.\n"
    "Takes the same options as `cordon run`, plus:\n"
    "  --json   machine-readable output\n";

int cdn_cmd_plan(int argc, char **argv)
{
    static const struct option longopts[] = {
        CDN_COMMON_LONGOPTS,
        {"json", no_argument, NULL, OPT_JSON},
        {"no-pty", no_argument, NULL, OPT_NO_PTY},
        {NULL, 0, NULL, 0},
    };
    cdn_cli_common_t c = {0};
    cdn_error_t err;
    cdn_error_clear(&err);
    bool json = false;
    int opt, rc = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "+c:h", longopts, NULL)) != -1) {
        if (opt == OPT_HELP || opt == 'h') {
            fputs(plan_usage, stdout);
            goto out;
        }
        if (opt == OPT_JSON) {
            json = true;
            continue;
        }
        if (opt == OPT_NO_PTY)
            continue;
        if (opt == 'c') {
            c.shell_cmd = optarg;
            continue;
        }
        int r = cdn_cli_common_opt(&c, opt, optarg, &err);
        if (r < 0) {
            rc = cdn_cli_fail(&err);
            goto out;
        }
        if (r == 0) {
            fputs(plan_usage, stderr);
            rc = CDN_EXIT_USAGE;
            goto out;
        }
    }
    if (cdn_cli_build_plan(&c, argv + optind, &err) < 0) {
        rc = cdn_cli_fail(&err);
        goto out;
    }
    if (json) {
        if (cdn_plan_print_json(c.plan, stdout, &err) < 0)
            rc = cdn_cli_fail(&err);
    } else {
        cdn_plan_print_text(c.plan, stdout);
    }
out:
    cdn_cli_common_free(&c);
    return rc;
}
