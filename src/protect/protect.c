/* Protected-path classification.
 *
 * Pattern language (built-ins and settings "cordon.protect"), matched
 * component-wise and case-sensitively against the path relative to the
 * writable root, at any depth:
 *
 *   "name"   no '/': a final component equal to name        ".bashrc"
 *   "a/b"    '/' inside: the path ends with these components ".git/config"
 *   "a/b/"   trailing '/': everything strictly inside a folder
 *            whose path ends with these components          ".claude/commands/"
 *
 * A path that is such a folder, or that ends with a leading part of a
 * multi-component pattern (".git" for ".git/hooks/", ".claude" for
 * ".claude/commands/"), is DIR_PREFIX: moving a prepared directory there
 * would plant protected content without any write the classifier sees.
 *
 * Rejected patterns: empty, absolute, with an empty component ("//"), or
 * with a "." or ".." component; none of these can match a normalised path.
 *
 * Git's own layout is handled in code rather than as patterns because it
 * needs "**" (submodule git dirs nest: .git/modules/a/modules/b/) and a
 * class of its own (config may be rewritten with validated content). */
#include "protect/protect.h"

#include "util/cleanup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const builtin_patterns[] = {
    ".bashrc",           ".bash_profile",   ".bash_login", ".bash_logout", ".zshrc",
    ".zprofile",         ".zshenv",         ".zlogin",     ".profile",     ".gitconfig",
    ".gitmodules",       ".ripgreprc",      ".mcp.json",   ".vscode/",     ".idea/",
    ".claude/commands/", ".claude/agents/", ".cordon/",    ".git/hooks/",
};

static int check_pattern(const char *pat, cdn_error_t *err)
{
    size_t n = strlen(pat);
    if (n == 0)
        return cdn_error_usage(err, "protect pattern is empty");
    if (pat[0] == '/')
        return cdn_error_usage(err,
                               "protect pattern \"%s\" is absolute; patterns are "
                               "relative and match at any depth",
                               pat);
    if (strstr(pat, "//"))
        return cdn_error_usage(err, "protect pattern \"%s\" has an empty component", pat);
    size_t end = pat[n - 1] == '/' ? n - 1 : n;
    for (size_t i = 0; i < end;) {
        size_t j = i;
        while (j < end && pat[j] != '/')
            j++;
        if ((j - i == 1 && pat[i] == '.') || (j - i == 2 && pat[i] == '.' && pat[i + 1] == '.'))
            return cdn_error_usage(err, "protect pattern \"%s\" has a \".\" or \"..\" component",
                                   pat);
        i = j + 1;
    }
    return 0;
}

int cdn_protect_init(cdn_protect_t *p, const cdn_strv_t *extra, bool allow_git_config,
                     cdn_error_t *err)
{
    memset(p, 0, sizeof *p);
    p->allow_git_config = allow_git_config;
    for (size_t i = 0; i < CDN_ARRAY_SIZE(builtin_patterns); i++)
        if (cdn_strv_add(&p->patterns, builtin_patterns[i], err) < 0)
            goto fail;
    for (size_t i = 0; extra && i < extra->n; i++) {
        if (check_pattern(extra->v[i], err) < 0) {
            cdn_error_hint(err, "use \"name\", \"dir/name\" or \"dir/\" (see cordon.protect)");
            goto fail;
        }
        if (cdn_strv_add(&p->patterns, extra->v[i], err) < 0)
            goto fail;
    }
    return 0;
fail:
    cdn_protect_free(p);
    return -1;
}

void cdn_protect_free(cdn_protect_t *p)
{
    cdn_strv_free(&p->patterns);
    p->allow_git_config = false;
}

/* rel is "/c1/c2/.../cn" (or "" for the root itself). */
static bool ends_with_comps(const char *rel, size_t rl, const char *pat, size_t pl)
{
    if (pl + 1 > rl)
        return false;
    return rel[rl - pl - 1] == '/' && memcmp(rel + rl - pl, pat, pl) == 0;
}

static bool strictly_inside(const char *rel, size_t rl, const char *dir, size_t dl)
{
    /* Look for "/dir/" followed by at least one more character. */
    for (const char *s = rel; s < rel + rl;) {
        const char *hit = memmem(s, rl - (size_t)(s - rel), dir, dl);
        if (!hit)
            return false;
        size_t off = (size_t)(hit - rel);
        if (off > 0 && rel[off - 1] == '/' && off + dl + 1 < rl && rel[off + dl] == '/')
            return true;
        s = hit + 1;
    }
    return false;
}

/* Does rel end with a leading part c1..ck of pattern (k < n, or k == n when
 * allow_full)? */
static bool ends_with_pattern_prefix(const char *rel, size_t rl, const char *pat, size_t pl,
                                     bool allow_full)
{
    for (size_t k = 1; k <= pl; k++) {
        if (k < pl && pat[k] != '/')
            continue;
        if (k == pl && !allow_full)
            break;
        if (ends_with_comps(rel, rl, pat, k))
            return true;
    }
    return false;
}

static size_t comp_len(const char *s, const char *end)
{
    const char *e = memchr(s, '/', (size_t)(end - s));
    return e ? (size_t)(e - s) : (size_t)(end - s);
}

static bool comp_is(const char *s, size_t n, const char *name)
{
    return strlen(name) == n && memcmp(s, name, n) == 0;
}

/* Git's internal directories, under a submodule git dir, that hold refs and
 * objects rather than anything git executes or reads as configuration. */
static bool is_git_data_dir(const char *s, size_t n)
{
    return comp_is(s, n, "objects") || comp_is(s, n, "refs") || comp_is(s, n, "logs");
}

/* Files git itself keeps at the top of a git dir and replaces by renaming a
 * lock file onto them; none is a folder that could hold hooks. */
static bool is_git_dir_file(const char *s, size_t n)
{
    static const char *const names[] = {
        "HEAD",           "ORIG_HEAD",  "FETCH_HEAD", "MERGE_HEAD",  "CHERRY_PICK_HEAD",
        "REVERT_HEAD",    "AUTO_MERGE", "index",      "packed-refs", "description",
        "COMMIT_EDITMSG", "shallow",    "gitdir"};
    for (size_t i = 0; i < CDN_ARRAY_SIZE(names); i++)
        if (comp_is(s, n, names[i]))
            return true;
    return n > 5 && memcmp(s + n - 5, ".lock", 5) == 0;
}

static cdn_protect_class_t gitconfig_class(const cdn_protect_t *p)
{
    return p->allow_git_config ? CDN_PROT_NONE : CDN_PROT_GITCONFIG;
}

/* Everything under ".git/modules/": submodule git dirs, whose names may
 * contain '/', nest as .git/modules/a/modules/b, so any non-final "hooks"
 * component is treated as a hooks folder and any final "config" as config.
 * Any other folder there might become a submodule git dir (DIR_PREFIX),
 * except inside objects/, refs/, logs/ and git's own top-level files, which
 * git replaces by rename all the time.  Returns -1 if the path is not under
 * .git/modules. */
static int classify_modules(const cdn_protect_t *p, const char *rel, size_t rl)
{
    static const char key[] = "/.git/modules";
    const size_t kl = sizeof key - 1;
    const char *end = rel + rl;
    const char *hit = NULL;
    for (const char *s = rel; s < end;) {
        const char *h = memmem(s, (size_t)(end - s), key, kl);
        if (!h)
            break;
        if (h + kl == end || h[kl] == '/') {
            hit = h;
            break;
        }
        s = h + 1;
    }
    if (!hit)
        return -1;
    const char *r = hit + kl;
    if (r == end)
        return CDN_PROT_DIR_PREFIX;
    r++; /* skip '/' */
    size_t ncomp = 0;
    bool in_data = false;
    for (const char *c = r; c < end;) {
        size_t n = comp_len(c, end);
        bool last = c + n == end;
        if (!last && ncomp >= 1 && comp_is(c, n, "hooks"))
            return CDN_PROT_FILE;
        if (last && ncomp >= 1 && (comp_is(c, n, "config") || comp_is(c, n, "config.worktree")))
            return (int)gitconfig_class(p);
        if (!last && ncomp >= 1 && is_git_data_dir(c, n))
            in_data = true;
        if (last && ncomp >= 1 && is_git_dir_file(c, n))
            in_data = true;
        ncomp++;
        c += n + (last ? 0 : 1);
    }
    return in_data ? CDN_PROT_NONE : CDN_PROT_DIR_PREFIX;
}

/* ".git/worktrees", ".git/worktrees/NAME" and NAME's config.worktree (the
 * per-worktree config, read when extensions.worktreeConfig is set). */
static int classify_worktrees(const cdn_protect_t *p, const char *rel, size_t rl)
{
    static const char key[] = "/.git/worktrees";
    const size_t kl = sizeof key - 1;
    if (ends_with_comps(rel, rl, key + 1, kl - 1))
        return CDN_PROT_DIR_PREFIX;
    /* ".../.git/worktrees/NAME" and ".../.git/worktrees/NAME/config.worktree" */
    const char *end = rel + rl;
    const char *last = end;
    while (last > rel && last[-1] != '/')
        last--;
    if (last == rel)
        return -1;
    const char *name_end = last - 1; /* the '/' before the final component */
    if ((size_t)(name_end - rel) >= kl && memcmp(name_end - kl, key, kl) == 0)
        return CDN_PROT_DIR_PREFIX;
    if (!comp_is(last, (size_t)(end - last), "config.worktree"))
        return -1;
    const char *name = name_end;
    while (name > rel && name[-1] != '/')
        name--;
    if (name == rel || name == name_end)
        return -1;
    const char *slash = name - 1;
    if ((size_t)(slash - rel) >= kl && memcmp(slash - kl, key, kl) == 0)
        return (int)gitconfig_class(p);
    return -1;
}

cdn_protect_class_t cdn_protect_classify(const cdn_protect_t *p, const char *root, const char *path)
{
    if (!root || !path || root[0] != '/' || path[0] != '/')
        return CDN_PROT_NONE;
    size_t rootl = strlen(root);
    while (rootl > 0 && root[rootl - 1] == '/')
        rootl--;
    if (strncmp(path, root, rootl) != 0 || (path[rootl] != '/' && path[rootl] != '\0'))
        return CDN_PROT_NONE;
    const char *rel = path + rootl;
    size_t rl = strlen(rel);
    while (rl > 0 && rel[rl - 1] == '/')
        rl--;
    if (rl == 0)
        return CDN_PROT_NONE;

    if (ends_with_comps(rel, rl, ".git/config", 11) ||
        ends_with_comps(rel, rl, ".git/config.worktree", 20))
        return gitconfig_class(p);
    /* Any git dir's "commondir" file moves its hooks and config elsewhere. */
    if (ends_with_comps(rel, rl, "commondir", 9) && memmem(rel, rl, "/.git/", 6))
        return CDN_PROT_FILE;
    int c = classify_worktrees(p, rel, rl);
    if (c >= 0)
        return (cdn_protect_class_t)c;

    bool prefix = false;
    for (size_t i = 0; i < p->patterns.n; i++) {
        const char *pat = p->patterns.v[i];
        size_t pl = strlen(pat);
        if (pl == 0)
            continue;
        if (pat[pl - 1] == '/') {
            if (strictly_inside(rel, rl, pat, pl - 1))
                return CDN_PROT_FILE;
            if (!prefix && ends_with_pattern_prefix(rel, rl, pat, pl - 1, true))
                prefix = true;
        } else {
            if (ends_with_comps(rel, rl, pat, pl))
                return CDN_PROT_FILE;
            if (!prefix && ends_with_pattern_prefix(rel, rl, pat, pl, false))
                prefix = true;
        }
    }
    c = classify_modules(p, rel, rl);
    if (c >= 0 && c != CDN_PROT_NONE)
        return (cdn_protect_class_t)c;
    if (prefix || ends_with_comps(rel, rl, ".git", 4))
        return CDN_PROT_DIR_PREFIX;
    return CDN_PROT_NONE;
}

bool cdn_protect_is_inert_hook_name(const char *name)
{
    static const char suffix[] = ".sample";
    const size_t sl = sizeof suffix - 1;
    size_t n = strlen(name);
    if (n <= sl || strchr(name, '/'))
        return false;
    return memcmp(name + n - sl, suffix, sl) == 0;
}

bool cdn_protect_path_under(const char *root, const char *path)
{
    if (!root || !path || root[0] != '/' || path[0] != '/')
        return false;
    size_t rootl = strlen(root);
    while (rootl > 0 && root[rootl - 1] == '/')
        rootl--;
    return strncmp(path, root, rootl) == 0 && (path[rootl] == '/' || path[rootl] == '\0');
}

int cdn_protect_lexical_join(const char *dir, const char *rel, size_t rel_len, char *out,
                             size_t out_len)
{
    size_t nl = 0;
    if (out_len == 0 || ((rel_len == 0 || rel[0] != '/') && (!dir || dir[0] != '/')))
        return -1;
    if (rel_len == 0 || rel[0] != '/') {
        size_t dl = strlen(dir);
        if (dl >= out_len)
            return -1;
        memcpy(out, dir, dl);
        nl = dl;
        while (nl > 0 && out[nl - 1] == '/')
            nl--;
    }
    const char *end = rel + rel_len;
    for (const char *c = rel; c < end;) {
        while (c < end && *c == '/')
            c++;
        if (c == end)
            break;
        const char *e = memchr(c, '/', (size_t)(end - c));
        if (!e)
            e = end;
        size_t n = (size_t)(e - c);
        if (memchr(c, '\0', n))
            return -1;
        if (n == 1 && c[0] == '.') {
        } else if (n == 2 && c[0] == '.' && c[1] == '.') {
            while (nl > 0 && out[nl - 1] != '/')
                nl--;
            if (nl > 0)
                nl--;
        } else {
            if (nl + 1 + n >= out_len)
                return -1;
            out[nl++] = '/';
            memcpy(out + nl, c, n);
            nl += n;
        }
        c = e;
    }
    if (nl == 0)
        out[nl++] = '/';
    out[nl] = '\0';
    return (int)nl;
}

/* Where a ".git" file or a commondir file sends git must be a git dir the
 * classifier guards: ".../.git", ".../.git/modules/...", and for ".git"
 * files also ".../.git/worktrees/NAME" (whose hooks come from its
 * commondir, itself checked). */
static bool link_target_ok(const char *file_path, const char *target, size_t tl,
                           bool allow_worktree)
{
    char dir[4096];
    char norm[4096];
    if (!file_path || file_path[0] != '/')
        return false;
    while (tl > 0 && (target[tl - 1] == '\n' || target[tl - 1] == '\r'))
        tl--;
    if (tl == 0 || memchr(target, '\n', tl) || memchr(target, '\r', tl))
        return false;
    const char *slash = strrchr(file_path, '/');
    size_t dl = (size_t)(slash - file_path);
    if (dl + 2 > sizeof dir)
        return false;
    memcpy(dir, file_path, dl);
    if (dl == 0)
        dir[dl++] = '/';
    dir[dl] = '\0';
    int r = cdn_protect_lexical_join(dir, target, tl, norm, sizeof norm);
    if (r < 0)
        return false;
    size_t nl = (size_t)r;
    if (ends_with_comps(norm, nl, ".git", 4))
        return true;
    if (strstr(norm, "/.git/modules/"))
        return true;
    if (!allow_worktree)
        return false;
    const char *last = strrchr(norm, '/');
    if (!last || last[1] == '\0')
        return false;
    return ends_with_comps(norm, (size_t)(last - norm), ".git/worktrees", 14);
}

bool cdn_protect_gitfile_is_safe(const char *gitfile_path, const char *buf, size_t len)
{
    static const char prefix[] = "gitdir: ";
    const size_t pfl = sizeof prefix - 1;
    if (!buf || len <= pfl || memcmp(buf, prefix, pfl) != 0)
        return false;
    return link_target_ok(gitfile_path, buf + pfl, len - pfl, true);
}

bool cdn_protect_commondir_is_safe(const char *commondir_path, const char *buf, size_t len)
{
    if (!buf)
        return false;
    return link_target_ok(commondir_path, buf, len, false);
}
