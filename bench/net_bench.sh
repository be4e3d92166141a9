#!/bin/bash
# Egress-broker benchmark on a network the script builds itself (two network
# namespaces joined by veth, no route anywhere else; run as root).
#   1. throughput of one 1 GiB transfer: direct, through the broker's CONNECT
#      tunnel, and through squid (if installed)
#   2. connection-setup latency (CONNECT until "200"), p50/p99 over N requests
#   3. broker RSS with M idle tunnels open, and its descriptors afterwards
# usage: bench/net_bench.sh [BUILD_DIR]   (env: BYTES, REQUESTS, TUNNELS)
set -u
B=$(realpath "${1:-build}")
DRIVER=$B/tests/net/net_driver
BYTES=${BYTES:-1073741824}
REQUESTS=${REQUESTS:-10000}
# The hard descriptor limit here is 20000 and the broker holds two per
# tunnel, so the default stays just under it.
TUNNELS=${TUNNELS:-9000}
[ "$(id -u)" = 0 ] || { echo "net_bench: needs root (network namespaces)"; exit 1; }
[ -x "$DRIVER" ] || { echo "net_bench: build first ($DRIVER missing)"; exit 1; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

W=$(mktemp -d /tmp/cdn-net-bench.XXXXXX)
NI=cdnb-i$$
NC=cdnb-c$$
PIDS=()
cleanup() {
    # Everything the test started runs inside its two namespaces.
    for ns in "$NI" "$NC"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
    done
    sleep 0.3
    for ns in "$NI" "$NC"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
    done
    ip netns del "$NI" 2>/dev/null
    ip netns del "$NC" 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT
inet() { ip netns exec "$NI" "$@"; }
client() { ip netns exec "$NC" "$@"; }
ip netns add "$NI"; ip netns add "$NC"
ip link add cb$$ netns "$NC" type veth peer name ib$$ netns "$NI"
inet ip link set lo up; client ip link set lo up
inet ip link set ib$$ up; client ip link set cb$$ up
inet ip addr add 198.51.100.2/24 dev ib$$
client ip addr add 198.51.100.1/24 dev cb$$

# Servers: 9000 sends BYTES after any request line; 9001 answers a tiny
# HTTP response; 9002 accepts and holds connections.
cat > "$W/srv.py" <<'PY'
import socket, sys, threading
BYTES = int(sys.argv[1])
def listen(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(4096); return s
def bulk(c):
    c.recv(65536)
    c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % BYTES)
    buf = b"\0" * (1 << 20); left = BYTES
    while left > 0:
        n = min(left, len(buf)); c.sendall(buf[:n]); left -= n
    c.close()
def small(c):
    try:
        c.recv(4096); c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
    finally:
        c.close()
held = []
def serve(port, fn):
    s = listen(port)
    while True:
        c, _ = s.accept()
        if fn is None: held.append(c)
        else: threading.Thread(target=fn, args=(c,), daemon=True).start()
for port, fn in ((9000, bulk), (9001, small)):
    threading.Thread(target=serve, args=(port, fn), daemon=True).start()
serve(9002, None)
PY
inet python3 "$W/srv.py" "$BYTES" & PIDS+=($!)
inet dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
    --listen-address=198.51.100.2 --bind-interfaces --port=53 --user=root --pid-file= \
    --host-record=bench.test,198.51.100.2 >/dev/null 2>&1 & PIDS+=($!)
sleep 1

echo "== net_bench: $(date -u +%FT%TZ), $(nproc) cores, kernel $(uname -r)"
echo "== 1. throughput, one $((BYTES >> 20)) MiB transfer"
mbps() { awk -v b="$1" '{printf "%.0f MiB/s (%.2f s)", b/1048576/$1, $1}'; }
direct=$(client curl -s -o /dev/null -w '%{time_total}\n' http://198.51.100.2:9000/)
echo "direct:               $(echo "$direct" | mbps "$BYTES")"

cat > "$W/inside_tp.sh" <<'SH'
curl -s -p -o /dev/null -w '%{time_total}\n' -x http://127.0.0.1:3128 http://bench.test:9000/
SH
tp=$(client "$DRIVER" --upstream 198.51.100.2 --allow bench.test:9000 -- bash "$W/inside_tp.sh")
echo "cordon CONNECT:       $(echo "$tp" | mbps "$BYTES")"

SQUID=
if command -v squid >/dev/null; then
    cat > "$W/squid.conf" <<SQ
http_port 127.0.0.1:3129
acl all_ports port 1-65535
http_access allow all
cache deny all
cache_mem 8 MB
access_log none
cache_log $W/squid-cache.log
pid_filename $W/squid.pid
coredump_dir $W
max_filedescriptors 65536
SQ
    client squid -N -f "$W/squid.conf" >/dev/null 2>&1 & PIDS+=($!)
    for i in $(seq 50); do client curl -s -o /dev/null -x http://127.0.0.1:3129 http://198.51.100.2:9001/ && break; sleep 0.2; done
    SQUID=1
    sq=$(client curl -s -p -o /dev/null -w '%{time_total}\n' -x http://127.0.0.1:3129 http://198.51.100.2:9000/)
    echo "squid CONNECT:        $(echo "$sq" | mbps "$BYTES")"
else
    echo "squid:                not installed (apt-get install squid)"
fi

echo "== 2. setup latency, $REQUESTS CONNECTs (until '200' received), then one tiny exchange"
cat > "$W/lat.py" <<'PY'
import socket, sys, time
host, port, n, target = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
lat = []
for i in range(n):
    t = time.perf_counter()
    s = socket.create_connection((host, port))
    s.sendall(b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target.encode(), target.encode()))
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d: break
        buf += d
    lat.append(time.perf_counter() - t)
    if b" 200" not in buf.split(b"\r\n")[0]:
        print("failed:", buf[:80]); sys.exit(1)
    s.sendall(b"GET / HTTP/1.0\r\n\r\n"); 
    while s.recv(4096): pass
    s.close()
lat.sort()
print("p50 %.3f ms  p99 %.3f ms" % (lat[len(lat)//2]*1000, lat[int(len(lat)*0.99)]*1000))
PY
cat > "$W/inside_lat.sh" <<SH
python3 $W/lat.py 127.0.0.1 3128 $REQUESTS bench.test:9001
SH
echo "cordon:               $(client "$DRIVER" --upstream 198.51.100.2 --allow bench.test:9001 -- bash "$W/inside_lat.sh")"
[ -n "$SQUID" ] && echo "squid:                $(client python3 "$W/lat.py" 127.0.0.1 3129 "$REQUESTS" 198.51.100.2:9001)"

echo "== 3. memory with $TUNNELS idle tunnels, descriptors after"
cat > "$W/idle.py" <<'PY'
import os, socket, sys, time
n, broker = int(sys.argv[1]), int(sys.argv[2])
def rss(): 
    for l in open("/proc/%d/status" % broker):
        if l.startswith("VmRSS:"): return int(l.split()[1])
def fds(): return len(os.listdir("/proc/%d/fd" % broker))
r0, f0 = rss(), fds()
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", 3128))
    s.sendall(b"CONNECT bench.test:9002 HTTP/1.1\r\n\r\n")
    socks.append(s)
for s in socks:
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d: print("tunnel closed early"); sys.exit(1)
        buf += d
time.sleep(1)
r1 = rss()
print("broker RSS %d KiB idle, %d KiB with %d tunnels: %.1f KiB per tunnel" % (r0, r1, n, (r1 - r0) / n))
for s in socks: s.close()
for i in range(100):
    if fds() <= f0: break
    time.sleep(0.1)
print("broker descriptors: %d before, %d after closing all (%s)" % (f0, fds(), "no leak" if fds() <= f0 else "LEAK"))
PY
cat > "$W/inside_idle.sh" <<SH
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
python3 $W/idle.py $TUNNELS \$PPID
SH
client "$DRIVER" --upstream 198.51.100.2 --allow bench.test:9002 --max-conn $((TUNNELS + 100)) \
    -- bash "$W/inside_idle.sh"
