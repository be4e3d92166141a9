/* cordon-probe: try ONE harmless operation and report, as one JSON line, what
 * the environment allowed.  The escape tests run it inside `cordon run`, and
 * `cordon radius` will run the same battery inside any sandbox, so it links
 * nothing of libcordon and is built static: it must work where only it exists.
 *
 * Exit status: 0 the operation succeeded, 1 it was refused (errno reported),
 * 2 usage error.  It never prints file contents or environment values, only
 * lengths, so running it against real secrets leaks nothing into logs. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/netlink.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <ifaddrs.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define MARKER "cordon-probe was here\n"

static const char *op_name = "?";
/* Set by `--id ID` or by `batch`: names the probe in the battery of `cordon radius`. */
static const char *probe_id;

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static const char *errno_name(int e)
{
    const char *n = strerrorname_np(e);
    return n ? n : "E?";
}

/* One line per run; `extra` is pre-rendered JSON members (",\"k\":v") or "". */
static int report(const char *target, int err, const char *detail, const char *extra)
{
    printf("{");
    if (probe_id) {
        printf("\"id\":");
        json_str(stdout, probe_id);
        printf(",");
    }
    printf("\"op\":");
    json_str(stdout, op_name);
    printf(",\"target\":");
    json_str(stdout, target ? target : "");
    printf(",\"ok\":%s", err ? "false" : "true");
    if (err) {
        printf(",\"errno\":");
        json_str(stdout, errno_name(err));
    }
    printf(",\"detail\":");
    json_str(stdout, detail ? detail : (err ? strerror(err) : ""));
    if (extra)
        fputs(extra, stdout);
    printf("}\n");
    fflush(stdout);
    return err ? 1 : 0;
}

/* Report the outcome of a call that returned `r` (< 0 = failed with errno). */
static int outcome(const char *target, long r, const char *detail)
{
    return report(target, r < 0 ? errno : 0, r < 0 ? NULL : detail, NULL);
}

static int usage(const char *msg)
{
    fprintf(stderr, "cordon-probe: %s\n(run `cordon-probe help` for the list of operations)\n", msg);
    return 2;
}

/* ---------------------------------------------------------------- files */

static int op_read(int argc, char **argv)
{
    if (argc != 1)
        return usage("read PATH");
    int fd = open(argv[0], O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return outcome(argv[0], -1, NULL);
    char buf[16];
    ssize_t n = read(fd, buf, sizeof buf);
    int e = errno;
    close(fd);
    if (n < 0)
        return report(argv[0], e, NULL, NULL);
    char d[64];
    snprintf(d, sizeof d, "read %zd bytes", n);
    char extra[32];
    snprintf(extra, sizeof extra, ",\"bytes\":%zd", n);
    return report(argv[0], 0, d, extra);
}

static int op_write(int argc, char **argv)
{
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    if (argc == 2 && strcmp(argv[0], "--truncate") == 0) {
        flags |= O_TRUNC;
        argv++, argc--;
    } else {
        flags |= O_APPEND;
    }
    if (argc != 1)
        return usage("write [--truncate] PATH");
    int fd = open(argv[0], flags, 0644);
    if (fd < 0)
        return outcome(argv[0], -1, NULL);
    ssize_t n = write(fd, MARKER, strlen(MARKER));
    int e = errno;
    if (close(fd) < 0 && n >= 0) {
        n = -1;
        e = errno;
    }
    if (n < 0)
        return report(argv[0], e, NULL, NULL);
    return report(argv[0], 0, "wrote marker", NULL);
}

static int op_create(int argc, char **argv)
{
    if (argc != 1)
        return usage("create PATH");
    int fd = open(argv[0], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0644);
    if (fd < 0)
        return outcome(argv[0], -1, NULL);
    close(fd);
    return report(argv[0], 0, "created", NULL);
}

static int op_mkdir(int argc, char **argv)
{
    if (argc != 1)
        return usage("mkdir PATH");
    return outcome(argv[0], mkdir(argv[0], 0755), "created");
}

static int op_unlink(int argc, char **argv)
{
    if (argc != 1)
        return usage("unlink PATH");
    struct stat st;
    long r;
    if (lstat(argv[0], &st) == 0 && S_ISDIR(st.st_mode))
        r = rmdir(argv[0]);
    else
        r = unlink(argv[0]);
    return outcome(argv[0], r, "removed");
}

static int op_rename(int argc, char **argv)
{
    if (argc != 2)
        return usage("rename FROM TO");
    return outcome(argv[1], rename(argv[0], argv[1]), "renamed");
}

static int op_link(int argc, char **argv)
{
    if (argc != 2)
        return usage("link EXISTING NEWPATH");
    return outcome(argv[1], link(argv[0], argv[1]), "linked");
}

static int op_symlink(int argc, char **argv)
{
    if (argc != 2)
        return usage("symlink TARGET LINKPATH");
    return outcome(argv[1], symlink(argv[0], argv[1]), "linked");
}

static int op_chmod(int argc, char **argv)
{
    if (argc != 1 && argc != 2)
        return usage("chmod PATH [OCTAL-MODE]");
    mode_t mode = 0755;
    if (argc == 2) {
        char *end;
        unsigned long m = strtoul(argv[1], &end, 8);
        if (*end || m > 07777)
            return usage("chmod: bad octal mode");
        mode = (mode_t)m;
    }
    return outcome(argv[0], chmod(argv[0], mode), "mode changed");
}

/* ---------------------------------------------------------------- sockets */

static int parse_port(const char *s, bool allow_zero)
{
    char *end;
    long p = strtol(s, &end, 10);
    if (*s == '\0' || *end || p < (allow_zero ? 0 : 1) || p > 65535)
        return -1;
    return (int)p;
}

/* sun_path for a filesystem path, or for an abstract name (leading NUL). */
static int unix_addr(struct sockaddr_un *sa, socklen_t *len, const char *name, bool abstract)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    size_t n = strlen(name);
    size_t off = abstract ? 1 : 0;
    if (n + off >= sizeof sa->sun_path)
        return -1;
    memcpy(sa->sun_path + off, name, n);
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + off + n + (abstract ? 0 : 1));
    return 0;
}

static int inet_addr_parse(struct sockaddr_storage *ss, socklen_t *len, const char *host, int port)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *len = sizeof *a4;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *len = sizeof *a6;
        return 0;
    }
    return -1;
}

/* connect() bounded by a timeout, so a black-holed address cannot hang a test. */
static int connect_timeout(int fd, const struct sockaddr *sa, socklen_t len, int timeout_ms)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    if (connect(fd, sa, len) == 0)
        return 0;
    if (errno != EINPROGRESS)
        return -1;
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int r = poll(&p, 1, timeout_ms);
    if (r < 0)
        return -1;
    if (r == 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
        return -1;
    if (soerr) {
        errno = soerr;
        return -1;
    }
    return 0;
}

static int op_connect_unix(int argc, char **argv, bool abstract)
{
    if (argc != 1)
        return usage(abstract ? "connect-abstract NAME" : "connect-unix PATH");
    struct sockaddr_un sa;
    socklen_t len;
    if (unix_addr(&sa, &len, argv[0], abstract) < 0)
        return usage("socket name too long");
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return outcome(argv[0], -1, NULL);
    int r = connect_timeout(fd, (struct sockaddr *)&sa, len, 2000);
    int e = errno;
    close(fd);
    return report(argv[0], r < 0 ? e : 0, r < 0 ? NULL : "connected", NULL);
}

static int op_connect_tcp(int argc, char **argv)
{
    /* "banner": only the planted listener's greeting counts as reaching
     * it; a connection that something else accepted (a transparent proxy
     * capturing it) is not the service. */
    bool banner = argc == 3 && strcmp(argv[2], "banner") == 0;
    if (argc != 2 && !banner)
        return usage("connect-tcp HOST PORT [banner] (HOST numeric)");
    int port = parse_port(argv[1], false);
    struct sockaddr_storage ss;
    socklen_t len;
    if (port < 0 || inet_addr_parse(&ss, &len, argv[0], port) < 0)
        return usage("connect-tcp: HOST must be a numeric address and PORT 1-65535");
    char target[128];
    snprintf(target, sizeof target, "%s:%d", argv[0], port);
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return outcome(target, -1, NULL);
    int r = connect_timeout(fd, (struct sockaddr *)&ss, len, 2000);
    int e = errno;
    if (r == 0 && banner) {
        char buf[64] = "";
        struct pollfd p = {fd, POLLIN, 0};
        ssize_t n = poll(&p, 1, 2000) == 1 ? recv(fd, buf, sizeof buf - 1, 0) : -1;
        close(fd);
        if (n > 0 && strncmp(buf, "hello from cordon-probe", 23) == 0)
            return report(target, 0, "connected to the planted listener", NULL);
        return report(target, ECONNREFUSED,
                      "connected, but not to the planted listener (no greeting: something "
                      "else, such as a capturing proxy, took the connection)",
                      NULL);
    }
    close(fd);
    return report(target, r < 0 ? e : 0, r < 0 ? NULL : "connected", NULL);
}

/* Host-side helper: serve until killed.  Each client gets one line. */
static int serve(int fd, const char *target, const char *extra)
{
    if (listen(fd, 16) < 0)
        return outcome(target, -1, NULL);
    report(target, 0, "ready", extra);
    for (;;) {
        int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return outcome(target, -1, NULL);
        }
        /* The client usually hangs up at once: no SIGPIPE for that. */
        (void)!send(c, "hello from cordon-probe\n", 24, MSG_NOSIGNAL | MSG_DONTWAIT);
        close(c);
    }
}

static int op_listen_unix(int argc, char **argv, bool abstract)
{
    if (argc != 1)
        return usage(abstract ? "listen-abstract NAME" : "listen-unix PATH");
    struct sockaddr_un sa;
    socklen_t len;
    if (unix_addr(&sa, &len, argv[0], abstract) < 0)
        return usage("socket name too long");
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, len) < 0)
        return outcome(argv[0], -1, NULL);
    return serve(fd, argv[0], NULL);
}

static int op_listen_tcp(int argc, char **argv)
{
    if (argc != 2)
        return usage("listen-tcp ADDR PORT (PORT 0 = any; the port is reported)");
    int port = parse_port(argv[1], true);
    struct sockaddr_storage ss;
    socklen_t len;
    if (port < 0 || inet_addr_parse(&ss, &len, argv[0], port) < 0)
        return usage("listen-tcp: ADDR must be a numeric address and PORT 0-65535");
    char target[128];
    snprintf(target, sizeof target, "%s:%d", argv[0], port);
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&ss, len) < 0)
        return outcome(target, -1, NULL);
    struct sockaddr_storage got;
    socklen_t gl = sizeof got;
    if (getsockname(fd, (struct sockaddr *)&got, &gl) < 0)
        return outcome(target, -1, NULL);
    int real = ntohs(got.ss_family == AF_INET ? ((struct sockaddr_in *)&got)->sin_port
                                              : ((struct sockaddr_in6 *)&got)->sin6_port);
    char extra[32];
    snprintf(extra, sizeof extra, ",\"port\":%d", real);
    return serve(fd, target, extra);
}

/* ---------------------------------------------------------------- processes */

static int parse_signal(const char *s)
{
    static const struct {
        const char *name;
        int sig;
    } sigs[] = {{"0", 0},         {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT},
                {"KILL", SIGKILL}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"TERM", SIGTERM},
                {"CONT", SIGCONT}, {"STOP", SIGSTOP}};
    if (strncmp(s, "SIG", 3) == 0)
        s += 3;
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (strcmp(s, sigs[i].name) == 0)
            return sigs[i].sig;
    char *end;
    long n = strtol(s, &end, 10);
    if (*s && !*end && n >= 0 && n < 65)
        return (int)n;
    return -1;
}

static int parse_pid(const char *s)
{
    char *end;
    long n = strtol(s, &end, 10);
    if (!*s || *end || n <= 0 || n > 4194304)
        return -1;
    return (int)n;
}

static int op_kill(int argc, char **argv)
{
    if (argc != 1 && argc != 2)
        return usage("kill PID [SIGNAL]");
    int pid = parse_pid(argv[0]);
    int sig = argc == 2 ? parse_signal(argv[1]) : 0;
    if (pid < 0 || sig < 0)
        return usage("kill: bad PID or SIGNAL");
    return outcome(argv[0], kill(pid, sig), "signal delivered");
}

static int attach_detach(pid_t pid)
{
    if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) < 0)
        return -1;
    int st;
    while (waitpid(pid, &st, __WALL) < 0)
        if (errno != EINTR)
            return -1;
    return (int)ptrace(PTRACE_DETACH, pid, NULL, NULL);
}

static int op_ptrace_attach(int argc, char **argv)
{
    if (argc != 1)
        return usage("ptrace-attach PID");
    int pid = parse_pid(argv[0]);
    if (pid < 0)
        return usage("ptrace-attach: bad PID");
    return outcome(argv[0], attach_detach(pid), "attached and detached");
}

/* Positive twin of ptrace-attach: tracing one's own child must keep working
 * (debuggers, strace) inside a sandbox. */
static int op_ptrace_child(int argc, char **argv)
{
    (void)argv;
    if (argc != 0)
        return usage("ptrace-child");
    pid_t pid = fork();
    if (pid < 0)
        return outcome("child", -1, NULL);
    if (pid == 0) {
        for (int i = 0; i < 100; i++)
            usleep(50000);
        _exit(0);
    }
    int r = attach_detach(pid);
    int e = errno;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return report("child", r < 0 ? e : 0, r < 0 ? NULL : "attached and detached", NULL);
}

/* Push one NUL byte into the terminal's input queue: the classic way for a
 * sandboxed process to type commands into the user's shell. */
static int op_tiocsti(int argc, char **argv)
{
    (void)argv;
    if (argc != 0)
        return usage("tiocsti");
    const char *target = "/dev/tty";
    int fd = open(target, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        target = "stdin";
        fd = dup(0);
    }
    if (fd < 0)
        return outcome(target, -1, NULL);
    char c = '\0';
    int r = ioctl(fd, TIOCSTI, &c);
    int e = errno;
    close(fd);
    return report(target, r < 0 ? e : 0, r < 0 ? NULL : "injected one NUL byte", NULL);
}

/* ---------------------------------------------------------------- syscalls */

static long try_bpf(void)
{
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = 4;
    attr.max_entries = 1;
    long fd = syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr);
    if (fd >= 0)
        close((int)fd);
    return fd;
}

static long try_perf(void)
{
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.type = PERF_TYPE_SOFTWARE;
    attr.size = sizeof attr;
    attr.config = PERF_COUNT_SW_TASK_CLOCK;
    attr.disabled = 1;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
    if (fd >= 0)
        close((int)fd);
    return fd;
}

static long try_fd_syscall(long r)
{
    if (r >= 0)
        close((int)r);
    return r;
}

static long try_io_uring(void)
{
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    return try_fd_syscall(syscall(SYS_io_uring_setup, 1, &p));
}

/* Mount point that never exists: when the call is not filtered, the kernel
 * answers ENOENT (or EPERM for lack of capability) and nothing is mounted. */
static long try_mount(void)
{
    return mount("cordon-probe", "/nonexistent-cordon-probe-mountpoint", "tmpfs", 0, NULL);
}

static long try_clone3(void)
{
    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.exit_signal = SIGCHLD;
    long r = syscall(SYS_clone3, &ca, sizeof ca);
    if (r == 0)
        syscall(SYS_exit_group, 0);
    if (r > 0)
        waitpid((pid_t)r, NULL, 0);
    return r;
}

static long try_socket(int family, int type, int proto)
{
    return try_fd_syscall(socket(family, type | SOCK_CLOEXEC, proto));
}

static long try_unshare(int flags)
{
    /* In a child, so the probe itself stays where it was. */
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        _exit(unshare(flags) < 0 ? errno : 0);
    int st;
    if (waitpid(pid, &st, 0) < 0)
        return -1;
    if (!WIFEXITED(st)) {
        errno = ECHILD;
        return -1;
    }
    if (WEXITSTATUS(st)) {
        errno = WEXITSTATUS(st);
        return -1;
    }
    return 0;
}

static int op_syscall(int argc, char **argv)
{
    if (argc != 1)
        return usage("syscall NAME");
    const char *n = argv[0];
    long r;
    if (!strcmp(n, "bpf"))
        r = try_bpf();
    else if (!strcmp(n, "keyctl"))
        r = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0);
    else if (!strcmp(n, "perf_event_open"))
        r = try_perf();
    else if (!strcmp(n, "userfaultfd"))
        r = try_fd_syscall(syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
    else if (!strcmp(n, "io_uring_setup"))
        r = try_io_uring();
    else if (!strcmp(n, "unshare-user"))
        r = try_unshare(CLONE_NEWUSER);
    else if (!strcmp(n, "unshare-mount"))
        r = try_unshare(CLONE_NEWNS);
    else if (!strcmp(n, "mount"))
        r = try_mount();
    else if (!strcmp(n, "clone3"))
        r = try_clone3();
    else if (!strcmp(n, "socket-packet"))
        r = try_socket(AF_PACKET, SOCK_RAW, 0);
    else if (!strcmp(n, "socket-netlink-audit"))
        r = try_socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT);
    else if (!strcmp(n, "socket-netlink-route"))
        r = try_socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    else if (!strcmp(n, "socket-unix"))
        r = try_socket(AF_UNIX, SOCK_STREAM, 0);
    else if (!strcmp(n, "socket-inet"))
        r = try_socket(AF_INET, SOCK_STREAM, 0);
    else if (!strcmp(n, "init_module"))
        /* NULL image: the kernel checks the capability, then faults. */
        r = syscall(SYS_init_module, NULL, 0UL, "");
    else if (!strcmp(n, "kexec_load"))
        /* Invalid flags: after the capability check the kernel says EINVAL
         * without touching any loaded image. */
        r = syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0xdead0000UL);
    else
        return usage("syscall: unknown NAME (bpf keyctl perf_event_open userfaultfd io_uring_setup "
                     "unshare-user unshare-mount mount clone3 socket-packet socket-netlink-audit "
                     "socket-netlink-route socket-unix socket-inet init_module kexec_load)");
    return outcome(n, r, "call succeeded");
}

/* ---------------------------------------------------------------- status */

static void status_field(const char *key, char *out, size_t n)
{
    snprintf(out, n, "?");
    FILE *f = fopen("/proc/self/status", "re");
    if (!f)
        return;
    char line[256];
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
            char *v = line + kl + 1;
            v += strspn(v, " \t");
            v[strcspn(v, "\n")] = '\0';
            snprintf(out, n, "%s", v);
            break;
        }
    }
    fclose(f);
}

static int count_pids(void)
{
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && strspn(e->d_name, "0123456789") == strlen(e->d_name))
            n++;
    closedir(d);
    return n;
}

static int op_status(int argc, char **argv)
{
    (void)argv;
    if (argc != 0)
        return usage("status");
    char nnp[32], capeff[32], capprm[32], capbnd[32], seccomp[32];
    status_field("NoNewPrivs", nnp, sizeof nnp);
    status_field("CapEff", capeff, sizeof capeff);
    status_field("CapPrm", capprm, sizeof capprm);
    status_field("CapBnd", capbnd, sizeof capbnd);
    status_field("Seccomp", seccomp, sizeof seccomp);
    struct rlimit rl = {0, 0};
    getrlimit(RLIMIT_CORE, &rl);
    char extra[512];
    snprintf(extra, sizeof extra,
             ",\"NoNewPrivs\":\"%s\",\"CapEff\":\"%s\",\"CapPrm\":\"%s\",\"CapBnd\":\"%s\","
             "\"Seccomp\":\"%s\",\"RLIMIT_CORE\":%lld,\"RLIMIT_CORE_max\":%lld,"
             "\"pid\":%d,\"ppid\":%d,\"sid\":%d,\"pgid\":%d,\"pids\":%d,\"uid\":%u,\"gid\":%u,"
             "\"euid\":%u,\"egid\":%u",
             nnp, capeff, capprm, capbnd, seccomp,
             rl.rlim_cur == RLIM_INFINITY ? -1LL : (long long)rl.rlim_cur,
             rl.rlim_max == RLIM_INFINITY ? -1LL : (long long)rl.rlim_max, (int)getpid(),
             (int)getppid(), (int)getsid(0), (int)getpgid(0), count_pids(), (unsigned)getuid(),
             (unsigned)getgid(), (unsigned)geteuid(), (unsigned)getegid());
    return report("self", 0, "process status", extra);
}

static int op_env(int argc, char **argv)
{
    if (argc != 1)
        return usage("env NAME");
    const char *v = getenv(argv[0]);
    if (!v)
        return report(argv[0], ENOENT, "not set", NULL);
    char extra[48];
    snprintf(extra, sizeof extra, ",\"length\":%zu", strlen(v));
    return report(argv[0], 0, "set (value not shown)", extra);
}

static int op_shm_write(int argc, char **argv)
{
    if (argc > 1)
        return usage("shm-write [NAME]");
    char path[256];
    int fd;
    if (argc == 1) {
        if (strchr(argv[0], '/') || !argv[0][0] || strlen(argv[0]) > 200)
            return usage("shm-write: NAME must be a plain file name");
        snprintf(path, sizeof path, "/dev/shm/%s", argv[0]);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    } else {
        snprintf(path, sizeof path, "/dev/shm/cordon-probe-XXXXXX");
        fd = mkostemp(path, O_CLOEXEC);
    }
    if (fd < 0)
        return outcome(path, -1, NULL);
    ssize_t n = write(fd, MARKER, strlen(MARKER));
    int e = errno;
    close(fd);
    return report(path, n < 0 ? e : 0, n < 0 ? NULL : "wrote marker", NULL);
}

/* ---------------------------------------------------------------- radius */

/* The battery of `cordon radius` passes canary tokens reversed, so that the
 * probe's own command line never contains the token it looks for. */
static void unreverse(const char *in, char *out, size_t n)
{
    size_t l = strlen(in);
    if (l >= n)
        l = n - 1;
    for (size_t i = 0; i < l; i++)
        out[i] = in[l - 1 - i];
    out[l] = '\0';
}

/* Read at most 64 KiB of PATH and say whether the canary is in it: the
 * evidence that a secret was reached, without the secret itself. */
static int read_match(const char *path, const char *rtoken)
{
    char token[128];
    unreverse(rtoken, token, sizeof token);
    if (!token[0])
        return usage("read-match: empty TOKEN");
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return outcome(path, -1, NULL);
    static char buf[65536];
    size_t got = 0;
    while (got < sizeof buf) {
        ssize_t n = read(fd, buf + got, sizeof buf - got);
        if (n < 0) {
            int e = errno;
            close(fd);
            return report(path, e, NULL, NULL);
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    bool match = memmem(buf, got, token, strlen(token)) != NULL;
    char extra[64];
    snprintf(extra, sizeof extra, ",\"bytes\":%zu,\"match\":%s", got, match ? "true" : "false");
    return report(path, 0, match ? "canary read" : "read, no canary", extra);
}

static int op_read_match(int argc, char **argv)
{
    if (argc != 2)
        return usage("read-match PATH REVERSED-TOKEN");
    return read_match(argv[0], argv[1]);
}

static int op_env_match(int argc, char **argv)
{
    if (argc != 2)
        return usage("env-match NAME REVERSED-TOKEN");
    char token[128];
    unreverse(argv[1], token, sizeof token);
    const char *v = getenv(argv[0]);
    if (!v)
        return report(argv[0], ENOENT, "not set", NULL);
    bool match = token[0] && strstr(v, token);
    char extra[64];
    snprintf(extra, sizeof extra, ",\"length\":%zu,\"match\":%s", strlen(v), match ? "true" : "false");
    return report(argv[0], 0, match ? "canary value present" : "set, not the canary", extra);
}

/* Any process whose command line carries the canary: host command lines
 * leaking through /proc. */
static int op_find_cmdline(int argc, char **argv)
{
    if (argc != 1)
        return usage("find-cmdline REVERSED-TOKEN");
    char token[128];
    unreverse(argv[0], token, sizeof token);
    if (!token[0])
        return usage("find-cmdline: empty TOKEN");
    DIR *d = opendir("/proc");
    if (!d)
        return outcome("/proc", -1, NULL);
    int seen = 0, found = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strspn(e->d_name, "0123456789") != strlen(e->d_name))
            continue;
        seen++;
        char path[300];
        snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        char buf[4096];
        ssize_t n = read(fd, buf, sizeof buf);
        close(fd);
        if (n > 0 && memmem(buf, (size_t)n, token, strlen(token)))
            found++;
    }
    closedir(d);
    char extra[64], detail[96];
    snprintf(extra, sizeof extra, ",\"pids\":%d,\"match\":%s", seen, found ? "true" : "false");
    snprintf(detail, sizeof detail, "%d processes visible, canary command line %s", seen,
             found ? "seen" : "not seen");
    return report("/proc", 0, detail, extra);
}

/* Host-side canary process: sleeps until killed.  It lets any process
 * ptrace it, so that without a sandbox the ptrace probe shows what it
 * detects even where Yama would refuse a non-child. */
static int op_hold(int argc, char **argv)
{
    (void)argv; /* the token is there to be seen in /proc/PID/cmdline */
    if (argc != 1)
        return usage("hold TOKEN");
#ifdef PR_SET_PTRACER
    (void)prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
#endif
    char extra[32];
    snprintf(extra, sizeof extra, ",\"pid\":%d", (int)getpid());
    report("self", 0, "ready", extra);
    for (;;)
        pause();
}

static int op_open(int argc, char **argv)
{
    if (argc != 1)
        return usage("open PATH");
    int fd = open(argv[0], O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return outcome(argv[0], -1, NULL);
    close(fd);
    return report(argv[0], 0, "opened (nothing read)", NULL);
}

static int op_list(int argc, char **argv)
{
    if (argc != 1)
        return usage("list DIR");
    DIR *d = opendir(argv[0]);
    if (!d)
        return outcome(argv[0], -1, NULL);
    int n = 0;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    int er = errno;
    closedir(d);
    if (er)
        return report(argv[0], er, NULL, NULL);
    char extra[32], detail[64];
    snprintf(extra, sizeof extra, ",\"entries\":%d", n);
    snprintf(detail, sizeof detail, "listed %d entries (names not shown)", n);
    return report(argv[0], 0, detail, extra);
}

/* connect() on a UDP socket only looks the route up: no packet leaves, so
 * it is safe to point at any address, and says whether one could. */
static int op_udp_route(int argc, char **argv)
{
    if (argc != 2)
        return usage("udp-route HOST PORT (HOST numeric)");
    int port = parse_port(argv[1], false);
    struct sockaddr_storage ss;
    socklen_t len;
    if (port < 0 || inet_addr_parse(&ss, &len, argv[0], port) < 0)
        return usage("udp-route: HOST must be a numeric address and PORT 1-65535");
    char target[128];
    snprintf(target, sizeof target, "%s:%d", argv[0], port);
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return outcome(target, -1, NULL);
    int r = connect(fd, (struct sockaddr *)&ss, len);
    int e = errno;
    /* A route that leaves by cordon's dead-end interface (cdn0: the egress
     * broker's capture hangs on it; TCP goes to the broker, which decides,
     * other UDP is dropped) is no way out by itself.  Found by the source
     * address the kernel picked. */
    struct sockaddr_storage src;
    socklen_t sl = sizeof src;
    bool dead_end = false;
    struct ifaddrs *ifs = NULL;
    if (r == 0 && getsockname(fd, (struct sockaddr *)&src, &sl) == 0 && getifaddrs(&ifs) == 0) {
        for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
            if (!i->ifa_addr || i->ifa_addr->sa_family != src.ss_family)
                continue;
            bool same = src.ss_family == AF_INET
                            ? memcmp(&((struct sockaddr_in *)i->ifa_addr)->sin_addr,
                                     &((struct sockaddr_in *)&src)->sin_addr, 4) == 0
                            : memcmp(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
                                     &((struct sockaddr_in6 *)&src)->sin6_addr, 16) == 0;
            if (same && strcmp(i->ifa_name, "cdn0") == 0)
                dead_end = true;
        }
        freeifaddrs(ifs);
    }
    close(fd);
    if (dead_end)
        return report(target, ENETUNREACH,
                      "the only route is cordon's dead-end interface (captured by its broker)",
                      NULL);
    return report(target, r < 0 ? e : 0, r < 0 ? NULL : "route exists (no packet sent)", NULL);
}

static long long read_ll_file(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -2;
    char buf[64] = "";
    bool ok = fgets(buf, sizeof buf, f) != NULL;
    fclose(f);
    if (!ok)
        return -2;
    if (strncmp(buf, "max", 3) == 0)
        return -1;
    return strtoll(buf, NULL, 10);
}

/* The limits that would stop process or memory exhaustion: rlimits and the
 * cgroup v2 controls of our own cgroup (-1 unlimited, -2 unknown). */
static int op_limits(int argc, char **argv)
{
    (void)argv;
    if (argc != 0)
        return usage("limits");
    struct rlimit np = {RLIM_INFINITY, RLIM_INFINITY}, as = {RLIM_INFINITY, RLIM_INFINITY};
    getrlimit(RLIMIT_NPROC, &np);
    getrlimit(RLIMIT_AS, &as);
    char cg[512] = "";
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "0::", 3) == 0) {
                line[strcspn(line, "\n")] = '\0';
                snprintf(cg, sizeof cg, "%s", line + 3);
            }
        fclose(f);
    }
    long long pids_max = -2, mem_max = -2;
    if (cg[0]) {
        char path[700];
        snprintf(path, sizeof path, "/sys/fs/cgroup%s/pids.max", strcmp(cg, "/") ? cg : "");
        pids_max = read_ll_file(path);
        snprintf(path, sizeof path, "/sys/fs/cgroup%s/memory.max", strcmp(cg, "/") ? cg : "");
        mem_max = read_ll_file(path);
    }
    char extra[256];
    snprintf(extra, sizeof extra,
             ",\"RLIMIT_NPROC\":%lld,\"RLIMIT_AS\":%lld,\"pids_max\":%lld,\"memory_max\":%lld",
             np.rlim_cur == RLIM_INFINITY ? -1LL : (long long)np.rlim_cur,
             as.rlim_cur == RLIM_INFINITY ? -1LL : (long long)as.rlim_cur, pids_max, mem_max);
    return report("self", 0, "limits", extra);
}

/* Hard link a file from outside into a writable place, use it, unlink it. */
static int op_hardlink(int argc, char **argv, bool write_it)
{
    if (write_it ? argc != 2 : argc != 3)
        return usage(write_it ? "hardlink-write EXISTING NEW" : "hardlink-read EXISTING NEW REVERSED-TOKEN");
    if (link(argv[0], argv[1]) < 0)
        return outcome(argv[1], -1, NULL);
    int rc;
    if (write_it) {
        int fd = open(argv[1], O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        ssize_t n = fd < 0 ? -1 : write(fd, MARKER, strlen(MARKER));
        int e = errno;
        if (fd >= 0)
            close(fd);
        rc = report(argv[1], n < 0 ? e : 0, n < 0 ? NULL : "linked and wrote through the link", NULL);
    } else {
        rc = read_match(argv[1], argv[2]);
    }
    unlink(argv[1]);
    return rc;
}

static int op_hardlink_write(int argc, char **argv) { return op_hardlink(argc, argv, true); }
static int op_hardlink_read(int argc, char **argv) { return op_hardlink(argc, argv, false); }

/* An agent finds its agents through the environment. */
static int op_connect_unix_env(int argc, char **argv)
{
    if (argc != 1)
        return usage("connect-unix-env NAME");
    const char *v = getenv(argv[0]);
    if (!v || !*v)
        return report(argv[0], ENOENT, "variable not set: no socket to find", NULL);
    char *path[1] = {(char *)(uintptr_t)v};
    if (strncmp(v, "unix:path=", 10) == 0)
        path[0] += 10;
    return op_connect_unix(1, path, false);
}

static int op_batch(int argc, char **argv);

/* ---------------------------------------------------------------- main */

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} ops[] = {
    {"read", op_read, "PATH              read at most 16 bytes (length reported, never content)"},
    {"write", op_write, "[--truncate] PATH append (or truncate+write) a marker, creating PATH"},
    {"create", op_create, "PATH            create a new file (O_EXCL)"},
    {"mkdir", op_mkdir, "PATH             create a directory"},
    {"unlink", op_unlink, "PATH            remove a file or empty directory"},
    {"rename", op_rename, "FROM TO         rename(2)"},
    {"link", op_link, "EXISTING NEW        hard link"},
    {"symlink", op_symlink, "TARGET LINK    symbolic link"},
    {"chmod", op_chmod, "PATH [MODE]      chmod (default 0755)"},
    {"connect-unix", NULL, "PATH      connect to a unix socket"},
    {"connect-abstract", NULL, "NAME  connect to an abstract unix socket"},
    {"connect-tcp", op_connect_tcp, "HOST PORT  TCP connect, 2 s timeout"},
    {"listen-unix", NULL, "PATH       serve on a unix socket until killed"},
    {"listen-abstract", NULL, "NAME   serve on an abstract socket until killed"},
    {"listen-tcp", op_listen_tcp, "ADDR PORT   serve on TCP until killed (PORT 0 = any)"},
    {"kill", op_kill, "PID [SIGNAL]        kill(2), default signal 0"},
    {"ptrace-attach", op_ptrace_attach, "PID PTRACE_ATTACH then detach"},
    {"ptrace-child", op_ptrace_child, "     attach to a child of our own"},
    {"tiocsti", op_tiocsti, "               TIOCSTI on /dev/tty (or stdin)"},
    {"syscall", op_syscall, "NAME           try a kernel-surface syscall harmlessly"},
    {"status", op_status, "                 NoNewPrivs, caps, seccomp, core limit, ids, pids"},
    {"env", op_env, "NAME                   is NAME set (value never printed)"},
    {"shm-write", op_shm_write, "[NAME]       write a file in /dev/shm"},
    {"read-match", op_read_match, "PATH RTOKEN  read up to 64 KiB; is the (reversed) canary there"},
    {"env-match", op_env_match, "NAME RTOKEN   is NAME set to the (reversed) canary"},
    {"find-cmdline", op_find_cmdline, "RTOKEN  any visible process with the canary in its cmdline"},
    {"hold", op_hold, "TOKEN                  host canary process: sleep until killed"},
    {"open", op_open, "PATH                   open read-only and close, nothing read"},
    {"list", op_list, "DIR                    count entries (names not shown)"},
    {"udp-route", op_udp_route, "HOST PORT   UDP connect: is there a route (no packet sent)"},
    {"limits", op_limits, "                     process and memory limits (rlimits, cgroup)"},
    {"hardlink-write", op_hardlink_write, "EXISTING NEW  link, append a marker through it, unlink"},
    {"hardlink-read", op_hardlink_read, "EXISTING NEW RTOKEN  link, read-match through it, unlink"},
    {"connect-unix-env", op_connect_unix_env, "NAME  connect to the socket named by $NAME"},
    {"batch", op_batch, "FILE                  run each line ID<TAB>OP<TAB>ARG... (one child each)"},
};

static int op_connect_unix_path(int argc, char **argv) { return op_connect_unix(argc, argv, false); }
static int op_connect_abstract(int argc, char **argv) { return op_connect_unix(argc, argv, true); }
static int op_listen_unix_path(int argc, char **argv) { return op_listen_unix(argc, argv, false); }
static int op_listen_abstract(int argc, char **argv) { return op_listen_unix(argc, argv, true); }

static int (*lookup_op(const char *name))(int, char **)
{
    if (!strcmp(name, "connect-unix"))
        return op_connect_unix_path;
    if (!strcmp(name, "connect-abstract"))
        return op_connect_abstract;
    if (!strcmp(name, "listen-unix"))
        return op_listen_unix_path;
    if (!strcmp(name, "listen-abstract"))
        return op_listen_abstract;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (ops[i].fn && !strcmp(name, ops[i].name))
            return ops[i].fn;
    return NULL;
}

static const char *signal_name(int sig)
{
    const char *n = sigabbrev_np(sig);
    return n ? n : "?";
}

/* One child per line, so a probe killed by a seccomp filter or stuck in a
 * call costs only its own line: the parent reports how it ended. */
static int run_one(char *line)
{
    char *args[16];
    int n = 0;
    for (char *tok = strtok(line, "\t"); tok && n < 16; tok = strtok(NULL, "\t"))
        args[n++] = tok;
    if (n < 2 || n == 16)
        return usage("batch: a line needs ID<TAB>OP[<TAB>ARG...] and at most 14 arguments");
    int (*fn)(int, char **) = lookup_op(args[1]);
    if (!fn || fn == op_batch || fn == op_hold || fn == op_listen_tcp ||
        fn == op_listen_unix_path || fn == op_listen_abstract)
        return usage("batch: unknown operation or one that does not return");
    probe_id = args[0];
    op_name = args[1];
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return report("batch", errno, "fork failed", NULL);
    if (pid == 0) {
        alarm(10);
        args[n] = NULL;
        _exit(fn(n - 2, args + 2));
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return report("batch", errno, "waitpid failed", NULL);
    if (WIFSIGNALED(st)) {
        char detail[64], extra[48];
        snprintf(detail, sizeof detail, "probe killed by SIG%s", signal_name(WTERMSIG(st)));
        snprintf(extra, sizeof extra, ",\"signal\":\"SIG%s\"", signal_name(WTERMSIG(st)));
        /* No errno: the call never returned. */
        printf("{\"id\":");
        json_str(stdout, probe_id);
        printf(",\"op\":");
        json_str(stdout, op_name);
        printf(",\"target\":\"\",\"ok\":false,\"errno\":\"SIG%s\",\"detail\":", signal_name(WTERMSIG(st)));
        json_str(stdout, detail);
        printf("%s}\n", extra);
        fflush(stdout);
    }
    return 0;
}

static int op_batch(int argc, char **argv)
{
    if (argc != 1)
        return usage("batch FILE");
    FILE *f = fopen(argv[0], "re");
    if (!f)
        return outcome(argv[0], -1, NULL);
    char line[4096];
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        if (run_one(line) == 2)
            rc = 2;
    }
    fclose(f);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help")) {
        FILE *out = argc < 2 ? stderr : stdout;
        fprintf(out, "usage: cordon-probe OP [ARGS]   (one JSON line; exit 0 ok, 1 refused, 2 usage)\n");
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
            fprintf(out, "  %s %s\n", ops[i].name, ops[i].help);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--id") && argc >= 4) {
        probe_id = argv[2];
        argv += 2;
        argc -= 2;
    }
    op_name = argv[1];
    int (*fn)(int, char **) = lookup_op(op_name);
    if (!fn)
        return usage("unknown operation");
    return fn(argc - 2, argv + 2);
}
