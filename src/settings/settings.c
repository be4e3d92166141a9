/* Settings: jansson checks the syntax, json_pos gives positions, and the
 * schema walk below checks every key against srt's schema (0.0.83) plus
 * cordon's own "cordon" object.  Problems are collected with their position
 * and the earliest is reported first, so one run shows what to fix. */
#include "settings/settings.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "settings/json_pos.h"
#include "settings/validate.h"
#include "util/cleanup.h"

typedef struct problem {
    cdn_pos_t pos;
    size_t seq;
    char *msg;
} problem_t;

typedef struct vc {
    const cdn_jpos_t *idx;
    cdn_settings_t *s;
    problem_t *pv;
    size_t pn, pcap;
    bool oom;
} vc_t;

/* A JSON value together with its node in the position index. */
typedef struct jv {
    json_t *j;
    int id;
} jv_t;

#define NO_JV ((jv_t){NULL, -1})

static void problem_at(vc_t *vc, cdn_pos_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void problem_at(vc_t *vc, cdn_pos_t pos, const char *fmt, ...)
{
    if (vc->pn == vc->pcap) {
        size_t cap = vc->pcap ? vc->pcap * 2 : 8;
        problem_t *v = realloc(vc->pv, cap * sizeof *v);
        if (!v) {
            vc->oom = true;
            return;
        }
        vc->pv = v;
        vc->pcap = cap;
    }
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    int r = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (r < 0) {
        vc->oom = true;
        return;
    }
    /* Keys and values are quoted back from the file: keep terminal control
     * bytes out of the message. */
    for (char *c = msg; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    vc->pv[vc->pn] = (problem_t){pos, vc->pn, msg};
    vc->pn++;
}

static cdn_pos_t val_pos(const vc_t *vc, int id)
{
    if (id < 0 || (size_t)id >= vc->idx->n)
        return (cdn_pos_t){0, 0};
    return vc->idx->nodes[id].val_pos;
}

static cdn_pos_t key_pos(const vc_t *vc, int id)
{
    if (id < 0 || (size_t)id >= vc->idx->n)
        return (cdn_pos_t){0, 0};
    const cdn_jpos_node_t *nd = &vc->idx->nodes[id];
    return nd->key_pos.line ? nd->key_pos : nd->val_pos;
}

typedef struct pathbuf {
    char s[256];
} pathbuf_t;

static pathbuf_t path_of(const vc_t *vc, int id)
{
    pathbuf_t p;
    cdn_jpos_path(vc->idx, id, p.s, sizeof p.s);
    if (!p.s[0])
        snprintf(p.s, sizeof p.s, "(top level)");
    return p;
}

/* The error goes to the value; `what` says what was expected. */
#define BAD(vc, v, ...) bad_value(vc, v, __VA_ARGS__)
static void bad_value(vc_t *vc, jv_t v, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void bad_value(vc_t *vc, jv_t v, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    problem_at(vc, val_pos(vc, v.id), "%s: %s", path_of(vc, v.id).s, what);
}

static const char *type_name(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    case JSON_NULL:
        return "null";
    }
    return "something else";
}

static void wrong_type(vc_t *vc, jv_t v, const char *expected)
{
    BAD(vc, v, "expected %s, got %s", expected, type_name(v.j));
}

static jv_t member(const vc_t *vc, jv_t obj, const char *key)
{
    json_t *j = json_object_get(obj.j, key);
    if (!j)
        return NO_JV;
    return (jv_t){j, cdn_jpos_child_key(vc->idx, obj.id, key)};
}

static jv_t element(const vc_t *vc, jv_t arr, size_t i)
{
    return (jv_t){json_array_get(arr.j, i), cdn_jpos_child_index(vc->idx, arr.id, i)};
}

static char *xdup(vc_t *vc, const char *s)
{
    char *d = strdup(s);
    if (!d)
        vc->oom = true;
    return d;
}

static void sv_add(vc_t *vc, cdn_strv_t *sv, const char *s)
{
    cdn_error_t e;
    if (cdn_strv_add(sv, s, &e) < 0)
        vc->oom = true;
}

static void not_enforced(vc_t *vc, const char *prefix, const char *key)
{
    cdn_error_t e;
    if (cdn_strv_addf(&vc->s->not_enforced, &e, "%s%s", prefix, key) < 0)
        vc->oom = true;
}

/* ---- key sets and unknown keys ------------------------------------------ */

typedef struct section {
    const char *name; /* dotted, "" for the top level */
    const char *const *keys;
} section_t;

static const char *const top_keys[] = {"network",
                                       "filesystem",
                                       "credentials",
                                       "ignoreViolations",
                                       "enableWeakerNestedSandbox",
                                       "allowNestedUserNamespaces",
                                       "enableWeakerNetworkIsolation",
                                       "allowAppleEvents",
                                       "ripgrep",
                                       "mandatoryDenySearchDepth",
                                       "allowPty",
                                       "seccomp",
                                       "bwrapPath",
                                       "socatPath",
                                       "javaAgentJarPath",
                                       "windows",
                                       "git",
                                       "cordon",
                                       NULL};
static const char *const network_keys[] = {"allowedDomains",
                                           "deniedDomains",
                                           "deniedDomainReasons",
                                           "strictAllowlist",
                                           "deniedResolvedAddresses",
                                           "allowUnixSockets",
                                           "allowAllUnixSockets",
                                           "allowLocalBinding",
                                           "allowMachLookup",
                                           "httpProxyPort",
                                           "socksProxyPort",
                                           "mitmProxy",
                                           "filterRequest",
                                           "allowPlaintextHeaderSet",
                                           "stripResponseHeaders",
                                           "refuseOpaqueTunnels",
                                           "requireHostMatch",
                                           "ambiguousRequestTarget",
                                           "tlsTerminate",
                                           "parentProxy",
                                           NULL};
static const char *const filesystem_keys[] = {
    "disabled", "denyRead", "allowRead", "allowWrite", "denyWrite", "allowGitConfig", NULL};
static const char *const credentials_keys[] = {"files",    "envVars", "allowPlaintextInject",
                                               "awsPairs", "sigv4",   NULL};
static const char *const cordon_keys[] = {"workspace", "env", "hide", "protect", "tcpPorts",
                                             "allowLocalPorts", NULL};

static const section_t sections[] = {
    {"", top_keys},
    {"network", network_keys},
    {"filesystem", filesystem_keys},
    {"credentials", credentials_keys},
    {"cordon", cordon_keys},
};

static bool in_set(const char *const *set, const char *k)
{
    for (; *set; set++)
        if (strcmp(*set, k) == 0)
            return true;
    return false;
}

static const char *closest(const char *k, const char *const *set)
{
    size_t n = strlen(k);
    unsigned cap = n <= 4 ? 1 : n <= 8 ? 2 : 3;
    const char *best = NULL;
    unsigned bestd = cap + 1;
    for (; *set; set++) {
        unsigned d = cdn_edit_distance(k, *set, cap);
        /* A cut-off name ("caCert" for "caCertPath") is close too. */
        if (d > cap && n >= 4 && strncasecmp(*set, k, n) == 0)
            d = cap;
        if (d < bestd) {
            bestd = d;
            best = *set;
        }
    }
    return best;
}

static void check_keys(vc_t *vc, jv_t obj, const char *const *known)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj.j, k, v)
    {
        if (in_set(known, k))
            continue;
        int kid = cdn_jpos_child_key(vc->idx, obj.id, k);
        char where[300], extra[200] = "";
        if (obj.id == 0)
            snprintf(where, sizeof where, "at the top level");
        else
            snprintf(where, sizeof where, "in \"%s\"", path_of(vc, obj.id).s);
        const char *sug = closest(k, known);
        if (sug) {
            snprintf(extra, sizeof extra, " (did you mean \"%s\"?)", sug);
        } else {
            for (size_t i = 0; i < CDN_ARRAY_SIZE(sections); i++) {
                if (sections[i].keys != known && in_set(sections[i].keys, k)) {
                    snprintf(extra, sizeof extra, " (\"%s\" belongs %s%s%s)", k,
                             sections[i].name[0] ? "in \"" : "at the top level", sections[i].name,
                             sections[i].name[0] ? "\"" : "");
                    break;
                }
            }
        }
        problem_at(vc, key_pos(vc, kid), "unknown key \"%.100s\" %s%s", k, where, extra);
    }
}

static void required(vc_t *vc, jv_t obj, const char *key)
{
    if (!json_object_get(obj.j, key))
        BAD(vc, obj, "missing required key \"%s\"", key);
}

/* ---- typed getters ------------------------------------------------------ */

static bool is_obj(vc_t *vc, jv_t v)
{
    if (json_is_object(v.j))
        return true;
    wrong_type(vc, v, "an object");
    return false;
}

static bool is_arr(vc_t *vc, jv_t v)
{
    if (json_is_array(v.j))
        return true;
    wrong_type(vc, v, "an array");
    return false;
}

/* A string without NUL bytes (jansson refuses \u0000 already; kept so the
 * C string is provably the whole value). */
static const char *is_str(vc_t *vc, jv_t v, bool nonempty)
{
    if (!json_is_string(v.j)) {
        wrong_type(vc, v, nonempty ? "a non-empty string" : "a string");
        return NULL;
    }
    const char *s = json_string_value(v.j);
    if (strlen(s) != json_string_length(v.j)) {
        BAD(vc, v, "NUL byte in string");
        return NULL;
    }
    if (nonempty && !*s) {
        BAD(vc, v, "must not be empty");
        return NULL;
    }
    return s;
}

static bool get_bool(vc_t *vc, jv_t obj, const char *key, bool *out)
{
    jv_t v = member(vc, obj, key);
    if (!v.j)
        return false;
    if (!json_is_boolean(v.j)) {
        wrong_type(vc, v, "true or false");
        return false;
    }
    *out = json_is_true(v.j);
    return true;
}

/* srt's numbers are JavaScript numbers: 443.0 is the integer 443. */
static bool int_value(vc_t *vc, jv_t v, long lo, long hi, long *out)
{
    double d;
    if (json_is_integer(v.j))
        d = (double)json_integer_value(v.j);
    else if (json_is_real(v.j))
        d = json_real_value(v.j);
    else {
        BAD(vc, v, "expected an integer from %ld to %ld, got %s", lo, hi, type_name(v.j));
        return false;
    }
    if (!(d >= (double)lo && d <= (double)hi) || (double)(long)d != d) {
        BAD(vc, v, "expected an integer from %ld to %ld", lo, hi);
        return false;
    }
    *out = (long)d;
    return true;
}

static bool get_int(vc_t *vc, jv_t obj, const char *key, long lo, long hi, int *out)
{
    jv_t v = member(vc, obj, key);
    long l;
    if (!v.j || !int_value(vc, v, lo, hi, &l))
        return false;
    *out = (int)l;
    return true;
}

static bool get_str(vc_t *vc, jv_t obj, const char *key, bool nonempty, char **out)
{
    jv_t v = member(vc, obj, key);
    if (!v.j)
        return false;
    const char *s = is_str(vc, v, nonempty);
    if (!s)
        return false;
    if (out) {
        free(*out);
        *out = xdup(vc, s);
    }
    return true;
}

static bool get_enum(vc_t *vc, jv_t obj, const char *key, const char *const *values, int *out)
{
    jv_t v = member(vc, obj, key);
    if (!v.j)
        return false;
    const char *s = is_str(vc, v, false);
    if (!s)
        return false;
    for (int i = 0; values[i]; i++) {
        if (strcmp(s, values[i]) == 0) {
            if (out)
                *out = i;
            return true;
        }
    }
    char list[256] = "";
    for (int i = 0; values[i]; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s\"%s\"", i ? ", " : "",
                 values[i]);
    BAD(vc, v, "\"%.100s\" is not one of %s", s, list);
    return false;
}

typedef const char *(*str_check_t)(const char *s, int arg);

static const char *check_domain(const char *s, int kind)
{
    return cdn_check_domain(s, (cdn_domain_kind_t)kind);
}

static const char *check_cidr(const char *s, int unused)
{
    (void)unused;
    return cdn_check_cidr(s);
}

static const char *check_env_name(const char *s, int unused)
{
    (void)unused;
    return cdn_check_env_name(s);
}

static const char *check_nonempty(const char *s, int unused)
{
    (void)unused;
    return *s ? NULL : "must not be empty";
}

static const char *check_any(const char *s, int unused)
{
    (void)s;
    (void)unused;
    return NULL;
}

static const char *check_mach(const char *s, int unused)
{
    (void)unused;
    const char *star = strchr(s, '*');
    if (star && star[1] != '\0')
        return "a wildcard is only accepted as a single trailing \"*\"";
    return NULL;
}

static const char *check_protect(const char *s, int unused)
{
    (void)unused;
    if (!*s)
        return "must not be empty";
    if (s[0] == '/')
        return "a protected name is relative to the workspace (use filesystem.denyWrite for an "
               "absolute path)";
    for (const char *p = s; (p = strstr(p, "..")); p++)
        if ((p == s || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
            return "a protected name may not contain \"..\"";
    return NULL;
}

/* Validates an array of strings; when `out` is given, stores them. */
static bool get_strv(vc_t *vc, jv_t obj, const char *key, str_check_t check, int arg,
                     cdn_strv_t *out)
{
    jv_t arr = member(vc, obj, key);
    if (!arr.j)
        return false;
    if (!is_arr(vc, arr))
        return false;
    for (size_t i = 0; i < json_array_size(arr.j); i++) {
        jv_t e = element(vc, arr, i);
        const char *s = is_str(vc, e, false);
        if (!s)
            continue;
        const char *why = check(s, arg);
        if (why) {
            BAD(vc, e, "\"%.200s\": %s", s, why);
            continue;
        }
        if (out)
            sv_add(vc, out, s);
    }
    return true;
}

/* A map of strings to values checked by `check`. */
static bool get_kv(vc_t *vc, jv_t obj, const char *key, bool nonempty, cdn_kvlist_t *out,
                   str_check_t key_check)
{
    jv_t m = member(vc, obj, key);
    if (!m.j)
        return false;
    if (!is_obj(vc, m))
        return false;
    size_t n = json_object_size(m.j);
    out->v = calloc(n ? n : 1, sizeof *out->v);
    if (!out->v) {
        vc->oom = true;
        return false;
    }
    const char *k;
    json_t *jval;
    json_object_foreach(m.j, k, jval)
    {
        jv_t v = member(vc, m, k);
        const char *why = key_check ? key_check(k, 0) : NULL;
        if (why) {
            problem_at(vc, key_pos(vc, v.id), "%s: key \"%.100s\": %s", path_of(vc, m.id).s, k,
                       why);
            continue;
        }
        const char *s = is_str(vc, v, nonempty);
        if (!s)
            continue;
        cdn_kv_t *kv = &out->v[out->n++];
        kv->key = xdup(vc, k);
        kv->val = xdup(vc, s);
    }
    return true;
}

/* ---- paths -------------------------------------------------------------- */

static bool has_glob(const char *s)
{
    return strpbrk(s, "*?[]") != NULL;
}

/* An entry of denyRead/allowRead/allowWrite/denyWrite (and cordon.hide):
 * "path" or {"path": "...", "literal": true}. */
static bool get_paths(vc_t *vc, jv_t obj, const char *key, bool is_deny, cdn_pathlist_t *out)
{
    jv_t arr = member(vc, obj, key);
    if (!arr.j)
        return false;
    if (!is_arr(vc, arr))
        return false;
    size_t n = json_array_size(arr.j);
    out->v = calloc(n ? n : 1, sizeof *out->v);
    if (!out->v) {
        vc->oom = true;
        return false;
    }
    static const char *const literal_keys[] = {"path", "literal", NULL};
    for (size_t i = 0; i < n; i++) {
        jv_t e = element(vc, arr, i);
        const char *s;
        bool literal = false;
        if (json_is_object(e.j)) {
            size_t before = vc->pn;
            check_keys(vc, e, literal_keys);
            jv_t p = member(vc, e, "path"), l = member(vc, e, "literal");
            if (!p.j)
                BAD(vc, e, "missing required key \"path\"");
            if (!l.j)
                BAD(vc, e,
                    "missing \"literal\": true (an object entry is a literal path; write "
                    "a plain string for a pattern)");
            else if (!json_is_true(l.j))
                BAD(vc, l,
                    "expected true (an object entry is a literal path; write a plain "
                    "string for a pattern)");
            s = p.j ? is_str(vc, p, true) : NULL;
            if (!s || vc->pn != before)
                continue;
            literal = true;
        } else if (json_is_string(e.j)) {
            s = is_str(vc, e, true);
            if (!s)
                continue;
            /* srt: a rooted deny glob ending in '/' can match nothing, and
             * an inert deny is a silent hole. */
            size_t len = strlen(s);
            if (is_deny && len > 1 && s[len - 1] == '/' && has_glob(s) &&
                (s[0] == '/' || s[0] == '~')) {
                BAD(vc, e,
                    "deny pattern \"%.200s\" ends in '/', so it matches nothing: drop the "
                    "trailing '/', or add a \"**\" segment",
                    s);
                continue;
            }
        } else {
            wrong_type(vc, e, "a path string or {\"path\": \"...\", \"literal\": true}");
            continue;
        }
        cdn_path_ent_t *pe = &out->v[out->n++];
        pe->path = xdup(vc, s);
        pe->literal = literal;
        pe->pos = val_pos(vc, e.id);
    }
    return true;
}

/* ---- sections ----------------------------------------------------------- */

static void parse_network(vc_t *vc, jv_t net)
{
    cdn_settings_t *s = vc->s;
    check_keys(vc, net, network_keys);

    const char *k;
    json_t *unused;
    json_object_foreach(net.j, k, unused)
    {
        (void)unused;
        /* Enforced by the egress broker (src/net) or the sandbox; the rest
         * is parsed and reported as not enforced yet. */
        static const char *const enforced[] = {
            "allowUnixSockets", "allowAllUnixSockets", "allowedDomains", "deniedDomains",
            "deniedDomainReasons", "deniedResolvedAddresses", "strictAllowlist", "parentProxy",
            NULL};
        if (in_set(network_keys, k) && !in_set(enforced, k))
            not_enforced(vc, "network.", k);
    }
    s->network.present = true;

    get_strv(vc, net, "allowedDomains", check_domain, CDN_DOMAIN_ALLOW,
             &s->network.allowed_domains);
    get_strv(vc, net, "deniedDomains", check_domain, CDN_DOMAIN_DENY, &s->network.denied_domains);
    get_kv(vc, net, "deniedDomainReasons", true, &s->network.denied_domain_reasons, NULL);
    get_bool(vc, net, "strictAllowlist", &s->network.strict_allowlist);
    get_strv(vc, net, "deniedResolvedAddresses", check_cidr, 0,
             &s->network.denied_resolved_addresses);
    get_strv(vc, net, "allowUnixSockets", check_nonempty, 0, &s->network.allow_unix_sockets);
    get_bool(vc, net, "allowAllUnixSockets", &s->network.allow_all_unix_sockets);
    get_bool(vc, net, "allowLocalBinding", &s->network.allow_local_binding);
    get_strv(vc, net, "allowMachLookup", check_mach, 0, NULL);
    get_int(vc, net, "httpProxyPort", 1, 65535, &s->network.http_proxy_port);
    get_int(vc, net, "socksProxyPort", 1, 65535, &s->network.socks_proxy_port);

    jv_t fr = member(vc, net, "filterRequest");
    if (fr.j)
        problem_at(vc, key_pos(vc, fr.id),
                   "network.filterRequest is a callback of srt's library API; a settings file "
                   "cannot hold one");

    bool b;
    get_bool(vc, net, "allowPlaintextHeaderSet", &b);
    get_strv(vc, net, "stripResponseHeaders", check_nonempty, 0, NULL);
    get_bool(vc, net, "refuseOpaqueTunnels", &b);
    get_bool(vc, net, "requireHostMatch", &b);
    static const char *const ambiguous[] = {"refuse", "asSpelled", "normalize", NULL};
    get_enum(vc, net, "ambiguousRequestTarget", ambiguous, NULL);

    jv_t mitm = member(vc, net, "mitmProxy");
    if (mitm.j && is_obj(vc, mitm)) {
        static const char *const keys[] = {"socketPath", "domains", NULL};
        check_keys(vc, mitm, keys);
        required(vc, mitm, "socketPath");
        required(vc, mitm, "domains");
        get_str(vc, mitm, "socketPath", true, &s->network.mitm_proxy.socket_path);
        if (get_strv(vc, mitm, "domains", check_domain, CDN_DOMAIN_HOST,
                     &s->network.mitm_proxy.domains)) {
            jv_t d = member(vc, mitm, "domains");
            if (json_is_array(d.j) && json_array_size(d.j) == 0)
                BAD(vc, d, "must list at least one domain");
        }
    }

    jv_t tls = member(vc, net, "tlsTerminate");
    if (tls.j && is_obj(vc, tls)) {
        static const char *const keys[] = {
            "caCertPath",         "caKeyPath", "excludeDomains", "extraCaCertPaths", "maxTunnels",
            "handshakeTimeoutMs", NULL};
        check_keys(vc, tls, keys);
        s->network.tls_terminate.present = true;
        get_str(vc, tls, "caCertPath", true, &s->network.tls_terminate.ca_cert_path);
        get_str(vc, tls, "caKeyPath", true, &s->network.tls_terminate.ca_key_path);
        if (!json_object_get(tls.j, "caCertPath") != !json_object_get(tls.j, "caKeyPath"))
            BAD(vc, tls, "caCertPath and caKeyPath must be given together");
        get_strv(vc, tls, "excludeDomains", check_domain, CDN_DOMAIN_HOST,
                 &s->network.tls_terminate.exclude_domains);
        get_strv(vc, tls, "extraCaCertPaths", check_nonempty, 0,
                 &s->network.tls_terminate.extra_ca_cert_paths);
        get_int(vc, tls, "maxTunnels", 1, 65536, &s->network.tls_terminate.max_tunnels);
        get_int(vc, tls, "handshakeTimeoutMs", 100, 600000,
                &s->network.tls_terminate.handshake_timeout_ms);
    }

    jv_t pp = member(vc, net, "parentProxy");
    if (pp.j && is_obj(vc, pp)) {
        static const char *const keys[] = {"http", "https", "noProxy", NULL};
        check_keys(vc, pp, keys);
        static const char *const urls[] = {"http", "https"};
        char **dst[] = {&s->network.parent_proxy.http, &s->network.parent_proxy.https};
        for (size_t i = 0; i < 2; i++) {
            jv_t u = member(vc, pp, urls[i]);
            if (!u.j)
                continue;
            const char *str = is_str(vc, u, true);
            if (!str)
                continue;
            size_t sch = strspn(str, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789+.-");
            if (sch == 0 || strncmp(str + sch, "://", 3) != 0 || !str[sch + 3] ||
                strpbrk(str, " \t\r\n")) {
                BAD(vc, u, "\"%.200s\" is not a URL (e.g. \"http://proxy.example.com:3128\")", str);
                continue;
            }
            *dst[i] = xdup(vc, str);
        }
        jv_t np = member(vc, pp, "noProxy");
        const char *str = np.j ? is_str(vc, np, false) : NULL;
        /* srt takes NO_PROXY syntax: one comma-separated string. */
        for (const char *p = str; p && *p;) {
            size_t n = strcspn(p, ",");
            const char *from = p, *to = p + n;
            while (from < to && (*from == ' ' || *from == '\t'))
                from++;
            while (to > from && (to[-1] == ' ' || to[-1] == '\t'))
                to--;
            if (to > from) {
                char *item = strndup(from, (size_t)(to - from));
                cdn_error_t e;
                if (cdn_strv_take(&s->network.parent_proxy.no_proxy, item, &e) < 0)
                    vc->oom = true;
            }
            p += n + (p[n] == ',');
        }
    }
}

static void parse_filesystem(vc_t *vc, jv_t fs)
{
    cdn_settings_t *s = vc->s;
    check_keys(vc, fs, filesystem_keys);
    if (get_bool(vc, fs, "disabled", &s->filesystem.disabled))
        not_enforced(vc, "filesystem.", "disabled");
    get_paths(vc, fs, "denyRead", true, &s->filesystem.deny_read);
    get_paths(vc, fs, "allowRead", false, &s->filesystem.allow_read);
    get_paths(vc, fs, "allowWrite", false, &s->filesystem.allow_write);
    get_paths(vc, fs, "denyWrite", true, &s->filesystem.deny_write);
    get_bool(vc, fs, "allowGitConfig", &s->filesystem.allow_git_config);
}

/* srt: an injectHosts entry must be reachable through allowedDomains.  The
 * allowed hosts (ports dropped, lower-cased) are kept sorted, exact names and
 * wildcard bases apart, so each check is a few binary searches rather than
 * a walk over the whole list. */
typedef struct allowed_hosts {
    cdn_strv_t exact, wild;
    bool built;
} allowed_hosts_t;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

static void build_allowed(vc_t *vc, allowed_hosts_t *ah)
{
    const cdn_strv_t *allowed = &vc->s->network.allowed_domains;
    ah->built = true;
    for (size_t i = 0; i < allowed->n; i++) {
        const char *p = allowed->v[i];
        size_t n;
        if (p[0] == '[') {
            p++;
            n = strcspn(p, "]");
        } else {
            n = strcspn(p, ":");
        }
        bool wild = n > 2 && p[0] == '*' && p[1] == '.';
        char *h = wild ? strndup(p + 2, n - 2) : strndup(p, n);
        if (!h) {
            vc->oom = true;
            return;
        }
        lower(h);
        cdn_error_t e;
        if (cdn_strv_take(wild ? &ah->wild : &ah->exact, h, &e) < 0) {
            vc->oom = true;
            return;
        }
    }
    if (ah->exact.n)
        qsort(ah->exact.v, ah->exact.n, sizeof(char *), cmp_str);
    if (ah->wild.n)
        qsort(ah->wild.v, ah->wild.n, sizeof(char *), cmp_str);
}

static bool in_sorted(const cdn_strv_t *sv, const char *s)
{
    return sv->n && bsearch(&s, sv->v, sv->n, sizeof(char *), cmp_str) != NULL;
}

static bool host_covered(vc_t *vc, allowed_hosts_t *ah, const char *host)
{
    if (!ah->built)
        build_allowed(vc, ah);
    bool wild = strncmp(host, "*.", 2) == 0;
    _cleanup_free_ char *h = strdup(wild ? host + 2 : host);
    if (!h) {
        vc->oom = true;
        return true;
    }
    lower(h);
    /* "x.y.z" is covered by an exact "x.y.z" or by "*.y.z" / "*.z"; a
     * wildcard "*.x.y" only by "*.x.y" or "*.y". */
    if (!wild && in_sorted(&ah->exact, h))
        return true;
    if (wild && in_sorted(&ah->wild, h))
        return true;
    for (const char *dot = strchr(h, '.'); dot; dot = strchr(dot + 1, '.'))
        if (in_sorted(&ah->wild, dot + 1))
            return true;
    return false;
}

static const char *const cred_modes[] = {"deny", "mask", NULL};

/* srt compiles `extract` as a JavaScript RegExp and requires a capturing
 * group.  Without a JS regex engine, look for one: an unescaped '(' outside a
 * character class that is not "(?:", "(?=", "(?!", "(?<=" or "(?<!". */
static bool has_capture_group(const char *re)
{
    bool in_class = false;
    for (const char *p = re; *p; p++) {
        if (*p == '\\') {
            if (!*++p)
                break;
        } else if (in_class) {
            in_class = *p != ']';
        } else if (*p == '[') {
            in_class = true;
        } else if (*p == '(') {
            if (p[1] != '?')
                return true;
            if (p[2] == '<' && p[3] != '=' && p[3] != '!')
                return true; /* named group */
        }
    }
    return false;
}

static void parse_cred_entry(vc_t *vc, jv_t e, bool is_file, allowed_hosts_t *ah,
                             cdn_cred_ent_t *out, bool *tls_needed)
{
    static const char *const file_keys[] = {
        "path",           "mode",        "extract", "onExtractNoMatch", "decode", "maskClaims",
        "maskDuplicates", "injectHosts", NULL};
    static const char *const env_keys[] = {
        "name", "mode", "extract", "onExtractNoMatch", "decode", "maskClaims", "injectHosts", NULL};
    static const char *const no_match[] = {"warn", "deny", "error", NULL};
    static const char *const decodes[] = {"jwt", NULL};
    cdn_settings_t *s = vc->s;
    const char *namekey = is_file ? "path" : "name";

    check_keys(vc, e, is_file ? file_keys : env_keys);
    required(vc, e, namekey);
    required(vc, e, "mode");
    jv_t nm = member(vc, e, namekey);
    const char *name = nm.j ? is_str(vc, nm, true) : NULL;
    if (name && !is_file) {
        const char *why = cdn_check_env_name(name);
        if (why) {
            BAD(vc, nm, "\"%.100s\": %s", name, why);
            name = NULL;
        }
    }
    int mode = -1;
    get_enum(vc, e, "mode", cred_modes, &mode);
    jv_t ex = member(vc, e, "extract");
    const char *exs = ex.j ? is_str(vc, ex, false) : NULL;
    if (exs && !has_capture_group(exs))
        BAD(vc, ex,
            "extract needs a capturing group: group 1 is the value to mask (e.g. "
            "\"token:\\\\s*(\\\\S+)\")");
    get_enum(vc, e, "onExtractNoMatch", no_match, NULL);
    bool has_decode = get_enum(vc, e, "decode", decodes, NULL);
    jv_t mc = member(vc, e, "maskClaims");
    if (get_strv(vc, e, "maskClaims", check_nonempty, 0, NULL)) {
        if (!json_object_get(e.j, "decode"))
            BAD(vc, mc, "maskClaims requires decode (e.g. \"decode\": \"jwt\")");
        else if (has_decode && json_array_size(mc.j) == 0)
            BAD(vc, mc, "maskClaims is empty: omit it to mask the whole token");
    }
    bool b;
    if (is_file)
        get_bool(vc, e, "maskDuplicates", &b);
    jv_t ih = member(vc, e, "injectHosts");
    if (get_strv(vc, e, "injectHosts", check_domain, CDN_DOMAIN_HOST, &out->inject_hosts)) {
        for (size_t i = 0; i < json_array_size(ih.j); i++) {
            jv_t h = element(vc, ih, i);
            const char *hs = json_string_value(h.j);
            if (hs && !cdn_check_domain(hs, CDN_DOMAIN_HOST) && !host_covered(vc, ah, hs))
                BAD(vc, h, "\"%.100s\" is not reachable through network.allowedDomains", hs);
        }
        if (mode == 1 && json_array_size(ih.j) == 0)
            BAD(vc, ih,
                "injectHosts is empty: the credential would never be injected; omit "
                "it to default to network.allowedDomains");
    }
    if (mode == 1) {
        *tls_needed = true;
        if (is_file && name && name[strlen(name) - 1] == '/')
            BAD(vc, nm, "mode \"mask\" applies to a single file, not a directory");
    }
    out->mode = mode == 0 ? CDN_CRED_DENY : mode == 1 ? CDN_CRED_MASK : CDN_CRED_UNSET;
    out->pos = val_pos(vc, e.id);
    if (name) {
        out->name = xdup(vc, name);
        sv_add(vc, is_file ? &s->credentials.files : &s->credentials.env_vars, name);
        for (size_t i = 0; i < out->inject_hosts.n; i++)
            if (!cdn_strv_contains(&s->credentials.inject_hosts, out->inject_hosts.v[i]))
                sv_add(vc, &s->credentials.inject_hosts, out->inject_hosts.v[i]);
    }
}

static void parse_cred_list(vc_t *vc, jv_t cred, bool is_file, allowed_hosts_t *ah,
                            bool *tls_needed)
{
    cdn_settings_t *s = vc->s;
    jv_t arr = member(vc, cred, is_file ? "files" : "envVars");
    if (!arr.j || !is_arr(vc, arr))
        return;
    size_t n = json_array_size(arr.j);
    cdn_cred_ent_t *v = calloc(n ? n : 1, sizeof *v);
    if (!v) {
        vc->oom = true;
        return;
    }
    if (is_file) {
        s->credentials.file_entries = v;
    } else {
        s->credentials.env_entries = v;
    }
    size_t *count = is_file ? &s->credentials.n_file_entries : &s->credentials.n_env_entries;
    for (size_t i = 0; i < n; i++) {
        jv_t e = element(vc, arr, i);
        if (!is_obj(vc, e))
            continue;
        parse_cred_entry(vc, e, is_file, ah, &v[(*count)++], tls_needed);
    }
}

static const cdn_cred_ent_t *find_env_entry(const cdn_settings_t *s, const char *name)
{
    for (size_t i = 0; i < s->credentials.n_env_entries; i++)
        if (s->credentials.env_entries[i].name &&
            strcmp(s->credentials.env_entries[i].name, name) == 0)
            return &s->credentials.env_entries[i];
    return NULL;
}

/* Whether the envVars entry `name` masks only part of its value. */
static bool env_entry_transforms(json_t *cred, const char *name)
{
    json_t *envs = json_object_get(cred, "envVars");
    for (size_t i = 0; i < json_array_size(envs); i++) {
        json_t *e = json_array_get(envs, i);
        const char *n = json_string_value(json_object_get(e, "name"));
        if (n && strcmp(n, name) == 0)
            return json_object_get(e, "extract") || json_object_get(e, "decode");
    }
    return false;
}

static void parse_credentials(vc_t *vc, jv_t cred, jv_t root)
{
    cdn_settings_t *s = vc->s;
    check_keys(vc, cred, credentials_keys);
    const char *k;
    json_t *unused;
    json_object_foreach(cred.j, k, unused)
    {
        (void)unused;
        if (in_set(credentials_keys, k))
            not_enforced(vc, "credentials.", k);
    }
    bool tls_needed = false;
    allowed_hosts_t ah = {0};
    parse_cred_list(vc, cred, false, &ah, &tls_needed);
    parse_cred_list(vc, cred, true, &ah, &tls_needed);
    cdn_strv_free(&ah.exact);
    cdn_strv_free(&ah.wild);
    get_bool(vc, cred, "allowPlaintextInject", &s->credentials.allow_plaintext_inject);

    jv_t pairs = member(vc, cred, "awsPairs");
    if (pairs.j && is_arr(vc, pairs)) {
        static const char *const keys[] = {"accessKeyIdVar", "secretAccessKeyVar",
                                           "sessionTokenVar", NULL};
        cdn_strv_t seen = {0};
        for (size_t i = 0; i < json_array_size(pairs.j); i++) {
            jv_t p = element(vc, pairs, i);
            if (!is_obj(vc, p))
                continue;
            check_keys(vc, p, keys);
            required(vc, p, "accessKeyIdVar");
            required(vc, p, "secretAccessKeyVar");
            for (const char *const *f = keys; *f; f++) {
                jv_t v = member(vc, p, *f);
                const char *name = v.j ? is_str(vc, v, true) : NULL;
                if (!name)
                    continue;
                const char *why = cdn_check_env_name(name);
                const cdn_cred_ent_t *ent = find_env_entry(s, name);
                if (why)
                    BAD(vc, v, "\"%.100s\": %s", name, why);
                else if (cdn_strv_contains(&seen, name))
                    BAD(vc, v, "\"%.100s\" fills more than one awsPairs slot", name);
                else if (!ent || ent->mode != CDN_CRED_MASK)
                    BAD(vc, v, "\"%.100s\" is not a credentials.envVars entry with mode \"mask\"",
                        name);
                else if (env_entry_transforms(cred.j, name))
                    BAD(vc, v,
                        "\"%.100s\" uses extract/decode; an AWS pair member must be masked "
                        "whole-value",
                        name);
                sv_add(vc, &seen, name);
            }
        }
        cdn_strv_free(&seen);
    }
    jv_t sig = member(vc, cred, "sigv4");
    if (sig.j && is_obj(vc, sig)) {
        static const char *const keys[] = {"streaming", "presigned", "sigv4a", NULL};
        static const char *const policies[] = {"deny", "passthrough", NULL};
        check_keys(vc, sig, keys);
        for (const char *const *f = keys; *f; f++)
            get_enum(vc, sig, *f, policies, NULL);
    }

    if (tls_needed && !s->credentials.allow_plaintext_inject) {
        jv_t net = member(vc, root, "network");
        if (!net.j || !json_object_get(net.j, "tlsTerminate"))
            BAD(vc, cred,
                "credential masking requires network.tlsTerminate (or "
                "credentials.allowPlaintextInject: true)");
    }

    /* The flat summary: a deny anywhere makes the block deny. */
    bool any_deny = false, any_mask = false;
    for (size_t i = 0; i < s->credentials.n_env_entries; i++) {
        any_deny |= s->credentials.env_entries[i].mode == CDN_CRED_DENY;
        any_mask |= s->credentials.env_entries[i].mode == CDN_CRED_MASK;
    }
    for (size_t i = 0; i < s->credentials.n_file_entries; i++) {
        any_deny |= s->credentials.file_entries[i].mode == CDN_CRED_DENY;
        any_mask |= s->credentials.file_entries[i].mode == CDN_CRED_MASK;
    }
    s->credentials.mode = any_deny ? CDN_CRED_DENY : any_mask ? CDN_CRED_MASK : CDN_CRED_UNSET;
}

static void parse_ignore(vc_t *vc, jv_t ig)
{
    cdn_settings_t *s = vc->s;
    if (!is_obj(vc, ig))
        return;
    size_t n = json_object_size(ig.j);
    s->ignore_violations = calloc(n ? n : 1, sizeof *s->ignore_violations);
    if (!s->ignore_violations) {
        vc->oom = true;
        return;
    }
    const char *k;
    json_t *unused;
    json_object_foreach(ig.j, k, unused)
    {
        (void)unused;
        jv_t arr = member(vc, ig, k);
        if (!is_arr(vc, arr))
            continue;
        cdn_ignore_rule_t *r = &s->ignore_violations[s->n_ignore_violations++];
        r->command_pattern = xdup(vc, k);
        get_strv(vc, ig, k, check_any, 0, &r->paths);
    }
}

static const char *check_abs(vc_t *vc, jv_t v)
{
    const char *str = is_str(vc, v, true);
    if (str && str[0] != '/') {
        BAD(vc, v, "\"%.200s\" must be an absolute path", str);
        return NULL;
    }
    return str;
}

static bool is_uuid(const char *s)
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    if (strlen(s) != sizeof shape - 1)
        return false;
    for (size_t i = 0; shape[i]; i++) {
        if (shape[i] == '-' ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
            return false;
    }
    return true;
}

/* srt's Linux/macOS/Windows implementation knobs: checked, stored nowhere. */
static void parse_srt_impl(vc_t *vc, jv_t root)
{
    jv_t v;
    bool b;
    int mdepth;
    static const char *const macos[] = {"enableWeakerNetworkIsolation", "allowAppleEvents",
                                        "allowPty", NULL};
    for (const char *const *k = macos; *k; k++)
        if (get_bool(vc, root, *k, &b))
            not_enforced(vc, "", *k);

    if (get_int(vc, root, "mandatoryDenySearchDepth", 1, 10, &mdepth))
        vc->s->mandatory_deny_search_depth = mdepth;

    v = member(vc, root, "ripgrep");
    if (v.j && is_obj(vc, v)) {
        static const char *const keys[] = {"command", "args", "argv0", NULL};
        check_keys(vc, v, keys);
        required(vc, v, "command");
        get_str(vc, v, "command", false, NULL);
        get_strv(vc, v, "args", check_any, 0, NULL);
        get_str(vc, v, "argv0", false, NULL);
        not_enforced(vc, "", "ripgrep");
    }
    v = member(vc, root, "seccomp");
    if (v.j && is_obj(vc, v)) {
        static const char *const keys[] = {"applyPath", "argv0", NULL};
        check_keys(vc, v, keys);
        get_str(vc, v, "applyPath", false, NULL);
        get_str(vc, v, "argv0", false, NULL);
        not_enforced(vc, "", "seccomp");
    }
    static const char *const bins[] = {"bwrapPath", "socatPath", "javaAgentJarPath", NULL};
    for (const char *const *k = bins; *k; k++) {
        v = member(vc, root, *k);
        if (v.j && check_abs(vc, v))
            not_enforced(vc, "", *k);
    }
    v = member(vc, root, "git");
    if (v.j && is_obj(vc, v)) {
        static const char *const keys[] = {"safeDirectories", NULL};
        check_keys(vc, v, keys);
        get_strv(vc, v, "safeDirectories", check_any, 0, NULL);
        not_enforced(vc, "", "git");
    }
    v = member(vc, root, "windows");
    if (v.j && is_obj(vc, v)) {
        static const char *const keys[] = {
            "backend", "sandboxUser", "sublayerGuid", "wfpSublayerGuid", "proxyPortRange",
            "srtWin",  NULL};
        static const char *const backends[] = {"mxc", "srt-win", NULL};
        check_keys(vc, v, keys);
        get_enum(vc, v, "backend", backends, NULL);
        jv_t u = member(vc, v, "sandboxUser");
        const char *user = u.j ? is_str(vc, u, true) : NULL;
        if (user && strlen(user) > 20)
            BAD(vc, u, "Windows local user names are limited to 20 characters");
        static const char *const guids[] = {"sublayerGuid", "wfpSublayerGuid", NULL};
        for (const char *const *k = guids; *k; k++) {
            jv_t g = member(vc, v, *k);
            const char *gs = g.j ? is_str(vc, g, false) : NULL;
            if (gs && !is_uuid(gs))
                BAD(vc, g, "\"%.100s\" is not a UUID", gs);
        }
        jv_t r = member(vc, v, "proxyPortRange");
        if (r.j && is_arr(vc, r)) {
            long lo = 0, hi = 0;
            if (json_array_size(r.j) != 2)
                BAD(vc, r, "expected [low, high]");
            else if (int_value(vc, element(vc, r, 0), 1, 65535, &lo) &&
                     int_value(vc, element(vc, r, 1), 1, 65535, &hi) && (lo > hi || hi - lo > 64))
                BAD(vc, r, "low must be <= high and the range at most 64 wide");
        }
        jv_t sw = member(vc, v, "srtWin");
        if (sw.j && is_obj(vc, sw)) {
            static const char *const swkeys[] = {"path", NULL};
            check_keys(vc, sw, swkeys);
            required(vc, sw, "path");
            get_str(vc, sw, "path", true, NULL);
        }
        not_enforced(vc, "", "windows");
    }
}

static void parse_cordon(vc_t *vc, jv_t c)
{
    cdn_settings_t *s = vc->s;
    check_keys(vc, c, cordon_keys);

    jv_t ws = member(vc, c, "workspace");
    if (ws.j && is_obj(vc, ws)) {
        static const char *const keys[] = {"mode", NULL};
        static const char *const modes[] = {"read-write", "read-only", "read-write-no-delete",
                                            NULL};
        check_keys(vc, ws, keys);
        int m;
        if (get_enum(vc, ws, "mode", modes, &m))
            s->cordon.workspace_mode = m == 0   ? CDN_WS_READ_WRITE
                                       : m == 1 ? CDN_WS_READ_ONLY
                                                : CDN_WS_READ_WRITE_NO_DELETE;
    }

    jv_t env = member(vc, c, "env");
    if (env.j && is_obj(vc, env)) {
        static const char *const keys[] = {"passthrough", "set", NULL};
        check_keys(vc, env, keys);
        get_strv(vc, env, "passthrough", check_env_name, 0, &s->cordon.env_passthrough);
        get_kv(vc, env, "set", false, &s->cordon.env_set, check_env_name);
    }

    get_paths(vc, c, "hide", true, &s->cordon.hide);
    get_strv(vc, c, "protect", check_protect, 0, &s->cordon.protect);

    jv_t ports = member(vc, c, "tcpPorts");
    if (ports.j && is_arr(vc, ports)) {
        size_t n = json_array_size(ports.j);
        s->cordon.tcp_ports = calloc(n ? n : 1, sizeof *s->cordon.tcp_ports);
        if (!s->cordon.tcp_ports) {
            vc->oom = true;
            return;
        }
        s->cordon.allow_tcp_ports_set = true;
        for (size_t i = 0; i < n; i++) {
            long p;
            if (int_value(vc, element(vc, ports, i), 1, 65535, &p))
                s->cordon.tcp_ports[s->cordon.n_tcp_ports++] = (int)p;
        }
    }

    jv_t local = member(vc, c, "allowLocalPorts");
    if (local.j && is_arr(vc, local)) {
        size_t n = json_array_size(local.j);
        if (n > CDN_SETTINGS_MAX_LOCAL_PORTS) {
            BAD(vc, local, "at most %d ports (each is a listening socket inside the sandbox)",
                CDN_SETTINGS_MAX_LOCAL_PORTS);
            return;
        }
        s->cordon.local_ports = calloc(n ? n : 1, sizeof *s->cordon.local_ports);
        if (!s->cordon.local_ports) {
            vc->oom = true;
            return;
        }
        for (size_t i = 0; i < n; i++) {
            long p;
            if (!int_value(vc, element(vc, local, i), 1, 65535, &p))
                continue;
            bool dup = false;
            for (size_t k = 0; k < s->cordon.n_local_ports; k++)
                dup |= s->cordon.local_ports[k] == (uint16_t)p;
            if (!dup)
                s->cordon.local_ports[s->cordon.n_local_ports++] = (uint16_t)p;
        }
    }
}

static void parse_root(vc_t *vc, jv_t root)
{
    check_keys(vc, root, top_keys);
    jv_t v;
    if ((v = member(vc, root, "network")).j && is_obj(vc, v))
        parse_network(vc, v);
    if ((v = member(vc, root, "filesystem")).j && is_obj(vc, v))
        parse_filesystem(vc, v);
    if ((v = member(vc, root, "credentials")).j && is_obj(vc, v))
        parse_credentials(vc, v, root);
    if ((v = member(vc, root, "ignoreViolations")).j)
        parse_ignore(vc, v);
    get_bool(vc, root, "enableWeakerNestedSandbox", &vc->s->enable_weaker_nested_sandbox);
    get_bool(vc, root, "allowNestedUserNamespaces", &vc->s->allow_nested_user_namespaces);
    parse_srt_impl(vc, root);
    if ((v = member(vc, root, "cordon")).j && is_obj(vc, v))
        parse_cordon(vc, v);
}

/* ---- entry points ------------------------------------------------------- */

static int cmp_problem(const void *a, const void *b)
{
    const problem_t *x = a, *y = b;
    if (x->pos.line != y->pos.line)
        return x->pos.line < y->pos.line ? -1 : 1;
    if (x->pos.col != y->pos.col)
        return x->pos.col < y->pos.col ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* jansson counts columns in characters; cordon reports bytes. */
static unsigned byte_column(const char *buf, size_t len, int line, int col)
{
    size_t i = 0;
    for (int l = 1; l < line && i < len; i++)
        if (buf[i] == '\n')
            l++;
    size_t start = i;
    int chars = 0;
    for (; i < len && buf[i] != '\n'; i++) {
        if (((unsigned char)buf[i] & 0xC0) != 0x80 && ++chars == col)
            return (unsigned)(i - start) + 1;
    }
    return col <= 0 ? 1 : (unsigned)(i - start) + 1;
}

static void free_problems(vc_t *vc)
{
    for (size_t i = 0; i < vc->pn; i++)
        free(vc->pv[i].msg);
    free(vc->pv);
}

int cdn_settings_default(cdn_settings_t **out, cdn_error_t *err)
{
    cdn_settings_t *s = calloc(1, sizeof *s);
    if (!s)
        return cdn_error(err, ENOMEM, "out of memory");
    s->source = strdup("built-in default");
    if (!s->source) {
        free(s);
        return cdn_error(err, ENOMEM, "out of memory");
    }
    s->mandatory_deny_search_depth = -1;
    *out = s;
    return 0;
}

int cdn_settings_load_buffer(const char *name, const char *buf, size_t len, cdn_settings_t **out,
                             cdn_error_t *err)
{
    *out = NULL;
    if (len > CDN_JPOS_MAX_INPUT) {
        cdn_error_usage(err, "%s: settings file larger than %zu bytes", name, CDN_JPOS_MAX_INPUT);
        return cdn_error_hint(err, "settings are a short JSON file; is this the right file?");
    }
    size_t ws = 0;
    while (ws < len && strchr(" \t\r\n", buf[ws]) && buf[ws])
        ws++;
    if (ws == len) {
        cdn_error_usage(err, "%s:1:1: the settings file is empty", name);
        return cdn_error_hint(err, "write {} for the built-in default, or delete the file");
    }

    json_error_t jerr;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        unsigned line = jerr.line > 0 ? (unsigned)jerr.line : 1;
        return cdn_error_usage(err, "%s:%u:%u: %s", name, line,
                               byte_column(buf, len, (int)line, jerr.column), jerr.text);
    }

    cdn_jpos_t *idx = NULL;
    cdn_pos_t epos;
    if (cdn_jpos_build(buf, len, &idx, &epos, err) < 0) {
        json_decref(root);
        if (err->status == CDN_EXIT_USAGE)
            return cdn_error_wrap(err, "%s:%u:%u", name, epos.line, epos.col);
        return cdn_error_wrap(err, "%s", name);
    }
    if (!json_is_object(root)) {
        cdn_pos_t p = idx->nodes[0].val_pos;
        cdn_error_usage(err, "%s:%u:%u: the settings must be a JSON object, got %s", name, p.line,
                        p.col, type_name(root));
        json_decref(root);
        cdn_jpos_free(idx);
        return -1;
    }

    cdn_settings_t *s = NULL;
    if (cdn_settings_default(&s, err) < 0) {
        json_decref(root);
        cdn_jpos_free(idx);
        return -1;
    }
    free(s->source);
    s->source = strdup(name);
    vc_t vc = {.idx = idx, .s = s, .oom = !s->source};
    parse_root(&vc, (jv_t){root, 0});
    json_decref(root);
    cdn_jpos_free(idx);

    int r = 0;
    if (vc.oom) {
        r = cdn_error(err, ENOMEM, "%s: out of memory", name);
    } else if (vc.pn > 0) {
        qsort(vc.pv, vc.pn, sizeof *vc.pv, cmp_problem);
        char msg[sizeof err->msg];
        size_t used = 0;
        for (size_t i = 0; i < vc.pn && used + 1 < sizeof msg; i++) {
            int n = snprintf(msg + used, sizeof msg - used, "%s%s:%u:%u: %s", i ? "\n" : "", name,
                             vc.pv[i].pos.line, vc.pv[i].pos.col, vc.pv[i].msg);
            if (n < 0)
                break;
            used += (size_t)n;
        }
        r = cdn_error_usage(err, "%s", msg);
        if (vc.pn > 1)
            cdn_error_hint(err, "%zu problems in %s; the first is listed first", vc.pn, name);
    }
    free_problems(&vc);
    if (r < 0) {
        cdn_settings_free(s);
        return r;
    }
    *out = s;
    return 0;
}

int cdn_settings_load_file(const char *path, cdn_settings_t **out, cdn_error_t *err)
{
    *out = NULL;
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return cdn_error(err, errno, "cannot open settings file %s", path);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return cdn_error(err, errno, "cannot stat settings file %s", path);
    if (S_ISDIR(st.st_mode))
        return cdn_error(err, EISDIR, "cannot read settings file %s", path);
    /* Read one byte past the limit so an oversized file is told apart from
     * one that is exactly at it; pipes (--settings <(...)) work too. */
    _cleanup_free_ char *buf = malloc(CDN_JPOS_MAX_INPUT + 1);
    if (!buf)
        return cdn_error(err, ENOMEM, "out of memory");
    size_t len = 0;
    while (len < CDN_JPOS_MAX_INPUT + 1) {
        ssize_t n = read(fd, buf + len, CDN_JPOS_MAX_INPUT + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return cdn_error(err, errno, "cannot read settings file %s", path);
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (cdn_settings_load_buffer(path, buf, len, out, err) < 0)
        return -1;
    (*out)->from_file = true;
    return 0;
}

/* 1: present, 0: absent (ENOENT only), -1: error. */
static int probe(const char *path, cdn_error_t *err)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        return cdn_error(err, errno, "cannot access settings file %s", path);
    }
    if (S_ISDIR(st.st_mode))
        return cdn_error(err, EISDIR, "settings file %s", path);
    if (access(path, R_OK) < 0)
        return cdn_error(err, errno, "cannot read settings file %s", path);
    return 1;
}

int cdn_settings_locate(const char *explicit_path, const char *home, char **path_out,
                        cdn_error_t *err)
{
    *path_out = NULL;
    if (explicit_path) {
        int r = probe(explicit_path, err);
        if (r < 0)
            return r;
        if (r == 0) {
            cdn_error_usage(err, "settings file %s does not exist", explicit_path);
            return cdn_error_hint(err, "check the path given to --settings");
        }
        *path_out = strdup(explicit_path);
        return *path_out ? 0 : cdn_error(err, ENOMEM, "out of memory");
    }
    if (!home || !*home)
        return 0;
    static const char *const candidates[] = {"/.config/cordon/settings.json",
                                             "/.srt-settings.json"};
    for (size_t i = 0; i < CDN_ARRAY_SIZE(candidates); i++) {
        _cleanup_free_ char *p = NULL;
        if (asprintf(&p, "%s%s", home, candidates[i]) < 0)
            return cdn_error(err, ENOMEM, "out of memory");
        int r = probe(p, err);
        if (r < 0)
            return r;
        if (r > 0) {
            *path_out = steal_pointer(&p);
            return 0;
        }
    }
    return 0;
}

static void free_pathlist(cdn_pathlist_t *pl)
{
    for (size_t i = 0; i < pl->n; i++)
        free(pl->v[i].path);
    free(pl->v);
}

static void free_kvlist(cdn_kvlist_t *kl)
{
    for (size_t i = 0; i < kl->n; i++) {
        free(kl->v[i].key);
        free(kl->v[i].val);
    }
    free(kl->v);
}

static void free_cred_entries(cdn_cred_ent_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        cdn_strv_free(&v[i].inject_hosts);
    }
    free(v);
}

void cdn_settings_free(cdn_settings_t *s)
{
    if (!s)
        return;
    free(s->source);
    cdn_strv_free(&s->network.allowed_domains);
    cdn_strv_free(&s->network.denied_domains);
    free_kvlist(&s->network.denied_domain_reasons);
    cdn_strv_free(&s->network.denied_resolved_addresses);
    cdn_strv_free(&s->network.allow_unix_sockets);
    free(s->network.parent_proxy.http);
    free(s->network.parent_proxy.https);
    cdn_strv_free(&s->network.parent_proxy.no_proxy);
    free(s->network.mitm_proxy.socket_path);
    cdn_strv_free(&s->network.mitm_proxy.domains);
    free(s->network.tls_terminate.ca_cert_path);
    free(s->network.tls_terminate.ca_key_path);
    cdn_strv_free(&s->network.tls_terminate.exclude_domains);
    cdn_strv_free(&s->network.tls_terminate.extra_ca_cert_paths);
    free_pathlist(&s->filesystem.deny_read);
    free_pathlist(&s->filesystem.allow_read);
    free_pathlist(&s->filesystem.allow_write);
    free_pathlist(&s->filesystem.deny_write);
    for (size_t i = 0; i < s->n_ignore_violations; i++) {
        free(s->ignore_violations[i].command_pattern);
        cdn_strv_free(&s->ignore_violations[i].paths);
    }
    free(s->ignore_violations);
    cdn_strv_free(&s->credentials.env_vars);
    cdn_strv_free(&s->credentials.files);
    cdn_strv_free(&s->credentials.inject_hosts);
    free_cred_entries(s->credentials.env_entries, s->credentials.n_env_entries);
    free_cred_entries(s->credentials.file_entries, s->credentials.n_file_entries);
    cdn_strv_free(&s->cordon.env_passthrough);
    free_kvlist(&s->cordon.env_set);
    free_pathlist(&s->cordon.hide);
    cdn_strv_free(&s->cordon.protect);
    free(s->cordon.tcp_ports);
    free(s->cordon.local_ports);
    cdn_strv_free(&s->not_enforced);
    free(s);
}
