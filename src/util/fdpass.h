/* Passing descriptors over a unix socket (SCM_RIGHTS) with a fixed payload:
 * the one place that builds and reads the control messages. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#define CDN_FDPASS_MAX 32

/* Sends len bytes of payload (len >= 1) and n descriptors (n <= CDN_FDPASS_MAX).
 * Returns 0 or -1 with errno. */
int cdn_send_fds(int sock, const void *payload, size_t len, const int *fds, size_t n);

/* Receives one message: up to len bytes of payload and up to *n descriptors
 * (close-on-exec); *n becomes the count received.  Returns the payload
 * length (0 at end of stream) or -1 with errno.  flags as for recvmsg. */
ssize_t cdn_recv_fds(int sock, void *payload, size_t len, int *fds, size_t *n, int flags);
