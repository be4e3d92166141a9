/* Why O_APPEND + flock + one write() per line: O_APPEND alone makes the
 * kernel pick the offset atomically, but a write to a regular file may be
 * short (a signal, a full disk) and the rest of the line would then follow
 * another writer's line; over NFS O_APPEND is not atomic at all.  An
 * exclusive flock() around the write loop makes each line whole for every
 * cordon that appends to the same file, whichever process it runs in.  The
 * cost is two uncontended syscalls per event.  Within one process the
 * mutex serialises threads (flock is per open file description, so it does
 * not exclude threads sharing the descriptor). */
#include "audit/jsonl.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include "util/cleanup.h"

struct cdn_jsonl {
    int fd;
    pthread_mutex_t lock;
};

int cdn_jsonl_open(const char *path, cdn_jsonl_t **out, cdn_error_t *err)
{
    /* 0600: audit lines name paths, hosts and commands of the user. */
    _cleanup_close_ int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0)
        return cdn_error(err, errno, "opening audit log %s", path);
    cdn_jsonl_t *j = calloc(1, sizeof *j);
    if (!j)
        return cdn_error(err, ENOMEM, "opening audit log %s", path);
    pthread_mutex_init(&j->lock, NULL);
    j->fd = steal_fd(&fd);
    *out = j;
    return 0;
}

int cdn_jsonl_write(cdn_jsonl_t *j, const char *line, size_t len, cdn_error_t *err)
{
    int rc = 0;
    pthread_mutex_lock(&j->lock);
    while (flock(j->fd, LOCK_EX) < 0) {
        if (errno != EINTR) {
            /* A filesystem without locks: O_APPEND still places each write. */
            break;
        }
    }
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(j->fd, line + done, len - done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            rc = cdn_error(err, errno, "writing the audit log");
            break;
        }
        done += (size_t)w;
    }
    flock(j->fd, LOCK_UN);
    pthread_mutex_unlock(&j->lock);
    return rc;
}

void cdn_jsonl_close(cdn_jsonl_t *j)
{
    if (!j)
        return;
    close(j->fd);
    pthread_mutex_destroy(&j->lock);
    free(j);
}
