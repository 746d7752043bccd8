# shellcheck shell=bash
# calico_node apply: the host holds "$address"; forwarding on; the blackhole route for "$cidr";
# our route to the pods' gateway where the host has none proxy ARP can use; the record "$rec";
# and what the registry lists that the configuration no longer wants goes (lib/leftovers.sh).
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
: "${cidr:?}" "${rec:?}" "${gw_mode:?}" "${want_links?}" "${want_netns?}"

require_own_address
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
# The value before any calico_node touched this host: from the record when there is one.
orig=""
if [ -f "$rec" ]; then orig=$(sed -n 's/^original_ip_forward=//p' "$rec"); fi
[ -n "$orig" ] || orig=$(cat "$SYSCTL_DIR/$IP_FORWARD")
mkdir -p "$(dirname "$rec")"
printf 'name=%s\npod_cidr=%s\noriginal_ip_forward=%s\n' "$node" "$cidr" "$orig" > "$rec.tmp"
mv -f "$rec.tmp" "$rec"
echo "before_ip_forward=$orig"
echo 1 > "$SYSCTL_DIR/$IP_FORWARD"
ip route replace blackhole "$cidr" table main proto "$ROUTE_PROTO"
if [ "$want_own" = true ] && [ "$has_own" = false ]; then
  ip route replace "$POD_GATEWAY/$HOST_PREFIX" dev "$OWN_GATEWAY_DEV" scope link table main proto "$ROUTE_PROTO"
  has_own=true
fi
echo "own_gateway_route=$has_own"
# What a kill left behind, or the configuration no longer wants (e.g. vxlanMode back to Never
# while the state knew only some of the nodes' overlays).
remove_leftovers apply
echo end=ok
