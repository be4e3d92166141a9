/* The plan: everything `cordon run` will do, computed from a policy and the
 * host's facts (kernel features, host unix sockets) without privileges.
 * `cordon plan` prints it; `cordon run` applies exactly this structure. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "policy/policy.h"
#include "util/error.h"
#include "util/strv.h"

typedef enum cdn_mount_kind {
    CDN_MNT_ROOT_RO,   /* the host's whole tree, recursively read-only, nosuid, nodev */
    CDN_MNT_BIND_RW,   /* host path bound writable at the same path */
    CDN_MNT_BIND_RO,   /* host path bound read-only at the same path */
    CDN_MNT_TMPFS,     /* empty private writable tmpfs */
    CDN_MNT_MASK_DIR,  /* empty, read-only, mode 000 directory over it */
    CDN_MNT_MASK_FILE, /* empty, read-only, unreadable file over it */
    CDN_MNT_PROC,      /* fresh procfs of the sandbox's pid namespace */
    CDN_MNT_DEV,       /* minimal /dev: null zero full random urandom tty, pts, shm */
} cdn_mount_kind_t;

typedef struct cdn_mount {
    cdn_mount_kind_t kind;
    char *target; /* path inside the sandbox; binds come from the same host path */
    char *why;    /* for people: "workspace", "hidden secret: ~/.ssh", ... */
} cdn_mount_t;

typedef enum cdn_layer_id {
    CDN_LAYER_USERNS,
    CDN_LAYER_MNTNS,
    CDN_LAYER_PIDNS,
    CDN_LAYER_IPCNS,
    CDN_LAYER_UTSNS,
    CDN_LAYER_NETNS,
    CDN_LAYER_CGROUPNS,
    CDN_LAYER_LANDLOCK_FS,
    CDN_LAYER_LANDLOCK_NET,
    CDN_LAYER_LANDLOCK_SCOPE,
    CDN_LAYER_SECCOMP,
    CDN_LAYER_SECCOMP_NOTIFY, /* protected-path supervisor */
    CDN_LAYER_NO_NEW_PRIVS,
    CDN_LAYER_CAPS,
    CDN_LAYER_NO_CORE,
    CDN_LAYER_SESSION,
    CDN_LAYER_HIDDEN_OBSERVER, /* reads of hidden paths reported (FUSE); observation only */
    CDN_LAYER__COUNT
} cdn_layer_id_t;

typedef struct cdn_layer {
    const char *name;
    bool supported; /* by this kernel */
    bool enabled;   /* used by this plan */
    char detail[160];
} cdn_layer_t;

/* Landlock intent; landlock.c turns it into rules inside the sandbox, where
 * the objects the rules are bound to exist. */
typedef struct cdn_ll_path {
    char *path;
    uint64_t access; /* LANDLOCK_ACCESS_FS_* bits */
    char *why;
} cdn_ll_path_t;

typedef struct cdn_landlock_plan {
    int abi;                 /* detected ABI, 0 = unavailable */
    uint64_t handled_fs;     /* all FS rights of that ABI */
    uint64_t handled_net;    /* TCP rights handled (0 = not restricted) */
    uint64_t scoped;         /* LANDLOCK_SCOPE_* bits */
    cdn_ll_path_t *paths;    /* grants; reads are "everything readable except hidden" */
    size_t n_paths;
    cdn_strv_t read_except;  /* hidden paths excluded from the read grant */
    int *tcp_ports;          /* allowed TCP bind/connect ports when handled_net != 0 */
    size_t n_tcp_ports;
} cdn_landlock_plan_t;

typedef struct cdn_publish {
    uint16_t port, host_port;
} cdn_publish_t;

typedef enum cdn_net_mode {
    CDN_NET_NONE,   /* loopback only, in a private network namespace */
    CDN_NET_BROKER, /* out only through the egress broker (settings have "network") */
} cdn_net_mode_t;

typedef struct cdn_plan {
    const cdn_policy_t *policy; /* borrowed */

    cdn_strv_t argv;    /* the command */
    cdn_strv_t env;     /* the command's environment: the policy's, plus the proxy
                           variables when the broker runs */
    const char *dns_upstream; /* broker's upstream resolver; NULL = the host's */
    /* --publish PORT[:HOSTPORT], set by the CLI: the sandbox's 127.0.0.1:port
     * served on the host's 127.0.0.1:host_port. */
    const cdn_publish_t *publish;
    size_t n_publish;
    char *cwd;          /* working directory inside */
    bool use_shell;     /* argv came from -c */

    cdn_mount_t *mounts; /* in application order (parents before children) */
    size_t n_mounts;

    cdn_strv_t masked_sockets; /* host unix sockets found and masked */

    cdn_landlock_plan_t landlock;
    cdn_layer_t layers[CDN_LAYER__COUNT];

    cdn_net_mode_t net;
    bool allow_nested_userns;
    bool weaker;          /* an explicitly requested weaker mode */
    char weaker_why[200];
} cdn_plan_t;

/* Compute the plan.  `argv` may be empty for `cordon plan` without command. */
int cdn_plan_build(const cdn_policy_t *policy, char *const *argv, bool use_shell, cdn_plan_t **out,
                   cdn_error_t *err);
void cdn_plan_free(cdn_plan_t *plan);

void cdn_plan_print_text(const cdn_plan_t *plan, FILE *out);
int cdn_plan_print_json(const cdn_plan_t *plan, FILE *out, cdn_error_t *err);

const char *cdn_mount_kind_name(cdn_mount_kind_t k);
/* Mount i is a hidden path's mask the hidden-path observer may serve. */
bool cdn_plan_mask_observable(const cdn_plan_t *plan, size_t i);
