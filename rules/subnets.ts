/**
 * Which nodes share an L2 subnet. A node's address may carry the prefix length of its network,
 * as Calico's node IPv4Address does ("198.18.1.1/24"); the router id, BGP source and SSH target
 * stay the bare address. CrossSubnet encapsulation and eBGP multihop decide by sameSubnet.
 */
import { familyOf, IPV4, networkOf } from './address-family';

export interface NodeAddress {
  readonly address: string;
  readonly prefixLength?: number;
}

/**
 * The address split from its prefix length: "a.b.c.d/len" → both, a bare address → as it is
 * (keeping a prefixLength given separately). A malformed length becomes NaN, which validation
 * reports against the node's address field; the address part is checked there too.
 */
export function withSplitAddress<T extends NodeAddress>(node: T): T & NodeAddress {
  const slash = node.address.indexOf('/');
  if (slash < 0) return node;
  const length = node.address.slice(slash + 1);
  return {
    ...node,
    address: node.address.slice(0, slash),
    prefixLength: /^\d{1,2}$/.test(length) ? Number(length) : NaN,
  };
}

/** A prefix length a node's network can have: a whole number from 1 to 32. */
export function prefixLengthProblem(length: number): string | null {
  return Number.isInteger(length) && length >= 1 && length <= 32
    ? null
    : 'the prefix length after "/" must be a whole number from 1 to 32';
}

function networkContains(node: NodeAddress & { prefixLength: number }, ip: string): boolean {
  return networkOf(node.address, node.prefixLength).network === networkOf(ip, node.prefixLength).network;
}

/**
 * Whether two nodes share a subnet: each one's network contains the other's address. Undefined
 * when either prefix length is unknown (callers decide what is safe then).
 */
export function sameSubnet(a: NodeAddress, b: NodeAddress): boolean | undefined {
  if (a.prefixLength === undefined || b.prefixLength === undefined) return undefined;
  if (prefixLengthProblem(a.prefixLength) || prefixLengthProblem(b.prefixLength)) return undefined;
  // Addresses validation has not passed yet (a cluster with other problems) decide nothing.
  if (familyOf(a.address) !== IPV4 || familyOf(b.address) !== IPV4) return undefined;
  return (
    networkContains({ ...a, prefixLength: a.prefixLength }, b.address) &&
    networkContains({ ...b, prefixLength: b.prefixLength }, a.address)
  );
}
