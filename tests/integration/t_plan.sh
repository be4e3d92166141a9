#!/bin/bash
# `cordon plan` describes and runs nothing.
. "$(dirname "$0")/lib.sh"

ok "plan (text)" "$CORDON" plan --workspace "$WS" -- "$PROBE" create "$WS/planned"
out_has "text plan names the workspace" "$WS"
check "plan ran nothing" test ! -e "$WS/planned"
ok "plan --json" "$CORDON" plan --json --workspace "$WS" -- "$PROBE" create "$WS/planned"
cp "$OUT" "$T/plan.json"
ok "plan --json parses (python3 -m json.tool)" $PY -m json.tool "$T/plan.json"
ok "plan --json lists mounts and layers" $PY -c '
import json, sys
p = json.load(open(sys.argv[1]))
ws = sys.argv[2]
m, l = p.get("mounts"), p.get("layers")
assert isinstance(m, list) and m, "no mounts list"
assert l, "no layers"
assert ws in json.dumps(m), "workspace not among the mounts"
' "$T/plan.json" "$WS"
check "plan --json ran nothing" test ! -e "$WS/planned"
ok "plan without a command" "$CORDON" plan --workspace "$WS"
printf '{"bogus": 1}\n' >"$T/bad.json"
status_is "plan with bad settings -> 2" 2 "$CORDON" plan --settings "$T/bad.json" --workspace "$WS"
done_testing
