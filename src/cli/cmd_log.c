/* cordon log FILE: reads an audit log written by --audit-log (JSON lines,
 * schema in docs/audit.md) and shows it for people, filtered.  With
 * --follow it keeps reading as other sandboxes append (inotify, with a
 * polling fallback), and handles the file being truncated. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/event.h"
#include "cli/commands.h"
#include "util/cleanup.h"
#include "util/error.h"

/* A line longer than this is not an event cordon wrote; it is skipped. */
#define LINE_MAX_BYTES (4 * 1024 * 1024)

typedef struct {
    const char *session;
    const char *kind; /* exact kind, or a family: "net" matches net.allow and net.deny */
    const char *decision;
    bool follow, json, color;
    const char *path;
    unsigned long lineno, bad;
} log_opts_t;

static const char *const families[] = {"session", "process", "net", "fs", "policy", "error"};

static void usage(FILE *f)
{
    fputs("usage: cordon log FILE [--session ID] [--kind KIND] [--decision allow|deny|observe]\n"
          "                       [--follow] [--json]\n"
          "\n"
          "Shows the audit events in FILE (written with --audit-log), one line each.\n"
          "  --session ID   only this session (a prefix of the id is enough)\n"
          "  --kind KIND    session.start, session.end, process.start, process.exit,\n"
          "                 net.allow, net.deny, fs.violation, policy.warning, error,\n"
          "                 or a family: session, process, net, fs, policy\n"
          "  --decision D   allow, deny or observe\n"
          "  -f, --follow   keep reading as events are appended\n"
          "  --json         print the matching lines unchanged\n",
          f);
}

static bool kind_matches(const char *want, const char *kind)
{
    if (!want)
        return true;
    if (strcmp(want, kind) == 0)
        return true;
    size_t n = strlen(want);
    return strncmp(kind, want, n) == 0 && kind[n] == '.';
}

static const char *str(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static long long num(json_t *o, const char *k, long long dflt)
{
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

static void fmt_duration(char *b, size_t n, long long ns)
{
    if (ns < 1000000)
        snprintf(b, n, "%.1f us", (double)ns / 1e3);
    else if (ns < 1000000000)
        snprintf(b, n, "%.1f ms", (double)ns / 1e6);
    else
        snprintf(b, n, "%.2f s", (double)ns / 1e9);
}

/* Untrusted strings from the log go to a terminal: control characters
 * (escape sequences) are shown, not interpreted. */
static void put_safe(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\x%02x", c);
        else
            fputc(c, out);
    }
}

static void put_argv(FILE *out, json_t *argv)
{
    size_t i;
    json_t *a;
    json_array_foreach(argv, i, a) {
        const char *s = json_string_value(a);
        if (!s)
            continue;
        if (i)
            fputc(' ', out);
        bool quote = !*s || strpbrk(s, " \t'\"\\$`;&|<>*?()") != NULL;
        if (quote) {
            fputc('\'', out);
            for (const char *p = s; *p; p++) {
                if (*p == '\'')
                    fputs("'\\''", out);
                else {
                    char one[2] = {*p, 0};
                    put_safe(out, one);
                }
            }
            fputc('\'', out);
        } else {
            put_safe(out, s);
        }
    }
}

static void print_human(FILE *out, json_t *ev, const log_opts_t *o)
{
    const char *kind = str(ev, "kind"), *decision = str(ev, "decision");
    const char *time = str(ev, "time"), *sid = str(ev, "session_id");
    char when[32] = "?";
    if (time) {
        /* "2026-11-27T01:02:18.498011067Z" -> "2026-11-27 01:02:18.498" */
        snprintf(when, sizeof when, "%.10s %.12s", time, strlen(time) > 11 ? time + 11 : "");
    }
    const char *color = "", *reset = "";
    if (o->color) {
        reset = "\033[0m";
        if (strcmp(kind, "error") == 0)
            color = "\033[1;31m";
        else if (decision && strcmp(decision, "deny") == 0)
            color = "\033[31m";
        else if (decision && strcmp(decision, "allow") == 0)
            color = "\033[32m";
        else if (strcmp(kind, "policy.warning") == 0)
            color = "\033[33m";
        else
            reset = "";
    }
    fprintf(out, "%-23s  %.8s  %s%-14s %-7s%s  ", when, sid ? sid : "--------", color, kind,
            decision ? decision : "", reset);
    json_t *p = json_object_get(ev, "process"), *n = json_object_get(ev, "net"),
           *f = json_object_get(ev, "fs"), *s = json_object_get(ev, "session");
    char d1[32];
    if (strcmp(kind, "session.start") == 0) {
        fprintf(out, "user ");
        put_safe(out, str(ev, "user") ? str(ev, "user") : "?");
        fprintf(out, " (uid %lld)", num(ev, "uid", -1));
        if (str(ev, "agent_id")) {
            fputs(" agent ", out);
            put_safe(out, str(ev, "agent_id"));
        }
        if (str(ev, "workspace")) {
            fputs(" workspace ", out);
            put_safe(out, str(ev, "workspace"));
        }
        if (str(ev, "policy_digest"))
            fprintf(out, " policy %.19s", str(ev, "policy_digest"));
    } else if (strcmp(kind, "session.end") == 0 || strcmp(kind, "process.exit") == 0) {
        json_t *x = s ? s : p;
        if (p)
            fprintf(out, "pid %lld ", num(p, "pid", 0));
        if (num(x, "signal", 0) > 0)
            fprintf(out, "killed by signal %lld", num(x, "signal", 0));
        else
            fprintf(out, "exit %lld", num(x, "exit_code", -1));
        fmt_duration(d1, sizeof d1, num(x, "duration_ns", 0));
        fprintf(out, " after %s", d1);
        if (p) {
            char u[32], sy[32];
            fmt_duration(u, sizeof u, num(p, "cpu_user_ns", 0));
            fmt_duration(sy, sizeof sy, num(p, "cpu_sys_ns", 0));
            fprintf(out, ", cpu %s user %s sys", u, sy);
            if (num(p, "peak_rss_bytes", -1) >= 0)
                fprintf(out, ", peak rss %.1f MiB", (double)num(p, "peak_rss_bytes", 0) / 1048576.0);
        }
    } else if (strcmp(kind, "process.start") == 0) {
        fprintf(out, "pid %lld: ", num(p, "pid", 0));
        put_argv(out, json_object_get(p, "argv"));
    } else if (n) {
        put_safe(out, str(n, "host") ? str(n, "host") : str(n, "address"));
        fprintf(out, ":%lld/", num(n, "port", 0));
        put_safe(out, str(n, "protocol"));
        if (str(n, "host") && str(n, "address")) {
            fputs(" (", out);
            put_safe(out, str(n, "address"));
            fputc(')', out);
        }
        if (str(n, "rule")) {
            fputs(" rule ", out);
            put_safe(out, str(n, "rule"));
        }
        if (num(n, "bytes_in", 0) || num(n, "bytes_out", 0))
            fprintf(out, " in %lld B out %lld B", num(n, "bytes_in", 0), num(n, "bytes_out", 0));
    } else if (f) {
        put_safe(out, str(f, "operation"));
        fputc(' ', out);
        put_safe(out, str(f, "path"));
        if (str(f, "process_name") || num(f, "pid", 0)) {
            fputs(" (", out);
            put_safe(out, str(f, "process_name") ? str(f, "process_name") : "?");
            if (num(f, "pid", 0))
                fprintf(out, " pid %lld", num(f, "pid", 0));
            fputc(')', out);
        }
        if (str(f, "errno_name"))
            fprintf(out, " %s", str(f, "errno_name"));
        if (str(f, "setting")) {
            fputs("; allowed by ", out);
            put_safe(out, str(f, "setting"));
        }
    } else {
        if (str(ev, "setting")) {
            put_safe(out, str(ev, "setting"));
            fputs(": ", out);
        }
        put_safe(out, str(ev, "message"));
        if (str(ev, "errno_name"))
            fprintf(out, " (%s)", str(ev, "errno_name"));
    }
    if (str(ev, "message") && (p || n || f || s)) {
        fputs(" -- ", out);
        put_safe(out, str(ev, "message"));
    }
    fputc('\n', out);
}

static void handle_line(const char *line, size_t len, log_opts_t *o)
{
    o->lineno++;
    if (len == 0)
        return;
    json_error_t je;
    json_t *ev = json_loadb(line, len, 0, &je);
    const char *kind = ev ? str(ev, "kind") : NULL;
    if (!ev || !json_is_object(ev) || !kind || cdn_event_kind_from_name(kind) < 0) {
        if (o->bad++ < 10)
            fprintf(stderr, "cordon log: %s:%lu: not an audit event%s%s\n", o->path, o->lineno,
                    ev ? "" : ": ", ev ? "" : je.text);
        json_decref(ev);
        return;
    }
    const char *sid = str(ev, "session_id"), *dec = str(ev, "decision");
    bool match = kind_matches(o->kind, kind) &&
                 (!o->session || (sid && strncmp(sid, o->session, strlen(o->session)) == 0)) &&
                 (!o->decision || (dec && strcmp(dec, o->decision) == 0));
    if (match) {
        if (o->json) {
            fwrite(line, 1, len, stdout);
            fputc('\n', stdout);
        } else {
            print_human(stdout, ev, o);
        }
    }
    json_decref(ev);
}

typedef struct {
    char *buf;
    size_t n, cap;
    bool skipping; /* inside an over-long line */
} reader_t;

/* Reads what is available, hands over every complete line; a partial last
 * line waits for the rest (another sandbox may be writing it). */
static int drain(int fd, reader_t *r, log_opts_t *o, cdn_error_t *err)
{
    for (;;) {
        if (r->cap - r->n < 65536) {
            size_t cap = r->cap ? r->cap * 2 : 131072;
            char *nb = realloc(r->buf, cap);
            if (!nb)
                return cdn_error(err, ENOMEM, "reading %s", o->path);
            r->buf = nb;
            r->cap = cap;
        }
        ssize_t got = read(fd, r->buf + r->n, r->cap - r->n);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return cdn_error(err, errno, "reading %s", o->path);
        }
        if (got == 0)
            break;
        r->n += (size_t)got;
        size_t start = 0;
        for (char *nl; (nl = memchr(r->buf + start, '\n', r->n - start));) {
            size_t end = (size_t)(nl - r->buf);
            if (r->skipping)
                r->skipping = false, o->lineno++;
            else
                handle_line(r->buf + start, end - start, o);
            start = end + 1;
        }
        memmove(r->buf, r->buf + start, r->n - start);
        r->n -= start;
        if (r->n > LINE_MAX_BYTES) {
            if (!r->skipping)
                fprintf(stderr, "cordon log: %s:%lu: line longer than %d bytes skipped\n",
                        o->path, o->lineno + 1, LINE_MAX_BYTES);
            r->skipping = true;
            r->n = 0;
        }
    }
    fflush(stdout);
    return 0;
}

static int follow(int fd, reader_t *r, log_opts_t *o, cdn_error_t *err)
{
    _cleanup_close_ int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (in >= 0 && inotify_add_watch(in, o->path, IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE) < 0) {
        close(in);
        in = -1; /* polling below still works */
    }
    for (;;) {
        struct pollfd pfd = {.fd = in, .events = POLLIN};
        /* Also wake up now and then: inotify misses writes over NFS. */
        int pr = poll(&pfd, in >= 0 ? 1 : 0, in >= 0 ? 2000 : 250);
        if (pr < 0 && errno != EINTR)
            return cdn_error(err, errno, "waiting for %s", o->path);
        if (pr > 0) {
            char evbuf[4096];
            while (read(in, evbuf, sizeof evbuf) > 0) {
            }
        }
        struct stat st;
        off_t pos = lseek(fd, 0, SEEK_CUR);
        if (fstat(fd, &st) == 0 && pos >= 0 && st.st_size < pos) {
            fprintf(stderr, "cordon log: %s was truncated; reading from the start\n", o->path);
            lseek(fd, 0, SEEK_SET);
            r->n = 0;
            r->skipping = false;
        }
        if (drain(fd, r, o, err) < 0)
            return -1;
    }
}

int cdn_cmd_log(int argc, char **argv)
{
    log_opts_t o = {0};
    static const struct option opts[] = {
        {"session", required_argument, NULL, 's'}, {"kind", required_argument, NULL, 'k'},
        {"decision", required_argument, NULL, 'd'}, {"follow", no_argument, NULL, 'f'},
        {"json", no_argument, NULL, 'j'},          {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "fh", opts, NULL)) != -1;) {
        switch (c) {
        case 's': o.session = optarg; break;
        case 'k': o.kind = optarg; break;
        case 'd': o.decision = optarg; break;
        case 'f': o.follow = true; break;
        case 'j': o.json = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return CDN_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "cordon log: expected exactly one FILE\n");
        usage(stderr);
        return CDN_EXIT_USAGE;
    }
    o.path = argv[optind];
    if (o.kind && cdn_event_kind_from_name(o.kind) < 0) {
        bool fam = false;
        for (size_t i = 0; i < CDN_ARRAY_SIZE(families); i++)
            fam = fam || strcmp(o.kind, families[i]) == 0;
        if (!fam) {
            fprintf(stderr, "cordon log: unknown kind '%s' (see cordon log --help)\n", o.kind);
            return CDN_EXIT_USAGE;
        }
    }
    if (o.decision && strcmp(o.decision, "allow") != 0 && strcmp(o.decision, "deny") != 0 &&
        strcmp(o.decision, "observe") != 0) {
        fprintf(stderr, "cordon log: --decision is allow, deny or observe, not '%s'\n", o.decision);
        return CDN_EXIT_USAGE;
    }
    const char *nc = getenv("NO_COLOR");
    o.color = !o.json && isatty(STDOUT_FILENO) && !(nc && *nc);

    cdn_error_t err = {0};
    _cleanup_close_ int fd = open(o.path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        cdn_error(&err, errno, "opening %s", o.path);
        cdn_error_print(&err, stderr);
        return CDN_EXIT_FAILURE;
    }
    reader_t r = {0};
    int rc = drain(fd, &r, &o, &err);
    if (rc == 0 && !o.follow && r.n > 0 && !r.skipping)
        handle_line(r.buf, r.n, &o); /* last line without newline */
    if (rc == 0 && o.follow)
        rc = follow(fd, &r, &o, &err);
    free(r.buf);
    if (rc < 0) {
        cdn_error_print(&err, stderr);
        return CDN_EXIT_FAILURE;
    }
    return o.bad ? 1 : 0;
}
