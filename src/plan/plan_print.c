/* The plan for people (text) and for programs (JSON, through jansson). */
#include "plan/plan.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "landlock/landlock.h"
#include "seccomp/seccomp.h"

static const char *ws_mode_name(cdn_ws_mode_t m)
{
    switch (m) {
    case CDN_WS_READ_ONLY:
        return "read-only";
    case CDN_WS_READ_WRITE_NO_DELETE:
        return "read-write-no-delete";
    case CDN_WS_READ_WRITE:
        break;
    }
    return "read-write";
}

static void seccomp_text_cb(void *ctx, const char *sc, const char *action, const char *cond,
                            const char *why)
{
    FILE *out = ctx;
    fprintf(out, "  %-18s %-8s %-28s %s\n", sc, action, cond, why);
}

void cdn_plan_print_text(const cdn_plan_t *p, FILE *out)
{
    const cdn_policy_t *pol = p->policy;
    fprintf(out, "settings:   %s\n", pol->source);
    fprintf(out, "workspace:  %s (%s)\n", pol->workspace, ws_mode_name(pol->ws_mode));
    fprintf(out, "cwd:        %s\n", p->cwd);
    if (p->argv.n) {
        fprintf(out, "command:   ");
        for (size_t i = 0; i < p->argv.n; i++)
            fprintf(out, " %s", p->argv.v[i]);
        fprintf(out, "%s\n", p->use_shell ? "  (via /bin/sh -c)" : "");
    }
    if (p->net == CDN_NET_BROKER) {
        const cdn_settings_t *st = pol->settings;
        fprintf(out, "network:    egress broker: allowed");
        for (size_t i = 0; i < st->network.allowed_domains.n; i++)
            fprintf(out, " %s", st->network.allowed_domains.v[i]);
        if (!st->network.allowed_domains.n)
            fprintf(out, " nothing (empty allowedDomains)");
        if (st->network.denied_domains.n) {
            fprintf(out, "; denied");
            for (size_t i = 0; i < st->network.denied_domains.n; i++)
                fprintf(out, " %s", st->network.denied_domains.v[i]);
        }
        fprintf(out, "\n");
    } else {
        fprintf(out, "network:    none (loopback only, private network namespace)\n");
    }
    if (pol->not_enforced.n) {
        fprintf(out, "read, not enforced yet:");
        for (size_t i = 0; i < pol->not_enforced.n; i++)
            fprintf(out, " %s", pol->not_enforced.v[i]);
        fprintf(out, "\n");
    }

    fprintf(out, "\nlayers (this kernel):\n");
    for (size_t i = 0; i < CDN_LAYER__COUNT; i++) {
        const cdn_layer_t *l = &p->layers[i];
        if (!l->name)
            continue;
        fprintf(out, "  %-26s %-13s %s\n", l->name,
                l->enabled ? "on" : l->supported ? "off" : "unsupported", l->detail);
    }

    fprintf(out, "\nmounts (in order):\n");
    for (size_t i = 0; i < p->n_mounts; i++)
        fprintf(out, "  %-9s %-40s %s\n", cdn_mount_kind_name(p->mounts[i].kind),
                p->mounts[i].target, p->mounts[i].why);

    fprintf(out, "\nprotected in writable places (at any depth, checked at each write):\n");
    fprintf(out, "  shell rc files, .gitconfig, .gitmodules, .ripgreprc, .mcp.json, .vscode/,\n"
                 "  .idea/, .claude/commands/, .claude/agents/, .cordon/, .git/hooks/,\n"
                 "  .git/config (%s)",
            pol->allow_git_config ? "writable: allowGitConfig" : "only harmless keys");
    for (size_t i = 0; i < pol->protected_names.n; i++)
        fprintf(out, ", %s", pol->protected_names.v[i]);
    fprintf(out, "\n");

    const cdn_landlock_plan_t *ll = &p->landlock;
    fprintf(out, "\nlandlock (ABI %d):\n", ll->abi);
    if (ll->abi) {
        fprintf(out, "  read, exec      everywhere except the %zu hidden paths\n",
                ll->read_except.n);
        for (size_t i = 0; i < ll->n_paths; i++) {
            char acc[256];
            cdn_landlock_access_str(ll->paths[i].access, acc, sizeof acc);
            fprintf(out, "  %-32s %s (%s)\n", ll->paths[i].path, acc, ll->paths[i].why);
        }
        if (ll->handled_net) {
            fprintf(out, "  tcp ports:");
            for (size_t i = 0; i < ll->n_tcp_ports; i++)
                fprintf(out, " %d", ll->tcp_ports[i]);
            fprintf(out, "\n");
        }
    } else {
        fprintf(out, "  unavailable\n");
    }

    fprintf(out, "\nseccomp:\n");
    cdn_seccomp_opts_t so = {.allow_nested_userns = p->allow_nested_userns, .notify = true};
    cdn_seccomp_describe(&so, seccomp_text_cb, out);

    fprintf(out, "\nenvironment: %zu variables passed", p->env.n);
    if (pol->env_removed.n) {
        fprintf(out, "; removed as secret-bearing:");
        for (size_t i = 0; i < pol->env_removed.n; i++)
            fprintf(out, " %s", pol->env_removed.v[i]);
    }
    fprintf(out, "\n");
}

static json_t *strv_json(const cdn_strv_t *sv)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < sv->n; i++)
        json_array_append_new(a, json_string(sv->v[i]));
    return a;
}

static void seccomp_json_cb(void *ctx, const char *sc, const char *action, const char *cond,
                            const char *why)
{
    json_array_append_new(ctx, json_pack("{s:s, s:s, s:s, s:s}", "syscall", sc, "action", action,
                                         "condition", cond, "why", why));
}

int cdn_plan_print_json(const cdn_plan_t *p, FILE *out, cdn_error_t *err)
{
    const cdn_policy_t *pol = p->policy;
    json_t *root = json_object();
    json_t *mounts = json_array(), *layers = json_array(), *ll = json_array();
    json_t *sc = json_array(), *hidden = json_array();
    if (!root || !mounts || !layers || !ll || !sc || !hidden)
        goto oom;
    for (size_t i = 0; i < p->n_mounts; i++)
        json_array_append_new(mounts, json_pack("{s:s, s:s, s:s}", "kind",
                                                cdn_mount_kind_name(p->mounts[i].kind), "target",
                                                p->mounts[i].target, "why", p->mounts[i].why));
    for (size_t i = 0; i < CDN_LAYER__COUNT; i++) {
        const cdn_layer_t *l = &p->layers[i];
        if (l->name)
            json_array_append_new(layers, json_pack("{s:s, s:b, s:b, s:s}", "name", l->name,
                                                    "supported", l->supported, "enabled",
                                                    l->enabled, "detail", l->detail));
    }
    for (size_t i = 0; i < p->landlock.n_paths; i++) {
        char acc[256];
        cdn_landlock_access_str(p->landlock.paths[i].access, acc, sizeof acc);
        json_array_append_new(ll, json_pack("{s:s, s:s, s:s}", "path", p->landlock.paths[i].path,
                                            "access", acc, "why", p->landlock.paths[i].why));
    }
    for (size_t i = 0; i < pol->hidden.n; i++)
        json_array_append_new(hidden, json_pack("{s:s, s:s}", "path", pol->hidden.v[i].path,
                                                "why", pol->hidden.v[i].why));
    cdn_seccomp_opts_t so = {.allow_nested_userns = p->allow_nested_userns, .notify = true};
    cdn_seccomp_describe(&so, seccomp_json_cb, sc);

    json_t *tcp = json_array();
    for (size_t i = 0; tcp && i < p->landlock.n_tcp_ports; i++)
        json_array_append_new(tcp, json_integer(p->landlock.tcp_ports[i]));

    json_object_set_new(root, "settings", json_string(pol->source));
    json_object_set_new(root, "workspace", json_string(pol->workspace));
    json_object_set_new(root, "workspace_mode", json_string(ws_mode_name(pol->ws_mode)));
    json_object_set_new(root, "cwd", json_string(p->cwd));
    json_object_set_new(root, "command", strv_json(&p->argv));
    json_object_set_new(root, "shell", json_boolean(p->use_shell));
    json_object_set_new(root, "network",
                        json_string(p->net == CDN_NET_BROKER ? "broker" : "none"));
    json_object_set_new(root, "layers", layers);
    json_object_set_new(root, "mounts", mounts);
    json_object_set_new(root, "hidden", hidden);
    json_object_set_new(root, "masked_sockets", strv_json(&p->masked_sockets));
    json_object_set_new(root, "protected_extra", strv_json(&pol->protected_names));
    json_object_set_new(root, "allow_git_config", json_boolean(pol->allow_git_config));
    json_object_set_new(root, "landlock",
                        json_pack("{s:i, s:o, s:o, s:o}", "abi", p->landlock.abi, "grants", ll,
                                  "read_except", strv_json(&p->landlock.read_except), "tcp_ports",
                                  tcp ? tcp : json_array()));
    json_object_set_new(root, "seccomp", sc);
    json_object_set_new(root, "env_removed", strv_json(&pol->env_removed));
    json_object_set_new(root, "env", strv_json(&p->env));
    json_object_set_new(root, "not_enforced", strv_json(&pol->not_enforced));
    if (json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0) {
        json_decref(root);
        return cdn_error(err, errno, "writing the plan");
    }
    fputc('\n', out);
    json_decref(root);
    return 0;
oom:
    json_decref(root);
    json_decref(mounts);
    json_decref(layers);
    json_decref(ll);
    json_decref(sc);
    json_decref(hidden);
    return cdn_error(err, ENOMEM, "out of memory");
}
