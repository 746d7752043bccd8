# shellcheck shell=bash
# The overlay device "$dev" of the node "$node" (see providers/calico/overlay.ts). Each kind of
# encapsulation has a script of its own (overlay-vxlan.sh, overlay-ipip.sh) defining
# ensure_device, converge_entries and remove_device; overlay-apply.sh and overlay-delete.sh call them.
# shellcheck source=lib/registry.sh
. "$LIB/registry.sh"
: "${dev:?}" "${tmpdev:?}"

dev_exists() { ip link show dev "$dev" >/dev/null 2>&1; }
dev_ours() { ip -o link show dev "$1" 2>/dev/null | grep -q " alias $CALICO_MARK *\$"; }
# Prints the first word of each stdin line whose key is not among the declared lines in $1.
undeclared() { awk 'NR == FNR { want[$1] = 1; next } !($1 in want) { print $1 }' <(printf '%s\n' "$1") -; }
# Removes our routes through the device whose prefix is not among the declared lines in $1.
remove_our_routes() {
  { ip "$IP_FAMILY_FLAG" route show table main proto "$ROUTE_PROTO" dev "$dev" 2>/dev/null || true; } | undeclared "$1" |
    while read -r prefix; do ip route del "$prefix" dev "$dev" table main proto "$ROUTE_PROTO"; done
}
