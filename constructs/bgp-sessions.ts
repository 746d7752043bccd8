/**
 * Which BGP sessions a node holds, from the cluster model alone. The bird.conf template renders
 * these, and `calico-net status` expects exactly these to be Established.
 */
import { ClusterSpec, NodeSpec, nodeAs, peerServesNode } from './model';
import { addressValue, familyOf, IPV6 } from '../rules/address-family';
import { sameSubnet } from '../rules/subnets';
import { meshEnabled } from './peering';

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
  /** An eBGP session to a neighbor that may sit behind a router (see needsMultihop). */
  multihop: boolean;
  password?: string;
}

/**
 * Whether an eBGP session needs BIRD's `multihop`. BIRD 2 treats an eBGP neighbor as directly
 * connected unless told otherwise, and never starts a session to one outside the local networks,
 * so sessions across a router stay in Active. iBGP is multihop by default: nothing to add.
 *
 * When it is not known that the neighbor shares this node's subnet (a prefix length missing on
 * either side), multihop is rendered too: it also works towards a directly connected neighbor
 * (its next hop then resolves through the connected route, to the neighbor itself), whereas
 * `direct` towards a neighbor behind a router never comes up. What is given up on a shared
 * subnet is only the TTL of 1 and BIRD's link check.
 */
export function needsMultihop(
  self: NodeSpec,
  selfAs: number,
  neighbor: { address: string; prefixLength?: number },
  neighborAs: number,
): boolean {
  if (selfAs === neighborAs) return false;
  return sameSubnet(self, neighbor) !== true;
}

const PREFIX: Record<SessionKind, string> = { mesh: 'Mesh', 'route-reflector': 'Node', global: 'Global' };

export function protocolName(kind: SessionKind, ip: string): string {
  // IPv6 sessions as Calico's bird6 names them: each ":" becomes "_" too.
  return `${PREFIX[kind]}_${ip.replace(/[.:]/g, '_')}`;
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
    // nodeToNodeMeshEnabled: false (a ToR design): the nodes learn each other's blocks from peers.
    for (const peer of meshEnabled(cluster) ? others : []) {
      sessions.push({
        protocol: protocolName('mesh', peer.address),
        kind: 'mesh',
        neighbor: peer.address,
        asNumber: nodeAs(cluster, peer),
        rrClient: false,
        passive: addressValue(peer.address) > addressValue(self.address),
        multihop: needsMultihop(self, nodeAs(cluster, self), peer, nodeAs(cluster, peer)),
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
        multihop: needsMultihop(self, nodeAs(cluster, self), peer, nodeAs(cluster, peer)),
      });
    }
  }

  // A peer limited to some nodes keeps its Global_ name (not Calico's Node_ for node-specific
  // peers): limiting it later does not rename, and so restart, the sessions the nodes keep.
  // Peers with an IPv6 address hold IPv6 sessions only (constructs/bird-v6.ts).
  for (const peer of cluster.peers.filter((p) => peerServesNode(p, self) && familyOf(p.address) !== IPV6)) {
    sessions.push({
      protocol: protocolName('global', peer.address),
      kind: 'global',
      neighbor: peer.address,
      asNumber: peer.asNumber,
      rrClient: false,
      passive: false,
      // An external peer has no prefix of its own: it shares the subnet when this node's
      // network holds its address (the node's prefix applied to both).
      multihop: needsMultihop(
        self,
        nodeAs(cluster, self),
        { address: peer.address, prefixLength: self.prefixLength },
        peer.asNumber,
      ),
      password: peer.password,
    });
  }
  return sessions;
}
