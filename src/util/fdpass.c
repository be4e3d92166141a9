#include "util/fdpass.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int cdn_send_fds(int sock, const void *payload, size_t len, const int *fds, size_t n)
{
    if (n > CDN_FDPASS_MAX || len == 0) {
        errno = EINVAL;
        return -1;
    }
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int) * CDN_FDPASS_MAX)];
    } u;
    memset(&u, 0, sizeof u);
    struct iovec iov = {(void *)(uintptr_t)payload, len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (n) {
        mh.msg_control = u.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * n);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
    }
    return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

ssize_t cdn_recv_fds(int sock, void *payload, size_t len, int *fds, size_t *n, int flags)
{
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int) * CDN_FDPASS_MAX)];
    } u;
    struct iovec iov = {payload, len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf};
    size_t want = *n;
    *n = 0;
    ssize_t r = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);
    if (r < 0)
        return -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (*n < want)
                fds[(*n)++] = fd;
            else
                close(fd); /* more than asked for: never leak */
        }
    }
    return r;
}
