#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "protect/gitconfig.h"
#include "protect/protect.h"
#include "util/cleanup.h"

#define N CDN_PROT_NONE
#define F CDN_PROT_FILE
#define G CDN_PROT_GITCONFIG
#define D CDN_PROT_DIR_PREFIX

struct row {
    const char *path;
    cdn_protect_class_t want;
};

static const char *class_name(cdn_protect_class_t c)
{
    switch (c) {
    case CDN_PROT_NONE:
        return "NONE";
    case CDN_PROT_FILE:
        return "FILE";
    case CDN_PROT_GITCONFIG:
        return "GITCONFIG";
    case CDN_PROT_DIR_PREFIX:
        return "DIR_PREFIX";
    }
    return "?";
}

static void check_rows(const cdn_protect_t *p, const char *root, const struct row *rows, size_t n)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        cdn_protect_class_t got = cdn_protect_classify(p, root, rows[i].path);
        if (got != rows[i].want) {
            print_error("%s (root %s): got %s, want %s\n", rows[i].path, root, class_name(got),
                        class_name(rows[i].want));
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

static const char *const files[] = {
    ".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".zshrc",     ".zprofile", ".zshenv",
    ".zlogin", ".profile",      ".gitconfig",  ".gitmodules",  ".ripgreprc", ".mcp.json",
};
static const char *const dirs[] = {
    ".vscode", ".idea", ".claude/commands", ".claude/agents", ".cordon", ".git/hooks",
};
static const char *const depths[] = {"", "/a", "/a/b/c/d/e"};

static void test_builtins_at_depths(void **state)
{
    (void)state;
    cdn_protect_t p;
    cdn_error_t err = {0};
    assert_int_equal(cdn_protect_init(&p, NULL, false, &err), 0);
    char path[512];
    int bad = 0;
    for (size_t d = 0; d < CDN_ARRAY_SIZE(depths); d++) {
        for (size_t i = 0; i < CDN_ARRAY_SIZE(files); i++) {
            snprintf(path, sizeof path, "/ws%s/%s", depths[d], files[i]);
            if (cdn_protect_classify(&p, "/ws", path) != F) {
                print_error("%s not FILE\n", path);
                bad++;
            }
            /* A folder of that name is not a shell rc file: its contents are free. */
            snprintf(path, sizeof path, "/ws%s/%s/x", depths[d], files[i]);
            if (cdn_protect_classify(&p, "/ws", path) != N) {
                print_error("%s not NONE\n", path);
                bad++;
            }
        }
        for (size_t i = 0; i < CDN_ARRAY_SIZE(dirs); i++) {
            snprintf(path, sizeof path, "/ws%s/%s/x", depths[d], dirs[i]);
            if (cdn_protect_classify(&p, "/ws", path) != F) {
                print_error("%s not FILE\n", path);
                bad++;
            }
            snprintf(path, sizeof path, "/ws%s/%s/deep/er/x.json", depths[d], dirs[i]);
            if (cdn_protect_classify(&p, "/ws", path) != F) {
                print_error("%s not FILE\n", path);
                bad++;
            }
            snprintf(path, sizeof path, "/ws%s/%s", depths[d], dirs[i]);
            if (cdn_protect_classify(&p, "/ws", path) != D) {
                print_error("%s not DIR_PREFIX\n", path);
                bad++;
            }
        }
        snprintf(path, sizeof path, "/ws%s/.git/config", depths[d]);
        if (cdn_protect_classify(&p, "/ws", path) != G) {
            print_error("%s not GITCONFIG\n", path);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
    cdn_protect_free(&p);
}

static void test_table(void **state)
{
    (void)state;
    cdn_protect_t p;
    cdn_error_t err = {0};
    assert_int_equal(cdn_protect_init(&p, NULL, false, &err), 0);
    static const struct row rows[] = {
        {"/ws", N},
        {"/ws/", N},
        {"/ws/src/main.c", N},
        {"/ws/.bashrc", F},
        {"/ws/home/user/.zshrc", F},
        /* near misses */
        {"/ws/.bashrc.bak", N},
        {"/ws/x.bashrc", N},
        {"/ws/bashrc", N},
        {"/ws/.BASHRC", N},
        {"/ws/.git/hooksX/a", N},
        {"/ws/.gitx/hooks/a", N},
        {"/ws/x.git/hooks/a", N},
        {"/ws/.git/hooks", D},
        {"/ws/.git/hook", N},
        {"/ws/.vscodex/tasks.json", N},
        {"/ws/x.vscode/tasks.json", N},
        {"/ws/.claude/settings.json", N},
        {"/ws/.claude/commandsX/a.md", N},
        {"/ws/claude/commands/a.md", N},
        {"/ws/.git/configX", N},
        {"/ws/.git/config.lock", N},
        {"/ws/.git/x/config", N},
        {"/ws/git/config", N},
        {"/ws/.git/objects/ab/cdef", N},
        {"/ws/.git/refs/heads/hooks/x", N},
        {"/ws/.git/index", N},
        {"/ws/.git/HEAD", N},
        /* outside the root, component-wise */
        {"/ws2/.bashrc", N},
        {"/ws2/.git/hooks/pre-commit", N},
        {"/w/.bashrc", N},
        {"/.bashrc", N},
        {"/other/.git/config", N},
        /* DIR_PREFIX */
        {"/ws/.git", D},
        {"/ws/x/.git", D},
        {"/ws/a/b/c/d/e/.git", D},
        {"/ws/.claude", D},
        {"/ws/.claude/commands", D},
        {"/ws/.claude/agents", D},
        {"/ws/.vscode", D},
        {"/ws/.idea", D},
        {"/ws/.cordon", D},
        {"/ws/x/.claude", D},
        /* git config and hooks in nested repos */
        {"/ws/.git/config", G},
        {"/ws/vendor/lib/.git/config", G},
        {"/ws/a/.git/hooks/post-checkout", F},
        {"/ws/a/b/c/d/e/.git/hooks/pre-commit", F},
        {"/ws/.git/hooks/pre-commit.sample", F},
        {"/ws/.git/config.worktree", G},
        /* worktrees */
        {"/ws/.git/worktrees", D},
        {"/ws/.git/worktrees/w", D},
        {"/ws/.git/worktrees/w/config.worktree", G},
        {"/ws/x/.git/worktrees/w/config.worktree", G},
        {"/ws/.git/worktrees/w/HEAD", N},
        {"/ws/.git/worktrees/w/commondir", F},
        {"/ws/.git/commondir", F},
        {"/ws/.git/modules/s/commondir", F},
        {"/ws/x/.git/modules/s/worktrees/t/commondir", F},
        {"/ws/commondir", N},
        {"/ws/src/commondir", N},
        {"/ws/.git/worktrees/w/index", N},
        {"/ws/.git/worktreesX/w/config.worktree", N},
        /* submodule git dirs, nested */
        {"/ws/.git/modules", D},
        {"/ws/.git/modules/sub", D},
        {"/ws/.git/modules/sub/config", G},
        {"/ws/.git/modules/sub/config.worktree", G},
        {"/ws/.git/modules/sub/hooks", D},
        {"/ws/.git/modules/sub/hooks/pre-commit", F},
        {"/ws/.git/modules/lib/foo/hooks/post-merge", F},
        {"/ws/.git/modules/a/modules/b/hooks/x", F},
        {"/ws/.git/modules/a/modules/b/config", G},
        {"/ws/x/.git/modules/a/config", G},
        {"/ws/.git/modules/sub/objects/ab/cdef", N},
        {"/ws/.git/modules/sub/refs/heads/main", N},
        {"/ws/.git/modules/sub/HEAD", N},
        {"/ws/.git/modules/sub/index.lock", N},
        {"/ws/.git/modules/sub/config.lock", N},
        {"/ws/.git/modules/sub/packed-refs", N},
        {"/ws/.git/modules/sub/info", D},
        {"/ws/.git/modules/sub/refs/heads/hooks/x", F}, /* over-protected: see report */
        {"/ws/.git/modulesX/sub/hooks/x", N},
        {"/ws/.git/modules/config", D},
    };
    check_rows(&p, "/ws", rows, CDN_ARRAY_SIZE(rows));
    cdn_protect_free(&p);
}

static void test_root_forms(void **state)
{
    (void)state;
    cdn_protect_t p;
    cdn_error_t err = {0};
    assert_int_equal(cdn_protect_init(&p, NULL, false, &err), 0);
    static const struct row slash_root[] = {
        {"/.bashrc", F}, {"/home/u/.profile", F}, {"/home/u/.git", D}, {"/", N}, {"/etc/passwd", N},
    };
    check_rows(&p, "/", slash_root, CDN_ARRAY_SIZE(slash_root));
    static const struct row trailing[] = {
        {"/ws/.bashrc", F},
        {"/ws2/.bashrc", N},
    };
    check_rows(&p, "/ws/", trailing, CDN_ARRAY_SIZE(trailing));
    /* The root itself may be named like a protected thing. */
    static const struct row named[] = {
        {"/home/u/.vscode", N},
        {"/home/u/.vscode/tasks.json", N},
        {"/home/u/.vscode/a/.bashrc", F},
    };
    check_rows(&p, "/home/u/.vscode", named, CDN_ARRAY_SIZE(named));
    assert_int_equal(cdn_protect_classify(&p, "relative", "/ws/.bashrc"), N);
    assert_int_equal(cdn_protect_classify(&p, "/ws", "ws/.bashrc"), N);
    cdn_protect_free(&p);
}

static void test_allow_git_config(void **state)
{
    (void)state;
    cdn_protect_t p;
    cdn_error_t err = {0};
    assert_int_equal(cdn_protect_init(&p, NULL, true, &err), 0);
    static const struct row rows[] = {
        {"/ws/.git/config", N},
        {"/ws/a/.git/config", N},
        {"/ws/.git/config.worktree", N},
        {"/ws/.git/modules/s/config", N},
        {"/ws/.git/worktrees/w/config.worktree", N},
        {"/ws/.git/hooks/pre-commit", F},
        {"/ws/.gitconfig", F},
        {"/ws/.git", D},
    };
    check_rows(&p, "/ws", rows, CDN_ARRAY_SIZE(rows));
    cdn_protect_free(&p);
}

static void test_extra_patterns(void **state)
{
    (void)state;
    cdn_strv_t extra = {0};
    cdn_error_t err = {0};
    assert_int_equal(cdn_strv_add(&extra, "Makefile.local", &err), 0);
    assert_int_equal(cdn_strv_add(&extra, ".github/workflows/", &err), 0);
    assert_int_equal(cdn_strv_add(&extra, "conf/app.ini", &err), 0);
    assert_int_equal(cdn_strv_add(&extra, ".envrc", &err), 0);
    assert_int_equal(cdn_strv_add(&extra, "x..y", &err), 0); /* ".." only as a component is bad */
    cdn_protect_t p;
    assert_int_equal(cdn_protect_init(&p, &extra, false, &err), 0);
    static const struct row rows[] = {
        {"/ws/Makefile.local", F},
        {"/ws/a/b/Makefile.local", F},
        {"/ws/Makefile", N},
        {"/ws/makefile.local", N},
        {"/ws/.envrc", F},
        {"/ws/.github/workflows/ci.yml", F},
        {"/ws/sub/.github/workflows/x/ci.yml", F},
        {"/ws/.github/workflows", D},
        {"/ws/.github", D},
        {"/ws/.github/ISSUE_TEMPLATE.md", N},
        {"/ws/github/workflows/ci.yml", N},
        {"/ws/conf/app.ini", F},
        {"/ws/a/b/conf/app.ini", F},
        {"/ws/conf", D},
        {"/ws/conf/app.ini.bak", N},
        {"/ws/app.ini", N},
        {"/ws/xconf/app.ini", N},
        {"/ws/conf/app.ini/x", N},
        {"/ws/x..y", F},
        /* built-ins still there */
        {"/ws/.bashrc", F},
        {"/ws/.git/config", G},
    };
    check_rows(&p, "/ws", rows, CDN_ARRAY_SIZE(rows));
    cdn_protect_free(&p);
    cdn_strv_free(&extra);
}

static void test_invalid_patterns(void **state)
{
    (void)state;
    static const char *const bad[] = {"",     "/etc/passwd", "/", "a//b", "../x",  "a/../b",
                                      "a/..", "..",          ".", "./x",  "a/./b", "x//"};
    for (size_t i = 0; i < CDN_ARRAY_SIZE(bad); i++) {
        cdn_strv_t extra = {0};
        cdn_error_t err = {0};
        assert_int_equal(cdn_strv_add(&extra, "ok", &err), 0);
        assert_int_equal(cdn_strv_add(&extra, bad[i], &err), 0);
        cdn_protect_t p;
        if (cdn_protect_init(&p, &extra, false, &err) >= 0) {
            print_error("pattern \"%s\" accepted\n", bad[i]);
            cdn_protect_free(&p);
            fail();
        }
        assert_true(err.msg[0] != '\0');
        assert_null(p.patterns.v); /* nothing left allocated */
        cdn_strv_free(&extra);
    }
}

static void test_inert_hook_names(void **state)
{
    (void)state;
    assert_true(cdn_protect_is_inert_hook_name("pre-commit.sample"));
    assert_true(cdn_protect_is_inert_hook_name("fsmonitor-watchman.sample"));
    assert_false(cdn_protect_is_inert_hook_name(".sample"));
    assert_false(cdn_protect_is_inert_hook_name("pre-commit"));
    assert_false(cdn_protect_is_inert_hook_name("pre-commit.sample.sh"));
    assert_false(cdn_protect_is_inert_hook_name("pre-commit.SAMPLE"));
    assert_false(cdn_protect_is_inert_hook_name("x/pre-commit.sample"));
    assert_false(cdn_protect_is_inert_hook_name(""));
}

static void test_gitfile(void **state)
{
    (void)state;
#define GF(path, s) cdn_protect_gitfile_is_safe(path, s, strlen(s))
    assert_true(GF("/ws/w/.git", "gitdir: /ws/main/.git/worktrees/w\n"));
    assert_true(GF("/ws/main/sub/.git", "gitdir: ../.git/modules/sub\n"));
    assert_true(GF("/ws/main/a/b/.git", "gitdir: ../../.git/modules/a/b"));
    assert_true(GF("/ws/x/.git", "gitdir: ../y/.git\n"));
    assert_false(GF("/ws/x/.git", "gitdir: ../gd\n"));
    assert_false(GF("/ws/x/.git", "gitdir: /tmp/evil\n"));
    assert_false(GF("/ws/x/.git", "gitdir: /ws/.git/worktrees\n"));
    assert_false(GF("/ws/x/.git", "gitdir: /ws/.git/worktrees/w/hooks\n"));
    assert_false(GF("/ws/x/.git", "gitdir: ../.git/modules/../../gd\n"));
    assert_false(GF("/ws/x/.git", "gitdir:/ws/.git\n"));
    assert_false(GF("/ws/x/.git", "gitdir: \n"));
    assert_false(GF("/ws/x/.git", "\n"));
    assert_false(GF("/ws/x/.git", "gitdir: /ws/.git\nextra\n"));
    assert_false(GF("x/.git", "gitdir: /ws/.git\n"));
    assert_false(cdn_protect_gitfile_is_safe("/ws/x/.git", "gitdir: /ws/.git\0/x", 18));
#undef GF
#define CD(path, s) cdn_protect_commondir_is_safe(path, s, strlen(s))
    assert_true(CD("/ws/.git/worktrees/w/commondir", "../..\n"));
    assert_true(CD("/ws/.git/modules/s/worktrees/w/commondir", "../..\n"));
    assert_false(CD("/ws/.git/worktrees/w/commondir", "../../../gd\n"));
    assert_false(CD("/ws/.git/commondir", "/tmp/x\n"));
    assert_false(CD("/ws/.git/commondir", "worktrees/w\n"));
    assert_false(CD("/ws/.git/commondir", "\n"));
    assert_false(CD("/ws/.git/commondir", "../.git\nx"));
    assert_false(cdn_protect_commondir_is_safe("/ws/.git/commondir", NULL, 0));
#undef CD
}

/* Everything git writes for everyday work must be creatable: classify every
 * path in trees made by real git commands. */
static char git_tmp[256];
static const cdn_protect_t *walk_p;
static int walk_bad;

static int walk_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    cdn_protect_class_t c = cdn_protect_classify(walk_p, git_tmp, path);
    bool ok = c == CDN_PROT_NONE || c == CDN_PROT_DIR_PREFIX;
    if (c == CDN_PROT_GITCONFIG)
        ok = true; /* written through the validator (test_gitconfig covers content) */
    if (c == CDN_PROT_FILE && strcmp(path + ftw->base, ".gitmodules") == 0) {
        /* protected, but writable with validated content */
        char buf[4096], why[256];
        FILE *f = fopen(path, "r");
        size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
        if (f)
            fclose(f);
        ok = n > 0 && cdn_gitmodules_is_safe(buf, n, why, sizeof why);
    } else if (c == CDN_PROT_FILE && strcmp(path + ftw->base, "commondir") == 0) {
        char buf[4096];
        FILE *f = fopen(path, "r");
        size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
        if (f)
            fclose(f);
        ok = n > 0 && cdn_protect_commondir_is_safe(path, buf, n);
    } else if (c == CDN_PROT_FILE) {
        ok = cdn_protect_is_inert_hook_name(path + ftw->base);
    }
    if (!ok) {
        print_error("git wrote %s, classified %s\n", path, class_name(c));
        walk_bad++;
    }
    return 0;
}

static void test_git_trees(void **state)
{
    (void)state;
    if (system("git --version >/dev/null 2>&1") != 0) {
        print_error("test_git_trees needs git in PATH (apt-get install git)\n");
        fail();
    }
    snprintf(git_tmp, sizeof git_tmp, "/tmp/cdn-protect-XXXXXX");
    assert_non_null(mkdtemp(git_tmp));
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "set -e; cd '%s'; export HOME=\"$PWD\" GIT_CONFIG_NOSYSTEM=1 "
             "GIT_CONFIG_GLOBAL=/dev/null GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@e "
             "GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@e; "
             "git init -q a; cd a; echo x > f; git add f; git commit -qm one; "
             "git checkout -qb b2; echo y > f; git commit -qam two; git checkout -q -; "
             "git merge -q b2; git tag v1; git gc -q; git worktree add -q ../wt; cd ..; "
             "git clone -q a c; git -C c checkout -q -b x --track origin/b2; "
             "git -C a -c protocol.file.allow=always submodule add -q \"$PWD/c\" sub; "
             "git -C a commit -qm sub; "
             "git -c protocol.file.allow=always clone -q --recurse-submodules a d",
             git_tmp);
    snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd), " >/dev/null 2>&1");
    int st = system(cmd);
    if (st != 0) {
        print_error("git commands failed (status %d): %s\n", st, cmd);
        fail();
    }
    cdn_protect_t p;
    cdn_error_t err = {0};
    assert_int_equal(cdn_protect_init(&p, NULL, false, &err), 0);
    walk_p = &p;
    walk_bad = 0;
    assert_int_equal(nftw(git_tmp, walk_one, 16, FTW_PHYS), 0);
    /* The walk did see protected things, so it is not vacuous. */
    char path[512];
    snprintf(path, sizeof path, "%s/d/.git/modules/sub/config", git_tmp);
    assert_int_equal(cdn_protect_classify(&p, git_tmp, path), CDN_PROT_GITCONFIG);
    assert_int_equal(access(path, F_OK), 0);
    snprintf(path, sizeof path, "%s/a/.git/hooks/pre-commit.sample", git_tmp);
    assert_int_equal(access(path, F_OK), 0);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", git_tmp);
    assert_int_equal(system(cmd), 0);
    cdn_protect_free(&p);
    assert_int_equal(walk_bad, 0);
}

static void test_lexical_join(void **state)
{
    (void)state;
    char out[64];
#define J(d, r) cdn_protect_lexical_join(d, r, strlen(r), out, sizeof out)
    assert_int_equal(J("/a/b", "../c"), 4);
    assert_string_equal(out, "/a/c");
    assert_true(J("/a/b", "/x/./y//z/..") > 0);
    assert_string_equal(out, "/x/y");
    assert_true(J("/a", "../../..") > 0);
    assert_string_equal(out, "/");
    assert_true(J("/a/", "") > 0);
    assert_string_equal(out, "/a");
    assert_int_equal(J(NULL, "x"), -1);
    assert_int_equal(J(NULL, ""), -1);
    assert_int_equal(J("rel", "x"), -1);
    assert_int_equal(J("/a", "0123456789012345678901234567890123456789012345678901234567890123"),
                     -1);
    assert_int_equal(cdn_protect_lexical_join("/a", "b\0c", 3, out, sizeof out), -1);
#undef J
    assert_true(cdn_protect_path_under("/ws", "/ws"));
    assert_true(cdn_protect_path_under("/ws", "/ws/a"));
    assert_true(cdn_protect_path_under("/", "/x"));
    assert_false(cdn_protect_path_under("/ws", "/ws2"));
    assert_false(cdn_protect_path_under("/ws", "ws/a"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtins_at_depths), cmocka_unit_test(test_table),
        cmocka_unit_test(test_root_forms),         cmocka_unit_test(test_allow_git_config),
        cmocka_unit_test(test_extra_patterns),     cmocka_unit_test(test_invalid_patterns),
        cmocka_unit_test(test_inert_hook_names),   cmocka_unit_test(test_gitfile),
        cmocka_unit_test(test_git_trees),          cmocka_unit_test(test_lexical_join),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
