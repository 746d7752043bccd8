# shellcheck shell=bash
# calico-net verify (network policy): stops the listener policy-verify-listener.sh started
# ("$pid"); one that already ended is no error.
: "${pid:?}"

kill "$pid" 2>/dev/null || true
