/* The battery table and the pieces of radius that need no sandbox:
 * template expansion, JSON round trip, counting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "radius/radius.h"

static const cdn_rad_var_t all_vars[] = {
    {"L", "/lab", NULL},
    {"H", "/lab/home", NULL},
    {"W", "/ws", NULL},
    {"A", "/ws/area", NULL},
    {"U", "u1", NULL},
    {"RT", "tr", NULL},
    {"PID", "42", NULL},
    {"SHM", "s", NULL},
    {"TCP", "1", NULL},
    {"ABS", "a", NULL},
    {"HOSTIP", "192.0.2.2", NULL},
    {"HOSTTCP", "2", NULL},
    {"NS", "10.0.0.53", NULL},
    {"NSLO", "127.0.0.53", NULL},
    {"PATHDIR", "/bin", NULL},
    {"BLK", "/dev/vda", NULL},
    {"SSHSOCK", "/s", NULL}, {"GPGSOCK", "/g", NULL},
    {"BUS", "/b", NULL},
};

static void test_table_is_well_formed(void **state)
{
    (void)state;
    assert_true(cdn_rad_battery_len > 60);
    for (size_t i = 0; i < cdn_rad_battery_len; i++) {
        const cdn_rad_probe_t *p = &cdn_rad_battery[i];
        bool known = false;
        for (size_t k = 0; cdn_rad_categories[k]; k++)
            known |= !strcmp(p->category, cdn_rad_categories[k]);
        assert_true(known);
        /* ids are "<category>.<name>", unique */
        assert_int_equal(strncmp(p->id, p->category, strlen(p->category)), 0);
        assert_int_equal(p->id[strlen(p->category)], '.');
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(p->id, cdn_rad_battery[j].id);
        assert_non_null(p->description);
        assert_non_null(p->op);
        /* every template variable is one the lab defines */
        cdn_error_t err;
        for (size_t a = 0; a < 4 && p->args[a]; a++) {
            char *out = NULL;
            const cdn_rad_var_t *missing = NULL;
            assert_int_equal(cdn_rad_expand(p->args[a], all_vars,
                                            sizeof all_vars / sizeof all_vars[0], &out, &missing,
                                            &err),
                             0);
            assert_null(strchr(out, '{'));
            assert_null(strchr(out, '\t')); /* the batch file is tab-separated */
            free(out);
        }
        /* host judges need a path to look at */
        if (p->judge == CDN_RJ_CREATED || p->judge == CDN_RJ_CHANGED || p->judge == CDN_RJ_GONE)
            assert_true(p->host || p->args[0]);
    }
    /* every category has probes, and the default required ones exist */
    for (size_t k = 0; cdn_rad_categories[k]; k++) {
        size_t n = 0;
        for (size_t i = 0; i < cdn_rad_battery_len; i++)
            n += !strcmp(cdn_rad_battery[i].category, cdn_rad_categories[k]);
        assert_true(n > 0);
    }
}

static void test_expand(void **state)
{
    (void)state;
    cdn_error_t err;
    cdn_rad_var_t vars[] = {{"H", "/h", NULL}, {"X", NULL, "no X here"}};
    char *out = NULL;
    const cdn_rad_var_t *missing = NULL;
    assert_int_equal(cdn_rad_expand("{H}/a/{H}", vars, 2, &out, &missing, &err), 0);
    assert_string_equal(out, "/h/a//h");
    free(out);
    assert_int_equal(cdn_rad_expand("{X}/a", vars, 2, &out, &missing, &err), 1);
    assert_null(out);
    assert_string_equal(missing->why, "no X here");
    assert_int_equal(cdn_rad_expand("{NOPE}", vars, 2, &out, &missing, &err), -1);
    assert_int_equal(cdn_rad_expand("plain", vars, 2, &out, &missing, &err), 0);
    assert_string_equal(out, "plain");
    free(out);
}

static cdn_radius_t *sample(void)
{
    cdn_radius_t *r = calloc(1, sizeof *r);
    r->label = strdup("t");
    r->mode = strdup("cordon");
    r->settings = strdup("built-in default");
    r->workspace = strdup("/w");
    r->kernel = strdup("6");
    r->date = strdup("d");
    r->v = calloc(3, sizeof *r->v);
    const char *ids[] = {"secrets.a", "network.b", "kernel.c"};
    const char *cats[] = {"secrets", "network", "kernel"};
    cdn_rad_verdict_t vs[] = {CDN_RAD_REACHED, CDN_RAD_CONTAINED, CDN_RAD_NA};
    for (size_t i = 0; i < 3; i++) {
        r->v[i].id = strdup(ids[i]);
        r->v[i].category = strdup(cats[i]);
        r->v[i].description = strdup("d \"quoted\" <b>");
        r->v[i].evidence = strdup("e");
        r->v[i].verdict = vs[i];
        r->n++;
    }
    return r;
}

static void test_json_round_trip_and_counts(void **state)
{
    (void)state;
    cdn_error_t err;
    cdn_radius_t *r = sample();
    cdn_strv_t req = {0};
    assert_int_equal(cdn_strv_add(&req, "secrets", &err), 0);
    assert_int_equal(cdn_radius_reached_in(r, &req), 1);
    cdn_rad_count_t c = cdn_radius_count(r, NULL);
    assert_int_equal(c.reached, 1);
    assert_int_equal(c.contained, 1);
    assert_int_equal(c.na, 1);
    char path[] = "/tmp/radius-json-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_int_equal(cdn_radius_write_json(r, &req, f, &err), 0);
    fclose(f);
    cdn_radius_t *back = NULL;
    assert_int_equal(cdn_radius_load_json(path, &back, &err), 0);
    assert_int_equal(back->n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(back->v[i].id, r->v[i].id);
        assert_int_equal(back->v[i].verdict, r->v[i].verdict);
        assert_string_equal(back->v[i].description, r->v[i].description);
    }
    /* a report with an unknown verdict is refused */
    f = fopen(path, "w");
    fputs("{\"cordon_radius\":1,\"probes\":[{\"id\":\"x\",\"category\":\"ipc\",\"verdict\":"
          "\"maybe\"}]}",
          f);
    fclose(f);
    cdn_radius_t *bad = NULL;
    assert_int_equal(cdn_radius_load_json(path, &bad, &err), -1);
    assert_int_equal(err.status, CDN_EXIT_USAGE);
    unlink(path);
    cdn_radius_free(back);
    cdn_radius_free(r);
    cdn_strv_free(&req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_is_well_formed),
        cmocka_unit_test(test_expand),
        cmocka_unit_test(test_json_round_trip_and_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
