# shellcheck shell=bash
# calico_workload destroy. Only ours: the route carries our proto and points at our veth (the
# kernel deletes only a route that matches both; none there is not an error); the veth carries
# our name; the namespace our mark (a foreign one keeps everything but the end of our veth pair).
# shellcheck source=lib/workload.sh
. "$LIB/workload.sh"

if [ -n "$ip" ]; then ip route del "$ip/$HOST_PREFIX" dev "$hif" table main proto "$ROUTE_PROTO" 2>/dev/null || true; fi
if [ -n "$ipv6" ]; then ip route del "$ipv6/$V6_HOST_PREFIX" dev "$hif" table main proto "$ROUTE_PROTO" 2>/dev/null || true; fi
# When the pair joins our netns, deleting the netns takes the pair with it: the kernel tears
# namespaces down in batches, while deleting a veth waits for its own RCU grace periods under
# the global RTNL lock (~30 ms each, measured; 10 workloads went in 67 ms instead of 380). A
# namespace kept alive by a process inside it keeps the pair: then it is deleted by name.
if netns_ours && peer_ok; then
  ip netns del "$ns"
  for ((i = 0; i < 50; i++)); do hif_ok || break; sleep 0.02; done
fi
if hif_ok; then ip link del "$hif"; fi
if netns_ok && netns_ours; then ip netns del "$ns"; fi
unregister link "$hif"
netns_ok || unregister netns "$ns"
echo end=ok
