/* Host-side helpers of the lab: facts about this host that some probes need
 * (its address, its resolver, a writable folder on PATH, a block device),
 * and small file utilities.  Nothing here runs inside a sandbox. */
#include "radius/host.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"

int cdn_rad_mkdir_p(const char *path, mode_t mode, cdn_error_t *err)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return cdn_error(err, ENAMETOOLONG, "path too long: %s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
            return cdn_error(err, errno, "creating %s", buf);
        *p = '/';
    }
    if (mkdir(buf, mode) < 0 && errno != EEXIST)
        return cdn_error(err, errno, "creating %s", buf);
    return 0;
}

int cdn_rad_write_file(const char *path, const char *content, mode_t mode, cdn_error_t *err)
{
    _cleanup_free_ char *dir = strdup(path);
    if (!dir)
        return cdn_error(err, ENOMEM, "out of memory");
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (cdn_rad_mkdir_p(dir, 0700, err) < 0)
            return -1;
    }
    _cleanup_close_ int fd =
        open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        return cdn_error(err, errno, "creating %s", path);
    size_t len = strlen(content);
    if (write(fd, content, len) != (ssize_t)len)
        return cdn_error(err, errno, "writing %s", path);
    return 0;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

void cdn_rad_rm_rf(const char *path)
{
    /* FTW_PHYS: the lab holds symlinks that point outside it on purpose. */
    nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

int cdn_rad_token(char *out, size_t n, cdn_error_t *err)
{
    unsigned char r[8];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return cdn_error(err, errno, "getrandom");
    if (n < 17)
        return cdn_error(err, EINVAL, "token buffer too small");
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
    return 0;
}

char *cdn_rad_host_ipv4(void)
{
    struct ifaddrs *ifa = NULL;
    if (getifaddrs(&ifa) < 0)
        return NULL;
    char *res = NULL;
    for (struct ifaddrs *i = ifa; i && !res; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK) ||
            !(i->ifa_flags & IFF_UP))
            continue;
        char buf[INET_ADDRSTRLEN];
        if (inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, buf,
                      sizeof buf))
            res = strdup(buf);
    }
    freeifaddrs(ifa);
    return res;
}

char *cdn_rad_resolver(bool *loopback)
{
    _cleanup_fclose_ FILE *f = fopen("/etc/resolv.conf", "re");
    if (!f)
        return NULL;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char addr[128];
        if (sscanf(line, " nameserver %127s", addr) != 1)
            continue;
        struct in_addr a4;
        struct in6_addr a6;
        if (inet_pton(AF_INET, addr, &a4) == 1) {
            *loopback = (ntohl(a4.s_addr) >> 24) == 127;
            return strdup(addr);
        }
        if (inet_pton(AF_INET6, addr, &a6) == 1) {
            *loopback = IN6_IS_ADDR_LOOPBACK(&a6);
            return strdup(addr);
        }
    }
    return NULL;
}

char *cdn_rad_writable_path_dir(void)
{
    const char *path = getenv("PATH");
    if (!path)
        return NULL;
    _cleanup_free_ char *copy = strdup(path);
    if (!copy)
        return NULL;
    char *save = NULL;
    for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        struct stat st;
        if (d[0] == '/' && stat(d, &st) == 0 && S_ISDIR(st.st_mode) && access(d, W_OK) == 0)
            return strdup(d);
    }
    return NULL;
}

char *cdn_rad_block_device(void)
{
    _cleanup_closedir_ DIR *d = opendir("/sys/block");
    if (!d)
        return NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !strncmp(e->d_name, "loop", 4) ||
            !strncmp(e->d_name, "ram", 3) || !strncmp(e->d_name, "zram", 4))
            continue;
        char path[300];
        snprintf(path, sizeof path, "/dev/%s", e->d_name);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISBLK(st.st_mode))
            return strdup(path);
    }
    return NULL;
}

char *cdn_rad_session_bus(void)
{
    const char *a = getenv("DBUS_SESSION_BUS_ADDRESS");
    if (a && strncmp(a, "unix:path=", 10) == 0) {
        char buf[512];
        snprintf(buf, sizeof buf, "%s", a + 10);
        buf[strcspn(buf, ",;")] = '\0';
        return strdup(buf);
    }
    char buf[64];
    snprintf(buf, sizeof buf, "/run/user/%u/bus", (unsigned)getuid());
    return strdup(buf);
}
