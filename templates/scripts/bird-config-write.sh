# shellcheck shell=bash
# calico_bird_config apply: the new bird.conf arrives on stdin; it is parse-checked on the host,
# swapped in atomically for "$cfg" and loaded (lib/bird.sh). "$keep_original" = 1 keeps the file
# that was there as "$backup"; "$owner" names the node whose config is in place.
# shellcheck source=lib/bird.sh
. "$LIB/bird.sh"
# shellcheck source=lib/routes.sh
. "$LIB/routes.sh"
: "${cfg:?}" "${backup:?}" "${prev:?}" "${owner:?}" "${keep_original:?}"

dir=$(dirname "$cfg")
[ -d "$dir" ] || fail refused "directory $dir does not exist on $node"
tmp=$(mktemp "$cfg.calico-net.XXXXXX")
trap 'rm -f "$tmp"' EXIT
cat > "$tmp"
# Parse check on the host, before anything touches the live file. No bird to run is not a
# rejection (sudo's secure_path, for one, may leave /usr/sbin out).
command -v bird >/dev/null 2>&1 || fail bird_missing "bird: command not found on $node (PATH=$PATH)"
if ! out=$(bird -p -c "$tmp" 2>&1); then
  fail bird_rejected "$(printf '%s\n' "$out" | sed "s|$tmp|$cfg (new content)|g")"
fi
if [ "$keep_original" = 1 ] && [ -e "$cfg" ] && [ ! -e "$backup" ]; then cp -p "$cfg" "$backup"; fi
if [ -e "$backup" ]; then echo original=kept; else echo original=none; fi
before=""
if [ -S "$sock" ]; then before=$(established | tr '\n' ' '); fi
rm -f "$prev"
if [ -e "$cfg" ]; then cp -p "$cfg" "$prev"; chmod --reference="$cfg" "$tmp"; chown --reference="$cfg" "$tmp"; else chmod 0644 "$tmp"; fi
mv -f "$tmp" "$cfg"
trap - EXIT
load_config
rm -f "$prev"
# A config without the IPv6 kernel protocol (a cluster back to IPv4 only) leaves the IPv6 routes
# the last one installed: it runs with `persist`, and nothing else would ever withdraw them.
if ! grep -q '^protocol kernel kernel_v6 ' "$cfg"; then remove_bird_routes_v6; fi
# This node's config is the one in place: a node renamed in place takes the file over.
printf '%s\n' "$node" > "$owner"
echo end=ok
