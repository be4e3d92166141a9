/* Text and JSON forms of a radius result, and reading the JSON back for
 * --compare.  The JSON schema is documented in docs/radius.md. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "radius/radius.h"
#include "util/cleanup.h"

#define JSON_MAX_BYTES (4 << 20)
#define JSON_MAX_PROBES 10000

const char *cdn_rad_verdict_name(cdn_rad_verdict_t v)
{
    switch (v) {
    case CDN_RAD_REACHED:
        return "reached";
    case CDN_RAD_CONTAINED:
        return "contained";
    case CDN_RAD_NA:
        break;
    }
    return "not applicable";
}

int cdn_rad_verdict_parse(const char *s, cdn_rad_verdict_t *v)
{
    if (!strcmp(s, "reached"))
        *v = CDN_RAD_REACHED;
    else if (!strcmp(s, "contained"))
        *v = CDN_RAD_CONTAINED;
    else if (!strcmp(s, "not applicable"))
        *v = CDN_RAD_NA;
    else
        return -1;
    return 0;
}

cdn_rad_count_t cdn_radius_count(const cdn_radius_t *r, const char *category)
{
    cdn_rad_count_t c = {0, 0, 0};
    for (size_t i = 0; i < r->n; i++) {
        if (category && strcmp(r->v[i].category, category))
            continue;
        if (r->v[i].verdict == CDN_RAD_REACHED)
            c.reached++;
        else if (r->v[i].verdict == CDN_RAD_CONTAINED)
            c.contained++;
        else
            c.na++;
    }
    return c;
}

size_t cdn_radius_reached_in(const cdn_radius_t *r, const cdn_strv_t *cats)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].verdict == CDN_RAD_REACHED && cdn_strv_contains(cats, r->v[i].category))
            n++;
    return n;
}

void cdn_radius_free(cdn_radius_t *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].id);
        free(r->v[i].category);
        free(r->v[i].description);
        free(r->v[i].evidence);
    }
    free(r->v);
    free(r->label);
    free(r->mode);
    free(r->settings);
    free(r->workspace);
    free(r->kernel);
    free(r->date);
    free(r);
}

/* Categories of a result in display order: the known ones first, then any
 * other a loaded file brings. */
static size_t categories(const cdn_radius_t *r, const char **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; cdn_rad_categories[i] && n < max; i++)
        if (cdn_radius_count(r, cdn_rad_categories[i]).reached +
                cdn_radius_count(r, cdn_rad_categories[i]).contained +
                cdn_radius_count(r, cdn_rad_categories[i]).na >
            0)
            out[n++] = cdn_rad_categories[i];
    for (size_t i = 0; i < r->n && n < max; i++) {
        bool seen = false;
        for (size_t k = 0; k < n; k++)
            seen |= !strcmp(out[k], r->v[i].category);
        if (!seen)
            out[n++] = r->v[i].category;
    }
    return n;
}

static void print_summary(const cdn_radius_t *r, const cdn_strv_t *required, FILE *f)
{
    cdn_rad_count_t c = cdn_radius_count(r, NULL);
    fprintf(f, "reached %zu of %zu", c.reached, c.reached + c.contained);
    if (c.na)
        fprintf(f, " (%zu not applicable)", c.na);
    if (required && required->n) {
        fprintf(f, "; in required categories (");
        for (size_t i = 0; i < required->n; i++)
            fprintf(f, "%s%s", i ? ", " : "", required->v[i]);
        fprintf(f, "): %zu", cdn_radius_reached_in(r, required));
    }
    fputc('\n', f);
}

void cdn_radius_print(const cdn_radius_t *r, const cdn_strv_t *required, FILE *f)
{
    fprintf(f, "cordon radius: %s\n", r->label);
    fprintf(f, "kernel %s, uid %u, %s\n", r->kernel, r->uid, r->date);
    const char *cats[64];
    size_t nc = categories(r, cats, 64);
    for (size_t k = 0; k < nc; k++) {
        cdn_rad_count_t c = cdn_radius_count(r, cats[k]);
        fprintf(f, "\n%-12s reached %zu of %zu", cats[k], c.reached, c.reached + c.contained);
        if (c.na)
            fprintf(f, ", %zu not applicable", c.na);
        if (required && cdn_strv_contains(required, cats[k]))
            fprintf(f, "  [required]");
        fputc('\n', f);
        for (size_t i = 0; i < r->n; i++) {
            const cdn_rad_result_t *x = &r->v[i];
            if (strcmp(x->category, cats[k]))
                continue;
            fprintf(f, "  %-9s %-36s %s\n",
                    x->verdict == CDN_RAD_REACHED     ? "REACHED"
                    : x->verdict == CDN_RAD_CONTAINED ? "contained"
                                                      : "n/a",
                    x->id, x->description);
            fprintf(f, "  %-9s %-36s   %s\n", "", "", x->evidence);
        }
    }
    fputc('\n', f);
    print_summary(r, required, f);
}

static const cdn_rad_result_t *find(const cdn_radius_t *r, const char *id)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->v[i].id, id))
            return &r->v[i];
    return NULL;
}

static const char *short_verdict(const cdn_rad_result_t *x)
{
    if (!x)
        return "-";
    return x->verdict == CDN_RAD_REACHED     ? "REACHED"
           : x->verdict == CDN_RAD_CONTAINED ? "contained"
                                             : "n/a";
}

void cdn_radius_print_compare(const cdn_radius_t *a, const cdn_radius_t *b, FILE *f)
{
    fprintf(f, "A: %s\nB: %s\n", a->label, b->label);
    const char *cats[64];
    size_t nc = categories(a, cats, 64);
    for (size_t i = 0; i < b->n && nc < 64; i++) {
        bool seen = false;
        for (size_t k = 0; k < nc; k++)
            seen |= !strcmp(cats[k], b->v[i].category);
        if (!seen)
            cats[nc++] = b->v[i].category;
    }
    size_t differ = 0;
    for (size_t k = 0; k < nc; k++) {
        cdn_rad_count_t ca = cdn_radius_count(a, cats[k]), cb = cdn_radius_count(b, cats[k]);
        fprintf(f, "\n%-12s A reached %zu of %zu   B reached %zu of %zu\n", cats[k], ca.reached,
                ca.reached + ca.contained, cb.reached, cb.reached + cb.contained);
        const cdn_radius_t *both[2] = {a, b};
        for (int s = 0; s < 2; s++)
            for (size_t i = 0; i < both[s]->n; i++) {
                const cdn_rad_result_t *x = &both[s]->v[i];
                if (strcmp(x->category, cats[k]) || (s == 1 && find(a, x->id)))
                    continue;
                const cdn_rad_result_t *xa = find(a, x->id), *xb = find(b, x->id);
                bool diff = !xa || !xb || xa->verdict != xb->verdict;
                differ += diff;
                fprintf(f, "  %s %-36s %-10s %-10s\n", diff ? "*" : " ", x->id, short_verdict(xa),
                        short_verdict(xb));
            }
    }
    cdn_rad_count_t ca = cdn_radius_count(a, NULL), cb = cdn_radius_count(b, NULL);
    fprintf(f, "\nA: reached %zu of %zu (%zu not applicable)\n", ca.reached,
            ca.reached + ca.contained, ca.na);
    fprintf(f, "B: reached %zu of %zu (%zu not applicable)\n", cb.reached,
            cb.reached + cb.contained, cb.na);
    fprintf(f, "%zu probes differ (*)\n", differ);
}

int cdn_radius_write_json(const cdn_radius_t *r, const cdn_strv_t *required, FILE *f,
                          cdn_error_t *err)
{
    json_t *root = json_object(), *cats = json_array(), *probes = json_array(), *req = json_array();
    if (!root || !cats || !probes || !req)
        goto oom;
    cdn_rad_count_t c = cdn_radius_count(r, NULL);
    const char *names[64];
    size_t nc = categories(r, names, 64);
    for (size_t k = 0; k < nc; k++) {
        cdn_rad_count_t cc = cdn_radius_count(r, names[k]);
        if (json_array_append_new(
                cats, json_pack("{s:s,s:I,s:I,s:I,s:b}", "name", names[k], "reached",
                                (json_int_t)cc.reached, "contained", (json_int_t)cc.contained,
                                "not_applicable", (json_int_t)cc.na, "required",
                                required && cdn_strv_contains(required, names[k]))) < 0)
            goto oom;
    }
    for (size_t i = 0; i < r->n; i++) {
        const cdn_rad_result_t *x = &r->v[i];
        if (json_array_append_new(
                probes, json_pack("{s:s,s:s,s:s,s:s,s:s}", "id", x->id, "category", x->category,
                                  "description", x->description, "verdict",
                                  cdn_rad_verdict_name(x->verdict), "evidence", x->evidence)) < 0)
            goto oom;
    }
    for (size_t i = 0; required && i < required->n; i++)
        if (json_array_append_new(req, json_string(required->v[i])) < 0)
            goto oom;
    size_t rr = required ? cdn_radius_reached_in(r, required) : 0;
    if (json_object_set_new(root, "cordon_radius", json_integer(1)) < 0 ||
        json_object_set_new(root, "label", json_string(r->label)) < 0 ||
        json_object_set_new(root, "mode", json_string(r->mode)) < 0 ||
        json_object_set_new(root, "settings", json_string(r->settings)) < 0 ||
        json_object_set_new(root, "workspace", json_string(r->workspace)) < 0 ||
        json_object_set_new(root, "kernel", json_string(r->kernel)) < 0 ||
        json_object_set_new(root, "uid", json_integer(r->uid)) < 0 ||
        json_object_set_new(root, "date", json_string(r->date)) < 0 ||
        json_object_set_new(
            root, "summary",
            json_pack("{s:I,s:I,s:I,s:I,s:I}", "reached", (json_int_t)c.reached, "contained",
                      (json_int_t)c.contained, "not_applicable", (json_int_t)c.na, "applicable",
                      (json_int_t)(c.reached + c.contained), "required_reached", (json_int_t)rr)) <
            0 ||
        json_object_set_new(root, "required", req) < 0 ||
        json_object_set_new(root, "categories", cats) < 0 ||
        json_object_set_new(root, "probes", probes) < 0) {
        req = cats = probes = NULL;
        goto oom;
    }
    int rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', f);
    json_decref(root);
    if (rc < 0 || fflush(f) != 0)
        return cdn_error(err, errno, "writing the JSON report");
    return 0;
oom:
    json_decref(root);
    json_decref(cats);
    json_decref(probes);
    json_decref(req);
    return cdn_error(err, ENOMEM, "out of memory");
}

/* Text from a file of unknown origin goes to a terminal: control bytes
 * become '?', so no escape sequence gets through. */
static char *dup_member(json_t *o, const char *key, const char *def)
{
    const char *s = json_string_value(json_object_get(o, key));
    char *d = strdup(s ? s : def);
    for (char *p = d; p && *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    return d;
}

int cdn_radius_load_json(const char *path, cdn_radius_t **out, cdn_error_t *err)
{
    /* Read at most the limit plus one byte ourselves: a FIFO or a device
     * has no meaningful size to check first. */
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    if (!f)
        return cdn_error(err, errno, "%s", path);
    _cleanup_free_ char *buf = malloc(JSON_MAX_BYTES + 1);
    if (!buf)
        return cdn_error(err, ENOMEM, "out of memory");
    size_t len = fread(buf, 1, JSON_MAX_BYTES + 1, f);
    if (ferror(f))
        return cdn_error(err, errno, "reading %s", path);
    if (len > JSON_MAX_BYTES)
        return cdn_error_usage(err, "%s: larger than %d bytes", path, JSON_MAX_BYTES);
    return cdn_radius_load_buffer(path, buf, len, out, err);
}

int cdn_radius_load_buffer(const char *name, const char *buf, size_t len, cdn_radius_t **out,
                           cdn_error_t *err)
{
    const char *path = name;
    if (len > JSON_MAX_BYTES)
        return cdn_error_usage(err, "%s: larger than %d bytes", path, JSON_MAX_BYTES);
    json_error_t je;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return cdn_error_usage(err, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    json_t *probes = json_object_get(root, "probes");
    if (!json_is_integer(json_object_get(root, "cordon_radius")) || !json_is_array(probes) ||
        json_array_size(probes) > JSON_MAX_PROBES) {
        json_decref(root);
        return cdn_error_usage(err, "%s: not a `cordon radius --json` report", path);
    }
    cdn_radius_t *r = calloc(1, sizeof *r);
    if (!r) {
        json_decref(root);
        return cdn_error(err, ENOMEM, "out of memory");
    }
    r->v = calloc(json_array_size(probes) + 1, sizeof *r->v);
    r->label = dup_member(root, "label", path);
    r->mode = dup_member(root, "mode", "?");
    r->settings = dup_member(root, "settings", "?");
    r->workspace = dup_member(root, "workspace", "?");
    r->kernel = dup_member(root, "kernel", "?");
    r->date = dup_member(root, "date", "?");
    json_t *uid = json_object_get(root, "uid");
    r->uid = json_is_integer(uid) ? (unsigned)json_integer_value(uid) : 0;
    int rc = 0;
    if (!r->v || !r->label || !r->mode || !r->settings || !r->workspace || !r->kernel || !r->date)
        rc = cdn_error(err, ENOMEM, "out of memory");
    size_t i;
    json_t *p;
    json_array_foreach(probes, i, p)
    {
        if (rc < 0)
            break;
        const char *id = json_string_value(json_object_get(p, "id"));
        const char *cat = json_string_value(json_object_get(p, "category"));
        const char *verdict = json_string_value(json_object_get(p, "verdict"));
        cdn_rad_result_t *x = &r->v[r->n];
        if (!id || !cat || !verdict || cdn_rad_verdict_parse(verdict, &x->verdict) < 0) {
            rc = cdn_error_usage(err,
                                 "%s: probe %zu: needs id, category and a verdict of "
                                 "\"reached\", \"contained\" or \"not applicable\"",
                                 path, i);
            break;
        }
        x->id = dup_member(p, "id", "");
        x->category = dup_member(p, "category", "");
        x->description = dup_member(p, "description", "");
        x->evidence = dup_member(p, "evidence", "");
        r->n++;
        if (!x->id || !x->category || !x->description || !x->evidence)
            rc = cdn_error(err, ENOMEM, "out of memory");
    }
    json_decref(root);
    if (rc < 0) {
        cdn_radius_free(r);
        return -1;
    }
    *out = r;
    return 0;
}
