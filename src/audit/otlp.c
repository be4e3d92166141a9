/* The OTLP/HTTP exporter thread.  A loopback http:// collector is spoken to
 * by audit/http.c; anything else goes through libcurl (keep-alive, TLS,
 * proxies and timeouts are its job, not ours), loaded on first use, with
 * one easy handle reused for every request so a session opens one
 * connection. */
#include "audit/otlp.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "audit/dyn.h"
#include "audit/http.h"
#include "util/thread.h"
#include "util/cleanup.h"

#define RESPONSE_MAX (64 * 1024)
/* The thread is woken for the first event of a burst and then every this
 * many: it serialises them while the command runs, in bulk. */
#define WAKE_EVERY 64

/* ---- configuration from the environment ---- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static char *trim_decode(const char *s, size_t n, bool decode)
{
    while (n && isspace((unsigned char)*s))
        s++, n--;
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    char *r = malloc(n + 1), *o = r;
    if (!r)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        int h, l;
        if (decode && s[i] == '%' && i + 2 < n && (h = hexval(s[i + 1])) >= 0 &&
            (l = hexval(s[i + 2])) >= 0) {
            *o++ = (char)(h * 16 + l);
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return r;
}

static bool is_token_char(char c)
{
    return isalnum((unsigned char)c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

int cdn_otlp_parse_kv_list(const char *s, const char *sep, bool http_header, cdn_strv_t *out,
                           cdn_error_t *err)
{
    const char *p = s;
    while (*p) {
        size_t n = strcspn(p, ",");
        const char *eq = memchr(p, '=', n);
        if (!eq) {
            /* Blank items ("a=b,,c=d", trailing comma) are tolerated. */
            for (size_t i = 0; i < n; i++)
                if (!isspace((unsigned char)p[i]))
                    return cdn_error_usage(err, "'%.*s' is not key=value", (int)n, p);
        } else {
            _cleanup_free_ char *k = trim_decode(p, (size_t)(eq - p), false);
            _cleanup_free_ char *v = trim_decode(eq + 1, n - (size_t)(eq - p) - 1, true);
            if (!k || !v)
                return cdn_error(err, ENOMEM, "parsing key=value list");
            if (!*k)
                return cdn_error_usage(err, "empty key in '%.*s'", (int)n, p);
            if (http_header) {
                for (const char *c = k; *c; c++)
                    if (!is_token_char(*c))
                        return cdn_error_usage(err, "'%s' is not a valid HTTP header name", k);
                /* A decoded CR or LF would let a value inject headers. */
                for (const char *c = v; *c; c++)
                    if (*c == '\r' || *c == '\n' || *c == '\0')
                        return cdn_error_usage(err, "header %s has a line break in its value", k);
            }
            if (cdn_strv_addf(out, err, "%s%s%s", k, sep, v) < 0)
                return -1;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

int cdn_otlp_parse_retry_after(const char *value)
{
    if (!value)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    if (!isdigit((unsigned char)*value))
        return -1;
    long v = 0;
    for (; isdigit((unsigned char)*value); value++) {
        v = v * 10 + (*value - '0');
        if (v > 86400)
            return 86400;
    }
    while (*value == ' ' || *value == '\t' || *value == '\r' || *value == '\n')
        value++;
    return *value ? -1 : (int)v;
}

static const char *real_getenv(const char *name)
{
    return getenv(name);
}

static int check_url(const char *var, const char *url, cdn_error_t *err)
{
    if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
        return cdn_error_usage(err, "%s=%s: an OTLP/HTTP endpoint starts with http:// or https://",
                               var, url);
    return 0;
}

static int signal_url(const char *(*get)(const char *), const char *signal_var, const char *path,
                      const char *exporter_var, char **out, cdn_error_t *err)
{
    const char *exporter = get(exporter_var);
    if (exporter && strcmp(exporter, "none") == 0)
        return 0;
    const char *u = get(signal_var);
    if (u && *u) {
        if (check_url(signal_var, u, err) < 0)
            return -1;
        *out = strdup(u);
    } else {
        const char *base = get("OTEL_EXPORTER_OTLP_ENDPOINT");
        if (!base || !*base)
            return 0;
        if (check_url("OTEL_EXPORTER_OTLP_ENDPOINT", base, err) < 0)
            return -1;
        size_t n = strlen(base);
        while (n && base[n - 1] == '/')
            n--;
        if (asprintf(out, "%.*s%s", (int)n, base, path) < 0)
            *out = NULL;
    }
    if (!*out)
        return cdn_error(err, ENOMEM, "OTLP configuration");
    return 0;
}

static int env_int(const char *(*get)(const char *), const char *var, int *out, cdn_error_t *err)
{
    const char *v = get(var);
    if (!v || !*v)
        return 0;
    char *end;
    errno = 0;
    long l = strtol(v, &end, 10);
    if (errno || *end || l < 0 || l > 3600000)
        return cdn_error_usage(err, "%s=%s: expected milliseconds", var, v);
    *out = (int)l;
    return 0;
}

int cdn_otlp_config_from_env(cdn_otlp_config_t *cfg, bool *enabled,
                             const char *(*getenv_fn)(const char *), cdn_error_t *err)
{
    const char *(*get)(const char *) = getenv_fn ? getenv_fn : real_getenv;
    *enabled = false;
    const char *disabled = get("OTEL_SDK_DISABLED");
    if (disabled && strcasecmp(disabled, "true") == 0)
        return 0;
    if (signal_url(get, "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "/v1/logs", "OTEL_LOGS_EXPORTER",
                   &cfg->logs_url, err) < 0 ||
        signal_url(get, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "/v1/traces",
                   "OTEL_TRACES_EXPORTER", &cfg->traces_url, err) < 0)
        return -1;
    const char *h = get("OTEL_EXPORTER_OTLP_HEADERS");
    if (h && cdn_otlp_parse_kv_list(h, ": ", true, &cfg->headers, err) < 0)
        return cdn_error_wrap(err, "OTEL_EXPORTER_OTLP_HEADERS");
    const char *r = get("OTEL_RESOURCE_ATTRIBUTES");
    if (r && cdn_otlp_parse_kv_list(r, "=", false, &cfg->resource, err) < 0)
        return cdn_error_wrap(err, "OTEL_RESOURCE_ATTRIBUTES");
    const char *svc = get("OTEL_SERVICE_NAME");
    if (svc && *svc && !(cfg->service_name = strdup(svc)))
        return cdn_error(err, ENOMEM, "OTLP configuration");
    int qmax = 0, bmax = 0;
    if (env_int(get, "OTEL_EXPORTER_OTLP_TIMEOUT", &cfg->request_timeout_ms, err) < 0 ||
        env_int(get, "OTEL_BLRP_SCHEDULE_DELAY", &cfg->schedule_delay_ms, err) < 0 ||
        env_int(get, "OTEL_BLRP_MAX_QUEUE_SIZE", &qmax, err) < 0 ||
        env_int(get, "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", &bmax, err) < 0)
        return -1;
    cfg->queue_max = (size_t)qmax;
    cfg->batch_max = (size_t)bmax;
    const char *fc = get("CORDON_OTLP_FORCE_CURL");
    cfg->force_curl = fc && strcmp(fc, "1") == 0;
    const char *proto = get("OTEL_EXPORTER_OTLP_PROTOCOL");
    if (proto && *proto && strcmp(proto, "http/json") != 0 &&
        asprintf(&cfg->warning,
                 "OTEL_EXPORTER_OTLP_PROTOCOL=%s is not supported; cordon sends http/json", proto) < 0)
        cfg->warning = NULL;
    *enabled = cfg->logs_url || cfg->traces_url;
    return 0;
}

void cdn_otlp_config_free(cdn_otlp_config_t *cfg)
{
    free(cfg->logs_url);
    free(cfg->traces_url);
    free(cfg->service_name);
    free(cfg->warning);
    cdn_strv_free(&cfg->headers);
    cdn_strv_free(&cfg->resource);
    memset(cfg, 0, sizeof *cfg);
}

/* ---- the exporter ---- */

struct cdn_otlp {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    bool thread_started;

    cdn_event_t **queue; /* ring */
    size_t head, count, cap;
    int64_t oldest_ns;   /* when the oldest queued event arrived (monotonic) */
    bool closing;
    int64_t deadline_ns; /* monotonic, valid once closing */

    /* Owned by the thread after start. */
    char *logs_url, *traces_url;
    cdn_strv_t header_lines;
    /* [0] logs, [1] traces: loopback http:// goes through audit/http.c,
     * the rest through libcurl (loaded only then). */
    bool builtin[2];
    cdn_http_target_t target[2];
    int fd[2];
    char curl_error[160];
    const cdn_curl_api_t *api;
    struct curl_slist *headers;
    json_t *resource;
    char *resource_text;
    cdn_spans_t *spans;
    CURL *curl;
    size_t batch_max;
    int schedule_delay_ms, request_timeout_ms, flush_timeout_ms, backoff_initial_ms,
        backoff_max_ms;

    cdn_otlp_stats_t stats; /* under lock */
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void abs_mono(struct timespec *ts, int64_t ns)
{
    ts->tv_sec = ns / 1000000000;
    ts->tv_nsec = ns % 1000000000;
}

static void note_error(cdn_otlp_t *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note_error(cdn_otlp_t *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&x->lock);
    vsnprintf(x->stats.last_error, sizeof x->stats.last_error, fmt, ap);
    pthread_mutex_unlock(&x->lock);
    va_end(ap);
}

typedef struct {
    char *data;
    size_t n;
    int retry_after; /* seconds, -1 = none */
} response_t;

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    response_t *r = ud;
    size_t n = size * nmemb;
    if (r->n + n > RESPONSE_MAX)
        return n; /* the rest is not needed: keep the connection, drop the bytes */
    char *d = realloc(r->data, r->n + n + 1);
    if (!d)
        return 0;
    memcpy(d + r->n, p, n);
    r->n += n;
    d[r->n] = '\0';
    r->data = d;
    return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    response_t *r = ud;
    size_t n = size * nmemb;
    if (n > 12 && n < 128 && strncasecmp(p, "retry-after:", 12) == 0) {
        char v[128];
        memcpy(v, p + 12, n - 12);
        v[n - 12] = '\0';
        r->retry_after = cdn_otlp_parse_retry_after(v);
    }
    return n;
}

/* A request that was already under way when close began must not outlive
 * the flush deadline: libcurl asks this often during a transfer (about once
 * a second at worst while a server says nothing). */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    cdn_otlp_t *x = ud;
    pthread_mutex_lock(&x->lock);
    bool stop = x->closing && mono_ns() >= x->deadline_ns;
    pthread_mutex_unlock(&x->lock);
    return stop ? 1 : 0;
}

/* Returns how long to wait before the deadline (ns), <= 0 when past it;
 * INT64_MAX when not closing. */
static int64_t time_left(cdn_otlp_t *x)
{
    pthread_mutex_lock(&x->lock);
    int64_t left = x->closing ? x->deadline_ns - mono_ns() : INT64_MAX;
    pthread_mutex_unlock(&x->lock);
    return left;
}

/* Sleeps up to ns, waking early when close is requested (then the caller
 * re-checks the deadline).  Returns false when the deadline forbids it. */
static bool backoff_sleep(cdn_otlp_t *x, int64_t ns)
{
    pthread_mutex_lock(&x->lock);
    int64_t until = mono_ns() + ns;
    bool ok = true;
    for (;;) {
        if (x->closing && until > x->deadline_ns) {
            ok = false;
            break;
        }
        int64_t now = mono_ns();
        if (now >= until)
            break;
        struct timespec ts;
        abs_mono(&ts, until);
        pthread_cond_timedwait(&x->cond, &x->lock, &ts);
    }
    pthread_mutex_unlock(&x->lock);
    return ok;
}

/* POSTs body to url with retries.  Returns how many items the server
 * accepted (n, minus any partialSuccess rejection), 0 if it all failed. */
static bool http_abort(void *ud)
{
    return on_progress(ud, 0, 0, 0, 0) != 0;
}

/* One request by whichever transport the URL uses: status 0 = no answer
 * (why in err), else the HTTP status; *data is the body (to free). */
static long attempt(cdn_otlp_t *x, int sig, const char *url, const char *body, int64_t timeout_ms,
                    char **data, int *retry_after, char *err, size_t errlen)
{
    *data = NULL;
    *retry_after = -1;
    if (x->builtin[sig]) {
        cdn_http_resp_t r;
        cdn_http_post(&x->fd[sig], &x->target[sig], &x->header_lines, body, strlen(body),
                      mono_ns() + timeout_ms * 1000000, http_abort, x, &r);
        *data = r.body;
        *retry_after = r.retry_after;
        if (!r.status)
            snprintf(err, errlen, "%s", r.error);
        return r.status;
    }
    if (!x->curl) {
        snprintf(err, errlen, "%s", x->curl_error);
        return 0;
    }
    response_t resp = {.retry_after = -1};
    x->api->easy_setopt(x->curl, CURLOPT_URL, url);
    x->api->easy_setopt(x->curl, CURLOPT_POSTFIELDS, body);
    x->api->easy_setopt(x->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    x->api->easy_setopt(x->curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    x->api->easy_setopt(x->curl, CURLOPT_CONNECTTIMEOUT_MS,
                        (long)(timeout_ms < 5000 ? timeout_ms : 5000));
    x->api->easy_setopt(x->curl, CURLOPT_WRITEDATA, &resp);
    x->api->easy_setopt(x->curl, CURLOPT_HEADERDATA, &resp);
    CURLcode cc = x->api->easy_perform(x->curl);
    long status = 0;
    if (cc == CURLE_OK)
        x->api->easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
    else
        snprintf(err, errlen, "%s", x->api->easy_strerror(cc));
    *data = resp.data;
    *retry_after = resp.retry_after;
    return status;
}

static uint64_t post(cdn_otlp_t *x, int sig, const char *url, const char *body, uint64_t n,
                     const char *rejected_key)
{
    int64_t backoff_ms = x->backoff_initial_ms;
    /* Outside close, give one batch at most this long before dropping it:
     * a dead collector must not grow the retry chain without end. */
    int64_t give_up = mono_ns() + (int64_t)30 * 1000000000;
    for (int attempt_no = 0;; attempt_no++) {
        int64_t left = time_left(x);
        if (left <= 0) {
            note_error(x, "%s: flush timeout reached", url);
            return 0;
        }
        int64_t timeout_ms = x->request_timeout_ms;
        if (left != INT64_MAX && left / 1000000 < timeout_ms)
            timeout_ms = left / 1000000 > 0 ? left / 1000000 : 1;
        char *data, why[160] = "";
        int retry_after;
        long status = attempt(x, sig, url, body, timeout_ms, &data, &retry_after, why, sizeof why);
        pthread_mutex_lock(&x->lock);
        x->stats.requests++;
        if (attempt_no > 0)
            x->stats.retries++;
        pthread_mutex_unlock(&x->lock);

        if (status >= 200 && status < 300) {
            uint64_t rejected = 0;
            json_t *j = data ? json_loads(data, 0, NULL) : NULL;
            json_t *ps = j ? json_object_get(j, "partialSuccess") : NULL;
            json_t *rj = ps ? json_object_get(ps, rejected_key) : NULL;
            if (json_is_integer(rj) && json_integer_value(rj) > 0)
                rejected = (uint64_t)json_integer_value(rj);
            else if (json_is_string(rj))
                rejected = strtoull(json_string_value(rj), NULL, 10);
            if (rejected) {
                json_t *m = json_object_get(ps, "errorMessage");
                note_error(x, "%s rejected %llu items: %s", url, (unsigned long long)rejected,
                           json_is_string(m) ? json_string_value(m) : "(no message)");
            }
            json_decref(j);
            free(data);
            return rejected > n ? 0 : n - rejected;
        }
        free(data);
        bool retryable = status == 0 || status == 429 || status == 502 || status == 503 ||
                         status == 504;
        if (status == 0)
            note_error(x, "%s: %s", url, why);
        else
            note_error(x, "%s: HTTP %ld", url, status);
        if (!retryable || mono_ns() > give_up)
            return 0;
        int64_t wait_ms;
        if (retry_after >= 0)
            wait_ms = (int64_t)retry_after * 1000;
        else
            wait_ms = backoff_ms / 2 + rand() % (backoff_ms / 2 + 1); /* jitter */
        backoff_ms = backoff_ms * 2 > x->backoff_max_ms ? x->backoff_max_ms : backoff_ms * 2;
        if (!backoff_sleep(x, wait_ms * 1000000)) {
            note_error(x, "%s: flush timeout reached while retrying (last: %s)", url,
                       status == 0 ? why : "HTTP error");
            return 0;
        }
    }
}

/* Log records are serialised as they arrive (the thread works while the
 * command runs, so little is left for the flush at exit) and kept as one
 * comma-separated text until they are sent. */
typedef struct {
    char *s;
    size_t n, cap;
    uint64_t count;
    int64_t oldest_ns; /* monotonic, of the first pending record */
} pending_t;

static bool pending_add(pending_t *p, const char *rec)
{
    size_t l = strlen(rec);
    if (p->n + l + 2 > p->cap) {
        size_t cap = p->cap ? p->cap : 65536;
        while (cap < p->n + l + 2)
            cap *= 2;
        char *ns = realloc(p->s, cap);
        if (!ns)
            return false;
        p->s = ns;
        p->cap = cap;
    }
    if (p->count)
        p->s[p->n++] = ',';
    memcpy(p->s + p->n, rec, l + 1);
    p->n += l;
    if (!p->count)
        p->oldest_ns = mono_ns();
    p->count++;
    return true;
}

static char *request_body(cdn_otlp_t *x, const char *outer, const char *scoped,
                          const char *items_key, const char *items)
{
    /* The resource's text was made once at start: jansson marks objects
     * while dumping them, so two threads must not dump the same one. */
    const char *res = x->resource_text;
    char *body = NULL;
    if (!res ||
        asprintf(&body,
                 "{\"%s\":[{\"resource\":%s,\"%s\":[{\"scope\":{\"name\":\"cordon.audit\","
                 "\"version\":\"%s\"},\"%s\":[%s]}]}]}",
                 outer, res, scoped, CORDON_VERSION, items_key, items) < 0)
        return NULL;
    return body;
}

static void send_logs(cdn_otlp_t *x, pending_t *p)
{
    if (!p->count)
        return;
    uint64_t ok = 0;
    if (x->logs_url) {
        _cleanup_free_ char *body = request_body(x, "resourceLogs", "scopeLogs", "logRecords",
                                                 p->s);
        if (body)
            ok = post(x, 0, x->logs_url, body, p->count, "rejectedLogRecords");
        pthread_mutex_lock(&x->lock);
        x->stats.logs_sent += ok;
        x->stats.logs_dropped += p->count - ok;
        pthread_mutex_unlock(&x->lock);
    }
    p->n = 0;
    p->count = 0;
    if (p->s)
        p->s[0] = '\0';
}

static void send_spans(cdn_otlp_t *x, json_t *spans)
{
    size_t n = json_array_size(spans);
    if (!n || !x->traces_url)
        return;
    uint64_t ok = 0;
    _cleanup_free_ char *items = json_dumps(spans, JSON_COMPACT);
    if (items) {
        items[strlen(items) - 1] = '\0'; /* the array's brackets come from request_body */
        _cleanup_free_ char *body = request_body(x, "resourceSpans", "scopeSpans", "spans",
                                                 items + 1);
        if (body)
            ok = post(x, 1, x->traces_url, body, n, "rejectedSpans");
    }
    pthread_mutex_lock(&x->lock);
    x->stats.spans_sent += ok;
    x->stats.spans_dropped += n - ok;
    pthread_mutex_unlock(&x->lock);
    json_array_clear(spans);
}

typedef struct {
    cdn_otlp_t *x;
    json_t *spans;
} spans_job_t;

static void *spans_thread(void *arg)
{
    spans_job_t *j = arg;
    send_spans(j->x, j->spans);
    return NULL;
}

/* The flush at exit: logs and spans at the same time, each on its own
 * connection, so a short command waits for one round trip, not two.  Only
 * when neither goes through libcurl (one easy handle cannot serve two
 * threads). */
static void send_both(cdn_otlp_t *x, pending_t *p, json_t *spans)
{
    bool parallel = x->builtin[0] && x->builtin[1] && p->count && json_array_size(spans);
    pthread_t t;
    spans_job_t job = {x, spans};
    if (parallel && cdn_thread_create(&t, spans_thread, &job) == 0) {
        send_logs(x, p);
        pthread_join(t, NULL);
        return;
    }
    send_logs(x, p);
    send_spans(x, spans);
}

static void convert(cdn_otlp_t *x, cdn_event_t *ev, pending_t *p, json_t *spans)
{
    if (x->logs_url) {
        char *s = cdn_otlp_log_record(ev);
        if (!s || !pending_add(p, s)) {
            pthread_mutex_lock(&x->lock);
            x->stats.logs_dropped++;
            pthread_mutex_unlock(&x->lock);
        }
        free(s);
    }
    size_t before = json_array_size(spans);
    if (x->traces_url && cdn_spans_feed(x->spans, ev, spans) < 0) {
        pthread_mutex_lock(&x->lock);
        x->stats.spans_dropped++;
        pthread_mutex_unlock(&x->lock);
    }
    if (!p->count && before == 0 && json_array_size(spans) > 0)
        p->oldest_ns = mono_ns(); /* a finished span waits as long as a record */
    if (p->count >= x->batch_max)
        send_logs(x, p);
    if (json_array_size(spans) >= x->batch_max)
        send_spans(x, spans);
}

/* libcurl is loaded and set up here, not in cdn_otlp_start(): its start-up
 * (30 libraries, OpenSSL's configuration) then overlaps the command instead
 * of delaying it, and sessions that do not export never load it. */
static bool curl_setup(cdn_otlp_t *x)
{
    if ((x->builtin[0] || !x->logs_url) && (x->builtin[1] || !x->traces_url))
        return true; /* libcurl not needed: not loaded */
    const char *why = NULL;
    x->api = cdn_curl_api(&why);
    if (!x->api) {
        snprintf(x->curl_error, sizeof x->curl_error, "%s", why);
        note_error(x, "%s", why);
        return false;
    }
    const cdn_curl_api_t *c = x->api;
    struct curl_slist *h = c->slist_append(NULL, "Content-Type: application/json");
    /* curl 7.x sends "Expect: 100-continue" for bodies over 1 kB and waits a
     * round trip (up to a second with some servers) before the body. */
    if (h)
        h = c->slist_append(h, "Expect:") ? h : NULL;
    for (size_t i = 0; h && i < x->header_lines.n; i++)
        if (!c->slist_append(h, x->header_lines.v[i])) {
            c->slist_free_all(h);
            h = NULL;
        }
    x->headers = h;
    x->curl = h ? c->easy_init() : NULL;
    if (!x->curl) {
        snprintf(x->curl_error, sizeof x->curl_error, "libcurl could not be initialised");
        note_error(x, "%s", x->curl_error);
        return false;
    }
    c->easy_setopt(x->curl, CURLOPT_HTTPHEADER, x->headers);
    c->easy_setopt(x->curl, CURLOPT_NOSIGNAL, 1L);
    c->easy_setopt(x->curl, CURLOPT_WRITEFUNCTION, on_body);
    c->easy_setopt(x->curl, CURLOPT_HEADERFUNCTION, on_header);
    c->easy_setopt(x->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    c->easy_setopt(x->curl, CURLOPT_USERAGENT, "cordon/" CORDON_VERSION);
    c->easy_setopt(x->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    c->easy_setopt(x->curl, CURLOPT_XFERINFODATA, x);
    c->easy_setopt(x->curl, CURLOPT_NOPROGRESS, 0L);
    return true;
}

static void *worker(void *arg)
{
    cdn_otlp_t *x = arg;
    pending_t p = {0};
    curl_setup(x);
    json_t *spans = json_array();
    cdn_event_t **taken = calloc(x->cap, sizeof *taken);
    bool oom = !spans || !taken;
    const int64_t delay = (int64_t)x->schedule_delay_ms * 1000000;
    for (;;) {
        pthread_mutex_lock(&x->lock);
        /* Wake-ups are batched: cdn_otlp_enqueue() signals at the first
         * event of a burst and every WAKE_EVERY events, and the thread
         * otherwise sleeps until the oldest queued or pending item is due.
         * A context switch per event would cost more than the event. */
        while (!x->closing && !oom && x->count < WAKE_EVERY) {
            int64_t due = INT64_MAX;
            if (x->count)
                due = x->oldest_ns + delay;
            if ((p.count || json_array_size(spans)) && p.oldest_ns + delay < due)
                due = p.oldest_ns + delay;
            if (due == INT64_MAX) {
                pthread_cond_wait(&x->cond, &x->lock);
                continue;
            }
            if (mono_ns() >= due)
                break;
            struct timespec ts;
            abs_mono(&ts, due);
            pthread_cond_timedwait(&x->cond, &x->lock, &ts);
        }
        bool closing = x->closing, late = closing && mono_ns() >= x->deadline_ns;
        size_t n = 0;
        while (x->count > 0 && !late && !oom) {
            taken[n++] = x->queue[x->head];
            x->head = (x->head + 1) % x->cap;
            x->count--;
        }
        pthread_mutex_unlock(&x->lock);
        if (oom || late)
            break;
        for (size_t i = 0; i < n; i++) {
            convert(x, taken[i], &p, spans);
            cdn_event_free(taken[i]);
        }
        if (closing)
            cdn_spans_finish_all(x->spans, cdn_audit_now_ns(), spans);
        if (closing || ((p.count || json_array_size(spans)) && mono_ns() - p.oldest_ns >= delay)) {
            if (closing)
                send_both(x, &p, spans);
            else {
                send_logs(x, &p);
                send_spans(x, spans);
            }
        }
        if (closing)
            break;
    }
    /* Whatever is still pending was not delivered. */
    pthread_mutex_lock(&x->lock);
    if (x->logs_url)
        x->stats.logs_dropped += p.count;
    if (x->traces_url)
        x->stats.spans_dropped += json_array_size(spans);
    pthread_mutex_unlock(&x->lock);
    json_decref(spans);
    free(p.s);
    free(taken);
    return NULL;
}

int cdn_otlp_start(const cdn_otlp_config_t *cfg, cdn_otlp_t **out, cdn_error_t *err)
{
    cdn_otlp_t *x = calloc(1, sizeof *x);
    if (!x)
        return cdn_error(err, ENOMEM, "starting the OTLP exporter");
    pthread_mutex_init(&x->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&x->cond, &ca);
    pthread_condattr_destroy(&ca);
    x->cap = cfg->queue_max ? cfg->queue_max : 2048;
    x->batch_max = cfg->batch_max ? cfg->batch_max : 512;
    x->schedule_delay_ms = cfg->schedule_delay_ms ? cfg->schedule_delay_ms : 1000;
    x->request_timeout_ms = cfg->request_timeout_ms ? cfg->request_timeout_ms : 10000;
    x->flush_timeout_ms = cfg->flush_timeout_ms ? cfg->flush_timeout_ms : 2000;
    x->backoff_initial_ms = cfg->backoff_initial_ms ? cfg->backoff_initial_ms : 200;
    x->backoff_max_ms = cfg->backoff_max_ms ? cfg->backoff_max_ms : 5000;
    x->queue = calloc(x->cap, sizeof *x->queue);
    x->logs_url = cfg->logs_url ? strdup(cfg->logs_url) : NULL;
    x->traces_url = cfg->traces_url ? strdup(cfg->traces_url) : NULL;
    x->resource = cdn_otlp_resource(cfg);
    x->resource_text = x->resource ? json_dumps(x->resource, JSON_COMPACT) : NULL;
    x->spans = cdn_spans_new();
    bool ok = x->queue && x->resource_text && x->spans &&
              (!cfg->logs_url || x->logs_url) && (!cfg->traces_url || x->traces_url);
    x->fd[0] = x->fd[1] = -1;
    x->builtin[0] = x->logs_url && !cfg->force_curl &&
                    cdn_http_loopback_url(x->logs_url, &x->target[0]);
    x->builtin[1] = x->traces_url && !cfg->force_curl &&
                    cdn_http_loopback_url(x->traces_url, &x->target[1]);
    cdn_error_t herr;
    for (size_t i = 0; ok && i < cfg->headers.n; i++)
        ok = cdn_strv_add(&x->header_lines, cfg->headers.v[i], &herr) == 0;
    if (!ok) {
        cdn_otlp_stop(x, NULL);
        return cdn_error(err, ENOMEM, "starting the OTLP exporter");
    }
    int rc = cdn_thread_create(&x->thread, worker, x);
    if (rc != 0) {
        cdn_otlp_stop(x, NULL);
        return cdn_error(err, rc, "starting the OTLP exporter thread");
    }
    x->thread_started = true;
    *out = x;
    return 0;
}

bool cdn_otlp_enqueue(cdn_otlp_t *x, cdn_event_t *ev)
{
    pthread_mutex_lock(&x->lock);
    if (x->count == x->cap || x->closing) {
        x->stats.queue_dropped++;
        pthread_mutex_unlock(&x->lock);
        cdn_event_free(ev);
        return false;
    }
    if (x->count == 0)
        x->oldest_ns = mono_ns();
    x->queue[(x->head + x->count) % x->cap] = ev;
    x->count++;
    x->stats.events++;
    bool wake = x->count == 1 || x->count % WAKE_EVERY == 0;
    pthread_mutex_unlock(&x->lock);
    if (wake)
        pthread_cond_signal(&x->cond);
    return true;
}

void cdn_otlp_stop(cdn_otlp_t *x, cdn_otlp_stats_t *stats)
{
    if (!x)
        return;
    pthread_mutex_lock(&x->lock);
    x->closing = true;
    x->deadline_ns = mono_ns() + (int64_t)x->flush_timeout_ms * 1000000;
    pthread_cond_broadcast(&x->cond);
    pthread_mutex_unlock(&x->lock);
    if (x->thread_started)
        pthread_join(x->thread, NULL);
    /* What the thread could not take before the deadline. */
    uint64_t left = 0;
    for (; x->count > 0; x->count--) {
        cdn_event_t *ev = x->queue[x->head];
        if (ev->kind == CDN_EV_PROCESS_START || ev->kind == CDN_EV_SESSION_START)
            x->stats.spans_dropped += x->traces_url ? 1 : 0;
        cdn_event_free(ev);
        x->head = (x->head + 1) % x->cap;
        left++;
    }
    if (x->logs_url)
        x->stats.logs_dropped += left;
    if (x->spans && x->traces_url)
        x->stats.spans_dropped += cdn_spans_open_count(x->spans);
    if (stats)
        *stats = x->stats;
    cdn_spans_free(x->spans);
    if (x->api) {
        if (x->curl)
            x->api->easy_cleanup(x->curl);
        x->api->slist_free_all(x->headers);
    }
    cdn_strv_free(&x->header_lines);
    for (int i = 0; i < 2; i++)
        if (x->fd[i] >= 0)
            close(x->fd[i]);
    json_decref(x->resource);
    free(x->resource_text);
    free(x->logs_url);
    free(x->traces_url);
    free(x->queue);
    pthread_cond_destroy(&x->cond);
    pthread_mutex_destroy(&x->lock);
    free(x);
}
