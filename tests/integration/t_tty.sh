#!/bin/bash
# A terminal passes through: interactive shells work, TIOCSTI does not.
. "$(dirname "$0")/lib.sh"

PTY="$PY $HERE/pty_run.py"
CRX="$CORDON run --quiet --workspace $WS"

status_is "pty helper works outside (twin)" 4 $PTY bash -c 'tty; exit 4'
out_has "the helper gives a tty outside" "/dev/pts/"
status_is "exit code through a tty" 4 $PTY $CRX -- bash -c 'tty; test -t 0 -a -t 1 || exit 9; exit 4'
out_has "stdin is a tty inside" "/dev/pts/"
status_is "bash -i inside" 5 $PTY $CRX -- bash -i -c 'tty >/dev/null && exit 5'
denied "TIOCSTI inside refused" "EPERM" $PTY $CRX -- "$PROBE" tiocsti
if is_root || [ "$(cat /proc/sys/dev/tty/legacy_tiocsti 2>/dev/null)" = 1 ]; then
    allowed "TIOCSTI outside works (twin)" $PTY "$PROBE" tiocsti
fi
denied "TIOCSTI without a tty refused" "EPERM" cr -- "$PROBE" tiocsti
done_testing
