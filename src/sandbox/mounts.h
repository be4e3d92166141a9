/* Building the sandbox's filesystem from the plan's mount list, inside the
 * new user+mount namespace, ending with pivot_root into it. */
#pragma once

#include "plan/plan.h"
#include "util/error.h"

/* Result of a failed step, with the path that failed (bubblewrap's
 * bind-mount.c idea): the message names both. */
int cdn_mounts_apply(const cdn_plan_t *plan, cdn_error_t *err);
