#include "audit/report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"

/* The block is for an agent's context window: a few lines, not a log. */
#define MAX_LISTED 20

typedef struct {
    cdn_event_kind_t kind;
    char *what;    /* operation, or "connect" */
    char *target;  /* path, or host:port */
    char *process; /* may be NULL */
    char *setting; /* may be NULL */
    unsigned long count;
} entry_t;

struct cdn_violations {
    entry_t entries[MAX_LISTED];
    size_t n;
    unsigned long unlisted; /* distinct denials past MAX_LISTED (approximate: counts repeats) */
    char *command;
};

cdn_violations_t *cdn_violations_new(void)
{
    return calloc(1, sizeof(cdn_violations_t));
}

void cdn_violations_free(cdn_violations_t *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++) {
        free(v->entries[i].what);
        free(v->entries[i].target);
        free(v->entries[i].process);
        free(v->entries[i].setting);
    }
    free(v->command);
    free(v);
}

int cdn_violations_set_command(cdn_violations_t *v, char *const *argv)
{
    size_t len = 1;
    for (size_t i = 0; argv && argv[i]; i++)
        len += strlen(argv[i]) + 1;
    char *c = calloc(1, len);
    if (!c)
        return -ENOMEM;
    for (size_t i = 0; argv && argv[i]; i++) {
        if (i)
            strcat(c, " ");
        strcat(c, argv[i]);
    }
    free(v->command);
    v->command = c;
    return 0;
}

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int cdn_violations_add(cdn_violations_t *v, const cdn_event_t *ev)
{
    _cleanup_free_ char *target = NULL;
    const char *what, *setting;
    if (ev->kind == CDN_EV_FS_VIOLATION) {
        target = strdup(ev->path);
        what = ev->operation;
        setting = ev->setting;
    } else if (ev->kind == CDN_EV_NET_DENY) {
        if (asprintf(&target, "%s:%d", ev->host ? ev->host : ev->address, ev->port) < 0)
            target = NULL;
        what = "connect";
        setting = ev->rule;
    } else {
        return 0;
    }
    if (!target)
        return -ENOMEM;
    for (size_t i = 0; i < v->n; i++) {
        entry_t *e = &v->entries[i];
        if (e->kind == ev->kind && strcmp(e->what, what) == 0 && strcmp(e->target, target) == 0 &&
            same(e->setting, setting)) {
            e->count++;
            return 0;
        }
    }
    if (v->n == MAX_LISTED) {
        v->unlisted++;
        return 0;
    }
    entry_t *e = &v->entries[v->n];
    e->kind = ev->kind;
    e->what = strdup(what);
    e->target = steal_pointer(&target);
    e->process = ev->process_name ? strdup(ev->process_name) : NULL;
    e->setting = setting ? strdup(setting) : NULL;
    e->count = 1;
    if (!e->what || (ev->process_name && !e->process) || (setting && !e->setting)) {
        free(e->what);
        free(e->target);
        free(e->process);
        free(e->setting);
        memset(e, 0, sizeof *e);
        return -ENOMEM;
    }
    v->n++;
    return 0;
}

bool cdn_violation_ignored(const char *command, const char *target,
                           const cdn_ignore_rule_t *rules, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *pat = rules[i].command_pattern;
        if (!pat || (strcmp(pat, "*") != 0 && (!command || !strstr(command, pat))))
            continue;
        for (size_t j = 0; j < rules[i].paths.n; j++)
            if (strstr(target, rules[i].paths.v[j]))
                return true;
    }
    return false;
}

size_t cdn_violations_print(const cdn_violations_t *v, FILE *out, const cdn_ignore_rule_t *rules,
                            size_t n_rules)
{
    size_t listed = 0;
    for (size_t i = 0; i < v->n; i++) {
        const entry_t *e = &v->entries[i];
        if (cdn_violation_ignored(v->command, e->target, rules, n_rules))
            continue;
        if (listed++ == 0)
            fputs("<sandbox_violations>\n", out);
        fprintf(out, "%s %s denied", e->what, e->target);
        if (e->process)
            fprintf(out, " (%s)", e->process);
        if (e->count > 1)
            fprintf(out, " x%lu", e->count);
        if (e->kind == CDN_EV_FS_VIOLATION)
            fprintf(out, "; allowed by: %s\n",
                    e->setting ? e->setting : "nothing: this path is always protected");
        else if (e->setting)
            fprintf(out, " by rule %s; allowed by: network.allowedDomains\n", e->setting);
        else
            fputs("; allowed by: network.allowedDomains\n", out);
    }
    if (v->unlisted && listed) {
        fprintf(out, "... and %lu more denials (see the audit log)\n", v->unlisted);
    }
    if (listed)
        fputs("</sandbox_violations>\n", out);
    return listed;
}
