#include "audit/http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "audit/otlp.h"
#include "util/cleanup.h"

#define HEAD_MAX (16 * 1024)
#define BODY_KEEP (64 * 1024)
#define SLICE_MS 50

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

bool cdn_http_loopback_url(const char *url, cdn_http_target_t *t)
{
    memset(t, 0, sizeof *t);
    if (strncmp(url, "http://", 7) != 0)
        return false;
    const char *h = url + 7, *end = h + strcspn(h, "/?#");
    const char *host_end, *port_s = NULL;
    char host[64];
    if (*h == '[') {
        const char *rb = memchr(h, ']', (size_t)(end - h));
        if (!rb)
            return false;
        if ((size_t)(rb - h - 1) >= sizeof host)
            return false;
        memcpy(host, h + 1, (size_t)(rb - h - 1));
        host[rb - h - 1] = '\0';
        host_end = rb + 1;
    } else {
        host_end = memchr(h, ':', (size_t)(end - h));
        if (!host_end)
            host_end = end;
        if ((size_t)(host_end - h) >= sizeof host)
            return false;
        memcpy(host, h, (size_t)(host_end - h));
        host[host_end - h] = '\0';
    }
    if (host_end < end) {
        if (*host_end != ':')
            return false;
        port_s = host_end + 1;
    }
    long port = 80;
    if (port_s) {
        if (port_s == end || end - port_s > 5)
            return false;
        port = 0;
        for (const char *p = port_s; p < end; p++) {
            if (!isdigit((unsigned char)*p))
                return false;
            port = port * 10 + (*p - '0');
        }
        if (port < 1 || port > 65535)
            return false;
    }
    struct sockaddr_in *in4 = (struct sockaddr_in *)&t->addr;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&t->addr;
    if (strcasecmp(host, "localhost") == 0 || inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        if (strcasecmp(host, "localhost") == 0)
            in4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if ((ntohl(in4->sin_addr.s_addr) >> 24) != 127)
            return false;
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        t->addrlen = sizeof *in4;
    } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        if (!IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
            return false;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        t->addrlen = sizeof *in6;
    } else {
        return false;
    }
    snprintf(t->hostport, sizeof t->hostport, "%.*s", (int)(end - h), h);
    const char *path = *end ? end : "/";
    if (*path != '/' || strlen(path) >= sizeof t->path || strpbrk(path, " \r\n"))
        return false;
    snprintf(t->path, sizeof t->path, "%s", path);
    return true;
}

int cdn_http_parse_head(const char *buf, size_t n, cdn_http_resp_t *r)
{
    const char *end = NULL;
    for (size_t i = 0; i + 3 < n; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
            end = buf + i + 2; /* the last header line's CRLF */
            break;
        }
    if (!end)
        return n > HEAD_MAX ? -1 : 0;
    if ((size_t)(end - buf) + 2 > HEAD_MAX)
        return -1;
    r->head_len = (size_t)(end - buf) + 2;
    r->retry_after = -1;
    r->content_length = -1;
    r->keep_alive = true;
    /* HTTP/1.x SSS[ reason] */
    if (end - buf < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || (buf[7] != '0' && buf[7] != '1') ||
        buf[8] != ' ' || !isdigit((unsigned char)buf[9]) || !isdigit((unsigned char)buf[10]) ||
        !isdigit((unsigned char)buf[11]) || (buf[12] != ' ' && buf[12] != '\r'))
        return -1;
    if (buf[7] == '0')
        r->keep_alive = false;
    r->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
    if (r->status < 200) /* no Expect was sent: 1xx is not expected here */
        return -1;
    const char *p = memchr(buf, '\n', (size_t)(end + 2 - buf));
    if (!p || p == buf || p[-1] != '\r')
        return -1;
    bool chunked = false;
    while (p && p + 1 < end) {
        const char *line = p + 1;
        const char *eol = memchr(line, '\n', (size_t)(end + 2 - line));
        if (!eol || eol == line || eol[-1] != '\r')
            return -1;
        size_t len = (size_t)(eol - 1 - line);
        const char *colon = memchr(line, ':', len);
        if (!colon || colon == line)
            return -1;
        size_t kl = (size_t)(colon - line);
        const char *v = colon + 1;
        size_t vl = len - kl - 1;
        while (vl && (*v == ' ' || *v == '\t'))
            v++, vl--;
        while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            vl--;
        char val[64];
        snprintf(val, sizeof val, "%.*s", (int)(vl < sizeof val ? vl : sizeof val - 1), v);
        if (kl == 14 && strncasecmp(line, "content-length", 14) == 0) {
            char *e;
            errno = 0;
            long cl = strtol(val, &e, 10);
            if (vl >= sizeof val || !isdigit((unsigned char)val[0]) || *e || errno || cl < 0)
                return -1;
            r->content_length = cl;
        } else if (kl == 17 && strncasecmp(line, "transfer-encoding", 17) == 0) {
            chunked = true;
        } else if (kl == 10 && strncasecmp(line, "connection", 10) == 0) {
            if (strcasecmp(val, "close") == 0)
                r->keep_alive = false;
        } else if (kl == 11 && strncasecmp(line, "retry-after", 11) == 0) {
            r->retry_after = cdn_otlp_parse_retry_after(val);
        }
        p = eol;
    }
    /* A body whose end cordon does not track (chunked, or until close):
     * read no further and do not reuse the connection. */
    if (chunked || r->content_length < 0) {
        r->content_length = -1;
        r->keep_alive = false;
    }
    return 1;
}

static int wait_fd(int fd, short ev, int64_t deadline, cdn_http_abort_fn abort_fn, void *ud)
{
    for (;;) {
        int64_t left = deadline - mono_ns();
        if (left <= 0 || (abort_fn && abort_fn(ud)))
            return -ETIMEDOUT;
        int ms = (int)(left / 1000000) + 1;
        if (ms > SLICE_MS)
            ms = SLICE_MS;
        struct pollfd pfd = {.fd = fd, .events = ev};
        int r = poll(&pfd, 1, ms);
        if (r > 0)
            return 0;
        if (r < 0 && errno != EINTR)
            return -errno;
    }
}

static int connect_to(const cdn_http_target_t *t, int64_t deadline, cdn_http_abort_fn abort_fn,
                      void *ud)
{
    _cleanup_close_ int fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (const struct sockaddr *)&t->addr, t->addrlen) < 0) {
        if (errno != EINPROGRESS)
            return -errno;
        int rc = wait_fd(fd, POLLOUT, deadline, abort_fn, ud);
        if (rc < 0)
            return rc;
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
            return -errno;
        if (soerr)
            return -soerr;
    }
    return steal_fd(&fd);
}

static int send_all(int fd, struct iovec *iov, int n, int64_t deadline, cdn_http_abort_fn abort_fn,
                    void *ud)
{
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                return -errno;
            int rc = wait_fd(fd, POLLOUT, deadline, abort_fn, ud);
            if (rc < 0)
                return rc;
            continue;
        }
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++, n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return 0;
}

/* One request on one connection.  *fresh_fail tells the caller whether a
 * reused connection died before any response byte (then retry on a new
 * one: the server closed it while idle). */
static void exchange(int fd, const char *head, size_t head_len, const char *body, size_t len,
                     int64_t deadline, cdn_http_abort_fn abort_fn, void *ud, cdn_http_resp_t *r,
                     bool *nothing_received)
{
    *nothing_received = true;
    struct iovec iov[2] = {{(void *)(uintptr_t)head, head_len}, {(void *)(uintptr_t)body, len}};
    int rc = send_all(fd, iov, 2, deadline, abort_fn, ud);
    if (rc < 0) {
        snprintf(r->error, sizeof r->error, "sending: %s", strerror(-rc));
        return;
    }
    char *buf = malloc(HEAD_MAX + BODY_KEEP + 1);
    if (!buf) {
        snprintf(r->error, sizeof r->error, "out of memory");
        return;
    }
    size_t n = 0;
    int parsed = 0;
    size_t body_seen = 0;
    for (;;) {
        if (parsed == 1 && body_seen >= (size_t)r->content_length)
            break;
        rc = wait_fd(fd, POLLIN, deadline, abort_fn, ud);
        if (rc < 0) {
            snprintf(r->error, sizeof r->error, "%s", rc == -ETIMEDOUT ? "timed out" : strerror(-rc));
            r->status = 0;
            break;
        }
        char *dst = buf + n;
        size_t room = HEAD_MAX + BODY_KEEP - n;
        char sink[4096];
        if (room == 0) { /* a body beyond what is kept: read and drop */
            dst = sink;
            room = sizeof sink;
        }
        ssize_t got = read(fd, dst, room);
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (got <= 0) {
            snprintf(r->error, sizeof r->error, "%s",
                     got == 0 ? "connection closed by the server" : strerror(errno));
            if (parsed != 1)
                r->status = 0;
            r->keep_alive = false;
            break;
        }
        *nothing_received = false;
        if (dst == buf + n)
            n += (size_t)got;
        if (parsed != 1) {
            parsed = cdn_http_parse_head(buf, n, r);
            if (parsed < 0) {
                snprintf(r->error, sizeof r->error, "malformed HTTP response");
                r->status = 0;
                r->keep_alive = false;
                break;
            }
            if (parsed == 1 && r->content_length < 0)
                break; /* body not tracked: this connection ends here */
        }
        if (parsed == 1)
            body_seen = (dst == sink ? body_seen + (size_t)got : n - r->head_len);
    }
    if (parsed == 1 && r->status && n > r->head_len) {
        size_t bl = n - r->head_len;
        r->body = malloc(bl + 1);
        if (r->body) {
            memcpy(r->body, buf + r->head_len, bl);
            r->body[bl] = '\0';
        }
    }
    free(buf);
}

void cdn_http_post(int *fd, const cdn_http_target_t *t, const cdn_strv_t *headers,
                   const char *body, size_t len, int64_t deadline_ns, cdn_http_abort_fn abort_fn,
                   void *ud, cdn_http_resp_t *r)
{
    memset(r, 0, sizeof *r);
    r->retry_after = -1;
    char *head = NULL;
    size_t extra = 0;
    for (size_t i = 0; i < headers->n; i++)
        extra += strlen(headers->v[i]) + 2;
    size_t cap = 256 + strlen(t->path) + strlen(t->hostport) + extra;
    head = malloc(cap);
    if (!head) {
        snprintf(r->error, sizeof r->error, "out of memory");
        return;
    }
    int hl = snprintf(head, cap,
                      "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: cordon/" CORDON_VERSION
                      "\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n",
                      t->path, t->hostport, len);
    for (size_t i = 0; i < headers->n; i++)
        hl += snprintf(head + hl, cap - (size_t)hl, "%s\r\n", headers->v[i]);
    hl += snprintf(head + hl, cap - (size_t)hl, "\r\n");
    for (int tries = 0; tries < 2; tries++) {
        bool reused = *fd >= 0;
        if (*fd < 0) {
            int c = connect_to(t, deadline_ns, abort_fn, ud);
            if (c < 0) {
                snprintf(r->error, sizeof r->error, "connecting to %s: %s", t->hostport,
                         c == -ETIMEDOUT ? "timed out" : strerror(-c));
                break;
            }
            *fd = c;
        }
        bool nothing;
        memset(r, 0, sizeof *r);
        r->retry_after = -1;
        exchange(*fd, head, (size_t)hl, body, len, deadline_ns, abort_fn, ud, r, &nothing);
        if (!r->status || !r->keep_alive) {
            close(*fd);
            *fd = -1;
        }
        if (r->status || !reused || !nothing)
            break;
        /* The kept-alive connection had been closed by the server: once
         * more on a new one. */
    }
    free(head);
}
