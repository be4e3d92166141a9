#!/bin/bash
# Tests of `cordon radius` (meson test suite 'radius').
#   tests/radius/run.sh [--cordon PATH] [--probe PATH] [--no-html] [--no-user]
# Prints one TAP line per check and finally exactly "N passed, N failed".
# As root it also runs itself (without the browser checks) as the
# unprivileged user $CI_USER (default cordon-ci, created when missing).
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CORDON=$ROOT/build/cordon
PROBE=$ROOT/build/cordon-probe
HTML=1
USER_PASS=1
CI_USER=${CI_USER:-cordon-ci}
while [ $# -gt 0 ]; do
    case $1 in
    --cordon) CORDON=$2; shift 2 ;;
    --probe) PROBE=$2; shift 2 ;;
    --no-html) HTML=0; shift ;;
    --no-user) USER_PASS=0; shift ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
PY=/usr/bin/python3
fatal() { echo "run.sh: $*" >&2; echo "0 passed, 1 failed"; exit 1; }
[ -x "$CORDON" ] || fatal "no cordon binary at $CORDON (build it: make)"
[ -x "$PROBE" ] || fatal "no probe at $PROBE (build it: make)"
[ -x "$PY" ] || fatal "/usr/bin/python3 is missing"

# Scratch space visible inside the sandbox (not /tmp, /run, /root).
if [ "$(id -u)" = 0 ]; then base=/var/lib/cordon-tests; else base=$HOME/.cache/cordon-tests; fi
mkdir -p "$base" || fatal "cannot create $base"
T=$(mktemp -d "$base/radius.XXXXXX") || fatal "cannot create a scratch directory"
chmod 755 "$T"
trap 'rm -rf "$T"' EXIT
LAB=$T/labs
mkdir -p "$LAB"
OUT=$T/out
export LANG=C.UTF-8
unset XDG_CONFIG_HOME
# Keep the invoking user's own settings out: every run names its policy.
echo '{}' >"$T/default.json.settings"

n=0
failed=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() {
    n=$((n + 1)); failed=$((failed + 1))
    echo "not ok $n - $1"; shift
    local m; for m in "$@"; do echo "#   $m"; done
}
check() { local name=$1; shift; if "$@" >"$T/check.out" 2>&1; then pass "$name"; else fail "$name" "$(head -c 1500 "$T/check.out")"; fi; }

# radius NAME WANT-STATUS OUTFILE ARGS...: run cordon radius, stdout to OUTFILE.
radius() {
    local name=$1 want=$2 out=$3; shift 3
    timeout -k 5 300 "$CORDON" radius --lab "$LAB" --probe "$PROBE" "$@" >"$out" 2>"$T/stderr"
    local rc=$?
    if [ "$rc" = "$want" ]; then pass "$name (exit $rc)"
    else fail "$name: expected exit $want, got $rc" "$(head -c 1500 "$T/stderr")" "$(head -c 800 "$out")"; fi
}

# Queries on --json reports, in Python.
jq_() { "$PY" - "$@" <<'EOF'
import json, sys
cmd, args = sys.argv[1], sys.argv[2:]
def load(p): return json.load(open(p))
def reached(d): return {p["id"] for p in d["probes"] if p["verdict"] == "reached"}
if cmd == "required_reached":
    print(load(args[0])["summary"]["required_reached"])
elif cmd == "verdict":
    d = load(args[0])
    print([p["verdict"] for p in d["probes"] if p["id"] == args[1]][0])
elif cmd == "reached_diff":  # reached in A but not in B, and in B but not in A
    a, b = reached(load(args[0])), reached(load(args[1]))
    print(" ".join(sorted(a - b)) + "|" + " ".join(sorted(b - a)))
elif cmd == "schema":
    d = load(args[0])
    assert d["cordon_radius"] == 1
    s = d["summary"]
    assert s["reached"] + s["contained"] == s["applicable"]
    assert s["applicable"] + s["not_applicable"] == len(d["probes"])
    ids = set()
    for p in d["probes"]:
        assert p["verdict"] in ("reached", "contained", "not applicable"), p
        assert p["category"] in ("secrets", "filesystem", "processes", "network", "ipc",
                                 "kernel", "devices", "resources"), p
        assert p["id"] not in ids, p["id"]
        ids.add(p["id"])
        assert p["evidence"], p
    for c in d["categories"]:
        got = [p["verdict"] for p in d["probes"] if p["category"] == c["name"]]
        assert c["reached"] == got.count("reached"), c
    print("ok")
elif cmd == "required_contained_each":  # every required category has contained probes
    d = load(args[0])
    bad = [c["name"] for c in d["categories"] if c["required"] and c["contained"] == 0]
    if bad: print("no contained probe in " + " ".join(bad)); sys.exit(1)
elif cmd == "baseline_detects":
    # Every probe of a required category is reached without a sandbox, or
    # not applicable on this host for a reason listed in docs/radius.md.
    d = load(args[0])
    justified = {
        "secrets.host-ssh-agent": "no ssh agent running",
        "secrets.host-gpg-agent": "no gpg agent running",
        "secrets.ssh-host-key": "no ssh server keys",
        "secrets.shadow": "unprivileged: /etc/shadow unreadable even without a sandbox",
        "secrets.root-home": "unprivileged: /root unreadable even without a sandbox",
        "filesystem.path-dir": "no writable folder on PATH for this user",
        "filesystem.cron": "unprivileged: /etc/cron.d not writable",
        "filesystem.host-tmp": "no writable /tmp",
        "filesystem.delete": "only under read-write-no-delete (tested separately)",
        "filesystem.rename-away": "only under read-write-no-delete (tested separately)",
        "ipc.docker": "no Docker daemon", "ipc.dbus-system": "no system bus",
        "ipc.dbus-session": "no session bus", "ipc.shm": "no writable /dev/shm",
    }
    req = set(d["required"])
    bad = []
    for p in d["probes"]:
        if p["category"] not in req or p["verdict"] == "reached":
            continue
        if p["verdict"] == "not applicable" and p["id"] in justified:
            print("# n/a in baseline: %s (%s): %s" % (p["id"], justified[p["id"]], p["evidence"]))
            continue
        bad.append("%s %s: %s" % (p["id"], p["verdict"], p["evidence"]))
    if bad: print("\n".join(bad)); sys.exit(1)
elif cmd == "in_category_reached":
    d = load(args[0])
    print(sum(1 for p in d["probes"] if p["verdict"] == "reached" and p["category"] in args[1].split(",")))
EOF
}

echo "# cordon: $CORDON"
echo "# as:     $(id -un) (uid $(id -u)), kernel $(uname -r)"

# 0. The probe operations radius relies on, on the host.
echo "xx CANARY-TEST-1234 yy" >"$T/canary.txt"
printf 'a\tread-match\t%s\t4321-TSET-YRANAC\nb\tenv-match\tRADIUS_T\t4321-TSET-YRANAC\nc\tfrobnicate\nd\tudp-route\t203.0.113.10\t9\ne\tlist\t%s\n' \
    "$T/canary.txt" "$T" >"$T/b.tsv"
RADIUS_T=CANARY-TEST-1234 "$PROBE" batch "$T/b.tsv" >"$T/b.out" 2>"$T/b.err"
check "batch: one line per valid probe, in order, with ids" \
    test "$(sed -n 's/^{"id":"\([a-z]\)".*/\1/p' "$T/b.out" | tr -d '\n')" = abde
check "batch: read-match sees the canary" grep -q '"id":"a".*"match":true' "$T/b.out"
check "batch: env-match sees the canary" grep -q '"id":"b".*"match":true' "$T/b.out"
check "batch: canary value never printed" sh -c "! grep -q CANARY-TEST '$T/b.out'"
check "batch: an unknown operation is reported on stderr, the rest still runs" grep -q 'unknown operation' "$T/b.err"

# 1. The default policy reaches nothing in the required categories.
radius "default policy: exit 0" 0 "$T/default.json" --json --settings "$T/default.json.settings"
check "default: JSON follows the schema" jq_ schema "$T/default.json"
check "default: nothing reached in required categories" test "$(jq_ required_reached "$T/default.json")" = 0
check "default: every required category has probes that ran and were contained" \
    jq_ required_contained_each "$T/default.json"
radius "default policy, table" 0 "$T/default.txt" --settings "$T/default.json.settings"
check "table ends with the summary line" grep -qE '^reached 0 of [0-9]+' "$T/default.txt"
check "table groups by category" grep -qE '^secrets +reached 0 of' "$T/default.txt"

# 2. Without a sandbox every required probe reaches (so each can detect).
radius "baseline: exit 1" 1 "$T/baseline.json" --json --baseline
check "baseline: JSON follows the schema" jq_ schema "$T/baseline.json"
check "baseline: every required probe reached or justified n/a" jq_ baseline_detects "$T/baseline.json"
jq_ baseline_detects "$T/baseline.json" 2>/dev/null | grep '^#'
check "no canary value in any output" sh -c "! grep -rl 'CORDON-CANARY-' '$T'/*.json '$T'/*.txt"

# 3. Settings that open one thing reach exactly that thing.
printf '{"network": {"allowUnixSockets": ["~/run/agent.sock"]}}\n' >"$T/sock.settings"
radius "allowUnixSockets for the planted socket: exit 1" 1 "$T/sock.json" --json --settings "$T/sock.settings"
check "allowUnixSockets: reaches exactly ipc.unix-planted, nothing more" \
    test "$(jq_ reached_diff "$T/sock.json" "$T/default.json")" = "ipc.unix-planted|"
printf '{"cordon": {"env": {"passthrough": ["GITHUB_TOKEN"]}}}\n' >"$T/env.settings"
radius "env passthrough GITHUB_TOKEN: exit 1" 1 "$T/env.json" --json --settings "$T/env.settings"
check "passthrough: reaches exactly secrets.env.GITHUB_TOKEN, nothing more" \
    test "$(jq_ reached_diff "$T/env.json" "$T/default.json")" = "secrets.env.GITHUB_TOKEN|"
if [ "$(jq_ in_category_reached "$T/default.json" network,kernel)" = 0 ]; then
    radius "--required network,kernel ignores a reached secret: exit 0" 0 "$T/env-req.json" \
        --json --settings "$T/env.settings" --required network,kernel
else
    fail "--required: the default policy reaches something in network,kernel on this host"
fi

# 4. read-write-no-delete: deletion contained by cordon, reached without it.
printf '{"cordon": {"workspace": {"mode": "read-write-no-delete"}}}\n' >"$T/rwnd.settings"
radius "read-write-no-delete policy: exit 0" 0 "$T/rwnd.json" --json --settings "$T/rwnd.settings"
check "rwnd: delete contained" test "$(jq_ verdict "$T/rwnd.json" filesystem.delete)" = contained
check "rwnd: rename away contained" test "$(jq_ verdict "$T/rwnd.json" filesystem.rename-away)" = contained
radius "rwnd baseline: exit 1" 1 "$T/rwnd-base.json" --json --baseline --settings "$T/rwnd.settings"
check "rwnd baseline: delete reached" test "$(jq_ verdict "$T/rwnd-base.json" filesystem.delete)" = reached
check "rwnd baseline: rename away reached" test "$(jq_ verdict "$T/rwnd-base.json" filesystem.rename-away)" = reached

# 5. Another sandbox through --wrap.
if command -v bwrap >/dev/null; then
    radius "--wrap bwrap --unshare-all: runs (exit 1: it hides no secret)" 1 "$T/bwrap.json" --json \
        --wrap "bwrap --ro-bind / / --dev /dev --proc /proc --unshare-all --die-with-parent"
    check "bwrap: secrets reached (bwrap hides nothing by itself)" test "$(jq_ verdict "$T/bwrap.json" secrets.aws)" = reached
    check "bwrap: host process contained (own pid namespace)" test "$(jq_ verdict "$T/bwrap.json" processes.signal)" = contained
    check "bwrap: host loopback contained (own network namespace)" test "$(jq_ verdict "$T/bwrap.json" network.host-loopback)" = contained
    check "bwrap: outside write contained (read-only root)" test "$(jq_ verdict "$T/bwrap.json" filesystem.write-outside)" = contained
else
    fail "bwrap is not installed (apt-get install bubblewrap): the --wrap test needs it"
fi
radius "--wrap with a prefix that runs nothing: a failure, not a result" 125 "$T/wrapfail.txt" --wrap false
radius "--wrap where the battery file is not visible: a failure, not a result" 125 "$T/wrapfail.txt" \
    --wrap "sh -c 'exec \"\$0\" batch /nonexistent-battery'"

# 6. Comparison and usage.
radius "--compare default baseline: exit 0" 0 "$T/compare.txt" --compare "$T/default.json" "$T/baseline.json"
check "compare shows both summaries" grep -qE '^B: reached [1-9]' "$T/compare.txt"
check "compare marks differing probes" grep -qE '^[0-9]+ probes differ' "$T/compare.txt"
radius "--required with an unknown category: usage error" 2 "$T/usage.txt" --required secrets,bogus
radius "--baseline with --wrap: usage error" 2 "$T/usage.txt" --baseline --wrap true
radius "--compare with one file: usage error" 2 "$T/usage.txt" --compare "$T/default.json"
echo '{"cordon_radius": 1, "probes": [{"id": "x"}]}' >"$T/bad.json"
radius "--compare with a broken report: usage error" 2 "$T/usage.txt" --compare "$T/bad.json" "$T/default.json"
radius "broken settings: usage error" 2 "$T/usage.txt" --settings "$T/bad.json"

# 7. A workspace of the user's is left exactly as it was.
WS=$T/ws
mkdir -p "$WS/.git/hooks"
echo keep >"$WS/a.txt"
before=$(cd "$WS" && find . | sort | md5sum)
radius "--workspace DIR: exit 0" 0 "$T/ws.json" --json --settings "$T/default.json.settings" --workspace "$WS"
radius "--workspace DIR baseline: exit 1" 1 "$T/ws-base.json" --json --baseline --workspace "$WS"
check "baseline wrote a hook in the given workspace's .git/hooks" \
    test "$(jq_ verdict "$T/ws-base.json" filesystem.git-hook)" = reached
check "the workspace is unchanged afterwards" test "$(cd "$WS" && find . | sort | md5sum)" = "$before"

# 8. Nothing is left behind.
check "the lab folder is empty" test -z "$(ls -A "$LAB")"
check "no canary left in /dev/shm or /tmp" sh -c "! ls /dev/shm/cordon-radius.* /tmp/cordon-radius-* 2>/dev/null | grep -q ."
no_helpers() { "$PY" - "$LAB/lab." <<'EOF'
import glob, sys
left = []
for f in glob.glob("/proc/[0-9]*/cmdline"):
    try:
        argv0 = open(f, "rb").read().split(b"\0")[0].decode(errors="replace")
    except OSError:
        continue
    if argv0.startswith(sys.argv[1]):
        left.append(f + ": " + argv0)
print("\n".join(left))
sys.exit(1 if left else 0)
EOF
}
check "no helper process left" no_helpers

# 9. The HTML report in a real browser.
shot() { # shot HTML PNG
    local d; d=$(mktemp -d)
    timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --user-data-dir="$d" \
        --screenshot="$2" --window-size=1200,900 "file://$1" >"$T/chromium.log" 2>&1
    local rc=$?
    rm -rf "$d"
    [ $rc = 0 ] && [ -s "$2" ] || { tail -n 5 "$T/chromium.log"; return 1; }
}
if [ "$HTML" = 1 ]; then
    if ! command -v chromium >/dev/null; then
        fail "chromium is not installed (apt-get install chromium): the HTML report cannot be checked"
    else
        radius "--html with the default policy" 0 "$T/default-h.json" --html "$T/default.html" \
            --settings "$T/default.json.settings" --json
        check "default report: self-contained (no external reference)" \
            sh -c "! grep -Eiq '(src|href)=\"(https?:|//)|url\\(|@import' '$T/default.html'"
        check "default report: renders in headless chromium" shot "$T/default.html" "$T/default.png"
        check "default report: the chart is all contained" "$PY" "$HERE/png_check.py" "$T/default.png" "$T/default-h.json"
        "$CORDON" radius --lab "$LAB" --probe "$PROBE" --baseline --json --html "$T/baseline.html" >"$T/baseline-h.json" 2>/dev/null
        check "baseline report: renders in headless chromium" shot "$T/baseline.html" "$T/baseline.png"
        check "baseline report: red and green in the reached proportions" "$PY" "$HERE/png_check.py" "$T/baseline.png" "$T/baseline-h.json"
        "$CORDON" radius --lab "$LAB" --probe "$PROBE" --settings "$T/env.settings" --json --html "$T/env.html" >"$T/env-h.json" 2>/dev/null
        check "one-opening report: renders" shot "$T/env.html" "$T/env.png"
        check "one-opening report: red share of one secret" "$PY" "$HERE/png_check.py" "$T/env.png" "$T/env-h.json"
        radius "--compare --html" 0 /dev/null --compare "$T/default-h.json" "$T/baseline-h.json" --html "$T/compare.html"
        check "comparison report renders" shot "$T/compare.html" "$T/compare.png"
    fi
fi

# 10. The same as an unprivileged user.
if [ "$USER_PASS" = 1 ] && [ "$(id -u)" = 0 ]; then
    if ! id "$CI_USER" >/dev/null 2>&1; then useradd -m -s /bin/bash "$CI_USER" || fail "cannot create $CI_USER"; fi
    uhome=$(getent passwd "$CI_USER" | cut -d: -f6)
    UD=$(mktemp -d "$uhome/cordon-radius.XXXXXX")
    mkdir -p "$UD/bin" "$UD/tests/radius"
    cp "$CORDON" "$UD/bin/cordon" && cp "$PROBE" "$UD/bin/cordon-probe" && cp "$HERE"/run.sh "$HERE"/png_check.py "$UD/tests/radius/"
    chown -R "$CI_USER:" "$UD"
    echo "# --- as $CI_USER"
    runuser -u "$CI_USER" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$uhome" USER="$CI_USER" LANG=C.UTF-8 \
        "$UD/tests/radius/run.sh" --cordon "$UD/bin/cordon" --probe "$UD/bin/cordon-probe" --no-html --no-user \
        >"$T/user.log" 2>&1
    sed 's/^/    /' "$T/user.log"
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$T/user.log" | tail -n 1)
    rm -rf "$UD"
    if [ -n "$line" ]; then
        set -- $line
        [ "$3" = 0 ] && [ "$1" -gt 0 ] && pass "as $CI_USER: $line" || fail "as $CI_USER: $line"
    else
        fail "as $CI_USER: no summary"
    fi
fi

echo "1..$n"
echo "$((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
