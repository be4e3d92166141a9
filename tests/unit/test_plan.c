/* The planner: mount order, masks for what exists, layers, JSON output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plan/plan.h"
#include "policy/policy.h"
#include "settings/settings.h"

static char tmp[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmp, sizeof tmp, "/tmp/cdn-plan-XXXXXX");
    assert_non_null(mkdtemp(tmp));
    char p[768];
    snprintf(p, sizeof p,
             "mkdir -p %s/home/.ssh %s/home/.config/gh %s/ws/secret %s/ws/out && "
             "touch %s/home/.netrc",
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

static cdn_plan_t *make(const char *json, cdn_policy_t **pol, cdn_settings_t **s)
{
    char home[300], ws[300];
    snprintf(home, sizeof home, "%s/home", tmp);
    snprintf(ws, sizeof ws, "%s/ws", tmp);
    cdn_error_t err;
    assert_int_equal(cdn_settings_load_buffer("t.json", json, strlen(json), s, &err), 0);
    char *env[] = {NULL};
    cdn_invocation_t inv = {.home = home, .uid = 1000, .gid = 1000, .workspace = ws, .cwd = ws,
                            .environ = env, .runtime_dir = "/run/user/1000"};
    assert_int_equal(cdn_policy_build(*s, &inv, pol, &err), 0);
    char a0[] = "/bin/true";
    char *argv[] = {a0, NULL};
    cdn_plan_t *plan = NULL;
    if (cdn_plan_build(*pol, argv, false, &plan, &err) < 0)
        fail_msg("plan: %s", err.msg);
    return plan;
}

static const cdn_mount_t *find(const cdn_plan_t *p, const char *suffix, size_t *idx)
{
    size_t l = strlen(suffix);
    for (size_t i = 0; i < p->n_mounts; i++) {
        size_t tl = strlen(p->mounts[i].target);
        if (tl >= l && strcmp(p->mounts[i].target + tl - l, suffix) == 0) {
            if (idx)
                *idx = i;
            return &p->mounts[i];
        }
    }
    return NULL;
}

static void test_default_mounts(void **state)
{
    (void)state;
    cdn_policy_t *pol;
    cdn_settings_t *s;
    cdn_plan_t *p = make("{}", &pol, &s);
    assert_int_equal(p->mounts[0].kind, CDN_MNT_ROOT_RO);
    assert_string_equal(p->mounts[0].target, "/");
    size_t i_ws, i_ssh;
    const cdn_mount_t *m = find(p, "/ws", &i_ws);
    assert_non_null(m);
    assert_int_equal(m->kind, CDN_MNT_BIND_RW);
    m = find(p, "/home/.ssh", &i_ssh);
    assert_non_null(m);
    assert_int_equal(m->kind, CDN_MNT_MASK_DIR);
    m = find(p, "/home/.netrc", NULL);
    assert_non_null(m);
    assert_int_equal(m->kind, CDN_MNT_MASK_FILE);
    /* secrets that do not exist get no mount */
    assert_null(find(p, "/home/.aws", NULL));
    assert_non_null(find(p, "/proc", NULL));
    assert_non_null(find(p, "/tmp", NULL));
    assert_int_equal(find(p, "/tmp", NULL)->kind, CDN_MNT_TMPFS);
    /* parents before children */
    for (size_t i = 1; i < p->n_mounts; i++) {
        size_t a = 0, b = 0;
        for (const char *c = p->mounts[i - 1].target; *c; c++)
            a += *c == '/';
        for (const char *c = p->mounts[i].target; *c; c++)
            b += *c == '/';
        if (strcmp(p->mounts[i - 1].target, "/") != 0)
            assert_true(a <= b);
    }
    assert_string_equal(p->argv.v[0], "/bin/true");
    assert_true(p->layers[CDN_LAYER_PIDNS].enabled);
    assert_true(p->layers[CDN_LAYER_NETNS].enabled);
    cdn_plan_free(p);
    cdn_policy_free(pol);
    cdn_settings_free(s);
}

static void test_settings_mounts(void **state)
{
    (void)state;
    cdn_policy_t *pol;
    cdn_settings_t *s;
    cdn_plan_t *p = make("{\"filesystem\": {\"denyRead\": [\"secret\"], \"denyWrite\": "
                         "[\"out\"]}, \"cordon\": {\"workspace\": {\"mode\": \"read-only\"}}}",
                         &pol, &s);
    size_t i_ws = 0, i_sec = 0;
    assert_int_equal(find(p, "/ws", &i_ws)->kind, CDN_MNT_BIND_RO);
    assert_int_equal(find(p, "/ws/secret", &i_sec)->kind, CDN_MNT_MASK_DIR);
    assert_true(i_ws < i_sec); /* the mask lands on top of the workspace */
    assert_int_equal(find(p, "/ws/out", NULL)->kind, CDN_MNT_BIND_RO);
    cdn_plan_free(p);
    cdn_policy_free(pol);
    cdn_settings_free(s);
}

static void test_json(void **state)
{
    (void)state;
    cdn_policy_t *pol;
    cdn_settings_t *s;
    cdn_plan_t *p = make("{}", &pol, &s);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cdn_error_t err;
    assert_int_equal(cdn_plan_print_json(p, f, &err), 0);
    fclose(f);
    json_error_t je;
    json_t *j = json_loads(buf, 0, &je);
    assert_non_null(j);
    assert_true(json_is_array(json_object_get(j, "mounts")));
    assert_true(json_array_size(json_object_get(j, "mounts")) == p->n_mounts);
    assert_true(json_is_array(json_object_get(j, "layers")));
    assert_true(json_array_size(json_object_get(j, "seccomp")) > 10);
    assert_string_equal(json_string_value(json_object_get(j, "network")), "none");
    json_decref(j);
    free(buf);
    cdn_plan_free(p);
    cdn_policy_free(pol);
    cdn_settings_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_mounts),
        cmocka_unit_test(test_settings_mounts),
        cmocka_unit_test(test_json),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
