#!/bin/bash
# Install what cordon needs from Debian, only what is missing.
#   scripts/deps.sh runtime   build cordon
#   scripts/deps.sh test      build, run the unit/fuzz/integration tests, bench
set -euo pipefail

runtime=(build-essential meson ninja-build pkg-config libseccomp-dev libjansson-dev
    libevent-dev libnftnl-dev libmnl-dev libcurl4-openssl-dev libssl-dev)
# Test-only, each for a reason:
#   libcmocka-dev       unit tests          clang libclang-rt-14-dev  fuzz targets (libFuzzer)
#   git                 protect tests       python3                   pty helper, JSON checks
#   strace              ptrace-inside test  bubblewrap                bench baseline
#   util-linux          runuser, setsid     procps                    ps, pgrep
#   passwd              useradd (unprivileged CI user)
#   coreutils           timeout, mktemp
#   ripgrep socat       needed by srt, the bench's optional comparison
#   chromium            renders the radius HTML report (headless) in its test
#   dnsmasq-base curl wget nodejs openssl iproute2
#                       the egress broker's test internet (DNS, TLS CA, clients, netns)
test=(libcmocka-dev clang libclang-rt-14-dev git python3 strace bubblewrap util-linux procps chromium
    passwd coreutils ripgrep socat dnsmasq-base curl wget nodejs openssl iproute2)

case ${1:-} in
runtime) want=("${runtime[@]}") ;;
test) want=("${runtime[@]}" "${test[@]}") ;;
*) echo "usage: $0 runtime|test" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "deps.sh: all ${#want[@]} $1 packages present"
    exit 0
fi
echo "deps.sh: installing ${missing[*]}"
sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
