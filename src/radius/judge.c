/* Verdicts.  A probe is `reached` only on evidence: the canary seen, the
 * call accepted, or the file changed on the host (a write that landed in a
 * private copy is not an escape).  `not applicable` means the host offers
 * nothing to reach, or the user could not do it even without a sandbox, so
 * no sandbox can be credited for it. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "radius/judge.h"
#include "util/cleanup.h"

static const char *judged_path(const cdn_rad_probe_t *p, const cdn_rad_pstate_t *ps)
{
    (void)p;
    return ps->host ? ps->host : ps->args[0];
}

static bool judges_host(cdn_rad_judge_t j)
{
    return j == CDN_RJ_CREATED || j == CDN_RJ_CHANGED || j == CDN_RJ_GONE;
}

static int set_na(cdn_rad_pstate_t *ps, const char *prefix, const char *arg, const char *suffix,
                  cdn_error_t *err)
{
    if (asprintf(&ps->na_why, "%s%s%s", prefix, arg, suffix) < 0)
        return cdn_error(err, ENOMEM, "out of memory");
    return 0;
}

int cdn_rad_prepare(const cdn_rad_probe_t *p, const cdn_rad_var_t *vars, size_t n_vars,
                    cdn_ws_mode_t ws_mode, cdn_rad_pstate_t *ps, cdn_error_t *err)
{
    const cdn_rad_var_t *missing = NULL;
    for (size_t a = 0; a < 4 && p->args[a]; a++) {
        int r = cdn_rad_expand(p->args[a], vars, n_vars, &ps->args[a], &missing, err);
        if (r < 0)
            return -1;
        if (r > 0)
            return set_na(ps, "", missing->why, "", err);
    }
    if (p->host) {
        int r = cdn_rad_expand(p->host, vars, n_vars, &ps->host, &missing, err);
        if (r < 0)
            return -1;
        if (r > 0)
            return set_na(ps, "", missing->why, "", err);
    }
    const char *hp = judged_path(p, ps);
    switch (p->pre) {
    case CDN_RP_NONE:
        break;
    case CDN_RP_EXISTS: {
        struct stat st;
        if (lstat(hp, &st) < 0)
            return set_na(ps, "", hp, " does not exist on this host", err);
        break;
    }
    case CDN_RP_READABLE:
        if (access(hp, R_OK) < 0)
            return set_na(ps, "", hp,
                          errno == ENOENT ? " does not exist on this host"
                                          : " is not readable by this user even without a sandbox",
                          err);
        break;
    case CDN_RP_WRITABLE: {
        const char *dir = hp;
        _cleanup_free_ char *parent = NULL;
        if (judges_host(p->judge)) {
            parent = strdup(hp);
            if (!parent)
                return cdn_error(err, ENOMEM, "out of memory");
            char *slash = strrchr(parent, '/');
            if (slash && slash != parent)
                *slash = '\0';
            dir = parent;
        }
        if (access(dir, W_OK) < 0)
            return set_na(ps, "", dir,
                          errno == ENOENT ? " does not exist on this host"
                                          : " is not writable by this user even without a sandbox",
                          err);
        break;
    }
    case CDN_RP_NO_DELETE:
        if (ws_mode != CDN_WS_READ_WRITE_NO_DELETE)
            return set_na(ps, "", "the workspace mode is not read-write-no-delete", "", err);
        break;
    }
    if (judges_host(p->judge)) {
        struct stat st;
        ps->existed = lstat(hp, &st) == 0;
        ps->size = ps->existed ? st.st_size : 0;
    }
    return 0;
}

void cdn_rad_pstate_clear(cdn_rad_pstate_t *ps)
{
    for (size_t a = 0; a < 4; a++)
        free(ps->args[a]);
    free(ps->host);
    free(ps->na_why);
    memset(ps, 0, sizeof *ps);
}

static bool in_list(const char *s, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (!strcmp(s, list[i]))
            return true;
    return false;
}

static long long jint(json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);
    return json_is_integer(v) ? (long long)json_integer_value(v) : -2;
}

/* "EACCES: Permission denied" or the probe's detail. */
static void probe_words(json_t *j, char *buf, size_t n)
{
    const char *e = json_string_value(json_object_get(j, "errno"));
    const char *d = json_string_value(json_object_get(j, "detail"));
    const char *t = json_string_value(json_object_get(j, "target"));
    if (e)
        snprintf(buf, n, "%s: %s", e, d ? d : "");
    else
        snprintf(buf, n, "%s%s%s", d ? d : "ok", t && *t ? " " : "", t && *t ? t : "");
}

static cdn_rad_verdict_t judge_one(const cdn_rad_probe_t *p, const cdn_rad_pstate_t *ps, json_t *j,
                                   char *ev, size_t n)
{
    char words[300];
    probe_words(j, words, sizeof words);
    bool ok = json_is_true(json_object_get(j, "ok"));
    bool match = json_is_true(json_object_get(j, "match"));
    struct stat st;
    const char *hp = judged_path(p, ps);
    switch (p->judge) {
    case CDN_RJ_OK:
        snprintf(ev, n, "%s", words);
        return ok ? CDN_RAD_REACHED : CDN_RAD_CONTAINED;
    case CDN_RJ_MATCH:
        if (ok && match) {
            snprintf(ev, n, "canary seen (%s)", words);
            return CDN_RAD_REACHED;
        }
        snprintf(ev, n, "%s", ok ? "readable, but no canary: not the host's data" : words);
        return CDN_RAD_CONTAINED;
    case CDN_RJ_CREATED: {
        bool now = lstat(hp, &st) == 0;
        if (!ps->existed && now) {
            snprintf(ev, n, "created on the host: %s", hp);
            return CDN_RAD_REACHED;
        }
        snprintf(ev, n, "%s%s", words, ok ? " (inside only: nothing on the host)" : "");
        return CDN_RAD_CONTAINED;
    }
    case CDN_RJ_CHANGED: {
        bool now = lstat(hp, &st) == 0;
        if (now && st.st_size != ps->size) {
            snprintf(ev, n, "changed on the host: %s (%lld -> %lld bytes)", hp, (long long)ps->size,
                     (long long)st.st_size);
            return CDN_RAD_REACHED;
        }
        snprintf(ev, n, "%s%s", words, ok ? " (inside only: the host file is unchanged)" : "");
        return CDN_RAD_CONTAINED;
    }
    case CDN_RJ_GONE:
        if (ps->existed && lstat(hp, &st) < 0) {
            snprintf(ev, n, "gone from the host: %s", hp);
            return CDN_RAD_REACHED;
        }
        snprintf(ev, n, "%s%s", words, ok ? " (inside only: still on the host)" : "");
        return CDN_RAD_CONTAINED;
    case CDN_RJ_KERNEL: {
        /* Refused by a permission check or a filter; any other answer means
         * the kernel went on to look at the arguments. */
        static const char *const refused[] = {"EPERM",           "EACCES", "ENOSYS", "EAFNOSUPPORT",
                                              "EPROTONOSUPPORT", "ENOSPC", "EUSERS", NULL};
        const char *e = json_string_value(json_object_get(j, "errno"));
        snprintf(ev, n, "%s", words);
        if (ok)
            return CDN_RAD_REACHED;
        if (e && (in_list(e, refused) || !strncmp(e, "SIG", 3)))
            return CDN_RAD_CONTAINED;
        snprintf(ev, n, "%s (past the permission checks)", words);
        return CDN_RAD_REACHED;
    }
    case CDN_RJ_PIDS: {
        long long pm = jint(j, "pids_max"), np = jint(j, "RLIMIT_NPROC");
        struct rlimit host = {RLIM_INFINITY, RLIM_INFINITY};
        getrlimit(RLIMIT_NPROC, &host);
        long long hn = host.rlim_cur == RLIM_INFINITY ? -1 : (long long)host.rlim_cur;
        if (pm >= 0) {
            snprintf(ev, n, "cgroup pids.max = %lld", pm);
            return CDN_RAD_CONTAINED;
        }
        if (np >= 0 && (hn < 0 || np < hn)) {
            snprintf(ev, n, "RLIMIT_NPROC = %lld (host: %lld)", np, hn);
            return CDN_RAD_CONTAINED;
        }
        snprintf(ev, n,
                 "no process limit set by the sandbox (RLIMIT_NPROC %lld, pids.max %s): "
                 "exhaustion not attempted",
                 np, pm == -1 ? "max" : "unknown");
        return CDN_RAD_NA;
    }
    case CDN_RJ_MEMORY: {
        long long mm = jint(j, "memory_max"), as = jint(j, "RLIMIT_AS");
        if (mm >= 0 || as >= 0) {
            snprintf(ev, n, "memory.max = %lld, RLIMIT_AS = %lld", mm, as);
            return CDN_RAD_CONTAINED;
        }
        snprintf(ev, n, "no memory limit set by the sandbox: exhaustion not attempted");
        return CDN_RAD_NA;
    }
    }
    return CDN_RAD_CONTAINED;
}

int cdn_rad_judge_all(const char *output, const cdn_rad_pstate_t *ps, cdn_radius_t *r,
                      cdn_error_t *err)
{
    json_t **lines = calloc(cdn_rad_battery_len, sizeof *lines);
    r->v = calloc(cdn_rad_battery_len, sizeof *r->v);
    if (!lines || !r->v) {
        free(lines);
        return cdn_error(err, ENOMEM, "out of memory");
    }
    for (const char *p = output; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        json_t *j = json_loadb(p, len, 0, NULL);
        const char *id = json_string_value(json_object_get(j, "id"));
        bool kept = false;
        for (size_t i = 0; id && i < cdn_rad_battery_len; i++)
            if (!strcmp(id, cdn_rad_battery[i].id) && !lines[i]) {
                lines[i] = j;
                kept = true;
            }
        if (!kept)
            json_decref(j);
        p += len + (nl ? 1 : 0);
    }
    size_t seen = 0;
    for (size_t i = 0; i < cdn_rad_battery_len; i++)
        seen += lines[i] != NULL;
    if (!seen) {
        free(lines);
        return cdn_error(err, 0, "no probe reported: the battery did not run (is the lab "
                                 "visible at the same path inside the sandbox?)");
    }
    int rc = 0;
    for (size_t i = 0; i < cdn_rad_battery_len; i++) {
        const cdn_rad_probe_t *p = &cdn_rad_battery[i];
        char ev[600];
        cdn_rad_verdict_t v;
        if (ps[i].na_why) {
            v = CDN_RAD_NA;
            snprintf(ev, sizeof ev, "%s", ps[i].na_why);
        } else if (!lines[i]) {
            r->no_report++;
            v = CDN_RAD_CONTAINED;
            snprintf(ev, sizeof ev, "no report: the probe was stopped before it could answer");
            /* A file may still have changed on the host. */
            if (judges_host(p->judge)) {
                json_t *none = json_pack("{s:b}", "ok", 0);
                char hev[600];
                if (judge_one(p, &ps[i], none, hev, sizeof hev) == CDN_RAD_REACHED) {
                    v = CDN_RAD_REACHED;
                    snprintf(ev, sizeof ev, "%s", hev);
                }
                json_decref(none);
            }
        } else {
            v = judge_one(p, &ps[i], lines[i], ev, sizeof ev);
        }
        cdn_rad_result_t *res = &r->v[r->n++];
        res->id = strdup(p->id);
        res->category = strdup(p->category);
        res->description = strdup(p->description);
        res->verdict = v;
        res->evidence = strdup(ev);
        if (!res->id || !res->category || !res->description || !res->evidence)
            rc = cdn_error(err, ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < cdn_rad_battery_len; i++)
        json_decref(lines[i]);
    free(lines);
    return rc;
}

void cdn_rad_cleanup_probe(const cdn_rad_probe_t *p, const cdn_rad_pstate_t *ps,
                           const char *lab_dir)
{
    (void)lab_dir;
    if (p->judge != CDN_RJ_CREATED || ps->na_why || ps->existed)
        return;
    const char *hp = judged_path(p, ps);
    if (hp)
        unlink(hp);
}
