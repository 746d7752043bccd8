# shellcheck shell=bash
# Loading a bird.conf into the BIRD behind the control socket "$sock", on the node "$node".
# shellcheck source=lib/exit-codes.sh
. "$LIB/exit-codes.sh"
: "${sock:?}" "${node:?}"

# Prints the names of the BGP sessions that are Established now.
established() {
  timeout 10 birdc -s "$sock" show protocols 2>/dev/null | awk '$2 == "BGP" && / Established/ { print $1 }'
}

# A plain `birdc configure`; fails with birdc's own words if the reload is refused.
reload_bird() {
  local reply
  reply=$(birdc -s "$sock" configure 2>&1) || true
  case "$reply" in
    *Reconfigured*|*"Reconfiguration in progress"*|*"Reconfiguration already in progress"*) ;;
    *) echo "birdc configure on $node failed: $reply" >&2; return 1 ;;
  esac
}

# Loads the new file "$cfg". With a session wait ("$wait" seconds, > 0): `configure timeout
# $revert` (BIRD reverts by itself unless confirmed, should this script never get to the end),
# then every session in "$before" (Established before) that is still configured must be
# Established again within the wait; then `configure confirm`. Otherwise the previous file
# "$prev" goes back in place (keeping its mtime, so the `loaded` fact stays true of it) and
# `configure undo` brings back the previous config.
load_config() {
  : "${cfg:?}" "${wait:?}" "${revert:?}" "${prev:?}" "${before?}"
  if [ ! -S "$sock" ]; then
    fail bird_not_running "BIRD is not running on $node (no control socket at $sock); the file is in place, and the next apply loads it (start bird first)"
  fi
  if [ "$wait" = 0 ]; then reload_bird; return; fi
  local reply pending line now deadline
  reply=$(birdc -s "$sock" configure timeout "$revert" 2>&1) || true
  case "$reply" in
    *Reconfigured*|*"Reconfiguration in progress"*) ;;
    *) echo "birdc configure on $node failed: $reply" >&2; return 1 ;;
  esac
  deadline=$((SECONDS + wait))
  while :; do
    pending=""
    now=$(timeout 10 birdc -s "$sock" show protocols 2>/dev/null || true)
    for p in $before; do
      line=$(printf '%s\n' "$now" | awk -v p="$p" '$1 == p')
      [ -n "$line" ] || continue
      case "$line" in *Established*) ;; *) pending="$pending $p" ;; esac
    done
    [ -n "$pending" ] || break
    if [ "$SECONDS" -ge "$deadline" ]; then
      if [ -e "$prev" ]; then mv -f "$prev" "$cfg"; fi
      birdc -s "$sock" configure undo >/dev/null 2>&1 || true
      fail bird_rolled_back "BGP sessions were not Established again within ${wait}s of loading the new configuration on $node:$pending; BIRD is back on the previous configuration"
    fi
    sleep 1
  done
  birdc -s "$sock" configure confirm >/dev/null 2>&1 || true
}
