#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/cleanup.h"

extern char **environ;

int cdn_cli_common_opt(cdn_cli_common_t *c, int opt, const char *arg, cdn_error_t *err)
{
    switch (opt) {
    case OPT_SETTINGS:
        c->settings_path = arg;
        return 1;
    case OPT_WORKSPACE:
        c->workspace = arg;
        return 1;
    case OPT_WORKSPACE_MODE:
        c->ws_mode_set = true;
        if (strcmp(arg, "read-write") == 0)
            c->ws_mode = CDN_WS_READ_WRITE;
        else if (strcmp(arg, "read-only") == 0)
            c->ws_mode = CDN_WS_READ_ONLY;
        else if (strcmp(arg, "read-write-no-delete") == 0)
            c->ws_mode = CDN_WS_READ_WRITE_NO_DELETE;
        else
            return cdn_error_usage(err, "--workspace-mode %s: expected read-write, read-only "
                                        "or read-write-no-delete",
                                   arg);
        return 1;
    case OPT_ENV_PASS:
        return cdn_strv_add(&c->env_pass, arg, err) < 0 ? -1 : 1;
    case OPT_SETENV:
        if (!strchr(arg, '=') || arg[0] == '=')
            return cdn_error_usage(err, "--setenv %s: expected NAME=VALUE", arg);
        return cdn_strv_add(&c->env_set, arg, err) < 0 ? -1 : 1;
    case OPT_ALLOW_NESTED_USERNS:
        c->allow_nested_userns = true;
        return 1;
    case OPT_QUIET:
        c->quiet = true;
        return 1;
    }
    return 0;
}

static const char *invoking_home(void)
{
    const char *h = getenv("HOME");
    if (h && h[0] == '/')
        return h;
    struct passwd *pw = getpwuid(getuid());
    return pw && pw->pw_dir ? pw->pw_dir : "/";
}

int cdn_cli_build_plan(cdn_cli_common_t *c, char **argv, cdn_error_t *err)
{
    _cleanup_free_ char *path = NULL;
    _cleanup_free_ char *home = realpath(invoking_home(), NULL);
    if (!home)
        home = strdup(invoking_home());
    if (!home)
        return cdn_error(err, ENOMEM, "out of memory");
    if (cdn_settings_locate(c->settings_path, home, &path, err) < 0)
        return -1;
    if (path ? cdn_settings_load_file(path, &c->settings, err) < 0
             : cdn_settings_default(&c->settings, err) < 0)
        return -1;

    _cleanup_free_ char *cwd = getcwd(NULL, 0);
    if (!cwd)
        return cdn_error(err, errno, "reading the current directory");
    _cleanup_free_ char *ws = realpath(c->workspace ? c->workspace : cwd, NULL);
    if (!ws)
        return cdn_error_usage(err, "workspace %s: %s", c->workspace ? c->workspace : cwd,
                               strerror(errno));
    struct stat st;
    if (stat(ws, &st) < 0 || !S_ISDIR(st.st_mode))
        return cdn_error_usage(err, "workspace %s is not a directory", ws);
    _cleanup_free_ char *rcwd = realpath(cwd, NULL);
    char rt[64];
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (!xdg || xdg[0] != '/') {
        snprintf(rt, sizeof rt, "/run/user/%u", getuid());
        xdg = rt;
    }
    cdn_invocation_t inv = {
        .home = home,
        .uid = getuid(),
        .gid = getgid(),
        .workspace = ws,
        .cwd = rcwd ? rcwd : ws,
        .environ = environ,
        .runtime_dir = xdg,
        .env_pass = &c->env_pass,
        .env_set = &c->env_set,
        .ws_mode_set = c->ws_mode_set,
        .ws_mode = c->ws_mode,
        .allow_nested_userns = c->allow_nested_userns,
    };
    if (cdn_policy_build(c->settings, &inv, &c->policy, err) < 0)
        return -1;
    char *one[2] = {(char *)(uintptr_t)c->shell_cmd, NULL};
    return cdn_plan_build(c->policy, c->shell_cmd ? one : argv, c->shell_cmd != NULL, &c->plan,
                          err);
}

void cdn_cli_common_free(cdn_cli_common_t *c)
{
    cdn_plan_free(c->plan);
    cdn_policy_free(c->policy);
    cdn_settings_free(c->settings);
    cdn_strv_free(&c->env_pass);
    cdn_strv_free(&c->env_set);
}

int cdn_cli_fail(const cdn_error_t *err)
{
    cdn_error_print(err, stderr);
    return err->status ? err->status : CDN_EXIT_FAILURE;
}
