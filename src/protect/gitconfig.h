/* A strict reader for git's config format, used only to decide whether a
 * new .git/config written inside the sandbox is harmless: it may set only
 * keys from a fixed list (core.repositoryformatversion, core.filemode, ...,
 * remote.*.url/fetch, branch.*.remote/merge, user.name/email, ...), none of
 * which makes git run a program.  Anything it does not fully understand is
 * rejected.  Bounded: inputs over CDN_GITCONFIG_MAX bytes are rejected. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define CDN_GITCONFIG_MAX (256 * 1024)

/* true if safe; otherwise false with a reason ("line 3: key core.fsmonitor
 * runs a program") in why. */
bool cdn_gitconfig_is_safe(const char *buf, size_t len, char *why, size_t why_len);

/* The same, for the config file at config_path (absolute) in the writable
 * root `root`: additionally accepts core.worktree when it resolves
 * (lexically, relative to config_path's folder) inside root, as git writes
 * in submodule git dirs (.git/modules/NAME/config: "worktree = ../../../NAME").
 * With NULL config_path or root, core.worktree is refused. */
bool cdn_gitconfig_is_safe_at(const char *buf, size_t len, const char *config_path,
                              const char *root, char *why, size_t why_len);

/* The same reader for a .gitmodules file (classified FILE by the path
 * classifier, yet written by git clone/checkout/submodule add): only
 * submodule.<name>.{path,url,branch,shallow,ignore,fetchRecurseSubmodules}
 * and update = checkout|rebase|merge|none, with URLs checked as above. */
bool cdn_gitmodules_is_safe(const char *buf, size_t len, char *why, size_t why_len);
