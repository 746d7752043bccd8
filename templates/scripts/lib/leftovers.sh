# shellcheck shell=bash
# remove_leftovers MODE: removes objects of ours that are not wanted (see providers/calico/registry.ts).
# MODE apply: every marked object the registry lists, or that is one of our overlay devices
# ($OVERLAY_DEVICES), unless "$want_links" / "$want_netns" (space-separated) name it;
# "$want_netns" = "-" means the configuration does not list its workloads, so workload objects
# stay. MODE delete: every marked object listed for "$node", and our marked overlay devices.
# Prints `removed=KIND NAME` for each. Unmarked objects are never touched: their lines go, the
# objects stay.
# shellcheck source=lib/registry.sh
. "$LIB/registry.sh"
# shellcheck source=lib/links.sh
. "$LIB/links.sh"

link_marked() { link_exists "$1" && [[ $(ip -o link show dev "$1" 2>/dev/null) == *" alias $CALICO_MARK" ]]; }
netns_marked() { [ -e "/run/netns/$1" ] && [[ $(ip -n "$1" -o link show dev lo 2>/dev/null) == *" alias $CALICO_MARK" ]]; }
wanted() { [[ " $1 " == *" $2 "* ]]; }

remove_link() {
  if [ "$1" = tunl0 ] && ! ip link del tunl0 2>/dev/null; then
    # The kernel's fallback tunl0 cannot be deleted: take back what we set on it.
    ip "$IP_FAMILY_FLAG" -o addr show dev tunl0 | awk '{ print $4 }' | while read -r a; do ip addr del "$a" dev tunl0; done
    ip link set dev tunl0 down
    ip link set dev tunl0 alias ""
  fi
  ip link del "$1" 2>/dev/null || true
}

remove_leftovers() {
  local mode=$1 kind name owner todo="" devices
  if [ -f "$registry" ]; then
    while read -r kind name owner; do
      [ -n "$owner" ] || continue
      if [ "$mode" = delete ] && [ "$owner" != "$node" ]; then continue; fi
      todo+="$kind $name"$'\n'
    done < "$registry"
  fi
  read -ra devices <<< "$OVERLAY_DEVICES"
  for name in "${devices[@]}"; do todo+="link $name"$'\n'; done
  while read -r kind name; do
    [ -n "$name" ] || continue
    if [ "$mode" = apply ]; then
      : "${want_links?}" "${want_netns?}"
      if [ "$kind" = link ] && wanted "$want_links" "$name"; then continue; fi
      if [ "$kind" = netns ] && { [ "$want_netns" = - ] || wanted "$want_netns" "$name"; }; then continue; fi
      if [ "$kind" = link ] && [ "$want_netns" = - ] && [[ $name == cali* ]]; then continue; fi
    fi
    if [ "$kind" = link ] && link_marked "$name"; then
      remove_link "$name"; echo "removed=link $name"
    elif [ "$kind" = netns ] && netns_marked "$name"; then
      ip netns del "$name"; echo "removed=netns $name"
    fi
    unregister "$kind" "$name"
  done <<< "$todo"
}
