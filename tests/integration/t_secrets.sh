#!/bin/bash
# Secrets in the home directory (and root's secrets) are unreadable inside.
. "$(dirname "$0")/lib.sh"

CANARY="CORDON-CANARY-$RANDOM$RANDOM"
VISIBLE="CORDON-VISIBLE-$RANDOM$RANDOM"
hidden_dirs=(.ssh .aws .gnupg .config/gcloud .azure .kube .docker .config/gh .password-store
    .local/share/keyrings .mozilla .config/google-chrome .config/chromium)
hidden_files=(.netrc .git-credentials .npmrc .pypirc)

for d in "${hidden_dirs[@]}"; do
    mkdir -p "$HOME/$d"
    echo "$CANARY $d" >"$HOME/$d/secret"
done
echo "$CANARY id_ed25519" >"$HOME/.ssh/id_ed25519"
for f in "${hidden_files[@]}"; do echo "$CANARY $f" >"$HOME/$f"; done
# The positive twin: an ordinary file in the same home is readable.
mkdir -p "$HOME/project-notes"
echo "$VISIBLE" >"$HOME/project-notes/readme"
chmod -R go+rX "$HOME"

allowed "ordinary home file readable" cr -- "$PROBE" read "$HOME/project-notes/readme"
ok "cat of an ordinary home file works" cr -- cat "$HOME/project-notes/readme"
out_has "ordinary file content reaches the command" "$VISIBLE"

for d in "${hidden_dirs[@]}"; do
    denied "read ~/$d/secret" "EACCES|ENOENT|EPERM" cr -- "$PROBE" read "$HOME/$d/secret"
done
for f in "${hidden_files[@]}"; do
    denied "read ~/$f" "EACCES|EPERM" cr -- "$PROBE" read "$HOME/$f"
done
fails "cat ~/.ssh/id_ed25519 fails" cr -- cat "$HOME/.ssh/id_ed25519"
out_lacks "no canary from cat ~/.ssh/id_ed25519" "$CANARY"
for p in "${hidden_dirs[@]/%//secret}" "${hidden_files[@]}"; do
    fails "cat ~/$p fails" cr -- cat "$HOME/$p"
    out_lacks "no canary from cat ~/$p" "$CANARY"
done

# Other roads to the same file: a symlink in the workspace, /proc/1/root,
# /proc/self/root, a path with dot-dot.
ln -s "$HOME/.ssh/id_ed25519" "$WS/innocent-link"
denied "read through a workspace symlink to the key" "EACCES|ENOENT|EPERM" cr -- "$PROBE" read "$WS/innocent-link"
denied "read via /proc/self/root" "EACCES|ENOENT|EPERM" cr -- "$PROBE" read "/proc/self/root$HOME/.ssh/id_ed25519"
denied "read via /proc/1/root" "EACCES|ENOENT|EPERM" cr -- "$PROBE" read "/proc/1/root$HOME/.ssh/id_ed25519"
denied "read via dot-dot from the workspace" "EACCES|ENOENT|EPERM" cr -- "$PROBE" read "$WS/../home/.ssh/id_ed25519"
fails_sh "copy the key with cp" "cp '$HOME/.ssh/id_ed25519' '$WS/stolen'"
check "no stolen copy in the workspace" sh -c "! grep -rqF '$CANARY' '$WS'"

# A sweep that tries every way a shell script would: the canary must appear
# nowhere, while the visible marker proves the sweep really read the home.
ok "sweep of the whole home ran" cr -c \
    "grep -rs -e CORDON- \"\$HOME\" ; cat \"\$HOME\"/.ssh/* \"\$HOME\"/.aws/* \"\$HOME\"/.netrc; ls -la \"\$HOME\"/.ssh; find \"\$HOME\" -type f -exec cat {} + ; exit 0"
out_has "sweep read the ordinary file" "$VISIBLE"
out_lacks "sweep leaked no canary" "$CANARY"
out_lacks "sweep leaked no file name inside ~/.ssh" "id_ed25519"
check "host copy of the key untouched" grep -q "$CANARY" "$HOME/.ssh/id_ed25519"

# Hidden paths cannot be replaced either.
denied "write into hidden ~/.ssh" "EACCES|EPERM|EROFS|ENOENT" cr -- "$PROBE" write "$HOME/.ssh/authorized_keys"
check "~/.ssh/authorized_keys not created on the host" test ! -e "$HOME/.ssh/authorized_keys"

if is_root; then
    denied "read /etc/shadow (root)" "EACCES|EPERM" cr -- "$PROBE" read /etc/shadow
    [ -e /etc/gshadow ] && denied "read /etc/gshadow (root)" "EACCES|EPERM" cr -- "$PROBE" read /etc/gshadow
    for k in /etc/ssh/ssh_host_*_key; do
        [ -e "$k" ] && denied "read $k (root)" "EACCES|EPERM" cr -- "$PROBE" read "$k"
    done
    rootcanary=/root/cordon-canary-$$
    echo "$CANARY root" >"$rootcanary"
    at_exit "rm -f $rootcanary"
    denied "read a file in /root (root)" "EACCES|ENOENT|EPERM" cr -- "$PROBE" read "$rootcanary"
    ok "sweep of /root ran" cr -c "cat /root/* /root/.* 2>&1; grep -rs CORDON- /root; exit 0"
    out_lacks "no canary from /root" "$CANARY"
    # ... except a workspace inside /root, which stays usable.
    rootws=$(mktemp -d /root/cordon-ws.XXXXXX)
    at_exit "rm -rf $rootws"
    allowed "workspace inside /root is writable (root)" \
        timeout 60 "$CORDON" run --quiet --workspace "$rootws" -- "$PROBE" write "$rootws/f"
    check "write in /root workspace landed on the host" grep -q cordon-probe "$rootws/f"
fi
done_testing
