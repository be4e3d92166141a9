#include "sandbox/process.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"

static int write_file(const char *path, const char *data, cdn_error_t *err)
{
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return cdn_error(err, errno, "opening %s", path);
    size_t len = strlen(data);
    if (write(fd, data, len) != (ssize_t)len)
        return cdn_error(err, errno, "writing %s", path);
    return 0;
}

int cdn_userns_map_self(uid_t uid, gid_t gid, cdn_error_t *err)
{
    char map[64];
    if (write_file("/proc/self/setgroups", "deny", err) < 0)
        return -1;
    snprintf(map, sizeof map, "%u %u 1\n", uid, uid);
    if (write_file("/proc/self/uid_map", map, err) < 0)
        return -1;
    snprintf(map, sizeof map, "%u %u 1\n", gid, gid);
    return write_file("/proc/self/gid_map", map, err);
}

int cdn_caps_drop_all(cdn_error_t *err)
{
    /* The bounding set first: dropping from it needs CAP_SETPCAP, which the
     * capset below removes. */
    int last = 63; /* the kernel's highest capability, when it says */
    int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        char buf[16] = "";
        if (read(fd, buf, sizeof buf - 1) > 0 && atoi(buf) > 0 && atoi(buf) < 64)
            last = atoi(buf);
        close(fd);
    }
    for (int cap = 0; cap <= last; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
            return cdn_error(err, errno, "dropping capability %d from the bounding set", cap);
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return cdn_error(err, errno, "clearing ambient capabilities");
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    if (syscall(SYS_capset, &h, d) < 0)
        return cdn_error(err, errno, "dropping all capabilities (capset)");
    return 0;
}

int cdn_net_loopback_up(cdn_error_t *err)
{
    /* Two ioctls do what a netlink exchange would; nothing else is needed
     * for an interface that already exists in every new namespace. */
    _cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return cdn_error(err, errno, "creating a socket to configure lo");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        return cdn_error(err, errno, "reading the flags of lo");
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
        return cdn_error(err, errno, "bringing lo up");
    return 0;
}
