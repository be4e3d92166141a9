/* Small process-level steps of the sandbox: identity mapping, capability
 * dropping, loopback, and the final hardening of the command process. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "util/error.h"

/* Write /proc/self/{setgroups,uid_map,gid_map}: the caller's own uid and
 * gid map to themselves, and nothing else (a process may write that map
 * for itself without help; other owners show as nobody inside). */
int cdn_userns_map_self(uid_t uid, gid_t gid, cdn_error_t *err);

/* Empty the bounding, ambient, inheritable, permitted and effective sets. */
int cdn_caps_drop_all(cdn_error_t *err);

/* Bring up "lo" in the current network namespace. */
int cdn_net_loopback_up(cdn_error_t *err);
