#include "util/error.h"

#include <string.h>

__attribute__((format(printf, 3, 0))) static void vset(cdn_error_t *err, int errnum,
                                                    const char *fmt, va_list ap)
{
    err->errnum = errnum;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    err->hint[0] = '\0';
}

int cdn_error(cdn_error_t *err, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, errnum, fmt, ap);
    va_end(ap);
    err->status = CDN_EXIT_FAILURE;
    return -1;
}

int cdn_error_usage(cdn_error_t *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, 0, fmt, ap);
    va_end(ap);
    err->status = CDN_EXIT_USAGE;
    return -1;
}

int cdn_error_wrap(cdn_error_t *err, const char *fmt, ...)
{
    char prefix[512], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old);
    return -1;
}

int cdn_error_hint(cdn_error_t *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->hint, sizeof err->hint, fmt, ap);
    va_end(ap);
    return -1;
}

void cdn_error_clear(cdn_error_t *err)
{
    memset(err, 0, sizeof *err);
}

void cdn_error_print(const cdn_error_t *err, FILE *stream)
{
    if (err->errnum)
        fprintf(stream, "cordon: %s: %s\n", err->msg, strerror(err->errnum));
    else
        fprintf(stream, "cordon: %s\n", err->msg);
    if (err->hint[0])
        fprintf(stream, "  fix: %s\n", err->hint);
}
