/* Settings + invocation -> policy.  Everything here is resolved once:
 * absolute symlink-free paths, final environment, rule lists.  Order of
 * precedence (documented in docs/settings.md): hidden wins over readable,
 * denyWrite wins over allowWrite; allowRead re-opens inside a hidden region. */
#include "policy/policy.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "policy/secrets.h"
#include "util/cleanup.h"

static int rp_add(cdn_rule_paths_t *rp, const char *path, const char *why, cdn_error_t *err)
{
    for (size_t i = 0; i < rp->n; i++)
        if (strcmp(rp->v[i].path, path) == 0)
            return 0;
    cdn_rule_path_t *v = realloc(rp->v, (rp->n + 1) * sizeof *v);
    if (!v)
        return cdn_error(err, ENOMEM, "out of memory");
    rp->v = v;
    cdn_rule_path_t *e = &v[rp->n];
    memset(e, 0, sizeof *e);
    e->path = strdup(path);
    e->why_owned = strdup(why);
    if (!e->path || !e->why_owned) {
        free(e->path);
        free(e->why_owned);
        return cdn_error(err, ENOMEM, "out of memory");
    }
    e->why = e->why_owned;
    rp->n++;
    return 0;
}

static void rp_free(cdn_rule_paths_t *rp)
{
    for (size_t i = 0; i < rp->n; i++) {
        free(rp->v[i].path);
        free(rp->v[i].why_owned);
    }
    free(rp->v);
    rp->v = NULL;
    rp->n = 0;
}

static bool path_is_under(const char *path, const char *root)
{
    size_t l = strlen(root);
    if (strcmp(root, "/") == 0)
        return true;
    return strncmp(path, root, l) == 0 && (path[l] == '\0' || path[l] == '/');
}

static int add_resolved(cdn_rule_paths_t *rp, const cdn_invocation_t *inv, const char *raw,
                        const char *why, cdn_error_t *err)
{
    _cleanup_free_ char *res = NULL;
    if (cdn_path_resolve(raw, inv->home, inv->workspace, &res, err) < 0)
        return -1;
    return rp_add(rp, res, why, err);
}

static int add_pathlist(cdn_rule_paths_t *rp, const cdn_invocation_t *inv,
                        const cdn_pathlist_t *pl, const char *setting, const char *source,
                        cdn_error_t *err)
{
    for (size_t i = 0; i < pl->n; i++) {
        char why[256];
        snprintf(why, sizeof why, "%s (%s)", setting, pl->v[i].path);
        if (add_resolved(rp, inv, pl->v[i].path, why, err) < 0)
            return cdn_error_wrap(err, "%s:%u:%u: %s", source, pl->v[i].pos.line,
                                  pl->v[i].pos.col, setting);
    }
    return 0;
}

static int add_home_secrets(cdn_policy_t *p, const char *home, const char *whose,
                            cdn_error_t *err)
{
    for (size_t i = 0; cdn_home_secrets[i]; i++) {
        char raw[4096], why[300];
        snprintf(raw, sizeof raw, "%s/%s", home, cdn_home_secrets[i]);
        snprintf(why, sizeof why, "secret: %s~/%s", whose, cdn_home_secrets[i]);
        _cleanup_free_ char *res = NULL;
        if (cdn_path_resolve(raw, home, home, &res, err) < 0)
            return -1;
        if (rp_add(&p->hidden, res, why, err) < 0)
            return -1;
    }
    return 0;
}

static int add_root_secrets(cdn_policy_t *p, const cdn_invocation_t *inv, cdn_error_t *err)
{
    for (size_t i = 0; cdn_root_secrets[i]; i++)
        if (add_resolved(&p->hidden, inv, cdn_root_secrets[i], "secret: root-only file", err) <
            0)
            return -1;
    /* ssh host keys: the private halves only; the .pub files stay readable. */
    glob_t g = {0};
    if (glob("/etc/ssh/ssh_host_*_key", GLOB_NOSORT, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++)
            if (add_resolved(&p->hidden, inv, g.gl_pathv[i], "secret: ssh host key", err) < 0) {
                globfree(&g);
                return -1;
            }
    }
    globfree(&g);
    /* Root can read every user's home: hide their credential places too. */
    _cleanup_closedir_ DIR *d = opendir("/home");
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (de->d_name[0] == '.')
                continue;
            char home[4096], whose[300];
            snprintf(home, sizeof home, "/home/%s", de->d_name);
            struct stat st;
            if (stat(home, &st) < 0 || !S_ISDIR(st.st_mode))
                continue;
            snprintf(whose, sizeof whose, "%s:", de->d_name);
            if (add_home_secrets(p, home, whose, err) < 0)
                return -1;
        }
    }
    return 0;
}

static int build_env(cdn_policy_t *p, const cdn_settings_t *s, const cdn_invocation_t *inv,
                     cdn_error_t *err)
{
    for (char **e = inv->environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq || eq == *e)
            continue;
        char name[256];
        size_t l = (size_t)(eq - *e);
        if (l >= sizeof name)
            continue;
        memcpy(name, *e, l);
        name[l] = '\0';
        bool pass = cdn_strv_contains(&s->cordon.env_passthrough, name) ||
                    (inv->env_pass && cdn_strv_contains(inv->env_pass, name));
        bool secret = cdn_env_name_is_secret(name) ||
                      cdn_strv_contains(&s->credentials.env_vars, name);
        if (strcmp(name, "TMPDIR") == 0)
            continue; /* replaced below */
        if (secret && !pass) {
            if (cdn_strv_add(&p->env_removed, name, err) < 0)
                return -1;
            continue;
        }
        if (cdn_strv_add(&p->env, *e, err) < 0)
            return -1;
    }
    if (cdn_strv_add(&p->env, "TMPDIR=/tmp", err) < 0)
        return -1;
    for (size_t i = 0; i < s->cordon.env_set.n; i++)
        if (cdn_strv_addf(&p->env, err, "%s=%s", s->cordon.env_set.v[i].key,
                          s->cordon.env_set.v[i].val) < 0)
            return -1;
    if (inv->env_set)
        for (size_t i = 0; i < inv->env_set->n; i++) {
            if (!strchr(inv->env_set->v[i], '=') || inv->env_set->v[i][0] == '=')
                return cdn_error_usage(err, "--setenv %s: expected NAME=VALUE",
                                       inv->env_set->v[i]);
            if (cdn_strv_add(&p->env, inv->env_set->v[i], err) < 0)
                return -1;
        }
    /* Later entries win: drop earlier duplicates so execve sees one value. */
    for (size_t i = 0; i < p->env.n; i++) {
        size_t li = strcspn(p->env.v[i], "=");
        for (size_t j = i + 1; j < p->env.n; j++) {
            size_t lj = strcspn(p->env.v[j], "=");
            if (li == lj && strncmp(p->env.v[i], p->env.v[j], li) == 0) {
                free(p->env.v[i]);
                memmove(&p->env.v[i], &p->env.v[i + 1], (p->env.n - i) * sizeof(char *));
                p->env.n--;
                i--;
                break;
            }
        }
    }
    return 0;
}

int cdn_policy_build(const cdn_settings_t *s, const cdn_invocation_t *inv, cdn_policy_t **out,
                     cdn_error_t *err)
{
    cdn_policy_t *p = calloc(1, sizeof *p);
    if (!p)
        return cdn_error(err, ENOMEM, "out of memory");
    p->settings = s;
    p->source = strdup(s->source ? s->source : "built-in default");
    p->workspace = strdup(inv->workspace);
    p->home = strdup(inv->home);
    p->cwd = strdup(inv->cwd && path_is_under(inv->cwd, inv->workspace) ? inv->cwd
                                                                        : inv->workspace);
    if (!p->source || !p->workspace || !p->home || !p->cwd)
        goto oom;
    p->uid = inv->uid;
    p->gid = inv->gid;
    p->as_root = inv->uid == 0;
    p->ws_mode = inv->ws_mode_set ? inv->ws_mode : s->cordon.workspace_mode;
    p->allow_git_config = s->filesystem.allow_git_config;
    p->allow_nested_userns = s->allow_nested_user_namespaces || inv->allow_nested_userns;
    p->allow_all_unix_sockets = s->network.allow_all_unix_sockets;

    if (add_home_secrets(p, inv->home, "", err) < 0)
        goto fail;
    if (p->as_root && add_root_secrets(p, inv, err) < 0)
        goto fail;
    const char *src = p->source;
    if (add_pathlist(&p->hidden, inv, &s->filesystem.deny_read, "filesystem.denyRead", src,
                     err) < 0 ||
        add_pathlist(&p->hidden, inv, &s->cordon.hide, "cordon.hide", src, err) < 0 ||
        add_pathlist(&p->reopen_read, inv, &s->filesystem.allow_read, "filesystem.allowRead",
                     src, err) < 0 ||
        add_pathlist(&p->writable, inv, &s->filesystem.allow_write, "filesystem.allowWrite",
                     src, err) < 0 ||
        add_pathlist(&p->readonly, inv, &s->filesystem.deny_write, "filesystem.denyWrite", src,
                     err) < 0)
        goto fail;
    for (size_t i = 0; i < s->credentials.files.n; i++)
        if (add_resolved(&p->hidden, inv, s->credentials.files.v[i], "credentials.files",
                         err) < 0)
            goto fail;

    /* A hidden path that is, or contains, the workspace would hide the work
     * itself: refuse rather than guess which the user meant. */
    for (size_t i = 0; i < p->hidden.n; i++) {
        if (strcmp(p->hidden.v[i].path, p->workspace) == 0 ||
            (path_is_under(p->workspace, p->hidden.v[i].path) &&
             strncmp(p->hidden.v[i].why, "secret: root-only", 17) != 0)) {
            cdn_error_usage(err, "the workspace %s lies inside a hidden path %s (%s)",
                            p->workspace, p->hidden.v[i].path, p->hidden.v[i].why);
            cdn_error_hint(err, "choose another --workspace, or remove that path from the "
                                "settings' denyRead");
            goto fail;
        }
    }

    /* Private, empty, writable: no host file is visible there, and no host
     * unix socket in them can be reached. */
    static const char *const priv[] = {"/tmp", "/var/tmp", "/dev/shm", NULL};
    for (size_t i = 0; priv[i]; i++)
        if (rp_add(&p->private_tmp, priv[i], "private tmpfs", err) < 0)
            goto fail;
    if (!p->allow_all_unix_sockets) {
        _cleanup_free_ char *run = NULL;
        if (cdn_path_resolve("/run", inv->home, "/", &run, err) < 0)
            goto fail;
        if (rp_add(&p->socket_dirs, run, "host sockets (/run)", err) < 0)
            goto fail;
        _cleanup_free_ char *varrun = NULL;
        if (cdn_path_resolve("/var/run", inv->home, "/", &varrun, err) < 0)
            goto fail;
        if (rp_add(&p->socket_dirs, varrun, "host sockets (/var/run)", err) < 0)
            goto fail;
        if (inv->runtime_dir && *inv->runtime_dir) {
            _cleanup_free_ char *rt = NULL;
            if (cdn_path_resolve(inv->runtime_dir, inv->home, "/", &rt, err) < 0)
                goto fail;
            bool covered = false;
            for (size_t i = 0; i < p->socket_dirs.n; i++)
                covered |= path_is_under(rt, p->socket_dirs.v[i].path);
            if (!covered && rp_add(&p->socket_dirs, rt, "host sockets ($XDG_RUNTIME_DIR)", err) < 0)
                goto fail;
        }
    }
    for (size_t i = 0; i < s->network.allow_unix_sockets.n; i++)
        if (add_resolved(&p->unix_allow, inv, s->network.allow_unix_sockets.v[i],
                         "network.allowUnixSockets", err) < 0)
            goto fail;

    for (size_t i = 0; i < s->cordon.protect.n; i++)
        if (cdn_strv_add(&p->protected_names, s->cordon.protect.v[i], err) < 0)
            goto fail;

    if (s->cordon.allow_tcp_ports_set) {
        p->tcp_ports_set = true;
        if (s->cordon.n_tcp_ports) {
            p->tcp_ports = calloc(s->cordon.n_tcp_ports, sizeof(int));
            if (!p->tcp_ports)
                goto oom;
            memcpy(p->tcp_ports, s->cordon.tcp_ports, s->cordon.n_tcp_ports * sizeof(int));
        }
        p->n_tcp_ports = s->cordon.n_tcp_ports;
    }
    for (size_t i = 0; i < s->not_enforced.n; i++)
        if (cdn_strv_add(&p->not_enforced, s->not_enforced.v[i], err) < 0)
            goto fail;
    p->ignore_violations = s->ignore_violations;
    p->n_ignore_violations = s->n_ignore_violations;

    if (build_env(p, s, inv, err) < 0)
        goto fail;
    *out = p;
    return 0;
oom:
    cdn_error(err, ENOMEM, "out of memory");
fail:
    cdn_policy_free(p);
    return -1;
}

void cdn_policy_free(cdn_policy_t *p)
{
    if (!p)
        return;
    free(p->source);
    free(p->workspace);
    free(p->cwd);
    free(p->home);
    rp_free(&p->hidden);
    rp_free(&p->reopen_read);
    rp_free(&p->writable);
    rp_free(&p->readonly);
    rp_free(&p->private_tmp);
    rp_free(&p->socket_dirs);
    rp_free(&p->unix_allow);
    cdn_strv_free(&p->protected_names);
    cdn_strv_free(&p->env);
    cdn_strv_free(&p->env_removed);
    cdn_strv_free(&p->not_enforced);
    free(p->tcp_ports);
    free(p);
}
