# shellcheck shell=bash
# calico_node destroy: our blackhole for "$cidr", BIRD's leftovers inside it, forwarding back to
# "$orig" (empty: leave it), and, unless another calico_node took the host over (the record
# "$rec" names it), our gateway route and what the registry still lists for this node. Dual-stack
# ("$cidr6" set): the same for IPv6, forwarding back to "$orig6".
# shellcheck source=lib/routes.sh
. "$LIB/routes.sh"
# shellcheck source=lib/gateway.sh
. "$LIB/gateway.sh"
# shellcheck source=lib/leftovers.sh
. "$LIB/leftovers.sh"
: "${cidr:?}" "${rec:?}" "${orig?}" "${cidr6?}" "${orig6?}"

owner=""
owner_cidr=""
if [ -f "$rec" ]; then
  owner=$(sed -n 's/^name=//p' "$rec")
  owner_cidr=$(sed -n 's/^pod_cidr=//p' "$rec")
  recorded=$(sed -n 's/^original_ip_forward=//p' "$rec")
  [ -z "$recorded" ] || orig=$recorded
  recorded6=$(sed -n 's/^original_ipv6_forwarding=//p' "$rec")
  [ -z "$recorded6" ] || orig6=$recorded6
fi
if [ -n "$owner" ] && [ "$owner" != "$node" ]; then
  # Another calico_node took this host over (the node was renamed): what it owns stays.
  echo "handed_over=$owner"
  if [ "$owner_cidr" = "$cidr" ]; then echo end=ok; exit 0; fi
  orig=""
  orig6=""
else
  # The gateway route is the host's, not the block's: it goes only with the last owner.
  if [ -n "$(own_gateway_route)" ]; then
    ip route del "$POD_GATEWAY/$HOST_PREFIX" dev "$OWN_GATEWAY_DEV" table main proto "$ROUTE_PROTO"
  fi
  # Objects of ours no resource in the state knows (a kill between making one and the state).
  remove_leftovers delete
fi
if [ -n "$(ip "$IP_FAMILY_FLAG" route show table main exact "$cidr" type blackhole proto "$ROUTE_PROTO")" ]; then
  ip route del blackhole "$cidr" table main proto "$ROUTE_PROTO"
fi
remove_bird_routes root "$cidr"
if [ -n "$orig" ]; then echo "$orig" > "$SYSCTL_DIR/$IP_FORWARD"; fi
if [ -n "$cidr6" ]; then remove_block_v6 "$cidr6" "$orig6"; fi
if [ "$owner" = "$node" ]; then rm -f "$rec"; fi
if [ -f "$registry" ] && [ ! -s "$registry" ]; then rm -f "$registry"; fi
echo end=ok
