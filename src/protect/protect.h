/* Protected paths: persistence vectors inside writable places (shell rc
 * files, git hooks and config, editor task folders, agent command folders,
 * cordon's own project folder), at any depth and whether or not they exist
 * yet.  Pure functions over path strings; the supervisor decides with them
 * at the moment of each write, so nothing is scanned in advance.
 *
 * Intended use by the supervisor, per resolved target path:
 *   FILE        deny create/write/truncate/unlink/rename to or from, link,
 *               symlink, mknod; except (a) creating a file whose name passes
 *               cdn_protect_is_inert_hook_name() (git init's *.sample
 *               templates), and (b) a ".gitmodules" whose new content passes
 *               cdn_gitmodules_is_safe() (git clone/checkout/submodule add),
 *               (c) a git dir's "commondir" whose content passes
 *               cdn_protect_commondir_is_safe() (git worktree add).
 *   GITCONFIG   git writes config.lock and renames it onto config: allow the
 *               rename only if the source's content passes
 *               cdn_gitconfig_is_safe_at(); deny direct opens for write.
 *   DIR_PREFIX  mkdir is fine; renaming a DIRECTORY onto it (or moving it
 *               away and back) is not.  Renaming a regular file onto it is
 *               harmless, except at a path named ".git": a regular file
 *               created or renamed there is a gitdir link; check its
 *               content with cdn_protect_gitfile_is_safe().
 * Paths are compared as strings: the caller resolves symlinks first. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/strv.h"

typedef enum cdn_protect_class {
    CDN_PROT_NONE = 0,
    CDN_PROT_FILE,       /* a protected file or something inside a protected folder */
    CDN_PROT_GITCONFIG,  /* .git/config: replaceable only by validated content */
    CDN_PROT_DIR_PREFIX, /* the path is, or leads to, a protected folder (".git",
                            ".claude", ".vscode", ".git/hooks"): creating it is fine,
                            renaming something onto it is not */
} cdn_protect_class_t;

typedef struct cdn_protect {
    cdn_strv_t patterns; /* see protect.c for the pattern language */
    bool allow_git_config;
} cdn_protect_t;

/* The built-in patterns (srt's list plus ".cordon/"), then `extra`. */
int cdn_protect_init(cdn_protect_t *p, const cdn_strv_t *extra, bool allow_git_config,
                     cdn_error_t *err);
void cdn_protect_free(cdn_protect_t *p);

/* Classify `path` (absolute, normalised) as seen inside a writable root
 * `root` (absolute, normalised; path must be under it, else NONE). */
cdn_protect_class_t cdn_protect_classify(const cdn_protect_t *p, const char *root,
                                         const char *path);

/* Validate the content of a regular FILE named ".git" (worktrees and
 * submodules write "gitdir: <path>"): true only if it points at a git dir
 * the classifier protects (".../.git", ".../.git/worktrees/NAME",
 * ".../.git/modules/..."), resolved lexically against gitfile_path's folder.
 * The supervisor should use it when a regular file is created or written
 * at a DIR_PREFIX path whose last component is ".git". */
bool cdn_protect_gitfile_is_safe(const char *gitfile_path, const char *buf, size_t len);

/* Validate the content of a "commondir" file inside a git dir (classified
 * FILE: git reads $GIT_DIR/commondir in any git dir and takes hooks and
 * config from there; git worktree add writes "../..\n"): true only if it
 * points at ".../.git" or into ".../.git/modules/". */
bool cdn_protect_commondir_is_safe(const char *commondir_path, const char *buf, size_t len);

/* Is path (absolute) root itself or under it, component-wise? */
bool cdn_protect_path_under(const char *root, const char *path);

/* Lexically resolve rel (rel_len bytes; absolute or relative to the absolute
 * dir) into out, folding "." and "..": no filesystem access, so symlinks are
 * not followed.  Returns the length, or -1 if it does not fit or has a NUL. */
int cdn_protect_lexical_join(const char *dir, const char *rel, size_t rel_len, char *out,
                             size_t out_len);

/* A name that git may create in .git/hooks without it becoming a hook:
 * "*.sample". */
bool cdn_protect_is_inert_hook_name(const char *name);
