/**
 * The host's own list of the objects calico-net made there (devices and namespaces), beside the
 * node's record. Why: Terraform's state is written by the operator's terraform after an object
 * is made, and a kill (kill -9, an OOM, a cancelled runner) between the two leaves an object of
 * ours that no resource in the state knows. Each apply script adds the object's line BEFORE it
 * makes the object, so whatever a kill leaves behind is listed here; calico_node's apply removes
 * what the list holds and its configuration no longer wants, and its destroy what the list still
 * holds for it, whatever the state says.
 *
 * A line is `<kind> <name> <node>`: kind `link` (a device in the host's namespace) or `netns`.
 * Routes need no lines of their own: the routes calico-net adds go through a listed device
 * (they go with it) or are the node's blackhole and gateway route, which the node's record and
 * its proto 211 cover.
 *
 * A line is not the proof of ownership: the object's mark is (the alias `calico-net` on the
 * device, or on the namespace's lo). A line whose object is gone, or whose object lacks the mark
 * (made by someone else under the name, after a kill between the line and the object), is
 * dropped and the object left in place.
 */
import { ENCAPSULATION, Encapsulation } from '../../rules/constants';
import { hostInterfaceName, NETNS_MARK } from './names';

export type RegistryKind = 'link' | 'netns';

export interface RegistryEntry {
  kind: RegistryKind;
  name: string;
  node: string;
}

/** The registry file's lines; anything that is not a well-formed line is ignored. */
export function parseRegistry(text: string): RegistryEntry[] {
  const out: RegistryEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^(link|netns) (\S+) (\S+)$/.exec(line.trim());
    if (m) out.push({ kind: m[1] as RegistryKind, name: m[2], node: m[3] });
  }
  return out;
}

/** The temporary name vxlan.calico is built under before it carries our mark (15 characters at most). */
export const BUILDING_DEVICE = 'vxlan.calico.t';

/** Every device an overlay of ours can leave: ours when they carry the mark, listed or not. */
export const OVERLAY_DEVICES: readonly string[] = [...Object.values(ENCAPSULATION).map((e) => e.device), BUILDING_DEVICE];

/** What a node's configuration wants on its host, by the names the registry uses. */
export interface Wanted {
  links: Set<string>;
  /** undefined: the configuration does not say (its namespaces are never leftovers). */
  netns?: Set<string>;
}

/** The devices and namespaces a node's configuration wants (its overlay's device, its workloads). */
export function wantedOf(node: string, encapsulation: string | null, workloads: readonly string[] | null): Wanted {
  const links = new Set<string>();
  if (encapsulation !== null && encapsulation in ENCAPSULATION) links.add(ENCAPSULATION[encapsulation as Encapsulation].device);
  if (workloads === null) return { links };
  for (const w of workloads) links.add(hostInterfaceName(node, w));
  return { links, netns: new Set(workloads) };
}

/** What is on the host, as far as leftovers go: which devices and namespaces carry our mark. */
export interface MarkedObjects {
  links: Set<string>;
  netns: Set<string>;
}

/**
 * The `leftovers` fact: objects of ours (marked) that the registry lists, or that are one of
 * our overlay devices, and that the configuration does not want, as "link NAME" / "netns NAME".
 * Workload devices and namespaces count only when the configuration lists its workloads.
 */
export function leftoversOf(entries: RegistryEntry[], marked: MarkedObjects, wanted: Wanted): string[] {
  const out = new Set<string>();
  const candidates: { kind: RegistryKind; name: string }[] = [...entries, ...OVERLAY_DEVICES.map((name) => ({ kind: 'link' as const, name }))];
  for (const { kind, name } of candidates) {
    if (kind === 'link') {
      if (!marked.links.has(name) || wanted.links.has(name)) continue;
      const isOverlay = OVERLAY_DEVICES.includes(name);
      if (!isOverlay && wanted.netns === undefined) continue;
      out.add(`link ${name}`);
    } else {
      if (wanted.netns === undefined || !marked.netns.has(name) || wanted.netns.has(name)) continue;
      out.add(`netns ${name}`);
    }
  }
  return [...out].sort();
}

/**
 * Shell functions over the registry file "$registry" for the node "$node":
 * - `register KIND NAME`: adds the line (replacing one for the same object), before it is made;
 *   writes nothing when the line is already there, so a repeated apply costs no process.
 * - `unregister KIND NAME`: drops the object's line, once it is gone.
 * Both read the file with bash itself and replace it atomically (a kill leaves the old or the
 * new file, never half of one).
 */
export const REGISTRY_FNS = `
registry_write() {
  [ -d "\${registry%/*}" ] || mkdir -p "\${registry%/*}"
  printf '%s' "$1" > "$registry.tmp"
  mv -f "$registry.tmp" "$registry"
}
register() {
  local line rest="" found=false
  if [ -f "$registry" ]; then
    while IFS= read -r line; do
      if [ "$line" = "$1 $2 $node" ]; then found=true; fi
      case "$line" in "$1 $2 "*) ;; *) rest+="$line"$'\\n' ;; esac
    done < "$registry"
  fi
  [ "$found" = true ] || registry_write "$rest$1 $2 $node"$'\\n'
}
unregister() {
  local line rest="" found=false
  [ -f "$registry" ] || return 0
  while IFS= read -r line; do
    case "$line" in "$1 $2 "*) found=true ;; *) rest+="$line"$'\\n' ;; esac
  done < "$registry"
  [ "$found" = false ] || registry_write "$rest"
}`;

/**
 * Shell function `remove_leftovers MODE`: removes objects of ours that are not wanted.
 * MODE apply: every marked object the registry lists, or that is one of our overlay devices,
 * unless "$want_links" / "$want_netns" (space-separated) name it; "$want_netns" = "-" means the
 * configuration does not list its workloads, so workload objects stay. MODE delete: every
 * marked object listed for "$node", and our marked overlay devices. Prints `removed=KIND NAME`
 * for each. Unmarked objects are never touched: their lines go, the objects stay.
 */
export const REMOVE_LEFTOVERS_FN = `
link_marked() { [ -e "/proc/sys/net/ipv4/conf/$1" ] && [[ $(ip -o link show dev "$1" 2>/dev/null) == *' alias ${NETNS_MARK}' ]]; }
netns_marked() { [ -e "/run/netns/$1" ] && [[ $(ip -n "$1" -o link show dev lo 2>/dev/null) == *' alias ${NETNS_MARK}' ]]; }
wanted() { [[ " $1 " == *" $2 "* ]]; }
remove_link() {
  if [ "$1" = tunl0 ] && ! ip link del tunl0 2>/dev/null; then
    # The kernel's fallback tunl0 cannot be deleted: take back what we set on it.
    ip -4 -o addr show dev tunl0 | awk '{ print $4 }' | while read -r a; do ip addr del "$a" dev tunl0; done
    ip link set dev tunl0 down
    ip link set dev tunl0 alias ""
  fi
  ip link del "$1" 2>/dev/null || true
}
remove_leftovers() {
  local mode=$1 kind name owner todo=""
  if [ -f "$registry" ]; then
    while read -r kind name owner; do
      [ -n "$owner" ] || continue
      if [ "$mode" = delete ] && [ "$owner" != "$node" ]; then continue; fi
      todo+="$kind $name"$'\\n'
    done < "$registry"
  fi
  for name in ${OVERLAY_DEVICES.join(' ')}; do todo+="link $name"$'\\n'; done
  while read -r kind name; do
    [ -n "$name" ] || continue
    if [ "$mode" = apply ]; then
      if [ "$kind" = link ] && wanted "$want_links" "$name"; then continue; fi
      if [ "$kind" = netns ] && { [ "$want_netns" = - ] || wanted "$want_netns" "$name"; }; then continue; fi
      if [ "$kind" = link ] && [ "$want_netns" = - ] && [[ $name == cali* ]]; then continue; fi
    fi
    if [ "$kind" = link ] && link_marked "$name"; then
      remove_link "$name"; echo "removed=link $name"
    elif [ "$kind" = netns ] && netns_marked "$name"; then
      ip netns del "$name"; echo "removed=netns $name"
    fi
    unregister "$kind" "$name"
  done <<< "$todo"
}`;
