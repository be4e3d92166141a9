#!/bin/bash
# Integration suite for `cordon run`: every t_*.sh beside this file.
#   tests/integration/run.sh [--cordon PATH] [--probe PATH] [t_NAME ...]
# Prints TAP from each group, one summary line per group, and finally exactly
# "N passed, N failed"; exits non-zero on any failure.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CORDON=$ROOT/build/cordon
PROBE=$ROOT/build/cordon-probe
only=()
while [ $# -gt 0 ]; do
    case $1 in
    --cordon) CORDON=$2; shift 2 ;;
    --probe) PROBE=$2; shift 2 ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) only+=("$1"); shift ;;
    esac
done

fatal() { echo "run.sh: $*" >&2; echo "0 passed, 1 failed"; exit 1; }
[ -x "$CORDON" ] || fatal "no cordon binary at $CORDON (build it: make)"
[ -x "$PROBE" ] || fatal "no probe at $PROBE (build it: make)"
[ -x /usr/bin/python3 ] || fatal "/usr/bin/python3 is missing (scripts/deps.sh test)"
CORDON=$(cd "$(dirname "$CORDON")" && pwd)/$(basename "$CORDON")

# Scratch space the sandbox can see: not under /tmp, /var/tmp, /run (private
# inside) nor /root (hidden when run by root).
if [ -z "${TEST_BASE:-}" ]; then
    if [ "$(id -u)" = 0 ]; then base=/var/lib/cordon-tests
    else base=$HOME/.cache/cordon-tests; fi
    mkdir -p "$base" || fatal "cannot create $base"
    TEST_BASE=$(mktemp -d "$base/run.XXXXXX") || fatal "cannot create a scratch directory in $base"
    trap 'rm -rf "$TEST_BASE"' EXIT
fi
chmod 755 "$TEST_BASE"
case $TEST_BASE in
/tmp/*|/var/tmp/*|/run/*|/root/*|/dev/shm/*) fatal "TEST_BASE=$TEST_BASE is not visible inside the sandbox" ;;
esac
# The probe is copied next to the scratch space so it is reachable inside the
# sandbox wherever the build tree lives (a checkout under /root is hidden).
mkdir -p "$TEST_BASE/bin"
cp "$PROBE" "$TEST_BASE/bin/cordon-probe" || fatal "cannot copy the probe"
PROBE=$TEST_BASE/bin/cordon-probe
export CORDON PROBE TEST_BASE

echo "# cordon: $CORDON"
echo "# probe:  $PROBE"
echo "# as:     $(id -un) (uid $(id -u)), kernel $(uname -r)"

total_pass=0
total_fail=0
tests=()
if [ ${#only[@]} -gt 0 ]; then
    for t in "${only[@]}"; do tests+=("$HERE/${t%.sh}.sh"); done
else
    tests=("$HERE"/t_*.sh)
fi
for t in "${tests[@]}"; do
    name=$(basename "$t" .sh)
    echo "# --- $name"
    log=$TEST_BASE/$name.log
    bash "$t" </dev/null >"$log" 2>&1
    rc=$?
    cat "$log"
    p=$(grep -c '^ok ' "$log")
    f=$(grep -c '^not ok ' "$log")
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
        echo "not ok - $name exited $rc without reporting a failure"
        f=1
    fi
    if [ "$p" = 0 ] && [ "$f" = 0 ]; then
        echo "not ok - $name ran no check"
        f=1
    fi
    printf '%-14s %3d ok, %d not ok\n' "$name" "$p" "$f"
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
done
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
