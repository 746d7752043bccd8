/**
 * `calico-net verify`: from inside every workload, ping every other workload.
 *
 * One script per node, the same for every node; what to ping travels as the script's stdin (a
 * 32×4 cluster has 16,256 pairs: as script text or arguments that hits the kernel's argv limit).
 * On the node, every workload enters its namespace once and pings all its targets at once, at
 * most PINGS_IN_FLIGHT_PER_NODE per node at a time, each with a short timeout; a pair that fails
 * is tried once more (the first packet towards a fresh neighbour can be lost while ARP resolves).
 * All nodes work at the same time.
 */
import { RemoteHost } from '../providers/ssh/types';
import { isIpv4, isWorkloadName } from '../rules/checks';
import { table } from './status';

export interface WorkloadTarget {
  node: string;
  /** Workload name = its network namespace on the node. */
  name: string;
  ip: string;
  host: RemoteHost;
}

export interface PingResult {
  from: string;
  to: string;
  ok: boolean;
}

/** Ping processes one node runs at once. */
export const PINGS_IN_FLIGHT_PER_NODE = 64;
/** Seconds each ping waits for its answer; a failed pair is tried once more. */
export const PING_TIMEOUT_SECONDS = 1;
/** Up to this many workloads the text output is a matrix; above, a summary and the failures. */
export const MATRIX_MAX_WORKLOADS = 16;

const label = (w: WorkloadTarget) => `${w.node}/${w.name}`;

/**
 * Reads "W <netns>" lines, each followed by its "<index> <ip>" targets, on stdin; prints
 * "<index> ok|fail" per target. Every workload enters its namespace once and fires its pings
 * as fast as the node's tokens allow: a FIFO holds PINGS_IN_FLIGHT_PER_NODE tokens shared by all
 * workloads of the node, each ping (and its one retry) holds one. So a target that does not
 * answer costs one token for a few seconds instead of stalling a whole workload. The target
 * lines reach each pinger on its stdin: only the (validated) namespace name is an argument.
 */
const PING_SCRIPT = `
set -u
dir=$(mktemp -d) && mkfifo "$dir/tokens" && exec 9<>"$dir/tokens" && rm -rf -- "$dir" || exit 1
printf '%*s' ${PINGS_IN_FLIGHT_PER_NODE} '' >&9
pinger='
  while read -r i ip; do
    read -r -N 1 -u 9 _
    { if ping -c 1 -W ${PING_TIMEOUT_SECONDS} -q "$ip" >/dev/null 2>&1 || ping -c 1 -W ${PING_TIMEOUT_SECONDS} -q "$ip" >/dev/null 2>&1
      then echo "$i ok"; else echo "$i fail"; fi
      printf " " >&9; } &
  done
  wait'
declare -A targets=()
order=()
ns=
while read -r a b; do
  if [[ $a == W ]]; then ns=$b; order+=("$ns"); targets[$ns]=
  else targets[$ns]+="$a $b"$'\\n'
  fi
done
for ns in "\${order[@]}"; do
  printf '%s' "\${targets[$ns]}" | ip netns exec "$ns" bash --norc --noprofile -c "$pinger" &
done
wait
`;

export async function pingMatrix(workloads: WorkloadTarget[]): Promise<PingResult[]> {
  for (const w of workloads) {
    // The same checks the provider applies before these values reach a shell.
    const problem = isIpv4(w.ip) ?? isWorkloadName(w.name);
    if (problem) throw new Error(`workload ${label(w)}: ${problem}`);
  }
  const byNode = new Map<string, WorkloadTarget[]>();
  for (const w of workloads) byNode.set(w.node, [...(byNode.get(w.node) ?? []), w]);
  const perNode = await Promise.all([...byNode.values()].map((local) => pingFromNode(local, workloads)));
  return perNode.flat();
}

async function pingFromNode(local: WorkloadTarget[], all: WorkloadTarget[]): Promise<PingResult[]> {
  const pairs: { from: WorkloadTarget; to: WorkloadTarget }[] = [];
  const input: string[] = [];
  for (const from of local) {
    input.push(`W ${from.name}`);
    for (const to of all) {
      if (to === from) continue;
      input.push(`${pairs.length} ${to.ip}`);
      pairs.push({ from, to });
    }
  }
  if (pairs.length === 0) return [];
  const host = local[0].host;
  const result = await host.run(PING_SCRIPT, { stdin: `${input.join('\n')}\n` });
  const verdicts = new Map<number, boolean>();
  for (const line of result.stdout.split('\n')) {
    const m = /^(\d+) (ok|fail)$/.exec(line.trim());
    if (m) verdicts.set(Number(m[1]), m[2] === 'ok');
  }
  if (verdicts.size !== pairs.length) {
    throw new Error(
      `ping run on ${host.label} answered ${verdicts.size} of ${pairs.length} pairs ` +
        `(exit ${result.code}): ${result.stderr.trim().slice(0, 2000)}`,
    );
  }
  return pairs.map(({ from, to }, i) => ({ from: label(from), to: label(to), ok: verdicts.get(i)! }));
}

/** The text report: a matrix for a few workloads, else a summary and the failing pairs. */
export function renderPingReport(workloads: WorkloadTarget[], results: PingResult[]): string {
  return workloads.length <= MATRIX_MAX_WORKLOADS ? renderPingMatrix(workloads, results) : renderPingSummary(workloads, results);
}

export function renderPingMatrix(workloads: WorkloadTarget[], results: PingResult[]): string {
  const names = workloads.map(label);
  const byPair = new Map(results.map((r) => [`${r.from}\0${r.to}`, r.ok]));
  const cell = (from: string, to: string) => {
    if (from === to) return '-';
    const ok = byPair.get(`${from}\0${to}`);
    return ok === undefined ? '?' : ok ? 'ok' : 'FAIL';
  };
  const rows = names.map((from) => [from, ...names.map((to) => cell(from, to))]);
  const failures = results.filter((r) => !r.ok);
  return [
    ...table(['from \\ to', ...names], rows),
    failures.length === 0
      ? `${results.length}/${results.length} workload pairs answered`
      : `${failures.length} of ${results.length} pairs failed: ` + failures.map((f) => `${f.from} -> ${f.to}`).join(', '),
  ].join('\n');
}

/** At most this many failing pairs are listed one by one (JSON output has them all). */
const LISTED_FAILURES = 200;

export function renderPingSummary(workloads: WorkloadTarget[], results: PingResult[]): string {
  const nodes = new Set(workloads.map((w) => w.node)).size;
  const failures = results.filter((r) => !r.ok);
  const head = `${workloads.length} workloads on ${nodes} nodes: ${results.length - failures.length}/${results.length} workload pairs answered`;
  if (failures.length === 0) return head;
  // Which workloads the failures gather around: a broken workload shows up in both columns.
  const count = (key: 'from' | 'to') => {
    const m = new Map<string, number>();
    for (const f of failures) m.set(f[key], (m.get(f[key]) ?? 0) + 1);
    return m;
  };
  const from = count('from');
  const to = count('to');
  const involved = [...new Set([...from.keys(), ...to.keys()])]
    .map((w) => [w, String(from.get(w) ?? 0), String(to.get(w) ?? 0)])
    .sort((a, b) => Number(b[1]) + Number(b[2]) - (Number(a[1]) + Number(a[2])) || a[0].localeCompare(b[0]));
  const listed = failures.slice(0, LISTED_FAILURES);
  return [
    `${head}; ${failures.length} failed`,
    '',
    ...table(['workload', 'failed as source', 'failed as target'], involved),
    '',
    'failing pairs:',
    ...listed.map((f) => `  ${f.from} -> ${f.to}`),
    ...(failures.length > listed.length ? [`  … and ${failures.length - listed.length} more (--format json lists them all)`] : []),
  ].join('\n');
}
