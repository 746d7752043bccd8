/**
 * Parsers for iproute2's one-line output (`ip -o link`, `ip -o -4 addr`, `ip -4 route`), so a
 * host's state can be fetched once and every resource's facts derived from it locally.
 */
import type { SnapshotSection } from './host-snapshot';

export interface Link {
  index: number;
  name: string;
  /** For a veth: the ifindex of its peer ("name@ifN"), which may live in another namespace. */
  peerIndex?: number;
  /** For a link whose peer lives in a named namespace: that namespace ("link-netns NAME"). */
  peerNetns?: string;
  /** The interface alias (`ip link set … alias`), when it has one. */
  alias?: string;
  flags: string[];
}

export interface Address {
  dev: string;
  address: string;
  prefixLength: number;
}

export interface Route {
  /** unicast, blackhole, unreachable, ... */
  type: string;
  /** Always "a.b.c.d/len": `ip` prints host routes without "/32" and the default as "default". */
  prefix: string;
  dev?: string;
  via?: string;
  proto?: string;
  scope?: string;
  src?: string;
}

const ROUTE_TYPES = new Set(['unicast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'local', 'broadcast', 'multicast', 'anycast', 'nat']);
const ROUTE_KEYS = new Set(['dev', 'via', 'proto', 'scope', 'src']);

/** "198.19.1.0/24" → same; "198.19.1.2" → "198.19.1.2/32"; "default" → "0.0.0.0/0". */
export function canonicalPrefix(text: string): string {
  if (text === 'default') return '0.0.0.0/0';
  return text.includes('/') ? text : `${text}/32`;
}

export function parseLinks(text: string): Link[] {
  const links: Link[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+): ([^:@\s]+)(?:@([^:\s]+))?: <([^>]*)>/.exec(line);
    if (!m) continue;
    const peer = m[3] ? /^if(\d+)$/.exec(m[3]) : null;
    const netns = / link-netns (\S+)/.exec(line);
    const link: Link = { index: Number(m[1]), name: m[2], peerIndex: peer ? Number(peer[1]) : undefined, flags: m[4].split(',').filter(Boolean) };
    if (netns) link.peerNetns = netns[1];
    const alias = /\\\s+alias (.*?)\s*$/.exec(line);
    if (alias) link.alias = alias[1];
    links.push(link);
  }
  return links;
}

export function parseAddresses(text: string): Address[] {
  const addresses: Address[] = [];
  for (const line of text.split('\n')) {
    const m = /^\d+:\s+(\S+)\s+inet\s+([0-9.]+)\/(\d+)\s/.exec(line);
    if (m) addresses.push({ dev: m[1], address: m[2], prefixLength: Number(m[3]) });
  }
  return addresses;
}

/** One route per line that starts in column 0; multipath "nexthop" continuation lines are skipped. */
export function parseRoutes(text: string): Route[] {
  const routes: Route[] = [];
  for (const line of text.split('\n')) {
    if (!line || /^\s/.test(line)) continue;
    const words = line.trim().split(/\s+/);
    let i = 0;
    let type = 'unicast';
    if (ROUTE_TYPES.has(words[0])) type = words[i++];
    const prefix = words[i++];
    if (!prefix) continue;
    const route: Route = { type, prefix: canonicalPrefix(prefix) };
    for (; i < words.length - 1; i++) {
      const key = words[i];
      if (ROUTE_KEYS.has(key)) route[key as 'dev' | 'via' | 'proto' | 'scope' | 'src'] = words[++i];
    }
    routes.push(route);
  }
  return routes;
}

/**
 * Host-wide reads more than one resource derives facts from (each declares what it uses, see
 * host-snapshot.ts). The whole main table: `ip route show` leaves out any field it was asked to
 * filter on (proto, scope), so filtering there would hide what the facts compare.
 */
export const mainRoutesSection: SnapshotSection<Route[]> = {
  name: 'main_routes',
  script: 'ip -4 route show table main',
  parse: (body) => parseRoutes(body),
};

export const hostLinksSection: SnapshotSection<Link[]> = {
  name: 'links',
  script: 'ip -o link show',
  parse: (body) => parseLinks(body),
};

export const hostAddressesSection: SnapshotSection<Address[]> = {
  name: 'addresses',
  script: 'ip -4 -o addr show',
  parse: (body) => parseAddresses(body),
};

/** Routes in a table for exactly this prefix ("a.b.c.d" and "a.b.c.d/32" are the same prefix). */
export function routesFor(routes: Route[], prefix: string): Route[] {
  const want = canonicalPrefix(prefix);
  return routes.filter((r) => r.prefix === want);
}
