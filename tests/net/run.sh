#!/bin/bash
# The egress broker's end-to-end test, on a network the test builds itself.
#
#   client netns (cordon's host side: broker, net_driver)
#     veth 198.51.100.1/24, 10.77.0.1/24, 169.254.169.1/16
#        |
#   inet netns (the test "internet")
#     veth 198.51.100.2/24 (public-looking, TEST-NET-2), 10.77.0.2/24 (private),
#          169.254.169.254/16 (metadata);  dnsmasq :53, HTTP :80 :8080,
#          HTTPS :443 (test CA), UDP sink :7777
#
# Neither namespace has a default route: no packet can leave them.  The
# sandbox is a further netns made by net_driver inside the client netns.
# usage: run.sh NET_DRIVER RAWGET [CORDON]
# With CORDON, the same inside script also runs under the real `cordon run`
# (settings file, --dns-upstream, --audit-log), as users get it.
set -u
DRIVER=$(realpath "$1")
RAWGET=$(realpath "$2")
CORDON=${3:+$(realpath "$3")}
HERE=$(cd "$(dirname "$0")" && pwd)

if [ "$(id -u)" != 0 ]; then
    echo "FAIL: tests/net needs root (it creates network namespaces); run it in the root CI leg"
    exit 1
fi
missing=
for t in ip dnsmasq curl wget git python3 node openssl; do
    command -v "$t" >/dev/null || missing="$missing $t"
done
if [ -n "$missing" ]; then
    echo "FAIL: tests/net needs:$missing (scripts/deps.sh test installs them)"
    exit 1
fi

# Not under /tmp: `cordon run` gives the sandbox a private /tmp.
mkdir -p /var/lib/cordon-tests
W=$(mktemp -d /var/lib/cordon-tests/net.XXXXXX)
chmod 755 "$W"
# What the inside scripts run must be visible in a sandbox, whose /tmp is
# private: the build tree may be anywhere (a CI clone under /tmp, say).
mkdir -p "$W/t"
cp "$RAWGET" "$W/t/rawget" && cp "$HERE"/*.py "$W/t/" || { echo "FAIL: copying helpers"; exit 1; }
RAWGET=$W/t/rawget
INSIDE_HERE=$W/t
NI=cdnt-i$$
NC=cdnt-c$$
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
    [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT

inet() { ip netns exec "$NI" "$@"; }
client() { ip netns exec "$NC" "$@"; }

ip netns add "$NI" && ip netns add "$NC" || { echo "FAIL: ip netns add"; exit 1; }
ip link add ci$$ netns "$NC" type veth peer name ii$$ netns "$NI" || { echo "FAIL: veth"; exit 1; }
inet ip link set lo up
client ip link set lo up
inet ip link set ii$$ up
client ip link set ci$$ up
for a in 198.51.100.2/24 10.77.0.2/24 169.254.169.254/16; do inet ip addr add $a dev ii$$; done
for a in 198.51.100.1/24 10.77.0.1/24 169.254.169.1/16; do client ip addr add $a dev ci$$; done
inet ip addr add 2001:db8:100::2/64 dev ii$$ nodad
client ip addr add 2001:db8:100::1/64 dev ci$$ nodad

# --- test CA and server certificate ---
(
    cd "$W"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
        -subj "/CN=cordon test CA" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr \
        -subj "/CN=allowed.test" 2>/dev/null
    printf 'subjectAltName=DNS:self.test,DNS:allowed.test,DNS:www.allowed.test,DNS:denied.test,DNS:evil.allowed.test,DNS:private.test,DNS:metadata.test\n' > ext
    openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem \
        -days 2 -extfile ext 2>/dev/null
) || { echo "FAIL: openssl"; exit 1; }

# --- web content and a dumb-HTTP git repository ---
mkdir -p "$W/www"
echo "hello from the test internet" > "$W/www/index.html"
(
    cd "$W" && git init -q src && cd src && echo "cloned over the broker" > README &&
        git add README && git -c user.email=t@t -c user.name=t commit -qm init &&
        git clone -q --bare . "$W/www/repo.git" && cd "$W/www/repo.git" && git update-server-info
) || { echo "FAIL: git repo"; exit 1; }

# --- servers in the inet namespace ---
inet python3 "$HERE/http_server.py" "$W/www" 80 >"$W/http80.log" 2>&1 &
PIDS+=($!)
inet python3 -m http.server 80 --bind 2001:db8:100::2 -d "$W/www" >"$W/http80v6.log" 2>&1 &
PIDS+=($!)
inet python3 -m http.server 8080 --bind 0.0.0.0 -d "$W/www" >"$W/http8080.log" 2>&1 &
PIDS+=($!)
inet python3 "$HERE/https_server.py" "$W/www" "$W/srv.pem" "$W/srv.key" 443 >"$W/https.log" 2>&1 &
PIDS+=($!)
inet python3 -c '
import socket,sys
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("0.0.0.0",7777))
while True:
    d,a=s.recvfrom(2048); open(sys.argv[1],"a").write("got %r from %s\n"%(d,a))' "$W/udp.log" &
PIDS+=($!)
inet dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
    --listen-address=198.51.100.2 --bind-interfaces --port=53 --user=root \
    --log-queries --log-facility="$W/dnsmasq.log" --pid-file= \
    --host-record=allowed.test,198.51.100.2 --host-record=www.allowed.test,198.51.100.2 \
    --host-record=denied.test,198.51.100.2 --host-record=evil.allowed.test,198.51.100.2 \
    --host-record=private.test,10.77.0.2 --host-record=metadata.test,169.254.169.254 \
    --host-record=self.test,198.51.100.1 &
PIDS+=($!)
touch "$W/udp.log"

for i in $(seq 50); do
    client curl -s -o /dev/null --max-time 1 http://198.51.100.2/ &&
        client curl -s -o /dev/null --max-time 1 --cacert "$W/ca.pem" \
            --resolve allowed.test:443:198.51.100.2 https://allowed.test/ &&
        client python3 "$HERE/dnsq.py" 198.51.100.2 allowed.test | grep -q NOERROR && break
    sleep 0.2
done

# --- inside the sandbox ---
cat > "$W/inside.sh" <<'INSIDE'
set -u
pass=0; fail=0
ok() { pass=$((pass+1)); echo "ok - $*"; }
bad() { fail=$((fail+1)); echo "not ok - $*"; }
expect() { # expect DESC PATTERN CMD...: CMD's stdout+stderr must match PATTERN
    local desc=$1 pat=$2; shift 2
    local out; out=$("$@" 2>&1)
    if printf '%s' "$out" | grep -qE -- "$pat"; then ok "$desc"; else bad "$desc"; printf '    %s\n' "$out" | head -8; fi
}
expect_fail() { # expect_fail DESC CMD...: CMD must fail
    local desc=$1; shift
    local out; if out=$("$@" 2>&1); then bad "$desc (succeeded)"; printf '    %s\n' "$out" | head -4; else ok "$desc"; fi
}
HELLO='hello from the test internet'
C="curl -sS --max-time 10"
export CURL_CA_BUNDLE=$W/ca.pem SSL_CERT_FILE=$W/ca.pem NODE_EXTRA_CA_CERTS=$W/ca.pem GIT_SSL_CAINFO=$W/ca.pem

echo "# allowed name on every path"
expect "curl via HTTP_PROXY (absolute URI)" "$HELLO" $C http://allowed.test/index.html
expect "curl via HTTPS_PROXY (CONNECT)" "$HELLO" $C https://allowed.test/index.html
expect "curl via SOCKS5 (remote resolution)" "$HELLO" $C --proxy socks5h://127.0.0.1:1080 https://www.allowed.test/index.html
expect "curl --noproxy '*' https (transparent, SNI)" "$HELLO" $C --noproxy '*' https://allowed.test/index.html
expect "curl --noproxy '*' http (transparent, Host)" "$HELLO" $C --noproxy '*' http://allowed.test/index.html
expect "wget http via proxy" "$HELLO" wget -qO- --timeout=10 http://allowed.test/index.html
expect "wget https via proxy" "$HELLO" wget -qO- --timeout=10 --ca-certificate=$W/ca.pem https://allowed.test/index.html
rm -rf /tmp/cdn-clone-$$
expect "git clone over http" "cloned over the broker" sh -c "git clone -q http://allowed.test/repo.git /tmp/cdn-clone-$$ && cat /tmp/cdn-clone-$$/README"
rm -rf /tmp/cdn-clone-$$
expect "python urllib https" "$HELLO" python3 -c 'import urllib.request;print(urllib.request.urlopen("https://allowed.test/index.html",timeout=10).read().decode())'
expect "node fetch https" "$HELLO" node -e 'fetch("https://allowed.test/index.html").then(r=>r.text()).then(t=>console.log(t)).catch(e=>{console.log("ERR",e.cause||e);process.exit(1)})'
expect "raw socket program (ignores proxies)" "$HELLO" $RAWGET allowed.test 80
expect "listed IPv6 literal, no proxy (transparent over ::1)" "$HELLO" $C --noproxy '*' "http://[2001:db8:100::2]/index.html"
expect "listed IPv6 literal through the proxy" "$HELLO" $C "http://[2001:db8:100::2]/index.html"
expect "DNS answers an allowed name (synthetic 198.18/15)" "NOERROR 198\.1[89]\." python3 $HERE/dnsq.py 127.0.0.1 allowed.test
expect "DNS answers a wildcard-allowed name" "NOERROR 198\.1[89]\." python3 $HERE/dnsq.py 127.0.0.1 www.allowed.test

echo "# denials"
expect "denied name via proxy: 403 naming the rule" "X-Cordon-Denied: rule=no match in network.allowedDomains; allow-with=add \"denied.test\" to network.allowedDomains" $C -i http://denied.test/
expect "denied name via CONNECT: 403" "CONNECT tunnel failed, response 403|403" $C https://denied.test/
expect "denied name via SOCKS: reply 2, not allowed by ruleset" "SOCKS5.*\(2\)|not allowed by ruleset" $C --proxy socks5h://127.0.0.1:1080 https://denied.test/
expect_fail "denied name without proxy: no address" $C --noproxy '*' https://denied.test/
expect "DNS refuses a denied name" "^REFUSED" python3 $HERE/dnsq.py 127.0.0.1 denied.test
expect "DNS to an outside server is captured and refused" "^REFUSED" python3 $HERE/dnsq.py 198.51.100.2 denied.test
expect "DNS refuses TXT for an allowed name" "^REFUSED" python3 $HERE/dnsq.py 127.0.0.1 allowed.test 16
expect "DNS over TCP answers an allowed name" "NOERROR 198\.1[89]\." python3 $HERE/dnsq.py --tcp 127.0.0.1 allowed.test
expect "DNS over TCP refuses a denied name" "^REFUSED" python3 $HERE/dnsq.py --tcp 127.0.0.1 denied.test
expect "allowed name resolving to the host's own address: 403" "198.51.100.1 is one of the host's own addresses" $C -i http://self.test/
expect "deniedDomains wins over *.allowed.test" "deniedDomains \"evil.allowed.test\"" $C -i http://evil.allowed.test/
expect "IP literal via proxy: 403" "IP literal not in network.allowedDomains" $C -i http://198.51.100.2/
expect "IP literal by raw socket: denied" "IP literal not in network.allowedDomains" $RAWGET 198.51.100.2 80 198.51.100.2
expect "unlisted IPv6 literal by raw socket: denied" "IP literal not in network.allowedDomains" $RAWGET 2001:db8:100::3 80 '[2001:db8:100::3]'
expect "allowed name resolving to a private address: 403" "resolved address 10.77.0.2 is private" $C -i http://private.test/
expect "allowed name resolving to the metadata address: 403" "169.254.169.254 is link-local" $C -i http://metadata.test/
expect "DNS refuses a name resolving to a private address" "^REFUSED" python3 $HERE/dnsq.py 127.0.0.1 private.test
expect "port not allowed: 403" "port 8080 is not allowed" $C -i http://allowed.test:8080/
expect "CONNECT to a port not allowed: 403" "403" $C -sv https://allowed.test:8080/
expect_fail "mismatched SNI inside CONNECT (domain fronting)" $C --connect-to denied.test:443:allowed.test:443 https://denied.test/
expect_fail "mismatched SNI by transparent capture" $C --noproxy '*' --connect-to denied.test:443:allowed.test:443 https://denied.test/
expect "Host header differs from the URI (fronting): 403" "HTTP Host \"denied.test\" does not match" $C -i -H 'Host: denied.test' http://allowed.test/
expect "raw socket with a fronted Host header: denied" "does not match" $RAWGET allowed.test 80 denied.test
expect "pipelined second request (other Host) is not served" "^responses=1$" python3 -c '
import socket
s = socket.create_connection(("allowed.test", 80), timeout=10)
s.sendall(b"GET /index.html HTTP/1.1\r\nHost: allowed.test\r\n\r\nGET /index.html HTTP/1.1\r\nHost: denied.test\r\n\r\n")
data = b""
while True:
    d = s.recv(65536)
    if not d: break
    data += d
print("responses=%d" % data.count(b"HTTP/1.1 200"))'
python3 -c 'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.sendto(b"leak",("198.51.100.2",7777))' 2>/dev/null
# Under `cordon run` a raw socket cannot even be made (no CAP_NET_RAW).
expect "ICMP echo goes nowhere" "^(blocked|no reply|no raw socket)" python3 -c '
import socket, struct
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
pkt = struct.pack("!BBHHH", 8, 0, 0, 1, 1) + b"cordon"
pkt = pkt[:2] + struct.pack("!H", csum(pkt)) + pkt[4:]
try:
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP); s.settimeout(2)
except PermissionError:
    print("no raw socket"); raise SystemExit
try:
    s.sendto(pkt, ("198.51.100.2", 0))
except OSError as e:
    print("blocked:", e); raise SystemExit
try:
    while True:
        d, a = s.recvfrom(2048)
        if a[0] == "198.51.100.2" and d[20] == 0: print("reply"); break
except socket.timeout:
    print("no reply")'
echo "$pass passed, $fail failed (inside)"
[ $fail = 0 ]
INSIDE

EV="$W/events.log"
: > "$EV"
client env W="$W" HERE="$INSIDE_HERE" RAWGET="$RAWGET" HOME="$W" \
    timeout -k 5 200 "$DRIVER" --upstream 198.51.100.2 --events "$EV" \
    --allow allowed.test --allow '*.allowed.test' --allow private.test --allow metadata.test \
    --allow self.test --allow '[2001:db8:100::2]' \
    --deny evil.allowed.test \
    -- bash "$W/inside.sh" | tee "$W/inside.out"
inside_rc=${PIPESTATUS[0]}

# --- a sandbox with no allow list and a connection limit of 1 ---
cat > "$W/inside2.sh" <<'INSIDE'
set -u
pass=0; fail=0
expect() {
    local desc=$1 pat=$2; shift 2
    local out; out=$("$@" 2>&1)
    if printf '%s' "$out" | grep -qE -- "$pat"; then pass=$((pass+1)); echo "ok - $desc"; else fail=$((fail+1)); echo "not ok - $desc"; printf '    %s\n' "$out" | head -8; fi
}
expect "empty allow list: a clear denial, not a DNS failure" "X-Cordon-Denied: rule=network.allowedDomains is empty \(no network\)" curl -sS -i --max-time 10 http://allowed.test/
expect "empty allow list: DNS refuses" "^REFUSED" python3 $HERE/dnsq.py 127.0.0.1 allowed.test
expect "connection limit: 503 with the reason" "X-Cordon-Denied: rule=connection limit reached \\(1 per sandbox\\)" python3 -c '
import socket, subprocess
held = socket.create_connection(("127.0.0.1", 3128))
r = subprocess.run(["curl", "-sS", "-i", "--max-time", "10", "http://allowed.test/"], capture_output=True, text=True)
print(r.stdout, r.stderr)'
expect "handshake timeout closes a silent client" "closed after [0-9.]+ s" python3 -c '
import socket, time
s = socket.create_connection(("127.0.0.1", 1080)); t = time.time(); s.settimeout(30)
print("closed after %.1f s" % (time.time() - t) if s.recv(1) == b"" else "data?")'
echo "$pass passed, $fail failed (inside, no allow list)"
[ $fail = 0 ]
INSIDE
EV2="$W/events2.log"
client env W="$W" HERE="$INSIDE_HERE" HOME="$W" \
    timeout -k 5 100 "$DRIVER" --upstream 198.51.100.2 --events "$EV2" --max-conn 1 \
    -- bash "$W/inside2.sh" | tee "$W/inside2.out"
inside2_rc=${PIPESTATUS[0]}

# --- through a parent (corporate) proxy ---
inet python3 "$HERE/parent_proxy.py" 3130 198.51.100.2 "$W/parent.log" &
touch "$W/parent.log"
for i in $(seq 50); do client python3 -c 'import socket;socket.create_connection(("198.51.100.2",3130),timeout=1)' 2>/dev/null && break; sleep 0.1; done
cat > "$W/inside3.sh" <<'INSIDE'
set -u
pass=0; fail=0
expect() {
    local desc=$1 pat=$2; shift 2
    local out; out=$("$@" 2>&1)
    if printf '%s' "$out" | grep -qE -- "$pat"; then pass=$((pass+1)); echo "ok - $desc"; else fail=$((fail+1)); echo "not ok - $desc"; printf '    %s\n' "$out" | head -8; fi
}
export CURL_CA_BUNDLE=$W/ca.pem
expect "parentProxy: allowed name works through the parent" "hello from the test internet" curl -sS --max-time 10 https://allowed.test/index.html
expect "parentProxy: plain http too" "hello from the test internet" curl -sS --max-time 10 --noproxy '*' http://allowed.test/index.html
expect "parentProxy: denied name is denied before the parent" "no match in network.allowedDomains" curl -sS -i --max-time 10 http://denied.test/
echo "$pass passed, $fail failed (inside, parent proxy)"
[ $fail = 0 ]
INSIDE
client env W="$W" HOME="$W" \
    timeout -k 5 100 "$DRIVER" --upstream 198.51.100.2 --parent-proxy http://198.51.100.2:3130 \
    --allow allowed.test -- bash "$W/inside3.sh" | tee "$W/inside3.out"
inside3_rc=${PIPESTATUS[0]}

# --- the same, through the real `cordon run` ---
cordon_rc=0
if [ -n "$CORDON" ]; then
    cat > "$W/settings.json" <<'JSON'
{
  "network": {
    "allowedDomains": ["allowed.test", "*.allowed.test", "private.test", "metadata.test",
                       "self.test", "[2001:db8:100::2]"],
    "deniedDomains": ["evil.allowed.test"]
  }
}
JSON
    client env W="$W" HERE="$INSIDE_HERE" RAWGET="$RAWGET" HOME="$W" \
        timeout -k 5 200 "$CORDON" run --quiet --settings "$W/settings.json" --workspace "$W" \
        --dns-upstream 198.51.100.2 --audit-log "$W/cordon.jsonl" \
        -- bash "$W/inside.sh" | tee "$W/cordon.out"
    cordon_rc=${PIPESTATUS[0]}
fi

# --- cordon run: allowLocalPorts and --publish, on the client namespace's
# loopback (the host side's) ---
local_rc=0
publish_rc=0
if [ -n "$CORDON" ]; then
    mkdir -p "$W/lo" "$W/pub"
    echo "served on the host's loopback" > "$W/lo/index.html"
    echo "served inside the sandbox" > "$W/pub/index.html"
    client python3 -m http.server 18431 --bind 127.0.0.1 -d "$W/lo" >/dev/null 2>&1 &
    client python3 -m http.server 18432 --bind 127.0.0.1 -d "$W/lo" >/dev/null 2>&1 &
    for i in $(seq 50); do
        client curl -s -o /dev/null --max-time 1 http://127.0.0.1:18431/ &&
            client curl -s -o /dev/null --max-time 1 http://127.0.0.1:18432/ && break
        sleep 0.1
    done
    cat > "$W/inside4.sh" <<'INSIDE'
set -u
pass=0; fail=0
expect() {
    local desc=$1 pat=$2; shift 2
    local out; out=$("$@" 2>&1)
    if printf '%s' "$out" | grep -qE -- "$pat"; then pass=$((pass+1)); echo "ok - $desc"; else fail=$((fail+1)); echo "not ok - $desc"; printf '    %s\n' "$out" | head -8; fi
}
expect "allowLocalPorts ($MODE): the listed host port answers on 127.0.0.1" "served on the host's loopback" curl -sS --max-time 10 --noproxy '*' http://127.0.0.1:18431/
expect "allowLocalPorts ($MODE): an unlisted host port stays unreachable" "Connection refused|Failed to connect" curl -sS --max-time 10 --noproxy '*' http://127.0.0.1:18432/
echo "$pass passed, $fail failed (inside, allowLocalPorts, $MODE)"
[ $fail = 0 ]
INSIDE
    printf '{"network": {"allowedDomains": ["allowed.test"]}, "cordon": {"allowLocalPorts": [18431]}}\n' \
        > "$W/local-broker.json"
    printf '{"cordon": {"allowLocalPorts": [18431]}}\n' > "$W/local-only.json"
    for mode in broker only; do
        client env W="$W" HOME="$W" MODE="$mode" \
            timeout -k 5 100 "$CORDON" run --quiet --settings "$W/local-$mode.json" --workspace "$W" \
            --dns-upstream 198.51.100.2 --audit-log "$W/local-$mode.jsonl" \
            -- bash "$W/inside4.sh" | tee -a "$W/local.out"
        [ "${PIPESTATUS[0]}" = 0 ] || local_rc=1
    done

    # --publish: the sandbox's server reached from the host side, then gone.
    # Not through client(): $! must be the process that gets the signal
    # (ip netns exec execs timeout, which passes SIGTERM on to cordon).
    ip netns exec "$NC" timeout -k 5 60 "$CORDON" run --quiet --no-pty --workspace "$W" \
        --audit-log "$W/publish.jsonl" --publish 18080 \
        -- python3 -m http.server 18080 --bind 127.0.0.1 -d "$W/pub" >"$W/publish.out" 2>&1 &
    cpid=$!
    got=
    for i in $(seq 100); do
        got=$(client curl -s --max-time 2 http://127.0.0.1:18080/) && [ -n "$got" ] && break
        sleep 0.1
    done
    if [ "$got" = "served inside the sandbox" ]; then echo "ok - --publish: the host reaches the sandbox's server"
    else echo "not ok - --publish: the host got '$got'"; publish_rc=1; fi
    kill -TERM "$cpid" 2>/dev/null
    wait "$cpid"
    if client curl -s --max-time 2 http://127.0.0.1:18080/ >/dev/null; then
        echo "not ok - --publish: the port stays open after cordon exits"; publish_rc=1
        client ss -ltnp | sed 's/^/    /'; ps -ef | grep -E "[c]ordon|[h]ttp.server 18080" | sed 's/^/    /'
    else echo "ok - --publish: the port is closed after cordon exits"; fi
fi

# --- what the broker reported, and what reached the test internet ---
pass=0; fail=0
check() { if grep -qE -- "$2" "$3"; then pass=$((pass+1)); echo "ok - $1"; else fail=$((fail+1)); echo "not ok - $1"; fi; }
check_not() { if grep -qE -- "$2" "$3"; then fail=$((fail+1)); echo "not ok - $1"; grep -E -- "$2" "$3" | head -3; else pass=$((pass+1)); echo "ok - $1"; fi; }
echo "# events and leaks"
check "allow event with bytes for allowed.test over CONNECT" "^allow connect allowed.test 198.51.100.2 443 out=[1-9][0-9]* in=[1-9]" "$EV"
check "allow event for transparent capture" "^allow transparent allowed.test 198.51.100.2 (80|443) out=[1-9]" "$EV"
check "allow event for IPv6 transparent capture" "^allow transparent 2001:db8:100::2 2001:db8:100::2 80 out=[1-9]" "$EV"
check "allow event for SOCKS5" "^allow socks5 www.allowed.test 198.51.100.2 443" "$EV"
check "deny event for a denied name (http)" "^deny http denied.test .* rule=no match in network.allowedDomains" "$EV"
check "deny event for a denied DNS query" "^deny dns denied.test .* rule=no match" "$EV"
check "allow event for an answered DNS query, with its pattern" '^allow dns allowed.test 198\.1[89]\.[0-9.]+ 53 .*rule=network.allowedDomains "allowed.test"' "$EV"
check "deny event for a TXT query" '^deny dns allowed.test - 53 .*rule=only A and AAAA queries are answered' "$EV"
check "allow event for a wildcard DNS answer" '^allow dns www.allowed.test .*rule=network.allowedDomains "\*.allowed.test"' "$EV"
check "deny event for deniedDomains" "^deny http evil.allowed.test .*rule=network.deniedDomains" "$EV"
check "deny event for an IP literal" "^deny (http|transparent) 198.51.100.2 .*IP literal" "$EV"
check "deny event for a private address" "^deny http private.test 10.77.0.2 .*is private" "$EV"
check "deny event for the metadata address" "^deny http metadata.test 169.254.169.254 .*link-local" "$EV"
check "deny event for a port not allowed" "^deny http allowed.test .* 8080 .*port 8080" "$EV"
check "deny event for SNI fronting in CONNECT" "^deny connect allowed.test .*TLS SNI \"denied.test\" does not match" "$EV"
check "deny event for SNI fronting in transparent capture" "^deny transparent denied.test .*does not match" "$EV"
check_not "denied names never reached the upstream DNS" "query\[[A-Z]+\] denied.test" "$W/dnsmasq.log"
check_not "no UDP left the sandbox" "leak" "$W/udp.log"
check "deny event for the empty allow list" "^deny http allowed.test .*rule=network.allowedDomains is empty" "$EV2"
check "deny event for the connection limit" "^deny http - .*connection limit reached" "$EV2"
check "deny event for the handshake timeout" "^deny socks5 - .*handshake timeout" "$EV2"
check "the parent proxy got CONNECT by name" "^CONNECT allowed.test:443 " "$W/parent.log"
check_not "denied names never reached the parent proxy" "denied.test" "$W/parent.log"
if [ -n "$CORDON" ]; then
    echo "# cordon run: audit events"
    J="$W/cordon.jsonl"
    check "cordon run: net.allow for allowed.test with bytes" '"kind":"net.allow".*"host":"allowed.test".*"bytes_out":[1-9]' "$J"
    check "cordon run: net.deny for denied.test" '"kind":"net.deny".*"host":"denied.test"' "$J"
    check "cordon run: net.deny for the metadata address" '"kind":"net.deny".*"host":"metadata.test"' "$J"
    check "cordon run: net.deny for deniedDomains" '"kind":"net.deny".*"host":"evil.allowed.test"' "$J"
    check "cordon run: net.allow for a DNS answer" '"kind":"net.allow".*"host":"allowed.test".*"port":53,"protocol":"udp","rule":"network.allowedDomains' "$J"
    for mode in broker only; do
        check "cordon run: net.allow for allowLocalPorts ($mode)" '"kind":"net.allow".*"port":18431,"protocol":"tcp","rule":"allowLocalPorts 18431","bytes_in":[1-9]' "$W/local-$mode.jsonl"
    done
    check "cordon run: net.allow for --publish" '"kind":"net.allow".*"port":18080,"protocol":"tcp","rule":"publish 18080","bytes_in":[1-9]' "$W/publish.jsonl"
fi
echo "$pass passed, $fail failed (events)"
if [ "$inside_rc" != 0 ] || [ "$inside2_rc" != 0 ] || [ "$inside3_rc" != 0 ] || [ "$cordon_rc" != 0 ] ||
    [ "$local_rc" != 0 ] || [ "$publish_rc" != 0 ] || [ "$fail" != 0 ]; then
    echo "FAIL: see above (KEEP=1 keeps $W)"
    exit 1
fi
exit 0
