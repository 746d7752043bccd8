# shellcheck shell=bash
# The check that the host holds the node's address: a node entry pointed at the wrong host stops
# here, before anything changes. Needs "$node" and "$address".
# shellcheck source=lib/exit-codes.sh
. "$LIB/exit-codes.sh"
: "${node:?}" "${address:?}"

require_own_address() {
  if [ -z "$(ip "$IP_FAMILY_FLAG" -o addr show to "$address/$HOST_PREFIX")" ]; then
    fail address_missing "$node does not hold its address $address on any interface: is the inventory pointing this node at the right host?"
  fi
}

# require_own_address_v6: the same for a dual-stack node's IPv6 address "$address6" (empty: the
# node declares none), so IPv6 BGP never sits idle on a host that cannot source its sessions.
require_own_address_v6() {
  if [ -n "$address6" ] && [ -z "$(ip "$V6_IP_FAMILY_FLAG" -o addr show to "$address6/$V6_HOST_PREFIX")" ]; then
    fail address_missing "$node does not hold its IPv6 address $address6 on any interface: is the inventory pointing this node at the right host?"
  fi
}
