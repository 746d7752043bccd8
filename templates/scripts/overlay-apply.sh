# shellcheck shell=bash
# calico_overlay apply, after the kind's script (overlay-vxlan.sh or overlay-ipip.sh). Values
# arrive as quoted variables; the maps ("$neighbours", "$fdb", "$routes") as "key value" lines of
# checked values, which is what makes it safe to turn them into `ip -batch` commands.
# shellcheck source=lib/overlay.sh
. "$LIB/overlay.sh"
# shellcheck source=lib/address.sh
. "$LIB/address.sh"
# shellcheck source=lib/routes.sh
. "$LIB/routes.sh"
# shellcheck source=lib/exit-codes.sh
. "$LIB/exit-codes.sh"
: "${tunnel:?}" "${routes?}"

require_own_address
while read -r prefix _; do
  if [ -z "$prefix" ]; then continue; fi
  other=$(foreign_routes "$prefix")
  if [ -n "$other" ]; then
    fail refused "$node already has a route for $prefix that calico-net did not create ($other); remove it, then apply again"
  fi
done <<< "$routes"
ensure_device
ip addr replace "$tunnel/$HOST_PREFIX" dev "$dev"
ip "$IP_FAMILY_FLAG" -o addr show dev "$dev" | awk '{ print $4 }' | while read -r a; do
  if [ "$a" != "$tunnel/$HOST_PREFIX" ]; then ip addr del "$a" dev "$dev"; fi
done
converge_entries
while read -r prefix gw; do
  if [ -n "$prefix" ]; then echo "route replace $prefix via $gw dev $dev onlink table main proto $ROUTE_PROTO"; fi
done <<< "$routes" | ip -batch -
remove_our_routes "$routes"
echo end=ok
