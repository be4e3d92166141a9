# Shared helpers for the integration groups (sourced by every t_*.sh).
# Every check prints one TAP line, "ok N - name" or "not ok N - name" with
# "# " diagnostics.  run.sh counts those lines.
#
# Environment from run.sh: CORDON, PROBE (a static probe copied where the
# sandbox can see it), TEST_BASE (a directory outside /tmp, /var/tmp, /run and
# /root, which are private or hidden inside the sandbox).
set -u

: "${CORDON:?run through tests/integration/run.sh}"
: "${PROBE:?run through tests/integration/run.sh}"
: "${TEST_BASE:?run through tests/integration/run.sh}"
PY=/usr/bin/python3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

T=$(mktemp -d "$TEST_BASE/$(basename "$0" .sh).XXXXXX")
chmod 755 "$T"
export HOME="$T/home"
WS="$T/ws"
OUT="$T/out"          # output (stdout+stderr) of the last checked command
mkdir -p "$HOME" "$WS"
cd "$WS" || exit 1
# Keep the host environment from leaking into the policy under test.
unset XDG_CONFIG_HOME CORDON_SETTINGS
export LANG=C.UTF-8

_n=0
_failed=0
_bg_pids=()
_cleanups=()

_cleanup() {
    local p c
    for p in "${_bg_pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    for c in "${_cleanups[@]}"; do eval "$c" 2>/dev/null; done
    chmod -R u+rwX "$T" 2>/dev/null
    rm -rf "$T"
}
trap _cleanup EXIT

# Run something on exit (host-side state a test planted outside $T).
at_exit() { _cleanups+=("$1"); }

# Start a host-side helper in the background; it is killed on exit.
bg() { "$@" & _bg_pids+=($!); LAST_BG=$!; }

# Wait until FILE contains STRING (a listener's "ready" line).
wait_for() {
    local file=$1 str=$2 i
    for i in $(seq 1 100); do
        grep -q -- "$str" "$file" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

is_root() { [ "$(id -u)" = 0 ]; }

# cordon run on the default policy with the test's workspace; extra options
# go before "--" or "-c".
cr() { timeout -k 5 120 "$CORDON" run --quiet --workspace "$WS" "$@"; }

_pass() { _n=$((_n + 1)); echo "ok $_n - $1"; }
_fail() {
    _n=$((_n + 1)); _failed=$((_failed + 1))
    echo "not ok $_n - $1"
    shift
    local m
    for m in "$@"; do echo "#   $m"; done
    if [ -s "$OUT" ]; then head -c 1500 "$OUT" | sed 's/^/#   | /'; echo; fi
}

# Run the command, capturing its output in $OUT and its status in $RC.
_run() { "$@" >"$OUT" 2>&1; RC=$?; }

# ok NAME CMD...: CMD exits 0.
ok() {
    local name=$1; shift
    _run "$@"
    if [ "$RC" = 0 ]; then _pass "$name"; else _fail "$name" "expected exit 0, got $RC: $*"; fi
}

# fails NAME CMD...: CMD exits non-zero (use only when no errno can be
# required; prefer `denied`).  A status of 125 (cordon failed) or 2 (usage)
# never counts: the sandbox must have run the command and the command failed.
fails() {
    local name=$1; shift
    _run "$@"
    case $RC in
    0) _fail "$name" "expected failure, got exit 0: $*" ;;
    2|125) _fail "$name" "cordon itself failed (exit $RC), the command did not run: $*" ;;
    *) _pass "$name" ;;
    esac
}

# status_is NAME WANT CMD...: CMD exits with exactly WANT.
status_is() {
    local name=$1 want=$2; shift 2
    _run "$@"
    if [ "$RC" = "$want" ]; then _pass "$name"; else _fail "$name" "expected exit $want, got $RC: $*"; fi
}

# denied NAME ERRNOS CMD...: CMD runs cordon-probe, which must have run
# (exit 1, one JSON line) and been refused with one of ERRNOS ("EACCES|EPERM").
denied() {
    local name=$1 errnos=$2; shift 2
    _run "$@"
    local got
    got=$(sed -n 's/.*"ok":false,"errno":"\([A-Z0-9]*\)".*/\1/p' "$OUT" | tail -n 1)
    if [ "$RC" != 1 ] || [ -z "$got" ]; then
        if grep -q '"ok":true' "$OUT"; then
            _fail "$name" "ESCAPE: the operation succeeded (exit $RC): $*"
        else
            _fail "$name" "the probe did not run or report (exit $RC): $*"
        fi
        return
    fi
    case "|$errnos|" in
    *"|$got|"*) _pass "$name" ;;
    *) _fail "$name" "refused with $got, expected $errnos: $*" ;;
    esac
}

# allowed NAME CMD...: cordon-probe ran and the operation succeeded.
allowed() {
    local name=$1; shift
    _run "$@"
    if [ "$RC" = 0 ] && grep -q '"ok":true' "$OUT"; then _pass "$name"
    else _fail "$name" "expected the operation to succeed (exit $RC): $*"; fi
}

# check NAME CMD...: a host-side assertion (no output captured from a sandbox).
check() {
    local name=$1; shift
    if "$@" >"$T/check.out" 2>&1; then _pass "$name"
    else
        _fail "$name" "host-side check failed: $*" "$(head -c 600 "$T/check.out")" "last sandbox output:"
    fi
}

# out_has / out_lacks NAME STRING: about the last captured output.
out_has() {
    if grep -qF -- "$2" "$OUT"; then _pass "$1"; else _fail "$1" "output lacks '$2'"; fi
}
out_lacks() {
    if grep -qF -- "$2" "$OUT"; then _fail "$1" "output contains '$2'"; else _pass "$1"; fi
}

# The value of a JSON member in the last probe output (flat, string or number).
json_get() { sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\)\"\{0,1\}[,}].*/\1/p" "$OUT" | tail -n 1; }

done_testing() {
    echo "1..$_n"
    echo "# $(basename "$0" .sh): $((_n - _failed)) ok, $_failed not ok"
    [ "$_failed" = 0 ]
}

# fails_sh NAME SCRIPT: a shell script run by `cordon run -c` must fail.  The
# script runs in a subshell mapped to status 1, because sh exits 2 on a failed
# redirection and 2 is also cordon's usage status.
fails_sh() { fails "$1" cr -c "( $2 ) || exit 1"; }
