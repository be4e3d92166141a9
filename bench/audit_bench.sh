#!/bin/sh
# Cost of auditing: full auditing (JSON lines + OTLP/HTTP to a receiver on
# loopback) against none, for the events of `cordon run -- /bin/true` and of
# a command that makes 1,000 denied connections.  Measurement, not a test.
#
#   bench/audit_bench.sh [BUILD_DIR] [RUNS]
#
# Until `cordon run` emits events, the driver tests/audit/otlp_driver plays
# its part: it really fork+execs /bin/true (and really makes the refused
# connections), and emits the same events through the audit facade.  Runs
# alternate (none, full, none, full, ...) so drift hits both alike.
set -eu
BUILD=${1:-build}
RUNS=${2:-30}
HERE=$(cd "$(dirname "$0")/.." && pwd)
DRIVER=$BUILD/tests/audit/otlp_driver
[ -x "$DRIVER" ] || { echo "audit_bench: $DRIVER missing: build first (make)" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'kill $RX 2>/dev/null || true; rm -rf "$TMP"' EXIT INT TERM

python3 "$HERE/tests/audit/otlp_receiver.py" --fast --port-file "$TMP/port" &
RX=$!
i=0
while [ ! -s "$TMP/port" ]; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "receiver did not start" >&2; exit 1; }
    sleep 0.05
done
PORT=$(cat "$TMP/port")

now_us() { python3 -c 'import time; print(time.monotonic_ns() // 1000)'; }

# one MODE ARGS...: prints the wall time in microseconds of one driver run.
one() {
    mode=$1; shift
    if [ "$mode" = none ]; then
        set -- "$@" --no-audit
        envs=""
    else
        set -- "$@" --jsonl "$TMP/audit.jsonl"
        envs="OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$PORT"
    fi
    out=$(env -u OTEL_EXPORTER_OTLP_ENDPOINT $envs "$DRIVER" --quiet "$@")
    echo "$out" | sed 's/.*"wall_ms":\([0-9.]*\).*/\1/'
}

median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f", m}'; }

bench() {
    name=$1; shift
    : > "$TMP/none"; : > "$TMP/full"
    one none "$@" >/dev/null; one full "$@" >/dev/null   # warm caches
    n=0
    while [ $n -lt "$RUNS" ]; do
        one none "$@" >> "$TMP/none"
        one full "$@" >> "$TMP/full"
        n=$((n + 1))
    done
    a=$(median < "$TMP/none"); b=$(median < "$TMP/full")
    awk -v n="$name" -v a="$a" -v b="$b" 'BEGIN {
        printf "%-34s none %8.2f ms   full %8.2f ms   +%.2f ms (%.0f%%)\n", n, a, b, b - a, (b - a) / a * 100 }'
}

echo "audit bench: $RUNS alternating runs each, median wall time of the whole driver process"
echo "(full = JSON lines file + OTLP/HTTP logs and traces to 127.0.0.1, bounded flush at exit)"
bench "run /bin/true (4 events)" --run /bin/true --events 4
bench "1,000 denied connections (1004 ev.)" --run /bin/true --events 4 --connects 1000
lines=$(wc -l < "$TMP/audit.jsonl")
echo "JSON lines written in total: $lines"

# The real thing, when this tree's cordon can run a sandbox here.
CORDON=$BUILD/cordon
if [ -x "$CORDON" ] && "$CORDON" run -- /bin/true >/dev/null 2>&1; then
    python3 - "$CORDON" "$PORT" "$TMP" "$RUNS" <<'PY'
import os, statistics, subprocess, sys, time
cordon, port, tmp, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
base = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
full = dict(base, OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port}")
def one(env, args):
    t = time.perf_counter()
    subprocess.run([cordon, "run", *args, "--", "/bin/true"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return (time.perf_counter() - t) * 1000
a, b = [], []
for _ in range(runs):
    a.append(one(base, []))
    b.append(one(full, ["--audit-log", os.path.join(tmp, "real.jsonl")]))
ma, mb = statistics.median(a), statistics.median(b)
print(f"{'cordon run -- /bin/true (real)':34s} none {ma:8.2f} ms   full {mb:8.2f} ms   "
      f"+{mb - ma:.2f} ms ({(mb - ma) / ma * 100:.0f}%)")

# 1,000 connections the egress broker denies (CONNECT through the proxy
# cordon gives the sandbox), each a net.deny event.
settings = os.path.join(tmp, "net.json")
with open(settings, "w") as f:
    f.write('{"network":{"allowedDomains":["example.com"]}}')
script = (
    "import os,socket\n"
    "h,p=os.environ['HTTP_PROXY'].rsplit('/',1)[1].split(':')\n"
    "for i in range(1000):\n"
    "  s=socket.create_connection((h,int(p)))\n"
    "  s.sendall(b'CONNECT denied.test:443 HTTP/1.1\\r\\nHost: denied.test:443\\r\\n\\r\\n')\n"
    "  s.recv(4096); s.close()\n")
def deny(env, args):
    t = time.perf_counter()
    subprocess.run([cordon, "run", "--settings", settings, *args, "--", "python3", "-c", script],
                   env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.perf_counter() - t) * 1000
try:
    deny(base, [])
    a, b = [], []
    for _ in range(max(3, runs // 3)):
        a.append(deny(base, []))
        b.append(deny(full, ["--audit-log", os.path.join(tmp, "real-deny.jsonl")]))
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"{'cordon run: 1,000 denied (real)':34s} none {ma:8.2f} ms   full {mb:8.2f} ms   "
          f"+{mb - ma:.2f} ms ({(mb - ma) / ma * 100:.0f}%)")
except subprocess.CalledProcessError as e:
    print(f"cordon run: 1,000 denied (real): could not run ({e}); skipped")
PY
else
    echo "cordon run -- /bin/true (real): $CORDON cannot run a sandbox here; skipped"
fi
