/**
 * The one address-family seam: everything that differs between IPv4 and IPv6 has its owner here,
 * so no other module writes `-4`, `/32`, `/proc/sys/net/ipv4`, `ipv4 {` or 2**32 itself. Each
 * family carries its `ip` flag, its host prefix, its sysctl directory and its BIRD channel name;
 * the CIDR maths (parse, contains, overlap, nth address, block split, network and last address)
 * works on both, on bigint values.
 *
 * Parsing and printing addresses is ipaddr.js's: a small pure-JS library with no dependencies,
 * maintained for over a decade and used by Express (proxy-addr), so its IPv6 parser ("::"
 * compression, embedded IPv4, zone ids) and RFC 5952 printer have seen far more inputs than
 * code of our own would. The arithmetic on top is a few bigint lines: ipaddr.js stops at
 * matching an address against a range and offers no "nth address" or block split, and
 * ip-address (the other maintained choice) brings a larger API of classes for the same two
 * parsers. What counts as a valid address here (dotted quad without leading zeros; IPv6
 * without a zone id, in canonical form) stays our rule, written below.
 */
import * as ipaddr from 'ipaddr.js';

export interface AddressFamily {
  /** 4 or 6. */
  readonly version: 4 | 6;
  /** "IPv4" or "IPv6", for messages. */
  readonly name: 'IPv4' | 'IPv6';
  /** Address width in bits. */
  readonly bits: 32 | 128;
  /** iproute2's family flag (`ip -4 route`, `ip -6 addr`). */
  readonly ipFlag: '-4' | '-6';
  /** The prefix length of a single address: a workload's address and its host route. */
  readonly hostPrefix: 32 | 128;
  /** Where the family's sysctls live (`conf/<if>/forwarding`, `neigh/<if>/…`). */
  readonly sysctlDir: '/proc/sys/net/ipv4' | '/proc/sys/net/ipv6';
  /** The host-wide forwarding switch, under sysctlDir (IPv6 has no ip_forward of its own). */
  readonly forwardingSysctl: 'ip_forward' | 'conf/all/forwarding';
  /** BIRD 2's channel (and net type) name: `protocol static { ipv4; }`. */
  readonly birdChannel: 'ipv4' | 'ipv6';
  /** The default route as a CIDR. */
  readonly defaultRoute: '0.0.0.0/0' | '::/0';
  /** The kernel's neighbour table (`ip ntable show name …`) and the protocol that fills it. */
  readonly neighbourTable: 'arp_cache' | 'ndisc_cache';
  readonly neighbourProtocol: 'ARP' | 'NDP';
  /**
   * The metric a route gets when none is given: the one `ip route replace` takes over. IPv4
   * prints none for it; IPv6 prints "metric 1024" on every such route.
   */
  readonly defaultRouteMetric: 0 | 1024;
}

export const IPV4: AddressFamily = {
  version: 4,
  name: 'IPv4',
  bits: 32,
  ipFlag: '-4',
  hostPrefix: 32,
  sysctlDir: '/proc/sys/net/ipv4',
  forwardingSysctl: 'ip_forward',
  birdChannel: 'ipv4',
  defaultRoute: '0.0.0.0/0',
  neighbourTable: 'arp_cache',
  neighbourProtocol: 'ARP',
  defaultRouteMetric: 0,
};

export const IPV6: AddressFamily = {
  version: 6,
  name: 'IPv6',
  bits: 128,
  ipFlag: '-6',
  hostPrefix: 128,
  sysctlDir: '/proc/sys/net/ipv6',
  forwardingSysctl: 'conf/all/forwarding',
  birdChannel: 'ipv6',
  defaultRoute: '::/0',
  neighbourTable: 'ndisc_cache',
  neighbourProtocol: 'NDP',
  defaultRouteMetric: 1024,
};

export const ADDRESS_FAMILIES: readonly AddressFamily[] = [IPV4, IPV6];

/** A dotted quad, each octet 0..255 without leading zeros (no "010.1.1.1", which some read as octal). */
const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4_TEXT = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);

/** Whether the text is an IPv4 address as we accept one: a dotted quad as above. */
export function isIpv4Text(text: string): boolean {
  return IPV4_TEXT.test(text);
}

/**
 * Whether the text is an IPv6 address as we accept one, in any spelling: no zone id ("%eth0"
 * names an interface, not an address), nothing around it. See canonicalIpv6 for the one spelling.
 */
export function isIpv6Text(text: string): boolean {
  return /^[0-9A-Fa-f:.]+$/.test(text) && text.includes(':') && ipaddr.IPv6.isValid(text);
}

/**
 * The RFC 5952 spelling of a valid IPv6 address (lower case, longest zero run as "::"): what
 * iproute2 and BIRD print, so the one spelling two values can be compared in.
 */
export function canonicalIpv6(text: string): string {
  return ipaddr.IPv6.parse(text).toRFC5952String();
}

/** The family of an address as we accept it, or undefined when it is neither. */
export function familyOf(address: string): AddressFamily | undefined {
  if (isIpv4Text(address)) return IPV4;
  if (isIpv6Text(address)) return IPV6;
  return undefined;
}

/** The family of an address that must be valid (throws otherwise: a caller skipped validation). */
function familyOfValid(address: string): AddressFamily {
  const family = familyOf(address);
  if (!family) throw new Error(`"${address}" is neither an IPv4 nor an IPv6 address`);
  return family;
}

/**
 * An address as a number (the address must be valid). A dotted quad our own pattern accepted is
 * four octets to multiply out, several times faster than a general parser (policy evaluation
 * and the checks call this per address); IPv6 goes through ipaddr.js.
 */
export function addressValue(address: string): bigint {
  if (isIpv4Text(address)) return BigInt(address.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0));
  familyOfValid(address);
  return ipaddr.IPv6.parse(address)
    .toByteArray()
    .reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
}

/** The address with this value, printed as iproute2 prints it. */
export function addressText(value: bigint, family: AddressFamily): string {
  if (value < 0n || value >> BigInt(family.bits) !== 0n)
    throw new RangeError(`${value} is outside the ${family.name} address space`);
  const bytes: number[] = [];
  for (let shift = family.bits - 8; shift >= 0; shift -= 8) bytes.push(Number((value >> BigInt(shift)) & 0xffn));
  const address = ipaddr.fromByteArray(bytes);
  return address.kind() === 'ipv6' ? (address as ipaddr.IPv6).toRFC5952String() : address.toString();
}

/**
 * The IPv6 link-local address the kernel gives an interface with this MAC (modified EUI-64,
 * RFC 4291 appendix A: ff:fe in the middle, the universal/local bit flipped). Calico's host veth
 * MAC ee:ee:ee:ee:ee:ee makes fe80::ecee:eeff:feee:eeee, the IPv6 gateway of every pod: the host
 * veth holds it itself, so no proxy is needed to answer for it.
 */
export function eui64LinkLocal(mac: string): string {
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac)) throw new Error(`"${mac}" is not a MAC address`);
  const b = mac.split(':').map((x) => parseInt(x, 16));
  const bytes = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, b[0] ^ 0x02, b[1], b[2], 0xff, 0xfe, b[3], b[4], b[5]];
  return (ipaddr.fromByteArray(bytes) as ipaddr.IPv6).toRFC5952String();
}

/** The address as a host route ("a.b.c.d/32", "x::y/128"). */
export function hostRoute(address: string): string {
  return `${address}/${familyOfValid(address).hostPrefix}`;
}

export interface Cidr {
  text: string;
  family: AddressFamily;
  /** First address of the block. */
  network: bigint;
  length: number;
  /** Last address of the block (IPv4: its broadcast address). */
  last: bigint;
}

/** How many addresses a block of this prefix length holds. */
function sizeOf(family: AddressFamily, length: number): bigint {
  return 1n << BigInt(family.bits - length);
}

/**
 * "network/len" → the block (the text must be a valid CIDR of its family; host bits set are
 * kept in `network`: the checks refuse them before anything calls this).
 */
export function parseCidr(text: string): Cidr {
  const slash = text.lastIndexOf('/');
  const address = text.slice(0, slash);
  const family = familyOfValid(address);
  const length = Number(text.slice(slash + 1));
  if (!Number.isInteger(length) || length < 0 || length > family.bits)
    throw new RangeError(`"${text}" has no valid ${family.name} prefix length`);
  const network = addressValue(address);
  return { text, family, network, length, last: network + sizeOf(family, length) - 1n };
}

/** The network an address lies in, given its prefix length: both as numbers. */
export function networkOf(
  address: string,
  prefixLength: number,
): { family: AddressFamily; network: bigint; last: bigint } {
  const family = familyOfValid(address);
  const size = sizeOf(family, prefixLength);
  const network = (addressValue(address) / size) * size;
  return { family, network, last: network + size - 1n };
}

/** The network an address lies in, as a CIDR ("198.18.1.7", 24 → "198.18.1.0/24"). */
export function networkCidrOf(address: string, prefixLength: number): string {
  const { family, network } = networkOf(address, prefixLength);
  return `${addressText(network, family)}/${prefixLength}`;
}

/** Whether the block holds the address; never across families. */
export function cidrContainsIp(cidr: Cidr, ip: string): boolean {
  if (familyOf(ip) !== cidr.family) return false;
  const n = addressValue(ip);
  return n >= cidr.network && n <= cidr.last;
}

/** Whether `outer` holds all of `inner`; never across families. */
export function cidrContainsCidr(outer: Cidr, inner: Cidr): boolean {
  return outer.family === inner.family && inner.network >= outer.network && inner.last <= outer.last;
}

/** Whether the two blocks share an address; never across families. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && a.network <= b.last && b.network <= a.last;
}

/** The block's n-th address (0: the network address); throws past its end. */
export function nthAddress(cidr: Cidr, n: bigint | number): string {
  const value = cidr.network + BigInt(n);
  if (BigInt(n) < 0n || value > cidr.last) throw new RangeError(`${cidr.text} has no address number ${n}`);
  return addressText(value, cidr.family);
}

/** The block's first address. */
export function networkAddress(cidr: Cidr): string {
  return addressText(cidr.network, cidr.family);
}

/** The block's last address: IPv4's broadcast address (IPv6 has none, but the last address is kept the same way). */
export function lastAddress(cidr: Cidr): string {
  return addressText(cidr.last, cidr.family);
}

/**
 * The first `count` blocks of prefix length `length` that `cidr` splits into, in order (an IPv6
 * pool splits into more /64s than fit in memory, hence the count).
 */
export function splitCidr(cidr: Cidr, length: number, count: number): string[] {
  if (!Number.isInteger(length) || length < cidr.length || length > cidr.family.bits) {
    throw new RangeError(`${cidr.text} cannot split into /${length} blocks`);
  }
  const size = sizeOf(cidr.family, length);
  const available = sizeOf(cidr.family, cidr.length) / size;
  const out: string[] = [];
  for (let i = 0n; i < available && out.length < count; i++)
    out.push(`${addressText(cidr.network + i * size, cidr.family)}/${length}`);
  return out;
}
