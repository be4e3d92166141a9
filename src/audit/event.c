#include "audit/event.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/jsonw.h"
#include "audit/redact.h"
#include "util/cleanup.h"

static const char *const kind_names[CDN_EV__COUNT] = {
    [CDN_EV_SESSION_START] = "session.start",   [CDN_EV_SESSION_END] = "session.end",
    [CDN_EV_PROCESS_START] = "process.start",   [CDN_EV_PROCESS_EXIT] = "process.exit",
    [CDN_EV_NET_ALLOW] = "net.allow",           [CDN_EV_NET_DENY] = "net.deny",
    [CDN_EV_FS_VIOLATION] = "fs.violation",     [CDN_EV_POLICY_WARNING] = "policy.warning",
    [CDN_EV_ERROR] = "error",
};

const char *cdn_event_kind_name(cdn_event_kind_t kind)
{
    return (unsigned)kind < CDN_EV__COUNT ? kind_names[kind] : "unknown";
}

int cdn_event_kind_from_name(const char *name)
{
    for (int i = 0; i < CDN_EV__COUNT; i++)
        if (name && strcmp(name, kind_names[i]) == 0)
            return i;
    return -1;
}

const char *cdn_decision_name(cdn_decision_t d)
{
    switch (d) {
    case CDN_DECISION_ALLOW:
        return "allow";
    case CDN_DECISION_DENY:
        return "deny";
    case CDN_DECISION_OBSERVE:
        break;
    }
    return "observe";
}

int64_t cdn_audit_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void cdn_audit_format_time(int64_t ns, char out[40])
{
    time_t s = (time_t)(ns / 1000000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char date[24];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 40, "%s.%09lldZ", date, (long long)(ns % 1000000000));
}

static int new_event(cdn_event_t **out, cdn_event_kind_t kind, cdn_decision_t d, cdn_error_t *err)
{
    cdn_event_t *ev = calloc(1, sizeof *ev);
    if (!ev)
        return cdn_error(err, ENOMEM, "allocating an audit event");
    ev->kind = kind;
    ev->decision = d;
    ev->time_ns = cdn_audit_now_ns();
    ev->uid = -1;
    ev->exit_code = -1;
    ev->peak_rss_bytes = -1;
    *out = ev;
    return 0;
}

/* strdup that keeps NULL; sets *oom on failure. */
static char *dup_opt(const char *s, bool *oom)
{
    if (!s)
        return NULL;
    char *r = strdup(s);
    if (!r)
        *oom = true;
    return r;
}

static int finish(cdn_event_t **out, cdn_event_t *ev, bool oom, cdn_error_t *err)
{
    if (oom) {
        cdn_event_free(ev);
        *out = NULL;
        return cdn_error(err, ENOMEM, "allocating an audit event");
    }
    *out = ev;
    return 0;
}

int cdn_event_session_start(cdn_event_t **out, cdn_error_t *err)
{
    return new_event(out, CDN_EV_SESSION_START, CDN_DECISION_OBSERVE, err);
}

int cdn_event_session_end(cdn_event_t **out, int exit_code, int signal, int64_t duration_ns,
                          cdn_error_t *err)
{
    if (new_event(out, CDN_EV_SESSION_END, CDN_DECISION_OBSERVE, err) < 0)
        return -1;
    (*out)->exit_code = exit_code;
    (*out)->signal = signal;
    (*out)->duration_ns = duration_ns;
    return 0;
}

static char **dup_argv(const char *const *argv, bool *oom)
{
    size_t n = 0;
    while (argv[n])
        n++;
    char **v = calloc(n + 1, sizeof *v);
    if (!v) {
        *oom = true;
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        v[i] = dup_opt(argv[i], oom);
    return v;
}

static void free_argv(char **v)
{
    if (!v)
        return;
    for (size_t i = 0; v[i]; i++)
        free(v[i]);
    free(v);
}

int cdn_event_process_start(cdn_event_t **out, const char *const *argv, pid_t pid,
                            cdn_error_t *err)
{
    if (!argv || !argv[0])
        return cdn_error_usage(err, "process.start needs the command's argv");
    cdn_event_t *ev = NULL;
    if (new_event(&ev, CDN_EV_PROCESS_START, CDN_DECISION_OBSERVE, err) < 0)
        return -1;
    bool oom = false;
    ev->argv = dup_argv(argv, &oom);
    ev->pid = pid;
    return finish(out, ev, oom, err);
}

static int64_t tv_ns(const struct timeval *tv)
{
    return (int64_t)tv->tv_sec * 1000000000 + (int64_t)tv->tv_usec * 1000;
}

int cdn_event_process_exit(cdn_event_t **out, pid_t pid, int exit_code, int signal,
                           int64_t duration_ns, const struct rusage *ru, cdn_error_t *err)
{
    if (exit_code < 0 && signal <= 0)
        return cdn_error_usage(err, "process.exit needs an exit code or a signal");
    if (new_event(out, CDN_EV_PROCESS_EXIT, CDN_DECISION_OBSERVE, err) < 0)
        return -1;
    cdn_event_t *ev = *out;
    ev->pid = pid;
    ev->exit_code = signal > 0 ? -1 : exit_code;
    ev->signal = signal > 0 ? signal : 0;
    ev->duration_ns = duration_ns;
    if (ru) {
        ev->cpu_user_ns = tv_ns(&ru->ru_utime);
        ev->cpu_sys_ns = tv_ns(&ru->ru_stime);
        ev->peak_rss_bytes = (int64_t)ru->ru_maxrss * 1024; /* Linux: kilobytes */
    }
    return 0;
}

int cdn_event_net(cdn_event_t **out, cdn_decision_t decision, const cdn_net_info_t *net,
                  cdn_error_t *err)
{
    if (decision != CDN_DECISION_ALLOW && decision != CDN_DECISION_DENY)
        return cdn_error_usage(err, "a network event is an allow or a deny");
    if (!net || (!net->host && !net->address))
        return cdn_error_usage(err, "a network event needs a host or an address");
    if (net->port < 0 || net->port > 65535 || !net->protocol)
        return cdn_error_usage(err, "a network event needs a port and a protocol");
    cdn_event_t *ev = NULL;
    if (new_event(&ev, decision == CDN_DECISION_ALLOW ? CDN_EV_NET_ALLOW : CDN_EV_NET_DENY,
                  decision, err) < 0)
        return -1;
    bool oom = false;
    ev->host = dup_opt(net->host, &oom);
    ev->address = dup_opt(net->address, &oom);
    ev->protocol = dup_opt(net->protocol, &oom);
    ev->rule = dup_opt(net->rule, &oom);
    ev->port = net->port;
    ev->bytes_in = net->bytes_in;
    ev->bytes_out = net->bytes_out;
    ev->duration_ns = net->duration_ns;
    return finish(out, ev, oom, err);
}

int cdn_event_fs_violation(cdn_event_t **out, const cdn_fs_info_t *fs, cdn_error_t *err)
{
    if (!fs || !fs->path || !fs->operation)
        return cdn_error_usage(err, "fs.violation needs a path and an operation");
    cdn_event_t *ev = NULL;
    if (new_event(&ev, CDN_EV_FS_VIOLATION, CDN_DECISION_DENY, err) < 0)
        return -1;
    bool oom = false;
    ev->path = dup_opt(fs->path, &oom);
    ev->operation = dup_opt(fs->operation, &oom);
    ev->process_name = dup_opt(fs->process_name, &oom);
    ev->exe = dup_opt(fs->exe, &oom);
    ev->setting = dup_opt(fs->setting, &oom);
    ev->pid = fs->pid;
    ev->errnum = fs->errnum;
    return finish(out, ev, oom, err);
}

int cdn_event_policy_warning(cdn_event_t **out, const char *setting, const char *message,
                             cdn_error_t *err)
{
    if (!message)
        return cdn_error_usage(err, "policy.warning needs a message");
    cdn_event_t *ev = NULL;
    if (new_event(&ev, CDN_EV_POLICY_WARNING, CDN_DECISION_OBSERVE, err) < 0)
        return -1;
    bool oom = false;
    ev->setting = dup_opt(setting, &oom);
    ev->message = dup_opt(message, &oom);
    return finish(out, ev, oom, err);
}

int cdn_event_error(cdn_event_t **out, int errnum, const char *message, cdn_error_t *err)
{
    if (!message)
        return cdn_error_usage(err, "error needs a message");
    cdn_event_t *ev = NULL;
    if (new_event(&ev, CDN_EV_ERROR, CDN_DECISION_OBSERVE, err) < 0)
        return -1;
    bool oom = false;
    ev->errnum = errnum;
    ev->message = dup_opt(message, &oom);
    return finish(out, ev, oom, err);
}

int cdn_event_set_message(cdn_event_t *ev, const char *message, cdn_error_t *err)
{
    char *m = message ? strdup(message) : NULL;
    if (message && !m)
        return cdn_error(err, ENOMEM, "setting an event's message");
    free(ev->message);
    ev->message = m;
    return 0;
}

void cdn_event_free(cdn_event_t *ev)
{
    if (!ev)
        return;
    free(ev->agent_id);
    free(ev->user);
    free(ev->workspace);
    free_argv(ev->argv);
    free(ev->host);
    free(ev->address);
    free(ev->protocol);
    free(ev->rule);
    free(ev->path);
    free(ev->operation);
    free(ev->process_name);
    free(ev->exe);
    free(ev->setting);
    free(ev->message);
    free(ev);
}

int cdn_event_dup(const cdn_event_t *ev, cdn_event_t **out, cdn_error_t *err)
{
    cdn_event_t *c = malloc(sizeof *c);
    if (!c)
        return cdn_error(err, ENOMEM, "copying an audit event");
    *c = *ev;
    bool oom = false;
    c->agent_id = dup_opt(ev->agent_id, &oom);
    c->user = dup_opt(ev->user, &oom);
    c->workspace = dup_opt(ev->workspace, &oom);
    c->argv = ev->argv ? dup_argv((const char *const *)ev->argv, &oom) : NULL;
    c->host = dup_opt(ev->host, &oom);
    c->address = dup_opt(ev->address, &oom);
    c->protocol = dup_opt(ev->protocol, &oom);
    c->rule = dup_opt(ev->rule, &oom);
    c->path = dup_opt(ev->path, &oom);
    c->operation = dup_opt(ev->operation, &oom);
    c->process_name = dup_opt(ev->process_name, &oom);
    c->exe = dup_opt(ev->exe, &oom);
    c->setting = dup_opt(ev->setting, &oom);
    c->message = dup_opt(ev->message, &oom);
    return finish(out, c, oom, err);
}

static int redact_field(char **f)
{
    if (!*f)
        return 0;
    char *r = cdn_redact_text(*f);
    if (!r)
        return -1;
    free(*f);
    *f = r;
    return 0;
}

int cdn_event_redact(cdn_event_t *ev, cdn_error_t *err)
{
    char **fields[] = {
        &ev->agent_id, &ev->user,      &ev->workspace,    &ev->host, &ev->address,
        &ev->protocol, &ev->rule,      &ev->path,         &ev->operation,
        &ev->exe,      &ev->process_name, &ev->setting,   &ev->message,
    };
    for (size_t i = 0; i < CDN_ARRAY_SIZE(fields); i++)
        if (redact_field(fields[i]) < 0)
            return cdn_error(err, ENOMEM, "redacting an audit event");
    return cdn_redact_argv(ev->argv, err);
}

/* Paths and argv are bytes, JSON strings are Unicode: a byte that is not
 * part of valid UTF-8 is written as the four characters \xNN, so nothing is
 * lost silently and the line stays valid JSON. */
json_t *cdn_json_bytes(const char *v)
{
    json_t *j = json_string(v);
    if (j)
        return j;
    size_t n = strlen(v);
    _cleanup_free_ char *s = malloc(4 * n + 1);
    if (!s)
        return NULL;
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)v; *p;) {
        size_t l = cdn_utf8_seq(p);
        if (l) {
            memcpy(s + o, p, l);
            o += l;
            p += l;
        } else {
            o += (size_t)sprintf(s + o, "\\x%02x", *p);
            p++;
        }
    }
    s[o] = '\0';
    return json_string(s);
}

/* The schema lives here, in one writer: cdn_event_to_json() parses what it
 * writes.  Keys are written in a fixed order (people read these lines). */
typedef cdn_jsonw_t w_t;

static void key(w_t *w, bool *first, const char *k)
{
    cdn_jsonw_lit(w, *first ? "\"" : ",\"");
    *first = false;
    cdn_jsonw_lit(w, k); /* keys are constants of this file: nothing to escape */
    cdn_jsonw_lit(w, "\":");
}

static void kv_str(w_t *w, bool *first, const char *k, const char *v)
{
    if (!v)
        return;
    key(w, first, k);
    cdn_jsonw_str(w, v);
}

static void kv_int(w_t *w, bool *first, const char *k, int64_t v)
{
    key(w, first, k);
    cdn_jsonw_int(w, v);
}

static void kv_code(w_t *w, bool *first, const char *k, int code)
{
    key(w, first, k);
    if (code >= 0)
        cdn_jsonw_int(w, code);
    else
        cdn_jsonw_lit(w, "null");
}

static void kv_errno(w_t *w, bool *first, int errnum)
{
    if (!errnum)
        return;
    kv_int(w, first, "errno", errnum);
    kv_str(w, first, "errno_name", strerrorname_np(errnum));
}

static void sub_begin(w_t *w, bool *first, const char *k, bool *sfirst)
{
    key(w, first, k);
    cdn_jsonw_raw(w, "{", 1);
    *sfirst = true;
}

char *cdn_event_to_line(const cdn_event_t *ev, size_t *len)
{
    w_t w = {0};
    bool f = true, sf;
    char when[40];
    cdn_audit_format_time(ev->time_ns, when);
    cdn_jsonw_raw(&w, "{", 1);
    kv_str(&w, &f, "schema", CDN_AUDIT_SCHEMA);
    kv_str(&w, &f, "kind", cdn_event_kind_name(ev->kind));
    kv_str(&w, &f, "decision", cdn_decision_name(ev->decision));
    kv_str(&w, &f, "time", when);
    kv_int(&w, &f, "time_unix_nano", ev->time_ns);
    if (ev->session_id[0])
        kv_str(&w, &f, "session_id", ev->session_id);
    if (ev->span_id[0])
        kv_str(&w, &f, "span_id", ev->span_id);
    if (ev->parent_span_id[0])
        kv_str(&w, &f, "parent_span_id", ev->parent_span_id);
    kv_str(&w, &f, "agent_id", ev->agent_id);
    kv_str(&w, &f, "user", ev->user);
    if (ev->uid >= 0)
        kv_int(&w, &f, "uid", ev->uid);
    kv_str(&w, &f, "workspace", ev->workspace);
    if (ev->policy_digest[0])
        kv_str(&w, &f, "policy_digest", ev->policy_digest);
    kv_str(&w, &f, "tier", ev->tier);

    switch (ev->kind) {
    case CDN_EV_SESSION_END:
        sub_begin(&w, &f, "session", &sf);
        kv_code(&w, &sf, "exit_code", ev->exit_code);
        kv_int(&w, &sf, "signal", ev->signal);
        kv_int(&w, &sf, "duration_ns", ev->duration_ns);
        cdn_jsonw_raw(&w, "}", 1);
        break;
    case CDN_EV_PROCESS_START:
        sub_begin(&w, &f, "process", &sf);
        kv_int(&w, &sf, "pid", ev->pid);
        key(&w, &sf, "argv");
        cdn_jsonw_raw(&w, "[", 1);
        for (size_t i = 0; ev->argv && ev->argv[i]; i++) {
            if (i)
                cdn_jsonw_raw(&w, ",", 1);
            cdn_jsonw_str(&w, ev->argv[i]);
        }
        cdn_jsonw_lit(&w, "]}");
        break;
    case CDN_EV_PROCESS_EXIT:
        sub_begin(&w, &f, "process", &sf);
        kv_int(&w, &sf, "pid", ev->pid);
        kv_code(&w, &sf, "exit_code", ev->exit_code);
        kv_int(&w, &sf, "signal", ev->signal);
        kv_int(&w, &sf, "duration_ns", ev->duration_ns);
        kv_int(&w, &sf, "cpu_user_ns", ev->cpu_user_ns);
        kv_int(&w, &sf, "cpu_sys_ns", ev->cpu_sys_ns);
        if (ev->peak_rss_bytes >= 0)
            kv_int(&w, &sf, "peak_rss_bytes", ev->peak_rss_bytes);
        cdn_jsonw_raw(&w, "}", 1);
        break;
    case CDN_EV_NET_ALLOW:
    case CDN_EV_NET_DENY:
        sub_begin(&w, &f, "net", &sf);
        kv_str(&w, &sf, "host", ev->host);
        kv_str(&w, &sf, "address", ev->address);
        kv_int(&w, &sf, "port", ev->port);
        kv_str(&w, &sf, "protocol", ev->protocol);
        kv_str(&w, &sf, "rule", ev->rule);
        kv_int(&w, &sf, "bytes_in", (int64_t)ev->bytes_in);
        kv_int(&w, &sf, "bytes_out", (int64_t)ev->bytes_out);
        kv_int(&w, &sf, "duration_ns", ev->duration_ns);
        cdn_jsonw_raw(&w, "}", 1);
        break;
    case CDN_EV_FS_VIOLATION:
        sub_begin(&w, &f, "fs", &sf);
        kv_str(&w, &sf, "path", ev->path);
        kv_str(&w, &sf, "operation", ev->operation);
        if (ev->pid > 0)
            kv_int(&w, &sf, "pid", ev->pid);
        kv_str(&w, &sf, "process_name", ev->process_name);
        kv_str(&w, &sf, "exe", ev->exe);
        kv_errno(&w, &sf, ev->errnum);
        kv_str(&w, &sf, "setting", ev->setting);
        cdn_jsonw_raw(&w, "}", 1);
        break;
    case CDN_EV_POLICY_WARNING:
        kv_str(&w, &f, "setting", ev->setting);
        break;
    case CDN_EV_ERROR:
        kv_errno(&w, &f, ev->errnum);
        break;
    case CDN_EV_SESSION_START:
    case CDN_EV__COUNT:
        break;
    }
    kv_str(&w, &f, "message", ev->message);
    cdn_jsonw_lit(&w, "}\n");
    if (w.oom) {
        free(w.s);
        return NULL;
    }
    if (len)
        *len = w.n;
    return w.s;
}

json_t *cdn_event_to_json(const cdn_event_t *ev)
{
    size_t len;
    _cleanup_free_ char *line = cdn_event_to_line(ev, &len);
    return line ? json_loadb(line, len, 0, NULL) : NULL;
}

static const char *opt_str(json_t *o, const char *k, bool *bad)
{
    json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_string(v))
        *bad = true;
    return json_string_value(v);
}

static json_int_t opt_int(json_t *o, const char *k, json_int_t lo, json_int_t hi, bool *bad)
{
    json_t *v = json_object_get(o, k);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        *bad = true;
        return 0;
    }
    return json_integer_value(v);
}

int cdn_event_from_json(const char *text, size_t len, cdn_event_t **out, cdn_error_t *err)
{
    *out = NULL;
    if (len > 65536)
        return cdn_error_usage(err, "audit event too long (%zu bytes)", len);
    json_error_t je;
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        return cdn_error_usage(err, "audit event is not a JSON object: %s", je.text);
    }
    bool bad = false;
    const char *kind = opt_str(o, "kind", &bad), *message = opt_str(o, "message", &bad);
    int k = kind ? cdn_event_kind_from_name(kind) : -1;
    /* kind points into o, which is gone when the errors below are made. */
    char kind_copy[32];
    snprintf(kind_copy, sizeof kind_copy, "%s", kind ? kind : "(none)");
    int rc = -1;
    cdn_event_t *ev = NULL;
    if (k == CDN_EV_FS_VIOLATION) {
        json_t *f = json_object_get(o, "fs");
        cdn_fs_info_t fi = {
            .path = opt_str(f, "path", &bad),
            .operation = opt_str(f, "operation", &bad),
            .pid = (pid_t)opt_int(f, "pid", 0, INT32_MAX, &bad),
            .process_name = opt_str(f, "process_name", &bad),
            .exe = opt_str(f, "exe", &bad),
            .errnum = (int)opt_int(f, "errno", 0, 4095, &bad),
            .setting = opt_str(f, "setting", &bad),
        };
        if (!json_is_object(f) || bad)
            goto out;
        rc = cdn_event_fs_violation(&ev, &fi, err);
    } else if (k == CDN_EV_NET_ALLOW || k == CDN_EV_NET_DENY) {
        json_t *n = json_object_get(o, "net");
        cdn_net_info_t ni = {
            .host = opt_str(n, "host", &bad),
            .address = opt_str(n, "address", &bad),
            .port = (int)opt_int(n, "port", 0, 65535, &bad),
            .protocol = opt_str(n, "protocol", &bad),
            .rule = opt_str(n, "rule", &bad),
            .bytes_in = (uint64_t)opt_int(n, "bytes_in", 0, INT64_MAX, &bad),
            .bytes_out = (uint64_t)opt_int(n, "bytes_out", 0, INT64_MAX, &bad),
            .duration_ns = opt_int(n, "duration_ns", 0, INT64_MAX, &bad),
        };
        if (!json_is_object(n) || bad)
            goto out;
        rc = cdn_event_net(&ev, k == CDN_EV_NET_ALLOW ? CDN_DECISION_ALLOW : CDN_DECISION_DENY,
                           &ni, err);
    } else if (k == CDN_EV_POLICY_WARNING) {
        const char *setting = opt_str(o, "setting", &bad);
        if (bad)
            goto out;
        rc = cdn_event_policy_warning(&ev, setting, message, err);
    } else if (k == CDN_EV_ERROR) {
        int errnum = (int)opt_int(o, "errno", 0, 4095, &bad);
        if (bad)
            goto out;
        rc = cdn_event_error(&ev, errnum, message, err);
    } else {
        json_decref(o);
        return cdn_error_usage(err, "audit event of kind '%s' cannot come from a helper",
                               kind_copy);
    }
    if (rc == 0 && message && k != CDN_EV_POLICY_WARNING && k != CDN_EV_ERROR)
        rc = cdn_event_set_message(ev, message, err);
out:
    json_decref(o);
    if (bad)
        return cdn_error_usage(err, "audit event of kind %s has a field of the wrong type",
                               kind_copy);
    if (rc < 0) {
        cdn_event_free(ev);
        return -1;
    }
    *out = ev;
    return 0;
}
