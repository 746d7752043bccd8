/**
 * Parses `birdc show protocols` (BIRD 2) into the rows `calicoctl node status` shows.
 *
 * BIRD 2 prints a capitalised header (`Name Proto Table State Since Info`); Calico's own parser
 * expects BIRD 1.6's lower-case one, so the header is matched case-insensitively. The Since
 * column is one token (`03:37:43.439`) or two (`2026-11-25 03:37:43`) depending on age and
 * BIRD's timeformat setting.
 */

import { ipv6Problem } from '../rules/checks';

// Node_ sessions are only made for route reflectors here, so they are labelled as such.
export type PeerType = 'node-to-node mesh' | 'route reflector' | 'global';

export interface BgpSessionRow {
  /** BIRD protocol name, e.g. Mesh_198_18_0_2. */
  protocol: string;
  peerAddress: string;
  /** The session's address family (the peer address's): calicoctl's "IPv4/IPv6 BGP status". */
  family: 'IPv4' | 'IPv6';
  peerType: PeerType;
  /** BIRD's protocol state: up, start, down, … */
  state: string;
  since: string;
  /** BGP state and any error, e.g. "Established" or "Active Socket: Connection refused". */
  info: string;
  established: boolean;
}

const PEER_TYPES: Record<string, PeerType> = {
  Mesh: 'node-to-node mesh',
  Node: 'route reflector',
  Global: 'global',
};

const PROTOCOL_NAME = /^(Mesh|Node|Global)_(\d+)_(\d+)_(\d+)_(\d+)$/;
/** A dual-stack node's IPv6 sessions (constructs/bird-v6.ts): each ":" of the address became "_". */
const PROTOCOL_NAME_V6 = /^(Mesh|Node|Global)_([0-9a-f_]+)$/;

/** The session kind and peer address a protocol name stands for, or undefined for other protocols. */
function sessionOfName(protocol: string): { kind: string; address: string; family: 'IPv4' | 'IPv6' } | undefined {
  const v4 = PROTOCOL_NAME.exec(protocol);
  if (v4) return { kind: v4[1], address: v4.slice(2, 6).join('.'), family: 'IPv4' };
  const v6 = PROTOCOL_NAME_V6.exec(protocol);
  const address = v6?.[2].replace(/_/g, ':');
  // An IPv4 name has exactly four groups, which no IPv6 address in canonical form has.
  return v6 && address && ipv6Problem(address) === null ? { kind: v6[1], address, family: 'IPv6' } : undefined;
}
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function parseBirdProtocols(output: string): BgpSessionRow[] {
  const lines = output.split('\n');
  const header = lines.findIndex((l) => /^name\s+proto\s+table\s+state\s+since\s+info/i.test(l));
  if (header < 0) throw new Error(`unexpected birdc output (no protocol table):\n${output}`);

  const rows: BgpSessionRow[] = [];
  for (const line of lines.slice(header + 1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 5) continue;
    const [protocol, proto, , state, ...rest] = fields;
    const name = sessionOfName(protocol);
    if (proto !== 'BGP' || !name) continue;
    const sinceParts = DATE.test(rest[0]) && rest.length > 1 ? 2 : 1;
    const since = rest.slice(0, sinceParts).join(' ');
    const info = rest.slice(sinceParts).join(' ');
    rows.push({
      protocol,
      peerAddress: name.address,
      family: name.family,
      peerType: PEER_TYPES[name.kind],
      state,
      since,
      info,
      established: state === 'up' && /^Established\b/.test(info),
    });
  }
  return rows;
}
