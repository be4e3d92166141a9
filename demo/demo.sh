#!/bin/bash
# cordon in one minute: run an untrusted script under `cordon run` with the
# default policy and show, checked from the host, what it could not do.
#   demo/demo.sh [CORDON]          (default: build/cordon)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
CORDON=$(realpath -e "${1:-$HERE/../build/cordon}" 2>/dev/null || echo "${1:-$HERE/../build/cordon}")
[ -x "$CORDON" ] || { echo "demo: no cordon binary at $CORDON (run make first)" >&2; exit 1; }

if [ -t 1 ]; then B=$'\e[1m'; G=$'\e[32m'; R=$'\e[31m'; D=$'\e[2m'; N=$'\e[0m'; else B='' G='' R='' D='' N=''; fi
REAL_HOME=$HOME
# Scratch space outside /tmp (private inside the sandbox) and /root (hidden).
if [ "$(id -u)" = 0 ]; then base=/var/lib/cordon-demo; else base=${XDG_CACHE_HOME:-$HOME/.cache}/cordon-demo; fi
mkdir -p "$base" && DIR=$(mktemp -d "$base/demo.XXXXXX") || { echo "demo: cannot create $base" >&2; exit 1; }
trap 'rm -rf "$DIR"' EXIT
export HOME=$DIR/home
WS=$DIR/project
CANARY="CORDON-DEMO-CANARY-$RANDOM$RANDOM"

# A developer's machine: an SSH key in ~/.ssh, a cloned project with git.
mkdir -p "$HOME/.ssh" "$WS"
chmod 700 "$HOME/.ssh"
printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\n%s (fake key for the demo)\n-----END OPENSSH PRIVATE KEY-----\n' \
    "$CANARY" >"$HOME/.ssh/id_ed25519"
chmod 600 "$HOME/.ssh/id_ed25519"
cp "$HERE/untrusted.sh" "$WS/build.sh"
(cd "$WS" && git init -q 2>/dev/null)

echo "${B}cordon demo${N}: running an untrusted build script with ${B}cordon run${N} (default policy)"
echo "${D}  fake SSH key planted in $HOME/.ssh/id_ed25519 (canary $CANARY)"
echo "  workspace: $WS${N}"
echo "${D}  \$ cordon run --workspace $WS -- bash ./build.sh${N}"
cd "$WS" || exit 1
"$CORDON" run --workspace "$WS" --setenv DEMO_REAL_HOME="$REAL_HOME" -- bash ./build.sh >"$DIR/out" 2>&1
rc=$?
sed "s/^/${D}  | /;s/\$/${N}/" "$DIR/out" | grep -v NETWORK_MS
echo
if [ "$rc" != 0 ] || ! grep -q '^ATTEMPT real-work ' "$DIR/out"; then
    echo "${R}cordon did not run the script to its end (exit $rc): the demo proves nothing.${N}"
    exit 1
fi

attempt() { grep -E "^ATTEMPT $1 " "$DIR/out" | head -n 1 | cut -d' ' -f3; }
rows=()
reached=0
row() { # row VERDICT WHAT EVIDENCE
    local v=$1
    [ "$v" = REACHED ] && reached=$((reached + 1))
    rows+=("$v|$2|$3")
}

# Every verdict is decided from the host, not from the script's own report.
if grep -rqF "$CANARY" "$DIR/out" "$WS" 2>/dev/null; then
    row REACHED "read ~/.ssh/id_ed25519" "canary found in the output or the workspace"
else
    row CONTAINED "read ~/.ssh/id_ed25519" "canary nowhere in output or workspace"
fi
if [ -e /etc/cordon-demo-pwned ]; then
    rm -f /etc/cordon-demo-pwned; row REACHED "write /etc/cordon-demo-pwned" "file appeared (removed)"
else row CONTAINED "write /etc/cordon-demo-pwned" "no such file on the host"; fi
if [ -e "$REAL_HOME/cordon-demo-pwned" ]; then
    rm -f "$REAL_HOME/cordon-demo-pwned"; row REACHED "write ~/cordon-demo-pwned (real home)" "file appeared (removed)"
else row CONTAINED "write ~/cordon-demo-pwned (real home)" "no such file in $REAL_HOME"; fi
if [ -e "$WS/.bashrc" ] && grep -q attacker "$WS/.bashrc"; then
    row REACHED "persist in .bashrc" "payload in $WS/.bashrc"
else row CONTAINED "persist in .bashrc" "no payload in the workspace .bashrc"; fi
if [ -e "$WS/.git/hooks/post-checkout" ]; then
    row REACHED "persist in .git/hooks/post-checkout" "hook file exists"
else row CONTAINED "persist in .git/hooks/post-checkout" "no hook installed"; fi
ms=$(sed -n 's/^NETWORK_MS //p' "$DIR/out")
for n in network-curl network-tcp; do
    r=$(attempt "$n")
    [ -z "$r" ] && continue
    what="reach 1.1.1.1:443 (${n#network-})"
    if [ "$r" = ok ]; then row REACHED "$what" "connection succeeded"
    else row CONTAINED "$what" "failed in ${ms:-?} ms for both tries"; fi
done
if [ "$(attempt real-work)" = ok ] && [ -s "$WS/build-output.txt" ]; then
    work=$(printf '%s%-11s%s %-40s %s' "$G" WORKED "$N" "do the real job" "build-output.txt written in the workspace")
    work_ok=1
else
    work=$(printf '%s%-11s%s %-40s %s' "$R" FAILED "$N" "do the real job" "could not write in the workspace: too tight")
    work_ok=0
fi

printf '%s\n' "${B}Verdict${N}"
printf '  %-11s %-40s %s\n' "RESULT" "ATTEMPT" "EVIDENCE (checked from the host)"
for r in "${rows[@]}"; do
    IFS='|' read -r v w e <<<"$r"
    c=$G; [ "$v" = REACHED ] && c=$R
    printf '  %s%-11s%s %-40s %s\n' "$c" "$v" "$N" "$w" "$e"
done
echo "  $work"
echo
if [ "$reached" -gt 0 ]; then
    echo "${R}${B}$reached attempt(s) REACHED their target.${N}"
    exit 1
fi
if [ "$work_ok" != 1 ]; then exit 1; fi
echo "${G}${B}Everything was contained, and the real work got done.${N}"
exit 0
