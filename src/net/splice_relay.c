#include "net/splice_relay.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#define CHUNK (1u << 20)

typedef struct dir {
    int src, dst;
    int pipe[2];
    size_t in_pipe;
    uint64_t moved;
    bool eof, done;
    struct event *rd, *wr; /* src readable, dst writable */
} dir_t;

struct cdn_splice {
    dir_t d[2];
    struct timeval idle;
    bool has_idle, finished;
    void (*done)(void *);
    void *ctx;
    struct event *fin;
};

static void finish(cdn_splice_t *s)
{
    if (s->finished)
        return;
    s->finished = true;
    /* Deferred so that done() may free s without pulling the rug from
     * under the callback that noticed the end. */
    event_active(s->fin, EV_TIMEOUT, 0);
}

static void fin_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    cdn_splice_t *s = arg;
    s->done(s->ctx);
}

/* Move as much as possible from src through the pipe to dst, then wait for
 * whichever side blocked. */
static void pump(cdn_splice_t *s, dir_t *d)
{
    if (d->done || s->finished)
        return;
    for (int rounds = 0; rounds < 16; rounds++) {
        if (d->in_pipe) {
            ssize_t n = splice(d->pipe[0], NULL, d->dst, NULL, d->in_pipe,
                               SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
            if (n < 0) {
                if (errno == EAGAIN) {
                    event_add(d->wr, NULL);
                    return;
                }
                finish(s);
                return;
            }
            d->in_pipe -= (size_t)n;
            d->moved += (uint64_t)n;
            if (d->in_pipe)
                continue;
        }
        if (d->eof) {
            shutdown(d->dst, SHUT_WR);
            d->done = true;
            if (s->d[0].done && s->d[1].done)
                finish(s);
            return;
        }
        if (d->pipe[0] < 0) {
            if (pipe2(d->pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
                finish(s);
                return;
            }
            /* Bigger pipes mean fewer splice calls for bulk transfers; pages
             * are only used while data sits in them.  Best effort: the
             * per-user pipe quota may say no. */
            fcntl(d->pipe[1], F_SETPIPE_SZ, (int)CHUNK);
        }
        ssize_t n = splice(d->src, NULL, d->pipe[1], NULL, CHUNK,
                           SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n < 0) {
            if (errno == EAGAIN) {
                event_add(d->rd, s->has_idle ? &s->idle : NULL);
                return;
            }
            finish(s);
            return;
        }
        if (n == 0)
            d->eof = true;
        d->in_pipe += (size_t)n;
    }
    /* Fairness: let the other direction and other tunnels run. */
    event_active(d->rd, EV_READ, 0);
}

static void dir_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    void **pair = arg;
    cdn_splice_t *s = pair[0];
    dir_t *d = pair[1];
    if (what & EV_TIMEOUT) {
        finish(s);
        return;
    }
    pump(s, d);
}

typedef struct {
    cdn_splice_t s;
    void *pairs[2][2];
} splice_alloc_t;

cdn_splice_t *cdn_splice_start(struct event_base *base, int a, int b, const struct timeval *idle,
                               void (*done)(void *ctx), void *ctx)
{
    splice_alloc_t *al = calloc(1, sizeof *al);
    if (!al)
        return NULL;
    cdn_splice_t *s = &al->s;
    s->done = done;
    s->ctx = ctx;
    if (idle) {
        s->idle = *idle;
        s->has_idle = true;
    }
    s->fin = event_new(base, -1, 0, fin_cb, s);
    bool ok = s->fin != NULL;
    for (int i = 0; i < 2; i++) {
        dir_t *d = &s->d[i];
        d->src = i == 0 ? a : b;
        d->dst = i == 0 ? b : a;
        d->pipe[0] = d->pipe[1] = -1;
        al->pairs[i][0] = s;
        al->pairs[i][1] = d;
        d->rd = event_new(base, d->src, EV_READ, dir_cb, al->pairs[i]);
        d->wr = event_new(base, d->dst, EV_WRITE, dir_cb, al->pairs[i]);
        ok = ok && d->rd && d->wr;
    }
    if (!ok) {
        cdn_splice_free(s);
        return NULL;
    }
    event_add(s->d[0].rd, s->has_idle ? &s->idle : NULL);
    event_add(s->d[1].rd, s->has_idle ? &s->idle : NULL);
    return s;
}

void cdn_splice_counts(const cdn_splice_t *s, uint64_t *a_to_b, uint64_t *b_to_a)
{
    *a_to_b = s->d[0].moved;
    *b_to_a = s->d[1].moved;
}

void cdn_splice_free(cdn_splice_t *s)
{
    if (!s)
        return;
    for (int i = 0; i < 2; i++) {
        dir_t *d = &s->d[i];
        if (d->rd)
            event_free(d->rd);
        if (d->wr)
            event_free(d->wr);
        if (d->pipe[0] >= 0)
            close(d->pipe[0]);
        if (d->pipe[1] >= 0)
            close(d->pipe[1]);
    }
    if (s->fin)
        event_free(s->fin);
    free(s); /* s is the first member of its allocation */
}
