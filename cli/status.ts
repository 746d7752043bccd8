/**
 * `calico-net status`: every node's BGP sessions as `calicoctl node status` shows them, read from
 * BIRD's control socket over SSH (one round trip per node, all nodes in parallel).
 */
import { RemoteHost } from '../providers/ssh/types';
import { remoteScript } from '../providers/calico/script';
import { BgpSessionRow, parseBirdProtocols } from './bird-protocols';
import { parseBfdSessions, parseProtocolsAll } from './bird-peer-details';

export interface NodeStatusTarget {
  name: string;
  host: RemoteHost;
  socketPath: string;
  /** BIRD protocol names this node must have Established (from the cluster topology). */
  expectedProtocols: string[];
  /** The shard stack holding the node (sharded clusters only). */
  shard?: string;
  /** The node's external peers (Global_ sessions): their routes, and BFD where it is on, are shown too. */
  externalPeers?: { protocol: string; address: string; bfd: boolean }[];
}

/** One external peer as BIRD sees it: `show protocols all` and `show bfd sessions`. */
export interface PeerStatus {
  protocol: string;
  address: string;
  asNumber?: number;
  /** BGP state (Established, Active, …); "unknown" when BIRD has no such protocol. */
  state: string;
  imported?: number;
  exported?: number;
  /** BFD session state (Up, Down, Init, AdminDown; "none" when BIRD has no session yet); absent when BFD is off. */
  bfd?: string;
}

export interface NodeStatus {
  node: string;
  /** The shard stack holding the node (sharded clusters only). */
  shard?: string;
  sessions: BgpSessionRow[];
  /** Expected protocols that are missing or not Established. */
  problems: string[];
  /** Set when the node could not be asked at all (SSH or birdc failure). */
  error?: string;
  /** External peers, when the node has any. */
  peers?: PeerStatus[];
}

/** What status asks BIRD (templates/scripts/bird-status.sh): `show protocols`, `show protocols all`, `show bfd sessions`. */
export type BirdQuestion = 'protocols' | 'protocols-all' | 'bfd-sessions';

/** The script that asks the BIRD behind `socketPath` one question, with birdc's answer and exit code. */
export function birdStatusScript(socketPath: string, question: BirdQuestion): string {
  return remoteScript(['bird-status'], { sock: socketPath, question }).text;
}

export async function collectStatus(targets: NodeStatusTarget[]): Promise<NodeStatus[]> {
  return Promise.all(targets.map(statusOfNode));
}

async function statusOfNode(target: NodeStatusTarget): Promise<NodeStatus> {
  try {
    const result = await target.host.run(birdStatusScript(target.socketPath, 'protocols'));
    if (result.code !== 0) {
      const why = (result.stderr || result.stdout).trim();
      return failed(target, `birdc failed (exit ${result.code}): ${why}`);
    }
    const sessions = parseBirdProtocols(result.stdout);
    const problems: string[] = [];
    for (const expected of target.expectedProtocols) {
      const row = sessions.find((s) => s.protocol === expected);
      if (!row) problems.push(`${expected}: no such BGP session in BIRD`);
      else if (!row.established) problems.push(`${row.peerAddress} (${expected}): ${row.state} ${row.info}`.trim());
    }
    const peers = target.externalPeers?.length ? await peerStatuses(target, problems) : undefined;
    return { node: target.name, ...shardOf(target), sessions, problems, ...(peers ? { peers } : {}) };
  } catch (err) {
    return failed(target, (err as Error).message);
  }
}

/** Prefix counts per external session, and BFD state where the peer has BFD on (two more birdc calls). */
async function peerStatuses(target: NodeStatusTarget, problems: string[]): Promise<PeerStatus[]> {
  const peers = target.externalPeers!;
  const all = await target.host.run(birdStatusScript(target.socketPath, 'protocols-all'));
  if (all.code !== 0)
    problems.push(`birdc show protocols all failed (exit ${all.code}): ${(all.stderr || all.stdout).trim()}`);
  const details = all.code === 0 ? parseProtocolsAll(all.stdout) : [];
  let bfd: ReturnType<typeof parseBfdSessions> = [];
  if (peers.some((p) => p.bfd)) {
    const r = await target.host.run(birdStatusScript(target.socketPath, 'bfd-sessions'));
    if (r.code !== 0)
      problems.push(`birdc show bfd sessions failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
    else bfd = parseBfdSessions(r.stdout);
  }
  return peers.map((p) => {
    const d = details.find((x) => x.protocol === p.protocol);
    return {
      protocol: p.protocol,
      address: p.address,
      ...(d?.neighborAs !== undefined ? { asNumber: d.neighborAs } : {}),
      state: d?.bgpState ?? 'unknown',
      ...(d?.imported !== undefined ? { imported: d.imported, exported: d.exported } : {}),
      ...(p.bfd ? { bfd: bfd.find((b) => b.address === p.address)?.state ?? 'none' } : {}),
    };
  });
}

function failed(target: NodeStatusTarget, error: string): NodeStatus {
  return { node: target.name, ...shardOf(target), sessions: [], problems: [error], error };
}

const shardOf = (target: NodeStatusTarget) => (target.shard === undefined ? {} : { shard: target.shard });

export function statusIsHealthy(statuses: NodeStatus[]): boolean {
  return statuses.every((s) => s.problems.length === 0);
}

export function renderStatusTable(statuses: NodeStatus[]): string {
  const out: string[] = [];
  let established = 0;
  let total = 0;
  // An IPv4-only cluster reads as it always has; IPv6 sessions anywhere give every node both families.
  const dualStack = statuses.some((s) => s.sessions.some((row) => row.family === 'IPv6'));
  for (const status of statuses) {
    out.push(`Node ${status.node}${status.shard === undefined ? '' : ` (shard ${status.shard})`}:`);
    if (status.error) {
      out.push(`  ERROR: ${status.error}`, '');
      continue;
    }
    const rows = (sessions: BgpSessionRow[]) =>
      sessions.map((s) => [s.peerAddress, s.peerType, s.state, s.since, s.info]);
    const sessionTable = (sessions: BgpSessionRow[]) =>
      table(['PEER ADDRESS', 'PEER TYPE', 'STATE', 'SINCE', 'INFO'], rows(sessions)).map((l) => `  ${l}`);
    if (!dualStack) out.push(...sessionTable(status.sessions));
    else {
      // As calicoctl node status: one table per family, "No IPv6 peers found." when a family has none.
      for (const family of ['IPv4', 'IPv6'] as const) {
        const mine = status.sessions.filter((s) => s.family === family);
        out.push(`  ${family} BGP status`, ...(mine.length ? sessionTable(mine) : [`  No ${family} peers found.`]));
      }
    }
    if (status.peers?.length) {
      out.push('  External peers:');
      const peerRows = status.peers.map((p) => [
        p.address,
        p.asNumber === undefined ? '' : String(p.asNumber),
        p.state,
        p.imported === undefined ? '' : String(p.imported),
        p.exported === undefined ? '' : String(p.exported),
        p.bfd ?? 'off',
      ]);
      out.push(
        ...table(['PEER ADDRESS', 'AS', 'BGP STATE', 'IMPORTED', 'EXPORTED', 'BFD'], peerRows).map((l) => `  ${l}`),
      );
    }
    for (const problem of status.problems) out.push(`  PROBLEM: ${problem}`);
    out.push('');
    established += status.sessions.filter((s) => s.established).length;
    total += status.sessions.length;
  }
  const unhealthy = statuses.filter((s) => s.problems.length > 0).map((s) => s.node);
  const perFamily = (['IPv4', 'IPv6'] as const).map((family) => {
    const rows = statuses.flatMap((s) => (s.error ? [] : s.sessions.filter((row) => row.family === family)));
    return `${family} ${rows.filter((r) => r.established).length}/${rows.length}`;
  });
  out.push(
    `${established}/${total} BGP sessions Established on ${statuses.length} nodes` +
      (dualStack ? ` (${perFamily.join(', ')})` : '') +
      (unhealthy.length ? `; problems on: ${unhealthy.join(', ')}` : '; all expected sessions up'),
  );
  return out.join('\n');
}

/** An ASCII table in the style calicoctl prints. */
export function table(header: string[], rows: string[][]): string[] {
  // Every line has every column: a short row (or header) is padded with blank cells.
  const all = [header, ...rows];
  const columns = Math.max(...all.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const fmt = (cells: string[]) => `|${widths.map((w, i) => ` ${(cells[i] ?? '').padEnd(w)} `).join('|')}|`;
  return [line, fmt(header), line, ...rows.map(fmt), line];
}
