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
