# shellcheck shell=bash
# The workload "$ns" on the node "$node": its namespace and its host veth "$hif"; its addresses
# "$ip" and "$ipv6" (either may be empty). Written to
# start as few processes as they can (a destroy runs them for every workload). `peer_ok` holds
# when the host veth exists and its peer is eth0 inside our netns (the host side's "@ifN" names
# the peer's ifindex).
# shellcheck source=lib/links.sh
. "$LIB/links.sh"
# shellcheck source=lib/registry.sh
. "$LIB/registry.sh"
: "${ns:?}" "${hif:?}" "${ip?}" "${ipv6?}"

netns_ok() { [ -e "/run/netns/$ns" ]; }
netns_ours() { [[ $(ip -n "$ns" -o link show dev lo 2>/dev/null) == *" alias $CALICO_MARK" ]]; }
hif_ok() { link_exists "$hif"; }
peer_ok() {
  netns_ok && hif_ok || return 1
  local host_end eth0 peer_re='^[0-9]+: [^@:]*@if([0-9]+):'
  host_end=$(ip -o link show dev "$hif" 2>/dev/null) || return 1
  eth0=$(ip -n "$ns" -o link show dev eth0 2>/dev/null) || return 1
  [[ $host_end =~ $peer_re ]] && [ "${BASH_REMATCH[1]}" = "${eth0%%:*}" ]
}
