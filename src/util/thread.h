/* Library threads never take signals: cordon run waits for SIGCHLD and the
 * forwarded signals on a signalfd, which only works when every thread of
 * the process blocks them.  A thread created with signals unblocked would
 * swallow a process-directed SIGCHLD (its default action: discard). */
#pragma once

#include <pthread.h>

int cdn_thread_create(pthread_t *t, void *(*fn)(void *), void *arg);
