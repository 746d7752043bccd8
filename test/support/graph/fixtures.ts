/**
 * Clusters and live states for the graph tests and the README's screenshots: the 6-node demo
 * shape (two subnets, VXLAN across them, one external peer) and a 32-node route-reflector
 * cluster (four racks, two reflectors, a ToR peer per rack), with sessions as BIRD reports them.
 */
import { bgpSessionsOf } from '../../../constructs/bgp-sessions';
import { ClusterSpec, NodeSpec } from '../../../constructs/model';
import { BgpSessionRow } from '../../../cli/bird-protocols';
import { LiveState } from '../../../cli/graph/picture';

function node(
  name: string,
  address: string,
  prefixLength: number,
  block: string,
  extra: Partial<NodeSpec> = {},
): NodeSpec {
  return { name, address, prefixLength, podCidr: block, workloads: [], ...extra };
}

export function demoCluster(): ClusterSpec {
  const nodes = [1, 2, 3, 4, 5, 6].map((i) =>
    node(`node${i}`, `198.18.${i <= 3 ? 0 : 1}.${i}`, 24, `198.19.${i}.0/24`, {
      asNumber: 64500 + i,
      workloads:
        i === 5
          ? []
          : [{ name: `web${i}`, ip: `198.19.${i}.2` }, ...(i === 2 ? [{ name: 'db2', ip: '198.19.2.3' }] : [])],
    }),
  );
  return {
    name: 'demo',
    podCidr: '198.19.0.0/16',
    vxlanMode: 'CrossSubnet',
    nodes,
    peers: [{ address: '198.18.0.254', asNumber: 65000 }],
  };
}

export function rrCluster(count = 32, racks = 4): ClusterSpec {
  const perRack = count / racks;
  const nodes = Array.from({ length: count }, (_, i) => {
    const rack = Math.floor(i / perRack);
    return node(
      `r${rack + 1}n${(i % perRack) + 1}`,
      `198.18.${rack}.${(i % perRack) + 1}`,
      24,
      `198.19.${i + 1}.0/24`,
      {
        routeReflector: i % perRack === 0 && rack < 2,
        workloads: [{ name: `app${i + 1}`, ip: `198.19.${i + 1}.2` }],
      },
    );
  });
  const peers = Array.from({ length: racks }, (_, r) => ({
    address: `198.18.${r}.254`,
    asNumber: 65100 + r,
    nodes: nodes.filter((n) => n.address.startsWith(`198.18.${r}.`)).map((n) => n.name),
  }));
  return {
    name: 'rr32',
    podCidr: '198.19.0.0/16',
    topology: 'route-reflector',
    vxlanMode: 'CrossSubnet',
    nodes,
    peers,
  };
}

export interface Faults {
  /** [node, neighbor address]: that node's session to that neighbor is not Established. */
  down?: [string, string][];
  unreachable?: Record<string, string>;
  drifted?: Record<string, string[]>;
}

/** What status and drift would read from a cluster with these faults. */
export function liveState(cluster: ClusterSpec, faults: Faults = {}): LiveState {
  const status = new Map<string, { sessions: BgpSessionRow[]; error?: string }>();
  for (const n of cluster.nodes) {
    const error = faults.unreachable?.[n.name];
    if (error !== undefined) {
      status.set(n.name, { sessions: [], error });
      continue;
    }
    const sessions = bgpSessionsOf(cluster, n.name).map((s): BgpSessionRow => {
      const down =
        faults.down?.some(([who, neighbor]) => who === n.name && neighbor === s.neighbor) ||
        faults.unreachable?.[cluster.nodes.find((m) => m.address === s.neighbor)?.name ?? ''] !== undefined;
      return {
        protocol: s.protocol,
        peerAddress: s.neighbor,
        family: 'IPv4',
        peerType: s.kind === 'mesh' ? 'node-to-node mesh' : s.kind === 'global' ? 'global' : 'route reflector',
        state: down ? 'start' : 'up',
        since: '21:00:00',
        info: down ? 'Active Socket: Connection refused' : 'Established',
        established: !down,
      };
    });
    status.set(n.name, { sessions });
  }
  return {
    status,
    drift: {
      drifted: new Map(Object.entries(faults.drifted ?? {})),
      unreadable: new Map(Object.entries(faults.unreachable ?? {})),
    },
  };
}
