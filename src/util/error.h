/* One error idiom for all of cordon (after crun's libcrun_error_t): every
 * fallible function takes `cdn_error_t *err` last and returns a negative value
 * on failure after filling *err; callers add context with cdn_error_wrap()
 * on the way up, and only the CLI prints.  An error is a message, the errno
 * that caused it (0 if none), and an exit status class. */
#pragma once

#include <stdarg.h>
#include <stdio.h>

enum cdn_status {
    CDN_EXIT_OK = 0,
    CDN_EXIT_FAILURE = 125, /* cordon itself failed: nothing ran (like docker/podman) */
    CDN_EXIT_USAGE = 2,     /* bad command line or bad settings: nothing ran */
};

typedef struct cdn_error_s {
    int errnum;          /* errno of the root cause, or 0 */
    int status;          /* process exit status the CLI should use */
    char msg[1024];      /* "context: context: cause" */
    char hint[512];      /* how to fix it, may be empty */
} cdn_error_t;

/* All return -1 so that `return cdn_error(err, ...)` reads naturally. */
int cdn_error(cdn_error_t *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int cdn_error_usage(cdn_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefix the existing message with more context. */
int cdn_error_wrap(cdn_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Attach advice on how to fix the problem. */
int cdn_error_hint(cdn_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cdn_error_clear(cdn_error_t *err);
/* "cordon: <msg>[: strerror]\n  hint: <hint>\n" to stream. */
void cdn_error_print(const cdn_error_t *err, FILE *stream);
