# shellcheck shell=bash

# foreign_routes PREFIX [DEV]: prints routes in the main table for exactly PREFIX that would
# collide with ours (same default metric) but were not created by us. `ip route replace` would
# otherwise silently take such a route over, and our teardown would then delete it. Routes
# through DEV, when given, do not count (the caller replaces them itself).
foreign_routes() {
  ip "$IP_FAMILY_FLAG" route show table main exact "$1" |
    awk -v dev="${2-}" -v proto="$ROUTE_PROTO" '!($0 ~ (" proto " proto "( |$)")) && !/ metric [1-9]/ && (dev == "" || index($0, " dev " dev " ") == 0)'
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
