/* Zero-copy relay between two connected, non-blocking TCP sockets with
 * splice(2) through a pipe per direction; the pipes are made only when a
 * direction first carries data, so an idle tunnel costs no descriptors
 * beyond its two sockets.  Half-close is passed on (shutdown(SHUT_WR)). */
#pragma once

#include <stdint.h>
#include <sys/time.h>

struct event_base;
typedef struct cdn_splice cdn_splice_t;

/* done(ctx) runs once, from the loop, when both directions have ended, on
 * an error, or after `idle` without traffic (idle NULL = never). */
cdn_splice_t *cdn_splice_start(struct event_base *base, int a, int b, const struct timeval *idle,
                               void (*done)(void *ctx), void *ctx);
/* Bytes moved a->b and b->a so far. */
void cdn_splice_counts(const cdn_splice_t *s, uint64_t *a_to_b, uint64_t *b_to_a);
/* Does not close a or b. */
void cdn_splice_free(cdn_splice_t *s);
