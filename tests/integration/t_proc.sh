#!/bin/bash
# Processes: own pid namespace, no signals or ptrace to the host, hardening.
. "$(dirname "$0")/lib.sh"

bg sleep 1000
HOSTPID=$LAST_BG
check "host sleep is running" kill -0 "$HOSTPID"

denied "host process not in /proc" "ENOENT" cr -- "$PROBE" read "/proc/$HOSTPID/cmdline"
denied "kill -0 host process" "ESRCH|EPERM" cr -- "$PROBE" kill "$HOSTPID" 0
denied "kill -KILL host process" "ESRCH|EPERM" cr -- "$PROBE" kill "$HOSTPID" KILL
denied "ptrace-attach host process" "ESRCH|EPERM" cr -- "$PROBE" ptrace-attach "$HOSTPID"
check "host sleep survived" kill -0 "$HOSTPID"
ok "kill -9 -1 inside runs" cr -c 'kill -9 -1 2>/dev/null; exit 0'
check "host sleep survived kill -9 -1 inside" kill -0 "$HOSTPID"

ok "ps runs inside" cr -- ps -e -o pid=,comm=
out_lacks "ps does not show the host sleep" "sleep"
check "ps shows at most a handful of processes" test "$(grep -c . "$OUT")" -le 5
out_has "ps -e sees itself" "ps"

allowed "status" cr -- "$PROBE" status
check "NoNewPrivs is 1" test "$(json_get NoNewPrivs)" = 1
check "CapEff is 0" test "$(json_get CapEff)" = 0000000000000000
check "CapPrm is 0" test "$(json_get CapPrm)" = 0000000000000000
check "seccomp filter active (mode 2)" test "$(json_get Seccomp)" = 2
check "core dumps off (RLIMIT_CORE 0)" test "$(json_get RLIMIT_CORE)" = 0
check "few pids visible in /proc" test "$(json_get pids)" -le 4
hostsid=$(ps -o sid= $$ | tr -d ' ')
insid=$(json_get sid)
check "new session (sid $insid differs from host sid $hostsid)" test -n "$insid" -a "$insid" != "$hostsid"

allowed "ptrace own child works" cr -- "$PROBE" ptrace-child
if command -v strace >/dev/null; then
    ok "strace -f true works inside" cr -- strace -f -o /dev/null true
else
    check "strace installed (scripts/deps.sh test)" false
fi
done_testing
