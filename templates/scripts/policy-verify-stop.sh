# shellcheck shell=bash
# calico-net verify (network policy): stops the listeners policy-verify-listener.sh started on
# this host ("$pids", space-separated); one that already ended is no error, and anything but a
# number is never passed to kill.
: "${pids:?}"

for pid in $pids; do
  if [[ $pid =~ ^[0-9]+$ ]]; then kill "$pid" 2>/dev/null || true; fi
done
