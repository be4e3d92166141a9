/* The Landlock audit reader against this kernel, as root: a watched child
 * that Landlock denies a read and a create must come out as fs.violation
 * events with path, operation, pid, process and errno; an unwatched
 * process's denials must not.  Exit 77 (skipped) when not root or when the
 * kernel's Landlock has no audit (ABI < 7), saying why. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/landlock.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit/landlock_audit.h"

#define FAIL(...)                                                                                 \
    do {                                                                                          \
        fprintf(stderr, "FAIL: " __VA_ARGS__);                                                    \
        fputc('\n', stderr);                                                                      \
        exit(1);                                                                                  \
    } while (0)

/* Waits for "go", confines itself, tries a read and a create, exits. */
static pid_t confined_child(int go_fd, const char *create_path)
{
    pid_t p = fork();
    if (p != 0)
        return p;
    char c;
    if (read(go_fd, &c, 1) != 1)
        _exit(2);
    struct landlock_ruleset_attr ra = {
        .handled_access_fs = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_MAKE_REG};
    int rs = (int)syscall(SYS_landlock_create_ruleset, &ra, sizeof ra, 0);
    if (rs < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        syscall(SYS_landlock_restrict_self, rs, 0) < 0)
        _exit(3);
    if (open("/etc/hostname", O_RDONLY) >= 0 || errno != EACCES)
        _exit(4);
    if (open(create_path, O_CREAT | O_WRONLY, 0600) >= 0 || errno != EACCES)
        _exit(5);
    _exit(0);
}

int main(void)
{
    if (geteuid() != 0) {
        printf("SKIP: reading kernel audit records needs CAP_AUDIT_READ (run as root)\n");
        return 77;
    }
    int abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi < 7) {
        printf("SKIP: Landlock ABI %d on this kernel; audit records need ABI 7 (Linux 6.15)\n", abi);
        return 77;
    }
    char dir[] = "/tmp/cordon-ll-XXXXXX";
    if (!mkdtemp(dir))
        FAIL("mkdtemp");
    char log[64], create[64];
    snprintf(log, sizeof log, "%s/audit.jsonl", dir);
    snprintf(create, sizeof create, "%s/new-file", dir);

    cdn_error_t err;
    cdn_audit_t *a;
    cdn_audit_config_t cfg = {.jsonl_path = log, .quiet = true};
    if (cdn_audit_open(&cfg, &a, &err) < 0)
        FAIL("audit open: %s", err.msg);
    cdn_landlock_audit_t *r;
    if (cdn_landlock_audit_open(true, &r, &err) < 0)
        FAIL("landlock audit reader: %s (%s)", err.msg, strerror(err.errnum));

    int go[2], go2[2];
    if (pipe(go) < 0 || pipe(go2) < 0)
        FAIL("pipe");
    pid_t watched = confined_child(go[0], create);
    pid_t other = confined_child(go2[0], create); /* same denials, not watched */
    cdn_landlock_audit_watch(r, watched);
    if (write(go[1], "g", 1) != 1 || write(go2[1], "g", 1) != 1)
        FAIL("write");
    int st;
    if (waitpid(watched, &st, 0) != watched || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        FAIL("watched child: status %d", st);
    if (waitpid(other, &st, 0) != other || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        FAIL("other child: status %d", st);

    int got = 0;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        struct pollfd pfd = {.fd = cdn_landlock_audit_fd(r), .events = POLLIN};
        poll(&pfd, 1, 200);
        int n = cdn_landlock_audit_read(r, a, &err);
        if (n < 0)
            FAIL("read: %s", err.msg);
        got += n;
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while (got < 2 && t.tv_sec - t0.tv_sec < 3);
    /* A little longer: the unwatched child's records must not show up. */
    usleep(200000);
    got += cdn_landlock_audit_read(r, a, &err);
    cdn_landlock_audit_close(r, a);
    cdn_audit_close(a, NULL);

    FILE *f = fopen(log, "r");
    if (!f)
        FAIL("no audit log");
    bool saw_read = false, saw_create = false;
    int lines = 0;
    json_t *ev;
    while ((ev = json_loadf(f, JSON_DISABLE_EOF_CHECK, NULL))) {
        lines++;
        json_t *fs = json_object_get(ev, "fs");
        const char *kind = json_string_value(json_object_get(ev, "kind"));
        const char *path = json_string_value(json_object_get(fs, "path"));
        const char *op = json_string_value(json_object_get(fs, "operation"));
        json_int_t pid = json_integer_value(json_object_get(fs, "pid"));
        json_int_t eno = json_integer_value(json_object_get(fs, "errno"));
        printf("event: %s %s %s pid %lld errno %lld setting %s\n", kind, op, path, (long long)pid,
               (long long)eno, json_string_value(json_object_get(fs, "setting")));
        if (!kind || strcmp(kind, "fs.violation") != 0)
            FAIL("unexpected kind %s", kind);
        if (pid != watched)
            FAIL("event of pid %lld, watched %d (other %d)", (long long)pid, watched, other);
        if (eno != EACCES)
            FAIL("errno %lld", (long long)eno);
        if (!json_string_value(json_object_get(fs, "process_name")))
            FAIL("no process name");
        if (strcmp(op, "read_file") == 0 && strcmp(path, "/etc/hostname") == 0)
            saw_read = strcmp(json_string_value(json_object_get(fs, "setting")),
                              "filesystem.allowRead") == 0;
        if (strcmp(op, "make_reg") == 0 && strstr(path, dir))
            saw_create = true;
        json_decref(ev);
    }
    fclose(f);
    unlink(log);
    rmdir(dir);
    if (!saw_read || !saw_create || lines != 2)
        FAIL("expected the read and the create of the watched child only (%d events, read %d "
             "create %d)", lines, saw_read, saw_create);
    printf("ok: Landlock denials of the watched process reported, others not\n");
    return 0;
}
