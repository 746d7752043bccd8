# shellcheck shell=bash
# VXLAN, as Calico programs it: vxlan.calico (VNI "$vni", UDP "$port", `local "$address"`,
# nolearning) with the MAC "$mac"; per remote node a permanent neighbour (VTEP address → VTEP MAC)
# and a permanent FDB entry (VTEP MAC → the node's underlay address). Built as "$tmpdev" and
# renamed once marked.
# shellcheck source=lib/overlay.sh
. "$LIB/overlay.sh"
# shellcheck source=lib/exit-codes.sh
. "$LIB/exit-codes.sh"

ensure_device() {
  : "${mac:?}" "${vni:?}" "${port:?}" "${address:?}" "${mtu:?}"
  if dev_exists; then
    if ! dev_ours "$dev"; then
      fail refused "$node already has a device $dev that calico-net did not create (it lacks the alias $CALICO_MARK); it is left alone: remove it, then apply again"
    fi
    # VNI, source, port and learning cannot change in place: a device that differs is rebuilt
    # (its neighbours, FDB entries and routes are added again below).
    case "$(ip -d -o link show dev "$dev")" in
      *" vxlan id $vni local $address "*" dstport $port nolearning "*) ;;
      *) ip link del "$dev" ;;
    esac
  fi
  if ! dev_exists; then
    # Built under a name of our own and renamed once marked, so an apply killed halfway never
    # leaves an unmarked vxlan.calico that the next apply would refuse as foreign. The temporary
    # name is ours only with our mark: a device of that name without it is someone else's.
    if ip link show dev "$tmpdev" >/dev/null 2>&1; then
      if ! dev_ours "$tmpdev"; then
        fail refused "$node already has a device $tmpdev that calico-net did not create (it lacks the alias $CALICO_MARK); calico-net builds $dev under that name, so it is left alone and nothing was changed: remove or rename it, then apply again"
      fi
      ip link del "$tmpdev"
    fi
    # Listed on the host before they exist: a kill from here on leaves nothing unlisted.
    register link "$dev"
    register link "$tmpdev"
    # Made and marked by one ip process: no window in which a kill of this script leaves it unmarked.
    local err
    if ! err=$(printf 'link add %s mtu %s address %s type vxlan id %s local %s dstport %s nolearning\nlink set dev %s alias %s\n' \
        "$tmpdev" "$mtu" "$mac" "$vni" "$address" "$port" "$tmpdev" "$CALICO_MARK" | ip -batch - 2>&1); then
      # E.g. another device already uses this VNI and port, or the kernel has no vxlan module.
      ip link del "$tmpdev" 2>/dev/null || true
      unregister link "$tmpdev"
      fail refused "$node: cannot create $dev (VXLAN, VNI $vni, UDP port $port, local $address): $err"
    fi
    ip link set dev "$tmpdev" name "$dev"
    unregister link "$tmpdev"
  fi
  register link "$dev"
  # Setting the MAC flushes the device's neighbours, even to the same value: only when it
  # differs, and before the neighbours are added.
  if [ "$(ip -o link show dev "$dev" | awk '{ for (i = 1; i < NF; i++) if ($i == "link/ether") print $(i + 1) }')" != "$mac" ]; then
    ip link set dev "$dev" address "$mac"
  fi
  ip link set dev "$dev" mtu "$mtu" up
}

# The declared neighbours ("$neighbours": "VTEP MAC" lines) and FDB entries ("$fdb": "MAC DST"
# lines) in place, and no others.
converge_entries() {
  : "${neighbours?}" "${fdb?}"
  while read -r vtep lladdr; do
    if [ -n "$vtep" ]; then echo "neigh replace $vtep lladdr $lladdr dev $dev nud permanent"; fi
  done <<< "$neighbours" | ip -batch -
  ip "$IP_FAMILY_FLAG" neigh show dev "$dev" nud permanent | undeclared "$neighbours" | while read -r vtep; do ip neigh del "$vtep" dev "$dev"; done
  while read -r lladdr dst; do
    if [ -n "$lladdr" ]; then echo "fdb replace $lladdr dev $dev dst $dst self permanent"; fi
  done <<< "$fdb" | bridge -batch -
  # An FDB entry is a (MAC, destination) pair: one not declared as such goes.
  bridge fdb show dev "$dev" | awk '$2 == "dst" { print $1 "/" $3 }' |
    undeclared "$(awk 'NF { print $1 "/" $2 }' <<< "$fdb")" | tr / ' ' |
    while read -r lladdr dst; do bridge fdb del "$lladdr" dev "$dev" dst "$dst" self; done
}

# Our device goes, and the temporary one when it is ours (a foreign device of that name stays).
remove_device() {
  if dev_ours "$tmpdev"; then ip link del "$tmpdev"; fi
  if dev_exists && dev_ours "$dev"; then ip link del "$dev"; fi
}
