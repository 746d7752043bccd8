/**
 * Peering with the datacenter fabric as Calico does: the BGPPeer, BGPConfiguration and BGPFilter
 * fields (Calico's names) and what each one renders in a node's bird.conf. The template stays
 * dumb: this module prepares, per node, the lines it prints (as confd's Go code prepares the data
 * for Calico's templates). A cluster that uses none of these fields renders exactly what it did
 * before they existed.
 */
import type { BgpSession } from './bgp-sessions';
import type { ClusterSpec, NodeSpec, PeerSpec } from './model';

/** BGPPeer.sourceAddress: bind the session to the node's address (Calico's default) or let the kernel choose. */
export type SourceAddress = 'UseNodeIP' | 'None';
export const SOURCE_ADDRESSES: readonly SourceAddress[] = ['UseNodeIP', 'None'];

/**
 * BGPPeer.nextHopMode: the next hop of the routes this node sends the peer. Auto: BGP's (and
 * BIRD's) default; Self: always this node (`next hop self`); Keep: the one the route came with
 * (`next hop keep`). It replaces keepOriginalNextHop (Calico refuses both on one peer).
 */
export type NextHopMode = 'Auto' | 'Self' | 'Keep';
export const NEXT_HOP_MODES: readonly NextHopMode[] = ['Auto', 'Self', 'Keep'];

/** BIRD's BFD session settings: transmit/receive interval in milliseconds and the detect multiplier. */
export interface BfdSettings {
  /** @default 100 (ms) */
  readonly interval?: number;
  /** @default 5 */
  readonly multiplier?: number;
}
export const BFD_DEFAULTS = { interval: 100, multiplier: 5 } as const;

/** Calico's BGPPeer fields, beyond address, AS, password and nodes. Times are whole seconds. */
export interface PeerKnobs {
  /** Program a default route this peer announces into the kernel. @default false */
  readonly acceptDefaultRoute?: boolean;
  /** Seconds between keepalives (BIRD's `keepalive time`). @default BIRD's: holdTime / 3 */
  readonly keepaliveTime?: number;
  /** Seconds without a message before the session drops (`hold time`; 0 or 3..65535). @default 240 */
  readonly holdTime?: number;
  /** Graceful restart: seconds the peer keeps our routes while we restart (`graceful restart time`). @default 120 */
  readonly maxRestartTime?: number;
  /** Pass routes on with the next hop they came with (`next hop keep`), e.g. to a route server. @default false */
  readonly keepOriginalNextHop?: boolean;
  /** Calico's successor of keepOriginalNextHop: Auto, Self or Keep. @default Auto */
  readonly nextHopMode?: NextHopMode;
  /** The AS this node presents to the peer instead of its own. @default the node's AS */
  readonly localASNumber?: number;
  /** Accept routes whose AS path holds our own AS up to N times (`allow local as N`). @default none: not at all */
  readonly numAllowedLocalASNumbers?: number;
  /** GTSM (RFC 5082): accept the peer's packets only from at most this many hops away. @default off */
  readonly ttlSecurity?: number;
  /** @default 'UseNodeIP' */
  readonly sourceAddress?: SourceAddress;
  /** Names of BGPFilters, applied in this order before Calico's own import and export logic. @default none */
  readonly filters?: string[];
  /** Bidirectional forwarding detection on this session (directly connected peers only). @default off */
  readonly bfd?: BfdSettings;
}

export type FilterAction = 'Accept' | 'Reject';
export type MatchOperator = 'Equal' | 'NotEqual' | 'In' | 'NotIn';
export const FILTER_ACTIONS: readonly FilterAction[] = ['Accept', 'Reject'];
export const MATCH_OPERATORS: readonly MatchOperator[] = ['Equal', 'NotEqual', 'In', 'NotIn'];

/** One BGPFilter rule: routes whose prefix matches `cidr` by `matchOperator` get `action`. */
export interface BgpFilterRule {
  readonly cidr: string;
  readonly matchOperator: MatchOperator;
  readonly action: FilterAction;
}

/** Calico's BGPFilter: ordered rules per direction; the first rule that matches decides. */
export interface BgpFilterSpec {
  readonly name: string;
  /** @default none: every route passes on to Calico's own import logic */
  readonly importV4?: BgpFilterRule[];
  /** @default none: every route passes on to Calico's own export logic */
  readonly exportV4?: BgpFilterRule[];
}

/** A named BGP community: "aa:nn" (standard) or "aa:nn:mm" (large). */
export interface CommunitySpec {
  readonly name: string;
  readonly value: string;
}

/** Communities attached to the routes inside `cidr` (a pool, a block, a service range). */
export interface PrefixAdvertisement {
  readonly cidr: string;
  /** Names from `communities`, or literal values. */
  readonly communities: string[];
}

/** A service range announced from every node, or from the nodes listed. */
export interface ServiceRange {
  readonly cidr: string;
  /** @default every node */
  readonly nodes?: string[];
}

/** Calico's BGPConfiguration fields. */
export interface BgpConfigurationKnobs {
  /** false: no node-to-node mesh; nodes exchange routes only through peers (ToRs) and reflectors. @default true */
  readonly nodeToNodeMeshEnabled?: boolean;
  /** The port BIRD listens on and the nodes reach each other at. @default 179 */
  readonly listenPort?: number;
  /** Named communities, for prefixAdvertisements. @default none */
  readonly communities?: CommunitySpec[];
  /** Communities attached to the routes of given CIDRs. @default none */
  readonly prefixAdvertisements?: PrefixAdvertisement[];
  /** Service ranges announced (Calico's serviceClusterIPs). @default none */
  readonly serviceClusterIPs?: ServiceRange[];
  /** @default none */
  readonly serviceExternalIPs?: ServiceRange[];
  /** @default none */
  readonly serviceLoadBalancerIPs?: ServiceRange[];
}

export const SERVICE_RANGE_FIELDS = ['serviceClusterIPs', 'serviceExternalIPs', 'serviceLoadBalancerIPs'] as const;

/** Every service range of the cluster, with the field that declares it (for messages). */
export function serviceRangesOf(
  cluster: ClusterSpec,
): { field: (typeof SERVICE_RANGE_FIELDS)[number]; index: number; range: ServiceRange }[] {
  return SERVICE_RANGE_FIELDS.flatMap((field) =>
    (cluster[field] ?? []).map((range, index) => ({ field, index, range })),
  );
}

/** Whether a node takes part in the node-to-node mesh (Calico's BGPConfiguration default: yes). */
export function meshEnabled(cluster: Pick<ClusterSpec, 'nodeToNodeMeshEnabled'>): boolean {
  return cluster.nodeToNodeMeshEnabled !== false;
}

/** BIRD's function name for one direction of a BGPFilter (Calico's naming). */
export function filterFunctionName(filter: string, direction: 'import' | 'export'): string {
  return `'bgp_${filter}_${direction}FilterV4'`;
}

/** "aa:nn" or "aa:nn:mm": the BIRD expression that adds it to a route. */
function communityAdd(value: string): string {
  const parts = value.split(':');
  return parts.length === 2
    ? `bgp_community.add((${parts.join(', ')}));`
    : `bgp_large_community.add((${parts.join(', ')}));`;
}

/** A community reference in prefixAdvertisements: a name from `communities`, else a literal value. */
export function communityValue(cluster: ClusterSpec, ref: string): string | undefined {
  const named = cluster.communities?.find((c) => c.name === ref);
  if (named) return named.value;
  return COMMUNITY_VALUE.test(ref) ? ref : undefined;
}

/** Standard (two 16-bit parts) or large (three 32-bit parts) community text. */
export const COMMUNITY_VALUE = /^\d{1,10}:\d{1,10}(:\d{1,10})?$/;

const MATCH: Record<MatchOperator, string> = { Equal: '=', NotEqual: '!=', In: '~', NotIn: '!~' };
const ACTION: Record<FilterAction, string> = { Accept: 'accept', Reject: 'reject' };

/** What the template needs for one session beyond the line it always had. */
export interface SessionExtras {
  /** The BGP template it derives from: bgp_template, or the one without a source address. */
  template: string;
  /** " port N" after the neighbor's address (mesh sessions under listenPort), else "". */
  neighborPort: string;
  /** Protocol options after `multihop;` (timers, local AS, …), each with a leading space. */
  options: string;
  /** The session's ipv4 channel options; "" for none. */
  channel: string;
}

export interface PeeringTemplateData {
  /** " port N" in bgp_template's `local` line, else "". */
  localPort: string;
  /** Peers whose default route may go into the kernel, as a BIRD ip set body; "" for none. */
  defaultRouteFrom: string;
  /** Service ranges of the cluster (never programmed from other nodes), as a set body; "" for none. */
  serviceRanges: string;
  /** Service ranges this node announces (BIRD-only blackholes, never in the kernel). */
  announcedRanges: string[];
  /** Lines of calico_apply_communities(); empty for none. */
  communityLines: string[];
  /** Calico's export logic as a function, so per-peer filters can call it before `reject`. */
  exportFunction: boolean;
  /** One BIRD function per BGPFilter direction that has rules. */
  filterFunctions: { name: string; lines: string[] }[];
  /** A second template without the source address (a peer with sourceAddress: None). */
  anySourceTemplate: boolean;
  /** `protocol bfd` settings when a session of this node uses BFD. */
  bfd: { interval: number; multiplier: number } | false;
}

function peerOf(cluster: ClusterSpec, session: BgpSession): PeerSpec | undefined {
  return session.kind === 'global' ? cluster.peers.find((p) => p.address === session.neighbor) : undefined;
}

/** The session's extras, in the order Calico's template renders the same settings. */
export function sessionExtras(cluster: ClusterSpec, session: BgpSession): SessionExtras {
  const peer = peerOf(cluster, session);
  const port = cluster.listenPort !== undefined && session.kind !== 'global' ? ` port ${cluster.listenPort}` : '';
  const options: string[] = [];
  const channel: string[] = session.multihop ? ['gateway recursive;'] : [];
  if (peer) {
    if (peer.localASNumber !== undefined) options.push(`local as ${peer.localASNumber};`);
    if (peer.holdTime !== undefined) options.push(`hold time ${peer.holdTime};`);
    if (peer.keepaliveTime !== undefined) options.push(`keepalive time ${peer.keepaliveTime};`);
    if (peer.maxRestartTime !== undefined) options.push(`graceful restart time ${peer.maxRestartTime};`);
    if (peer.numAllowedLocalASNumbers !== undefined) options.push(`allow local as ${peer.numAllowedLocalASNumbers};`);
    // GTSM: the peer sends with TTL 255 and we accept at most ttlSecurity hops less. One hop is
    // a directly connected peer, which stays direct (and so may use BFD).
    if (peer.ttlSecurity !== undefined)
      options.push(peer.ttlSecurity > 1 ? `ttl security on; multihop ${peer.ttlSecurity};` : 'ttl security on;');
    if (peer.bfd !== undefined) options.push('bfd on;');
    if (peer.keepOriginalNextHop) channel.push('next hop keep;');
    // As Calico's confd: Self and Keep each one BIRD option on the channel, Auto nothing.
    if (peer.nextHopMode === 'Self') channel.push('next hop self;');
    if (peer.nextHopMode === 'Keep') channel.push('next hop keep;');
    const filters = (peer.filters ?? [])
      .map((name) => cluster.filters?.find((f) => f.name === name))
      .filter((f) => f !== undefined);
    const imports = filters
      .filter((f) => (f.importV4 ?? []).length > 0)
      .map((f) => `${filterFunctionName(f.name, 'import')}();`);
    const exports = filters
      .filter((f) => (f.exportV4 ?? []).length > 0)
      .map((f) => `${filterFunctionName(f.name, 'export')}();`);
    if (imports.length > 0) channel.push(`import filter { ${imports.join(' ')} accept; };`);
    if (exports.length > 0) channel.push(`export filter { ${exports.join(' ')} calico_export(); reject; };`);
  }
  return {
    template: peer?.sourceAddress === 'None' ? 'bgp_template_any_source' : 'bgp_template',
    neighborPort: port,
    options: options.map((o) => ` ${o}`).join(''),
    channel: channel.join(' '),
  };
}

function filterLines(rules: readonly BgpFilterRule[]): string[] {
  return rules.map((r) => `  if ((net ${MATCH[r.matchOperator]} ${r.cidr})) then { ${ACTION[r.action]}; }`);
}

/** The node-wide part of the template data. */
export function peeringTemplateData(cluster: ClusterSpec, node: NodeSpec, sessions: BgpSession[]): PeeringTemplateData {
  const peers = sessions.map((s) => peerOf(cluster, s)).filter((p) => p !== undefined);
  const services = serviceRangesOf(cluster);
  const bfdPeer = peers.find((p) => p.bfd !== undefined);
  const communityLines = (cluster.prefixAdvertisements ?? []).flatMap((adv) =>
    adv.communities
      .map((ref) => communityValue(cluster, ref))
      .filter((v) => v !== undefined)
      .map((v) => `  if ( net ~ ${adv.cidr} ) then { ${communityAdd(v)} }`),
  );
  const usedFilters = new Set(peers.flatMap((p) => p.filters ?? []));
  return {
    localPort: cluster.listenPort === undefined ? '' : ` port ${cluster.listenPort}`,
    defaultRouteFrom: peers
      .filter((p) => p.acceptDefaultRoute)
      .map((p) => p.address)
      .join(', '),
    serviceRanges: [...new Set(services.map((s) => `${s.range.cidr}+`))].join(', '),
    announcedRanges: [
      ...new Set(
        services
          .filter((s) => s.range.nodes === undefined || s.range.nodes.includes(node.name))
          .map((s) => s.range.cidr),
      ),
    ],
    communityLines,
    exportFunction: peers.some((p) =>
      (p.filters ?? []).some((name) => (cluster.filters?.find((f) => f.name === name)?.exportV4 ?? []).length > 0),
    ),
    filterFunctions: (cluster.filters ?? [])
      .filter((f) => usedFilters.has(f.name))
      .flatMap((f) => [
        ...((f.importV4 ?? []).length > 0
          ? [{ name: filterFunctionName(f.name, 'import'), lines: filterLines(f.importV4!) }]
          : []),
        ...((f.exportV4 ?? []).length > 0
          ? [{ name: filterFunctionName(f.name, 'export'), lines: filterLines(f.exportV4!) }]
          : []),
      ]),
    anySourceTemplate: peers.some((p) => p.sourceAddress === 'None'),
    bfd: bfdPeer
      ? {
          interval: bfdPeer.bfd!.interval ?? BFD_DEFAULTS.interval,
          multiplier: bfdPeer.bfd!.multiplier ?? BFD_DEFAULTS.multiplier,
        }
      : false,
  };
}
