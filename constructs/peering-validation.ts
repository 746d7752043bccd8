/**
 * Checks on Calico's BGPPeer, BGPConfiguration and BGPFilter fields (constructs/peering.ts), run
 * with the rest of the cluster checks at synth. Each problem names the peer (or the cluster
 * field) and the field, and says what is wrong.
 */
import { inRange, ipv4CidrProblem, portProblem, usableHostAddressProblem } from '../rules/checks';
import { cidrContainsCidr, cidrsOverlap, parseCidr } from '../rules/address-family';
import { needsMultihop } from './bgp-sessions';
import { ClusterSpec, nodeAs, PeerSpec, peerServesNode } from './model';
import { selectorProblem } from './selector';
import {
  BFD_DEFAULTS,
  COMMUNITY_VALUE,
  communityValue,
  FILTER_ACTIONS,
  MATCH_OPERATORS,
  NEXT_HOP_MODES,
  serviceRangesOf,
  SOURCE_ADDRESSES,
} from './peering';
import { labelProblems } from './policy-validation';

/** BIRD's default hold time, which a keepalive alone must fit three times into. */
const DEFAULT_HOLD_TIME = 240;
/** Graceful restart's restart time is a 12-bit field (RFC 4724). */
const MAX_RESTART_TIME = 4095;
const NAME = /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;

type AsCheck = (value: number) => string | null;

function timerProblems(peer: PeerSpec, label: string, out: string[]): void {
  const { keepaliveTime: keepalive, holdTime: hold, maxRestartTime } = peer;
  if (keepalive !== undefined && inRange(1, 65535)(keepalive))
    out.push(`${label}.keepaliveTime: ${inRange(1, 65535)(keepalive)} (seconds)`);
  if (hold !== undefined) {
    if (!Number.isInteger(hold) || hold < 0 || hold > 65535)
      out.push(`${label}.holdTime: ${hold} is not an integer in 0..65535 (seconds)`);
    else if (hold === 1 || hold === 2)
      out.push(`${label}.holdTime: ${hold} is not allowed by BGP (0 switches keepalives off, else at least 3 seconds)`);
  }
  if (keepalive !== undefined && Number.isInteger(keepalive) && keepalive > 0) {
    const effectiveHold = hold ?? DEFAULT_HOLD_TIME;
    if (effectiveHold === 0) {
      // BIRD refuses a keepalive time above the hold time, and hold 0 means no keepalives at all.
      out.push(`${label}.keepaliveTime: holdTime 0 switches keepalives off; leave keepaliveTime out`);
    } else if (effectiveHold < 3 * keepalive) {
      out.push(
        `${label}.keepaliveTime: ${keepalive} s does not fit three times into the hold time (${effectiveHold} s${hold === undefined ? ", BIRD's default" : ''}); use at most ${Math.floor(effectiveHold / 3)}`,
      );
    }
  }
  if (maxRestartTime !== undefined && inRange(1, MAX_RESTART_TIME)(maxRestartTime)) {
    out.push(
      `${label}.maxRestartTime: ${inRange(1, MAX_RESTART_TIME)(maxRestartTime)} (seconds; graceful restart's field holds at most ${MAX_RESTART_TIME})`,
    );
  }
}

/** Whether the session from a node to this peer is multihop: rendered so (eBGP not known to share the subnet) or GTSM beyond one hop. */
function multihopFrom(cluster: ClusterSpec, peer: PeerSpec, nodeName: string): boolean {
  const node = cluster.nodes.find((n) => n.name === nodeName)!;
  if ((peer.ttlSecurity ?? 1) > 1) return true;
  // As bgpSessionsOf decides it, so the check and the rendered session agree.
  return needsMultihop(
    node,
    nodeAs(cluster, node),
    { address: peer.address, prefixLength: node.prefixLength },
    peer.asNumber,
  );
}

function bfdProblems(cluster: ClusterSpec, peer: PeerSpec, label: string, out: string[]): void {
  const bfd = peer.bfd;
  if (bfd === undefined) return;
  if (bfd.interval !== undefined && inRange(10, 60000)(bfd.interval))
    out.push(`${label}.bfd.interval: ${inRange(10, 60000)(bfd.interval)} (milliseconds)`);
  if (bfd.multiplier !== undefined && inRange(1, 255)(bfd.multiplier))
    out.push(`${label}.bfd.multiplier: ${inRange(1, 255)(bfd.multiplier)}`);
  if (usableHostAddressProblem(peer.address)) return; // reported with the address
  const multihop = cluster.nodes
    .filter((n) => peerServesNode(peer, n))
    .filter((n) => multihopFrom(cluster, peer, n.name));
  if (multihop.length > 0) {
    out.push(
      `${label}.bfd: BFD needs a directly connected peer, but the session from ${multihop.map((n) => `"${n.name}"`).join(', ')} is multihop` +
        (peer.ttlSecurity !== undefined && peer.ttlSecurity > 1
          ? ` (ttlSecurity ${peer.ttlSecurity})`
          : ' (give the nodes their prefix, address: a.b.c.d/len, when the peer shares their subnet)'),
    );
  }
}

/** Every node runs one `protocol bfd`, so the BFD peers of one node must agree on its settings. */
function bfdAgreementProblems(cluster: ClusterSpec, out: string[]): void {
  for (const node of cluster.nodes) {
    const settings = cluster.peers
      .filter((p) => p.bfd !== undefined && peerServesNode(p, node))
      .map((p) => ({
        p,
        key: `${p.bfd!.interval ?? BFD_DEFAULTS.interval}/${p.bfd!.multiplier ?? BFD_DEFAULTS.multiplier}`,
      }));
    const first = settings[0];
    const other = settings.find((s) => s.key !== first?.key);
    if (first && other) {
      out.push(
        `peers ${first.p.address} and ${other.p.address}: their bfd settings differ (${first.key} against ${other.key} ms/multiplier) on node "${node.name}", which runs one BFD instance; give them the same interval and multiplier`,
      );
      return;
    }
  }
}

function peerProblems(cluster: ClusterSpec, peer: PeerSpec, i: number, asNumberProblem: AsCheck, out: string[]): void {
  const label = `peers[${i}] ${peer.address}`;
  timerProblems(peer, label, out);
  if (peer.localASNumber !== undefined) {
    const p = asNumberProblem(peer.localASNumber);
    if (p) out.push(`${label}.localASNumber: ${p}`);
  }
  if (peer.numAllowedLocalASNumbers !== undefined && inRange(1, 255)(peer.numAllowedLocalASNumbers)) {
    out.push(`${label}.numAllowedLocalASNumbers: ${inRange(1, 255)(peer.numAllowedLocalASNumbers)}`);
  }
  if (peer.ttlSecurity !== undefined && inRange(1, 255)(peer.ttlSecurity))
    out.push(`${label}.ttlSecurity: ${inRange(1, 255)(peer.ttlSecurity)} (hops)`);
  if (peer.sourceAddress !== undefined && !SOURCE_ADDRESSES.includes(peer.sourceAddress)) {
    out.push(
      `${label}.sourceAddress: must be one of ${SOURCE_ADDRESSES.join(', ')}, not ${JSON.stringify(peer.sourceAddress)}`,
    );
  }
  const seen = new Set<string>();
  for (const name of peer.filters ?? []) {
    if (!(cluster.filters ?? []).some((f) => f.name === name)) {
      const known = (cluster.filters ?? []).map((f) => f.name);
      out.push(
        `${label}.filters: no filter named "${name}" (${known.length ? `filters: ${known.join(', ')}` : 'the inventory defines no filters'})`,
      );
    } else if (seen.has(name)) out.push(`${label}.filters: "${name}" is listed twice`);
    seen.add(name);
  }
  nodeSelectorProblems(peer, label, out);
  if (peer.nextHopMode !== undefined && !NEXT_HOP_MODES.includes(peer.nextHopMode)) {
    out.push(
      `${label}.nextHopMode: must be one of ${NEXT_HOP_MODES.join(', ')}, not ${JSON.stringify(peer.nextHopMode)}`,
    );
  } else if (peer.nextHopMode !== undefined && peer.keepOriginalNextHop) {
    // Calico's own rule: keepOriginalNextHop is deprecated, and the two may not both be set.
    out.push(
      `${label}.nextHopMode: keepOriginalNextHop is set too; use nextHopMode alone (Keep is what keepOriginalNextHop did)`,
    );
  }
  bfdProblems(cluster, peer, label, out);
}

/** Calico's longest selector (its BGPPeer CRD allows 1024 characters). */
const MAX_SELECTOR_LENGTH = 1024;

function nodeSelectorProblems(peer: PeerSpec, label: string, out: string[]): void {
  if (peer.nodeSelector === undefined) return;
  if (typeof peer.nodeSelector !== 'string') {
    out.push(`${label}.nodeSelector: expected a selector string, found ${JSON.stringify(peer.nodeSelector)}`);
    return;
  }
  if (peer.nodes !== undefined)
    out.push(`${label}: set nodes or nodeSelector, not both (as Calico's node and nodeSelector)`);
  if (peer.nodeSelector.length > MAX_SELECTOR_LENGTH) {
    out.push(`${label}.nodeSelector: ${peer.nodeSelector.length} characters, at most ${MAX_SELECTOR_LENGTH}`);
    return;
  }
  const p = selectorProblem(peer.nodeSelector);
  if (p) out.push(`${label}.nodeSelector: ${p}`);
}

/** Node labels (what nodeSelector matches): the same rules as workload labels. */
function nodeLabelProblems(cluster: ClusterSpec, out: string[]): void {
  cluster.nodes.forEach((node, i) => out.push(...labelProblems(node.labels, `nodes[${i}] "${node.name}"`)));
}

/**
 * What synth says but lets pass: a nodeSelector that matches no node today. Calico accepts it
 * too (labels change; a peer may be set up before its rack's nodes exist), but here the
 * inventory is the whole cluster, so it is most likely a typo: said, not refused.
 */
export function peeringWarnings(cluster: ClusterSpec): string[] {
  return cluster.peers.flatMap((peer, i) => {
    if (
      peer.nodeSelector === undefined ||
      typeof peer.nodeSelector !== 'string' ||
      selectorProblem(peer.nodeSelector) !== null
    )
      return [];
    if (cluster.nodes.some((n) => peerServesNode(peer, n))) return [];
    const labelled = cluster.nodes.filter((n) => n.labels && Object.keys(n.labels).length > 0).length;
    return [
      `peers[${i}] ${peer.address}.nodeSelector: "${peer.nodeSelector}" matches no node (${labelled} of ${cluster.nodes.length} nodes have labels); no node peers with ${peer.address}`,
    ];
  });
}

function filterProblems(cluster: ClusterSpec, out: string[]): void {
  const names = new Set<string>();
  (cluster.filters ?? []).forEach((f, i) => {
    const label = `filters[${i}] "${f.name}"`;
    if (!NAME.test(f.name))
      out.push(`filters[${i}].name: "${f.name}" is not a filter name (letters, digits, "_", ".", "-"; at most 63)`);
    if (names.has(f.name)) out.push(`${label}: duplicate filter name`);
    names.add(f.name);
    for (const direction of ['importV4', 'exportV4'] as const) {
      (f[direction] ?? []).forEach((rule, k) => {
        const where = `${label}.${direction}[${k}]`;
        const cidr = ipv4CidrProblem(rule.cidr);
        if (cidr) out.push(`${where}.cidr: ${cidr}`);
        if (!MATCH_OPERATORS.includes(rule.matchOperator))
          out.push(
            `${where}.matchOperator: must be one of ${MATCH_OPERATORS.join(', ')}, not ${JSON.stringify(rule.matchOperator)}`,
          );
        if (!FILTER_ACTIONS.includes(rule.action))
          out.push(`${where}.action: must be one of ${FILTER_ACTIONS.join(', ')}, not ${JSON.stringify(rule.action)}`);
      });
    }
  });
}

function communityValueProblem(value: string): string | null {
  if (!COMMUNITY_VALUE.test(value)) return `"${value}" is not a community (aa:nn, or aa:nn:mm for a large community)`;
  const parts = value.split(':').map(Number);
  const max = parts.length === 2 ? 65535 : 4294967295;
  return parts.some((p) => p > max)
    ? `"${value}": each part of a ${parts.length === 2 ? 'standard' : 'large'} community is at most ${max}`
    : null;
}

function bgpConfigurationProblems(cluster: ClusterSpec, nodeNames: Set<string>, out: string[]): void {
  if (cluster.listenPort !== undefined && portProblem(cluster.listenPort))
    out.push(`cluster.listenPort: ${portProblem(cluster.listenPort)}`);
  const communityNames = new Set<string>();
  (cluster.communities ?? []).forEach((c, i) => {
    if (!NAME.test(c.name))
      out.push(`cluster.communities[${i}].name: "${c.name}" is not a name (letters, digits, "_", ".", "-")`);
    if (communityNames.has(c.name)) out.push(`cluster.communities[${i}] "${c.name}": duplicate name`);
    communityNames.add(c.name);
    const p = communityValueProblem(c.value);
    if (p) out.push(`cluster.communities[${i}] "${c.name}".value: ${p}`);
  });
  const pool = ipv4CidrProblem(cluster.podCidr) ? null : parseCidr(cluster.podCidr);
  const services = serviceRangesOf(cluster);
  for (const { field, index, range } of services) {
    const where = `cluster.${field}[${index}]`;
    const bad = ipv4CidrProblem(range.cidr);
    if (bad) {
      out.push(`${where}.cidr: ${bad}`);
      continue;
    }
    if (pool && cidrsOverlap(pool, parseCidr(range.cidr)))
      out.push(`${where}.cidr: ${range.cidr} overlaps the pod pool ${cluster.podCidr}`);
    if (range.cidr === '0.0.0.0/0') out.push(`${where}.cidr: a default route is not a service range`);
    if (range.nodes !== undefined) {
      if (range.nodes.length === 0)
        out.push(`${where}.nodes: names no node (leave nodes out to announce from every node)`);
      for (const name of range.nodes) if (!nodeNames.has(name)) out.push(`${where}.nodes: no node named "${name}"`);
    }
  }
  (cluster.prefixAdvertisements ?? []).forEach((adv, i) => {
    const where = `cluster.prefixAdvertisements[${i}]`;
    const bad = ipv4CidrProblem(adv.cidr);
    if (bad) out.push(`${where}.cidr: ${bad}`);
    else {
      const cidr = parseCidr(adv.cidr);
      const inside =
        (pool && cidrContainsCidr(pool, cidr)) ||
        services.some((s) => !ipv4CidrProblem(s.range.cidr) && cidrContainsCidr(parseCidr(s.range.cidr), cidr));
      if (!inside)
        out.push(
          `${where}.cidr: ${adv.cidr} is neither inside the pod pool ${cluster.podCidr} nor inside a service range: nothing we announce matches it`,
        );
    }
    if (adv.communities.length === 0) out.push(`${where}.communities: names no community`);
    for (const ref of adv.communities) {
      const value = communityValue(cluster, ref);
      if (value === undefined)
        out.push(
          `${where}.communities: "${ref}" is neither a name from cluster.communities nor a community value (aa:nn or aa:nn:mm)`,
        );
      else if (!communityNames.has(ref) && communityValueProblem(value))
        out.push(`${where}.communities: ${communityValueProblem(value)}`);
    }
  });
}

/** Every problem of the peering fields; `asNumberProblem` is validation.ts's AS check. */
export function peeringProblems(cluster: ClusterSpec, asNumberProblem: AsCheck): string[] {
  const out: string[] = [];
  const nodeNames = new Set(cluster.nodes.map((n) => n.name));
  bgpConfigurationProblems(cluster, nodeNames, out);
  filterProblems(cluster, out);
  cluster.peers.forEach((peer, i) => peerProblems(cluster, peer, i, asNumberProblem, out));
  bfdAgreementProblems(cluster, out);
  nodeLabelProblems(cluster, out);
  return out;
}
