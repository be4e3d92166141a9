#!/bin/bash
# cordon run --publish: a server on the sandbox's own loopback reachable from
# the host's 127.0.0.1, on the default policy (no "network" object), as root
# and unprivileged alike.
. "$(dirname "$0")/lib.sh"

# A free port on the host's loopback (bound, read, closed).
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# get PORT: GET / from the host, retried while the sandbox starts; prints the body.
cat >"$T/get.py" <<'PYEOF'
import socket, sys, time
port = int(sys.argv[1])
deadline = time.time() + 10
while True:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=3)
        s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
        s.close()
        if data:
            sys.stdout.write(data.decode("utf-8", "replace"))
            sys.exit(0)
    except OSError as e:
        err = e
    if time.time() > deadline:
        print("no answer:", err if "err" in dir() else "empty")
        sys.exit(1)
    time.sleep(0.1)
PYEOF
# closed PORT: the host side accepts, then closes without a byte.
cat >"$T/closed.py" <<'PYEOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"GET / HTTP/1.0\r\n\r\n")
try:
    data = s.recv(100)
except ConnectionResetError:
    data = b""
print("got %d bytes" % len(data))
sys.exit(0 if not data else 1)
PYEOF

IN=$(free_port)
HOSTP=$(free_port)
echo "publish-marker-$$" >"$WS/index.html"
"$CORDON" run --quiet --no-pty --workspace "$WS" --audit-log "$T/audit.jsonl" \
    --publish "$IN:$HOSTP" -- "$PY" -m http.server "$IN" --bind 127.0.0.1 >"$T/srv.out" 2>&1 &
CPID=$!
_bg_pids+=("$CPID")
ok "GET through --publish $IN:$HOSTP" "$PY" "$T/get.py" "$HOSTP"
out_has "the page served inside reaches the host" "publish-marker-$$"
check "a net.allow event with rule \"publish $IN\"" \
    grep -q "\"kind\":\"net.allow\".*\"rule\":\"publish $IN\"" "$T/audit.jsonl"
kill -TERM "$CPID"
wait "$CPID" 2>/dev/null
denied "after cordon exits the host port is closed" "ECONNREFUSED" "$PROBE" connect-tcp 127.0.0.1 "$HOSTP"

# Nothing listens inside: the host side accepts and closes, with a denial.
P2=$(free_port)
"$CORDON" run --quiet --no-pty --workspace "$WS" --audit-log "$T/audit2.jsonl" \
    --publish "$P2" -- sleep 5 >/dev/null 2>&1 &
CPID=$!
_bg_pids+=("$CPID")
for i in $(seq 1 100); do "$PROBE" connect-tcp 127.0.0.1 "$P2" >/dev/null 2>&1 && break; sleep 0.05; done
ok "nothing listening inside: closed without an answer" "$PY" "$T/closed.py" "$P2"
sleep 0.3
check "a net.deny event names the missing server" \
    grep -q "\"kind\":\"net.deny\".*\"rule\":\"publish $P2\".*a server listening on the sandbox" \
    "$T/audit2.jsonl"
kill -TERM "$CPID"
wait "$CPID" 2>/dev/null

# A taken host port: fail closed, nothing runs.
bg "$PROBE" listen-tcp 127.0.0.1 0 >"$T/taken.out"
wait_for "$T/taken.out" ready
TAKEN=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$T/taken.out")
status_is "host port $TAKEN taken: cordon fails (125)" 125 \
    cr --publish "$TAKEN" -- "$PROBE" create "$WS/ran"
out_has "the error names the port" "127.0.0.1 port $TAKEN"
check "nothing ran" test ! -e "$WS/ran"

# Usage errors.
status_is "--publish 0 is a usage error" 2 cr --publish 0 -- true
status_is "--publish 80: is a usage error" 2 cr --publish 80: -- true
status_is "--publish x is a usage error" 2 cr --publish x -- true
status_is "--publish 70000 is a usage error" 2 cr --publish 70000 -- true

done_testing
