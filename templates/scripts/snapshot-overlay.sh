# shellcheck shell=bash
# Each overlay device's details, permanent neighbours and FDB; a device that is not there costs
# no process.
# shellcheck source=lib/links.sh
. "$LIB/links.sh"

read -ra devices <<< "$ENCAPSULATION_DEVICES"
for d in "${devices[@]}"; do
  link_exists "$d" || continue
  part "device $d"; ip -d -o link show dev "$d" 2>/dev/null || true
  part "neighbours $d"; ip "$IP_FAMILY_FLAG" neigh show dev "$d" nud permanent 2>/dev/null || true
  part "fdb $d"; bridge fdb show dev "$d" 2>/dev/null || true
done
