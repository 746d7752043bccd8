# shellcheck shell=bash
# calico_workload apply: one idempotent pass that checks each piece and (re)creates only what is
# missing: the namespace "$ns" (marked on its lo), the veth pair (host side "$hif", eth0 inside)
# with MTU "$mtu", the pod address "$ip" and the routes on both sides, proxy ARP on the host side;
# for a dual-stack or IPv6-only workload the same for "$ipv6" (proxy NDP in place of proxy ARP).
# Either address may be empty, not both (the schema's check).
# shellcheck source=lib/workload.sh
. "$LIB/workload.sh"
# shellcheck source=lib/routes.sh
. "$LIB/routes.sh"
# shellcheck source=lib/exit-codes.sh
. "$LIB/exit-codes.sh"
: "${mtu:?}"

if [ -n "$ip" ]; then
  other=$(foreign_routes "$ip/$HOST_PREFIX" "$hif")
  if [ -n "$other" ]; then
    fail refused "$node already routes $ip/$HOST_PREFIX elsewhere ($other), not created by calico-net; remove that route or pick another pod IP"
  fi
fi
if [ -n "$ipv6" ]; then
  other=$(foreign_routes_v6 "$ipv6/$V6_HOST_PREFIX" "$hif")
  if [ -n "$other" ]; then
    fail refused "$node already routes $ipv6/$V6_HOST_PREFIX elsewhere ($other), not created by calico-net; remove that route or pick another pod IPv6 address"
  fi
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
# The lines of each family, or empty lines (ip -batch skips them): one ip process per namespace
# whatever the families. Every value here passed its check: no quoting needed in -batch. An
# IPv6 route's family comes from its prefix ("::/0", not "default", which is IPv4's).
pod4='' gw4='' default4='' host4='' pod6='' default6='' host6=''
if [ -n "$ip" ]; then
  pod4="addr replace $ip/$HOST_PREFIX dev eth0"
  gw4="route replace $POD_GATEWAY dev eth0 scope link"
  default4="route replace default via $POD_GATEWAY dev eth0"
  host4="route replace $ip/$HOST_PREFIX dev $hif scope link table main proto $ROUTE_PROTO"
fi
if [ -n "$ipv6" ]; then
  # nodad: the address is ours alone (the block is the node's), so no 1-2 s of "tentative".
  pod6="addr replace $ipv6/$V6_HOST_PREFIX dev eth0 nodad"
  # The gateway is the host veth's own link-local address (its MAC's EUI-64): no proxy needed.
  default6="route replace $V6_DEFAULT_ROUTE via $V6_POD_GATEWAY dev eth0"
  host6="route replace $ipv6/$V6_HOST_PREFIX dev $hif table main proto $ROUTE_PROTO"
fi
ip -n "$ns" -batch - <<BATCH
link set dev eth0 mtu $mtu
link set dev lo up
$pod4
$pod6
link set dev eth0 up
$gw4
$default4
$default6
BATCH
# Sysctls are written by the shell itself: no process each. Calico's per family (Felix and its
# CNI plugin): IPv4 proxy ARP without delay and forwarding; IPv6 proxy NDP and forwarding.
if [ -n "$ip" ]; then
  echo 1 > "$SYSCTL_DIR/conf/$hif/proxy_arp"
  echo 0 > "$SYSCTL_DIR/neigh/$hif/proxy_delay"
  echo 1 > "$SYSCTL_DIR/conf/$hif/forwarding"
fi
if [ -n "$ipv6" ]; then
  echo 0 > "$V6_SYSCTL_DIR/conf/$hif/disable_ipv6"
  echo 1 > "$V6_SYSCTL_DIR/conf/$hif/proxy_ndp"
  echo 1 > "$V6_SYSCTL_DIR/conf/$hif/forwarding"
fi
# Router advertisements stay off the host side whatever the pods' family: Calico does the same.
if [ -e "$V6_SYSCTL_DIR/conf/$hif/accept_ra" ]; then echo 0 > "$V6_SYSCTL_DIR/conf/$hif/accept_ra"; fi
# The MAC before the link comes up: the host veth's IPv6 link-local (the pods' gateway) is made from it.
ip -batch - <<BATCH
link set dev $hif address $HOST_VETH_MAC mtu $mtu alias $CALICO_MARK
link set dev $hif up
$host4
$host6
BATCH
echo end=ok
