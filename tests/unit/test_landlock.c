/* Landlock: the plan per workspace mode and ABI (pure), and real enforcement
 * in forked children on a temporary tree. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "landlock/landlock.h"
#include "landlock/landlock_compat.h"

#define R_READ \
    (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define R_REMOVE (LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR)

/* A policy with the fields the Landlock plan reads; paths owned by the test. */
typedef struct fixture {
    cdn_policy_t pol;
    cdn_rule_path_t hidden[64], writable[4], tmp[4];
    int ports[2];
    cdn_plan_t plan;
    char store[80][600]; /* the policy's paths are not const */
    size_t n_store;
} fixture_t;

static char *keep(fixture_t *f, const char *s)
{
    assert_true(f->n_store < 80);
    snprintf(f->store[f->n_store], sizeof f->store[0], "%s", s);
    return f->store[f->n_store++];
}

static void fixture_init(fixture_t *f, const char *ws, cdn_ws_mode_t mode)
{
    memset(f, 0, sizeof *f);
    f->pol.workspace = keep(f, ws);
    f->pol.ws_mode = mode;
    f->pol.hidden.v = f->hidden;
    f->pol.writable.v = f->writable;
    f->pol.private_tmp.v = f->tmp;
    f->plan.policy = &f->pol;
}

static void add_path(fixture_t *f, cdn_rule_paths_t *rp, const char *path)
{
    rp->v[rp->n++] = (cdn_rule_path_t){ .path = keep(f, path), .why = "test" };
}

static const cdn_ll_path_t *find(const cdn_landlock_plan_t *ll, const char *path)
{
    for (size_t i = 0; i < ll->n_paths; i++)
        if (strcmp(ll->paths[i].path, path) == 0)
            return &ll->paths[i];
    return NULL;
}

static uint64_t access_of(const cdn_landlock_plan_t *ll, const char *path)
{
    const cdn_ll_path_t *p = find(ll, path);
    if (!p)
        fail_msg("no grant for %s", path);
    return p->access;
}

/* ---- plan ---- */

static void test_rights_per_abi(void **state)
{
    (void)state;
    assert_int_equal(cdn_landlock_fs_rights(0), 0);
    assert_int_equal(cdn_landlock_fs_rights(1), 0x1fff);
    assert_int_equal(cdn_landlock_fs_rights(2), 0x3fff);
    assert_int_equal(cdn_landlock_fs_rights(3), 0x7fff);
    assert_int_equal(cdn_landlock_fs_rights(4), 0x7fff);
    assert_int_equal(cdn_landlock_fs_rights(5), 0xffff);
    assert_int_equal(cdn_landlock_fs_rights(7), 0xffff);
    assert_int_equal(cdn_landlock_restrict_flags(6), 0);
    assert_int_equal(cdn_landlock_restrict_flags(7), LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON);
}

static void test_plan_modes(void **state)
{
    (void)state;
    static const struct {
        cdn_ws_mode_t mode;
        int abi;
    } cases[] = {
        { CDN_WS_READ_WRITE, 1 },           { CDN_WS_READ_WRITE, 3 },
        { CDN_WS_READ_WRITE, 7 },           { CDN_WS_READ_WRITE_NO_DELETE, 2 },
        { CDN_WS_READ_WRITE_NO_DELETE, 7 }, { CDN_WS_READ_ONLY, 4 },
        { CDN_WS_READ_ONLY, 7 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fixture_t f;
        cdn_error_t err = { 0 };
        fixture_init(&f, "/home/u/ws", cases[i].mode);
        add_path(&f, &f.pol.hidden, "/home/u/.ssh");
        add_path(&f, &f.pol.hidden, "/home/u/ws/.env");
        add_path(&f, &f.pol.writable, "/home/u/.cache/x");
        add_path(&f, &f.pol.private_tmp, "/tmp");
        int abi = cases[i].abi;
        assert_int_equal(cdn_landlock_plan(&f.plan, abi, &err), 0);
        const cdn_landlock_plan_t *ll = &f.plan.landlock;
        uint64_t all = cdn_landlock_fs_rights(abi);

        assert_int_equal(ll->abi, abi);
        assert_int_equal(ll->handled_fs, all);
        assert_int_equal(access_of(ll, "/"), R_READ);
        assert_int_equal(ll->read_except.n, 2);
        assert_true(cdn_strv_contains(&ll->read_except, "/home/u/.ssh"));
        assert_true(cdn_strv_contains(&ll->read_except, "/home/u/ws/.env"));

        uint64_t ws = access_of(ll, "/home/u/ws");
        switch (cases[i].mode) {
        case CDN_WS_READ_WRITE:
            assert_int_equal(ws, all);
            break;
        case CDN_WS_READ_WRITE_NO_DELETE:
            assert_int_equal(ws, all & ~R_REMOVE);
            assert_true(ws & LANDLOCK_ACCESS_FS_MAKE_REG);
            break;
        case CDN_WS_READ_ONLY:
            assert_int_equal(ws, R_READ);
            break;
        }
        assert_int_equal(access_of(ll, "/home/u/.cache/x"), all);
        assert_int_equal(access_of(ll, "/tmp"), all);

        uint64_t null = access_of(ll, "/dev/null");
        assert_true(null & LANDLOCK_ACCESS_FS_WRITE_FILE);
        assert_int_equal(!!(null & LANDLOCK_ACCESS_FS_TRUNCATE), abi >= 3);
        assert_int_equal(!!(null & LANDLOCK_ACCESS_FS_IOCTL_DEV), abi >= 5);
        assert_int_equal(null & ~all, 0);
        assert_non_null(find(ll, "/dev/pts"));
        assert_non_null(find(ll, "/dev/tty"));
        assert_int_equal(access_of(ll, "/proc"), R_READ | LANDLOCK_ACCESS_FS_WRITE_FILE);

        /* No tcpPorts: TCP stays unhandled (the netns has only loopback). */
        assert_int_equal(ll->handled_net, 0);
        assert_int_equal(ll->scoped, abi >= 6 ? (LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET |
                                                 LANDLOCK_SCOPE_SIGNAL)
                                              : 0);
        cdn_landlock_plan_free(&f.plan.landlock);
    }
}

static void test_plan_tcp_and_caps(void **state)
{
    (void)state;
    fixture_t f;
    cdn_error_t err = { 0 };
    fixture_init(&f, "/w", CDN_WS_READ_WRITE);
    f.ports[0] = 8080;
    f.ports[1] = 0;
    f.pol.tcp_ports_set = true;
    f.pol.tcp_ports = f.ports;
    f.pol.n_tcp_ports = 2;

    assert_int_equal(cdn_landlock_plan(&f.plan, 3, &err), 0);
    assert_int_equal(f.plan.landlock.handled_net, 0); /* cannot be enforced below ABI 4 */

    assert_int_equal(cdn_landlock_plan(&f.plan, 4, &err), 0);
    const cdn_landlock_plan_t *ll = &f.plan.landlock;
    assert_int_equal(ll->handled_net,
                     LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP);
    assert_int_equal(ll->n_tcp_ports, 2);
    assert_int_equal(ll->tcp_ports[0], 8080);
    assert_int_equal(ll->scoped, 0);

    /* A newer kernel than cordon knows is planned as the newest known ABI. */
    assert_int_equal(cdn_landlock_plan(&f.plan, 12, &err), 0);
    assert_int_equal(f.plan.landlock.abi, 7);
    assert_int_equal(f.plan.landlock.handled_fs, cdn_landlock_fs_rights(7));

    assert_int_equal(cdn_landlock_plan(&f.plan, 0, &err), 0);
    assert_int_equal(f.plan.landlock.abi, 0);
    assert_int_equal(f.plan.landlock.n_paths, 0);

    f.ports[0] = 70000;
    assert_int_equal(cdn_landlock_plan(&f.plan, 7, &err), -1);
    assert_non_null(strstr(err.msg, "70000"));
    cdn_landlock_plan_free(&f.plan.landlock);
}

static void test_access_str(void **state)
{
    (void)state;
    char buf[256];
    cdn_landlock_access_str(R_READ | LANDLOCK_ACCESS_FS_WRITE_FILE, buf, sizeof buf);
    assert_string_equal(buf, "read-file,read-dir,exec,write-file");
    cdn_landlock_access_str(0, buf, sizeof buf);
    assert_string_equal(buf, "none");
    cdn_landlock_access_str(LANDLOCK_ACCESS_FS_IOCTL_DEV | (1ULL << 40), buf, sizeof buf);
    assert_string_equal(buf, "ioctl-dev,0x10000000000");
    char small[8];
    cdn_landlock_access_str(R_READ, small, sizeof small);
    assert_true(strlen(small) < sizeof small);
}

/* ---- enforcement ---- */

static int failures;
#define CHECK(cond, ...)                                           \
    do {                                                           \
        if (!(cond)) {                                             \
            fprintf(stderr, "child: %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                          \
            fprintf(stderr, "\n");                                 \
            failures++;                                            \
        }                                                          \
    } while (0)

static void require_landlock(void)
{
    int abi = cdn_landlock_abi();
    if (abi < 1)
        fail_msg("this kernel has no Landlock (landlock_create_ruleset: %s): boot with "
                 "lsm=...,landlock to run this test",
                 strerror(errno));
}

static void mkfile(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "x", 1), 1);
    close(fd);
}

static void rm_rf(const char *path)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    assert_int_equal(system(cmd), 0);
}

static int open_errno(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC, 0644);
    if (fd >= 0) {
        close(fd);
        return 0;
    }
    return errno;
}

static void test_enforce(void **state)
{
    (void)state;
    require_landlock();
    char root[] = "/tmp/cdn-landlock-XXXXXX";
    assert_non_null(mkdtemp(root));
    char a[128], a_f[160], b[128], b_f[160], b_new[160], c[128], ws[128], ws_f[160], ws_new[160],
        ws_sub[160], link[128];
    snprintf(a, sizeof a, "%s/a", root);
    snprintf(a_f, sizeof a_f, "%s/a/secret", root);
    snprintf(b, sizeof b, "%s/b", root);
    snprintf(b_f, sizeof b_f, "%s/b/f", root);
    snprintf(b_new, sizeof b_new, "%s/b/new", root);
    snprintf(c, sizeof c, "%s/c", root);
    snprintf(ws, sizeof ws, "%s/ws", root);
    snprintf(ws_f, sizeof ws_f, "%s/ws/f", root);
    snprintf(ws_new, sizeof ws_new, "%s/ws/new", root);
    snprintf(ws_sub, sizeof ws_sub, "%s/ws/sub", root);
    snprintf(link, sizeof link, "%s/link-to-a", root);
    assert_int_equal(mkdir(a, 0755), 0);
    assert_int_equal(mkdir(b, 0755), 0);
    assert_int_equal(mkdir(ws, 0755), 0);
    assert_int_equal(mkdir(ws_sub, 0755), 0);
    mkfile(a_f);
    mkfile(b_f);
    mkfile(c);
    mkfile(ws_f);
    assert_int_equal(symlink("a", link), 0);

    fixture_t f;
    cdn_error_t err = { 0 };
    fixture_init(&f, ws, CDN_WS_READ_WRITE_NO_DELETE);
    add_path(&f, &f.pol.hidden, a);
    add_path(&f, &f.pol.hidden, "/tmp/cdn-landlock-does-not-exist/x");
    add_path(&f, &f.pol.writable, b);
    assert_int_equal(cdn_landlock_plan(&f.plan, cdn_landlock_abi(), &err), 0);

    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
            _exit(90);
        int n = cdn_landlock_apply(&f.plan.landlock, &err);
        if (n < 0) {
            cdn_error_print(&err, stderr);
            _exit(91);
        }
        CHECK(n > 10, "only %d rules", n);
        int e;
        CHECK((e = open_errno(b, O_RDONLY | O_DIRECTORY)) == 0, "read b/: %s", strerror(e));
        CHECK((e = open_errno(b_f, O_RDONLY)) == 0, "read b/f: %s", strerror(e));
        CHECK((e = open_errno(c, O_RDONLY)) == 0, "read c: %s", strerror(e));
        /* Names below an expanded directory stay listable (READ_DIR on it
         * reaches below, Landlock has no "this directory only"); contents
         * are not readable, and the mount layer shows hidden places empty. */
        CHECK((e = open_errno(a, O_RDONLY | O_DIRECTORY)) == 0, "list a/: %s", strerror(e));
        CHECK((e = open_errno(a_f, O_RDONLY)) == EACCES, "read a/secret: %s", strerror(e));
        char via[512];
        snprintf(via, sizeof via, "%s/secret", link);
        CHECK((e = open_errno(via, O_RDONLY)) == EACCES, "read via link: %s", strerror(e));
        CHECK((e = open_errno(c, O_WRONLY)) == EACCES, "write c: %s", strerror(e));
        CHECK((e = open_errno(b_new, O_WRONLY | O_CREAT)) == 0, "create b/new: %s", strerror(e));
        CHECK(unlink(b_new) == 0, "unlink b/new: %s", strerror(errno));
        /* read-write-no-delete workspace: create and write yes, delete no */
        CHECK((e = open_errno(ws_new, O_WRONLY | O_CREAT)) == 0, "create ws/new: %s", strerror(e));
        CHECK((e = open_errno(ws_f, O_WRONLY | O_TRUNC)) == 0, "truncate ws/f: %s", strerror(e));
        CHECK(unlink(ws_f) == -1 && errno == EACCES, "unlink ws/f: %s", strerror(errno));
        CHECK(rmdir(ws_sub) == -1 && errno == EACCES, "rmdir ws/sub: %s", strerror(errno));
        CHECK(rename(ws_f, b_new) == -1 && errno == EACCES, "rename ws/f away: %s",
              strerror(errno));
        /* outside every writable place */
        CHECK(mkdir("/tmp/cdn-landlock-escape", 0755) == -1 && errno == EACCES, "mkdir /tmp/x: %s",
              strerror(errno));
        CHECK((e = open_errno("/dev/null", O_WRONLY)) == 0, "write /dev/null: %s", strerror(e));
        CHECK((e = open_errno("/etc/hostname", O_RDONLY)) == 0, "read /etc/hostname: %s",
              strerror(e));
        _exit(failures ? 1 : 0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    cdn_landlock_plan_free(&f.plan.landlock);
    rm_rf(root);
    rmdir("/tmp/cdn-landlock-escape");
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_workspace_must_exist(void **state)
{
    (void)state;
    require_landlock();
    fixture_t f;
    cdn_error_t err = { 0 };
    fixture_init(&f, "/tmp/cdn-landlock-no-such-workspace", CDN_WS_READ_WRITE);
    assert_int_equal(cdn_landlock_plan(&f.plan, cdn_landlock_abi(), &err), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        int r = cdn_landlock_apply(&f.plan.landlock, &err);
        _exit(r == -1 && err.errnum == ENOENT && strstr(err.msg, "no-such-workspace") ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    cdn_landlock_plan_free(&f.plan.landlock);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    assert_true(s >= 0);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
    close(s);
    return ntohs(a.sin_port);
}

static int tcp_errno(int port, bool do_connect)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int r = do_connect ? connect(s, (struct sockaddr *)&a, sizeof a)
                       : bind(s, (struct sockaddr *)&a, sizeof a);
    int e = r < 0 ? errno : 0;
    close(s);
    return e;
}

/* tcpPorts (ABI >= 4) and the signal scope (ABI >= 6), on loopback only. */
static void test_enforce_tcp_and_scope(void **state)
{
    (void)state;
    require_landlock();
    int abi = cdn_landlock_abi();
    if (abi < 4)
        fail_msg("Landlock ABI %d < 4: TCP rules cannot be tested on this kernel", abi);
    fixture_t f;
    cdn_error_t err = { 0 };
    fixture_init(&f, "/tmp", CDN_WS_READ_ONLY);
    f.ports[0] = free_port();
    int other = free_port();
    if (other == f.ports[0])
        other = free_port();
    f.pol.tcp_ports_set = true;
    f.pol.tcp_ports = f.ports;
    f.pol.n_tcp_ports = 1;
    assert_int_equal(cdn_landlock_plan(&f.plan, abi, &err), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        if (cdn_landlock_apply(&f.plan.landlock, &err) < 0) {
            cdn_error_print(&err, stderr);
            _exit(91);
        }
        int e;
        CHECK((e = tcp_errno(f.ports[0], false)) == 0, "bind allowed port: %s", strerror(e));
        CHECK((e = tcp_errno(other, false)) == EACCES, "bind other port: %s", strerror(e));
        CHECK((e = tcp_errno(other, true)) == EACCES, "connect other port: %s", strerror(e));
        /* allowed port, nobody listening: the kernel, not Landlock, refuses */
        CHECK((e = tcp_errno(f.ports[0], true)) == ECONNREFUSED, "connect allowed port: %s",
              strerror(e));
        if (abi >= 6)
            CHECK(kill(getppid(), 0) == -1 && errno == EPERM, "signal outside the domain: %s",
                  strerror(errno));
        _exit(failures ? 1 : 0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    cdn_landlock_plan_free(&f.plan.landlock);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* A directory that may be searched but not listed (a 0711 /home) around a
 * hidden path: applying must still work, walking only toward the hidden
 * paths.  Run as nobody when started as root, since root lists anything. */
static void test_unlistable_dir(void **state)
{
    (void)state;
    require_landlock();
    char root[] = "/tmp/cdn-landlock-XXXXXX";
    assert_non_null(mkdtemp(root));
    assert_int_equal(chmod(root, 0755), 0);
    char u[128], ssh[160], cfg[160], gh[160], nvim[160], pub[160];
    snprintf(u, sizeof u, "%s/u", root);
    snprintf(ssh, sizeof ssh, "%s/u/.ssh", root);
    snprintf(cfg, sizeof cfg, "%s/u/.config", root);
    snprintf(gh, sizeof gh, "%s/u/.config/gh", root);
    snprintf(nvim, sizeof nvim, "%s/u/.config/nvim", root);
    snprintf(pub, sizeof pub, "%s/u/pub", root);
    assert_int_equal(mkdir(u, 0755), 0);
    assert_int_equal(mkdir(ssh, 0755), 0);
    assert_int_equal(mkdir(cfg, 0755), 0);
    assert_int_equal(mkdir(gh, 0755), 0);
    assert_int_equal(mkdir(nvim, 0755), 0);
    assert_int_equal(mkdir(pub, 0755), 0);
    {
        char fp[200];
        const char *dirs[] = {gh, ssh, pub};
        const char *names[] = {"hosts.yml", "id_ed25519", "f"};
        for (int i = 0; i < 3; i++) {
            snprintf(fp, sizeof fp, "%s/%s", dirs[i], names[i]);
            int fd = open(fp, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
            assert_true(fd >= 0);
            close(fd);
        }
    }
    /* searchable, not listable, by its owner (a user running the tests) and
     * by others (nobody, when root runs them) */
    assert_int_equal(chmod(u, 0311), 0);

    fixture_t f;
    cdn_error_t err = { 0 };
    fixture_init(&f, root, CDN_WS_READ_ONLY);
    add_path(&f, &f.pol.hidden, ssh);
    add_path(&f, &f.pol.hidden, gh);
    assert_int_equal(cdn_landlock_plan(&f.plan, cdn_landlock_abi(), &err), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0))
            _exit(89);
        CHECK(open_errno(u, O_RDONLY | O_DIRECTORY) == EACCES, "u/ is listable: test is moot");
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
            _exit(90);
        if (cdn_landlock_apply(&f.plan.landlock, &err) < 0) {
            cdn_error_print(&err, stderr);
            _exit(91);
        }
        int e;
        CHECK((e = open_errno(nvim, O_RDONLY | O_DIRECTORY)) == 0, "read nvim: %s", strerror(e));
        char f_gh[200], f_ssh[200], f_pub[200];
        snprintf(f_gh, sizeof f_gh, "%s/hosts.yml", gh);
        snprintf(f_ssh, sizeof f_ssh, "%s/id_ed25519", ssh);
        snprintf(f_pub, sizeof f_pub, "%s/f", pub);
        CHECK((e = open_errno(f_gh, O_RDONLY)) == EACCES, "read gh/hosts.yml: %s", strerror(e));
        CHECK((e = open_errno(f_ssh, O_RDONLY)) == EACCES, "read ssh/id: %s", strerror(e));
        /* not enumerable, so no rule: file contents refused (fails closed) */
        CHECK((e = open_errno(f_pub, O_RDONLY)) == EACCES, "read pub/f: %s", strerror(e));
        _exit(failures ? 1 : 0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    cdn_landlock_plan_free(&f.plan.landlock);
    rm_rf(root);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rights_per_abi),
        cmocka_unit_test(test_plan_modes),
        cmocka_unit_test(test_plan_tcp_and_caps),
        cmocka_unit_test(test_access_str),
        cmocka_unit_test(test_enforce),
        cmocka_unit_test(test_workspace_must_exist),
        cmocka_unit_test(test_unlistable_dir),
        cmocka_unit_test(test_enforce_tcp_and_scope),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
