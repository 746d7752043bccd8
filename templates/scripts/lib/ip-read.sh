# shellcheck shell=bash

# ip_batch_read host | netns NS: one `ip` process printing a namespace's links, addresses and main table
# (`-o` applies to all three: one line each). The whole main table: `ip route show` leaves out
# any field it was asked to filter on (proto, scope), so filtering there would hide what the
# facts compare. Read back by parseIpBatch (providers/calico/ip-output.ts).
ip_batch_read() {
  local where=()
  if [ "$1" = netns ]; then where=(-n "$2"); fi
  ip "${where[@]}" "$IP_FAMILY_FLAG" -o -batch - <<'IP_BATCH'
link show
addr show
route show table main
IP_BATCH
}
