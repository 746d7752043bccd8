/**
 * `calico-net status`: every node's BGP sessions as `calicoctl node status` shows them, read from
 * BIRD's control socket over SSH (one round trip per node, all nodes in parallel).
 */
import { RemoteHost } from '../providers/ssh/types';
import { shQuote } from '../providers/ssh/quote';
import { BgpSessionRow, parseBirdProtocols } from './bird-protocols';

export interface NodeStatusTarget {
  name: string;
  host: RemoteHost;
  socketPath: string;
  /** BIRD protocol names this node must have Established (from the cluster topology). */
  expectedProtocols: string[];
  /** The shard stack holding the node (sharded clusters only). */
  shard?: string;
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
}

export async function collectStatus(targets: NodeStatusTarget[]): Promise<NodeStatus[]> {
  return Promise.all(targets.map(statusOfNode));
}

async function statusOfNode(target: NodeStatusTarget): Promise<NodeStatus> {
  try {
    const result = await target.host.run(`birdc -s ${shQuote(target.socketPath)} show protocols`);
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
    return { node: target.name, ...shardOf(target), sessions, problems };
  } catch (err) {
    return failed(target, (err as Error).message);
  }
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
  for (const status of statuses) {
    out.push(`Node ${status.node}${status.shard === undefined ? '' : ` (shard ${status.shard})`}:`);
    if (status.error) {
      out.push(`  ERROR: ${status.error}`, '');
      continue;
    }
    const rows = status.sessions.map((s) => [s.peerAddress, s.peerType, s.state, s.since, s.info]);
    out.push(...table(['PEER ADDRESS', 'PEER TYPE', 'STATE', 'SINCE', 'INFO'], rows).map((l) => `  ${l}`));
    for (const problem of status.problems) out.push(`  PROBLEM: ${problem}`);
    out.push('');
    established += status.sessions.filter((s) => s.established).length;
    total += status.sessions.length;
  }
  const unhealthy = statuses.filter((s) => s.problems.length > 0).map((s) => s.node);
  out.push(
    `${established}/${total} BGP sessions Established on ${statuses.length} nodes` +
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
