#!/bin/bash
# The hidden-path observer: reads, listings and lookups of hidden places fail
# as before, and each attempt is reported (fs.violation in the audit log and
# the <sandbox_violations> block) with the path, the operation and the
# process name; an ordinary read is reported by nobody.
. "$(dirname "$0")/lib.sh"

CANARY="CORDON-CANARY-$RANDOM$RANDOM"
mkdir -p "$HOME/.ssh" "$HOME/notes"
echo "$CANARY id_ed25519" >"$HOME/.ssh/id_ed25519"
echo "$CANARY netrc" >"$HOME/.netrc"
echo "visible" >"$HOME/notes/readme"
chmod -R go+rX "$HOME"
LOG=$T/audit.jsonl

if ! "$CORDON" plan --workspace "$WS" -- true >"$OUT" 2>&1; then
    check "cordon plan runs" false
    done_testing
    exit
fi
if ! grep -q '^  hidden-path observer  *on ' "$OUT"; then
    # Not a skip: the layer must say why it is off, and reads are then
    # simply not observed.  This host has /dev/fuse, so that is a failure.
    check "plan: hidden-path observer on (needs a usable /dev/fuse)" false
    done_testing
    exit
fi
_pass "plan: hidden-path observer on"

# One sandbox run per attempt; $1 names the check, the rest is the command
# (its failure mapped to status 1: ls exits 2, which is also cordon's usage
# status).
attempt() {
    local name=$1; shift
    rm -f "$LOG"
    _run timeout -k 5 120 "$CORDON" run --workspace "$WS" --audit-log "$LOG" -c "$* || exit 1"
    case $RC in
    0) _fail "$name fails" "expected failure, got exit 0: $*" ;;
    2|125) _fail "$name fails" "cordon itself failed (exit $RC): $*" ;;
    *) _pass "$name fails" ;;
    esac
    out_has "$name: Permission denied" "Permission denied"
    out_lacks "$name: no canary in the output" "$CANARY"
    check "$name: no canary in the audit log" sh -c "! grep -q '$CANARY' '$LOG'"
}

# has_violation NAME PATH OP COMM: the audit log holds that fs.violation.
has_violation() {
    check "$1: fs.violation $3 $2 by $4" $PY - "$LOG" "$2" "$3" "$4" <<'PY'
import json, sys
log, path, op, comm = sys.argv[1:]
ev = [json.loads(l) for l in open(log)]
fs = [e["fs"] for e in ev if e["kind"] == "fs.violation"]
hit = [f for f in fs if f["path"] == path and f["operation"] == op
       and f.get("process_name") == comm]
assert hit, f"no {op} {path} by {comm} in {fs}"
f = hit[0]
assert f["errno_name"] == "EACCES", f
assert f["pid"] > 1, f
assert "denyRead" in f["setting"], f
PY
}

attempt "cat ~/.ssh/id_ed25519" cat "$HOME/.ssh/id_ed25519"
has_violation "cat ~/.ssh/id_ed25519" "$HOME/.ssh/id_ed25519" read cat
out_has "block names the key" "read $HOME/.ssh/id_ed25519 denied (cat)"
out_has "block starts" "<sandbox_violations>"

attempt "ls ~/.ssh" ls "$HOME/.ssh"
has_violation "ls ~/.ssh" "$HOME/.ssh" list ls
out_has "block names the listing" "list $HOME/.ssh denied (ls)"

attempt "cat ~/.netrc" cat "$HOME/.netrc"
has_violation "cat ~/.netrc" "$HOME/.netrc" read cat
out_has "block names the hidden file" "read $HOME/.netrc denied (cat)"

attempt "stat ~/.ssh/config" stat "$HOME/.ssh/config"
has_violation "stat ~/.ssh/config" "$HOME/.ssh/config" stat stat

# Deeper than the one name the mount sees, and through a symlink elsewhere.
attempt "cat ~/.ssh/keys/id_rsa" cat "$HOME/.ssh/keys/id_rsa"
has_violation "cat ~/.ssh/keys/id_rsa" "$HOME/.ssh/keys/id_rsa" read cat
ln -s "$HOME/.ssh/id_ed25519" "$WS/innocent-link"
attempt "cat a workspace symlink to the key" cat "$WS/innocent-link"
has_violation "symlink" "$HOME/.ssh/id_ed25519 (with $WS/innocent-link)" read cat
rm -f "$WS/innocent-link"

# Each attempt is one event: a second cat is a second violation.
rm -f "$LOG"
_run timeout -k 5 120 "$CORDON" run --workspace "$WS" --audit-log "$LOG" -c \
    "cat '$HOME/.ssh/id_ed25519'; cat '$HOME/.ssh/id_ed25519'; exit 0"
check "two attempts, two events" test "$(grep -c "\"path\":\"$HOME/.ssh/id_ed25519\"" "$LOG")" = 2

# The positive twin: reading ordinary files reports nothing.
rm -f "$LOG"
ok "ordinary read works" timeout -k 5 120 "$CORDON" run --workspace "$WS" --audit-log "$LOG" \
    -- cat "$HOME/notes/readme" /etc/hostname
out_has "ordinary content reaches the command" "visible"
out_lacks "no violations block for an ordinary read" "<sandbox_violations>"
check "no fs.violation for an ordinary read" sh -c "! grep -q fs.violation '$LOG'"
ok "stat of the hidden folder itself still works" cr -- stat -c %a "$HOME/.ssh"
check "shown as mode 000" test "$(cat "$OUT")" = 0
done_testing
