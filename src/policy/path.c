/* Path resolution with one documented meaning (docs/settings.md):
 * "~" is the invoking user's home, relative paths are relative to a base
 * (the workspace), the existing part is resolved with symlinks followed and
 * the rest is appended after lexical clean-up.  Resolving before checking is
 * what stops a link inside the workspace from pointing a rule elsewhere. */
#include "policy/policy.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/cleanup.h"

/* Lexically clean an absolute path: collapse "//", drop ".", apply "..". */
static void lexical_clean(char *p)
{
    char *out = p;
    const char *in = p;
    while (*in) {
        while (*in == '/')
            in++;
        if (!*in)
            break;
        const char *end = strchrnul(in, '/');
        size_t len = (size_t)(end - in);
        if (len == 1 && in[0] == '.') {
            /* skip */
        } else if (len == 2 && in[0] == '.' && in[1] == '.') {
            while (out > p && *(out - 1) != '/')
                out--;
            if (out > p)
                out--; /* drop the slash before the removed component */
        } else {
            *out++ = '/';
            memmove(out, in, len);
            out += len;
        }
        in = end;
    }
    if (out == p)
        *out++ = '/';
    *out = '\0';
}

int cdn_path_resolve(const char *path, const char *home, const char *base, char **out,
                     cdn_error_t *err)
{
    char buf[PATH_MAX * 2];
    int n;

    if (!path || !*path)
        return cdn_error_usage(err, "empty path");
    if (path[0] == '~' && (path[1] == '\0' || path[1] == '/'))
        n = snprintf(buf, sizeof buf, "%s/%s", home, path + 1);
    else if (path[0] == '~')
        return cdn_error_usage(err, "\"%s\": only \"~\" and \"~/...\" (the invoking user's home) "
                                    "are supported, not ~user",
                               path);
    else if (path[0] == '/')
        n = snprintf(buf, sizeof buf, "%s", path);
    else
        n = snprintf(buf, sizeof buf, "%s/%s", base, path);
    if (n < 0 || (size_t)n >= PATH_MAX)
        return cdn_error_usage(err, "path too long: %.80s...", path);
    lexical_clean(buf);

    /* Resolve the longest existing prefix, keep the rest as written.  The
     * prefix is found with lstat (realpath() on a missing path walks and
     * readlinks every component, once per try: most secret places do not
     * exist, and this runs for every one of them at every start). */
    char head[PATH_MAX * 2];
    snprintf(head, sizeof head, "%s", buf);
    const char *tail = "";
    struct stat st;
    while (lstat(head, &st) < 0 && (errno == ENOENT || errno == ENOTDIR)) {
        char *slash = strrchr(head, '/');
        if (!slash || slash == head)
            break;
        *slash = '\0';
        tail = buf + (slash - head) + 1;
    }
    for (;;) {
        _cleanup_free_ char *real = realpath(head, NULL);
        if (real) {
            char *res = NULL;
            if (*tail)
                n = asprintf(&res, "%s%s%s", strcmp(real, "/") == 0 ? "" : real, "/", tail);
            else
                n = asprintf(&res, "%s", real);
            if (n < 0)
                return cdn_error(err, ENOMEM, "out of memory");
            lexical_clean(res);
            *out = res;
            return 0;
        }
        if (errno != ENOENT && errno != ENOTDIR && errno != EACCES)
            return cdn_error(err, errno, "resolving %s", head);
        char *slash = strrchr(head, '/');
        if (!slash || slash == head) {
            /* Nothing but "/" exists: impossible on a live system. */
            *out = strdup(buf);
            return *out ? 0 : cdn_error(err, ENOMEM, "out of memory");
        }
        *slash = '\0';
        tail = buf + (slash - head) + 1;
    }
}
