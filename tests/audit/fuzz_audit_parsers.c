/* libFuzzer target for the audit subsystem's own parsers: kernel audit
 * records, redaction, OTEL_* key=value lists, Retry-After. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit/http.h"
#include "audit/jsonw.h"
#include "audit/landlock_audit.h"
#include "audit/otlp.h"
#include "audit/redact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cdn_ll_record_t rec;
    cdn_landlock_audit_parse(CDN_AUDIT_LANDLOCK_ACCESS, (const char *)data, size, &rec);
    if (rec.path[sizeof rec.path - 1] || rec.exe[sizeof rec.exe - 1])
        abort(); /* bounded copies must stay terminated */

    cdn_event_t *ev = NULL;
    cdn_error_t everr;
    if (cdn_event_from_json((const char *)data, size, &ev, &everr) == 0) {
        char *line = cdn_event_to_line(ev, NULL);
        if (!line)
            abort();
        free(line);
        cdn_event_free(ev);
    }

    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    char *r = cdn_redact_text(s);
    /* Redaction never lets a planted-looking value through unchanged after
     * a sensitive key: "password=<v>" must lose <v>. */
    free(r);
    char *argv[3] = {strdup("--password"), strdup(s), NULL};
    cdn_error_t err;
    if (argv[0] && argv[1] && cdn_redact_argv(argv, &err) == 0 && strcmp(argv[1], CDN_REDACTED))
        abort();
    free(argv[0]);
    free(argv[1]);
    cdn_strv_t kv = {0};
    cdn_otlp_parse_kv_list(s, ": ", true, &kv, &err);
    for (size_t i = 0; i < kv.n; i++)
        if (strpbrk(kv.v[i], "\r\n"))
            abort(); /* header injection */
    cdn_strv_free(&kv);
    cdn_otlp_parse_retry_after(s);
    cdn_http_resp_t hr = {0};
    if (cdn_http_parse_head((const char *)data, size, &hr) == 1 &&
        (hr.head_len > size || hr.status < 200 || hr.status > 999))
        abort();
    cdn_http_target_t ht;
    if (cdn_http_loopback_url(s, &ht) && (ht.path[0] != '/' || strpbrk(ht.path, "\r\n ")))
        abort(); /* request-line injection */
    /* The direct JSON writer must always produce JSON that means what
     * jansson's (cdn_json_bytes) means. */
    cdn_jsonw_t w = {0};
    cdn_jsonw_str(&w, s);
    json_t *parsed = w.s ? json_loads(w.s, JSON_DECODE_ANY, NULL) : NULL;
    json_t *ref = cdn_json_bytes(s);
    if (w.s && (!parsed || !ref || strcmp(json_string_value(parsed), json_string_value(ref))))
        abort();
    json_decref(parsed);
    json_decref(ref);
    free(w.s);
    free(s);
    return 0;
}
