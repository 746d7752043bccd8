/**
 * TEMPORARY stand-in for the lead's rules/subnets.ts (coming on main with the two-subnet lab);
 * replaced by main's version at merge.
 */
import { ipv4ToInt } from './ipv4';

interface Addressed {
  address: string;
  prefixLength?: number;
}

function contains(net: Addressed, ip: string): boolean {
  const size = 2 ** (32 - net.prefixLength!);
  return Math.floor(ipv4ToInt(net.address) / size) === Math.floor(ipv4ToInt(ip) / size);
}

/** Nodes whose networks contain each other's addresses share a subnet; undefined when a prefix is unknown. */
export function sameSubnet(a: Addressed, b: Addressed): boolean | undefined {
  if (a.prefixLength === undefined || b.prefixLength === undefined) return undefined;
  return contains(a, b.address) && contains(b, a.address);
}
