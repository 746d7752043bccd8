/** IPv4 arithmetic for the checks, the cluster validation and rendering. */

/** "a.b.c.d" → its 32-bit value (the address must already have passed isIpv4). */
export function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

export interface Cidr {
  text: string;
  network: number;
  length: number;
  /** Last address of the block. */
  last: number;
}

export function parseCidr(text: string): Cidr {
  const [ip, len] = text.split('/');
  const length = Number(len);
  const network = ipv4ToInt(ip);
  return { text, network, length, last: network + 2 ** (32 - length) - 1 };
}

export function cidrContainsIp(cidr: Cidr, ip: string): boolean {
  const n = ipv4ToInt(ip);
  return n >= cidr.network && n <= cidr.last;
}

export function cidrContainsCidr(outer: Cidr, inner: Cidr): boolean {
  return inner.network >= outer.network && inner.last <= outer.last;
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.network <= b.last && b.network <= a.last;
}

