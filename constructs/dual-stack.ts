/**
 * Dual-stack: the IPv6 half of a cluster (Calico's IPv6 pool, each node's IPv6Address and IPv6
 * block, a workload's IPv6 address) and the router id, with the IPv6 twins of every IPv4
 * addressing check. A cluster without podCidrV6 is IPv4-only and renders exactly as before.
 *
 * Rules (README, "Dual-stack"):
 * - podCidrV6 on the cluster makes it dual-stack; then every node needs ipv6Address and
 *   podCidrV6, and none of the three may appear without it.
 * - Addresses are written in the canonical spelling (RFC 5952), as iproute2 and BIRD print them.
 * - The router id stays 32 bits even for IPv6 sessions, as in Calico's bird6 ("router id is 4
 *   octets, even in MP-BGP"): the node's IPv4 address, or its routerID.
 * - VXLAN for the IPv6 pool (vxlan-v6.calico) is not built yet: vxlanMode other than Never on a
 *   dual-stack cluster is refused. IPIP is IPv4-only in Calico: ipipMode may stay, IPv6 is routed
 *   natively beside it.
 */
import { Cidr, cidrContainsCidr, cidrContainsIp, cidrsOverlap, addressValue, parseCidr } from '../rules/address-family';
import { ipv6CidrProblem, ipv6PrefixLengthProblem, ipv4Problem, usableIpv6Problem } from '../rules/checks';
import type { ClusterSpec, NodeSpec, PeerSpec } from './model';
import { familyOf, IPV6 } from '../rules/address-family';

/** Whether the cluster has an IPv6 pool. */
export function isDualStack(cluster: Pick<ClusterSpec, 'podCidrV6'>): boolean {
  return cluster.podCidrV6 !== undefined;
}

export interface NodeIpv6Address {
  readonly address: string;
  /** The prefix length after "/"; NaN when it is not a number, undefined when not given. */
  readonly prefixLength?: number;
}

/** A node's IPv6 address split from its prefix length ("fd00:198:18::1/64"), or undefined. */
export function nodeIpv6Of(node: Pick<NodeSpec, 'ipv6Address'>): NodeIpv6Address | undefined {
  const text = node.ipv6Address;
  if (text === undefined) return undefined;
  const slash = text.indexOf('/');
  if (slash < 0) return { address: text };
  const length = text.slice(slash + 1);
  return { address: text.slice(0, slash), prefixLength: /^\d{1,3}$/.test(length) ? Number(length) : NaN };
}

/** The BGP router id a node's bird.conf uses: its routerID, else its IPv4 address. */
export function routerIdOf(node: Pick<NodeSpec, 'routerID' | 'address'>): string {
  return node.routerID ?? node.address;
}

const DUAL_STACK_NODE_FIELDS = ['ipv6Address', 'podCidrV6'] as const;

/** Every problem of the router ids and of the IPv6 half of the cluster, one line each, naming node, workload and field. */
export function dualStackProblems(cluster: ClusterSpec, nodeLabel: (i: number) => string): string[] {
  const out: string[] = [];
  routerIdProblems(cluster, nodeLabel, out);
  const poolText = cluster.podCidrV6;
  let pool: Cidr | null = null;
  if (poolText !== undefined) {
    const p = ipv6CidrProblem(poolText);
    if (p) out.push(`cluster.podCidrV6: ${p}`);
    else pool = parseCidr(poolText);
    if (cluster.vxlanMode !== undefined && cluster.vxlanMode !== 'Never') {
      out.push(
        `cluster.vxlanMode: ${cluster.vxlanMode} is not supported on a dual-stack cluster yet (VXLAN for the IPv6 pool, vxlan-v6.calico, is not built); use Never, or ipipMode (IPv4 only, IPv6 then routed natively)`,
      );
    }
  }
  const addresses = new Map<string, number>();
  const blocks: { i: number; cidr: Cidr }[] = [];
  cluster.nodes.forEach((node, i) => {
    const label = nodeLabel(i);
    if (poolText === undefined) {
      for (const field of DUAL_STACK_NODE_FIELDS) {
        if (node[field] !== undefined)
          out.push(`${label}.${field}: set, but the cluster has no podCidrV6 (its IPv6 pool)`);
      }
      node.workloads.forEach((w, k) => {
        if (w.ipv6 !== undefined)
          out.push(`${label}.workloads[${k}] "${w.name}".ipv6: set, but the cluster has no podCidrV6 (its IPv6 pool)`);
      });
      return;
    }
    nodeAddressProblems(cluster, node, i, label, pool, addresses, out);
    const block = nodeBlockProblems(cluster, node, i, label, pool, blocks, out);
    workloadProblems(node, label, block, out);
  });
  cluster.peers.forEach((peer, i) => ipv6PeerProblems(cluster, peer, i, out));
  return out;
}

/** The knobs an IPv6 external peer cannot have yet, and why. */
const IPV6_PEER_UNSUPPORTED: readonly (keyof PeerSpec)[] = ['acceptDefaultRoute', 'filters', 'sourceAddress', 'bfd'];

/**
 * An external peer with an IPv6 address holds IPv6 sessions: it needs the IPv6 pool, a usable
 * address that is no node's, and none of the knobs the IPv6 sessions do not render yet.
 */
function ipv6PeerProblems(cluster: ClusterSpec, peer: PeerSpec, i: number, out: string[]): void {
  if (familyOf(peer.address) !== IPV6) return; // IPv4 peers (and bad addresses) are validation.ts's
  const label = `peers[${i}] ${peer.address}`;
  const bad = usableIpv6Problem(peer.address);
  if (bad) {
    out.push(`peers[${i}].address: ${bad}`);
    return;
  }
  if (!isDualStack(cluster))
    out.push(`peers[${i}].address: an IPv6 peer needs a dual-stack cluster (cluster.podCidrV6)`);
  const node = cluster.nodes.find((n) => nodeIpv6Of(n)?.address === peer.address);
  if (node) out.push(`${label}: is the IPv6 address of node "${node.name}"; external peers are other routers`);
  for (const field of IPV6_PEER_UNSUPPORTED) {
    if (peer[field] !== undefined)
      out.push(`${label}.${field}: not supported on an IPv6 peer yet (its sessions render without it)`);
  }
}

/**
 * routerID: an IPv4 address other than 0.0.0.0, and no two nodes with one router id (a node
 * without routerID uses its IPv4 address, whose duplicates the address check reports already).
 */
function routerIdProblems(cluster: ClusterSpec, nodeLabel: (i: number) => string, out: string[]): void {
  cluster.nodes.forEach((node, i) => {
    if (node.routerID === undefined) return;
    const bad = ipv4Problem(node.routerID) ?? (node.routerID === '0.0.0.0' ? '0.0.0.0 is not a router id' : null);
    if (bad) {
      out.push(`${nodeLabel(i)}.routerID: ${bad}`);
      return;
    }
    const j = cluster.nodes.findIndex((other, k) => k !== i && routerIdOf(other) === node.routerID);
    if (j >= 0)
      out.push(
        `${nodeLabel(i)}.routerID: ${node.routerID} is also the router id of node "${cluster.nodes[j].name}"; BGP needs one per node`,
      );
  });
}

function nodeAddressProblems(
  cluster: ClusterSpec,
  node: NodeSpec,
  i: number,
  label: string,
  pool: Cidr | null,
  addresses: Map<string, number>,
  out: string[],
): void {
  const v6 = nodeIpv6Of(node);
  if (!v6) {
    out.push(
      `${label}.ipv6Address: the cluster is dual-stack (podCidrV6 ${cluster.podCidrV6}): every node needs its IPv6 address (e.g. fd00:198:18::1/64)`,
    );
    return;
  }
  if (v6.prefixLength !== undefined) {
    const p = ipv6PrefixLengthProblem(v6.prefixLength);
    if (p) out.push(`${label}.ipv6Address: ${p}`);
  }
  const bad = usableIpv6Problem(v6.address);
  if (bad) {
    out.push(`${label}.ipv6Address: ${bad}`);
    return;
  }
  const j = addresses.get(v6.address);
  if (j !== undefined)
    out.push(`${label}.ipv6Address: ${v6.address} is already the IPv6 address of node "${cluster.nodes[j].name}"`);
  else addresses.set(v6.address, i);
  if (pool && cidrContainsIp(pool, v6.address))
    out.push(`${label}.ipv6Address: ${v6.address} lies inside the IPv6 pod pool ${cluster.podCidrV6}`);
}

/** The node's IPv6 block when it is a valid CIDR (even if it breaks another rule), else null. */
function nodeBlockProblems(
  cluster: ClusterSpec,
  node: NodeSpec,
  i: number,
  label: string,
  pool: Cidr | null,
  blocks: { i: number; cidr: Cidr }[],
  out: string[],
): Cidr | null {
  if (node.podCidrV6 === undefined) {
    out.push(
      `${label}.podCidrV6: the cluster is dual-stack (podCidrV6 ${cluster.podCidrV6}): every node needs its IPv6 block inside it`,
    );
    return null;
  }
  const bad = ipv6CidrProblem(node.podCidrV6);
  if (bad) {
    out.push(`${label}.podCidrV6: ${bad}`);
    return null;
  }
  const block = parseCidr(node.podCidrV6);
  // The block's first address is its Subnet-Router anycast address (RFC 4291): one more is needed.
  if (block.length > 127)
    out.push(`${label}.podCidrV6: ${node.podCidrV6} is too small to hold a workload (at most /127)`);
  if (pool && !cidrContainsCidr(pool, block))
    out.push(`${label}.podCidrV6: ${node.podCidrV6} is outside the IPv6 pod pool ${cluster.podCidrV6}`);
  for (const other of blocks) {
    if (cidrsOverlap(other.cidr, block))
      out.push(
        `${label}.podCidrV6: ${node.podCidrV6} overlaps node "${cluster.nodes[other.i].name}" (${other.cidr.text})`,
      );
  }
  blocks.push({ i, cidr: block });
  return block;
}

function workloadProblems(node: NodeSpec, label: string, block: Cidr | null, out: string[]): void {
  const seen = new Map<string, number>();
  node.workloads.forEach((w, k) => {
    if (w.ipv6 === undefined) return;
    const where = `${label}.workloads[${k}] "${w.name}".ipv6`;
    const bad = usableIpv6Problem(w.ipv6);
    if (bad) {
      out.push(`${where}: ${bad}`);
      return;
    }
    const first = seen.get(w.ipv6);
    if (first !== undefined)
      out.push(`${where}: ${w.ipv6} is already the IPv6 address of workload "${node.workloads[first].name}"`);
    else seen.set(w.ipv6, k);
    if (!block) return; // the block's own problem is reported
    if (!cidrContainsIp(block, w.ipv6))
      out.push(`${where}: ${w.ipv6} is outside node "${node.name}"'s IPv6 block ${node.podCidrV6}`);
    else if (addressValue(w.ipv6) === block.network)
      out.push(`${where}: ${w.ipv6} is the Subnet-Router anycast address (the first address) of ${node.podCidrV6}`);
  });
}
