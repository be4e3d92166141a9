#!/bin/bash
# Where user namespaces are blocked, cordon names the cause and the fix, and
# runs nothing.  The block is made inside a user namespace of the test's own
# (user.max_user_namespaces is per namespace), so the host is untouched.
. "$(dirname "$0")/lib.sh"

command -v unshare >/dev/null || { echo "not ok 1 - unshare(1) missing (util-linux)"; exit 1; }
block() { # block CMD...: run CMD where no further user namespace may be made
    unshare --user --map-root-user sh -c 'echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"' sh "$@"
}
ok "twin: the blocking namespace itself works" block true
status_is "blocked: cordon exits 125" 125 block "$CORDON" run --quiet --workspace "$WS" -- "$PROBE" create "$WS/ran"
out_has "names the knob" "max_user_namespaces"
out_has "says how to fix it" "sysctl"
check "nothing ran" test ! -e "$WS/ran"
ok "twin: unblocked, the same command runs" "$CORDON" run --quiet --workspace "$WS" -- "$PROBE" create "$WS/ran"
check "twin: it ran" test -e "$WS/ran"
done_testing
