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
