#include "audit/jsonw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t cdn_utf8_seq(const unsigned char *p)
{
    unsigned c = p[0];
    size_t n;
    unsigned min, cp;
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0)
        n = 2, min = 0x80, cp = c & 0x1f;
    else if ((c & 0xf0) == 0xe0)
        n = 3, min = 0x800, cp = c & 0x0f;
    else if ((c & 0xf8) == 0xf0)
        n = 4, min = 0x10000, cp = c & 0x07;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

static bool grow(cdn_jsonw_t *w, size_t more)
{
    if (w->oom)
        return false;
    if (w->n + more + 1 <= w->cap)
        return true;
    size_t cap = w->cap ? w->cap : 1024;
    while (cap < w->n + more + 1)
        cap *= 2;
    char *s = realloc(w->s, cap);
    if (!s) {
        w->oom = true;
        return false;
    }
    w->s = s;
    w->cap = cap;
    return true;
}

void cdn_jsonw_raw(cdn_jsonw_t *w, const char *s, size_t n)
{
    if (!grow(w, n))
        return;
    memcpy(w->s + w->n, s, n);
    w->n += n;
    w->s[w->n] = '\0';
}

void cdn_jsonw_lit(cdn_jsonw_t *w, const char *s)
{
    cdn_jsonw_raw(w, s, strlen(s));
}

void cdn_jsonw_str(cdn_jsonw_t *w, const char *s)
{
    /* Worst case 6 output bytes per input byte ("\u00XX"). */
    size_t len = strlen(s);
    if (!grow(w, 6 * len + 2))
        return;
    char *o = w->s + w->n;
    *o++ = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
            p++;
        } else if (c < 0x20 || c == 0x7f) {
            o += sprintf(o, "\\u%04x", c);
            p++;
        } else if (c < 0x80) {
            *o++ = (char)c;
            p++;
        } else {
            size_t l = cdn_utf8_seq(p);
            if (l) {
                memcpy(o, p, l);
                o += l;
                p += l;
            } else {
                o += sprintf(o, "\\\\x%02x", c);
                p++;
            }
        }
    }
    *o++ = '"';
    *o = '\0';
    w->n = (size_t)(o - w->s);
}

void cdn_jsonw_int(cdn_jsonw_t *w, int64_t v)
{
    char b[24];
    int n = snprintf(b, sizeof b, "%lld", (long long)v);
    cdn_jsonw_raw(w, b, (size_t)n);
}
