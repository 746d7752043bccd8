/**
 * The overlay of a cluster, node by node: which encapsulation is on, this node's tunnel
 * endpoint, and for every other node whether traffic to its block is encapsulated. This one
 * plan feeds both the bird.conf template (BIRD must not program the encapsulated blocks into
 * the kernel) and the node's calico_overlay resource (device, neighbours, FDB entries, routes),
 * so the two can never disagree about which blocks go through the tunnel.
 */
import { ENCAPSULATION, Encapsulation, UNDERLAY_MTU } from '../rules/constants';
import { addressValue, nthAddress, parseCidr } from '../rules/address-family';
import { ClusterSpec, EncapsulationMode, NodeSpec } from './model';
import { sameSubnet } from '../rules/subnets';

/** The cluster's encapsulation, when one of vxlanMode / ipipMode is not Never. */
export interface ClusterEncapsulation {
  kind: Encapsulation;
  mode: Exclude<EncapsulationMode, 'Never'>;
  /** The cluster field that set it, for messages. */
  field: 'vxlanMode' | 'ipipMode';
}

/** One node's end of the tunnels. */
export interface TunnelEndpoint {
  node: string;
  /** Underlay address (the VXLAN source; IPIP's outer destination). */
  address: string;
  block: string;
  /** The device's /32, taken from the node's own block (see tunnelAddressOf). */
  tunnelAddress: string;
  /** VXLAN only: the device's MAC (see vtepMacOf). */
  tunnelMac?: string;
}

export interface OverlayRemote extends TunnelEndpoint {
  /** Traffic to this node's block goes through the tunnel (else BIRD's native route). */
  encapsulate: boolean;
}

export interface OverlayPlan {
  kind: Encapsulation;
  mode: ClusterEncapsulation['mode'];
  device: string;
  /** The tunnel device's MTU. */
  mtu: number;
  self: TunnelEndpoint;
  /** Every other node, in cluster order. */
  remotes: OverlayRemote[];
}

/** Which encapsulation is on; validation makes sure at most one mode is not Never. */
export function encapsulationOf(
  cluster: Pick<ClusterSpec, 'vxlanMode' | 'ipipMode'>,
): ClusterEncapsulation | undefined {
  if (cluster.vxlanMode !== undefined && cluster.vxlanMode !== 'Never')
    return { kind: 'vxlan', mode: cluster.vxlanMode, field: 'vxlanMode' };
  if (cluster.ipipMode !== undefined && cluster.ipipMode !== 'Never')
    return { kind: 'ipip', mode: cluster.ipipMode, field: 'ipipMode' };
  return undefined;
}

/**
 * A node's tunnel address: the first host address of its block (network + 1). Calico takes one
 * from the block through IPAM; a fixed choice lets every node know every other node's VTEP
 * without asking it, and validation refuses a workload on it.
 */
export function tunnelAddressOf(block: string): string {
  return nthAddress(parseCidr(block), 1);
}

/**
 * A VTEP's MAC, derived from its address: 66:cc followed by the four octets. 0x66 has the
 * locally administered bit set and the multicast bit clear, so it is a unicast MAC that no
 * vendor owns; one per address, so no two nodes of a cluster share one.
 */
export function vtepMacOf(address: string): string {
  const n = addressValue(address);
  const octets = [0x66, 0xcc, ...[24n, 16n, 8n, 0n].map((shift) => Number((n >> shift) & 0xffn))];
  return octets.map((o) => o.toString(16).padStart(2, '0')).join(':');
}

function endpointOf(node: NodeSpec, kind: Encapsulation): TunnelEndpoint {
  const tunnelAddress = tunnelAddressOf(node.podCidr);
  return {
    node: node.name,
    address: node.address,
    block: node.podCidr,
    tunnelAddress,
    ...(kind === 'vxlan' ? { tunnelMac: vtepMacOf(tunnelAddress) } : {}),
  };
}

/**
 * Whether traffic from `self` to `remote` is encapsulated: always in Always mode; in
 * CrossSubnet mode only when the two do not share a subnet. A CrossSubnet cluster with a node
 * whose prefix is unknown never gets here (validation refuses it); should it, encapsulating is
 * the choice that still delivers.
 */
function encapsulates(mode: ClusterEncapsulation['mode'], self: NodeSpec, remote: NodeSpec): boolean {
  return mode === 'Always' || sameSubnet(self, remote) !== true;
}

/** The node's overlay, or undefined when the cluster encapsulates nothing. */
export function overlayPlanOf(cluster: ClusterSpec, nodeName: string): OverlayPlan | undefined {
  const encapsulation = encapsulationOf(cluster);
  if (!encapsulation) return undefined;
  const self = cluster.nodes.find((n) => n.name === nodeName);
  if (!self) throw new Error(`no node named "${nodeName}" in cluster "${cluster.name}"`);
  const { kind, mode } = encapsulation;
  return {
    kind,
    mode,
    device: ENCAPSULATION[kind].device,
    mtu: UNDERLAY_MTU - ENCAPSULATION[kind].overhead,
    self: endpointOf(self, kind),
    remotes: cluster.nodes
      .filter((n) => n !== self)
      .map((n) => ({ ...endpointOf(n, kind), encapsulate: encapsulates(mode, self, n) })),
  };
}

/** The remote blocks this node reaches through the tunnel (BIRD must leave them alone). */
export function encapsulatedBlocks(plan: OverlayPlan | undefined): string[] {
  return plan ? plan.remotes.filter((r) => r.encapsulate).map((r) => r.block) : [];
}

/**
 * The workloads' MTU when the user sets none: the underlay's minus the encapsulation overhead,
 * so a full-size pod packet still fits once wrapped. Undefined: the provider's default.
 */
export function defaultWorkloadMtu(cluster: Pick<ClusterSpec, 'vxlanMode' | 'ipipMode'>): number | undefined {
  const encapsulation = encapsulationOf(cluster);
  return encapsulation ? UNDERLAY_MTU - ENCAPSULATION[encapsulation.kind].overhead : undefined;
}

/** The calico_overlay resource's inputs (camelCase, as the bindings take them). */
export interface OverlayInputs {
  encapsulation: Encapsulation;
  address: string;
  tunnelAddress: string;
  tunnelMac?: string;
  mtu: number;
  neighbours: Record<string, string>;
  fdb: Record<string, string>;
  routes: Record<string, string>;
}

export function overlayInputsOf(plan: OverlayPlan): OverlayInputs {
  const remotes = plan.remotes.filter((r) => r.encapsulate);
  const vxlan = plan.kind === 'vxlan';
  return {
    encapsulation: plan.kind,
    address: plan.self.address,
    tunnelAddress: plan.self.tunnelAddress,
    ...(vxlan ? { tunnelMac: plan.self.tunnelMac } : {}),
    mtu: plan.mtu,
    neighbours: vxlan ? Object.fromEntries(remotes.map((r) => [r.tunnelAddress, r.tunnelMac!])) : {},
    fdb: vxlan ? Object.fromEntries(remotes.map((r) => [r.tunnelMac!, r.address])) : {},
    // VXLAN routes through the remote VTEP; IPIP straight to the remote node's address.
    routes: Object.fromEntries(remotes.map((r) => [r.block, vxlan ? r.tunnelAddress : r.address])),
  };
}
