/* Path resolution, secret environment names, and settings -> policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/policy.h"
#include "settings/settings.h"

static char tmp[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmp, sizeof tmp, "/tmp/cdn-policy-XXXXXX");
    assert_non_null(mkdtemp(tmp));
    char p[512];
    snprintf(p, sizeof p, "%s/home/.ssh", tmp);
    assert_int_equal(system(NULL) != 0, 1);
    snprintf(p, sizeof p, "mkdir -p %s/home/.ssh %s/ws/sub %s/real && ln -s %s/real %s/ws/link",
             tmp, tmp, tmp, tmp, tmp);
    assert_int_equal(system(p), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char p[512];
    snprintf(p, sizeof p, "rm -rf %s", tmp);
    return system(p);
}

static void resolve_ok(const char *in, const char *home, const char *base, const char *want)
{
    cdn_error_t err;
    char *out = NULL;
    assert_int_equal(cdn_path_resolve(in, home, base, &out, &err), 0);
    assert_string_equal(out, want);
    free(out);
}

static void test_path_resolve(void **state)
{
    (void)state;
    char home[300], ws[300], want[400];
    snprintf(home, sizeof home, "%s/home", tmp);
    snprintf(ws, sizeof ws, "%s/ws", tmp);

    snprintf(want, sizeof want, "%s/.ssh", home);
    resolve_ok("~/.ssh", home, ws, want);
    resolve_ok("~", home, ws, home);
    snprintf(want, sizeof want, "%s/sub", ws);
    resolve_ok("sub", home, ws, want);
    resolve_ok("./sub/", home, ws, want);
    resolve_ok("sub/../sub", home, ws, want);
    /* a symlink in the existing part is resolved before any check */
    snprintf(want, sizeof want, "%s/real/x/y", tmp);
    resolve_ok("link/x/y", home, ws, want);
    /* the missing tail is cleaned lexically */
    snprintf(want, sizeof want, "%s/nope", ws);
    resolve_ok("nope/a/..", home, ws, want);
    resolve_ok("/", home, ws, "/");
    resolve_ok("//etc///", home, ws, "/etc");

    cdn_error_t err;
    char *out = NULL;
    assert_int_equal(cdn_path_resolve("~bob/x", home, ws, &out, &err), -1);
    assert_non_null(strstr(err.msg, "~user"));
    assert_int_equal(cdn_path_resolve("", home, ws, &out, &err), -1);
}

static void test_env_names(void **state)
{
    (void)state;
    const char *secret[] = {"AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "GITHUB_TOKEN",
                            "ANTHROPIC_API_KEY", "MY_PASSWORD", "db_passwd", "SSH_AUTH_SOCK",
                            "GPG_AGENT_INFO", "NPM_TOKEN", "SOME_CREDENTIALS", "GH_TOKEN",
                            "DBUS_SESSION_BUS_ADDRESS", "OPENAI_API_KEY", NULL};
    const char *plain[] = {"PATH", "HOME", "LANG", "TERM", "USER", "SHELL", "EDITOR", "PWD",
                           "LC_ALL", "GHOSTTY", "AWSOME", NULL};
    for (size_t i = 0; secret[i]; i++)
        assert_true(cdn_env_name_is_secret(secret[i]));
    for (size_t i = 0; plain[i]; i++) {
        if (cdn_env_name_is_secret(plain[i]))
            fail_msg("%s wrongly taken for a secret", plain[i]);
    }
}

static cdn_policy_t *build(const char *json, char **env, const cdn_strv_t *pass, cdn_error_t *err)
{
    char home[300], ws[300];
    snprintf(home, sizeof home, "%s/home", tmp);
    snprintf(ws, sizeof ws, "%s/ws", tmp);
    cdn_settings_t *s = NULL;
    if (cdn_settings_load_buffer("t.json", json, strlen(json), &s, err) < 0)
        return NULL;
    cdn_invocation_t inv = {.home = home, .uid = 1000, .gid = 1000, .workspace = ws, .cwd = ws,
                            .environ = env, .runtime_dir = "/run/user/1000", .env_pass = pass};
    cdn_policy_t *p = NULL;
    int r = cdn_policy_build(s, &inv, &p, err);
    cdn_settings_free(s);
    return r < 0 ? NULL : p;
}

static bool has_path(const cdn_rule_paths_t *rp, const char *suffix)
{
    size_t l = strlen(suffix);
    for (size_t i = 0; i < rp->n; i++) {
        size_t pl = strlen(rp->v[i].path);
        if (pl >= l && strcmp(rp->v[i].path + pl - l, suffix) == 0)
            return true;
    }
    return false;
}

static void test_policy_default(void **state)
{
    (void)state;
    char e0[] = "PATH=/usr/bin", e1[] = "AWS_SECRET_ACCESS_KEY=s3cr3t", e2[] = "GITHUB_TOKEN=ghp_x",
         e3[] = "LANG=C", e4[] = "TMPDIR=/nonexistent";
    char *env[] = {e0, e1, e2, e3, e4, NULL};
    cdn_error_t err;
    cdn_policy_t *p = build("{}", env, NULL, &err);
    assert_non_null(p);
    assert_true(has_path(&p->hidden, "/home/.ssh"));
    assert_true(has_path(&p->hidden, "/home/.aws"));
    assert_true(has_path(&p->hidden, "/home/.config/gh"));
    assert_false(p->as_root);
    assert_true(cdn_strv_contains(&p->env, "PATH=/usr/bin"));
    assert_true(cdn_strv_contains(&p->env, "LANG=C"));
    assert_true(cdn_strv_contains(&p->env, "TMPDIR=/tmp"));
    assert_false(cdn_strv_contains(&p->env, "TMPDIR=/nonexistent"));
    for (size_t i = 0; i < p->env.n; i++)
        assert_null(strstr(p->env.v[i], "s3cr3t"));
    assert_true(cdn_strv_contains(&p->env_removed, "AWS_SECRET_ACCESS_KEY"));
    assert_true(cdn_strv_contains(&p->env_removed, "GITHUB_TOKEN"));
    assert_int_equal(p->ws_mode, CDN_WS_READ_WRITE);
    assert_true(has_path(&p->private_tmp, "/tmp"));
    assert_true(has_path(&p->socket_dirs, "/run"));
    cdn_policy_free(p);
}

static void test_policy_passthrough_and_set(void **state)
{
    (void)state;
    char e0[] = "GITHUB_TOKEN=ghp_x", e1[] = "FOO=1";
    char *env[] = {e0, e1, NULL};
    cdn_strv_t pass = {0};
    cdn_error_t err;
    assert_int_equal(cdn_strv_add(&pass, "GITHUB_TOKEN", &err), 0);
    cdn_policy_t *p = build("{\"cordon\": {\"env\": {\"set\": {\"FOO\": \"2\"}}}}", env, &pass,
                            &err);
    assert_non_null(p);
    assert_true(cdn_strv_contains(&p->env, "GITHUB_TOKEN=ghp_x"));
    assert_true(cdn_strv_contains(&p->env, "FOO=2"));
    assert_false(cdn_strv_contains(&p->env, "FOO=1"));
    cdn_policy_free(p);
    cdn_strv_free(&pass);
}

static void test_policy_settings_paths(void **state)
{
    (void)state;
    char *env[] = {NULL};
    cdn_error_t err;
    cdn_policy_t *p = build("{\"filesystem\": {\"denyRead\": [\"sub\"], \"allowWrite\": "
                            "[\"~/out\"], \"denyWrite\": [\"link\"], \"allowGitConfig\": true},"
                            " \"network\": {\"allowUnixSockets\": [\"/run/x.sock\"]}}",
                            env, NULL, &err);
    assert_non_null(p);
    assert_true(has_path(&p->hidden, "/ws/sub"));
    assert_true(has_path(&p->writable, "/home/out"));
    assert_true(has_path(&p->readonly, "/real")); /* the link was resolved */
    assert_true(has_path(&p->unix_allow, "/run/x.sock"));
    assert_true(p->allow_git_config);
    cdn_policy_free(p);
}

static void test_policy_workspace_hidden_refused(void **state)
{
    (void)state;
    char *env[] = {NULL};
    cdn_error_t err;
    cdn_policy_t *p = build("{\"filesystem\": {\"denyRead\": [\".\"]}}", env, NULL, &err);
    assert_null(p);
    assert_int_equal(err.status, CDN_EXIT_USAGE);
    assert_non_null(strstr(err.msg, "inside a hidden path"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_resolve),
        cmocka_unit_test(test_env_names),
        cmocka_unit_test(test_policy_default),
        cmocka_unit_test(test_policy_passthrough_and_set),
        cmocka_unit_test(test_policy_settings_paths),
        cmocka_unit_test(test_policy_workspace_hidden_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
