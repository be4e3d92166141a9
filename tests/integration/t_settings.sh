#!/bin/bash
# Settings errors stop cordon before anything runs, with FILE:LINE:COL.
. "$(dirname "$0")/lib.sh"

S="$T/settings.json"
printf '{}\n' >"$S"
ok "valid (empty) settings run the command" cr --settings "$S" -- "$PROBE" create "$WS/ran-ok"
check "the command ran" test -e "$WS/ran-ok"

printf '{\n  "network": {\n    "allowedDomains": [\n  }\n}\n' >"$S"
status_is "bad JSON -> exit 2" 2 cr --settings "$S" -- "$PROBE" create "$WS/ran-bad-json"
check "bad JSON: message is FILE:LINE:COL" grep -qE "$S:[0-9]+:[0-9]+: " "$OUT"
check "bad JSON: nothing ran" test ! -e "$WS/ran-bad-json"

printf '{\n  "network": {},\n  "bogusKey": true\n}\n' >"$S"
status_is "unknown key -> exit 2" 2 cr --settings "$S" -- "$PROBE" create "$WS/ran-unknown"
out_has "unknown key is named" bogusKey
check "unknown key: FILE:LINE:COL" grep -qE "$S:3:[0-9]+: " "$OUT"
check "unknown key: nothing ran" test ! -e "$WS/ran-unknown"

printf '{"network": {"allowUnixSockets": "not-a-list"}}\n' >"$S"
status_is "wrong type -> exit 2" 2 cr --settings "$S" -- "$PROBE" create "$WS/ran-type"
check "wrong type: FILE:LINE:COL" grep -qE "$S:[0-9]+:[0-9]+: " "$OUT"
check "wrong type: nothing ran" test ! -e "$WS/ran-type"

status_is "missing settings file -> exit 2" 2 cr --settings "$T/nope.json" -- "$PROBE" create "$WS/ran-missing"
check "missing file: nothing ran" test ! -e "$WS/ran-missing"

# A settings file in the temp home is picked up (and a broken one refused).
mkdir -p "$HOME/.config/cordon"
printf '{ "network": [ }\n' >"$HOME/.config/cordon/settings.json"
status_is "broken ~/.config/cordon/settings.json -> exit 2" 2 cr -- "$PROBE" create "$WS/ran-home"
check "home settings: nothing ran" test ! -e "$WS/ran-home"
done_testing
