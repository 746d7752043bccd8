# shellcheck shell=bash
# Host-side sysctls of every workload veth and the inside of every namespace. A namespace that
# vanishes mid-read reads as empty (its workload then shows as drifted). Names that no workload
# can have are skipped: a foreign namespace name must not be able to forge our answer's framing.
# shellcheck source=lib/ip-read.sh
. "$LIB/ip-read.sh"

part sysctls
for d in "$SYSCTL_DIR"/conf/cali*; do
  [ -d "$d" ] || continue
  i=${d##*/} arp='' delay=''
  # read, not $(cat …): no process per file (this runs for every veth on every plan).
  read -r arp 2>/dev/null < "$d/proxy_arp" || true
  read -r delay 2>/dev/null < "$SYSCTL_DIR/neigh/$i/proxy_delay" || true
  printf '%s %s %s\n' "$i" "$arp" "$delay"
done
for f in /run/netns/*; do
  [ -e "$f" ] || continue
  ns=${f##*/}
  case "$ns" in *[!A-Za-z0-9_.-]*) continue ;; esac
  part "netns $ns"
  ip_batch_read netns "$ns" 2>/dev/null || true
done
