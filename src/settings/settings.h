/* Settings: the JSON file a user writes (srt's schema plus cordon's own keys
 * under "cordon"), parsed strictly.  Every syntax or schema error is reported
 * as "FILE:LINE:COLUMN: what was expected" with status CDN_EXIT_USAGE; an
 * unknown key is an error that names the key.  This layer only reads and
 * validates: resolving paths and applying defaults is the policy's job. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "util/error.h"
#include "util/strv.h"

/* Bounded: each port is one listening socket handed out of the sandbox. */
#define CDN_SETTINGS_MAX_LOCAL_PORTS 16

typedef struct cdn_pos {
    unsigned line, col; /* 1-based; 0 when not from a file */
} cdn_pos_t;

/* A filesystem path entry: "path" or {"path": "...", "literal": true}. */
typedef struct cdn_path_ent {
    char *path;
    bool literal; /* srt: no glob interpretation */
    cdn_pos_t pos;
} cdn_path_ent_t;

typedef struct cdn_pathlist {
    cdn_path_ent_t *v;
    size_t n;
} cdn_pathlist_t;

typedef struct cdn_kv {
    char *key;
    char *val;
} cdn_kv_t;

typedef struct cdn_kvlist {
    cdn_kv_t *v;
    size_t n;
} cdn_kvlist_t;

/* ignoreViolations: {"commandPattern": ["pathSubstring", ...]} */
typedef struct cdn_ignore_rule {
    char *command_pattern;
    cdn_strv_t paths;
} cdn_ignore_rule_t;

typedef enum cdn_ws_mode {
    CDN_WS_READ_WRITE = 0,
    CDN_WS_READ_ONLY,
    CDN_WS_READ_WRITE_NO_DELETE,
} cdn_ws_mode_t;

typedef enum cdn_cred_mode {
    CDN_CRED_UNSET = 0,
    CDN_CRED_DENY,
    CDN_CRED_MASK,
} cdn_cred_mode_t;

/* One credentials.envVars or credentials.files entry (srt: objects with a
 * per-entry mode). */
typedef struct cdn_cred_ent {
    char *name; /* variable name, or file path */
    cdn_cred_mode_t mode;
    cdn_strv_t inject_hosts;
    cdn_pos_t pos;
} cdn_cred_ent_t;

typedef struct cdn_settings {
    char *source;   /* file path, or "built-in default" */
    bool from_file;

    struct {
        bool present; /* a "network" object was given: the egress broker runs */
        cdn_strv_t allowed_domains;
        cdn_strv_t denied_domains;
        cdn_kvlist_t denied_domain_reasons;
        bool strict_allowlist;
        cdn_strv_t denied_resolved_addresses; /* CIDR strings, validated */
        cdn_strv_t allow_unix_sockets;        /* paths */
        bool allow_all_unix_sockets;
        bool allow_local_binding;
        int http_proxy_port;  /* 0 = unset */
        int socks_proxy_port; /* 0 = unset */
        struct {
            char *http, *https;
            cdn_strv_t no_proxy;
        } parent_proxy;
        struct {
            char *socket_path;
            cdn_strv_t domains;
        } mitm_proxy;
        struct {
            bool present;
            char *ca_cert_path, *ca_key_path;
            cdn_strv_t exclude_domains, extra_ca_cert_paths;
            int max_tunnels;          /* 0 = unset */
            int handshake_timeout_ms; /* 0 = unset */
        } tls_terminate;
    } network;

    struct {
        cdn_pathlist_t deny_read, allow_read, allow_write, deny_write;
        bool allow_git_config;
        bool disabled; /* srt "filesystem.disabled"; not enforced (listed) */
    } filesystem;

    cdn_ignore_rule_t *ignore_violations;
    size_t n_ignore_violations;

    bool enable_weaker_nested_sandbox;
    bool allow_nested_user_namespaces;
    int mandatory_deny_search_depth; /* -1 = unset */

    /* srt declares credentials per entry ({"name"|"path", "mode", ...});
     * the flat fields summarise the entries: env_vars/files list every
     * entry's name/path, inject_hosts the union of their injectHosts, and
     * mode is CDN_CRED_DENY if any entry denies, CDN_CRED_MASK if all mask
     * (without a proxy a mask can only degrade to a deny). */
    struct {
        cdn_strv_t env_vars; /* names */
        cdn_strv_t files;    /* paths */
        cdn_cred_mode_t mode;
        cdn_strv_t inject_hosts;
        cdn_cred_ent_t *env_entries;
        size_t n_env_entries;
        cdn_cred_ent_t *file_entries;
        size_t n_file_entries;
        bool allow_plaintext_inject;
    } credentials;

    /* cordon's own keys, all under the top-level "cordon" object. */
    struct {
        cdn_ws_mode_t workspace_mode;
        cdn_strv_t env_passthrough; /* names kept even if they look secret */
        cdn_kvlist_t env_set;       /* NAME -> value set inside */
        cdn_pathlist_t hide;        /* extra hidden paths (like denyRead) */
        cdn_strv_t protect;         /* extra protected names/relative patterns */
        bool allow_tcp_ports_set;   /* "tcpPorts" present */
        int *tcp_ports;             /* Landlock: TCP bind/connect allowed ports */
        size_t n_tcp_ports;
        /* Host loopback ports the sandbox reaches on its own 127.0.0.1 (the
         * egress broker forwards them); at most CDN_SETTINGS_MAX_LOCAL_PORTS. */
        uint16_t *local_ports;
        size_t n_local_ports;
    } cordon;

    /* Keys that were present and are parsed, but that this version does not
     * enforce yet, as dotted names ("network.allowedDomains").  The CLI says
     * so on stderr. */
    cdn_strv_t not_enforced;
} cdn_settings_t;

/* Where settings come from: explicit path, else ~/.config/cordon/settings.json,
 * else ~/.srt-settings.json, else NULL (built-in default).  `home` is the
 * invoking user's home directory.  *path_out is malloc'd or NULL. */
int cdn_settings_locate(const char *explicit_path, const char *home, char **path_out,
                        cdn_error_t *err);

int cdn_settings_load_file(const char *path, cdn_settings_t **out, cdn_error_t *err);
/* `name` is used in messages in place of a file name. */
int cdn_settings_load_buffer(const char *name, const char *buf, size_t len,
                             cdn_settings_t **out, cdn_error_t *err);
/* The built-in default: an empty settings object. */
int cdn_settings_default(cdn_settings_t **out, cdn_error_t *err);
void cdn_settings_free(cdn_settings_t *s);
