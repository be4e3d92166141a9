#include "util/strv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cdn_strv_take(cdn_strv_t *sv, char *s, cdn_error_t *err)
{
    if (!s)
        return cdn_error(err, ENOMEM, "out of memory");
    if (sv->n + 2 > sv->cap) {
        size_t cap = sv->cap ? sv->cap * 2 : 8;
        char **v = realloc(sv->v, cap * sizeof *v);
        if (!v) {
            free(s);
            return cdn_error(err, ENOMEM, "out of memory");
        }
        sv->v = v;
        sv->cap = cap;
    }
    sv->v[sv->n++] = s;
    sv->v[sv->n] = NULL;
    return 0;
}

int cdn_strv_add(cdn_strv_t *sv, const char *s, cdn_error_t *err)
{
    return cdn_strv_take(sv, strdup(s), err);
}

int cdn_strv_addf(cdn_strv_t *sv, cdn_error_t *err, const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    int r = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (r < 0)
        return cdn_error(err, ENOMEM, "out of memory");
    return cdn_strv_take(sv, s, err);
}

bool cdn_strv_contains(const cdn_strv_t *sv, const char *s)
{
    for (size_t i = 0; i < sv->n; i++)
        if (strcmp(sv->v[i], s) == 0)
            return true;
    return false;
}

void cdn_strv_free(cdn_strv_t *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    sv->v = NULL;
    sv->n = sv->cap = 0;
}
