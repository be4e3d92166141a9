/* The audit facade: what the sandbox, the egress broker and the CLI use.
 *
 *   cdn_audit_t *a;
 *   cdn_audit_config_t cfg = { .jsonl_path = ..., .otlp_from_env = true, ... };
 *   if (cdn_audit_open(&cfg, &a, &err) < 0) ...
 *   cdn_event_t *ev;
 *   if (cdn_event_process_start(&ev, argv, pid, &err) == 0)
 *       cdn_audit_emit(a, ev);              // consumes ev
 *   ...
 *   cdn_audit_close(a, stderr);             // bounded flush + reports
 *
 * Every event gets the session context stamped on it (one 128-bit session
 * id per cdn_audit_t, which is also the OTLP trace id; the root span is the
 * session; process.start opens the command's span, process.exit closes it,
 * and everything emitted in between belongs to it), then secrets are
 * redacted (audit/redact.h), then the sinks see it: the JSON-lines file, the
 * OTLP exporter, and the violations summary printed at close. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "audit/event.h"
#include "audit/otlp.h"
#include "audit/redact.h"
#include "settings/settings.h"
#include "util/error.h"

typedef struct cdn_audit_config {
    const char *jsonl_path;         /* append events here; NULL = no file */
    bool otlp_from_env;             /* export if OTEL_EXPORTER_OTLP_*ENDPOINT is set */
    const cdn_otlp_config_t *otlp;  /* explicit OTLP settings (wins over env); NULL = none */
    bool quiet;                     /* no violations block at close */
    const char *agent_id;           /* NULL = $CORDON_AGENT_ID */
    const char *workspace;
    const char *policy_json;        /* effective policy, for the digest; may be NULL */
    const char *tier;               /* NULL = "os-sandbox" */
    const cdn_ignore_rule_t *ignore;/* srt's ignoreViolations: filters the block only */
    size_t n_ignore;
    int flush_timeout_ms;           /* 0 = 2000: longest wait in cdn_audit_close() */
} cdn_audit_config_t;

typedef struct cdn_audit cdn_audit_t;

int cdn_audit_open(const cdn_audit_config_t *cfg, cdn_audit_t **out, cdn_error_t *err);

/* Thread-safe.  Consumes ev (also when a is NULL, so callers need no
 * "is auditing on" test).  Cheap: the file sink is one locked write, the
 * OTLP sink a queue push; nothing here waits on the network. */
void cdn_audit_emit(cdn_audit_t *a, cdn_event_t *ev);

/* An event serialised by a helper inside the sandbox (the seccomp
 * supervisor writes cdn_event_to_line() to its control channel): rebuilt
 * with cdn_event_from_json() (strict; fs.violation, net.*, policy.warning,
 * error only) and emitted with this session's context. */
int cdn_audit_emit_json(cdn_audit_t *a, const char *line, size_t len, cdn_error_t *err);

/* The session id (32 hex), for the caller's own messages. */
const char *cdn_audit_session_id(const cdn_audit_t *a);

/* Flushes (OTLP: at most flush_timeout_ms), then writes to report (may be
 * NULL): what could not be delivered, and unless quiet the
 * <sandbox_violations> block of the denials the command ran into.  Frees a.
 * Returns how many events some sink could not take (0 = all delivered). */
long cdn_audit_close(cdn_audit_t *a, FILE *report);

/* "sha256:<hex>" of data, via libcrypto's EVP. */
int cdn_audit_digest(const char *data, size_t len, char out[72], cdn_error_t *err);
/* n random bytes as 2n lowercase hex digits, never all zero (OTLP ids). */
int cdn_audit_random_hex(char *out, size_t n_bytes, cdn_error_t *err);
