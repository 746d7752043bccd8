/**
 * The IPv6 half of a dual-stack node's bird.conf, as Calico's bird6 configures it: the node's
 * IPv6 block as a static blackhole, a kernel protocol for IPv6, the aggregation and export
 * filters' twins, and BGP sessions between the nodes' IPv6 addresses (mesh or route
 * reflectors) plus sessions to external peers whose address is IPv6. BIRD 2 runs both families
 * in one daemon, so these sit beside the IPv4 ones in the same file, under one router id.
 *
 * Sessions are named as Calico names them, the ":" of the address becoming "_"
 * (Mesh_fd00_198_18__2). The IPv4 sessions (bgpSessionsOf) stay exactly as they were: an
 * IPv4-only cluster renders no line of this.
 */
import { addressValue, IPV6 } from '../rules/address-family';
import { BgpSession, protocolName } from './bgp-sessions';
import { isDualStack, nodeIpv6Of } from './dual-stack';
import { ClusterSpec, NodeSpec, nodeAs, peerServesNode, PeerSpec } from './model';
import { meshEnabled, sessionExtras } from './peering';
import { familyOf } from '../rules/address-family';
import { secretPlaceholder } from '../rules/secrets';

/** Whether an external peer is reached over IPv6 (its sessions are rendered here, not with the IPv4 ones). */
export function isIpv6Peer(peer: Pick<PeerSpec, 'address'>): boolean {
  return familyOf(peer.address) === IPV6;
}

/** A node's bare IPv6 address (validation made sure a dual-stack cluster's nodes have one). */
function ipv6Of(node: NodeSpec): string {
  return nodeIpv6Of(node)!.address;
}

/**
 * Whether two addresses share the node's IPv6 network (the node's prefix applied to both), as
 * sameSubnet decides for IPv4; undefined without a prefix.
 */
function sameIpv6Network(node: NodeSpec, other: string): boolean | undefined {
  const { address, prefixLength } = nodeIpv6Of(node)!;
  if (prefixLength === undefined || Number.isNaN(prefixLength)) return undefined;
  const size = 1n << BigInt(128 - prefixLength);
  return addressValue(address) / size === addressValue(other) / size;
}

/** eBGP to a neighbor not known to share this node's IPv6 network needs `multihop` (see needsMultihop). */
function needsMultihopV6(self: NodeSpec, selfAs: number, neighbor: string, neighborAs: number): boolean {
  return selfAs !== neighborAs && sameIpv6Network(self, neighbor) !== true;
}

/** The IPv6 sessions a node holds: empty for an IPv4-only cluster. */
export function bgpSessionsV6Of(cluster: ClusterSpec, nodeName: string): BgpSession[] {
  if (!isDualStack(cluster)) return [];
  const self = cluster.nodes.find((n) => n.name === nodeName);
  if (!self) throw new Error(`no node named "${nodeName}" in cluster "${cluster.name}"`);
  const others = cluster.nodes.filter((n) => n !== self);
  const selfAs = nodeAs(cluster, self);
  const sessions: BgpSession[] = [];
  const between = (
    kind: 'mesh' | 'route-reflector',
    peer: NodeSpec,
    rrClient: boolean,
    passive: boolean,
  ): BgpSession => ({
    protocol: protocolName(kind, ipv6Of(peer)),
    kind,
    neighbor: ipv6Of(peer),
    asNumber: nodeAs(cluster, peer),
    rrClient,
    passive,
    multihop: needsMultihopV6(self, selfAs, ipv6Of(peer), nodeAs(cluster, peer)),
  });
  if ((cluster.topology ?? 'full-mesh') === 'full-mesh') {
    // Unidirectional as in Calico: the side whose address sorts lower connects.
    for (const peer of meshEnabled(cluster) ? others : [])
      sessions.push(between('mesh', peer, false, addressValue(ipv6Of(peer)) > addressValue(ipv6Of(self))));
  } else {
    const peers = self.routeReflector ? others : others.filter((n) => n.routeReflector);
    for (const peer of peers)
      sessions.push(between('route-reflector', peer, Boolean(self.routeReflector && !peer.routeReflector), false));
  }
  for (const peer of cluster.peers.filter((p) => isIpv6Peer(p) && peerServesNode(p, self))) {
    sessions.push({
      protocol: protocolName('global', peer.address),
      kind: 'global',
      neighbor: peer.address,
      asNumber: peer.asNumber,
      rrClient: false,
      passive: false,
      multihop: needsMultihopV6(self, selfAs, peer.address, peer.asNumber),
      password: peer.password,
    });
  }
  return sessions;
}

export interface Ipv6TemplateData {
  /** The IPv6 pool and this node's block. */
  pool: string;
  block: string;
  /** This node's IPv6 address: the source of its IPv6 sessions. */
  address: string;
  family: typeof IPV6;
  sessions: (BgpSession & { neighborPort: string; options: string; channel: string })[];
}

/** What the template's IPv6 part needs, or false for an IPv4-only cluster (nothing rendered). */
export function ipv6TemplateData(cluster: ClusterSpec, node: NodeSpec): Ipv6TemplateData | false {
  if (!isDualStack(cluster)) return false;
  return {
    pool: cluster.podCidrV6!,
    block: node.podCidrV6!,
    address: ipv6Of(node),
    family: IPV6,
    sessions: bgpSessionsV6Of(cluster, node.name).map((s) => {
      // The peer's session options as for IPv4 (timers, local AS, GTSM); the channel's own
      // lines here, since the IPv4 channel's filters are IPv4 functions (dual-stack.ts refuses
      // filters, acceptDefaultRoute, sourceAddress and bfd on an IPv6 peer).
      const { neighborPort, options } = sessionExtras(cluster, s);
      const peer = s.kind === 'global' ? cluster.peers.find((p) => p.address === s.neighbor) : undefined;
      const channel = [
        ...(s.multihop ? ['gateway recursive;'] : []),
        ...(peer?.keepOriginalNextHop ? ['next hop keep;'] : []),
      ];
      return {
        ...s,
        neighborPort,
        options,
        channel: channel.join(' '),
        password: s.password === undefined ? undefined : secretPlaceholder(s.protocol),
      };
    }),
  };
}

/** The IPv6 sessions' passwords by protocol name (they travel with the IPv4 ones in the sensitive secrets map). */
export function birdSecretsV6Of(cluster: ClusterSpec, nodeName: string): Record<string, string> {
  return Object.fromEntries(
    bgpSessionsV6Of(cluster, nodeName)
      .filter((s) => s.password !== undefined)
      .map((s) => [s.protocol, s.password!]),
  );
}
