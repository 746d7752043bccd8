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
 *
 * The shell side (register, unregister, remove_leftovers) is templates/scripts/lib/registry.sh
 * and lib/leftovers.sh.
 */
import { ENCAPSULATION, Encapsulation } from '../../rules/constants';
import { hostInterfaceName } from './names';

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
export const OVERLAY_DEVICES: readonly string[] = [
  ...Object.values(ENCAPSULATION).map((e) => e.device),
  BUILDING_DEVICE,
];

/** What a node's configuration wants on its host, by the names the registry uses. */
export interface Wanted {
  links: Set<string>;
  /** undefined: the configuration does not say (its namespaces are never leftovers). */
  netns?: Set<string>;
}

/** The devices and namespaces a node's configuration wants (its overlay's device, its workloads). */
export function wantedOf(node: string, encapsulation: string | null, workloads: readonly string[] | null): Wanted {
  const links = new Set<string>();
  if (encapsulation !== null && encapsulation in ENCAPSULATION)
    links.add(ENCAPSULATION[encapsulation as Encapsulation].device);
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
  const candidates: { kind: RegistryKind; name: string }[] = [
    ...entries,
    ...OVERLAY_DEVICES.map((name) => ({ kind: 'link' as const, name })),
  ];
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
