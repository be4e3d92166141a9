/* OTLP/HTTP exporter with the JSON encoding.
 *
 * Every event becomes a log record (POST {logs_url}, resourceLogs), every
 * command a span (POST {traces_url}, resourceSpans): the session is the root
 * span, each process.start..process.exit a child span, and network and
 * filesystem decisions are span events of the command that caused them.
 * The session id is the trace id.
 *
 * Exporting runs in one background thread: cdn_otlp_enqueue() only appends
 * to a bounded queue (a full queue drops and counts, it never waits), the
 * thread sends batches and retries 429/502/503/504 and connection failures
 * with exponential backoff (Retry-After honoured), as the OTLP spec asks;
 * other statuses are not retried.  cdn_otlp_stop() waits at most
 * flush_timeout_ms for what is queued, then counts the rest as dropped. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit/event.h"
#include "util/error.h"
#include "util/strv.h"

typedef struct cdn_otlp_config {
    char *logs_url;        /* full URL, NULL = no logs */
    char *traces_url;      /* full URL, NULL = no traces */
    cdn_strv_t headers;    /* "Name: value", ready for HTTP */
    char *service_name;    /* NULL = "cordon" */
    cdn_strv_t resource;   /* "key=value" resource attributes */
    size_t queue_max;      /* events; 0 = 2048 */
    size_t batch_max;      /* log records per request; 0 = 512 */
    int schedule_delay_ms; /* 0 = 1000: how long a partial batch waits */
    int request_timeout_ms;/* 0 = 10000 (OTEL_EXPORTER_OTLP_TIMEOUT) */
    int flush_timeout_ms;  /* 0 = 2000: total wait in cdn_otlp_stop() */
    int backoff_initial_ms;/* 0 = 200 */
    int backoff_max_ms;    /* 0 = 5000 */
    char *warning;         /* set by cdn_otlp_config_from_env() for ignored settings */
    bool force_curl;       /* libcurl even for loopback http:// (CORDON_OTLP_FORCE_CURL=1) */
} cdn_otlp_config_t;

/* Fills cfg from the standard OTEL_* variables.  *enabled is false when no
 * endpoint is set (or OTEL_SDK_DISABLED=true).  A malformed variable is a
 * usage error naming it.  getenv_fn may be NULL (then getenv()). */
int cdn_otlp_config_from_env(cdn_otlp_config_t *cfg, bool *enabled,
                             const char *(*getenv_fn)(const char *name), cdn_error_t *err);
void cdn_otlp_config_free(cdn_otlp_config_t *cfg);

/* Parses "k1=v1,k2=v2" (OTEL_EXPORTER_OTLP_HEADERS / OTEL_RESOURCE_ATTRIBUTES
 * syntax: values percent-decoded, blanks around items trimmed) into out as
 * "k<sep>v" strings.  Strict: an item without '=' or an empty key fails. */
int cdn_otlp_parse_kv_list(const char *s, const char *sep, bool http_header, cdn_strv_t *out,
                           cdn_error_t *err);
/* Retry-After: delta-seconds only; -1 when absent or not a number. */
int cdn_otlp_parse_retry_after(const char *value);

typedef struct cdn_otlp_stats {
    uint64_t events;          /* accepted by cdn_otlp_enqueue() */
    uint64_t queue_dropped;   /* refused because the queue was full */
    uint64_t logs_sent, logs_dropped;
    uint64_t spans_sent, spans_dropped;
    uint64_t requests, retries;
    char last_error[256];
} cdn_otlp_stats_t;

typedef struct cdn_otlp cdn_otlp_t;

int cdn_otlp_start(const cdn_otlp_config_t *cfg, cdn_otlp_t **out, cdn_error_t *err);
/* Takes ownership of ev (freed even when dropped).  Never blocks on the
 * network; false when the queue was full. */
bool cdn_otlp_enqueue(cdn_otlp_t *x, cdn_event_t *ev);
/* Bounded flush, stops the thread, frees x.  stats may be NULL. */
void cdn_otlp_stop(cdn_otlp_t *x, cdn_otlp_stats_t *stats);

/* OTLP JSON builders, exposed for tests and the fuzzer. */
json_t *cdn_otlp_resource(const cdn_otlp_config_t *cfg);
/* One OTLP LogRecord as JSON text (malloc'd), NULL on ENOMEM. */
char *cdn_otlp_log_record(const cdn_event_t *ev);

/* Span bookkeeping: events in, finished OTLP span objects out. */
typedef struct cdn_spans cdn_spans_t;
cdn_spans_t *cdn_spans_new(void);
void cdn_spans_free(cdn_spans_t *s);
/* Appends spans that ev finished to done.  Returns -1 on ENOMEM. */
int cdn_spans_feed(cdn_spans_t *s, const cdn_event_t *ev, json_t *done);
/* Ends every open span at now_ns (status error "not ended") into done. */
int cdn_spans_finish_all(cdn_spans_t *s, int64_t now_ns, json_t *done);
size_t cdn_spans_open_count(const cdn_spans_t *s);
/* Span events that did not fit (per span cap) so far. */
uint64_t cdn_spans_dropped_events(const cdn_spans_t *s);
