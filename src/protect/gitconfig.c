/* A strict reader of git's config syntax (git-config(1), "CONFIGURATION
 * FILE"), following git 2.39's config.c closely so that what we check is
 * what git will read: a disagreement in either direction is rejected, never
 * guessed.  Each key must be on a fixed allowlist of keys that make git run
 * nothing and fetch only from where the user would expect. */
#include "protect/gitconfig.h"

#include "protect/protect.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define LINE_MAX_BYTES (8 * 1024)
#define NAME_MAX_BYTES 64
#define SUB_MAX_BYTES 1024
#define VALUE_MAX_BYTES (8 * 1024)

struct allowed;

struct reader {
    const char *buf;
    size_t len, pos;
    unsigned line;
    bool eof;
    char *why;
    size_t why_len;
    const char *config_path; /* may be NULL: then core.worktree is refused */
    const char *root;
    const struct allowed *allow;
    size_t n_allow;
};

static bool fail(struct reader *r, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail(struct reader *r, unsigned line, const char *fmt, ...)
{
    if (r->why && r->why_len) {
        int n = snprintf(r->why, r->why_len, "line %u: ", line);
        if (n >= 0 && (size_t)n < r->why_len) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(r->why + n, r->why_len - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return false;
}

/* Like git's get_next_char(): CRLF reads as LF, end of input as LF. */
static int next(struct reader *r)
{
    if (r->pos >= r->len) {
        if (!r->eof)
            r->line++;
        r->eof = true;
        return '\n';
    }
    int c = (unsigned char)r->buf[r->pos++];
    if (c == '\r' && r->pos < r->len && r->buf[r->pos] == '\n') {
        r->pos++;
        c = '\n';
    }
    if (c == '\n')
        r->line++;
    return c;
}

static bool iskeychar(int c)
{
    return isalnum(c) || c == '-';
}

struct var {
    char section[NAME_MAX_BYTES + 1];
    char sub[SUB_MAX_BYTES + 1];
    bool has_sub;
    char key[NAME_MAX_BYTES + 1];
    char value[VALUE_MAX_BYTES + 1];
    size_t value_len;
    bool has_value;
};

/* After '[': "[name]", "[name "sub"]" or legacy "[name.sub]". */
static bool parse_header(struct reader *r, struct var *v)
{
    unsigned line = r->line + 1;
    size_t n = 0;
    char name[NAME_MAX_BYTES + 1];
    int c;
    for (;;) {
        c = next(r);
        if (c == ']' || isspace(c))
            break;
        if (!iskeychar(c) && c != '.')
            return fail(r, line, "bad character in section header");
        if (n >= NAME_MAX_BYTES)
            return fail(r, line, "section name too long");
        name[n++] = (char)tolower(c);
    }
    name[n] = '\0';
    if (c == '\n')
        return fail(r, line, "unterminated section header");
    if (n == 0)
        return fail(r, line, "empty section name");

    v->has_sub = false;
    v->sub[0] = '\0';
    char *dot = strchr(name, '.');
    if (c == ']') {
        if (dot) {
            /* Legacy "[section.sub]": git lowercases the whole of it. */
            *dot = '\0';
            if (dot == name || dot[1] == '\0')
                return fail(r, line, "empty part in section header");
            snprintf(v->sub, sizeof v->sub, "%s", dot + 1);
            v->has_sub = true;
        }
        snprintf(v->section, sizeof v->section, "%s", name);
        return true;
    }
    if (dot)
        return fail(r, line, "dotted section name with a quoted subsection");
    do {
        if (c == '\n')
            return fail(r, line, "unterminated section header");
        c = next(r);
    } while (isspace(c));
    if (c != '"')
        return fail(r, line, "expected '\"' in section header");
    size_t sn = 0;
    for (;;) {
        c = next(r);
        if (c == '\n')
            return fail(r, line, "unterminated subsection");
        if (c == '"')
            break;
        if (c == '\\') {
            c = next(r);
            if (c == '\n')
                return fail(r, line, "unterminated subsection");
        }
        if (sn >= SUB_MAX_BYTES)
            return fail(r, line, "subsection name too long");
        v->sub[sn++] = (char)c;
    }
    v->sub[sn] = '\0';
    if (next(r) != ']')
        return fail(r, line, "expected ']' after subsection");
    v->has_sub = true;
    snprintf(v->section, sizeof v->section, "%s", name);
    return true;
}

/* After '=': git's parse_value(). */
static bool parse_value(struct reader *r, struct var *v, unsigned line)
{
    bool quote = false, comment = false;
    size_t space = 0, n = 0;
    for (;;) {
        int c = next(r);
        if (c == '\n') {
            if (quote)
                return fail(r, line, "unterminated quote in value of %s", v->key);
            break;
        }
        if (comment)
            continue;
        if (isspace(c) && !quote) {
            if (n)
                space++;
            continue;
        }
        if (!quote && (c == ';' || c == '#')) {
            comment = true;
            continue;
        }
        for (; space; space--) {
            if (n >= VALUE_MAX_BYTES)
                return fail(r, line, "value too long");
            v->value[n++] = ' ';
        }
        if (c == '\\') {
            c = next(r);
            switch (c) {
            case '\n':
                if (r->eof)
                    return fail(r, line, "backslash at end of input");
                continue;
            case 't':
                c = '\t';
                break;
            case 'b':
                c = '\b';
                break;
            case 'n':
                c = '\n';
                break;
            case '\\':
            case '"':
                break;
            default:
                return fail(r, line, "unknown escape in value of %s", v->key);
            }
        } else if (c == '"') {
            quote = !quote;
            continue;
        }
        if (n >= VALUE_MAX_BYTES)
            return fail(r, line, "value too long");
        v->value[n++] = (char)c;
    }
    v->value[n] = '\0';
    v->value_len = n;
    return true;
}

enum value_check { V_ANY, V_URL, V_TAGOPT, V_WORKTREE, V_UPDATE };

struct allowed {
    const char *section;
    bool sub; /* true: needs a subsection (the <name>); false: must have none */
    const char *key;
    enum value_check check;
};

static const struct allowed allowlist[] = {
    {"core", false, "repositoryformatversion", V_ANY},
    {"core", false, "filemode", V_ANY},
    {"core", false, "bare", V_ANY},
    {"core", false, "logallrefupdates", V_ANY},
    {"core", false, "ignorecase", V_ANY},
    {"core", false, "precomposeunicode", V_ANY},
    {"core", false, "symlinks", V_ANY},
    {"core", false, "autocrlf", V_ANY},
    {"core", false, "eol", V_ANY},
    {"core", false, "safecrlf", V_ANY},
    /* Submodule git dirs (.git/modules/NAME/config) point back at their
     * checkout; elsewhere it would let a later host-side checkout write
     * outside the workspace, so it must resolve inside root. */
    {"core", false, "worktree", V_WORKTREE},
    {"extensions", false, "objectformat", V_ANY},
    {"extensions", false, "worktreeconfig", V_ANY},
    /* git clone --filter: lazy fetches go to the named remote, whose URL is
     * checked like any other. */
    {"extensions", false, "partialclone", V_URL},
    {"init", false, "defaultbranch", V_ANY},
    {"user", false, "name", V_ANY},
    {"user", false, "email", V_ANY},
    {"remote", true, "url", V_URL},
    {"remote", true, "pushurl", V_URL},
    {"remote", true, "fetch", V_ANY},
    {"remote", true, "push", V_ANY},
    {"remote", true, "tagopt", V_TAGOPT},          /* git clone --no-tags */
    {"remote", true, "mirror", V_ANY},             /* git clone --mirror */
    {"remote", true, "promisor", V_ANY},           /* git clone --filter */
    {"remote", true, "partialclonefilter", V_ANY}, /* git clone --filter */
    {"branch", true, "remote", V_URL},             /* may be a URL as well as a remote name */
    {"branch", true, "merge", V_ANY},
    {"branch", true, "rebase", V_ANY},
    {"submodule", true, "url", V_URL},
    {"submodule", true, "active", V_ANY},
    {"submodule", false, "active", V_ANY}, /* git clone --recurse-submodules */
    {"gc", false, "auto", V_ANY},
    {"pull", false, "rebase", V_ANY},
    {"push", false, "default", V_ANY},
    {"fetch", false, "prune", V_ANY},
    {"color", false, "ui", V_ANY},
};

/* .gitmodules is committed content that git reads on clone and checkout;
 * git already ignores "update = !cmd" from it, but it is checked anyway. */
static const struct allowed gitmodules_allowlist[] = {
    {"submodule", true, "path", V_ANY},      {"submodule", true, "url", V_URL},
    {"submodule", true, "branch", V_ANY},    {"submodule", true, "shallow", V_ANY},
    {"submodule", true, "ignore", V_ANY},    {"submodule", true, "fetchrecursesubmodules", V_ANY},
    {"submodule", true, "update", V_UPDATE},
};

static bool is_scheme_char(int c, bool first)
{
    return first ? isalpha(c) : (isalnum(c) || c == '+' || c == '.' || c == '-');
}

/* NULL if the URL makes git use only its own transports, else why not. */
static const char *url_problem(const char *u, size_t n)
{
    static const char *const schemes[] = {"http",    "https",   "ssh", "git", "file",
                                          "git+ssh", "ssh+git", "ftp", "ftps"};
    if (n == 0)
        return NULL;
    if (u[0] == '-')
        return "starts with '-' (option injection)";
    for (size_t i = 0; i < n; i++)
        if (iscntrl((unsigned char)u[i]))
            return "contains a control character";
    size_t s = 0;
    while (s < n && is_scheme_char((unsigned char)u[s], s == 0))
        s++;
    if (s > 0 && s + 1 < n && u[s] == ':' && u[s + 1] == ':')
        return "uses a \"<transport>::\" remote helper";
    if (s > 0 && s + 2 < n && memcmp(u + s, "://", 3) == 0) {
        bool known = false;
        for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
            if (strlen(schemes[i]) == s && strncasecmp(u, schemes[i], s) == 0)
                known = true;
        if (!known)
            return "has a scheme that runs a git-remote-<scheme> helper";
        if (u[s + 3] == '-' || memmem(u, n, "@-", 2))
            return "has a host starting with '-' (option injection)";
    }
    return NULL;
}

static bool worktree_ok(const struct reader *r, const struct var *v)
{
    char dir[4096], out[4096];
    if (!r->config_path || !r->root || r->config_path[0] != '/' || v->value_len == 0)
        return false;
    /* git resolves a relative core.worktree against the git dir, the folder
     * holding the config file. */
    const char *slash = strrchr(r->config_path, '/');
    size_t dl = (size_t)(slash - r->config_path);
    if (dl + 2 > sizeof dir)
        return false;
    memcpy(dir, r->config_path, dl);
    if (dl == 0)
        dir[dl++] = '/';
    dir[dl] = '\0';
    if (cdn_protect_lexical_join(dir, v->value, v->value_len, out, sizeof out) < 0)
        return false;
    return cdn_protect_path_under(r->root, out);
}

static bool check_var(struct reader *r, const struct var *v, unsigned line)
{
    for (size_t i = 0; i < r->n_allow; i++) {
        const struct allowed *a = &r->allow[i];
        if (a->sub != v->has_sub || strcmp(a->section, v->section) != 0 ||
            strcmp(a->key, v->key) != 0)
            continue;
        if (!v->has_value)
            return true;
        if (a->check == V_URL) {
            const char *why = url_problem(v->value, v->value_len);
            if (why)
                return fail(r, line, "value of %s.%s %s", v->section, v->key, why);
        } else if (a->check == V_WORKTREE) {
            if (!worktree_ok(r, v))
                return fail(r, line, "core.worktree \"%s\" is not inside the writable root",
                            v->value);
        } else if (a->check == V_UPDATE) {
            if (strcmp(v->value, "checkout") != 0 && strcmp(v->value, "rebase") != 0 &&
                strcmp(v->value, "merge") != 0 && strcmp(v->value, "none") != 0)
                return fail(r, line, "value of %s.%s is not checkout, rebase, merge or none",
                            v->section, v->key);
        } else if (a->check == V_TAGOPT) {
            if (strcmp(v->value, "--no-tags") != 0 && strcmp(v->value, "--tags") != 0)
                return fail(r, line, "value of %s.%s is not --tags or --no-tags", v->section,
                            v->key);
        }
        return true;
    }
    if (v->has_sub)
        return fail(r, line,
                    "key %s.<%s>.%s is not on the list of harmless keys (it could "
                    "make git run a program or fetch elsewhere)",
                    v->section, v->sub, v->key);
    return fail(r, line,
                "key %s.%s is not on the list of harmless keys (it could make git "
                "run a program or fetch elsewhere)",
                v->section, v->key);
}

/* Cheap whole-input limits first, so the parser never sees odd bytes. */
static bool check_bounds(struct reader *r)
{
    if (r->len > CDN_GITCONFIG_MAX)
        return fail(r, 0, "config larger than %d bytes", CDN_GITCONFIG_MAX);
    unsigned line = 1;
    size_t start = 0;
    for (size_t i = 0; i < r->len; i++) {
        if (r->buf[i] == '\0')
            return fail(r, line, "NUL byte");
        if (r->buf[i] == '\n') {
            line++;
            start = i + 1;
        } else if (i - start >= LINE_MAX_BYTES) {
            return fail(r, line, "line longer than %d bytes", LINE_MAX_BYTES);
        }
    }
    return true;
}

static bool parse_all(struct reader *r);

bool cdn_gitconfig_is_safe(const char *buf, size_t len, char *why, size_t why_len)
{
    return cdn_gitconfig_is_safe_at(buf, len, NULL, NULL, why, why_len);
}

bool cdn_gitconfig_is_safe_at(const char *buf, size_t len, const char *config_path,
                              const char *root, char *why, size_t why_len)
{
    struct reader r = {.buf = buf,
                       .len = len,
                       .why = why,
                       .why_len = why_len,
                       .config_path = config_path,
                       .root = root,
                       .allow = allowlist,
                       .n_allow = sizeof allowlist / sizeof allowlist[0]};
    return parse_all(&r);
}

bool cdn_gitmodules_is_safe(const char *buf, size_t len, char *why, size_t why_len)
{
    struct reader r = {.buf = buf,
                       .len = len,
                       .why = why,
                       .why_len = why_len,
                       .allow = gitmodules_allowlist,
                       .n_allow = sizeof gitmodules_allowlist / sizeof gitmodules_allowlist[0]};
    return parse_all(&r);
}

static bool parse_all(struct reader *rp)
{
    struct reader r = *rp;
    /* Too large for the stack of a supervisor thread; one at a time is enough. */
    static __thread struct var v;
    bool have_section = false;

    if (r.why && r.why_len)
        r.why[0] = '\0';
    if (!r.buf && r.len)
        return fail(&r, 0, "no buffer");
    if (!check_bounds(&r))
        return false;
    if (r.len >= 3 && memcmp(r.buf, "\xef\xbb\xbf", 3) == 0)
        r.pos = 3; /* git skips a UTF-8 BOM */

    bool comment = false;
    for (;;) {
        int c = next(&r);
        if (c == '\n') {
            if (r.eof)
                return true;
            comment = false;
            continue;
        }
        if (comment || isspace(c))
            continue;
        if (c == '#' || c == ';') {
            comment = true;
            continue;
        }
        unsigned line = r.line + 1;
        if (c == '[') {
            if (!parse_header(&r, &v))
                return false;
            have_section = true;
            continue;
        }
        if (!isalpha(c))
            return fail(&r, line, "unexpected character '%c'", isprint(c) ? c : '?');
        if (!have_section)
            return fail(&r, line, "key outside any section");
        size_t n = 0;
        for (;;) {
            if (n >= NAME_MAX_BYTES)
                return fail(&r, line, "key name too long");
            v.key[n++] = (char)tolower(c);
            c = next(&r);
            if (!iskeychar(c))
                break;
        }
        v.key[n] = '\0';
        while (c == ' ' || c == '\t')
            c = next(&r);
        v.has_value = false;
        v.value[0] = '\0';
        v.value_len = 0;
        if (c != '\n') {
            if (c != '=')
                return fail(&r, line, "expected '=' after key %s", v.key);
            if (!parse_value(&r, &v, line))
                return false;
            v.has_value = true;
        }
        if (!check_var(&r, &v, line))
            return false;
        if (r.eof)
            return true;
    }
}
