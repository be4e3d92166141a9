#!/bin/bash
# The whole test command (`make check`): builds (normal, ASan+UBSan, fuzz),
# unit tests in both trees, each fuzz target for a bounded time, and the
# integration suite as root, as an unprivileged user, and with the ASan build.
# Ends with exactly "N passed, N failed" summed over everything.
#
#   FUZZ_SECONDS=20 (per target)   CI_USER=cordon-ci
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
CI_USER=${CI_USER:-cordon-ci}
LOGS=$(mktemp -d /tmp/cordon-check.XXXXXX)
chmod 755 "$LOGS"
passed=0
failed=0
summary=()

note() { printf '\n==== %s\n' "$*"; }
tally() { # tally STEP PASSED FAILED
    passed=$((passed + $2)); failed=$((failed + $3))
    summary+=("$(printf '%-34s %5d passed, %d failed' "$1" "$2" "$3")")
}
step_ok() { tally "$1" 1 0; }
step_fail() { tally "$1" 0 1; echo "check.sh: FAILED: $1 (log: ${2:-above})"; }

# "N passed, N failed" from the last such line of a log.
count_line() {
    local l
    l=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
    [ -n "$l" ] || return 1
    set -- $l
    echo "$1 ${3%,}"
}

build() { # build NAME DIR MAKE-TARGET
    note "build $1 ($2)"
    if make "$3" >"$LOGS/build-$1.log" 2>&1; then step_ok "build $1"
    else tail -n 40 "$LOGS/build-$1.log"; step_fail "build $1" "$LOGS/build-$1.log"; return 1; fi
}

unit() { # unit NAME DIR [SUITE]
    local suite=${3:-unit}
    note "$suite tests ($1)"
    local log=$LOGS/$suite-$1.log
    meson test -C "$2" --suite "$suite" --print-errorlogs >"$log" 2>&1
    local rc=$?
    cat "$log" | tail -n 25
    if grep -q 'No tests defined' "$log"; then
        tally "$suite $1" 0 1; echo "check.sh: no $suite tests defined"; return
    fi
    local ok fail
    ok=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    fail=0
    for k in Fail 'Unexpected Pass' Timeout; do
        local n
        n=$(sed -n "s/^$k: *\([0-9]*\).*/\1/p" "$log" | tail -n 1)
        fail=$((fail + ${n:-0}))
    done
    ok=${ok:-0}
    [ "$rc" != 0 ] && [ "$fail" = 0 ] && fail=1
    tally "$suite $1" "$ok" "$fail"
}

fuzz() {
    note "fuzz targets (${FUZZ_SECONDS}s each)"
    local t name corpus work n=0
    for t in build-fuzz/tests/*/fuzz-*; do
        [ -f "$t" ] && [ -x "$t" ] || continue
        n=$((n + 1))
        name=${t##*/fuzz-}
        work=$LOGS/corpus-$name
        mkdir -p "$work"
        corpus=()
        [ -d "tests/fuzz/corpus/$name" ] && corpus=("tests/fuzz/corpus/$name")
        dict=()
        [ -f "tests/fuzz/$name.dict" ] && dict=("-dict=tests/fuzz/$name.dict")
        # New inputs go to the scratch corpus (first), the repo's stays as is.
        if "$t" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
            -print_final_stats=1 -artifact_prefix="$LOGS/fuzz-$name-" "${dict[@]}" "$work" "${corpus[@]}" >"$LOGS/fuzz-$name.log" 2>&1; then
            grep -E '^(stat::number_of_executed_units|Done)' "$LOGS/fuzz-$name.log" | tr '\n' ' '; echo
            step_ok "fuzz $name"
        else
            tail -n 30 "$LOGS/fuzz-$name.log"
            step_fail "fuzz $name" "$LOGS/fuzz-$name.log"
        fi
    done
    if [ "$n" -eq 0 ]; then step_fail "fuzz: no target was built" "$LOGS"; fi
}

integration() { # integration LABEL LOG CMD...
    local label=$1 log=$2; shift 2
    note "integration: $label"
    "$@" >"$log" 2>&1 </dev/null
    local rc=$?
    grep -E '^not ok|^#   ' "$log" | head -n 400
    grep -E '^t_[a-z]+ +[0-9]+ ok' "$log"
    local c
    if c=$(count_line "$log"); then
        set -- $c
        [ "$rc" != 0 ] && [ "$2" = 0 ] && { tally "integration $label" "$1" 1; return; }
        tally "integration $label" "$1" "$2"
    else
        tail -n 20 "$log"
        step_fail "integration $label (no summary)" "$log"
    fi
}

# The unprivileged user, and a copy of what it runs in a place it can read
# (the checkout may be under /root).
prepare_user() {
    if ! id "$CI_USER" >/dev/null 2>&1; then
        useradd -m -s /bin/bash "$CI_USER" || return 1
    fi
    local home
    home=$(getent passwd "$CI_USER" | cut -d: -f6)
    [ -d "$home" ] || { mkdir -p "$home" && chown "$CI_USER:" "$home"; } || return 1
    USER_DIR=$(mktemp -d "$home/cordon-check.XXXXXX") || return 1
    mkdir -p "$USER_DIR/bin" "$USER_DIR/tests"
    cp build/cordon build/cordon-probe "$USER_DIR/bin/" || return 1
    [ -x build-asan/cordon ] && cp build-asan/cordon "$USER_DIR/bin/cordon-asan"
    cp -r tests/integration "$USER_DIR/tests/" || return 1
    chown -R "$CI_USER:" "$USER_DIR"
    USER_HOME=$home
}

as_user() {
    runuser -u "$CI_USER" -- env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
        HOME="$USER_HOME" USER="$CI_USER" LANG=C.UTF-8 ${ASAN_OPTIONS:+ASAN_OPTIONS=$ASAN_OPTIONS} \
        ${UBSAN_OPTIONS:+UBSAN_OPTIONS=$UBSAN_OPTIONS} "$@"
}

start=$(date +%s)
note "cordon check: $(uname -r), $(nproc) cores, as $(id -un); logs in $LOGS"
build normal build all && have_normal=1 || have_normal=0
build asan build-asan asan && have_asan=1 || have_asan=0
[ $have_normal = 1 ] && unit normal build
[ $have_asan = 1 ] && unit asan build-asan
build fuzz build-fuzz fuzz && fuzz
# Suites that exercise whole commands (each runs as root and as $CI_USER itself).
for suite in audit radius net; do
    [ $have_normal = 1 ] && unit normal build "$suite"
done

if [ $have_normal = 1 ]; then
    integration "root" "$LOGS/integration-root.log" \
        tests/integration/run.sh --cordon build/cordon --probe build/cordon-probe
    if [ "$(id -u)" = 0 ]; then
        if prepare_user; then
            integration "user $CI_USER" "$LOGS/integration-user.log" \
                as_user "$USER_DIR/tests/integration/run.sh" --cordon "$USER_DIR/bin/cordon" \
                --probe "$USER_DIR/bin/cordon-probe"
            if [ $have_asan = 1 ]; then
                export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:halt_on_error=1:exitcode=125}
                export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
                integration "asan, user $CI_USER" "$LOGS/integration-asan.log" \
                    as_user "$USER_DIR/tests/integration/run.sh" --cordon "$USER_DIR/bin/cordon-asan" \
                    --probe "$USER_DIR/bin/cordon-probe"
                unset ASAN_OPTIONS UBSAN_OPTIONS
            fi
            rm -rf "$USER_DIR"
        else
            step_fail "create unprivileged user $CI_USER"
        fi
    else
        echo "check.sh: not root: the unprivileged and ASan integration runs need root to switch user"
        step_fail "integration as another user (needs root)"
    fi
fi

note "summary ($(( $(date +%s) - start ))s; logs in $LOGS)"
printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
