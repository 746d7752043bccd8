# shellcheck shell=bash
# The file "$bird_cfg" (base64, so its bytes come back exact), its mtime, and when the BIRD behind
# "$bird_sock" last loaded a configuration (`show status`; BIRD prints local time, which
# `date -d` reads the same way). Runs on its own and as the host snapshot's bird_config section.
: "${bird_cfg:?}" "${bird_sock:?}"

if [ -f "$bird_cfg" ]; then echo present; base64 -w0 < "$bird_cfg"; echo; else echo missing; echo; fi
echo "mtime=$(stat -c %Y "$bird_cfg" 2>/dev/null || true)"
bird_reconfigured=""
if [ -S "$bird_sock" ] && bird_status=$(timeout 10 birdc -s "$bird_sock" show status 2>/dev/null); then
  # [[ =~ ]], not sed: no process (this runs on every plan).
  if [[ $bird_status =~ (^|$'\n')'Last reconfiguration on '([^$'\n']*) ]]; then
    bird_reconfigured=$(date -d "${BASH_REMATCH[2]}" +%s 2>/dev/null || true)
  fi
fi
echo "reconfigured=$bird_reconfigured"
