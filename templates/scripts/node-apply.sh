# shellcheck shell=bash
# calico_node apply: the host holds "$address" (and "$address6" when set); forwarding on; the
# blackhole route for "$cidr"; our route to the pods' gateway where the host has none proxy ARP
# can use; the record "$rec"; and what the registry lists that the configuration no longer wants
# goes (lib/leftovers.sh).
# Dual-stack ("$cidr6" set): IPv6 forwarding on and the blackhole for "$cidr6" as well; empty:
# IPv6 is left as it is. "$prev_cidr6" (an update that changes or unsets pod_cidr_v6 in place):
# the block the node held until now, given up as destroy would (lib/routes.sh remove_block_v6),
# IPv6 forwarding going back to its value before the first dual-stack apply only when no IPv6
# block is left ("$prev_orig6", the state's copy, when the record has none).
#
# "$gw_mode" (from the plan): "own" keeps or adds our gateway route, "host" expects the host's
# own route (the plan saw one), "auto" (create: the plan could not know) decides here. Every
# check comes before the first change, so a refusal changes nothing.
# shellcheck source=lib/address.sh
. "$LIB/address.sh"
# shellcheck source=lib/gateway.sh
. "$LIB/gateway.sh"
# shellcheck source=lib/routes.sh
. "$LIB/routes.sh"
# shellcheck source=lib/leftovers.sh
. "$LIB/leftovers.sh"
: "${cidr:?}" "${cidr6?}" "${address6?}" "${prev_cidr6?}" "${prev_orig6?}" "${rec:?}" "${gw_mode:?}" "${want_links?}" "${want_netns?}"

require_own_address
require_own_address_v6
has_own=false
[ -z "$(own_gateway_route)" ] || has_own=true
case "$gw_mode" in
  own) want_own=true ;;
  host) want_own=false ;;
  *) if [ "$has_own" = true ] || ! host_routes_gateway; then want_own=true; else want_own=false; fi ;;
esac
if [ "$want_own" = true ] && [ "$has_own" = false ]; then
  blocking=$(foreign_routes "$POD_GATEWAY/$HOST_PREFIX")
  if [ -n "$blocking" ]; then
    fail gateway_blocked "$node has a route to $POD_GATEWAY that calico-net did not create ($blocking) where calico-net puts its own (pods need one proxy ARP can use, not through a workload veth): remove it, then apply again"
  fi
fi
if [ "$want_own" = false ] && [ "$has_own" = false ] && ! host_routes_gateway; then
  fail gateway_blocked "$node no longer routes $POD_GATEWAY through an uplink, as it did when the plan was made: plan again (calico-net then adds its own route)"
fi
other=$(foreign_routes "$cidr")
if [ -n "$other" ]; then
  fail refused "$node already has a route for $cidr that calico-net did not create ($other); remove it or choose another pod_cidr"
fi
if [ -n "$cidr6" ]; then
  other=$(foreign_routes_v6 "$cidr6")
  if [ -n "$other" ]; then
    fail refused "$node already has a route for $cidr6 that calico-net did not create ($other); remove it or choose another pod_cidr_v6"
  fi
fi
# The value before any calico_node touched this host: from the record when there is one.
orig=""
if [ -f "$rec" ]; then orig=$(sed -n 's/^original_ip_forward=//p' "$rec"); fi
[ -n "$orig" ] || orig=$(cat "$SYSCTL_DIR/$IP_FORWARD")
# IPv6 forwarding likewise, recorded only on a dual-stack node (an IPv4-only record stays as it was).
orig6=""
if [ -n "$cidr6" ]; then
  if [ -f "$rec" ]; then orig6=$(sed -n 's/^original_ipv6_forwarding=//p' "$rec"); fi
  [ -n "$orig6" ] || read -r orig6 < "$V6_SYSCTL_DIR/$V6_IP_FORWARD"
fi
# The IPv6 forwarding to restore when this update leaves the node without an IPv6 block: read
# before the record is rewritten without it.
restore6=""
if [ -n "$prev_cidr6" ] && [ -z "$cidr6" ]; then
  if [ -f "$rec" ]; then restore6=$(sed -n 's/^original_ipv6_forwarding=//p' "$rec"); fi
  [ -n "$restore6" ] || restore6=$prev_orig6
fi
mkdir -p "$(dirname "$rec")"
{
  printf 'name=%s\npod_cidr=%s\noriginal_ip_forward=%s\n' "$node" "$cidr" "$orig"
  if [ -n "$cidr6" ]; then printf 'pod_cidr_v6=%s\noriginal_ipv6_forwarding=%s\n' "$cidr6" "$orig6"; fi
} > "$rec.tmp"
mv -f "$rec.tmp" "$rec"
echo "before_ip_forward=$orig"
echo 1 > "$SYSCTL_DIR/$IP_FORWARD"
ip route replace blackhole "$cidr" table main proto "$ROUTE_PROTO"
if [ -n "$cidr6" ]; then
  echo "before_ipv6_forwarding=$orig6"
  echo 1 > "$V6_SYSCTL_DIR/$V6_IP_FORWARD"
  ip route replace blackhole "$cidr6" table main proto "$ROUTE_PROTO"
fi
if [ -n "$prev_cidr6" ] && [ "$prev_cidr6" != "$cidr6" ]; then remove_block_v6 "$prev_cidr6" "$restore6"; fi
if [ "$want_own" = true ] && [ "$has_own" = false ]; then
  ip route replace "$POD_GATEWAY/$HOST_PREFIX" dev "$OWN_GATEWAY_DEV" scope link table main proto "$ROUTE_PROTO"
  has_own=true
fi
echo "own_gateway_route=$has_own"
# What a kill left behind, or the configuration no longer wants (e.g. vxlanMode back to Never
# while the state knew only some of the nodes' overlays).
remove_leftovers apply
echo end=ok
