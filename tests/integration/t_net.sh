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

# Abstract sockets.
abs="cordon-test-$$-$RANDOM"
bg "$PROBE" listen-abstract "$abs" >"$T/abs.out"
wait_for "$T/abs.out" ready
allowed "host reaches its abstract socket (twin)" "$PROBE" connect-abstract "$abs"
denied "host abstract socket unreachable" "ECONNREFUSED|EPERM|EACCES" cr -- "$PROBE" connect-abstract "$abs"
ok "abstract socket inside reachable inside" cr -c "'$PROBE' listen-abstract in-$abs & i=0; while [ \$i -lt 50 ]; do '$PROBE' connect-abstract in-$abs && exit 0; i=\$((i+1)); sleep 0.1; done; exit 1"
ok "unix socket in the workspace made inside reachable inside" cr -c "'$PROBE' listen-unix '$WS/inner.sock' & i=0; while [ \$i -lt 50 ]; do '$PROBE' connect-unix '$WS/inner.sock' && exit 0; i=\$((i+1)); sleep 0.1; done; exit 1"
done_testing
