/**
 * The checks every input passes, wherever it enters: the constructs and the inventory loader at
 * synth, and the provider's schema (providers/calico/schema.ts), whose validators the runtime
 * runs at validate and again at apply, destroy, refresh and import (states and import ids never
 * pass through validate). Every value that reaches a remote shell passes one of these first, and
 * is then quoted anyway. Each check returns what is wrong, or null.
 */
import {
  addressValue,
  canonicalIpv6,
  cidrContainsIp,
  isIpv4Text,
  isIpv6Text,
  networkOf,
  parseCidr,
} from './address-family';
import { ENCAPSULATION, POD_GATEWAY, WORKLOAD_MTU } from './constants';

/** Returns a description of what is wrong, or null when the value is fine. */
export type Check = (value: string) => string | null;

export const ipv4Problem: Check = (v) => (isIpv4Text(v) ? null : `"${v}" is not an IPv4 address`);

export const podIpProblem: Check = (v) => {
  const bad = ipv4Problem(v);
  if (bad) return bad;
  if (v === POD_GATEWAY) return `${POD_GATEWAY} is the pods' gateway and cannot be a pod IP`;
  if (v === '0.0.0.0' || v === '255.255.255.255') return `"${v}" cannot be a pod IP`;
  return null;
};

export const ipv4CidrProblem: Check = (v) => {
  const m = /^([^/]+)\/([0-9]{1,2})$/.exec(v);
  if (!m || ipv4Problem(m[1]) || Number(m[2]) > 32) return `"${v}" is not an IPv4 CIDR (a.b.c.d/len)`;
  const len = Number(m[2]);
  if (networkOf(m[1], len).network !== addressValue(m[1]))
    return `"${v}" has host bits set; the network address is required`;
  return null;
};

/** Node names appear in import ids (split on "/", ":" and "@") and in messages. */
export const nodeNameProblem: Check = (v) =>
  /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(v)
    ? null
    : `"${v}" is not a valid node name (letters, digits, "_", ".", "-"; starts with a letter or digit; at most 63)`;

/** Workload names become network namespace names (a file under /run/netns). */
export const workloadNameProblem: Check = (v) =>
  /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(v)
    ? null
    : `"${v}" is not a valid workload name (letters, digits, "_", ".", "-"; starts with a letter or digit; at most 63)`;

export const absolutePathProblem: Check = (v) => {
  if (!v.startsWith('/')) return `"${v}" is not an absolute path`;
  if (/[\0\n\r]/.test(v)) return 'the path contains a control character';
  if (v.split('/').some((seg) => seg === '..' || seg === '.')) return `"${v}" contains "." or ".." segments`;
  if (v.endsWith('/')) return `"${v}" names a directory`;
  return null;
};

export const hostNameProblem: Check = (v) =>
  /^[A-Za-z0-9]([A-Za-z0-9.:_-]{0,252})$/.test(v) ? null : `"${v}" is not a host name or address`;

export const userNameProblem: Check = (v) =>
  /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/.test(v) ? null : `"${v}" is not a valid user name`;

export const envVarNameProblem: Check = (v) =>
  /^[A-Za-z_][A-Za-z0-9_]*$/.test(v) ? null : `"${v}" is not an environment variable name`;

export const nonEmptyProblem: Check = (v) => (v.length > 0 && !v.includes('\0') ? null : 'must not be empty');

export function inRange(min: number, max: number): (v: number) => string | null {
  return (v) => (Number.isInteger(v) && v >= min && v <= max ? null : `${v} is not an integer in ${min}..${max}`);
}

export function mtuProblem(v: number): string | null {
  return Number.isInteger(v) && v >= WORKLOAD_MTU.min && v <= WORKLOAD_MTU.max
    ? null
    : `${v} is not an MTU in ${WORKLOAD_MTU.min}..${WORKLOAD_MTU.max}`;
}

/** A unicast MAC written as six lower-case hex pairs (the form `ip` prints). */
export function unicastMacProblem(v: string): string | null {
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(v))
    return `"${v}" is not a MAC address (six lower-case hex pairs, e.g. 66:cc:c6:13:01:01)`;
  if (parseInt(v.slice(0, 2), 16) % 2 === 1) return `"${v}" is a multicast MAC address`;
  if (v === '00:00:00:00:00:00') return `"${v}" is the all-zero MAC address`;
  return null;
}

/** One of the encapsulations calico-net programs (ENCAPSULATION's keys). */
export function encapsulationProblem(v: string): string | null {
  return Object.prototype.hasOwnProperty.call(ENCAPSULATION, v)
    ? null
    : `"${v}" is not one of ${Object.keys(ENCAPSULATION).join(', ')}`;
}

/** A TCP port. */
export function portProblem(v: number): string | null {
  return Number.isInteger(v) && v >= 1 && v <= 65535 ? null : `${v} is not a port number (1..65535)`;
}

/**
 * An address a host can be reached at and peer from. 0.0.0.0, loopback, multicast, link-local
 * and limited broadcast pass ipv4Problem but can never be a node's BGP source or SSH target; with a
 * known prefix length, neither can the subnet's broadcast (or, below /31, network) address.
 */
/**
 * IPv4 blocks no host can be reached at, first match wins (the two single addresses before the
 * blocks that hold them), each with what to say.
 */
const UNUSABLE_IPV4: readonly [string, (v: string) => string][] = [
  ['0.0.0.0/32', (v) => `${v} is the unspecified address`],
  ['255.255.255.255/32', (v) => `${v} is the limited broadcast address`],
  ['0.0.0.0/8', (v) => `${v} lies in 0.0.0.0/8 ("this network"), which no host can use`],
  ['127.0.0.0/8', (v) => `${v} is a loopback address (127.0.0.0/8)`],
  ['224.0.0.0/4', (v) => `${v} is a multicast address (224.0.0.0/4)`],
  ['240.0.0.0/4', (v) => `${v} lies in the reserved block 240.0.0.0/4`],
  ['169.254.0.0/16', (v) => `${v} is a link-local address (169.254.0.0/16)`],
];
/** Parsed once: every node, peer and workload address is checked against them. */
const UNUSABLE_IPV4_BLOCKS = UNUSABLE_IPV4.map(([block, say]) => [parseCidr(block), say] as const);

export function usableHostAddressProblem(v: string, prefixLength?: number): string | null {
  const bad = ipv4Problem(v);
  if (bad) return bad;
  const unusable = UNUSABLE_IPV4_BLOCKS.find(([block]) => cidrContainsIp(block, v));
  if (unusable) return unusable[1](v);
  if (prefixLength !== undefined && prefixLength < 31) {
    const n = addressValue(v);
    const subnet = networkOf(v, prefixLength);
    if (n === subnet.last) return `${v} is the broadcast address of its /${prefixLength} subnet`;
    if (n === subnet.network) return `${v} is the network address of its /${prefixLength} subnet`;
  }
  return null;
}

// ---- IPv6 twins of the address checks (dual-stack: podCidrV6, ipv6Address, a workload's ipv6) ----

/**
 * An IPv6 address, in the one spelling iproute2 and BIRD print (RFC 5952: lower case, the
 * longest run of zero groups as "::"), so what a host reports compares equal to what was asked.
 */
export function ipv6Problem(v: string): string | null {
  if (!isIpv6Text(v)) return `"${v}" is not an IPv6 address`;
  const canonical = canonicalIpv6(v);
  return canonical === v
    ? null
    : `"${v}" is not in canonical form (RFC 5952, as ip and BIRD print it): write ${canonical}`;
}

export function ipv6CidrProblem(v: string): string | null {
  const m = /^([^/]+)\/([0-9]{1,3})$/.exec(v);
  if (!m || !isIpv6Text(m[1]) || Number(m[2]) > 128) return `"${v}" is not an IPv6 CIDR (address/len)`;
  const bad = ipv6Problem(m[1]);
  if (bad) return bad;
  if (networkOf(m[1], Number(m[2])).network !== addressValue(m[1]))
    return `"${v}" has host bits set; the network address is required`;
  return null;
}

/**
 * IPv6 blocks no node, peer or workload can use, first match wins (the single addresses before
 * the blocks that hold them), each with what to say.
 */
const UNUSABLE_IPV6: readonly [string, (v: string) => string][] = [
  ['::/128', (v) => `${v} is the unspecified address`],
  ['::1/128', (v) => `${v} is the loopback address`],
  ['::ffff:0:0/96', (v) => `${v} is an IPv4-mapped address (::ffff:0:0/96); use the IPv4 address itself`],
  ['::/8', (v) => `${v} lies in the reserved block ::/8`],
  ['fe80::/10', (v) => `${v} is a link-local address (fe80::/10)`],
  ['fec0::/10', (v) => `${v} is a deprecated site-local address (fec0::/10)`],
  ['ff00::/8', (v) => `${v} is a multicast address (ff00::/8)`],
];
const UNUSABLE_IPV6_BLOCKS = UNUSABLE_IPV6.map(([block, say]) => [parseCidr(block), say] as const);

/** An IPv6 address a host can be reached at, peer from or give a workload (no broadcast in IPv6). */
export function usableIpv6Problem(v: string): string | null {
  if (!isIpv6Text(v)) return ipv6Problem(v);
  // The block first: an IPv4-mapped address is refused as such, whatever its spelling.
  const unusable = UNUSABLE_IPV6_BLOCKS.find(([block]) => cidrContainsIp(block, v));
  return unusable ? unusable[1](v) : ipv6Problem(v);
}

/** A prefix length an IPv6 network can have: a whole number from 1 to 128. */
export function ipv6PrefixLengthProblem(length: number): string | null {
  return Number.isInteger(length) && length >= 1 && length <= 128
    ? null
    : 'the prefix length after "/" must be a whole number from 1 to 128';
}
