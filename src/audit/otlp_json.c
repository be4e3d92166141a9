/* Events to the OTLP JSON mapping (opentelemetry-proto, JSON Protobuf
 * encoding): trace and span ids are lowercase hex (not base64), 64-bit
 * integers, including every *UnixNano, are decimal strings, enums are
 * numbers, attribute values are AnyValue objects ({"stringValue": ...},
 * {"intValue": "..."}, {"arrayValue": {"values": [...]}}).  Attribute names
 * follow the semantic conventions where one exists; cordon's own are under
 * "cordon.". */
#include "audit/otlp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/jsonw.h"
#include "util/cleanup.h"

/* OTLP SeverityNumber */
enum { SEV_INFO = 9, SEV_WARN = 13, SEV_ERROR = 17 };
/* Span.SpanKind / Status.StatusCode */
enum { SPAN_KIND_INTERNAL = 1, STATUS_UNSET = 0, STATUS_ERROR = 2 };
/* Each span keeps at most this many events: a command that makes 100,000
 * denied connections must not grow one span without bound. */
#define MAX_SPAN_EVENTS 128
#define MAX_OPEN_SPANS 64

static json_t *ns_string(int64_t ns)
{
    char b[24];
    snprintf(b, sizeof b, "%lld", (long long)ns);
    return json_string(b);
}

/* Attributes go either into a jansson array (spans, the resource) or
 * straight into text (log records, the hot path). */
typedef struct {
    json_t *arr;
    cdn_jsonw_t *w;
    size_t count;
} attrs_t;

static void push(json_t *arr, const char *key, json_t *value, bool *oom)
{
    json_t *kv = value ? json_pack("{s:s, s:o}", "key", key, "value", value) : NULL;
    if (!kv || json_array_append_new(arr, kv) < 0)
        *oom = true;
}

static void w_key(attrs_t *a, const char *key)
{
    if (a->count++)
        cdn_jsonw_raw(a->w, ",", 1);
    cdn_jsonw_lit(a->w, "{\"key\":");
    cdn_jsonw_str(a->w, key);
    cdn_jsonw_lit(a->w, ",\"value\":");
}

static void attr_str(attrs_t *a, const char *key, const char *v, bool *oom)
{
    if (!v)
        return;
    if (a->w) {
        w_key(a, key);
        cdn_jsonw_lit(a->w, "{\"stringValue\":");
        cdn_jsonw_str(a->w, v);
        cdn_jsonw_lit(a->w, "}}");
        return;
    }
    json_t *s = cdn_json_bytes(v);
    push(a->arr, key, s ? json_pack("{s:o}", "stringValue", s) : NULL, oom);
}

static void attr_int(attrs_t *a, const char *key, int64_t v, bool *oom)
{
    if (a->w) {
        w_key(a, key);
        cdn_jsonw_lit(a->w, "{\"intValue\":\"");
        cdn_jsonw_int(a->w, v);
        cdn_jsonw_lit(a->w, "\"}}");
        return;
    }
    json_t *s = ns_string(v);
    push(a->arr, key, s ? json_pack("{s:o}", "intValue", s) : NULL, oom);
}

static void attr_strv(attrs_t *a, const char *key, char *const *v, bool *oom)
{
    if (a->w) {
        w_key(a, key);
        cdn_jsonw_lit(a->w, "{\"arrayValue\":{\"values\":[");
        for (size_t i = 0; v && v[i]; i++) {
            cdn_jsonw_lit(a->w, i ? ",{\"stringValue\":" : "{\"stringValue\":");
            cdn_jsonw_str(a->w, v[i]);
            cdn_jsonw_raw(a->w, "}", 1);
        }
        cdn_jsonw_lit(a->w, "]}}}");
        return;
    }
    json_t *vals = json_array();
    for (size_t i = 0; vals && v && v[i]; i++) {
        json_t *s = cdn_json_bytes(v[i]);
        json_t *any = s ? json_pack("{s:o}", "stringValue", s) : NULL;
        if (!any || json_array_append_new(vals, any) < 0)
            *oom = true;
    }
    push(a->arr, key, vals ? json_pack("{s:{s:o}}", "arrayValue", "values", vals) : NULL, oom);
}

json_t *cdn_otlp_resource(const cdn_otlp_config_t *cfg)
{
    bool oom = false;
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    attrs_t attrs_ = {.arr = arr}, *attrs = &attrs_;
    /* OTEL_SERVICE_NAME wins over service.name in OTEL_RESOURCE_ATTRIBUTES. */
    const char *service = cfg->service_name;
    for (size_t i = 0; i < cfg->resource.n; i++) {
        const char *eq = strchr(cfg->resource.v[i], '=');
        if (!eq)
            continue;
        size_t kl = (size_t)(eq - cfg->resource.v[i]);
        _cleanup_free_ char *k = strndup(cfg->resource.v[i], kl);
        if (!k) {
            oom = true;
            break;
        }
        if (strcmp(k, "service.name") == 0) {
            if (!service)
                service = eq + 1;
            continue;
        }
        attr_str(attrs, k, eq + 1, &oom);
    }
    attr_str(attrs, "service.name", service ? service : "cordon", &oom);
    attr_str(attrs, "service.version", CORDON_VERSION, &oom);
    attr_str(attrs, "telemetry.sdk.name", "cordon", &oom);
    attr_str(attrs, "telemetry.sdk.language", "c", &oom);
    char host[256];
    if (gethostname(host, sizeof host) == 0) {
        host[sizeof host - 1] = '\0';
        attr_str(attrs, "host.name", host, &oom);
    }
    attr_int(attrs, "process.pid", getpid(), &oom);
    json_t *r = json_pack("{s:o}", "attributes", arr);
    if (!r || oom) {
        json_decref(r);
        return NULL;
    }
    return r;
}

static void common_attrs(attrs_t *a, const cdn_event_t *ev, bool *oom)
{
    char name[64];
    snprintf(name, sizeof name, "cordon.%s", cdn_event_kind_name(ev->kind));
    attr_str(a, "event.name", name, oom);
    attr_str(a, "cordon.decision", cdn_decision_name(ev->decision), oom);
    if (ev->session_id[0])
        attr_str(a, "session.id", ev->session_id, oom);
    attr_str(a, "gen_ai.agent.id", ev->agent_id, oom);
    attr_str(a, "user.name", ev->user, oom);
    if (ev->uid >= 0) {
        char uid[24];
        snprintf(uid, sizeof uid, "%lld", ev->uid);
        attr_str(a, "user.id", uid, oom);
    }
    attr_str(a, "cordon.workspace", ev->workspace, oom);
    if (ev->policy_digest[0])
        attr_str(a, "cordon.policy.digest", ev->policy_digest, oom);
    attr_str(a, "cordon.tier", ev->tier, oom);
}

/* The attributes specific to the kind: shared by log records and span
 * events. */
static void kind_attrs(attrs_t *a, const cdn_event_t *ev, bool on_span, bool *oom)
{
    switch (ev->kind) {
    case CDN_EV_PROCESS_START:
        attr_strv(a, "process.command_args", ev->argv, oom);
        if (ev->argv && ev->argv[0])
            attr_str(a, "process.executable.path", ev->argv[0], oom);
        if (ev->pid > 0)
            attr_int(a, "process.pid", ev->pid, oom);
        break;
    case CDN_EV_PROCESS_EXIT:
    case CDN_EV_SESSION_END:
        /* On a span, process.start already set process.pid. */
        if (ev->pid > 0 && !on_span)
            attr_int(a, "process.pid", ev->pid, oom);
        if (ev->exit_code >= 0)
            attr_int(a, "process.exit.code", ev->exit_code, oom);
        if (ev->signal > 0)
            attr_int(a, "cordon.process.signal", ev->signal, oom);
        attr_int(a, "cordon.duration_ns", ev->duration_ns, oom);
        if (ev->kind == CDN_EV_PROCESS_EXIT) {
            attr_int(a, "cordon.process.cpu.user_ns", ev->cpu_user_ns, oom);
            attr_int(a, "cordon.process.cpu.system_ns", ev->cpu_sys_ns, oom);
            if (ev->peak_rss_bytes >= 0)
                attr_int(a, "cordon.process.memory.peak_rss", ev->peak_rss_bytes, oom);
        }
        break;
    case CDN_EV_NET_ALLOW:
    case CDN_EV_NET_DENY:
        attr_str(a, "server.address", ev->host ? ev->host : ev->address, oom);
        attr_int(a, "server.port", ev->port, oom);
        attr_str(a, "network.peer.address", ev->address, oom);
        attr_str(a, "network.transport", ev->protocol, oom);
        attr_str(a, "cordon.net.rule", ev->rule, oom);
        attr_int(a, "cordon.net.bytes_in", (int64_t)ev->bytes_in, oom);
        attr_int(a, "cordon.net.bytes_out", (int64_t)ev->bytes_out, oom);
        attr_int(a, "cordon.duration_ns", ev->duration_ns, oom);
        break;
    case CDN_EV_FS_VIOLATION:
        attr_str(a, "file.path", ev->path, oom);
        attr_str(a, "cordon.fs.operation", ev->operation, oom);
        if (ev->pid > 0)
            attr_int(a, "process.pid", ev->pid, oom);
        attr_str(a, "process.executable.name", ev->process_name, oom);
        attr_str(a, "process.executable.path", ev->exe, oom);
        if (ev->errnum) {
            const char *n = strerrorname_np(ev->errnum);
            attr_str(a, "error.type", n ? n : "errno", oom);
        }
        attr_str(a, "cordon.fs.setting", ev->setting, oom);
        break;
    case CDN_EV_POLICY_WARNING:
        attr_str(a, "cordon.setting", ev->setting, oom);
        break;
    case CDN_EV_ERROR:
        if (ev->errnum) {
            const char *n = strerrorname_np(ev->errnum);
            attr_str(a, "error.type", n ? n : "errno", oom);
        }
        break;
    case CDN_EV_SESSION_START:
    case CDN_EV__COUNT:
        break;
    }
}

static char *summary(const cdn_event_t *ev)
{
    char *s = NULL;
    int r = -1;
    switch (ev->kind) {
    case CDN_EV_NET_ALLOW:
    case CDN_EV_NET_DENY:
        r = asprintf(&s, "%s %s:%d/%s", cdn_event_kind_name(ev->kind),
                     ev->host ? ev->host : ev->address, ev->port, ev->protocol);
        break;
    case CDN_EV_FS_VIOLATION:
        r = asprintf(&s, "fs.violation %s %s", ev->operation, ev->path);
        break;
    case CDN_EV_PROCESS_EXIT:
        r = ev->signal ? asprintf(&s, "process.exit pid %d signal %d", ev->pid, ev->signal)
                       : asprintf(&s, "process.exit pid %d status %d", ev->pid, ev->exit_code);
        break;
    default:
        r = asprintf(&s, "%s", cdn_event_kind_name(ev->kind));
        break;
    }
    return r < 0 ? NULL : s;
}

static int severity(const cdn_event_t *ev, const char **text)
{
    if (ev->kind == CDN_EV_ERROR) {
        *text = "ERROR";
        return SEV_ERROR;
    }
    if (ev->decision == CDN_DECISION_DENY || ev->kind == CDN_EV_POLICY_WARNING) {
        *text = "WARN";
        return SEV_WARN;
    }
    *text = "INFO";
    return SEV_INFO;
}

char *cdn_otlp_log_record(const cdn_event_t *ev)
{
    bool oom = false;
    cdn_jsonw_t w = {0};
    const char *sevtext;
    int sev = severity(ev, &sevtext);
    _cleanup_free_ char *sum = ev->message ? NULL : summary(ev);
    cdn_jsonw_lit(&w, "{\"timeUnixNano\":\"");
    cdn_jsonw_int(&w, ev->time_ns);
    cdn_jsonw_lit(&w, "\",\"observedTimeUnixNano\":\"");
    cdn_jsonw_int(&w, ev->time_ns);
    cdn_jsonw_lit(&w, "\",\"severityNumber\":");
    cdn_jsonw_int(&w, sev);
    cdn_jsonw_lit(&w, ",\"severityText\":");
    cdn_jsonw_str(&w, sevtext);
    cdn_jsonw_lit(&w, ",\"body\":{\"stringValue\":");
    cdn_jsonw_str(&w, ev->message ? ev->message : sum ? sum : "");
    cdn_jsonw_lit(&w, "},\"eventName\":\"cordon.");
    cdn_jsonw_lit(&w, cdn_event_kind_name(ev->kind));
    cdn_jsonw_lit(&w, "\"");
    if (ev->session_id[0] && ev->span_id[0]) {
        /* Both are hex digits made by cordon: nothing to escape. */
        cdn_jsonw_lit(&w, ",\"traceId\":\"");
        cdn_jsonw_lit(&w, ev->session_id);
        cdn_jsonw_lit(&w, "\",\"spanId\":\"");
        cdn_jsonw_lit(&w, ev->span_id);
        cdn_jsonw_lit(&w, "\"");
    }
    cdn_jsonw_lit(&w, ",\"attributes\":[");
    attrs_t a = {.w = &w};
    common_attrs(&a, ev, &oom);
    kind_attrs(&a, ev, false, &oom);
    cdn_jsonw_lit(&w, "]}");
    if (oom || w.oom) {
        free(w.s);
        return NULL;
    }
    return w.s;
}

typedef struct open_span {
    char trace_id[33], span_id[17], parent[17];
    char *name;
    int64_t start_ns;
    json_t *attrs;
    json_t *events;
    uint32_t dropped_events;
} open_span_t;

struct cdn_spans {
    open_span_t spans[MAX_OPEN_SPANS];
    size_t n;
    uint64_t dropped_events;
};

cdn_spans_t *cdn_spans_new(void)
{
    return calloc(1, sizeof(cdn_spans_t));
}

static void span_clear(open_span_t *sp)
{
    free(sp->name);
    json_decref(sp->attrs);
    json_decref(sp->events);
    memset(sp, 0, sizeof *sp);
}

void cdn_spans_free(cdn_spans_t *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        span_clear(&s->spans[i]);
    free(s);
}

size_t cdn_spans_open_count(const cdn_spans_t *s)
{
    return s->n;
}

uint64_t cdn_spans_dropped_events(const cdn_spans_t *s)
{
    return s->dropped_events;
}

static open_span_t *find(cdn_spans_t *s, const char *span_id)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->spans[i].span_id, span_id) == 0)
            return &s->spans[i];
    return NULL;
}

static int open_span(cdn_spans_t *s, const cdn_event_t *ev, const char *name)
{
    if (s->n == MAX_OPEN_SPANS || !ev->span_id[0] || find(s, ev->span_id))
        return 0;
    open_span_t *sp = &s->spans[s->n];
    bool oom = false;
    memcpy(sp->trace_id, ev->session_id, sizeof sp->trace_id);
    memcpy(sp->span_id, ev->span_id, sizeof sp->span_id);
    memcpy(sp->parent, ev->parent_span_id, sizeof sp->parent);
    sp->name = strdup(name);
    sp->start_ns = ev->time_ns;
    sp->attrs = json_array();
    sp->events = json_array();
    if (!sp->name || !sp->attrs || !sp->events) {
        span_clear(sp);
        return -1;
    }
    attrs_t a = {.arr = sp->attrs};
    if (ev->kind == CDN_EV_SESSION_START)
        common_attrs(&a, ev, &oom);
    else
        kind_attrs(&a, ev, false, &oom);
    if (oom) {
        span_clear(sp);
        return -1;
    }
    s->n++;
    return 0;
}

static int close_span(cdn_spans_t *s, open_span_t *sp, int64_t end_ns, int status,
                      const char *status_msg, json_t *done)
{
    json_t *st = json_pack("{s:i}", "code", status);
    if (st && status_msg)
        json_object_set_new(st, "message", json_string(status_msg));
    json_t *span = json_pack("{s:s, s:s, s:s, s:i, s:o, s:o, s:O, s:O, s:i, s:o}",
                             "traceId", sp->trace_id, "spanId", sp->span_id, "name", sp->name,
                             "kind", SPAN_KIND_INTERNAL,
                             "startTimeUnixNano", ns_string(sp->start_ns),
                             "endTimeUnixNano", ns_string(end_ns < sp->start_ns ? sp->start_ns : end_ns),
                             "attributes", sp->attrs, "events", sp->events,
                             "droppedEventsCount", (int)sp->dropped_events,
                             "status", st);
    int rc = 0;
    if (span && sp->parent[0] && json_object_set_new(span, "parentSpanId", json_string(sp->parent)) < 0)
        rc = -1;
    if (!span || json_array_append_new(done, span) < 0)
        rc = -1;
    size_t i = (size_t)(sp - s->spans);
    span_clear(sp);
    memmove(&s->spans[i], &s->spans[i + 1], (s->n - i - 1) * sizeof *sp);
    s->n--;
    memset(&s->spans[s->n], 0, sizeof *sp);
    return rc;
}

static int add_span_event(cdn_spans_t *s, const cdn_event_t *ev)
{
    open_span_t *sp = find(s, ev->span_id);
    if (!sp && ev->parent_span_id[0])
        sp = find(s, ev->parent_span_id);
    if (!sp)
        return 0;
    if (json_array_size(sp->events) >= MAX_SPAN_EVENTS) {
        sp->dropped_events++;
        s->dropped_events++;
        return 0;
    }
    bool oom = false;
    json_t *attrs = json_array();
    if (!attrs)
        return -1;
    attrs_t a = {.arr = attrs};
    attr_str(&a, "cordon.decision", cdn_decision_name(ev->decision), &oom);
    kind_attrs(&a, ev, false, &oom);
    attr_str(&a, "cordon.message", ev->message, &oom);
    char name[64];
    snprintf(name, sizeof name, "cordon.%s", cdn_event_kind_name(ev->kind));
    json_t *e = json_pack("{s:o, s:s, s:o}", "timeUnixNano", ns_string(ev->time_ns), "name",
                          name, "attributes", attrs);
    if (!e || oom || json_array_append_new(sp->events, e) < 0) {
        json_decref(e);
        return -1;
    }
    return 0;
}

int cdn_spans_feed(cdn_spans_t *s, const cdn_event_t *ev, json_t *done)
{
    open_span_t *sp;
    char name[160];
    switch (ev->kind) {
    case CDN_EV_SESSION_START:
        return open_span(s, ev, "cordon session");
    case CDN_EV_PROCESS_START: {
        const char *base = ev->argv && ev->argv[0] ? strrchr(ev->argv[0], '/') : NULL;
        base = base ? base + 1 : ev->argv && ev->argv[0] ? ev->argv[0] : "?";
        snprintf(name, sizeof name, "run %s", base);
        return open_span(s, ev, name);
    }
    case CDN_EV_PROCESS_EXIT:
    case CDN_EV_SESSION_END:
        sp = find(s, ev->span_id);
        if (!sp)
            return 0;
        {
            bool oom = false;
            attrs_t a = {.arr = sp->attrs};
            kind_attrs(&a, ev, true, &oom);
            if (oom)
                return -1;
        }
        if (ev->signal > 0) {
            snprintf(name, sizeof name, "killed by signal %d", ev->signal);
            return close_span(s, sp, ev->time_ns, STATUS_ERROR, name, done);
        }
        if (ev->exit_code > 0) {
            snprintf(name, sizeof name, "exit status %d", ev->exit_code);
            return close_span(s, sp, ev->time_ns, STATUS_ERROR, name, done);
        }
        return close_span(s, sp, ev->time_ns, STATUS_UNSET, NULL, done);
    case CDN_EV_NET_ALLOW:
    case CDN_EV_NET_DENY:
    case CDN_EV_FS_VIOLATION:
    case CDN_EV_POLICY_WARNING:
    case CDN_EV_ERROR:
        return add_span_event(s, ev);
    case CDN_EV__COUNT:
        break;
    }
    return 0;
}

int cdn_spans_finish_all(cdn_spans_t *s, int64_t now_ns, json_t *done)
{
    int rc = 0;
    /* Children first: they were opened after their parents. */
    while (s->n > 0)
        if (close_span(s, &s->spans[s->n - 1], now_ns, STATUS_ERROR, "not ended", done) < 0)
            rc = -1;
    return rc;
}
