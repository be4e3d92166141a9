/* The lab: plant canaries on the host, run the battery in one sandboxed
 * `cordon-probe batch` process, judge, and remove every canary.
 *
 * Layout (all under one fresh directory, removed at the end):
 *   home/      HOME for the run: a canary in each credential place, rc files
 *   outside/   files outside the workspace (write and hard-link targets)
 *   home/run/agent.sock  the planted unix listener (also $SSH_AUTH_SOCK; a
 *              settings file can name it as ~/run/agent.sock)
 *   bin/       a copy of cordon-probe, visible in any sandbox
 *   ws/        the workspace, unless --workspace names one
 * plus a fresh folder inside the workspace ({A}: a nested git repository,
 * symlinks pointing out, files to delete) and host helpers: listeners on a
 * unix path, an abstract name, 127.0.0.1 and the host's own address, and a
 * canary process.  Outside the lab, probes only ever create files with
 * unique inert names, which are removed afterwards. */
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "radius/host.h"
#include "radius/judge.h"
#include "radius/radius.h"
#include "util/cleanup.h"

extern char **environ;

#define MAX_HELPERS 8
#define RUN_TIMEOUT_MS 180000
#define OUTPUT_MAX (4 << 20)

/* Set by SIGINT, SIGTERM or SIGHUP during a run: stop the battery, then
 * clean up as usual, so an interrupted run leaves no canary behind. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

typedef struct lab {
    char *dir, *home, *ws, *area, *probe, *tsv;
    char token[17], unique[17];
    char canary[48], rcanary[48];
    char shm[64], abs[64], tcp[8], hosttcp[8], pid[16];
    char *hostip, *ns, *nslo, *pathdir, *blk, *sshsock, *gpgsock, *bus;
    pid_t helpers[MAX_HELPERS];
    size_t n_helpers;
    cdn_rad_var_t vars[24];
    size_t n_vars;
    cdn_rad_pstate_t *ps; /* one per battery row */
    cdn_strv_t env;
} lab_t;

static void lab_var(lab_t *l, const char *name, const char *value, const char *why)
{
    l->vars[l->n_vars++] = (cdn_rad_var_t){name, value, why};
}

static char *path_join(const char *a, const char *b)
{
    char *s = NULL;
    if (asprintf(&s, "%s/%s", a, b) < 0)
        return NULL;
    return s;
}

static int copy_file(const char *from, const char *to, cdn_error_t *err)
{
    _cleanup_close_ int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return cdn_error(err, errno, "opening %s", from);
    _cleanup_close_ int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    if (out < 0)
        return cdn_error(err, errno, "creating %s", to);
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n)
            return cdn_error(err, errno, "writing %s", to);
    if (n < 0)
        return cdn_error(err, errno, "reading %s", from);
    return 0;
}

/* A host helper (listener or canary process) from the probe binary: returns
 * once it printed its "ready" line, with that line's JSON in *ready. */
static int spawn_helper(lab_t *l, char *const argv[], char *const envp[], json_t **ready,
                        cdn_error_t *err)
{
    if (l->n_helpers >= MAX_HELPERS)
        return cdn_error(err, EINVAL, "too many helpers");
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return cdn_error(err, errno, "pipe");
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return cdn_error(err, errno, "fork");
    }
    if (pid == 0) {
        /* A helper must not outlive cordon, whatever happens to it. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(p[1], 1);
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        execve(argv[0], argv, envp);
        _exit(127);
    }
    close(p[1]);
    l->helpers[l->n_helpers++] = pid;
    char line[512];
    size_t len = 0;
    struct pollfd pf = {.fd = p[0], .events = POLLIN};
    while (len < sizeof line - 1 && !memchr(line, '\n', len)) {
        if (poll(&pf, 1, 5000) <= 0)
            break;
        ssize_t n = read(p[0], line + len, sizeof line - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(p[0]);
    line[len] = '\0';
    json_t *j = json_loads(line, JSON_DISABLE_EOF_CHECK, NULL);
    if (!j || !json_is_true(json_object_get(j, "ok"))) {
        json_decref(j);
        return cdn_error(err, 0, "host helper `%s %s` did not start: %.200s", argv[1],
                         argv[2] ? argv[2] : "", len ? line : "(no output)");
    }
    *ready = j;
    return 0;
}

static int json_int_member(json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);
    return json_is_integer(v) ? (int)json_integer_value(v) : -1;
}

static int start_helpers(lab_t *l, cdn_error_t *err)
{
    char *noenv[] = {NULL};
    json_t *j = NULL;
    _cleanup_free_ char *agent = path_join(l->home, "run/agent.sock");
    _cleanup_free_ char *gpg = path_join(l->home, ".gnupg/S.gpg-agent");
    if (!agent || !gpg)
        return cdn_error(err, ENOMEM, "out of memory");
    char *a1[] = {l->probe, (char *)(uintptr_t) "listen-unix", agent, NULL};
    if (spawn_helper(l, a1, noenv, &j, err) < 0)
        return -1;
    json_decref(j);
    char *a2[] = {l->probe, (char *)(uintptr_t) "listen-unix", gpg, NULL};
    if (spawn_helper(l, a2, noenv, &j, err) < 0)
        return -1;
    json_decref(j);
    /* Listeners are reachable by every uid, as a real service's often are:
     * the probe, not the file mode, decides. */
    chmod(agent, 0777);
    chmod(gpg, 0777);
    char *a3[] = {l->probe, (char *)(uintptr_t) "listen-abstract", l->abs, NULL};
    if (spawn_helper(l, a3, noenv, &j, err) < 0)
        return -1;
    json_decref(j);
    char *a4[] = {l->probe, (char *)(uintptr_t) "listen-tcp", (char *)(uintptr_t) "127.0.0.1",
                  (char *)(uintptr_t) "0", NULL};
    if (spawn_helper(l, a4, noenv, &j, err) < 0)
        return -1;
    snprintf(l->tcp, sizeof l->tcp, "%d", json_int_member(j, "port"));
    json_decref(j);
    if (l->hostip) {
        char *a5[] = {l->probe, (char *)(uintptr_t) "listen-tcp", l->hostip,
                      (char *)(uintptr_t) "0", NULL};
        cdn_error_t ignored;
        if (spawn_helper(l, a5, noenv, &j, &ignored) == 0) {
            snprintf(l->hosttcp, sizeof l->hosttcp, "%d", json_int_member(j, "port"));
            json_decref(j);
        } else {
            /* An address that cannot be bound is as good as none. */
            for (size_t i = 0; i < l->n_vars; i++)
                if (!strcmp(l->vars[i].name, "HOSTTCP")) {
                    l->vars[i].value = NULL;
                    l->vars[i].why = "no listener could be bound on the host's address";
                }
        }
    }
    char envcanary[80];
    snprintf(envcanary, sizeof envcanary, "CORDON_RADIUS_CANARY=%s", l->canary);
    char *holdenv[] = {envcanary, NULL};
    char *a6[] = {l->probe, (char *)(uintptr_t) "hold", l->canary, NULL};
    if (spawn_helper(l, a6, holdenv, &j, err) < 0)
        return -1;
    snprintf(l->pid, sizeof l->pid, "%d", json_int_member(j, "pid"));
    json_decref(j);
    return 0;
}

static void stop_helpers(lab_t *l)
{
    for (size_t i = 0; i < l->n_helpers; i++) {
        kill(l->helpers[i], SIGKILL);
        waitpid(l->helpers[i], NULL, 0);
    }
    l->n_helpers = 0;
}

/* Canaries whose location is in the battery itself: every read-match of a
 * file under {H}, and every secret environment variable. */
static int plant(lab_t *l, cdn_error_t *err)
{
    char content[128];
    snprintf(content, sizeof content, "canary %s (planted by cordon radius)\n", l->canary);
    for (size_t i = 0; i < cdn_rad_battery_len; i++) {
        const cdn_rad_probe_t *p = &cdn_rad_battery[i];
        if (!strcmp(p->op, "read-match") && !strncmp(p->args[0], "{H}/", 4)) {
            _cleanup_free_ char *path = path_join(l->home, p->args[0] + 4);
            if (!path || cdn_rad_write_file(path, content, 0600, err) < 0)
                return -1;
        } else if (!strcmp(p->op, "env-match")) {
            if (cdn_strv_addf(&l->env, err, "%s=%s", p->args[0], l->canary) < 0)
                return -1;
        }
    }
    static const char *const home_files[][2] = {
        {".bashrc", "# ~/.bashrc planted by cordon radius\n"},
        {".profile", "# ~/.profile planted by cordon radius\n"},
        {".netrc", NULL}, /* already a canary */
    };
    for (size_t i = 0; i < CDN_ARRAY_SIZE(home_files); i++) {
        if (!home_files[i][1])
            continue;
        _cleanup_free_ char *path = path_join(l->home, home_files[i][0]);
        if (!path || cdn_rad_write_file(path, home_files[i][1], 0644, err) < 0)
            return -1;
    }
    static const char *const home_dirs[] = {".config/autostart", ".config/systemd/user",
                                            ".local/bin"};
    for (size_t i = 0; i < CDN_ARRAY_SIZE(home_dirs); i++) {
        _cleanup_free_ char *path = path_join(l->home, home_dirs[i]);
        if (!path || cdn_rad_mkdir_p(path, 0755, err) < 0)
            return -1;
    }
    static const char *const outside[][2] = {
        {"outside/existing.txt", "a file outside the workspace\n"},
        {"outside/linked.txt", "a file outside the workspace, to hard-link\n"},
    };
    for (size_t i = 0; i < CDN_ARRAY_SIZE(outside); i++) {
        _cleanup_free_ char *path = path_join(l->dir, outside[i][0]);
        if (!path || cdn_rad_write_file(path, outside[i][1], 0644, err) < 0)
            return -1;
    }
    _cleanup_free_ char *outdir = path_join(l->dir, "outside");
    _cleanup_free_ char *agentdir = path_join(l->home, "run");
    if (!outdir || !agentdir || cdn_rad_mkdir_p(agentdir, 0755, err) < 0)
        return -1;
    chmod(outdir, 0777); /* so a failed write is the sandbox's doing, not the mode's */

    /* The area: a nested repository in the workspace. */
    static const char *const area_files[][2] = {
        {".git/HEAD", "ref: refs/heads/main\n"},
        {".git/config", "[core]\n\trepositoryformatversion = 0\n"},
        {"victim.txt", "delete me if you can\n"},
        {"victim2.txt", "rename me away if you can\n"},
    };
    for (size_t i = 0; i < CDN_ARRAY_SIZE(area_files); i++) {
        _cleanup_free_ char *path = path_join(l->area, area_files[i][0]);
        if (!path || cdn_rad_write_file(path, area_files[i][1], 0644, err) < 0)
            return -1;
    }
    static const char *const area_dirs[] = {".git/hooks", ".vscode", ".idea", ".claude/commands"};
    for (size_t i = 0; i < CDN_ARRAY_SIZE(area_dirs); i++) {
        _cleanup_free_ char *path = path_join(l->area, area_dirs[i]);
        if (!path || cdn_rad_mkdir_p(path, 0755, err) < 0)
            return -1;
    }
    _cleanup_free_ char *escape = path_join(l->area, "escape");
    _cleanup_free_ char *awslink = path_join(l->area, "aws-link");
    _cleanup_free_ char *aws = path_join(l->home, ".aws/credentials");
    if (!escape || !awslink || !aws)
        return cdn_error(err, ENOMEM, "out of memory");
    if (symlink(outdir, escape) < 0 || symlink(aws, awslink) < 0)
        return cdn_error(err, errno, "planting symlinks in %s", l->area);
    return 0;
}

/* The area and the lab's own workspace must be writable by whoever the
 * sandbox maps us to; everything else keeps the user's modes. */
static int make_dirs(lab_t *l, const cdn_rad_opts_t *o, cdn_error_t *err)
{
    const char *base = o->lab_base;
    _cleanup_free_ char *def = NULL;
    if (!base) {
        const char *home = getenv("HOME");
        if (getuid() == 0 || !home || home[0] != '/')
            base = "/var/lib/cordon/radius";
        else if (!(base = def = path_join(home, ".cache/cordon/radius")))
            return cdn_error(err, ENOMEM, "out of memory");
    }
    if (cdn_rad_mkdir_p(base, 0755, err) < 0)
        return cdn_error_hint(err, "choose another place with --lab DIR");
    /* Absolute: the run starts in the workspace. */
    _cleanup_free_ char *abs = realpath(base, NULL);
    if (!abs)
        return cdn_error(err, errno, "resolving %s", base);
    _cleanup_free_ char *tmpl = path_join(abs, "lab.XXXXXX");
    if (!tmpl || !mkdtemp(tmpl))
        return cdn_error(err, errno, "creating the lab under %s", base);
    chmod(tmpl, 0755);
    l->dir = steal_pointer(&tmpl);
    l->home = path_join(l->dir, "home");
    _cleanup_free_ char *bin = path_join(l->dir, "bin");
    l->probe = path_join(l->dir, "bin/cordon-probe");
    l->tsv = path_join(l->dir, "battery.tsv");
    if (!l->home || !bin || !l->probe || !l->tsv)
        return cdn_error(err, ENOMEM, "out of memory");
    if (cdn_rad_mkdir_p(l->home, 0755, err) < 0 || cdn_rad_mkdir_p(bin, 0755, err) < 0 ||
        copy_file(o->probe_exe, l->probe, err) < 0)
        return -1;
    if (o->workspace) {
        l->ws = realpath(o->workspace, NULL);
        if (!l->ws)
            return cdn_error_usage(err, "workspace %s: %s", o->workspace, strerror(errno));
    } else {
        l->ws = path_join(l->dir, "ws");
        _cleanup_free_ char *hooks = path_join(l->dir, "ws/.git/hooks");
        if (!l->ws || !hooks || cdn_rad_mkdir_p(hooks, 0755, err) < 0)
            return -1;
    }
    char name[64];
    snprintf(name, sizeof name, ".cordon-radius.%s", l->unique);
    l->area = path_join(l->ws, name);
    if (!l->area)
        return cdn_error(err, ENOMEM, "out of memory");
    if (mkdir(l->area, 0755) < 0)
        return cdn_error(err, errno, "creating %s in the workspace", l->area);
    return 0;
}

static void lab_free(lab_t *l, bool keep)
{
    stop_helpers(l);
    if (l->ps) {
        for (size_t i = 0; i < cdn_rad_battery_len; i++)
            cdn_rad_pstate_clear(&l->ps[i]);
        free(l->ps);
    }
    if (!keep) {
        if (l->area)
            cdn_rad_rm_rf(l->area);
        if (l->dir)
            cdn_rad_rm_rf(l->dir);
        if (l->shm[0]) {
            char p[128];
            snprintf(p, sizeof p, "/dev/shm/%s", l->shm);
            unlink(p);
        }
    } else if (l->dir) {
        fprintf(stderr, "cordon radius: lab kept in %s (area %s)\n", l->dir, l->area);
    }
    free(l->dir);
    free(l->home);
    free(l->ws);
    free(l->area);
    free(l->probe);
    free(l->tsv);
    free(l->hostip);
    free(l->ns);
    free(l->nslo);
    free(l->pathdir);
    free(l->blk);
    free(l->sshsock);
    free(l->gpgsock);
    free(l->bus);
    cdn_strv_free(&l->env);
}

static int set_vars(lab_t *l)
{
    bool lo = false;
    char *ns = cdn_rad_resolver(&lo);
    if (ns && lo)
        l->nslo = ns;
    else
        l->ns = ns;
    l->hostip = cdn_rad_host_ipv4();
    l->pathdir = cdn_rad_writable_path_dir();
    l->blk = cdn_rad_block_device();
    const char *ssh = getenv("SSH_AUTH_SOCK");
    l->sshsock = ssh && ssh[0] == '/' ? strdup(ssh) : NULL;
    l->bus = cdn_rad_session_bus();
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (xdg && xdg[0] == '/')
        l->gpgsock = path_join(xdg, "gnupg/S.gpg-agent");
    else if (asprintf(&l->gpgsock, "/run/user/%u/gnupg/S.gpg-agent", (unsigned)getuid()) < 0)
        l->gpgsock = NULL;
    for (size_t i = 0; l->canary[i]; i++)
        l->rcanary[i] = l->canary[strlen(l->canary) - 1 - i];
    l->rcanary[strlen(l->canary)] = '\0';
    lab_var(l, "L", l->dir, NULL);
    lab_var(l, "H", l->home, NULL);
    lab_var(l, "W", l->ws, NULL);
    lab_var(l, "A", l->area, NULL);
    lab_var(l, "U", l->unique, NULL);
    lab_var(l, "RT", l->rcanary, NULL);
    lab_var(l, "PID", l->pid, NULL);
    lab_var(l, "SHM", l->shm, NULL);
    lab_var(l, "TCP", l->tcp, NULL);
    lab_var(l, "ABS", l->abs, NULL);
    lab_var(l, "HOSTIP", l->hostip, "the host has no non-loopback IPv4 address");
    lab_var(l, "HOSTTCP", l->hostip ? l->hosttcp : NULL, "the host has no non-loopback address");
    lab_var(l, "NS", l->ns,
            l->nslo ? "the resolver is on loopback (see network.dns-stub)"
                    : "no nameserver in /etc/resolv.conf");
    lab_var(l, "NSLO", l->nslo, "the resolver is not a local stub (see network.dns)");
    lab_var(l, "PATHDIR", l->pathdir, "no folder on $PATH is writable by this user");
    lab_var(l, "BLK", l->blk, "no block device on this host");
    lab_var(l, "SSHSOCK", l->sshsock, "no ssh agent ($SSH_AUTH_SOCK unset)");
    lab_var(l, "GPGSOCK", l->gpgsock, "no runtime directory for a gpg agent");
    lab_var(l, "BUS", l->bus, "no session bus");
    return 0;
}

/* The environment of the run: the caller's, with HOME pointing at the lab,
 * the planted agent, and the secret canaries. */
static int build_env(lab_t *l, cdn_error_t *err)
{
    cdn_strv_t keep = {0};
    static const char *const drop[] = {
        "HOME=", "SSH_AUTH_SOCK=", "XDG_CONFIG_HOME=", "CORDON_RADIUS_CANARY="};
    for (char **e = environ; *e; e++) {
        bool skip = false;
        for (size_t i = 0; i < CDN_ARRAY_SIZE(drop); i++)
            skip |= strncmp(*e, drop[i], strlen(drop[i])) == 0;
        for (size_t i = 0; i < l->env.n && !skip; i++) {
            size_t nl = strcspn(l->env.v[i], "=") + 1;
            skip = strncmp(*e, l->env.v[i], nl) == 0;
        }
        if (!skip && cdn_strv_add(&keep, *e, err) < 0)
            goto fail;
    }
    if (cdn_strv_addf(&keep, err, "HOME=%s", l->home) < 0 ||
        cdn_strv_addf(&keep, err, "SSH_AUTH_SOCK=%s/run/agent.sock", l->home) < 0)
        goto fail;
    for (size_t i = 0; i < l->env.n; i++)
        if (cdn_strv_add(&keep, l->env.v[i], err) < 0)
            goto fail;
    cdn_strv_free(&l->env);
    l->env = keep;
    return 0;
fail:
    cdn_strv_free(&keep);
    return -1;
}

static int write_battery(lab_t *l, const cdn_rad_opts_t *o, cdn_error_t *err)
{
    l->ps = calloc(cdn_rad_battery_len, sizeof *l->ps);
    if (!l->ps)
        return cdn_error(err, ENOMEM, "out of memory");
    _cleanup_fclose_ FILE *f = fopen(l->tsv, "we");
    if (!f)
        return cdn_error(err, errno, "creating %s", l->tsv);
    for (size_t i = 0; i < cdn_rad_battery_len; i++) {
        if (cdn_rad_prepare(&cdn_rad_battery[i], l->vars, l->n_vars, o->ws_mode, &l->ps[i], err) <
            0)
            return -1;
        if (l->ps[i].na_why)
            continue;
        fprintf(f, "%s\t%s", cdn_rad_battery[i].id, cdn_rad_battery[i].op);
        for (size_t a = 0; a < 4 && l->ps[i].args[a]; a++)
            fprintf(f, "\t%s", l->ps[i].args[a]);
        fputc('\n', f);
    }
    if (fflush(f) != 0)
        return cdn_error(err, errno, "writing %s", l->tsv);
    chmod(l->tsv, 0644);
    return 0;
}

/* Run argv with the lab's environment in the workspace; its stdout is the
 * probes' JSON lines, its stderr goes to ours. */
static int run_capture(lab_t *l, char *const argv[], char **out, int *status, cdn_error_t *err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return cdn_error(err, errno, "pipe");
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        return cdn_error(err, e, "fork");
    }
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(p[1], 1);
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        if (chdir(l->ws) < 0)
            _exit(127);
        execve(argv[0], argv, l->env.v);
        fprintf(stderr, "cordon radius: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(p[1]);
    setpgid(pid, pid); /* also here: no window in which a kill misses it */
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bool timed_out = false, stopped = false;
    while (buf) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left = RUN_TIMEOUT_MS -
                    ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000);
        struct pollfd pf = {.fd = p[0], .events = POLLIN};
        int pr = left <= 0 ? 0 : poll(&pf, 1, (int)left);
        if (pr == 0) {
            timed_out = true;
            break;
        }
        if (pr < 0) {
            if (errno == EINTR && !interrupted)
                continue;
            stopped = true;
            break;
        }
        if (len + 4096 > cap) {
            if (cap >= OUTPUT_MAX)
                break;
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t n = read(p[0], buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(p[0]);
    if (timed_out || stopped)
        kill(-pid, SIGKILL);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (!buf)
        return cdn_error(err, ENOMEM, "out of memory");
    buf[len] = '\0';
    if (timed_out || stopped) {
        free(buf);
        if (stopped)
            return cdn_error(err, 0, "interrupted: the canaries were removed");
        return cdn_error(err, ETIMEDOUT, "the battery did not finish in %d s",
                         RUN_TIMEOUT_MS / 1000);
    }
    *out = buf;
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return 0;
}

static char *sh_quote(const char *s)
{
    size_t n = 3;
    for (const char *p = s; *p; p++)
        n += *p == '\'' ? 4 : 1;
    char *q = malloc(n), *w = q;
    if (!q)
        return NULL;
    *w++ = '\'';
    for (const char *p = s; *p; p++) {
        if (*p == '\'') {
            memcpy(w, "'\\''", 4);
            w += 4;
        } else {
            *w++ = *p;
        }
    }
    *w++ = '\'';
    *w = '\0';
    return q;
}

static int run_battery(lab_t *l, const cdn_rad_opts_t *o, char **out, cdn_error_t *err)
{
    int status = 0;
    char *batch = (char *)(uintptr_t) "batch";
    if (o->mode == CDN_RAD_BASELINE) {
        char *argv[] = {l->probe, batch, l->tsv, NULL};
        if (run_capture(l, argv, out, &status, err) < 0)
            return -1;
    } else if (o->mode == CDN_RAD_WRAP) {
        _cleanup_free_ char *qp = sh_quote(l->probe);
        _cleanup_free_ char *qt = sh_quote(l->tsv);
        _cleanup_free_ char *cmd = NULL;
        if (!qp || !qt || asprintf(&cmd, "%s %s batch %s", o->wrap, qp, qt) < 0)
            return cdn_error(err, ENOMEM, "out of memory");
        char *argv[] = {(char *)(uintptr_t) "/bin/sh", (char *)(uintptr_t) "-c", cmd, NULL};
        if (run_capture(l, argv, out, &status, err) < 0)
            return -1;
    } else {
        char *argv[16];
        size_t n = 0;
        argv[n++] = (char *)(uintptr_t)o->cordon_exe;
        argv[n++] = (char *)(uintptr_t) "run";
        argv[n++] = (char *)(uintptr_t) "--quiet";
        argv[n++] = (char *)(uintptr_t) "--no-pty";
        argv[n++] = (char *)(uintptr_t) "--workspace";
        argv[n++] = l->ws;
        if (o->settings) {
            argv[n++] = (char *)(uintptr_t) "--settings";
            argv[n++] = (char *)(uintptr_t)o->settings;
        }
        argv[n++] = (char *)(uintptr_t) "--";
        argv[n++] = l->probe;
        argv[n++] = batch;
        argv[n++] = l->tsv;
        argv[n] = NULL;
        if (run_capture(l, argv, out, &status, err) < 0)
            return -1;
        if (status == CDN_EXIT_USAGE || status == CDN_EXIT_FAILURE) {
            free(*out);
            *out = NULL;
            return cdn_error(err, 0, "cordon run failed (exit status %d): see its message above",
                             status);
        }
    }
    if (!strchr(*out, '{')) {
        free(*out);
        *out = NULL;
        return cdn_error(err, 0,
                         "the battery printed nothing (exit status %d): the probe did "
                         "not run",
                         status);
    }
    return 0;
}

static char *now_iso(void)
{
    char buf[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return strdup(buf);
}

static int fill_header(cdn_radius_t *r, const cdn_rad_opts_t *o, const lab_t *l)
{
    struct utsname u;
    uname(&u);
    const char *mode = o->mode == CDN_RAD_BASELINE ? "baseline"
                       : o->mode == CDN_RAD_WRAP   ? "wrap"
                                                   : "cordon";
    if (o->mode == CDN_RAD_BASELINE)
        r->label = strdup("no sandbox (baseline)");
    else if (o->mode == CDN_RAD_WRAP) {
        if (asprintf(&r->label, "%s", o->wrap) < 0)
            r->label = NULL;
    } else if (asprintf(&r->label, "cordon (%s)", o->settings ? o->settings : "built-in default") <
               0)
        r->label = NULL;
    r->mode = strdup(mode);
    r->settings = strdup(o->settings ? o->settings : "built-in default");
    r->workspace = strdup(o->workspace ? l->ws : "(lab workspace)");
    r->kernel = strdup(u.release);
    r->date = now_iso();
    r->uid = (unsigned)getuid();
    if (!r->label || !r->mode || !r->settings || !r->workspace || !r->kernel || !r->date)
        return -1;
    return 0;
}

int cdn_radius_run(const cdn_rad_opts_t *o, cdn_radius_t **out, cdn_error_t *err)
{
    lab_t l = {0};
    int rc = -1;
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction old[3], sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    interrupted = 0;
    for (size_t i = 0; i < 3; i++)
        sigaction(sigs[i], &sa, &old[i]);
    _cleanup_free_ char *output = NULL;
    cdn_radius_t *r = NULL;
    if (cdn_rad_token(l.token, sizeof l.token, err) < 0 ||
        cdn_rad_token(l.unique, sizeof l.unique, err) < 0)
        goto out;
    snprintf(l.canary, sizeof l.canary, "CORDON-CANARY-%s", l.token);
    snprintf(l.shm, sizeof l.shm, "cordon-radius.%s", l.unique);
    snprintf(l.abs, sizeof l.abs, "cordon-radius.%s", l.unique);
    if (make_dirs(&l, o, err) < 0 || set_vars(&l) < 0 || plant(&l, err) < 0 ||
        start_helpers(&l, err) < 0 || build_env(&l, err) < 0 || write_battery(&l, o, err) < 0)
        goto out;
    if (interrupted) {
        cdn_error(err, 0, "interrupted: the canaries were removed");
        goto out;
    }
    if (run_battery(&l, o, &output, err) < 0)
        goto out;
    r = calloc(1, sizeof *r);
    if (!r || fill_header(r, o, &l) < 0) {
        cdn_error(err, ENOMEM, "out of memory");
        goto out;
    }
    if (cdn_rad_judge_all(output, l.ps, r, err) < 0)
        goto out;
    *out = steal_pointer(&r);
    rc = 0;
out:
    if (l.ps)
        for (size_t i = 0; i < cdn_rad_battery_len; i++)
            cdn_rad_cleanup_probe(&cdn_rad_battery[i], &l.ps[i], l.dir);
    lab_free(&l, o->keep_lab);
    cdn_radius_free(r);
    for (size_t i = 0; i < 3; i++)
        sigaction(sigs[i], &old[i], NULL);
    return rc;
}
