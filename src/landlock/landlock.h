/* Landlock: the filesystem policy enforced a second time, by the kernel's
 * own access control, independent of the mount layout.  Also TCP bind/connect
 * ports (ABI >= 4) and scoping of abstract unix sockets and signals (ABI >= 6).
 * Constants newer than the system headers are defined in landlock_compat.h. */
#pragma once

#include <stdint.h>

#include "plan/plan.h"
#include "util/error.h"

/* Highest ABI version, 0 when unavailable. */
int cdn_landlock_abi(void);

/* Fill plan->landlock from the plan's mounts and policy: handled rights for
 * `abi`, read grant everywhere but policy->hidden (read_except), full rights
 * on the writable places (workspace per its mode, allowWrite, private tmpfs,
 * /dev/shm), write on the few /dev nodes, TCP ports when configured, scopes.
 * abi 0 leaves plan->landlock empty; an abi above the newest cordon knows (7)
 * is planned as 7.  policy->tcp_ports_set on ABI < 4 leaves handled_net 0:
 * the caller must refuse to run, TCP ports cannot be enforced there.  Paths
 * and strings are owned by the plan: free with cdn_landlock_plan_free(). */
int cdn_landlock_plan(cdn_plan_t *plan, int abi, cdn_error_t *err);

/* Build the ruleset in the *current* mount view (call after pivot_root, so
 * rules bind to the sandbox's own objects) and restrict the calling thread.
 * Read access is granted to every readable tree: directories that contain a
 * hidden path are expanded entry by entry, so the hidden one gets no rule.
 * Requires no_new_privs (or CAP_SYS_ADMIN) already set.  Returns the number
 * of rules added, or -1. */
int cdn_landlock_apply(const cdn_landlock_plan_t *ll, cdn_error_t *err);

/* The two halves of cdn_landlock_apply(): build the ruleset once (in pid
 * 1), restrict with it twice -- pid 1 itself, then the command, whose domain
 * then nests inside pid 1's and cannot reach it. */
int cdn_landlock_build(const cdn_landlock_plan_t *ll, int *ruleset_out, cdn_error_t *err);
int cdn_landlock_restrict(int ruleset, int abi, cdn_error_t *err);

/* Access bits as a short human string ("read,exec,write,..."). */
void cdn_landlock_access_str(uint64_t access, char *buf, size_t len);

/* All filesystem rights Landlock knows at `abi` (capped at the newest ABI
 * cordon knows, 7). */
uint64_t cdn_landlock_fs_rights(int abi);

/* Free what cdn_landlock_plan() put into *ll and zero it. */
void cdn_landlock_plan_free(cdn_landlock_plan_t *ll);

/* The landlock_restrict_self() flags cdn_landlock_apply() passes at `abi`. */
unsigned cdn_landlock_restrict_flags(int abi);
