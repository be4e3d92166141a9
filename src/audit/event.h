/* The one audit event schema of cordon.
 *
 * Every decision cordon takes and everything it sees the sandbox try is one
 * cdn_event_t.  Events are made by one constructor per kind (which checks
 * that the fields that kind needs are there), handed to cdn_audit_emit(),
 * which stamps the session context (session id, span ids, agent, user,
 * workspace, policy digest, tier), redacts secrets and gives it to the
 * sinks.  cdn_event_to_json() is the schema: docs/audit.md documents it. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "util/error.h"

#define CDN_AUDIT_SCHEMA "cordon.audit/1"

typedef enum cdn_event_kind {
    CDN_EV_SESSION_START = 0,
    CDN_EV_SESSION_END,
    CDN_EV_PROCESS_START,
    CDN_EV_PROCESS_EXIT,
    CDN_EV_NET_ALLOW,
    CDN_EV_NET_DENY,
    CDN_EV_FS_VIOLATION,
    CDN_EV_POLICY_WARNING,
    CDN_EV_ERROR,
    CDN_EV__COUNT,
} cdn_event_kind_t;

typedef enum cdn_decision {
    CDN_DECISION_OBSERVE = 0, /* cordon saw it and let it be */
    CDN_DECISION_ALLOW,
    CDN_DECISION_DENY,
} cdn_decision_t;

/* Network decision, as the egress broker reports it. */
typedef struct cdn_net_info {
    const char *host;     /* name asked for (CONNECT/SOCKS/SNI), may be NULL if only an address */
    const char *address;  /* peer IP address, may be NULL if never resolved */
    int port;             /* 1..65535, required */
    const char *protocol; /* "tcp", "udp", ... required */
    const char *rule;     /* the rule that decided, e.g. "allowedDomains:*.github.com" */
    uint64_t bytes_in, bytes_out;
    int64_t duration_ns;
} cdn_net_info_t;

/* Filesystem access the sandbox denied. */
typedef struct cdn_fs_info {
    const char *path;         /* required */
    const char *operation;    /* "read", "write", "create", "unlink", "rename", ... required */
    pid_t pid;                /* in the sandbox's pid namespace, 0 if unknown */
    const char *process_name; /* comm, may be NULL */
    const char *exe;          /* may be NULL */
    int errnum;               /* errno the process got (EACCES, EPERM, EROFS...) */
    const char *setting;      /* what would allow it, e.g. "filesystem.allowWrite" */
} cdn_fs_info_t;

typedef struct cdn_event {
    cdn_event_kind_t kind;
    cdn_decision_t decision;
    int64_t time_ns; /* CLOCK_REALTIME, ns since the epoch */

    /* Session context: stamped by cdn_audit_emit(). */
    char session_id[33];     /* 128 random bits, hex: also the OTLP trace id */
    char span_id[17];        /* the command's span (the session's root span outside a command) */
    char parent_span_id[17]; /* empty for the root span */
    char *agent_id;
    char *user;
    long long uid; /* -1 = unknown */
    char *workspace;
    char policy_digest[72]; /* "sha256:<64 hex>" or empty */
    const char *tier;       /* static string, "os-sandbox" */

    /* process.start / process.exit / session.end */
    char **argv; /* NULL-terminated, owned */
    pid_t pid;
    int exit_code; /* -1 = none (killed by a signal) */
    int signal;    /* 0 = none */
    int64_t duration_ns;
    int64_t cpu_user_ns, cpu_sys_ns;
    int64_t peak_rss_bytes; /* -1 = unknown */

    /* net.allow / net.deny */
    char *host, *address, *protocol, *rule;
    int port;
    uint64_t bytes_in, bytes_out;

    /* fs.violation */
    char *path, *operation, *process_name, *exe, *setting;
    int errnum; /* also for error */

    char *message; /* policy.warning, error; optional elsewhere */
} cdn_event_t;

const char *cdn_event_kind_name(cdn_event_kind_t kind);
/* -1 when the name is unknown. */
int cdn_event_kind_from_name(const char *name);
const char *cdn_decision_name(cdn_decision_t d);

/* Constructors.  Each returns 0 and a new event in *out, or a negative value
 * (usage error for a missing required field, ENOMEM).  time_ns is now. */
int cdn_event_session_start(cdn_event_t **out, cdn_error_t *err);
int cdn_event_session_end(cdn_event_t **out, int exit_code, int signal, int64_t duration_ns,
                          cdn_error_t *err);
int cdn_event_process_start(cdn_event_t **out, const char *const *argv, pid_t pid,
                            cdn_error_t *err);
/* ru (may be NULL) gives CPU times and peak RSS, as from wait4(). */
int cdn_event_process_exit(cdn_event_t **out, pid_t pid, int exit_code, int signal,
                           int64_t duration_ns, const struct rusage *ru, cdn_error_t *err);
/* decision ALLOW makes net.allow, DENY net.deny. */
int cdn_event_net(cdn_event_t **out, cdn_decision_t decision, const cdn_net_info_t *net,
                  cdn_error_t *err);
int cdn_event_fs_violation(cdn_event_t **out, const cdn_fs_info_t *fs, cdn_error_t *err);
/* setting: the settings key concerned, may be NULL. */
int cdn_event_policy_warning(cdn_event_t **out, const char *setting, const char *message,
                             cdn_error_t *err);
int cdn_event_error(cdn_event_t **out, int errnum, const char *message, cdn_error_t *err);

/* Optional free text on any event (copied). */
int cdn_event_set_message(cdn_event_t *ev, const char *message, cdn_error_t *err);
void cdn_event_free(cdn_event_t *ev);
int cdn_event_dup(const cdn_event_t *ev, cdn_event_t **out, cdn_error_t *err);

/* Replace secrets in every string field (see audit/redact.h). */
int cdn_event_redact(cdn_event_t *ev, cdn_error_t *err);

/* The schema: one JSON object (new reference; NULL on ENOMEM). */
json_t *cdn_event_to_json(const cdn_event_t *ev);
/* Compact JSON and a newline, malloc'd; *len gets its length. */
char *cdn_event_to_line(const cdn_event_t *ev, size_t *len);

int64_t cdn_audit_now_ns(void);
/* RFC 3339 UTC with nanoseconds: "2026-11-27T00:54:01.123456789Z". */
void cdn_audit_format_time(int64_t ns, char out[40]);
/* json_string() that keeps bytes that are not UTF-8 as the text "\xNN". */
json_t *cdn_json_bytes(const char *s);

/* The inverse of cdn_event_to_line() for the kinds a helper reports from
 * inside the sandbox (the seccomp supervisor: fs.violation; later helpers:
 * net.allow, net.deny, policy.warning, error): the supervisor serialises
 * with cdn_event_to_line(), writes the line to the parent over its control
 * channel, and the parent rebuilds the event here and emits it.  Only the
 * kind's own fields and the message are taken (through the constructors,
 * so the same checks apply); the session context is the parent's to stamp.
 * Strict: any other kind, a missing required field or a wrong type fails.
 * Input is untrusted and bounded to 64 kB. */
int cdn_event_from_json(const char *text, size_t len, cdn_event_t **out, cdn_error_t *err);
