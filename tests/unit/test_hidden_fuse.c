/* The hidden-path observer's FUSE subset: request bytes in, reply bytes and
 * the attempt seen out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <linux/fuse.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "sandbox/hidden_fuse.h"

static uint8_t req[CDN_HF_BUFSIZE + 64];
static uint8_t out[CDN_HF_REPLY_MAX];

/* Build a request: header + body; returns its length. */
static size_t mk(uint32_t opcode, uint64_t unique, uint64_t nodeid, uint32_t pid,
                 const void *body, size_t blen)
{
    struct fuse_in_header h = {.len = (uint32_t)(sizeof h + blen), .opcode = opcode,
                               .unique = unique, .nodeid = nodeid, .uid = 1000, .gid = 1000,
                               .pid = pid};
    memcpy(req, &h, sizeof h);
    if (blen)
        memcpy(req + sizeof h, body, blen);
    return sizeof h + blen;
}

static struct fuse_out_header out_hdr(int r)
{
    struct fuse_out_header o;
    assert_true(r >= (int)sizeof o);
    memcpy(&o, out, sizeof o);
    assert_int_equal(o.len, r);
    return o;
}

static void do_init(cdn_hf_conn_t *c, uint32_t minor)
{
    struct fuse_init_in in = {.major = 7, .minor = minor};
    cdn_hf_seen_t s;
    size_t l = mk(FUSE_INIT, 1, 0, 0, &in, sizeof in);
    int r = cdn_hf_handle(c, req, l, out, sizeof out, &s);
    struct fuse_out_header o = out_hdr(r);
    assert_int_equal(o.error, 0);
    assert_int_equal(o.unique, 1);
    assert_int_equal(r, sizeof o + sizeof(struct fuse_init_out));
    struct fuse_init_out io;
    memcpy(&io, out + sizeof o, sizeof io);
    assert_int_equal(io.major, 7);
    assert_true(io.minor <= minor);
    assert_int_equal(io.flags, 0); /* no features asked for */
    assert_true(c->initialized);
    assert_int_equal(s.kind, CDN_HF_NONE);
}

/* Node 0 (nodeid 2) a hidden folder, node 1 (nodeid 3) a hidden file. */
#define DIR_NODE 2
#define FILE_NODE 3
static cdn_hf_conn_t mk_conn(void)
{
    cdn_hf_conn_t c;
    memset(&c, 0, sizeof c);
    c.n = 2;
    c.is_dir[0] = true;
    c.uid = c.gid = 1000;
    c.time = 1;
    return c;
}

static cdn_hf_conn_t dir_conn(void)
{
    cdn_hf_conn_t c = mk_conn();
    do_init(&c, 44); /* a newer kernel than our header: we answer our minor */
    assert_int_equal(c.minor, FUSE_KERNEL_MINOR_VERSION);
    return c;
}

static void test_init(void **state)
{
    (void)state;
    cdn_hf_conn_t c = mk_conn();
    do_init(&c, 27);
    assert_int_equal(c.minor, 27);
    /* A second INIT is a protocol error, answered with EPROTO. */
    struct fuse_init_in in = {.major = 7, .minor = 27};
    cdn_hf_seen_t s;
    int r = cdn_hf_handle(&c, req, mk(FUSE_INIT, 2, 0, 0, &in, sizeof in), out, sizeof out, &s);
    assert_int_equal(out_hdr(r).error, -EPROTO);
}

static void test_init_refused(void **state)
{
    (void)state;
    cdn_hf_seen_t s;
    cdn_hf_conn_t c = mk_conn();
    struct fuse_init_in old = {.major = 7, .minor = 22}, other = {.major = 8, .minor = 40};
    int r = cdn_hf_handle(&c, req, mk(FUSE_INIT, 1, 0, 0, &old, sizeof old), out, sizeof out, &s);
    assert_int_equal(out_hdr(r).error, -EPROTO);
    r = cdn_hf_handle(&c, req, mk(FUSE_INIT, 1, 0, 0, &other, sizeof other), out, sizeof out, &s);
    assert_int_equal(out_hdr(r).error, -EPROTO);
    r = cdn_hf_handle(&c, req, mk(FUSE_INIT, 1, 0, 0, &old, 4), out, sizeof out, &s);
    assert_int_equal(out_hdr(r).error, -EPROTO);
    assert_false(c.initialized);
    /* Nothing is served before INIT. */
    r = cdn_hf_handle(&c, req, mk(FUSE_GETATTR, 3, DIR_NODE, 5, NULL, 0), out, sizeof out, &s);
    assert_int_equal(out_hdr(r).error, -EIO);
}

static void test_lookup_refused_and_seen(void **state)
{
    (void)state;
    cdn_hf_conn_t c = dir_conn();
    cdn_hf_seen_t s;
    int r = cdn_hf_handle(&c, req, mk(FUSE_LOOKUP, 9, DIR_NODE, 42, "id_ed25519", 11), out, sizeof out,
                          &s);
    struct fuse_out_header o = out_hdr(r);
    assert_int_equal(o.error, -EACCES);
    assert_int_equal(o.unique, 9);
    assert_int_equal(r, sizeof o);
    assert_int_equal(s.kind, CDN_HF_LOOKUP);
    assert_int_equal(s.pid, 42);
    assert_string_equal(s.name, "id_ed25519");
    assert_int_equal(s.node, 0);
}

/* The root only names the nodes, for pid 1 to bind them; never reported. */
static void test_root_names_nodes(void **state)
{
    (void)state;
    cdn_hf_conn_t c = dir_conn();
    cdn_hf_seen_t s;
    int r = cdn_hf_handle(&c, req, mk(FUSE_LOOKUP, 20, 1, 1, "1", 2), out, sizeof out, &s);
    struct fuse_out_header o = out_hdr(r);
    assert_int_equal(o.error, 0);
    struct fuse_entry_out e;
    assert_int_equal(r, sizeof o + sizeof e);
    memcpy(&e, out + sizeof o, sizeof e);
    assert_int_equal(e.nodeid, FILE_NODE);
    assert_int_equal(e.attr.mode, S_IFREG);
    assert_int_equal(e.attr.ino, FILE_NODE);
    assert_true(e.entry_valid > 0);
    assert_int_equal(s.kind, CDN_HF_NONE);
    static const char *const bad[] = {"2", "01", "00", "-1", "x", "100", " 1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = cdn_hf_handle(&c, req, mk(FUSE_LOOKUP, 21, 1, 1, bad[i], strlen(bad[i]) + 1), out,
                          sizeof out, &s);
        assert_int_equal(out_hdr(r).error, -ENOENT);
    }
    struct fuse_open_in oi = {0};
    r = cdn_hf_handle(&c, req, mk(FUSE_OPENDIR, 22, 1, 5, &oi, sizeof oi), out, sizeof out, &s);
    assert_int_equal(out_hdr(r).error, -EACCES);
    assert_int_equal(s.kind, CDN_HF_NONE);
    struct fuse_getattr_in gi = {0};
    r = cdn_hf_handle(&c, req, mk(FUSE_GETATTR, 23, 1, 5, &gi, sizeof gi), out, sizeof out, &s);
    assert_int_equal(out_hdr(r).error, 0);
}

static void test_lookup_bad_names(void **state)
{
    (void)state;
    cdn_hf_conn_t c = dir_conn();
    cdn_hf_seen_t s;
    static const struct {
        const char *body;
        size_t len;
    } bad[] = {{"abc", 3}, {"", 1}, {"a/b", 4}, {".", 2}, {"..", 3}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int r = cdn_hf_handle(&c, req, mk(FUSE_LOOKUP, 9, DIR_NODE, 42, bad[i].body, bad[i].len), out,
                              sizeof out, &s);
        assert_int_equal(out_hdr(r).error, -EIO);
        assert_int_equal(s.kind, CDN_HF_NONE);
    }
    char longname[300];
    memset(longname, 'x', sizeof longname);
    longname[sizeof longname - 1] = '\0';
    int r = cdn_hf_handle(&c, req, mk(FUSE_LOOKUP, 9, DIR_NODE, 42, longname, sizeof longname), out,
                          sizeof out, &s);
    assert_int_equal(out_hdr(r).error, -EIO);
}

static void test_getattr_root(void **state)
{
    (void)state;
    cdn_hf_conn_t c = dir_conn();
    cdn_hf_seen_t s;
    struct fuse_getattr_in gi = {0};
    int r = cdn_hf_handle(&c, req, mk(FUSE_GETATTR, 4, DIR_NODE, 7, &gi, sizeof gi), out, sizeof out,
                          &s);
    struct fuse_out_header o = out_hdr(r);
    assert_int_equal(o.error, 0);
    struct fuse_attr_out ao;
    assert_int_equal(r, sizeof o + sizeof ao);
    memcpy(&ao, out + sizeof o, sizeof ao);
    assert_int_equal(ao.attr.mode, S_IFDIR); /* mode 000 */
    assert_int_equal(ao.attr.size, 0);
    assert_int_equal(ao.attr.ino, DIR_NODE);
    assert_int_equal(ao.attr.uid, 1000);
    assert_true(ao.attr_valid > 0);
    assert_int_equal(s.kind, CDN_HF_NONE); /* stat of the place itself is not reported */

    /* Any other node does not exist. */
    r = cdn_hf_handle(&c, req, mk(FUSE_GETATTR, 5, 4, 7, &gi, sizeof gi), out, sizeof out, &s);
    assert_int_equal(out_hdr(r).error, -EIO);
    r = cdn_hf_handle(&c, req, mk(FUSE_GETATTR, 5, 0, 7, &gi, sizeof gi), out, sizeof out, &s);
    assert_int_equal(out_hdr(r).error, -EIO);
}

static void test_open_kinds(void **state)
{
    (void)state;
    cdn_hf_conn_t d = dir_conn(), f = dir_conn();
    cdn_hf_seen_t s;
    struct fuse_open_in oi = {0};

    int r = cdn_hf_handle(&d, req, mk(FUSE_OPENDIR, 6, DIR_NODE, 8, &oi, sizeof oi), out, sizeof out, &s);
    assert_int_equal(out_hdr(r).error, -EACCES);
    assert_int_equal(s.kind, CDN_HF_OPENDIR);

    r = cdn_hf_handle(&f, req, mk(FUSE_OPEN, 7, FILE_NODE, 8, &oi, sizeof oi), out, sizeof out, &s);
    assert_int_equal(out_hdr(r).error, -EACCES);
    assert_int_equal(s.kind, CDN_HF_OPEN);
    assert_int_equal(s.node, 1);

    /* The wrong kind for the node is an error, never reported. */
    r = cdn_hf_handle(&d, req, mk(FUSE_OPEN, 8, DIR_NODE, 8, &oi, sizeof oi), out, sizeof out, &s);
    assert_int_equal(out_hdr(r).error, -EISDIR);
    assert_int_equal(s.kind, CDN_HF_NONE);
    r = cdn_hf_handle(&f, req, mk(FUSE_OPENDIR, 8, FILE_NODE, 8, &oi, sizeof oi), out, sizeof out, &s);
    assert_int_equal(out_hdr(r).error, -ENOTDIR);
    r = cdn_hf_handle(&f, req, mk(FUSE_LOOKUP, 8, FILE_NODE, 8, "x", 2), out, sizeof out, &s);
    assert_int_equal(out_hdr(r).error, -ENOTDIR);
    assert_int_equal(s.kind, CDN_HF_NONE);

    struct fuse_getattr_in gi = {0};
    r = cdn_hf_handle(&f, req, mk(FUSE_GETATTR, 9, FILE_NODE, 8, &gi, sizeof gi), out, sizeof out, &s);
    struct fuse_attr_out ao;
    memcpy(&ao, out + sizeof(struct fuse_out_header), sizeof ao);
    assert_int_equal(ao.attr.mode, S_IFREG);
}

static void test_access(void **state)
{
    (void)state;
    cdn_hf_conn_t c = dir_conn();
    cdn_hf_seen_t s;
    struct fuse_access_in ai = {.mask = 0};
    int r = cdn_hf_handle(&c, req, mk(FUSE_ACCESS, 10, DIR_NODE, 8, &ai, sizeof ai), out, sizeof out, &s);
    assert_int_equal(out_hdr(r).error, 0); /* F_OK: it exists */
    assert_int_equal(s.kind, CDN_HF_NONE);
    ai.mask = 4; /* R_OK */
    r = cdn_hf_handle(&c, req, mk(FUSE_ACCESS, 11, DIR_NODE, 8, &ai, sizeof ai), out, sizeof out, &s);
    assert_int_equal(out_hdr(r).error, -EACCES);
    assert_int_equal(s.kind, CDN_HF_ACCESS);
    r = cdn_hf_handle(&c, req, mk(FUSE_ACCESS, 12, DIR_NODE, 8, &ai, 4), out, sizeof out, &s);
    assert_int_equal(out_hdr(r).error, -EIO);
}

static void test_no_reply_and_enosys(void **state)
{
    (void)state;
    cdn_hf_conn_t c = dir_conn();
    cdn_hf_seen_t s;
    struct fuse_forget_in fi = {.nlookup = 1};
    assert_int_equal(cdn_hf_handle(&c, req, mk(FUSE_FORGET, 13, DIR_NODE, 0, &fi, sizeof fi), out,
                                   sizeof out, &s),
                     0);
    struct fuse_interrupt_in ii = {.unique = 12};
    assert_int_equal(cdn_hf_handle(&c, req, mk(FUSE_INTERRUPT, 14, 0, 0, &ii, sizeof ii), out,
                                   sizeof out, &s),
                     0);
    static const uint32_t unsupported[] = {FUSE_MKDIR, FUSE_UNLINK, FUSE_WRITE, FUSE_READ,
                                           FUSE_SETATTR, FUSE_GETXATTR, FUSE_CREATE, 52, 9999};
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++) {
        int r = cdn_hf_handle(&c, req, mk(unsupported[i], 15, DIR_NODE, 8, "abc", 4), out, sizeof out,
                              &s);
        assert_int_equal(out_hdr(r).error, -ENOSYS);
        assert_int_equal(s.kind, CDN_HF_NONE);
    }
    int r = cdn_hf_handle(&c, req, mk(FUSE_READDIR, 16, DIR_NODE, 8, NULL, 0), out, sizeof out, &s);
    assert_int_equal(r, sizeof(struct fuse_out_header)); /* lists nothing */
    assert_int_equal(out_hdr(r).error, 0);
    r = cdn_hf_handle(&c, req, mk(FUSE_STATFS, 17, DIR_NODE, 8, NULL, 0), out, sizeof out, &s);
    assert_int_equal(r, sizeof(struct fuse_out_header) + sizeof(struct fuse_statfs_out));
}

static void test_malformed_stream(void **state)
{
    (void)state;
    cdn_hf_conn_t c = dir_conn();
    cdn_hf_seen_t s;
    size_t l = mk(FUSE_LOOKUP, 9, DIR_NODE, 42, "a", 2);
    assert_int_equal(cdn_hf_handle(&c, req, l - 1, out, sizeof out, &s), -1); /* len mismatch */
    assert_int_equal(cdn_hf_handle(&c, req, 10, out, sizeof out, &s), -1);    /* short header */
    assert_int_equal(cdn_hf_handle(&c, req, 0, out, sizeof out, &s), -1);
    assert_int_equal(cdn_hf_handle(&c, req, l, out, 16, &s), -1); /* reply buffer too small */
    struct fuse_in_header h;
    memcpy(&h, req, sizeof h);
    h.len = CDN_HF_BUFSIZE + 8;
    memcpy(req, &h, sizeof h);
    assert_int_equal(cdn_hf_handle(&c, req, CDN_HF_BUFSIZE + 8, out, sizeof out, &s), -1);
}

static void test_op_names(void **state)
{
    (void)state;
    assert_string_equal(cdn_hf_op_name(CDN_HF_OPEN, -1), "read");
    assert_string_equal(cdn_hf_op_name(CDN_HF_OPENDIR, -1), "list");
    assert_string_equal(cdn_hf_op_name(CDN_HF_LOOKUP, -1), "read");
    assert_string_equal(cdn_hf_op_name(CDN_HF_LOOKUP, __NR_openat), "read");
    assert_string_equal(cdn_hf_op_name(CDN_HF_LOOKUP, __NR_statx), "stat");
    assert_string_equal(cdn_hf_op_name(CDN_HF_LOOKUP, __NR_newfstatat), "stat");
    assert_string_equal(cdn_hf_op_name(CDN_HF_LOOKUP, __NR_faccessat2), "stat");
    assert_string_equal(cdn_hf_op_name(CDN_HF_LOOKUP, __NR_execve), "exec");
    assert_string_equal(cdn_hf_op_name(CDN_HF_ACCESS, __NR_chdir), "list");
    assert_string_equal(cdn_hf_op_name(CDN_HF_ACCESS, -1), "stat");
}

static void test_path_search(void **state)
{
    (void)state;
    const char *p = "/root/.cargo/bin:/usr/bin:/home/u/.local/bin";
    assert_true(cdn_hf_is_path_search("/root", ".cargo", p));
    assert_false(cdn_hf_is_path_search("/root", ".car", p));
    assert_false(cdn_hf_is_path_search("/root", ".ssh", p));
    assert_true(cdn_hf_is_path_search("/home/u/.local", "bin", p));
    assert_false(cdn_hf_is_path_search("/home/u/.local", "bi", p));
    assert_false(cdn_hf_is_path_search("/home/u", ".loc", p));
    assert_true(cdn_hf_is_path_search("/home/u", ".local", p));
    assert_false(cdn_hf_is_path_search("/usr", "bin", "/usr/binx:/opt"));
    assert_false(cdn_hf_is_path_search("/root", ".cargo", ""));
    assert_false(cdn_hf_is_path_search("/root", ".cargo", NULL));
    assert_true(cdn_hf_is_path_search("/", "opt", "/usr:/opt"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_init_refused),
        cmocka_unit_test(test_lookup_refused_and_seen),
        cmocka_unit_test(test_lookup_bad_names),
        cmocka_unit_test(test_root_names_nodes),
        cmocka_unit_test(test_getattr_root),
        cmocka_unit_test(test_open_kinds),
        cmocka_unit_test(test_access),
        cmocka_unit_test(test_no_reply_and_enosys),
        cmocka_unit_test(test_malformed_stream),
        cmocka_unit_test(test_op_names),
        cmocka_unit_test(test_path_search),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
