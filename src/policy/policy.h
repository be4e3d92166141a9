/* The policy: settings resolved against the invoking user (home, uid) and the
 * workspace into absolute, symlink-free paths and final rule lists.  Built
 * once, never changed afterwards; the planner reads it.
 *
 * Path meaning (documented in docs/settings.md): "~" and "~/x" are the
 * invoking user's home; a relative path is relative to the workspace; every
 * path is resolved with symlinks followed for the part that exists, and the
 * non-existing rest appended lexically. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "settings/settings.h"
#include "util/error.h"
#include "util/strv.h"

typedef struct cdn_invocation {
    const char *home;      /* invoking user's home (resolved) */
    uid_t uid;
    gid_t gid;
    const char *workspace; /* resolved absolute path, must exist */
    const char *cwd;       /* caller's cwd (resolved) */
    char **environ;        /* the caller's environment */
    const char *runtime_dir; /* $XDG_RUNTIME_DIR if set, else /run/user/UID */
    /* CLI additions */
    const cdn_strv_t *env_pass; /* --env-pass NAME */
    const cdn_strv_t *env_set;  /* --setenv NAME=VALUE */
    bool ws_mode_set;           /* --workspace-mode given */
    cdn_ws_mode_t ws_mode;
    bool allow_nested_userns;   /* --allow-nested-userns */
} cdn_invocation_t;

typedef struct cdn_rule_path {
    char *path;        /* absolute, resolved */
    const char *why;   /* static string or owned by policy (see why_owned) */
    char *why_owned;
} cdn_rule_path_t;

typedef struct cdn_rule_paths {
    cdn_rule_path_t *v;
    size_t n;
} cdn_rule_paths_t;

typedef struct cdn_policy {
    const cdn_settings_t *settings; /* borrowed: the network rules the broker reads */
    char *source;               /* where the settings came from */
    char *workspace;
    char *cwd;                  /* where the command starts: the caller's cwd when it
                                   is inside the workspace, else the workspace */
    cdn_ws_mode_t ws_mode;
    char *home;
    uid_t uid;
    gid_t gid;
    bool as_root;

    cdn_rule_paths_t hidden;        /* denyRead + built-in secrets */
    cdn_rule_paths_t reopen_read;   /* allowRead inside hidden regions */
    cdn_rule_paths_t writable;      /* allowWrite (workspace separately) */
    cdn_rule_paths_t readonly;      /* denyWrite */
    cdn_rule_paths_t private_tmp;   /* empty writable tmpfs: /tmp, /var/tmp, /dev/shm */
    cdn_rule_paths_t socket_dirs;   /* hidden wholesale because they hold host sockets */
    cdn_rule_paths_t unix_allow;    /* allowUnixSockets, resolved */
    bool allow_all_unix_sockets;
    cdn_strv_t protected_names;     /* patterns, see sandbox/protect.h */
    bool allow_git_config;
    bool allow_nested_userns;

    cdn_strv_t env;          /* final NAME=VALUE list for the command */
    cdn_strv_t env_removed;  /* names removed as secret-bearing */

    bool tcp_ports_set;
    int *tcp_ports;
    size_t n_tcp_ports;

    cdn_strv_t not_enforced; /* copied from settings */
    cdn_ignore_rule_t *ignore_violations; /* borrowed from settings */
    size_t n_ignore_violations;
} cdn_policy_t;

int cdn_policy_build(const cdn_settings_t *s, const cdn_invocation_t *inv, cdn_policy_t **out,
                     cdn_error_t *err);
void cdn_policy_free(cdn_policy_t *p);

/* Resolve `path` (absolute, "~", "~/...", or relative to `base`) to an
 * absolute path with symlinks resolved for its existing prefix and "." / ".."
 * removed.  Exposed for tests. */
int cdn_path_resolve(const char *path, const char *home, const char *base, char **out,
                     cdn_error_t *err);

/* Secret-bearing environment variable names.  Exposed for tests. */
bool cdn_env_name_is_secret(const char *name);
