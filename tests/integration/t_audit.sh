#!/bin/bash
# Audit through the real `cordon run`: the JSON-lines file field by field,
# two sandboxes writing one file at once, OTLP/HTTP to a receiver that checks
# the OTLP JSON mapping, a receiver that is down, and planted secrets that
# must appear in no sink.
. "$(dirname "$0")/lib.sh"

RECV=$(cd "$(dirname "$0")/../audit" && pwd)/otlp_receiver.py
SECRET="cordon-audit-canary-$RANDOM$RANDOM"
LOG=$T/audit.jsonl

export GITHUB_TOKEN=$SECRET
status_is "command with a violation: exit 3" 3 "$CORDON" run --quiet --audit-log "$LOG" \
    --agent-id agent-under-test --workspace "$WS" -- sh -c "echo x > .bashrc; echo \$GITHUB_TOKEN; exit 3"
ok "every line is one event of the schema" $PY - "$LOG" "$WS" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
ev = [json.loads(l) for l in lines]
kinds = [e["kind"] for e in ev]
assert kinds[0] == "session.start" and kinds[-1] == "session.end", kinds
for k in ("process.start", "fs.violation", "process.exit"):
    assert k in kinds, (k, kinds)
sid = {e["session_id"] for e in ev}
assert len(sid) == 1 and len(sid.pop()) == 32
for e in ev:
    assert e["schema"] == "cordon.audit/1"
    assert e["agent_id"] == "agent-under-test"
    assert e["workspace"] == sys.argv[2]
    assert e["policy_digest"].startswith("sha256:")
v = next(e for e in ev if e["kind"] == "fs.violation")
assert v["decision"] == "deny" and v["fs"]["path"].endswith("/.bashrc"), v
assert v["fs"]["operation"] == "create" and v["fs"]["errno_name"] == "EACCES", v
x = next(e for e in ev if e["kind"] == "process.exit")
assert x["process"]["exit_code"] == 3, x
assert x["process"]["duration_ns"] > 0, x
PY
check "the secret is in no event" sh -c "! grep -q '$SECRET' '$LOG'"

# Two sandboxes appending to the same file at once: whole lines only.
rm -f "$LOG"
( for i in 1 2 3 4 5; do "$CORDON" run --quiet --audit-log "$LOG" --workspace "$WS" -- true; done ) &
a=$!
( for i in 1 2 3 4 5; do "$CORDON" run --quiet --audit-log "$LOG" --workspace "$WS" -- true; done ) &
b=$!
wait $a $b
ok "two writers: 10 sessions, every line valid" $PY - "$LOG" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()]
starts = [e for e in ev if e["kind"] == "session.start"]
ends = [e for e in ev if e["kind"] == "session.end"]
assert len(starts) == 10 and len(ends) == 10, (len(starts), len(ends))
assert len({e["session_id"] for e in ev}) == 10
PY

# OTLP/HTTP (JSON) to a receiver on loopback that validates every request.
bg $PY "$RECV" --port-file "$T/port" --record "$T/otlp.rec"
wait_for "$T/port" ""
for i in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
PORT=$(cat "$T/port")
ok "run with OTLP export" env OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$PORT" \
    OTEL_SERVICE_NAME=cordon-test "$CORDON" run --quiet --workspace "$WS" -- sh -c "echo x > .zshrc; true"
ok "logs and a span per command arrived, valid OTLP JSON" $PY - "$T/otlp.rec" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]).read().splitlines() if l.strip()]
assert recs, "nothing arrived"
for r in recs:
    assert not r["errors"], r["errors"]
paths = {r["path"] for r in recs}
assert "/v1/logs" in paths and "/v1/traces" in paths, paths
logs = [lr for r in recs if r["path"] == "/v1/logs"
        for rl in r["body"]["resourceLogs"] for sl in rl["scopeLogs"] for lr in sl["logRecords"]]
kinds = [a["value"].get("stringValue") for lr in logs for a in lr.get("attributes", [])
         if a["key"] == "event.name" or a["key"] == "cordon.event.kind"]
assert len(logs) >= 5, len(logs)
spans = [s for r in recs if r["path"] == "/v1/traces"
         for rs in r["body"]["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]
assert len(spans) >= 2, len(spans)
assert len({s["traceId"] for s in spans}) == 1
PY
check "the secret reached no OTLP request" sh -c "! grep -q '$SECRET' '$T/otlp.rec'"

# A receiver that is down: same result, the loss said at the end.
status_is "exporter down: command result unchanged (exit 4)" 4 env \
    OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9" "$CORDON" run --quiet --workspace "$WS" -- sh -c 'exit 4'
out_has "undelivered events are reported" "not"
done_testing
