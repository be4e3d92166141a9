/* Scope-bound cleanup, in the manner of bubblewrap's utils.h: a resource is
 * released where its variable goes out of scope, so error paths cannot leak
 * it; steal_*() hands ownership on explicitly. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <dirent.h>
#include <errno.h>

static inline void cdn_freep(void *p) { free(*(void **)p); }
static inline void cdn_closep(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
    }
}
static inline void cdn_fclosep(FILE **f)
{
    if (*f)
        fclose(*f);
}
static inline void cdn_closedirp(DIR **d)
{
    if (*d)
        closedir(*d);
}

#define _cleanup_free_ __attribute__((cleanup(cdn_freep)))
#define _cleanup_close_ __attribute__((cleanup(cdn_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(cdn_fclosep)))
#define _cleanup_closedir_ __attribute__((cleanup(cdn_closedirp)))

static inline void *cdn_steal_ptr(void *pp)
{
    void **p = pp;
    void *v = *p;
    *p = NULL;
    return v;
}
#define steal_pointer(pp) cdn_steal_ptr(pp)

static inline int steal_fd(int *fd)
{
    int v = *fd;
    *fd = -1;
    return v;
}

#define CDN_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
