# shellcheck shell=bash
# The host's list of the objects calico-net made there ("$registry"; see providers/calico/registry.ts),
# for the node "$node":
# - `register KIND NAME`: adds the line (replacing one for the same object), before it is made;
#   writes nothing when the line is already there, so a repeated apply costs no process.
# - `unregister KIND NAME`: drops the object's line, once it is gone.
# Both read the file with bash itself and replace it atomically (a kill leaves the old or the
# new file, never half of one).
: "${registry:?}" "${node:?}"

registry_write() {
  [ -d "${registry%/*}" ] || mkdir -p "${registry%/*}"
  printf '%s' "$1" > "$registry.tmp"
  mv -f "$registry.tmp" "$registry"
}

register() {
  local line rest="" found=false
  if [ -f "$registry" ]; then
    while IFS= read -r line; do
      if [ "$line" = "$1 $2 $node" ]; then found=true; fi
      case "$line" in "$1 $2 "*) ;; *) rest+="$line"$'\n' ;; esac
    done < "$registry"
  fi
  [ "$found" = true ] || registry_write "$rest$1 $2 $node"$'\n'
}

unregister() {
  local line rest="" found=false
  [ -f "$registry" ] || return 0
  while IFS= read -r line; do
    case "$line" in "$1 $2 "*) found=true ;; *) rest+="$line"$'\n' ;; esac
  done < "$registry"
  [ "$found" = false ] || registry_write "$rest"
}
