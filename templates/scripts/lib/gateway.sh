# shellcheck shell=bash
# The pods' gateway route (see providers/calico/node.ts for why through lo).
# own_gateway_route prints our route to $POD_GATEWAY (empty when absent); host_routes_gateway
# succeeds when the kernel routes $POD_GATEWAY out of a device proxy ARP can use (any but a
# workload's veth: isUsableGatewayDev in node.ts).

own_gateway_route() {
  ip "$IP_FAMILY_FLAG" route show table main exact "$POD_GATEWAY/$HOST_PREFIX" dev "$OWN_GATEWAY_DEV" proto "$ROUTE_PROTO"
}

host_routes_gateway() {
  local out dev
  out=$(ip "$IP_FAMILY_FLAG" -o route get "$POD_GATEWAY" 2>/dev/null) || return 1
  dev=$(printf '%s\n' "$out" | sed -n 's/.* dev \([^ ]*\).*/\1/p' | head -n1)
  case "$dev" in ''|cali*) return 1 ;; esac
  return 0
}
