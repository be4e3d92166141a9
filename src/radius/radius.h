/* cordon radius: measure what a command inside a sandbox could still damage.
 *
 * The battery (battery.c) is data: one row per probe.  The lab (lab.c)
 * plants canaries on the host side, runs every probe in one sandboxed
 * `cordon-probe batch` process, and judges each probe from what the probe
 * reported and from what changed on the host.  Reports (report.c, html.c)
 * render a result; json.c writes and reads the documented JSON form
 * (docs/radius.md), which --compare reads back. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "settings/settings.h"
#include "util/error.h"
#include "util/strv.h"

typedef enum cdn_rad_verdict {
    CDN_RAD_NA = 0,
    CDN_RAD_CONTAINED,
    CDN_RAD_REACHED,
} cdn_rad_verdict_t;

/* How a probe's outcome becomes a verdict. */
typedef enum cdn_rad_judge {
    CDN_RJ_OK,      /* reached iff the operation succeeded */
    CDN_RJ_MATCH,   /* reached iff it succeeded and saw the canary */
    CDN_RJ_CREATED, /* reached iff `host` exists on the host afterwards */
    CDN_RJ_CHANGED, /* reached iff `host` changed size on the host */
    CDN_RJ_GONE,    /* reached iff `host` is gone from the host */
    CDN_RJ_KERNEL,  /* reached iff the kernel got past its permission checks */
    CDN_RJ_PIDS,    /* contained iff a process limit is configured, else n/a */
    CDN_RJ_MEMORY,  /* contained iff a memory limit is configured, else n/a */
} cdn_rad_judge_t;

/* What must hold on the host for the probe to mean anything. */
typedef enum cdn_rad_pre {
    CDN_RP_NONE,
    CDN_RP_EXISTS,    /* `host` exists */
    CDN_RP_READABLE,  /* the invoking user can read `host` without a sandbox */
    CDN_RP_WRITABLE,  /* the invoking user can create files in the directory `host` */
    CDN_RP_NO_DELETE, /* the policy's workspace mode is read-write-no-delete */
} cdn_rad_pre_t;

typedef struct cdn_rad_probe {
    const char *id;
    const char *category;
    const char *description;
    const char *op;      /* cordon-probe operation */
    const char *args[4]; /* templates, see cdn_rad_expand() */
    cdn_rad_judge_t judge;
    cdn_rad_pre_t pre;
    const char *host; /* template: the host path the judge or precondition looks at */
} cdn_rad_probe_t;

extern const cdn_rad_probe_t cdn_rad_battery[];
extern const size_t cdn_rad_battery_len;
/* Categories in display order. */
extern const char *const cdn_rad_categories[];
extern const char *const cdn_rad_default_required[];

/* Template variables: "{NAME}" in a probe's args or host path.  A variable
 * that is NULL means "this host has no such thing": the probe becomes not
 * applicable, with `why` as the reason. */
typedef struct cdn_rad_var {
    const char *name;
    const char *value;
    const char *why; /* reason when value is NULL */
} cdn_rad_var_t;

/* Expand `tmpl` into a malloc'd string in *out.  Returns 0, 1 when a variable
 * has no value (*missing = its var), -1 on error. */
int cdn_rad_expand(const char *tmpl, const cdn_rad_var_t *vars, size_t n_vars, char **out,
                   const cdn_rad_var_t **missing, cdn_error_t *err);

typedef struct cdn_rad_result {
    char *id;
    char *category;
    char *description;
    cdn_rad_verdict_t verdict;
    char *evidence;
} cdn_rad_result_t;

typedef struct cdn_radius {
    char *label;    /* "cordon", "baseline (no sandbox)", "wrap: PREFIX" */
    char *mode;     /* "cordon", "baseline", "wrap" */
    char *settings; /* settings file, or "built-in default" */
    char *workspace;
    char *kernel;
    unsigned uid;
    char *date;
    cdn_rad_result_t *v;
    size_t n;
    size_t no_report; /* applicable probes that printed nothing (stopped by the sandbox) */
} cdn_radius_t;

typedef enum cdn_rad_mode {
    CDN_RAD_CORDON,
    CDN_RAD_BASELINE,
    CDN_RAD_WRAP,
} cdn_rad_mode_t;

typedef struct cdn_rad_opts {
    cdn_rad_mode_t mode;
    const char *cordon_exe; /* used in CDN_RAD_CORDON */
    const char *probe_exe;  /* the static cordon-probe */
    const char *settings;   /* resolved settings file or NULL (built-in default) */
    const char *workspace;  /* NULL: a workspace in the lab */
    const char *wrap;       /* shell prefix for CDN_RAD_WRAP */
    const char *lab_base;   /* directory under which the lab is made; NULL: default */
    cdn_ws_mode_t ws_mode;  /* from the settings, for the no-delete probes */
    bool keep_lab;          /* debugging: leave the lab in place */
} cdn_rad_opts_t;

/* Plant, run, judge, clean up. */
int cdn_radius_run(const cdn_rad_opts_t *o, cdn_radius_t **out, cdn_error_t *err);
void cdn_radius_free(cdn_radius_t *r);

const char *cdn_rad_verdict_name(cdn_rad_verdict_t v);
int cdn_rad_verdict_parse(const char *s, cdn_rad_verdict_t *v);

typedef struct cdn_rad_count {
    size_t reached, contained, na;
} cdn_rad_count_t;
/* Counts for one category (NULL: all). */
cdn_rad_count_t cdn_radius_count(const cdn_radius_t *r, const char *category);
/* Reached probes in any of `cats`. */
size_t cdn_radius_reached_in(const cdn_radius_t *r, const cdn_strv_t *cats);

/* The table grouped by category, ending in "reached N of M". */
void cdn_radius_print(const cdn_radius_t *r, const cdn_strv_t *required, FILE *f);
void cdn_radius_print_compare(const cdn_radius_t *a, const cdn_radius_t *b, FILE *f);
int cdn_radius_write_json(const cdn_radius_t *r, const cdn_strv_t *required, FILE *f,
                          cdn_error_t *err);
int cdn_radius_load_json(const char *path, cdn_radius_t **out, cdn_error_t *err);
/* The same from memory; `name` is used in messages.  Exposed for fuzzing. */
int cdn_radius_load_buffer(const char *name, const char *buf, size_t len, cdn_radius_t **out,
                           cdn_error_t *err);
/* Self-contained page: inline CSS and an inline SVG chart, nothing fetched.
 * `b` may be NULL; with it, two charts side by side. */
int cdn_radius_write_html(const cdn_radius_t *a, const cdn_radius_t *b, const char *path,
                          cdn_error_t *err);
