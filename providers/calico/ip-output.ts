/**
 * Parsers for iproute2's one-line output (`ip -o link`, `ip -o -4 addr`, `ip -4 route`), so a
 * host's state can be fetched once and every resource's facts derived from it locally, and the
 * calico_overlay device's neighbours and FDB (`ip neigh`, `bridge fdb`). The one-process read of
 * a namespace's links, addresses and main table is ip_batch_read in templates/scripts/lib/ip-read.sh.
 */
import type { SnapshotSection } from './host-snapshot';
import { AddressFamily, familyOf, IPV4, IPV6 } from '../../rules/address-family';

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

const ROUTE_TYPES = new Set([
  'unicast',
  'blackhole',
  'unreachable',
  'prohibit',
  'throw',
  'local',
  'broadcast',
  'multicast',
  'anycast',
  'nat',
]);
const ROUTE_KEYS = new Set(['dev', 'via', 'proto', 'scope', 'src']);

/**
 * "198.19.1.0/24" → same; "198.19.1.2" → "198.19.1.2/32"; "fd00::5" → "fd00::5/128"; "default"
 * → the default route of the family the table was read in ("0.0.0.0/0" or "::/0").
 */
export function canonicalPrefix(text: string, family: AddressFamily = IPV4): string {
  if (text === 'default') return family.defaultRoute;
  return text.includes('/') ? text : `${text}/${(familyOf(text) ?? family).hostPrefix}`;
}

export function parseLinks(text: string): Link[] {
  const links: Link[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+): ([^:@\s]+)(?:@([^:\s]+))?: <([^>]*)>/.exec(line);
    if (!m) continue;
    const peer = m[3] ? /^if(\d+)$/.exec(m[3]) : null;
    // `ip -o` ends the field with "\" when more follows (an alias, for one).
    const netns = / link-netns ([^\s\\]+)/.exec(line);
    const link: Link = {
      index: Number(m[1]),
      name: m[2],
      peerIndex: peer ? Number(peer[1]) : undefined,
      flags: m[4].split(',').filter(Boolean),
    };
    if (netns) link.peerNetns = netns[1];
    const alias = /\\\s+alias (.*?)\s*$/.exec(line);
    if (alias) link.alias = alias[1];
    links.push(link);
  }
  return links;
}

export function parseAddresses(text: string, family: AddressFamily = IPV4): Address[] {
  const addresses: Address[] = [];
  // The family's own lines only: "inet" (IPv4) or "inet6" (IPv6).
  const shape =
    family === IPV6 ? /^\d+:\s+(\S+)\s+inet6\s+([0-9a-f:]+)\/(\d+)\s/ : /^\d+:\s+(\S+)\s+inet\s+([0-9.]+)\/(\d+)\s/;
  for (const line of text.split('\n')) {
    const m = shape.exec(line);
    if (m) addresses.push({ dev: m[1], address: m[2], prefixLength: Number(m[3]) });
  }
  return addresses;
}

/**
 * The route's own part of a line: `ip -o` appends a multipath route's nexthops (and `route get`
 * its cache data) after a backslash, where plain output puts them on indented lines.
 */
export function routeHead(line: string): string {
  const cut = line.indexOf('\\');
  return cut < 0 ? line : line.slice(0, cut);
}

/**
 * One route per line that starts in column 0; multipath nexthops are not routes of their own
 * (indented continuation lines, or `ip -o`'s text after a backslash).
 */
export function parseRoutes(text: string, family: AddressFamily = IPV4): Route[] {
  const routes: Route[] = [];
  for (const line of text.split('\n')) {
    if (!line || /^\s/.test(line)) continue;
    const words = routeHead(line).trim().split(/\s+/);
    let i = 0;
    let type = 'unicast';
    if (ROUTE_TYPES.has(words[0])) type = words[i++];
    const prefix = words[i++];
    if (!prefix) continue;
    const route: Route = { type, prefix: canonicalPrefix(prefix, family) };
    for (; i < words.length - 1; i++) {
      const key = words[i];
      if (ROUTE_KEYS.has(key)) route[key as 'dev' | 'via' | 'proto' | 'scope' | 'src'] = words[++i];
    }
    routes.push(route);
  }
  return routes;
}

/** A network namespace's links, IPv4 addresses and IPv4 main table. */
export interface IpView {
  links: Link[];
  addresses: Address[];
  routes: Route[];
  /** The routes as `ip -o` printed them, one per line (what a fact quotes, with metric and onlink). */
  routeLines: string[];
}

/**
 * Splits the answer of ip_batch_read (templates/scripts/lib/ip-read.sh) by the shape of each
 * line. The link and address parsers take only their own shapes ("N: name: <flags>", "N: name inet …"); a route never starts with "N:"
 * (device names cannot hold a colon). The order of the three is not relied on.
 */
export function parseIpBatch(text: string, family: AddressFamily = IPV4): IpView {
  const routeLines = text.split('\n').filter((line) => line !== '' && !/^\s|^\d+:/.test(line));
  return {
    links: parseLinks(text),
    addresses: parseAddresses(text, family),
    routes: parseRoutes(routeLines.join('\n'), family),
    routeLines,
  };
}

/**
 * The host's own links, addresses and main table: read by every resource type, in one process.
 * Unlike a workload's namespace, a host whose read fails fails the snapshot.
 */
export const hostIpSection: SnapshotSection<IpView> = {
  name: 'host_ip',
  scriptFile: 'snapshot-host-ip',
  parse: (body) => parseIpBatch(body),
};

/**
 * The host's IPv6 addresses and main table (links as in host_ip): read on every host, IPv4-only
 * ones too (one process), so a dual-stack node's and its workloads' IPv6 facts come from it.
 */
export const hostIp6Section: SnapshotSection<IpView> = {
  name: 'host_ip6',
  scriptFile: 'snapshot-host-ip6',
  parse: (body) => parseIpBatch(body, IPV6),
};

/** Routes in a table for exactly this prefix ("a.b.c.d" and "a.b.c.d/32" are the same prefix). */
export function routesFor(routes: Route[], prefix: string, family: AddressFamily = IPV4): Route[] {
  const want = canonicalPrefix(prefix, family);
  return routes.filter((r) => r.prefix === want);
}

/** calico_overlay's permanent neighbours as `ip -4 neigh show dev D nud permanent` prints them: address → MAC. */
export function parseNeighbours(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^(\S+) lladdr (\S+)/.exec(line.trim());
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** `bridge fdb show dev D`: entries with a destination, MAC → destinations (comma-separated when several). */
export function parseFdb(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^(\S+) dst (\S+)/.exec(line.trim());
    if (m) out[m[1]] = out[m[1]] ? `${out[m[1]]},${m[2]}` : m[2];
  }
  return out;
}
