#!/bin/bash
# Exit statuses, signal forwarding, and no process outliving cordon.
. "$(dirname "$0")/lib.sh"

status_is "exit 0" 0 cr -- true
status_is "exit 3 -> 3" 3 cr -- sh -c 'exit 3'
status_is "-c string, exit 42 -> 42" 42 cr -c 'exit 42'
status_is "kill -TERM self -> 143" 143 cr -- sh -c 'kill -TERM $$'
status_is "kill -KILL self -> 137" 137 cr -- sh -c 'kill -KILL $$'
status_is "no command -> 2 (usage)" 2 "$CORDON" run --quiet --workspace "$WS"
status_is "unknown option -> 2 (usage)" 2 "$CORDON" run --no-such-option --workspace "$WS" -- true
status_is "bad workspace mode -> 2" 2 "$CORDON" run --workspace "$WS" --workspace-mode sideways -- true
check "nothing ran on usage errors" test ! -e "$WS/ran"

# SIGTERM to cordon reaches the command, which can trap it.
"$CORDON" run --quiet --workspace "$WS" -- sh -c \
    'trap "echo trapped; exit 7" TERM; echo ready; while :; do sleep 0.1; done' >"$T/trap.out" 2>&1 &
cpid=$!
wait_for "$T/trap.out" ready
kill -TERM "$cpid"
( sleep 20; kill -9 "$cpid" 2>/dev/null ) & watchdog=$!
wait "$cpid"; rc=$?
kill "$watchdog" 2>/dev/null
cp "$T/trap.out" "$OUT"
check "SIGTERM trapped inside: exit 7 (got $rc)" test "$rc" = 7
out_has "the trap ran" trapped

# cordon returns only when every process of the sandbox is gone.
tag=$((86000 + $$ % 1000)).$RANDOM
start=$(date +%s)
status_is "background child left behind: exit 0" 0 cr -- sh -c "sleep $tag & exit 0"
check "cordon returned promptly" test $(( $(date +%s) - start )) -lt 30
check "the background sleep is gone (pgrep)" sh -c "! pgrep -f '^sleep $tag'"
status_is "daemonized grandchild: exit 0" 0 cr -- sh -c "setsid sh -c 'sleep $tag' </dev/null >/dev/null 2>&1 & exit 0"
check "the setsid grandchild is gone" sh -c "sleep 0.2; ! pgrep -f '^sleep $tag'"
# SIGINT is forwarded too; a command killed by it gives 130.
"$CORDON" run --quiet --workspace "$WS" -- sh -c "echo ready; exec sleep $tag" >"$T/int.out" 2>&1 &
cpid=$!
wait_for "$T/int.out" ready
kill -INT "$cpid"
( sleep 20; kill -9 "$cpid" 2>/dev/null ) & watchdog=$!
wait "$cpid"; rc=$?
kill "$watchdog" 2>/dev/null
check "SIGINT reaches the command: exit 130 (got $rc)" test "$rc" = 130

# If cordon itself is killed outright, nothing it started survives.
"$CORDON" run --quiet --workspace "$WS" -- sh -c "sleep $tag & echo ready; sleep $tag" >"$T/k9.out" 2>&1 &
cpid=$!
wait_for "$T/k9.out" ready
check "the sandboxed sleeps are running" pgrep -f "^sleep $tag"
kill -KILL "$cpid"
wait "$cpid" 2>/dev/null
gone=1
for i in $(seq 1 50); do pgrep -f "^sleep $tag" >/dev/null || { gone=0; break; }; sleep 0.1; done
check "SIGKILL to cordon leaves no sandboxed process behind" test "$gone" = 0
done_testing
