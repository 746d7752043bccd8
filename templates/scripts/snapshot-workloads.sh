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
# IPv6's per-veth sysctls (builtins only, as above).
part sysctls_v6
for d in "$V6_SYSCTL_DIR"/conf/cali*; do
  [ -d "$d" ] || continue
  ndp='' fwd='' ra=''
  read -r ndp 2>/dev/null < "$d/proxy_ndp" || true
  read -r fwd 2>/dev/null < "$d/forwarding" || true
  read -r ra 2>/dev/null < "$d/accept_ra" || true
  printf '%s %s %s %s\n' "${d##*/}" "$ndp" "$fwd" "$ra"
done
# IPv6 inside the namespaces only where calico-net routes IPv6 on this host (a dual-stack node's
# blackhole, a workload's /128): an IPv4-only host pays one process here, not one per namespace.
# A host stripped of every such route reads its workloads' IPv6 as missing: drift all the same.
read_v6=false
if [ -n "$(ip "$V6_IP_FAMILY_FLAG" route show table main proto "$ROUTE_PROTO" 2>/dev/null)" ]; then read_v6=true; fi
for f in /run/netns/*; do
  [ -e "$f" ] || continue
  ns=${f##*/}
  case "$ns" in *[!A-Za-z0-9_.-]*) continue ;; esac
  part "netns $ns"
  ip_batch_read netns "$ns" 2>/dev/null || true
  if [ "$read_v6" = true ]; then
    part "netns6 $ns"
    IP_FAMILY_FLAG=$V6_IP_FAMILY_FLAG ip_batch_read netns "$ns" 2>/dev/null || true
  fi
done
