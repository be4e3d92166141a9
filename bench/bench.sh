#!/bin/bash
# Startup cost of `cordon run` against bubblewrap (and srt when it installs).
#   bench/bench.sh CORDON [RUNS]         (RUNS per tool, default 200)
#   BENCH_SRT=0 skips trying `npm i @anthropic-ai/sandbox-runtime`.
# Prints a markdown table.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CORDON=${1:?usage: bench/bench.sh CORDON [RUNS]}
RUNS=${2:-200}
WARMUP=10
PY=/usr/bin/python3
CORDON=$(cd "$(dirname "$CORDON")" && pwd)/$(basename "$CORDON")
[ -x "$CORDON" ] || { echo "bench: no cordon at $CORDON" >&2; exit 1; }
command -v bwrap >/dev/null || { echo "bench: bwrap missing (scripts/deps.sh test)" >&2; exit 1; }

# Scratch outside /tmp: the workspace must be a real host directory.
mkdir -p "$HERE/out"
W=$(mktemp -d "$HERE/out/bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
export HOME=$W/home          # default policy, no user settings file
mkdir -p "$HOME" "$W/empty"
cd "$W/empty"

M=$W/measure
cc -O2 -o "$M" "$HERE/measure.c" || { echo "bench: cannot compile measure.c" >&2; exit 1; }
spec=$W/spec.json
tools=("cordon" "bwrap")
cat >"$spec" <<JSON
[
 {"label": "cordon", "argv": ["$CORDON", "run", "--quiet", "--workspace", "$W/empty", "--", "/bin/true"]},
 {"label": "bwrap", "argv": ["$(command -v bwrap)", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-all", "/bin/true"]}
JSON

srt_note="srt: skipped (BENCH_SRT=0)"
if [ "${BENCH_SRT:-1}" != 0 ]; then
    srt=$HERE/node_modules/.bin/srt
    if [ ! -x "$srt" ] && command -v npm >/dev/null; then
        (cd "$HERE" && npm i --no-audit --no-fund --silent @anthropic-ai/sandbox-runtime >"$W/npm.log" 2>&1) || true
    fi
    if [ -x "$srt" ] && (cd "$W/empty" && timeout 60 "$srt" true) >"$W/srt.log" 2>&1; then
        printf ' ,{"label": "srt", "argv": ["%s", "true"]}\n' "$srt" >>"$spec"
        tools+=("srt")
        srt_note="srt: $("$srt" --version 2>/dev/null | head -n 1 || echo installed)"
    elif [ -x "$srt" ]; then
        srt_note="srt: skipped (installed, but \`srt true\` failed: $(tail -n 1 "$W/srt.log" | cut -c1-120))"
    elif command -v npm >/dev/null; then
        srt_note="srt: skipped (npm i @anthropic-ai/sandbox-runtime failed: $(tail -n 1 "$W/npm.log" | cut -c1-120))"
    else
        srt_note="srt: skipped (no npm)"
    fi
fi
echo "]" >>"$spec"

# Sanity: every tool must run /bin/true successfully before it is timed.
"$CORDON" run --quiet --workspace "$W/empty" -- /bin/true || { echo "bench: cordon run -- /bin/true failed" >&2; exit 1; }

echo "bench: $RUNS alternating runs per tool after $WARMUP warm-up rounds ($(nproc) cores, $(uname -r))" >&2
$PY "$HERE/timer.py" "$M" "$RUNS" "$WARMUP" "$spec" >"$W/startup.jsonl"

# Entering a big workspace: 100,000 files in 100 directories.
$PY - "$W/big" <<'PYEOF'
import os, sys
root = sys.argv[1]
for d in range(100):
    p = os.path.join(root, "d%03d" % d)
    os.makedirs(p)
    for f in range(1000):
        open(os.path.join(p, "f%04d.txt" % f), "w").close()
PYEOF
cat >"$W/ws.json" <<JSON
[
 {"label": "empty workspace", "argv": ["$CORDON", "run", "--quiet", "--workspace", "$W/empty", "--", "/bin/true"]},
 {"label": "100,000-file workspace", "argv": ["$CORDON", "run", "--quiet", "--workspace", "$W/big", "--", "/bin/true"]}
]
JSON
WS_RUNS=$RUNS
$PY "$HERE/timer.py" "$M" "$WS_RUNS" "$WARMUP" "$W/ws.json" >"$W/ws.jsonl"

$PY - "$W/startup.jsonl" "$W/ws.jsonl" "$srt_note" <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ws = [json.loads(l) for l in open(sys.argv[2])]
by = {r["label"]: r for r in rows}
b = by.get("bwrap")
print("### Startup: `run -- /bin/true`, default policy\n")
print("| tool | runs | median wall (ms) | p90 wall (ms) | median CPU user+sys (ms) | peak RSS (MiB) | wall vs bwrap | CPU vs bwrap | failures |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    rw = "%.2fx" % (r["wall_median_ms"] / b["wall_median_ms"]) if b else "-"
    rc = "%.2fx" % (r["cpu_median_ms"] / b["cpu_median_ms"]) if b and b["cpu_median_ms"] else "-"
    print("| %s | %d | %.2f | %.2f | %.2f | %.1f | %s | %s | %d |" % (
        r["label"], r["runs"], r["wall_median_ms"], r["wall_p90_ms"], r["cpu_median_ms"],
        r["peak_rss_kib"] / 1024, rw, rc, r["failures"]))
print("\n%s\n" % sys.argv[3])
print("### Entering a workspace: `cordon run --workspace W -- /bin/true`\n")
print("| workspace | runs | median wall (ms) | p90 wall (ms) | median CPU (ms) | peak RSS (MiB) | failures |")
print("|---|---:|---:|---:|---:|---:|---:|")
for r in ws:
    print("| %s | %d | %.2f | %.2f | %.2f | %.1f | %d |" % (
        r["label"], r["runs"], r["wall_median_ms"], r["wall_p90_ms"], r["cpu_median_ms"],
        r["peak_rss_kib"] / 1024, r["failures"]))
if len(ws) == 2 and ws[0]["wall_median_ms"]:
    print("\n100,000 files cost %+.2f ms (%.2fx) at entry." % (
        ws[1]["wall_median_ms"] - ws[0]["wall_median_ms"], ws[1]["wall_median_ms"] / ws[0]["wall_median_ms"]))
bad = [r["label"] for r in rows + ws if r["failures"]]
if bad:
    print("\n**Failures** in: %s (exit codes other than 0 were timed anyway)" % ", ".join(bad))
PYEOF
