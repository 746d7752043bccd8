# shellcheck shell=bash
# calico_bird_config destroy: puts back the file that was there before ("$backup"), or removes
# ours when there was none ("$had_original" = 0), reloads BIRD, and removes BIRD's kernel
# routes of both families (this resource owns BIRD: no other tool's routes carry its protocol;
# a dual-stack config's IPv6 kernel protocol leaves IPv6 ones).
# shellcheck source=lib/bird.sh
. "$LIB/bird.sh"
# shellcheck source=lib/routes.sh
. "$LIB/routes.sh"
: "${cfg:?}" "${backup:?}" "${owner:?}" "${had_original:?}"

if [ -f "$owner" ] && [ "$(cat "$owner")" != "$node" ]; then
  # Another calico_bird_config took this file over (the node was renamed): it stays.
  echo "handed_over=$(cat "$owner")"
  echo end=ok
  exit 0
fi
if [ -e "$backup" ]; then
  mv -f "$backup" "$cfg"
elif [ "$had_original" = 0 ]; then
  rm -f "$cfg"
else
  echo "kept_foreign=1"
fi
rm -f "$owner"
if [ -S "$sock" ] && [ -e "$cfg" ]; then reload_bird; fi
remove_bird_routes all
remove_bird_routes_v6
echo end=ok
