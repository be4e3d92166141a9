/* Landlock UAPI newer than the system headers (Debian 12 ships Linux 6.1's:
 * ABI <= 3).  Values from the kernel's include/uapi/linux/landlock.h; each is
 * guarded so newer system headers win. */
#pragma once

#include <linux/landlock.h>
#include <linux/types.h>

/* ABI 3 (6.2) */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
/* ABI 5 (6.10) */
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif

/* ABI 4 (6.7): TCP ports.  The access bits, the rule type (an enum value
 * upstream) and its struct arrived together, so the bits' absence tells
 * that the other two are missing as well. */
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#define LANDLOCK_RULE_NET_PORT 2
struct landlock_net_port_attr {
    __u64 allowed_access;
    __u64 port; /* host endianness */
};
#endif

/* ABI 6 (6.12): scopes */
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

/* ABI 7 (6.15): audit logging flags of landlock_restrict_self() */
#ifndef LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF
#define LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF (1U << 0)
#endif
#ifndef LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON
#define LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON (1U << 1)
#endif
#ifndef LANDLOCK_RESTRICT_SELF_LOG_SUBDOMAINS_OFF
#define LANDLOCK_RESTRICT_SELF_LOG_SUBDOMAINS_OFF (1U << 2)
#endif

/* struct landlock_ruleset_attr as of ABI 6; the system's may be shorter.
 * Pass a size that matches the running ABI: older kernels reject a bigger
 * struct whose extra fields are non-zero, and want the exact prefix. */
struct cdn_landlock_ruleset_attr {
    __u64 handled_access_fs;
    __u64 handled_access_net; /* ABI >= 4 */
    __u64 scoped;             /* ABI >= 6 */
};
