#include "audit/audit.h"

#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "audit/dyn.h"
#include "audit/jsonl.h"
#include "audit/report.h"
#include "util/cleanup.h"

struct cdn_audit {
    pthread_mutex_t lock; /* session context and the violations list */
    char session_id[33];
    char root_span[17];
    char command_span[17]; /* empty outside a command */
    char *agent_id, *user, *workspace;
    long long uid;
    char policy_digest[72];
    const char *tier;

    cdn_jsonl_t *jsonl;
    char *jsonl_path;
    unsigned long jsonl_failed;
    char jsonl_error[256];

    cdn_otlp_t *otlp;
    char *otlp_warning;
    char *otlp_target; /* for the drop message */

    cdn_violations_t *violations;
    bool quiet;
    const cdn_ignore_rule_t *ignore; /* borrowed from the config: the settings outlive the session */
    size_t n_ignore;
    unsigned long failed; /* events lost before reaching any sink (ENOMEM) */
};

int cdn_audit_digest(const char *data, size_t len, char out[72], cdn_error_t *err)
{
    const char *why = NULL;
    const cdn_crypto_api_t *c = cdn_crypto_api(&why);
    if (!c)
        return cdn_error(err, 0, "computing the policy digest: %s", why);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (c->digest(data, len, md, &mdlen, c->sha256(), NULL) != 1 || mdlen != 32)
        return cdn_error(err, 0, "computing the policy digest (libcrypto EVP sha256 failed)");
    strcpy(out, "sha256:");
    for (unsigned i = 0; i < mdlen; i++)
        sprintf(out + 7 + 2 * i, "%02x", md[i]);
    return 0;
}

int cdn_audit_random_hex(char *out, size_t n_bytes, cdn_error_t *err)
{
    unsigned char b[32];
    if (n_bytes > sizeof b)
        return cdn_error(err, EINVAL, "random id too long");
    for (;;) {
        size_t got = 0;
        while (got < n_bytes) {
            ssize_t r = getrandom(b + got, n_bytes - got, 0);
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                return cdn_error(err, errno, "getrandom");
            }
            got += (size_t)r;
        }
        bool zero = true;
        for (size_t i = 0; i < n_bytes; i++)
            zero = zero && b[i] == 0;
        if (!zero)
            break;
    }
    for (size_t i = 0; i < n_bytes; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
    return 0;
}

static void audit_free(cdn_audit_t *a)
{
    free(a->agent_id);
    free(a->user);
    free(a->workspace);
    free(a->jsonl_path);
    free(a->otlp_warning);
    free(a->otlp_target);
    cdn_jsonl_close(a->jsonl);
    cdn_violations_free(a->violations);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

static int dup_into(char **dst, const char *src, cdn_error_t *err)
{
    if (!src)
        return 0;
    *dst = strdup(src);
    return *dst ? 0 : cdn_error(err, ENOMEM, "opening the audit session");
}

int cdn_audit_open(const cdn_audit_config_t *cfg, cdn_audit_t **out, cdn_error_t *err)
{
    cdn_audit_t *a = calloc(1, sizeof *a);
    if (!a)
        return cdn_error(err, ENOMEM, "opening the audit session");
    pthread_mutex_init(&a->lock, NULL);
    a->quiet = cfg->quiet;
    a->ignore = cfg->ignore;
    a->n_ignore = cfg->n_ignore;
    a->tier = cfg->tier ? cfg->tier : "os-sandbox";
    a->uid = (long long)getuid();
    struct passwd pw, *pwp = NULL;
    char pwbuf[4096];
    const char *agent = cfg->agent_id ? cfg->agent_id : getenv("CORDON_AGENT_ID");
    if (agent && !*agent)
        agent = NULL;
    int rc = 0;
    if (getpwuid_r(getuid(), &pw, pwbuf, sizeof pwbuf, &pwp) == 0 && pwp)
        rc = dup_into(&a->user, pw.pw_name, err);
    if (rc == 0)
        rc = dup_into(&a->agent_id, agent, err);
    if (rc == 0)
        rc = dup_into(&a->workspace, cfg->workspace, err);
    if (rc == 0)
        rc = cdn_audit_random_hex(a->session_id, 16, err);
    if (rc == 0)
        rc = cdn_audit_random_hex(a->root_span, 8, err);
    if (rc == 0 && !(a->violations = cdn_violations_new()))
        rc = cdn_error(err, ENOMEM, "opening the audit session");
    if (rc == 0 && cfg->jsonl_path) {
        rc = cdn_jsonl_open(cfg->jsonl_path, &a->jsonl, err);
        if (rc == 0)
            rc = dup_into(&a->jsonl_path, cfg->jsonl_path, err);
    }
    if (rc < 0) {
        audit_free(a);
        return -1;
    }

    cdn_otlp_config_t envcfg = {0};
    const cdn_otlp_config_t *ocfg = cfg->otlp;
    if (!ocfg && cfg->otlp_from_env) {
        bool enabled = false;
        if (cdn_otlp_config_from_env(&envcfg, &enabled, NULL, err) < 0) {
            cdn_otlp_config_free(&envcfg);
            audit_free(a);
            return cdn_error_hint(err, "fix or unset the variable; see docs/audit.md");
        }
        if (enabled)
            ocfg = &envcfg;
    }
    /* The digest is for the records; the terminal summary alone does not
     * need it (and then libcrypto is never loaded).  Before the exporter
     * starts: its thread loads libcurl, which needs libcrypto too, and two
     * dlopen() at once only wait for each other. */
    if (cfg->policy_json && (a->jsonl || ocfg) &&
        cdn_audit_digest(cfg->policy_json, strlen(cfg->policy_json), a->policy_digest, err) < 0) {
        cdn_otlp_config_free(&envcfg);
        audit_free(a);
        return -1;
    }
    if (ocfg) {
        cdn_otlp_config_t c = *ocfg;
        if (cfg->flush_timeout_ms)
            c.flush_timeout_ms = cfg->flush_timeout_ms;
        rc = cdn_otlp_start(&c, &a->otlp, err);
        if (rc == 0 && ocfg->warning)
            rc = dup_into(&a->otlp_warning, ocfg->warning, err);
        if (rc == 0)
            rc = dup_into(&a->otlp_target, ocfg->logs_url ? ocfg->logs_url : ocfg->traces_url,
                          err);
    }
    cdn_otlp_config_free(&envcfg);
    if (rc < 0) {
        cdn_otlp_stop(a->otlp, NULL);
        audit_free(a);
        return -1;
    }
    *out = a;
    return 0;
}

const char *cdn_audit_session_id(const cdn_audit_t *a)
{
    return a->session_id;
}

static int set_str(char **dst, const char *src)
{
    if (!src || *dst)
        return 0;
    *dst = strdup(src);
    return *dst ? 0 : -1;
}

/* Session context and span ids; called under a->lock. */
static int stamp(cdn_audit_t *a, cdn_event_t *ev)
{
    memcpy(ev->session_id, a->session_id, sizeof ev->session_id);
    if (set_str(&ev->agent_id, a->agent_id) < 0 || set_str(&ev->user, a->user) < 0 ||
        set_str(&ev->workspace, a->workspace) < 0)
        return -1;
    ev->uid = a->uid;
    memcpy(ev->policy_digest, a->policy_digest, sizeof ev->policy_digest);
    ev->tier = a->tier;
    ev->parent_span_id[0] = '\0';
    switch (ev->kind) {
    case CDN_EV_SESSION_START:
    case CDN_EV_SESSION_END:
        memcpy(ev->span_id, a->root_span, sizeof ev->span_id);
        return 0;
    case CDN_EV_PROCESS_START: {
        cdn_error_t e;
        if (cdn_audit_random_hex(a->command_span, 8, &e) < 0)
            return -1;
        if (cdn_violations_set_command(a->violations, ev->argv) < 0)
            return -1;
        break;
    }
    default:
        break;
    }
    if (a->command_span[0]) {
        memcpy(ev->span_id, a->command_span, sizeof ev->span_id);
        memcpy(ev->parent_span_id, a->root_span, sizeof ev->parent_span_id);
    } else {
        memcpy(ev->span_id, a->root_span, sizeof ev->span_id);
    }
    if (ev->kind == CDN_EV_PROCESS_EXIT)
        a->command_span[0] = '\0';
    return 0;
}

void cdn_audit_emit(cdn_audit_t *a, cdn_event_t *ev)
{
    if (!a || !ev) {
        cdn_event_free(ev);
        return;
    }
    cdn_error_t err;
    pthread_mutex_lock(&a->lock);
    int rc = stamp(a, ev);
    pthread_mutex_unlock(&a->lock);
    /* Redaction before the first sink; an event that cannot be redacted
     * (out of memory) is dropped rather than written with its secrets. */
    if (rc < 0 || cdn_event_redact(ev, &err) < 0) {
        pthread_mutex_lock(&a->lock);
        a->failed++;
        pthread_mutex_unlock(&a->lock);
        cdn_event_free(ev);
        return;
    }
    if (a->jsonl) {
        size_t len;
        _cleanup_free_ char *line = cdn_event_to_line(ev, &len);
        if (!line || cdn_jsonl_write(a->jsonl, line, len, &err) < 0) {
            pthread_mutex_lock(&a->lock);
            if (a->jsonl_failed++ == 0)
                snprintf(a->jsonl_error, sizeof a->jsonl_error, "%s",
                         line ? strerror(err.errnum) : "out of memory");
            pthread_mutex_unlock(&a->lock);
        }
    }
    if (ev->kind == CDN_EV_FS_VIOLATION || ev->kind == CDN_EV_NET_DENY) {
        pthread_mutex_lock(&a->lock);
        if (cdn_violations_add(a->violations, ev) < 0)
            a->failed++;
        pthread_mutex_unlock(&a->lock);
    }
    if (a->otlp)
        cdn_otlp_enqueue(a->otlp, ev); /* takes ev; a full queue is counted there */
    else
        cdn_event_free(ev);
}

int cdn_audit_emit_json(cdn_audit_t *a, const char *line, size_t len, cdn_error_t *err)
{
    cdn_event_t *ev;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (cdn_event_from_json(line, len, &ev, err) < 0)
        return cdn_error_wrap(err, "event from the sandbox");
    cdn_audit_emit(a, ev);
    return 0;
}

long cdn_audit_close(cdn_audit_t *a, FILE *report)
{
    if (!a)
        return 0;
    long lost = (long)a->failed + (long)a->jsonl_failed;
    if (a->otlp) {
        cdn_otlp_stats_t st;
        cdn_otlp_stop(a->otlp, &st);
        a->otlp = NULL;
        uint64_t logs_lost = st.queue_dropped + st.logs_dropped;
        lost += (long)(logs_lost > st.spans_dropped ? logs_lost : st.spans_dropped);
        if (report && a->otlp_warning)
            fprintf(report, "cordon: audit: %s\n", a->otlp_warning);
        if (report && (logs_lost || st.spans_dropped))
            fprintf(report,
                    "cordon: audit: %llu of %llu events and %llu spans could not be delivered "
                    "to %s%s%s%s\n",
                    (unsigned long long)logs_lost,
                    (unsigned long long)(st.events + st.queue_dropped),
                    (unsigned long long)st.spans_dropped, a->otlp_target,
                    st.last_error[0] ? " (last error: " : "", st.last_error,
                    st.last_error[0] ? ")" : "");
    }
    if (report && a->jsonl_failed)
        fprintf(report, "cordon: audit: %lu events could not be written to %s: %s\n",
                a->jsonl_failed, a->jsonl_path, a->jsonl_error);
    if (report && a->failed)
        fprintf(report, "cordon: audit: %lu events were lost (out of memory)\n", a->failed);
    if (report && !a->quiet)
        cdn_violations_print(a->violations, report, a->ignore, a->n_ignore);
    if (report)
        fflush(report);
    audit_free(a);
    return lost;
}
