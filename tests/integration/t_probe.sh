#!/bin/bash
# The probe itself, on the host (no cordon): its contract is what the other
# groups rely on.
. "$(dirname "$0")/lib.sh"

check "probe is statically linked" sh -c "! LC_ALL=C ldd '$PROBE' 2>/dev/null | grep -q '=>'"
status_is "no operation -> 2" 2 "$PROBE"
status_is "unknown operation -> 2" 2 "$PROBE" frobnicate
status_is "missing argument -> 2" 2 "$PROBE" read
status_is "bad port -> 2" 2 "$PROBE" connect-tcp 127.0.0.1 99999
status_is "unknown syscall name -> 2" 2 "$PROBE" syscall nonsense
echo "top secret content" >"$T/f"
allowed "read an existing file" "$PROBE" read "$T/f"
out_has "read reports the length" '"bytes":16'
out_lacks "read never prints content" "secret"
denied "read a missing file" "ENOENT" "$PROBE" read "$T/missing"
cp "$OUT" "$T/j"
ok "output is one JSON line" $PY -c 'import json,sys; l=open(sys.argv[1]).read().splitlines(); assert len(l)==1; d=json.loads(l[0]); assert d["ok"] is False and d["errno"]=="ENOENT"' "$T/j"
allowed "write creates and appends" "$PROBE" write "$T/w"
check "the marker landed" grep -q cordon-probe "$T/w"
denied "create refuses an existing file" "EEXIST" "$PROBE" create "$T/w"
allowed "rename" "$PROBE" rename "$T/w" "$T/w2"
allowed "link" "$PROBE" link "$T/w2" "$T/w3"
allowed "symlink" "$PROBE" symlink "$T/w2" "$T/w4"
allowed "chmod" "$PROBE" chmod "$T/w2" 0600
allowed "mkdir" "$PROBE" mkdir "$T/d"
allowed "unlink a directory" "$PROBE" unlink "$T/d"
allowed "unlink a file" "$PROBE" unlink "$T/w3"
weird="$T/quote\"back\\slash"
denied "JSON escaping of odd paths" "ENOENT" "$PROBE" read "$weird"
cp "$OUT" "$T/j"
ok "odd path still valid JSON" $PY -c 'import json,sys; json.loads(open(sys.argv[1]).read())' "$T/j"
export CORDON_PROBE_T=hunter2
allowed "env: set" "$PROBE" env CORDON_PROBE_T
out_lacks "env never prints the value" hunter2
denied "env: unset" "ENOENT" "$PROBE" env CORDON_PROBE_UNSET
allowed "status" "$PROBE" status
cp "$OUT" "$T/j"
ok "status is JSON with the fields" $PY -c '
import json,sys
d=json.loads(open(sys.argv[1]).read())
for k in ("NoNewPrivs","CapEff","Seccomp","RLIMIT_CORE","sid","pid","pids","uid","gid"):
    assert k in d, k' "$T/j"
allowed "ptrace own child" "$PROBE" ptrace-child
bg sleep 100
denied "kill a missing pid" "ESRCH" "$PROBE" kill 4194303 0
allowed "kill -0 own process" "$PROBE" kill "$LAST_BG" 0
bg "$PROBE" listen-abstract "cordon-probe-t-$$"
sleep 0.2
allowed "abstract listen + connect" "$PROBE" connect-abstract "cordon-probe-t-$$"
allowed "unix socket" "$PROBE" syscall socket-unix
done_testing
