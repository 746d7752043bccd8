# shellcheck shell=bash

# foreign_routes PREFIX [DEV]: prints routes in the main table for exactly PREFIX that would
# collide with ours (same default metric) but were not created by us. `ip route replace` would
# otherwise silently take such a route over, and our teardown would then delete it. Routes
# through DEV, when given, do not count (the caller replaces them itself). The family's default
# metric: IPv4 prints none for it (0), IPv6 prints "metric 1024".
foreign_routes() {
  ip "$IP_FAMILY_FLAG" route show table main exact "$1" |
    awk -v dev="${2-}" -v proto="$ROUTE_PROTO" -v want="$DEFAULT_METRIC" '{ m = 0; if (match($0, / metric [0-9]+/)) m = substr($0, RSTART + 8, RLENGTH - 8) + 0 }
      !($0 ~ (" proto " proto "( |$)")) && m == want + 0 && (dev == "" || index($0, " dev " dev " ") == 0)'
}

# foreign_routes_v6 PREFIX [DEV]: foreign_routes for an IPv6 prefix, from a script whose own
# family is IPv4 (a dual-stack node or workload programs both in one script).
foreign_routes_v6() {
  IP_FAMILY_FLAG=$V6_IP_FAMILY_FLAG DEFAULT_METRIC=$V6_DEFAULT_METRIC foreign_routes "$@"
}

# remove_bird_routes all | root CIDR: deletes every `proto bird` route of the main table, or
# those inside the block CIDR.
# BIRD's kernel protocol runs with `persist`, so its routes outlive its config: teardown removes
# them itself. The first word of a line is the route type when it is not the prefix.
remove_bird_routes() {
  local select=()
  if [ "$1" = root ]; then select=(root "$2"); fi
  ip "$IP_FAMILY_FLAG" route show table main "${select[@]}" proto bird | awk '/^[^ \t]/{print ($1 ~ /^(unicast|blackhole|unreachable|prohibit|throw)$/) ? $2 : $1}' | sort -u |
    while read -r prefix; do
      while ip route del "$prefix" table main proto bird 2>/dev/null; do :; done
    done
}

# remove_bird_routes_v6: remove_bird_routes all for IPv6, on a host that has IPv6 at all (a
# kernel booted with ipv6.disable=1 has no /proc/sys/net/ipv6, and `ip -6` fails there).
remove_bird_routes_v6() {
  if [ -d "$V6_SYSCTL_DIR" ]; then IP_FAMILY_FLAG=$V6_IP_FAMILY_FLAG remove_bird_routes all; fi
}

# remove_block_v6 CIDR6 ORIG6: a node's IPv6 block given up (destroy, or pod_cidr_v6 changed or
# unset in place): our IPv6 blackhole for it, BIRD's routes inside it, and IPv6 forwarding back
# to ORIG6 ("0" or "1"; anything else leaves it, e.g. when another block still needs it).
remove_block_v6() {
  if [ -n "$(ip "$V6_IP_FAMILY_FLAG" route show table main exact "$1" type blackhole proto "$ROUTE_PROTO")" ]; then
    ip route del blackhole "$1" table main proto "$ROUTE_PROTO"
  fi
  IP_FAMILY_FLAG=$V6_IP_FAMILY_FLAG remove_bird_routes root "$1"
  case "$2" in 0 | 1) echo "$2" > "$V6_SYSCTL_DIR/$V6_IP_FORWARD" ;; esac
}
