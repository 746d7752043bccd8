/**
 * Which BGP sessions a node holds, from the cluster model alone. The bird.conf template renders
 * these, and `calico-net status` expects exactly these to be Established.
 */
import { ClusterSpec, nodeAs, peerServesNode } from './model';
import { ipv4ToInt } from '../rules/ipv4';

export type SessionKind = 'mesh' | 'route-reflector' | 'global';

export interface BgpSession {
  /** BIRD protocol name, Calico's convention: Mesh_/Node_/Global_ + IP with "_" for ".". */
  protocol: string;
  kind: SessionKind;
  neighbor: string;
  asNumber: number;
  /** This node reflects routes to the neighbor (it is an RR, the neighbor its client). */
  rrClient: boolean;
  /** Wait for the neighbor to connect (Calico: when the neighbor's IP sorts above ours). */
  passive: boolean;
  password?: string;
}

const PREFIX: Record<SessionKind, string> = { mesh: 'Mesh', 'route-reflector': 'Node', global: 'Global' };

export function protocolName(kind: SessionKind, ip: string): string {
  return `${PREFIX[kind]}_${ip.replace(/\./g, '_')}`;
}

/** All RRs share one cluster id (the first RR's address), so a pair of RRs is redundant. */
export function rrClusterId(cluster: ClusterSpec): string | undefined {
  return cluster.nodes.find((n) => n.routeReflector)?.address;
}

export function bgpSessionsOf(cluster: ClusterSpec, nodeName: string): BgpSession[] {
  const self = cluster.nodes.find((n) => n.name === nodeName);
  if (!self) throw new Error(`no node named "${nodeName}" in cluster "${cluster.name}"`);
  const others = cluster.nodes.filter((n) => n !== self);
  const sessions: BgpSession[] = [];

  if ((cluster.topology ?? 'full-mesh') === 'full-mesh') {
    for (const peer of others) {
      sessions.push({
        protocol: protocolName('mesh', peer.address),
        kind: 'mesh',
        neighbor: peer.address,
        asNumber: nodeAs(cluster, peer),
        rrClient: false,
        passive: ipv4ToInt(peer.address) > ipv4ToInt(self.address),
      });
    }
  } else {
    // RRs peer with everyone (reflecting to clients); clients peer only with the RRs.
    const peers = self.routeReflector ? others : others.filter((n) => n.routeReflector);
    for (const peer of peers) {
      sessions.push({
        protocol: protocolName('route-reflector', peer.address),
        kind: 'route-reflector',
        neighbor: peer.address,
        asNumber: nodeAs(cluster, peer),
        rrClient: Boolean(self.routeReflector && !peer.routeReflector),
        passive: false,
      });
    }
  }

  // A peer limited to some nodes keeps its Global_ name (not Calico's Node_ for node-specific
  // peers): limiting it later does not rename, and so restart, the sessions the nodes keep.
  for (const peer of cluster.peers.filter((p) => peerServesNode(p, nodeName))) {
    sessions.push({
      protocol: protocolName('global', peer.address),
      kind: 'global',
      neighbor: peer.address,
      asNumber: peer.asNumber,
      rrClient: false,
      passive: false,
      password: peer.password,
    });
  }
  return sessions;
}
