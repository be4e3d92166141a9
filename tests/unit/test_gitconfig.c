#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "protect/gitconfig.h"
#include "util/cleanup.h"

struct row {
    const char *text;
    bool safe;
};

static bool is_safe_str(const char *s, char *why, size_t why_len)
{
    return cdn_gitconfig_is_safe(s, strlen(s), why, why_len);
}

static void check_rows(const struct row *rows, size_t n)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        char why[256];
        bool got = is_safe_str(rows[i].text, why, sizeof why);
        if (got != rows[i].safe) {
            print_error("row %zu: got %s, want %s (why: %s)\n---\n%s\n---\n", i,
                        got ? "safe" : "unsafe", rows[i].safe ? "safe" : "unsafe", why,
                        rows[i].text);
            bad++;
        }
        if (!got && why[0] == '\0') {
            print_error("row %zu: unsafe without a reason\n", i);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

static const char git_init_out[] = "[core]\n"
                                   "\trepositoryformatversion = 0\n"
                                   "\tfilemode = true\n"
                                   "\tbare = false\n"
                                   "\tlogallrefupdates = true\n";

static void test_fixed_safe(void **state)
{
    (void)state;
    static const struct row rows[] = {
        {"", true},
        {"\n\n  \n", true},
        {git_init_out, true},
        {"[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n"
         "\tlogallrefupdates = true\n[remote \"origin\"]\n\turl = https://example.com/r.git\n"
         "\tfetch = +refs/heads/*:refs/remotes/origin/*\n[branch \"main\"]\n"
         "\tremote = origin\n\tmerge = refs/heads/main\n",
         true},
        {"# comment\n; other comment\n[core] # trailing\n bare = false ; c\n", true},
        {"[CORE]\n\tBare = TRUE\n[Core]\nFileMode=false\n", true},
        {"[core]\n\tbare\n", true},         /* bare key: boolean true */
        {"[core] bare = true\n", true},     /* key on the header's line */
        {"[core] [user] name = x\n", true}, /* two headers on one line */
        {"[user]\n\tname = \"A \\\"quoted\\\" name\"\n\temail = a@b.c\n", true},
        {"[user]\n\tname = first \\\n  second\n", true}, /* continuation */
        {"[user]\n\tname = a\\tb\\nc\\\\d\\be\n", true},
        {"[user]\n\tname = \"x # not a comment\"\n", true},
        {"[remote.origin]\n\turl = git@example.com:r.git\n", true}, /* legacy */
        {"[remote \"a\\\"b\\\\c\"]\n\turl = ../other\n", true},
        {"[remote \"o\"]\n url = ssh://git@example.com/r\n pushurl = /srv/r.git\n"
         " push = refs/heads/*\n tagopt = --no-tags\n mirror = true\n",
         true},
        {"[remote \"o\"]\n url = ssh://[::1]/r\n", true},
        {"[submodule \"lib/x\"]\n\turl = https://e.com/x\n\tactive = true\n", true},
        {"[submodule]\n\tactive = .\n", true},
        {"[extensions]\n\tobjectformat = sha256\n\tworktreeConfig = true\n", true},
        {"[init]\n\tdefaultBranch = main\n[gc]\n\tauto = 0\n[pull]\n\trebase = true\n"
         "[push]\n\tdefault = simple\n[fetch]\n\tprune = true\n[color]\n\tui = auto\n",
         true},
        {"[branch \"x\"]\n\tremote = .\n\tmerge = refs/heads/main\n\trebase = merges\n", true},
        {"[core]\r\n\tbare = false\r\n", true},
        {"\xef\xbb\xbf[core]\n\tbare = false\n", true},
        {"[core]\n\tbare = false", true}, /* no final newline */
        {"[core]\n\tautocrlf = input\n\teol = lf\n\tsafecrlf = warn\n\tsymlinks = true\n"
         "\tignorecase = false\n\tprecomposeunicode = false\n",
         true},
    };
    check_rows(rows, CDN_ARRAY_SIZE(rows));
}

static void test_dangerous_keys(void **state)
{
    (void)state;
    static const struct row rows[] = {
        {"[core]\n\tfsmonitor = ./evil\n", false},
        {"[core]\n\thooksPath = /tmp/h\n", false},
        {"[core]\n\tsshCommand = evil\n", false},
        {"[core]\n\tpager = evil\n", false},
        {"[core]\n\teditor = evil\n", false},
        {"[core]\n\taskPass = evil\n", false},
        {"[core]\n\tgitProxy = evil\n", false},
        {"[core]\n\tworktree = /home/u\n", false},
        {"[alias]\n\tst = !evil\n", false},
        {"[include]\n\tpath = ../../x\n", false},
        {"[includeIf \"gitdir:/\"]\n\tpath = x\n", false},
        {"[filter \"x\"]\n\tclean = evil\n", false},
        {"[filter \"x\"]\n\tprocess = evil\n", false},
        {"[diff \"x\"]\n\ttextconv = evil\n", false},
        {"[diff]\n\texternal = evil\n", false},
        {"[credential]\n\thelper = !evil\n", false},
        {"[gpg]\n\tprogram = evil\n", false},
        {"[sequence]\n\teditor = evil\n", false},
        {"[uploadpack]\n\tpackObjectsHook = evil\n", false},
        {"[receive]\n\tprocReceiveRefs = x\n", false},
        {"[http]\n\tproxy = x\n", false},
        {"[url \"ext::sh -c evil\"]\n\tinsteadOf = https://\n", false},
        {"[protocol]\n\tallow = always\n", false},
        {"[safe]\n\tdirectory = *\n", false},
        {"[remote \"o\"]\n\tuploadpack = evil\n", false},
        {"[remote \"o\"]\n\treceivepack = evil\n", false},
        {"[remote \"o\"]\n\tvcs = evil\n", false},
        {"[remote \"o\"]\n\tproxy = x\n", false},
        {"[submodule \"s\"]\n\tupdate = !evil\n", false},
        {"[branch \"b\"]\n\tpushRemote = o\n", false},
        {"[remote \"o\"]\n\ttagopt = --upload-pack=evil\n", false},
        {"[frobnicate]\n\tx = 1\n", false},
        /* case variations */
        {"[CORE]\n\tFsMonitor = evil\n", false},
        {"[Core] fsmonitor = evil\n", false},
        {"[core]\n\tFSMONITOR\n", false},
        {"[InClUdE]\n\tpath = x\n", false},
        /* subsection forms that do not make a core key */
        {"[core \"\"]\n\tbare = true\n", false},
        {"[core \"x\"]\n\tbare = true\n", false},
        {"[core.x]\n\tbare = true\n", false},
        {"[remote]\n\turl = x\n", false},
        /* dangerous URL values */
        {"[remote \"o\"]\n\turl = ext::sh -c evil\n", false},
        {"[remote \"o\"]\n\turl = fd::3\n", false},
        {"[remote \"o\"]\n\turl = foo+bar::x\n", false},
        {"[remote \"o\"]\n\turl = -uevil\n", false},
        {"[remote \"o\"]\n\tpushurl = \"-oProxyCommand=evil:x\"\n", false},
        {"[remote \"o\"]\n\turl = ssh://-oProxyCommand=evil/x\n", false},
        {"[remote \"o\"]\n\turl = ssh://u@-oProxyCommand=evil/x\n", false},
        {"[remote \"o\"]\n\turl = evil://x\n", false},
        {"[remote \"o\"]\n\turl = \"a\\nb\"\n", false},
        {"[submodule \"s\"]\n\turl = ext::evil\n", false},
        {"[branch \"b\"]\n\tremote = ext::evil\n", false},
        {"[remote \"o\"]\n\turl = ok\n[core]\n\tfsmonitor = x\n", false},
    };
    check_rows(rows, CDN_ARRAY_SIZE(rows));

    char why[256];
    assert_false(is_safe_str("[core]\n\tbare = false\n\tFsMonitor = x\n", why, sizeof why));
    assert_non_null(strstr(why, "line 3"));
    assert_non_null(strstr(why, "core.fsmonitor"));
    assert_false(is_safe_str("[core]\n  bare = \\\n false\n[alias]\nx=y\n", why, sizeof why));
    assert_non_null(strstr(why, "line 5"));
    assert_non_null(strstr(why, "alias.x"));
    /* a tiny buffer is cut, never overrun */
    char small[8];
    memset(small, 'X', sizeof small);
    assert_false(is_safe_str("[alias]\nx=y\n", small, 4));
    assert_int_equal(strlen(small), 3);
    assert_false(is_safe_str("[alias]\nx=y\n", NULL, 0));
}

static void test_syntax_errors(void **state)
{
    (void)state;
    static const struct row rows[] = {
        {"bare = true\n", false},          /* key before any section */
        {"[core\n\tbare = true\n", false}, /* unterminated header */
        {"[]\n", false},
        {"[core \"x]\n", false},
        {"[core \"x\"\n", false},
        {"[core \"x\" ]\n", false},
        {"[core x]\n", false},
        {"[co re]\n", false},
        {"[c*re]\n", false},
        {"[.core]\n", false},
        {"[remote.]\n", false},
        {"[remote.a \"b\"]\n", false},
        {"[core]\n\tbare = \"true\n", false}, /* unterminated quote */
        {"[core]\n\tbare = \\q\n", false},    /* unknown escape */
        {"[core]\n\tbare true\n", false},
        {"[core]\n\tbare # c\n", false},
        {"[core]\n\t1bare = true\n", false},
        {"[core]\n\tba_re = true\n", false},
        {"[core]\n\t= true\n", false},
        {"[core]\n\tbare = x\\", false},
        {"garbage\n", false},
        {"[core]\n\t!!!\n", false},
        {"[core]\n\tbare = \"x\n\"\n", false},
    };
    check_rows(rows, CDN_ARRAY_SIZE(rows));
}

static void test_bounds(void **state)
{
    (void)state;
    char why[256];
    static const char nul[] = "[core]\n\tbare = false\0\n[alias]\nx=y\n";
    assert_false(cdn_gitconfig_is_safe(nul, sizeof nul - 1, why, sizeof why));
    assert_non_null(strstr(why, "NUL"));

    /* A long but legal line is fine; one over 8 KiB is not. */
    size_t n = 9000;
    _cleanup_free_ char *buf = malloc(n + 64);
    assert_non_null(buf);
    int k = snprintf(buf, 64, "[user]\n\tname = ");
    memset(buf + k, 'a', 8000);
    strcpy(buf + k + 8000, "\n");
    assert_true(cdn_gitconfig_is_safe(buf, strlen(buf), why, sizeof why));
    memset(buf + k, 'a', n - (size_t)k);
    strcpy(buf + n, "\n");
    assert_false(cdn_gitconfig_is_safe(buf, strlen(buf), why, sizeof why));
    assert_non_null(strstr(why, "longer"));

    /* Oversize as a whole, even though every line is fine. */
    size_t big = CDN_GITCONFIG_MAX + 1;
    _cleanup_free_ char *huge = malloc(big);
    assert_non_null(huge);
    memset(huge, '\n', big);
    memcpy(huge, "[core]\n", 7);
    assert_true(cdn_gitconfig_is_safe(huge, big - 1, why, sizeof why));
    assert_false(cdn_gitconfig_is_safe(huge, big, why, sizeof why));
    assert_non_null(strstr(why, "larger"));

    /* Continuations cannot build a value past the bound either. */
    size_t lines = 20;
    _cleanup_free_ char *cont = malloc(lines * 1002 + 64);
    assert_non_null(cont);
    size_t off = (size_t)snprintf(cont, 64, "[user]\nname = ");
    for (size_t i = 0; i < lines; i++) {
        memset(cont + off, 'b', 1000);
        off += 1000;
        cont[off++] = '\\';
        cont[off++] = '\n';
    }
    cont[off++] = 'c';
    assert_false(cdn_gitconfig_is_safe(cont, off, why, sizeof why));
    assert_non_null(strstr(why, "too long"));
}

static void test_gitmodules(void **state)
{
    (void)state;
    char why[256];
#define GM(s) cdn_gitmodules_is_safe(s, strlen(s), why, sizeof why)
    assert_true(GM("[submodule \"sub\"]\n\tpath = sub\n\turl = /tmp/x\n"));
    assert_true(GM("[submodule \"a/b\"]\n\tpath = a/b\n\turl = https://e.com/x\n"
                   "\tbranch = main\n\tshallow = true\n\tignore = dirty\n\tupdate = rebase\n"
                   "\tfetchRecurseSubmodules = false\n"));
    assert_false(GM("[submodule \"s\"]\n\tupdate = !evil\n"));
    assert_false(GM("[submodule \"s\"]\n\turl = ext::evil\n"));
    assert_false(GM("[submodule \"s\"]\n\turl = -evil\n"));
    assert_false(GM("[core]\n\tbare = false\n")); /* config keys are not .gitmodules keys */
    assert_false(GM("[submodule]\n\tactive = .\n"));
    assert_false(GM("[submodule \"s\"]\n\tpath = s\n\tactive = true\n"));
    /* and .gitmodules keys are not .git/config keys */
    assert_false(is_safe_str("[submodule \"s\"]\n\tpath = s\n", why, sizeof why));
#undef GM
}

static void test_worktree_context(void **state)
{
    (void)state;
    static const char sub[] = "[core]\n\tworktree = ../../../sub\n";
    char why[256];
    assert_false(cdn_gitconfig_is_safe(sub, strlen(sub), why, sizeof why));
    assert_true(cdn_gitconfig_is_safe_at(sub, strlen(sub), "/ws/r/.git/modules/sub/config", "/ws",
                                         why, sizeof why));
    assert_false(cdn_gitconfig_is_safe_at(sub, strlen(sub), "/ws/.git/modules/sub/config", "/ws/r",
                                          why, sizeof why));
    static const char up[] = "[core]\n\tworktree = ../../../../../home/u\n";
    assert_false(cdn_gitconfig_is_safe_at(up, strlen(up), "/ws/.git/modules/sub/config", "/ws", why,
                                          sizeof why));
    static const char abs_in[] = "[core]\n\tworktree = /ws/a\n";
    assert_true(cdn_gitconfig_is_safe_at(abs_in, strlen(abs_in), "/ws/.git/config", "/ws", why,
                                         sizeof why));
    static const char abs_sib[] = "[core]\n\tworktree = /ws2/a\n";
    assert_false(cdn_gitconfig_is_safe_at(abs_sib, strlen(abs_sib), "/ws/.git/config", "/ws", why,
                                          sizeof why));
}

/* ---- what git itself writes ---- */

static char tmpdir[256];

static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char full[2400];
    snprintf(full, sizeof full, "cd '%s' && { %s; } >/dev/null 2>&1", tmpdir, cmd);
    int st = system(full);
    if (st != 0) {
        print_error("command failed (status %d): %s\n", st, cmd);
        fail();
    }
}

static void check_file(const char *rel, bool with_context)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    FILE *f = fopen(path, "r");
    if (!f) {
        print_error("git did not write %s\n", path);
        fail();
    }
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    char why[256];
    bool ok = with_context ? cdn_gitconfig_is_safe_at(buf, n, path, tmpdir, why, sizeof why)
                           : cdn_gitconfig_is_safe(buf, n, why, sizeof why);
    if (!ok) {
        print_error("%s rejected: %s\n---\n%.*s---\n", rel, why, (int)n, buf);
        fail();
    }
}

static int git_setup(void **state)
{
    (void)state;
    if (system("git --version >/dev/null 2>&1") != 0) {
        fprintf(stderr, "test_gitconfig needs git in PATH (apt-get install git)\n");
        return -1;
    }
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cdn-gitconfig-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    /* Keep the user's and the system's git config out of what git writes. */
    setenv("HOME", tmpdir, 1);
    setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
    setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
    setenv("GIT_AUTHOR_NAME", "t", 1);
    setenv("GIT_AUTHOR_EMAIL", "t@example.com", 1);
    setenv("GIT_COMMITTER_NAME", "t", 1);
    setenv("GIT_COMMITTER_EMAIL", "t@example.com", 1);
    unsetenv("GIT_DIR");
    unsetenv("GIT_WORK_TREE");
    return 0;
}

static int git_teardown(void **state)
{
    (void)state;
    char cmd[512];
    if (tmpdir[0] && strncmp(tmpdir, "/tmp/cdn-gitconfig-", 19) == 0) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        return system(cmd) == 0 ? 0 : -1;
    }
    return 0;
}

static void test_real_git(void **state)
{
    (void)state;
    run("git init -q a && git -C a commit -q --allow-empty -m one && git -C a branch y");
    check_file("a/.git/config", false);
    run("git init -q --bare bare.git");
    check_file("bare.git/config", false);
    run("git init -q --object-format=sha256 s256");
    check_file("s256/.git/config", false);
    run("git init -q -b trunk tr");
    check_file("tr/.git/config", false);

    run("git clone -q file://%s/a b", tmpdir);
    check_file("b/.git/config", false);
    run("git -C b checkout -q -b x --track origin/y");
    check_file("b/.git/config", false);
    run("git -C b branch -q --set-upstream-to=origin/y x");
    check_file("b/.git/config", false);
    run("git -C b remote add other https://example.com/o.git && "
        "git -C b remote set-url --push other ssh://git@example.com/o.git");
    check_file("b/.git/config", false);

    run("git clone -q --no-tags a c && git clone -q --mirror a m.git && git clone -q --bare a "
        "bb.git");
    check_file("c/.git/config", false);
    check_file("m.git/config", false);
    check_file("bb.git/config", false);

    run("git -C a worktree add -q ../wt && git -C a config extensions.worktreeConfig true && "
        "git -C wt config --worktree core.sparseCheckout false");
    check_file("a/.git/config", false);
    run("git -C wt config --worktree --unset core.sparseCheckout");
    check_file("a/.git/worktrees/wt/config.worktree", false);

    run("git -C a -c protocol.file.allow=always submodule add -q %s/c sub && "
        "git -C a commit -q -m sub",
        tmpdir);
    check_file("a/.git/config", false);
    char gm[512], gmbuf[4096], gmwhy[256];
    snprintf(gm, sizeof gm, "%s/a/.gitmodules", tmpdir);
    FILE *gmf = fopen(gm, "r");
    assert_non_null(gmf);
    size_t gmn = fread(gmbuf, 1, sizeof gmbuf, gmf);
    fclose(gmf);
    if (!cdn_gitmodules_is_safe(gmbuf, gmn, gmwhy, sizeof gmwhy)) {
        print_error(".gitmodules rejected: %s\n", gmwhy);
        fail();
    }
    check_file("a/.git/modules/sub/config", true);
    run("git -c protocol.file.allow=always clone -q --recurse-submodules a d");
    check_file("d/.git/config", false);
    check_file("d/.git/modules/sub/config", true);

    /* And the validator is not simply accepting git's files: */
    run("git -C d config core.fsmonitor true");
    char path[512], why[256];
    snprintf(path, sizeof path, "%s/d/.git/config", tmpdir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_false(cdn_gitconfig_is_safe(buf, n, why, sizeof why));
    assert_non_null(strstr(why, "core.fsmonitor"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_safe),
        cmocka_unit_test(test_dangerous_keys),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_worktree_context),
        cmocka_unit_test(test_gitmodules),
        cmocka_unit_test_setup_teardown(test_real_git, git_setup, git_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
