#!/bin/bash
# Network and IPC: no host TCP, no host unix or abstract sockets, own loopback.
. "$(dirname "$0")/lib.sh"

# Host TCP listener on loopback.
bg "$PROBE" listen-tcp 127.0.0.1 0 >"$T/tcp.out"
wait_for "$T/tcp.out" ready
PORT=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$T/tcp.out")
check "host TCP listener up (port $PORT)" test -n "$PORT"
allowed "host reaches its own listener (twin)" "$PROBE" connect-tcp 127.0.0.1 "$PORT"
denied "host TCP listener unreachable inside" "ECONNREFUSED|ENETUNREACH|EACCES|EPERM|ETIMEDOUT" \
    cr -- "$PROBE" connect-tcp 127.0.0.1 "$PORT"
denied "outside address unreachable (TEST-NET, no packet leaves)" "ENETUNREACH|EHOSTUNREACH|EACCES|EPERM" \
    cr -- "$PROBE" connect-tcp 192.0.2.1 443
# /proc/net/dev shows the caller's network namespace (/sys/class/net would
# show the namespace of whoever mounted /sys).
ok "list interfaces inside" cr -c "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '"
check "interfaces inside: only lo ($(tr '\n' ' ' <"$OUT"))" test "$(cat "$OUT")" = lo
# A listener inside the sandbox, on the same port as the host's, is reachable
# from inside: the sandbox has a loopback of its own.
ok "listener inside reachable inside" cr -c "'$PROBE' listen-tcp 127.0.0.1 $PORT & i=0; while [ \$i -lt 50 ]; do '$PROBE' connect-tcp 127.0.0.1 $PORT && exit 0; i=\$((i+1)); sleep 0.1; done; exit 1"

# The same on IPv6 loopback, when the host has it.
if "$PROBE" listen-tcp ::1 0 >"$T/tcp6.out" 2>&1 & _bg_pids+=($!); wait_for "$T/tcp6.out" ready; then
    PORT6=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$T/tcp6.out")
    allowed "host reaches its own [::1] listener (twin)" "$PROBE" connect-tcp ::1 "$PORT6"
    denied "host [::1] listener unreachable inside" "ECONNREFUSED|ENETUNREACH|EADDRNOTAVAIL|EACCES|EPERM|ETIMEDOUT" \
        cr -- "$PROBE" connect-tcp ::1 "$PORT6"
fi

# Host unix sockets: in /tmp, in the home, in the workspace.
mkdir -p "$HOME/some/dir"
socks=("/tmp/cordon-test-$$-$RANDOM.sock" "$HOME/some/dir/agent.sock" "$WS/ws.sock")
for s in "${socks[@]}"; do
    at_exit "rm -f $s"
    bg "$PROBE" listen-unix "$s" >"$T/unix.$(basename "$s").out"
    wait_for "$T/unix.$(basename "$s").out" ready
    chmod 777 "$s" 2>/dev/null
    allowed "host reaches $s (twin)" "$PROBE" connect-unix "$s"
done
for s in "${socks[@]}"; do
    denied "host unix socket $s unreachable" "ECONNREFUSED|ENOENT|EACCES|EPERM|ENOTSOCK" cr -- "$PROBE" connect-unix "$s"
done

printf '{"network": {"allowUnixSockets": ["%s"]}}\n' "${socks[1]}" >"$T/allow-sock.json"
allowed "allowUnixSockets: the listed socket reachable" cr --settings "$T/allow-sock.json" -- "$PROBE" connect-unix "${socks[1]}"
denied "allowUnixSockets: /tmp socket still unreachable" "ECONNREFUSED|ENOENT|EACCES|EPERM|ENOTSOCK" \
    cr --settings "$T/allow-sock.json" -- "$PROBE" connect-unix "${socks[0]}"
denied "allowUnixSockets: workspace socket still unreachable" "ECONNREFUSED|ENOENT|EACCES|EPERM|ENOTSOCK" \
    cr --settings "$T/allow-sock.json" -- "$PROBE" connect-unix "${socks[2]}"

# $XDG_RUNTIME_DIR (where session buses and agents live) and, as root, /run.
export XDG_RUNTIME_DIR="$T/xdg-runtime"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
bg "$PROBE" listen-unix "$XDG_RUNTIME_DIR/bus" >"$T/xdg.out"
wait_for "$T/xdg.out" ready
allowed "host reaches \$XDG_RUNTIME_DIR/bus (twin)" "$PROBE" connect-unix "$XDG_RUNTIME_DIR/bus"
denied "\$XDG_RUNTIME_DIR/bus unreachable" "ECONNREFUSED|ENOENT|EACCES|EPERM|ENOTSOCK" cr -- "$PROBE" connect-unix "$XDG_RUNTIME_DIR/bus"
if is_root; then
    runsock=/run/cordon-test-$$-$RANDOM.sock
    at_exit "rm -f $runsock"
    bg "$PROBE" listen-unix "$runsock" >"$T/run.out"
    wait_for "$T/run.out" ready
    allowed "host reaches $runsock (twin)" "$PROBE" connect-unix "$runsock"
    denied "socket in /run unreachable (root)" "ECONNREFUSED|ENOENT|EACCES|EPERM|ENOTSOCK" cr -- "$PROBE" connect-unix "$runsock"
    denied "socket via /var/run unreachable (root)" "ECONNREFUSED|ENOENT|EACCES|EPERM|ENOTSOCK" cr -- "$PROBE" connect-unix "/var/run/${runsock#/run/}"
fi

# Another user's socket in a directory only that user can enter: cordon must
# still start (the sandbox cannot reach it either), not fail with 125.
if is_root && id nobody >/dev/null 2>&1; then
    other="$T/other-user"
    mkdir -p "$other" && chown nobody "$other" && chmod 700 "$other"
    bg setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$PROBE" listen-unix "$other/S.agent" >"$T/other.out"
    other_pid=$LAST_BG
    wait_for "$T/other.out" ready
    check "another user's listener is up" grep -q ready "$T/other.out"
    allowed "cordon runs beside another user's private socket (root)" cr -- "$PROBE" write "$WS/beside-other"
    denied "another user's private socket unreachable (root)" "ECONNREFUSED|ENOENT|EACCES|EPERM|ENOTSOCK" \
        cr -- "$PROBE" connect-unix "$other/S.agent"
    kill "$other_pid" 2>/dev/null; wait "$other_pid" 2>/dev/null
fi

# Abstract sockets.
abs="cordon-test-$$-$RANDOM"
bg "$PROBE" listen-abstract "$abs" >"$T/abs.out"
wait_for "$T/abs.out" ready
allowed "host reaches its abstract socket (twin)" "$PROBE" connect-abstract "$abs"
denied "host abstract socket unreachable" "ECONNREFUSED|EPERM|EACCES" cr -- "$PROBE" connect-abstract "$abs"
ok "abstract socket inside reachable inside" cr -c "'$PROBE' listen-abstract in-$abs & i=0; while [ \$i -lt 50 ]; do '$PROBE' connect-abstract in-$abs && exit 0; i=\$((i+1)); sleep 0.1; done; exit 1"
ok "unix socket in the workspace made inside reachable inside" cr -c "'$PROBE' listen-unix '$WS/inner.sock' & i=0; while [ \$i -lt 50 ]; do '$PROBE' connect-unix '$WS/inner.sock' && exit 0; i=\$((i+1)); sleep 0.1; done; exit 1"
done_testing
