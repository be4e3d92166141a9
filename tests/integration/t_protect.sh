#!/bin/bash
# Persistence vectors in the workspace are write-protected at any depth.
. "$(dirname "$0")/lib.sh"

E="EACCES|EPERM|EROFS|EBUSY"
files=(.bashrc .bash_profile .zshrc .zprofile .profile .gitconfig .gitmodules .ripgreprc .mcp.json)
indirs=(.vscode/tasks.json .idea/workspace.xml .claude/commands/x.md .claude/agents/a.md
    .cordon/settings.json .git/hooks/pre-commit)
mkdir -p "$WS/sub/deep"

# Positive twins: ordinary files at the same places are writable.
allowed "ordinary file at depth 0" cr -- "$PROBE" create "$WS/notes.txt"
allowed "ordinary file nested" cr -- "$PROBE" create "$WS/sub/deep/notes.txt"
allowed "ordinary dotfile nested" cr -- "$PROBE" create "$WS/sub/deep/.editorconfig"

for dir in "" sub/deep/; do
    where=${dir:-top}
    for f in "${files[@]}"; do
        denied "create $dir$f ($where, new)" "$E" cr -- "$PROBE" create "$WS/$dir$f"
        check "$dir$f not created on the host" test ! -e "$WS/$dir$f"
    done
    for f in "${files[@]}"; do echo "original $f" >"$WS/$dir$f"; done
    for f in "${files[@]}"; do
        denied "append to existing $dir$f" "$E" cr -- "$PROBE" write "$WS/$dir$f"
        denied "truncate existing $dir$f" "$E" cr -- "$PROBE" write --truncate "$WS/$dir$f"
        denied "unlink existing $dir$f" "$E" cr -- "$PROBE" unlink "$WS/$dir$f"
        check "$dir$f unchanged on the host" test "$(cat "$WS/$dir$f")" = "original $f"
    done
    for p in "${indirs[@]}"; do
        fails_sh "mkdir -p + write $dir$p (new)" "mkdir -p '$WS/$dir$(dirname "$p")' && echo evil >'$WS/$dir$p'"
        check "$dir$p not created" test ! -e "$WS/$dir$p"
    done
    for p in "${indirs[@]}"; do
        mkdir -p "$WS/$dir$(dirname "$p")"
        denied "create $dir$p in existing dir" "$E" cr -- "$PROBE" create "$WS/$dir$p"
        echo "original" >"$WS/$dir$p"
        denied "modify existing $dir$p" "$E" cr -- "$PROBE" write "$WS/$dir$p"
        check "$dir$p unchanged" test "$(cat "$WS/$dir$p")" = original
    done
done
rm -f "$WS/.bashrc"

# Tricks: rename onto, symlink through, hard link to a protected name.
allowed "plain file to rename" cr -- "$PROBE" write "$WS/evil-rc"
denied "rename onto .bashrc" "$E" cr -- "$PROBE" rename "$WS/evil-rc" "$WS/.bashrc"
denied "rename onto nested .profile" "$E" cr -- "$PROBE" rename "$WS/evil-rc" "$WS/sub/deep/.profile"
fails_sh "ln -s .bashrc x; echo > x" "cd '$WS' && ln -s .bashrc x && echo evil > x"
check ".bashrc not created via symlink" test ! -e "$WS/.bashrc"
fails_sh "symlink to existing nested .zshrc then write" "cd '$WS' && ln -sf sub/deep/.zshrc y && echo evil >> y"
check "nested .zshrc unchanged" test "$(cat "$WS/sub/deep/.zshrc")" = "original .zshrc"
fails_sh "hard link to .profile then write" "cd '$WS' && ln .profile hl && echo evil >> hl"
check ".profile unchanged after hard-link trick" test "$(cat "$WS/.profile")" = "original .profile"
fails_sh "rename the .git/hooks dir away and back" "cd '$WS' && mv .git/hooks .git/h2 && mkdir .git/hooks && echo evil > .git/hooks/post-checkout"
check "no post-checkout hook" test ! -e "$WS/.git/hooks/post-checkout"

# Other spellings of the same path, resolved by the kernel, not by name.
denied "create via dot-dot (sub/../.bashrc)" "$E" cr -- "$PROBE" create "$WS/sub/../.bashrc"
denied "create via /proc/self/cwd" "$E" cr -c "cd '$WS' && exec '$PROBE' create /proc/self/cwd/.bashrc"
fails_sh "create via /proc/self/fd/N of the workspace" "exec 3<'$WS' && echo evil >/proc/self/fd/3/.bashrc"
check ".bashrc still absent after path tricks" test ! -e "$WS/.bashrc"
# Moving a prepared directory into place.
fails_sh "move a directory with a hook into a new repo's .git" "cd '$WS' && mkdir -p prep/hooks && printf '#!/bin/sh\necho evil\n' >prep/hooks/post-checkout && mkdir -p r3 && mv prep r3/.git"
check "no r3/.git/hooks/post-checkout" test ! -e "$WS/r3/.git/hooks/post-checkout"
fails_sh "move a hooks directory into .git" "cd '$WS' && mkdir -p r4/.git hk && printf '#!/bin/sh\necho evil\n' >hk/post-checkout && mv hk r4/.git/hooks"
check "no r4/.git/hooks/post-checkout" test ! -e "$WS/r4/.git/hooks/post-checkout"
fails_sh "symlink .git/hooks to a directory of our own" "cd '$WS' && mkdir -p r5/.git myhooks && printf '#!/bin/sh\necho evil\n' >myhooks/post-checkout && ln -s ../../myhooks r5/.git/hooks"
check "no r5/.git/hooks link" test ! -e "$WS/r5/.git/hooks"
# A fifo (mknod) may not take a protected name either; elsewhere it may.
fails_sh "mkfifo .zlogin in a new folder" "cd '$WS' && mkdir -p fifod && mkfifo fifod/.zlogin"
check "no .zlogin fifo" test ! -e "$WS/fifod/.zlogin"
ok "twin: mkfifo with an ordinary name works" cr -c "cd '$WS' && mkfifo plain.fifo && test -p plain.fifo"
fails_sh "rename a prepared directory to .vscode" "cd '$WS' && mkdir -p sub/d2/prep && echo evil >sub/d2/prep/tasks.json && mv sub/d2/prep sub/d2/.vscode"
check "no sub/d2/.vscode/tasks.json" test ! -e "$WS/sub/d2/.vscode/tasks.json"
fails_sh "rename a prepared directory to .claude/commands" "cd '$WS' && mkdir -p sub/d3/.claude sub/d3/prep && echo evil >sub/d3/prep/x.md && mv sub/d3/prep sub/d3/.claude/commands"
check "no sub/d3/.claude/commands/x.md" test ! -e "$WS/sub/d3/.claude/commands/x.md"

# git keeps working.
G="git -c init.defaultBranch=main"
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.invalid GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.invalid
mkdir -p "$WS/repo"
ok "git init/add/commit/checkout work" cr -c "cd '$WS/repo' && $G init -q && echo hi > a && git add a && git commit -qm one && git checkout -q -b b && echo more >> a && git commit -qam two && git checkout -q main"
check "the commits landed on the host" sh -c "cd '$WS/repo' && test \"\$(git rev-list --count b)\" = 2"
check "git init created hooks/*.sample" sh -c "ls '$WS/repo/.git/hooks/' | grep -q '\.sample\$'"
denied "create .git/hooks/pre-commit in the new repo" "$E" cr -- "$PROBE" create "$WS/repo/.git/hooks/pre-commit"
denied "append to .git/config directly" "$E" cr -- "$PROBE" write "$WS/repo/.git/config"
ok "git config sets a harmless key" cr -c "cd '$WS/repo' && git config user.name someone"
check "the harmless key landed" sh -c "cd '$WS/repo' && test \"\$(git config user.name)\" = someone"
fails_sh "git config core.fsmonitor refused" "cd '$WS/repo' && git config core.fsmonitor 'touch /tmp/pwned'"
check "core.fsmonitor not set" sh -c "! grep -q fsmonitor '$WS/repo/.git/config'"
fails_sh "git config core.hooksPath refused" "cd '$WS/repo' && git config core.hooksPath ."
check "core.hooksPath not set" sh -c "! grep -qi hookspath '$WS/repo/.git/config'"
# .git/config may be replaced (git writes config.lock and renames it), but
# only by content that sets harmless keys.
fails_sh "rename a config with core.fsmonitor onto .git/config" "cd '$WS/repo' && printf '[core]\n\tfsmonitor = touch /tmp/pwned\n' >cfg.new && mv cfg.new .git/config"
check "core.fsmonitor still not set" sh -c "! grep -q fsmonitor '$WS/repo/.git/config'"
ok "rename a harmless config onto .git/config" cr -c "cd '$WS/repo' && cp .git/config cfg.ok && git config -f cfg.ok user.email someone@example.invalid && mv cfg.ok .git/config"
check "the harmless replacement landed" sh -c "cd '$WS/repo' && test \"\$(git config user.email)\" = someone@example.invalid"
# A .git link in a subdirectory would make git use a directory with hooks of
# the attacker's choosing.
mkdir -p "$WS/evil/hooks" "$WS/sub/x"
fails_sh "plant a .git link (gitdir:) in a subdirectory" "echo 'gitdir: ../../evil' >'$WS/sub/x/.git'"
check "no .git link planted" test ! -e "$WS/sub/x/.git"

mkdir -p "$WS/sub/deep/nested" && (cd "$WS/sub/deep/nested" && $G init -q)
denied "nested repo: create sub/deep/nested/.git/hooks/pre-commit" "$E" cr -- "$PROBE" create "$WS/sub/deep/nested/.git/hooks/pre-commit"
denied "nested repo: append to .git/config" "$E" cr -- "$PROBE" write "$WS/sub/deep/nested/.git/config"

printf '{"filesystem": {"allowGitConfig": true}}\n' >"$T/allow-gitconfig.json"
ok "allowGitConfig permits core.fsmonitor" cr --settings "$T/allow-gitconfig.json" -c "cd '$WS/repo' && git config core.fsmonitor x"
check "core.fsmonitor set with allowGitConfig" sh -c "cd '$WS/repo' && test \"\$(git config core.fsmonitor)\" = x"
done_testing
