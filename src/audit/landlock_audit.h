/* Filesystem (and network) denials from Landlock's audit records, for when
 * cordon runs as root.
 *
 * Why this and not something else (docs/audit.md has the long version):
 * the sandbox's seccomp user-notification supervisor already sees every
 * write-like call and reports what it denies, rootless and at no extra
 * cost; what it cannot see is a *read* of a hidden path, which never
 * reaches it.  Since Linux 6.15 (Landlock ABI 7) the kernel writes an audit
 * record (AUDIT_LANDLOCK_ACCESS, 1423) for every access a Landlock domain
 * denies, plus AUDIT_LANDLOCK_DOMAIN (1424) describing the domain, with the
 * SYSCALL record of the same event giving pid, comm and exe.  The records
 * are exact (the kernel's own decision, not a guess), cost nothing when
 * nothing is denied, and need no hook in the hot path of allowed accesses.
 * Reading them takes a NETLINK_AUDIT socket bound to the read-only
 * multicast group, i.e. CAP_AUDIT_READ: root only.  Rootless cordon does
 * without (reads of hidden paths fail with ENOENT/EACCES inside and are not
 * reported); a seccomp notify on every open() "just to look" would put a
 * context switch on every read of every file, and fanotify needs
 * CAP_SYS_ADMIN anyway.
 *
 * In cordon Landlock is the second layer: the mount layer (mode-000 masks,
 * read-only mounts) refuses ordinary attempts first, and then Landlock is
 * not consulted and logs nothing.  Records here mean something got past the
 * first layer: rare, and exactly what must be reported.
 *
 * The process that calls landlock_restrict_self() must pass
 * LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON (ABI 7), or the kernel stops
 * logging once the sandbox execs the command. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "audit/audit.h"
#include "util/error.h"

#define CDN_AUDIT_LANDLOCK_ACCESS 1423
#define CDN_AUDIT_LANDLOCK_DOMAIN 1424
#define CDN_AUDIT_SYSCALL 1300
#define CDN_AUDIT_EOE 1320

/* Flag for landlock_restrict_self() (ABI 7), missing from older headers. */
#define CDN_LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON (1U << 1)

/* One audit record, as far as cordon needs it. */
typedef struct cdn_ll_record {
    int type;
    uint64_t serial;
    int64_t time_ns;
    uint64_t domain;     /* 0 = none */
    char blockers[128];  /* "fs.read_file", "fs.write_file,fs.truncate", "net.connect_tcp" */
    char path[4096];     /* path= or name= */
    char status[16];     /* DOMAIN: "allocated" / "deallocated" */
    long pid;            /* DOMAIN (allocated) and SYSCALL; -1 = absent */
    char exe[4096];
    char comm[64];
    long exit;           /* SYSCALL: negative errno of the denied call, 0 = absent */
    char daddr[64];      /* net: peer address and port */
    int dport;
} cdn_ll_record_t;

/* Parses the text of one audit netlink message ("audit(T.ms:serial): k=v
 * ...", not NUL-terminated).  Strict about the header, lenient about keys
 * it does not know.  Returns 0 or -1. */
int cdn_landlock_audit_parse(int type, const char *text, size_t len, cdn_ll_record_t *r);

typedef struct cdn_landlock_audit cdn_landlock_audit_t;

/* enable_audit: turn the kernel's audit on if it is off (Landlock logs
 * nothing while audit is disabled) and back off at close. */
int cdn_landlock_audit_open(bool enable_audit, cdn_landlock_audit_t **out, cdn_error_t *err);
/* Report denials of domains created by this (host) pid; 0 = every domain. */
int cdn_landlock_audit_watch(cdn_landlock_audit_t *r, pid_t pid);
/* The socket, for poll(): readable when records are waiting. */
int cdn_landlock_audit_fd(const cdn_landlock_audit_t *r);
/* Reads what is waiting (never blocks), emits fs.violation / net.deny events
 * through a.  Returns the number emitted or negative. */
int cdn_landlock_audit_read(cdn_landlock_audit_t *r, cdn_audit_t *a, cdn_error_t *err);
void cdn_landlock_audit_close(cdn_landlock_audit_t *r, cdn_audit_t *a);
