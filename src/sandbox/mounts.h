/* Building the sandbox's filesystem from the plan's mount list, inside the
 * new user+mount namespace, ending with pivot_root into it. */
#pragma once

#include "plan/plan.h"
#include "sandbox/hidden_fuse.h"
#include "util/error.h"

/* Result of a failed step, with the path that failed (bubblewrap's
 * bind-mount.c idea): the message names both. */
/* `hf` (NULL: none) serves the hidden places by FUSE when the plan enables
 * the hidden-path observer (its server is started here, before anything
 * looks at them); the others keep their plain masks. */
int cdn_mounts_apply(const cdn_plan_t *plan, cdn_hidden_fuse_t *hf, cdn_error_t *err);
