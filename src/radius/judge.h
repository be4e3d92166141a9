/* From a probe's JSON line and the host's state to a verdict (judge.c). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "radius/radius.h"

/* What the lab knows of one probe before the run. */
typedef struct cdn_rad_pstate {
    char *args[4]; /* expanded */
    char *host;    /* expanded host path (the judge's or the precondition's) */
    char *na_why;  /* set: not applicable, for this reason */
    bool existed;  /* the judged path, before the run */
    off_t size;
} cdn_rad_pstate_t;

int cdn_rad_prepare(const cdn_rad_probe_t *p, const cdn_rad_var_t *vars, size_t n_vars,
                    cdn_ws_mode_t ws_mode, cdn_rad_pstate_t *ps, cdn_error_t *err);
void cdn_rad_pstate_clear(cdn_rad_pstate_t *ps);
/* Judge every battery row from the batch output into r->v. */
int cdn_rad_judge_all(const char *output, const cdn_rad_pstate_t *ps, cdn_radius_t *r,
                      cdn_error_t *err);
/* Remove what the probe may have created outside the lab (only files that
 * did not exist before). */
void cdn_rad_cleanup_probe(const cdn_rad_probe_t *p, const cdn_rad_pstate_t *ps,
                           const char *lab_dir);
