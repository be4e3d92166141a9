/* A direct JSON writer for the hot path (one OTLP log record per event):
 * building jansson trees costs ~30 us a record, appending text ~3 us. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cdn_jsonw {
    char *s;
    size_t n, cap;
    bool oom; /* sticky: the caller checks once at the end */
} cdn_jsonw_t;

void cdn_jsonw_raw(cdn_jsonw_t *w, const char *s, size_t n);
void cdn_jsonw_lit(cdn_jsonw_t *w, const char *s); /* strlen(s) bytes, unescaped */
/* A JSON string: quotes, escapes, and bytes that are not UTF-8 as the text
 * "\xNN" (as cdn_json_bytes() does). */
void cdn_jsonw_str(cdn_jsonw_t *w, const char *s);
void cdn_jsonw_int(cdn_jsonw_t *w, int64_t v);
/* Length of the valid UTF-8 sequence at p, 0 if invalid. */
size_t cdn_utf8_seq(const unsigned char *p);
