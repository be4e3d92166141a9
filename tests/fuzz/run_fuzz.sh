#!/bin/sh
# Runs one libFuzzer target for a bounded time over its seed corpus; new
# inputs go to a scratch directory so the source tree stays untouched.
# usage: run_fuzz.sh FUZZER SEED_DIR SECONDS
set -eu
exe=$1 seeds=$2 secs=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dict=
name=$(basename "$seeds")
[ -f "$(dirname "$0")/$name.dict" ] && dict="-dict=$(dirname "$0")/$name.dict"
exec_rc=0
"$exe" $dict -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    "$work" "$seeds" || exec_rc=$?
exit $exec_rc
