# shellcheck shell=bash
# calico_workload apply: one idempotent pass that checks each piece and (re)creates only what is
# missing: the namespace "$ns" (marked on its lo), the veth pair (host side "$hif", eth0 inside)
# with MTU "$mtu", the pod address "$ip" and the routes on both sides, proxy ARP on the host side.
# shellcheck source=lib/workload.sh
. "$LIB/workload.sh"
# shellcheck source=lib/routes.sh
. "$LIB/routes.sh"
# shellcheck source=lib/exit-codes.sh
. "$LIB/exit-codes.sh"
: "${mtu:?}"

other=$(foreign_routes "$ip/$HOST_PREFIX" "$hif")
if [ -n "$other" ]; then
  fail refused "$node already routes $ip/$HOST_PREFIX elsewhere ($other), not created by calico-net; remove that route or pick another pod IP"
fi
if ! netns_ok; then
  # Listed on the host before they exist: a kill from here on leaves nothing unlisted.
  register netns "$ns"
  register link "$hif"
  ip netns add "$ns"
  ip -n "$ns" link set dev lo alias "$CALICO_MARK"
elif ! netns_ours; then
  # A namespace already wired to our veth is ours without the mark (the mark was lost, or it
  # was imported: import only reads, and the first apply marks it). Anything else is not.
  if ! peer_ok; then
    fail refused "network namespace $ns on $node exists but was not created by calico-net (its lo carries no \"$CALICO_MARK\" alias), so it is not adopted: remove or rename it, then apply again"
  fi
  ip -n "$ns" link set dev lo alias "$CALICO_MARK"
fi
register netns "$ns"
register link "$hif"
# A host veth whose peer is not our eth0 (e.g. the netns was deleted and recreated) is rebuilt.
if hif_ok && ! peer_ok; then ip link del "$hif"; fi
if ! hif_ok; then
  # Anything else called eth0 in our netns would block the new peer.
  if ip -n "$ns" link show dev eth0 >/dev/null 2>&1; then
    fail refused "$ns on $node already has an eth0 that is not the peer of $hif"
  fi
  # One netlink request makes both ends, eth0 already inside the netns: nothing is left
  # half-made if we are killed, and there is no move into the netns (a move waits for an RCU
  # grace period under the kernel's global RTNL lock, ~17 ms that every namespace on the
  # machine queues behind).
  ip link add "$hif" type veth peer name eth0 netns "$ns"
fi
# One ip process per namespace (every value here passed its check: no quoting needed in -batch).
ip -n "$ns" -batch - <<BATCH
link set dev eth0 mtu $mtu
link set dev lo up
addr replace $ip/$HOST_PREFIX dev eth0
link set dev eth0 up
route replace $POD_GATEWAY dev eth0 scope link
route replace default via $POD_GATEWAY dev eth0
BATCH
# Sysctls are written by the shell itself: no process each.
echo 1 > "$SYSCTL_DIR/conf/$hif/proxy_arp"
echo 0 > "$SYSCTL_DIR/neigh/$hif/proxy_delay"
echo 1 > "$SYSCTL_DIR/conf/$hif/forwarding"
# Router advertisements stay off the host side whatever the pods' family: Calico does the same.
if [ -e "/proc/sys/net/ipv6/conf/$hif/accept_ra" ]; then echo 0 > "/proc/sys/net/ipv6/conf/$hif/accept_ra"; fi
ip -batch - <<BATCH
link set dev $hif address $HOST_VETH_MAC mtu $mtu alias $CALICO_MARK
link set dev $hif up
route replace $ip/$HOST_PREFIX dev $hif scope link table main proto $ROUTE_PROTO
BATCH
echo end=ok
