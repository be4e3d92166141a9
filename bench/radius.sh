#!/bin/bash
# Blast radius of cordon's default policy beside other sandboxes, measured
# with the same battery (`cordon radius`).  Prints a markdown table.
#   bench/radius.sh [CORDON]       (default: build/cordon)
#   RADIUS_SRT=0 skips srt, RADIUS_CODEX=0 the Codex CLI; RADIUS_KEEP=DIR keeps the JSON reports in DIR.
# srt is installed with npm into a temporary folder (never into the tree);
# bubblewrap and firejail are used when installed (apt-get install
# bubblewrap firejail; srt also wants socat and ripgrep).  A tool that is
# missing or fails gets a note under the table, not a column.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CORDON=${1:-$HERE/../build/cordon}
CORDON=$(cd "$(dirname "$CORDON")" && pwd)/$(basename "$CORDON")
[ -x "$CORDON" ] || { echo "radius.sh: no cordon at $CORDON (make)" >&2; exit 1; }

# Scratch visible inside every sandbox: not /tmp (private in most of them).
if [ "$(id -u)" = 0 ]; then base=/var/lib/cordon-bench; else base=$HOME/.cache/cordon-bench; fi
mkdir -p "$base"
W=$(mktemp -d "$base/radius.XXXXXX")
chmod 755 "$W"
trap 'rm -rf "$W"' EXIT
WS=$W/ws
LAB=$W/labs
OUTD=${RADIUS_KEEP:-$W/out}
mkdir -p "$WS/.git/hooks" "$LAB" "$OUTD"
echo '{}' >"$W/cordon-default.json"
cat >"$W/srt-settings.json" <<'JSON'
{
  "network": { "allowedDomains": [], "deniedDomains": [] },
  "filesystem": { "denyRead": ["~/.ssh"], "allowRead": [], "allowWrite": ["."], "denyWrite": [] }
}
JSON

labels=()
files=()
notes=()
measure() { # measure LABEL FILE ARGS...
    local label=$1 file=$2; shift 2
    echo "radius.sh: $label" >&2
    timeout -k 5 300 "$CORDON" radius --json --lab "$LAB" --workspace "$WS" "$@" \
        >"$OUTD/$file.json" 2>"$W/$file.err"
    local rc=$?
    if [ $rc = 0 ] || [ $rc = 1 ]; then
        labels+=("$label")
        files+=("$OUTD/$file.json")
    else
        notes+=("$label: not measured (exit $rc: $(grep -v '^$' "$W/$file.err" | tail -n 1 | cut -c1-160))")
    fi
}

measure "cordon (default policy)" cordon --settings "$W/cordon-default.json"

BWRAP_SRT="bwrap --ro-bind / / --bind $WS $WS --dev /dev --proc /proc --unshare-net --unshare-pid --unshare-user --new-session --die-with-parent --cap-drop ALL"
if command -v bwrap >/dev/null; then
    measure "bwrap, srt's arguments" bwrap --wrap "$BWRAP_SRT"
else
    notes+=("bwrap: not installed (apt-get install bubblewrap)")
fi

if [ "${RADIUS_SRT:-1}" != 0 ]; then
    S=$W/srt
    mkdir -p "$S"
    if command -v npm >/dev/null && (cd "$S" && npm i --no-audit --no-fund --silent @anthropic-ai/sandbox-runtime) >"$W/npm.log" 2>&1 \
        && [ -x "$S/node_modules/.bin/srt" ]; then
        v=$(cd "$S" && node -p 'require("@anthropic-ai/sandbox-runtime/package.json").version' 2>/dev/null || echo "?")
        measure "srt $v, no settings" srt-none --wrap "$S/node_modules/.bin/srt"
        measure "srt $v, README settings" srt --wrap "$S/node_modules/.bin/srt --settings $W/srt-settings.json"
    else
        notes+=("srt: npm i @anthropic-ai/sandbox-runtime failed: $(tail -n 1 "$W/npm.log" 2>/dev/null | cut -c1-160)")
    fi
fi

if command -v firejail >/dev/null; then
    measure "firejail --noprofile" firejail --wrap "firejail --quiet --noprofile"
else
    notes+=("firejail: not installed (apt-get install firejail)")
fi
if [ "${RADIUS_CODEX:-1}" != 0 ]; then
    X=$W/codex
    mkdir -p "$X"
    if command -v npm >/dev/null && (cd "$X" && npm i --no-audit --no-fund --silent @openai/codex) >"$W/npm-codex.log" 2>&1 \
        && [ -x "$X/node_modules/.bin/codex" ]; then
        v=$("$X/node_modules/.bin/codex" --version 2>/dev/null | awk '{print $2}')
        measure "Codex CLI ${v:-?} \`codex sandbox\`" codex --wrap "$X/node_modules/.bin/codex sandbox --"
    else
        notes+=("Codex CLI: npm i @openai/codex failed: $(tail -n 1 "$W/npm-codex.log" 2>/dev/null | cut -c1-160)")
    fi
fi

measure "no sandbox" baseline --baseline

/usr/bin/python3 - "${#labels[@]}" "${labels[@]}" "${files[@]}" <<'PY'
import json, sys
n = int(sys.argv[1])
labels, files = sys.argv[2:2 + n], sys.argv[2 + n:2 + 2 * n]
reps = [json.load(open(f)) for f in files]
cats = ["secrets", "filesystem", "processes", "network", "ipc", "kernel", "devices", "resources"]
def cell(r, cat):
    c = next((c for c in r["categories"] if c["name"] == cat), None)
    if not c:
        return "-"
    app = c["reached"] + c["contained"]
    return "%d / %d" % (c["reached"], app) if app else "n/a"
print("| reached / applicable | " + " | ".join(labels) + " |")
print("|---|" + "---|" * len(labels))
req = reps[0]["required"] if reps else []
for cat in cats:
    name = cat + (" (required)" if cat in req else "")
    print("| " + name + " | " + " | ".join(cell(r, cat) for r in reps) + " |")
print("| **total** | " + " | ".join("**%d / %d**" % (r["summary"]["reached"], r["summary"]["applicable"]) for r in reps) + " |")
print("| exit status (CI) | " + " | ".join("1" if r["summary"]["required_reached"] else "0" for r in reps) + " |")
PY
echo
r0=${files[0]:-}
if [ -n "$r0" ]; then
    /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("Measured as uid %s on kernel %s, %s." % (d["uid"], d["kernel"], d["date"]))' "$r0"
fi
for m in "${notes[@]}"; do echo "- $m"; done
