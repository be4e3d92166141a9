#include "audit/landlock_audit.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/cleanup.h"

#define MAX_DOMAINS 64
#define MAX_WATCH 16
#define MAX_GROUP 4   /* Landlock records in one audit event */
#define MAX_PENDING 8 /* events being assembled at once (processes interleave) */

/* The records of one audit event (one serial), until its EOE record. */
typedef struct {
    bool used;
    uint64_t serial, age;
    cdn_ll_record_t recs[MAX_GROUP];
    size_t n;
    long sys_pid, sys_exit;
    char sys_comm[64], sys_exe[4096];
} group_t;

struct cdn_landlock_audit {
    int fd;
    bool restore_disabled;
    pid_t watch[MAX_WATCH];
    size_t n_watch;
    uint64_t domains[MAX_DOMAINS]; /* ring of domains known to be ours */
    size_t n_domains, next_domain;
    group_t *groups; /* MAX_PENDING */
    uint64_t clock;
};

/* ---- parsing ---- */

static bool is_hex_string(const char *v, size_t n)
{
    if (n == 0 || n % 2)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)v[i]) || islower((unsigned char)v[i]))
            return false;
    return true;
}

static int hexv(char c)
{
    return isdigit((unsigned char)c) ? c - '0' : c - 'A' + 10;
}

/* Copies a value: quoted strings as they are, the kernel's hex encoding of
 * untrusted strings (used when one holds a space, a quote or a control
 * character) decoded. */
static void copy_value(char *dst, size_t cap, const char *v, size_t n, bool quoted, bool maybe_hex)
{
    size_t o = 0;
    if (!quoted && maybe_hex && is_hex_string(v, n)) {
        for (size_t i = 0; i + 1 < n && o + 1 < cap; i += 2) {
            char c = (char)(hexv(v[i]) * 16 + hexv(v[i + 1]));
            dst[o++] = c ? c : '?';
        }
    } else {
        for (size_t i = 0; i < n && o + 1 < cap; i++)
            dst[o++] = v[i];
    }
    dst[o] = '\0';
}

static bool parse_ulong(const char *v, size_t n, int base, uint64_t *out)
{
    if (n == 0 || n > 20)
        return false;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        int d;
        if (isdigit((unsigned char)v[i]))
            d = v[i] - '0';
        else if (base == 16 && isxdigit((unsigned char)v[i]))
            d = tolower((unsigned char)v[i]) - 'a' + 10;
        else
            return false;
        if (x > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            return false;
        x = x * (uint64_t)base + (uint64_t)d;
    }
    *out = x;
    return true;
}

static bool parse_long(const char *v, size_t n, long *out)
{
    bool neg = n > 0 && v[0] == '-';
    uint64_t u;
    if (!parse_ulong(v + neg, n - neg, 10, &u) || u > (uint64_t)LONG_MAX)
        return false;
    *out = neg ? -(long)u : (long)u;
    return true;
}

int cdn_landlock_audit_parse(int type, const char *text, size_t len, cdn_ll_record_t *r)
{
    memset(r, 0, sizeof *r);
    r->type = type;
    r->pid = -1;
    /* audit(SECONDS.MILLIS:SERIAL): */
    const char *p = text, *end = text + len;
    if (len < 6 || memcmp(p, "audit(", 6) != 0)
        return -1;
    p += 6;
    const char *dot = memchr(p, '.', (size_t)(end - p));
    const char *colon = dot ? memchr(dot, ':', (size_t)(end - dot)) : NULL;
    const char *close = colon ? memchr(colon, ')', (size_t)(end - colon)) : NULL;
    uint64_t sec, ms, serial;
    if (!close || close + 2 > end || close[1] != ':' ||
        !parse_ulong(p, (size_t)(dot - p), 10, &sec) ||
        !parse_ulong(dot + 1, (size_t)(colon - dot - 1), 10, &ms) ||
        !parse_ulong(colon + 1, (size_t)(close - colon - 1), 10, &serial) || ms > 999 ||
        sec > 9000000000ULL)
        return -1;
    r->time_ns = (int64_t)(sec * 1000000000ULL + ms * 1000000ULL);
    r->serial = serial;
    p = close + 2;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\n' || *p == '\0'))
            p++;
        if (p >= end)
            break;
        const char *k = p;
        while (p < end && *p != '=' && *p != ' ')
            p++;
        if (p >= end || *p != '=') {
            /* A bare word: skip it. */
            continue;
        }
        size_t kl = (size_t)(p - k);
        p++;
        const char *v;
        size_t vl;
        bool quoted = p < end && *p == '"';
        if (quoted) {
            v = ++p;
            const char *q = memchr(p, '"', (size_t)(end - p));
            if (!q)
                return -1;
            vl = (size_t)(q - v);
            p = q + 1;
        } else {
            v = p;
            while (p < end && *p != ' ' && *p != '\n' && *p != '\0')
                p++;
            vl = (size_t)(p - v);
        }
#define KEY(s) (kl == sizeof(s) - 1 && memcmp(k, s, kl) == 0)
        uint64_t u;
        long l;
        if (KEY("domain") && parse_ulong(v, vl, 16, &u))
            r->domain = u;
        else if (KEY("blockers"))
            copy_value(r->blockers, sizeof r->blockers, v, vl, quoted, false);
        else if (KEY("path") || (KEY("name") && !r->path[0]))
            copy_value(r->path, sizeof r->path, v, vl, quoted, true);
        else if (KEY("status"))
            copy_value(r->status, sizeof r->status, v, vl, quoted, false);
        else if (KEY("pid") && parse_long(v, vl, &l))
            r->pid = l;
        else if (KEY("exe"))
            copy_value(r->exe, sizeof r->exe, v, vl, quoted, true);
        else if (KEY("comm"))
            copy_value(r->comm, sizeof r->comm, v, vl, quoted, true);
        else if (KEY("exit") && parse_long(v, vl, &l))
            r->exit = l;
        else if (KEY("daddr"))
            copy_value(r->daddr, sizeof r->daddr, v, vl, quoted, false);
        else if (KEY("dest") && parse_long(v, vl, &l) && l >= 0 && l <= 65535)
            r->dport = (int)l;
#undef KEY
    }
    return 0;
}

/* ---- netlink ---- */

/* Walks the messages of one datagram: cur is NULL first, then the previous
 * message; NULL at the end or at a malformed length. */
static struct nlmsghdr *walk(char *buf, size_t n, struct nlmsghdr *cur)
{
    size_t off = 0;
    if (cur)
        off = (size_t)((char *)cur - buf) + NLMSG_ALIGN(cur->nlmsg_len);
    if (off + NLMSG_HDRLEN > n)
        return NULL;
    struct nlmsghdr *h = (struct nlmsghdr *)(buf + off);
    if (h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > n - off)
        return NULL;
    return h;
}

static int audit_request(int fd, int type, const void *payload, size_t len, cdn_error_t *err)
{
    struct {
        struct nlmsghdr h;
        char data[sizeof(struct audit_status)];
    } req = {0};
    if (len > sizeof req.data)
        return cdn_error(err, EINVAL, "audit request too large");
    req.h.nlmsg_len = (uint32_t)NLMSG_LENGTH(len);
    req.h.nlmsg_type = (uint16_t)type;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    if (len) /* AUDIT_GET carries no payload (and payload may be NULL) */
        memcpy(NLMSG_DATA(&req.h), payload, len);
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    if (sendto(fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
        return cdn_error(err, errno, "talking to the kernel's audit subsystem");
    return 0;
}

/* AUDIT_GET on a private unicast socket, so its answer does not mix with
 * the multicast records. */
static int audit_enabled(int *enabled, cdn_error_t *err)
{
    _cleanup_close_ int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
    if (fd < 0)
        return cdn_error(err, errno, "opening a NETLINK_AUDIT socket");
    struct timeval tv = {.tv_sec = 1};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (audit_request(fd, AUDIT_GET, NULL, 0, err) < 0)
        return -1;
    char buf[8192];
    for (int tries = 0; tries < 4; tries++) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0)
            return cdn_error(err, errno, "reading the audit status");
        for (struct nlmsghdr *h = walk(buf, (size_t)n, NULL); h; h = walk(buf, (size_t)n, h)) {
            if (h->nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr *e = NLMSG_DATA(h);
                if (e->error)
                    return cdn_error(err, -e->error, "reading the audit status");
                continue;
            }
            if (h->nlmsg_type == AUDIT_GET &&
                h->nlmsg_len >= NLMSG_LENGTH(offsetof(struct audit_status, enabled) + 4)) {
                struct audit_status st;
                memset(&st, 0, sizeof st);
                memcpy(&st, NLMSG_DATA(h),
                       h->nlmsg_len - NLMSG_HDRLEN < sizeof st ? h->nlmsg_len - NLMSG_HDRLEN
                                                              : sizeof st);
                *enabled = (int)st.enabled;
                return 0;
            }
        }
    }
    return cdn_error(err, EPROTO, "no answer to AUDIT_GET");
}

static int set_enabled(int on, cdn_error_t *err)
{
    _cleanup_close_ int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
    if (fd < 0)
        return cdn_error(err, errno, "opening a NETLINK_AUDIT socket");
    struct audit_status st = {.mask = AUDIT_STATUS_ENABLED, .enabled = (uint32_t)on};
    return audit_request(fd, AUDIT_SET, &st, sizeof st, err);
}

int cdn_landlock_audit_open(bool enable_audit, cdn_landlock_audit_t **out, cdn_error_t *err)
{
    _cleanup_close_ int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
                                    NETLINK_AUDIT);
    if (fd < 0)
        return cdn_error(err, errno, "opening a NETLINK_AUDIT socket");
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = AUDIT_NLGRP_READLOG};
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        cdn_error(err, errno, "subscribing to kernel audit records");
        return cdn_error_hint(err, "reading Landlock's audit records needs CAP_AUDIT_READ (root); "
                                   "without it only the seccomp supervisor's reports are made");
    }
    int bufsz = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof bufsz);
    int enabled = 1;
    if (audit_enabled(&enabled, err) < 0)
        return -1;
    bool restore = false;
    if (!enabled) {
        if (!enable_audit)
            return cdn_error(err, 0, "the kernel's audit is disabled: Landlock logs nothing");
        if (set_enabled(1, err) < 0)
            return -1;
        restore = true;
    }
    cdn_landlock_audit_t *r = calloc(1, sizeof *r);
    group_t *g = calloc(MAX_PENDING, sizeof *g);
    if (!r || !g) {
        free(r);
        free(g);
        if (restore)
            set_enabled(0, err);
        return cdn_error(err, ENOMEM, "opening the Landlock audit reader");
    }
    r->groups = g;
    r->fd = steal_fd(&fd);
    r->restore_disabled = restore;
    *out = r;
    return 0;
}

int cdn_landlock_audit_watch(cdn_landlock_audit_t *r, pid_t pid)
{
    if (r->n_watch == MAX_WATCH)
        return -ENOSPC;
    r->watch[r->n_watch++] = pid;
    return 0;
}

int cdn_landlock_audit_fd(const cdn_landlock_audit_t *r)
{
    return r->fd;
}

static bool watched_pid(const cdn_landlock_audit_t *r, long pid)
{
    for (size_t i = 0; i < r->n_watch; i++)
        if (r->watch[i] == 0 || r->watch[i] == pid)
            return true;
    return false;
}

static bool known_domain(const cdn_landlock_audit_t *r, uint64_t d)
{
    for (size_t i = 0; i < r->n_domains; i++)
        if (r->domains[i] == d)
            return true;
    return false;
}

static void learn_domain(cdn_landlock_audit_t *r, uint64_t d)
{
    if (known_domain(r, d))
        return;
    r->domains[r->next_domain] = d;
    r->next_domain = (r->next_domain + 1) % MAX_DOMAINS;
    if (r->n_domains < MAX_DOMAINS)
        r->n_domains++;
}

/* "fs.write_file,fs.truncate" -> "write_file,truncate" */
static void operation_of(const char *blockers, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = blockers; *p && o + 1 < cap;) {
        const char *dotp = strchr(p, '.');
        const char *comma = strchr(p, ',');
        if (dotp && (!comma || dotp < comma))
            p = dotp + 1;
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (o && o + 1 < cap)
            out[o++] = ',';
        for (size_t i = 0; i < n && o + 1 < cap; i++)
            out[o++] = p[i];
        p += n + (comma ? 1 : 0);
        if (!comma)
            break;
    }
    out[o] = '\0';
}

/* Emits the events of the assembled group, then resets it. */
static int flush_group(cdn_landlock_audit_t *r, group_t *grp, cdn_audit_t *a)
{
    int emitted = 0;
    /* Domain records first: the first denial of a domain carries its
     * "allocated" record, with the pid that created it. */
    for (size_t i = 0; i < grp->n; i++) {
        cdn_ll_record_t *g = &grp->recs[i];
        if (g->type == CDN_AUDIT_LANDLOCK_DOMAIN && strcmp(g->status, "allocated") == 0 &&
            watched_pid(r, g->pid))
            learn_domain(r, g->domain);
    }
    for (size_t i = 0; i < grp->n; i++) {
        cdn_ll_record_t *g = &grp->recs[i];
        if (g->type != CDN_AUDIT_LANDLOCK_ACCESS || !known_domain(r, g->domain))
            continue;
        cdn_error_t err;
        cdn_event_t *ev = NULL;
        char op[128];
        operation_of(g->blockers, op, sizeof op);
        int errnum = grp->sys_exit < 0 && grp->sys_exit > -4096 ? (int)-grp->sys_exit : EACCES;
        if (strncmp(g->blockers, "net.", 4) == 0) {
            cdn_net_info_t ni = {.address = g->daddr[0] ? g->daddr : "?", .port = g->dport,
                                 .protocol = "tcp", .rule = "landlock"};
            if (cdn_event_net(&ev, CDN_DECISION_DENY, &ni, &err) < 0)
                continue;
        } else if (strncmp(g->blockers, "fs.", 3) == 0) {
            bool read = strstr(g->blockers, "read") || strstr(g->blockers, "execute");
            cdn_fs_info_t fi = {
                .path = g->path[0] ? g->path : "?",
                .operation = op,
                .pid = grp->sys_pid > 0 ? (pid_t)grp->sys_pid : 0,
                .process_name = grp->sys_comm[0] ? grp->sys_comm : NULL,
                .exe = grp->sys_exe[0] ? grp->sys_exe : NULL,
                .errnum = errnum,
                .setting = read ? "filesystem.allowRead" : "filesystem.allowWrite",
            };
            if (cdn_event_fs_violation(&ev, &fi, &err) < 0)
                continue;
        } else {
            continue; /* scope.* (signals, abstract sockets): not filesystem or network */
        }
        if (g->time_ns)
            ev->time_ns = g->time_ns;
        cdn_event_set_message(ev, "reported by Landlock (kernel audit)", &err);
        cdn_audit_emit(a, ev);
        emitted++;
    }
    grp->used = false;
    return emitted;
}

static group_t *group_for(cdn_landlock_audit_t *r, cdn_audit_t *a, uint64_t serial, int *emitted)
{
    group_t *free_slot = NULL, *oldest = NULL;
    for (size_t i = 0; i < MAX_PENDING; i++) {
        group_t *g = &r->groups[i];
        if (g->used && g->serial == serial)
            return g;
        if (!g->used && !free_slot)
            free_slot = g;
        if (g->used && (!oldest || g->age < oldest->age))
            oldest = g;
    }
    if (!free_slot) {
        /* Its EOE never came (or was lost): report what it has. */
        *emitted += flush_group(r, oldest, a);
        free_slot = oldest;
    }
    memset(free_slot, 0, sizeof *free_slot);
    free_slot->used = true;
    free_slot->serial = serial;
    free_slot->age = ++r->clock;
    free_slot->sys_pid = -1;
    return free_slot;
}

static int take(cdn_landlock_audit_t *r, cdn_audit_t *a, int type, const char *text, size_t len)
{
    if (type != CDN_AUDIT_LANDLOCK_ACCESS && type != CDN_AUDIT_LANDLOCK_DOMAIN &&
        type != CDN_AUDIT_SYSCALL && type != CDN_AUDIT_EOE)
        return 0;
    cdn_ll_record_t *rec = malloc(sizeof *rec);
    if (!rec)
        return -ENOMEM;
    int emitted = 0;
    if (cdn_landlock_audit_parse(type, text, len, rec) == 0) {
        group_t *g = group_for(r, a, rec->serial, &emitted);
        if (type == CDN_AUDIT_SYSCALL) {
            g->sys_pid = rec->pid;
            g->sys_exit = rec->exit;
            snprintf(g->sys_comm, sizeof g->sys_comm, "%s", rec->comm);
            snprintf(g->sys_exe, sizeof g->sys_exe, "%s", rec->exe);
        } else if (type == CDN_AUDIT_EOE) {
            emitted += flush_group(r, g, a);
        } else if (g->n < MAX_GROUP) {
            g->recs[g->n++] = *rec;
        }
    }
    free(rec);
    return emitted;
}

int cdn_landlock_audit_read(cdn_landlock_audit_t *r, cdn_audit_t *a, cdn_error_t *err)
{
    /* MAX_AUDIT_MESSAGE_LENGTH is 8970; a few fit in one datagram. */
    static const size_t bufsz = 65536;
    _cleanup_free_ char *buf = malloc(bufsz);
    if (!buf)
        return cdn_error(err, ENOMEM, "reading audit records");
    int emitted = 0;
    for (;;) {
        ssize_t n = recv(r->fd, buf, bufsz, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            if (errno == ENOBUFS) /* the kernel dropped records: keep going */
                continue;
            return cdn_error(err, errno, "reading audit records");
        }
        for (struct nlmsghdr *h = walk(buf, (size_t)n, NULL); h; h = walk(buf, (size_t)n, h)) {
            int e = take(r, a, h->nlmsg_type, NLMSG_DATA(h), h->nlmsg_len - NLMSG_HDRLEN);
            if (e < 0)
                return cdn_error(err, -e, "reading audit records");
            emitted += e;
        }
    }
    return emitted;
}

void cdn_landlock_audit_close(cdn_landlock_audit_t *r, cdn_audit_t *a)
{
    if (!r)
        return;
    for (size_t i = 0; i < MAX_PENDING; i++)
        if (r->groups[i].used)
            flush_group(r, &r->groups[i], a);
    if (r->restore_disabled) {
        cdn_error_t err;
        set_enabled(0, &err);
    }
    close(r->fd);
    free(r->groups);
    free(r);
}
