/* The CLI is thin: it parses options, builds settings -> policy -> plan
 * through the library, and prints.  One file per command. */
#pragma once

#include <stdbool.h>

#include "plan/plan.h"
#include "policy/policy.h"
#include "settings/settings.h"
#include "util/error.h"
#include "util/strv.h"

typedef struct cdn_cli_common {
    const char *settings_path;
    const char *workspace;
    bool ws_mode_set;
    cdn_ws_mode_t ws_mode;
    cdn_strv_t env_pass;
    cdn_strv_t env_set;
    bool allow_nested_userns;
    bool quiet;
    const char *shell_cmd; /* -c */
    /* results */
    cdn_settings_t *settings;
    cdn_policy_t *policy;
    cdn_plan_t *plan;
} cdn_cli_common_t;

/* Handle an option shared by run and plan; returns 1 if consumed, 0 if not
 * a common option, -1 on error. */
int cdn_cli_common_opt(cdn_cli_common_t *c, int opt, const char *arg, cdn_error_t *err);
/* Settings -> policy -> plan for `argv` (may be empty). */
int cdn_cli_build_plan(cdn_cli_common_t *c, char **argv, cdn_error_t *err);
void cdn_cli_common_free(cdn_cli_common_t *c);
int cdn_cli_fail(const cdn_error_t *err);

int cdn_cmd_run(int argc, char **argv);
int cdn_cmd_plan(int argc, char **argv);
int cdn_cmd_radius(int argc, char **argv);
void cdn_cli_usage(FILE *out);

/* getopt_long values of the common options */
enum {
    OPT_SETTINGS = 1000,
    OPT_WORKSPACE,
    OPT_WORKSPACE_MODE,
    OPT_ENV_PASS,
    OPT_SETENV,
    OPT_ALLOW_NESTED_USERNS,
    OPT_QUIET,
    OPT_JSON,
    OPT_NO_PTY,
    OPT_WITHOUT_LANDLOCK,
    OPT_AUDIT_LOG,
    OPT_AGENT_ID,
    OPT_DNS_UPSTREAM,
    OPT_HELP,
};

#define CDN_COMMON_LONGOPTS                                                                   \
    {"settings", required_argument, NULL, OPT_SETTINGS},                                      \
        {"workspace", required_argument, NULL, OPT_WORKSPACE},                                \
        {"workspace-mode", required_argument, NULL, OPT_WORKSPACE_MODE},                      \
        {"env-pass", required_argument, NULL, OPT_ENV_PASS},                                  \
        {"setenv", required_argument, NULL, OPT_SETENV},                                      \
        {"allow-nested-userns", no_argument, NULL, OPT_ALLOW_NESTED_USERNS},                  \
        {"quiet", no_argument, NULL, OPT_QUIET}, {"help", no_argument, NULL, OPT_HELP}
