/* The kernel probe's file parsing, fed fake /proc contents under a temporary
 * root, and the real probe on this machine. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/kernel.h"

static char root[64];

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/cdn-kernel-XXXXXX");
    return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

static void mkdirs(char *path)
{
    for (char *s = path + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            mkdir(path, 0755);
            *s = '/';
        }
}

/* Writes root+rel (contents NULL: removes it). */
static void put(const char *rel, const char *contents)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s%s", root, rel);
    if (!contents) {
        unlink(path);
        return;
    }
    mkdirs(path);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(contents, f);
    fclose(f);
}

static void base_system(void)
{
    put("/proc/self/ns/user", "");
    put("/proc/sys/user/max_user_namespaces", "63704\n");
    put("/proc/self/status", "Name:\tcordon\nUmask:\t0022\nSeccomp:\t0\nSeccomp_filters:\t0\n");
    put("/proc/self/attr/apparmor/current", "unconfined\n");
    put("/proc/sys/kernel/unprivileged_userns_clone", NULL);
    put("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", NULL);
    put("/.dockerenv", NULL);
}

static void read_facts(cdn_userns_facts_t *f)
{
    cdn_userns_facts_read(root, f);
    f->privileged = false; /* the tests run as root; the knobs are about users */
}

static void test_version(void **state)
{
    (void)state;
    assert_true(cdn_kernel_at_least("6.18.44-fc-v669", 5, 14));
    assert_true(cdn_kernel_at_least("5.14.0", 5, 14));
    assert_false(cdn_kernel_at_least("5.13.19", 5, 14));
    assert_true(cdn_kernel_at_least("5.12", 5, 12));
    assert_false(cdn_kernel_at_least("4.19.0-21-amd64", 5, 12));
    assert_false(cdn_kernel_at_least("garbage", 5, 12));
    assert_false(cdn_kernel_at_least("", 5, 12));
    assert_false(cdn_kernel_at_least(NULL, 5, 12));
}

static void test_cgroup(void **state)
{
    (void)state;
    bool v2, hybrid;
    put("/proc/self/mountinfo",
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
        "30 22 0:26 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate\n");
    cdn_cgroup_probe_at(root, &v2, &hybrid);
    assert_true(v2);
    assert_false(hybrid);

    put("/proc/self/mountinfo",
        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
        "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
        "no separator on this line at all\n"
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n");
    cdn_cgroup_probe_at(root, &v2, &hybrid);
    assert_true(v2);
    assert_true(hybrid);

    /* v1 only; and a path named like the type must not count */
    put("/proc/self/mountinfo",
        "32 31 0:29 / /sys/fs/cgroup2 rw,relatime - cgroup cgroup rw,cpu\n"
        "33 31 0:30 / /x rw - cgroup2fake none rw\n"
        " - \n");
    cdn_cgroup_probe_at(root, &v2, &hybrid);
    assert_false(v2);
    assert_false(hybrid);

    put("/proc/self/mountinfo", NULL);
    cdn_cgroup_probe_at(root, &v2, &hybrid);
    assert_false(v2);
    assert_false(hybrid);
}

static void test_userns_open(void **state)
{
    (void)state;
    base_system();
    cdn_userns_facts_t f;
    char buf[600];
    read_facts(&f);
    assert_true(f.have_userns);
    assert_int_equal(f.unpriv_clone, -1);
    assert_int_equal(f.max_userns, 63704);
    assert_int_equal(f.apparmor_restrict, -1);
    assert_true(f.apparmor_unconfined);
    assert_int_equal(f.seccomp_mode, 0);
    assert_false(f.in_container);
    assert_true(cdn_userns_facts_allow(&f, "/usr/bin/cordon", buf, sizeof buf));
    assert_string_equal(buf, "");
}

static void test_userns_debian_knob(void **state)
{
    (void)state;
    base_system();
    put("/proc/sys/kernel/unprivileged_userns_clone", "0\n");
    cdn_userns_facts_t f;
    char buf[600];
    read_facts(&f);
    assert_int_equal(f.unpriv_clone, 0);
    assert_false(cdn_userns_facts_allow(&f, "/usr/bin/cordon", buf, sizeof buf));
    assert_non_null(strstr(buf, "sudo sysctl -w kernel.unprivileged_userns_clone=1"));
    /* root does not need the unprivileged knob */
    f.privileged = true;
    assert_true(cdn_userns_facts_allow(&f, "/usr/bin/cordon", buf, sizeof buf));

    put("/proc/sys/kernel/unprivileged_userns_clone", "1\n");
    read_facts(&f);
    assert_true(cdn_userns_facts_allow(&f, "/usr/bin/cordon", buf, sizeof buf));
}

static void test_userns_max_zero(void **state)
{
    (void)state;
    base_system();
    put("/proc/sys/user/max_user_namespaces", "0\n");
    cdn_userns_facts_t f;
    char buf[600];
    read_facts(&f);
    f.privileged = true; /* this one stops root too */
    assert_false(cdn_userns_facts_allow(&f, "/usr/bin/cordon", buf, sizeof buf));
    assert_non_null(strstr(buf, "sudo sysctl -w user.max_user_namespaces="));

    /* malformed contents are "unknown", not zero */
    put("/proc/sys/user/max_user_namespaces", "zero\n");
    read_facts(&f);
    assert_int_equal(f.max_userns, -1);
    put("/proc/sys/user/max_user_namespaces", "12abc\n");
    read_facts(&f);
    assert_int_equal(f.max_userns, -1);
}

static void test_userns_apparmor(void **state)
{
    (void)state;
    base_system();
    put("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1\n");
    cdn_userns_facts_t f;
    char buf[sizeof ((cdn_kernel_t *)0)->userns_block]; /* must fit where the probe puts it */
    read_facts(&f);
    assert_int_equal(f.apparmor_restrict, 1);
    assert_false(cdn_userns_facts_allow(&f, "/opt/cordon/bin/cordon", buf, sizeof buf));
    assert_non_null(strstr(buf, "profile cordon /opt/cordon/bin/cordon"));
    assert_non_null(strstr(buf, "userns,"));
    assert_non_null(strstr(buf, "apparmor_parser -r /etc/apparmor.d/cordon"));
    assert_int_equal(buf[strlen(buf) - 1], '.');

    /* confined by a profile: it may grant userns, nothing visibly forbids */
    put("/proc/self/attr/apparmor/current", "cordon (unconfined)\n");
    read_facts(&f);
    assert_false(f.apparmor_unconfined);
    assert_true(cdn_userns_facts_allow(&f, "/usr/bin/cordon", buf, sizeof buf));

    /* the explanation of an EPERM names the same fix */
    put("/proc/self/attr/apparmor/current", "unconfined\n");
    read_facts(&f);
    cdn_userns_explain(&f, EPERM, "/usr/bin/cordon", buf, sizeof buf);
    assert_non_null(strstr(buf, "AppArmor"));
}

static void test_userns_docker(void **state)
{
    (void)state;
    base_system();
    put("/proc/self/status", "Name:\tx\nSeccomp:\t2\nSeccomp_filters:\t1\n");
    put("/.dockerenv", "");
    cdn_userns_facts_t f;
    char buf[600];
    read_facts(&f);
    assert_int_equal(f.seccomp_mode, 2);
    assert_true(f.in_container);
    /* a seccomp filter does not visibly forbid: only the error tells */
    assert_true(cdn_userns_facts_allow(&f, "/usr/bin/cordon", buf, sizeof buf));
    cdn_userns_explain(&f, EPERM, "/usr/bin/cordon", buf, sizeof buf);
    assert_non_null(strstr(buf, "Seccomp: 2"));
    assert_non_null(strstr(buf, "--security-opt seccomp=unconfined"));
    assert_non_null(strstr(buf, "--privileged"));

    cdn_userns_explain(&f, ENOSPC, "/usr/bin/cordon", buf, sizeof buf);
    assert_non_null(strstr(buf, "user.max_user_namespaces"));
    cdn_userns_explain(&f, EUSERS, "/usr/bin/cordon", buf, sizeof buf);
    assert_non_null(strstr(buf, "32"));

    /* no facts at all: still a sentence, naming the errno */
    put("/proc/self/status", NULL);
    put("/.dockerenv", NULL);
    read_facts(&f);
    assert_int_equal(f.seccomp_mode, -1);
    cdn_userns_explain(&f, EPERM, "/usr/bin/cordon", buf, sizeof buf);
    assert_non_null(strstr(buf, strerror(EPERM)));

    put("/proc/self/ns/user", NULL);
    read_facts(&f);
    assert_false(cdn_userns_facts_allow(&f, "/usr/bin/cordon", buf, sizeof buf));
    assert_non_null(strstr(buf, "CONFIG_USER_NS"));
}

static void test_truncation(void **state)
{
    (void)state;
    base_system();
    put("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1\n");
    cdn_userns_facts_t f;
    char small[40];
    read_facts(&f);
    memset(small, 'z', sizeof small);
    assert_false(cdn_userns_facts_allow(&f, "/usr/bin/cordon", small, sizeof small));
    assert_int_equal(strlen(small), sizeof small - 1);
}

static void test_probe_real(void **state)
{
    (void)state;
    cdn_kernel_t k;
    cdn_kernel_probe(&k);
    assert_true(k.release[0] != '\0');
    /* This machine runs 6.18 with Landlock ABI 7, seccomp, and cgroup v2. */
    assert_true(k.landlock_abi >= 1);
    assert_true(k.seccomp_filter);
    assert_true(k.seccomp_notify);
    assert_true(k.seccomp_addfd);
    assert_true(k.mount_setattr);
    assert_true(k.userns_possible);
    assert_string_equal(k.userns_block, "");
    assert_true(k.cgroup2);

    char buf[512];
    cdn_userns_diagnose(EPERM, buf, sizeof buf);
    assert_true(strlen(buf) > 20);
    assert_int_equal(buf[strlen(buf) - 1], '.');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_cgroup),
        cmocka_unit_test(test_userns_open),
        cmocka_unit_test(test_userns_debian_knob),
        cmocka_unit_test(test_userns_max_zero),
        cmocka_unit_test(test_userns_apparmor),
        cmocka_unit_test(test_userns_docker),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_probe_real),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
