/**
 * `calico-net verify`: from inside every workload, ping every other workload, in each address
 * family the two share (an IPv4 pair, and an IPv6 pair when both have an IPv6 address: a
 * dual-stack cluster is checked twice, an IPv6-only workload only over IPv6).
 *
 * One script per node and family (templates/scripts/verify-ping.sh), the same for every node;
 * what to ping travels as the script's stdin (a 32×4 cluster has 16,256 pairs: as script text or
 * arguments that hits the kernel's argv limit). On the node, every workload enters its namespace
 * once and pings all its targets at once: one small Perl program per workload sends every ICMP
 * (ICMPv6) echo request from one raw socket and collects the replies, so a workload costs one
 * process, not one per pair (16,256 ping processes were ~30 s of CPU on a 2-core machine). A pair
 * that does not answer within PING_TIMEOUT_SECONDS is tried once more (the first packets towards
 * a fresh neighbour can be dropped while ARP or NDP resolves). Hosts without perl (or without a
 * raw socket) fall back to one `ping` per pair, at most PINGS_IN_FLIGHT_PER_NODE at a time. All
 * nodes work at the same time.
 *
 * The script also reads the kernel's neighbour table overflow counter (ARP's, NDP's) before and
 * after: a full neighbour table drops packets, and a verify that fails because of it says so.
 */
import { remoteScript, scriptFamilyOf } from '../providers/calico/script';
import { RemoteHost } from '../providers/ssh/types';
import { AddressFamily, IPV4, IPV6 } from '../rules/address-family';
import { ipv4Problem, ipv6Problem, workloadNameProblem } from '../rules/checks';
import { table } from './status';

export interface WorkloadTarget {
  node: string;
  /** Workload name = its network namespace on the node. */
  name: string;
  /** Its IPv4 address; absent (or empty) for an IPv6-only workload. */
  ip?: string;
  /** Its IPv6 address, when it has one (dual-stack or IPv6-only). */
  ipv6?: string;
  host: RemoteHost;
}

/** The family a pair was pinged in, as the table and the JSON name it. */
export type FamilyName = AddressFamily['name'];

export interface PingResult {
  from: string;
  to: string;
  family: FamilyName;
  ok: boolean;
}

export interface PingRun {
  results: PingResult[];
  /** Problems on the nodes that may explain failed pairs, one line each (empty when none). */
  warnings: string[];
}

/** `auto`: the one-process-per-workload pinger where perl and raw sockets work, else `ping`. */
export type Pinger = 'auto' | 'ping';

/** Ping processes one node runs at once (the `ping` fallback). */
export const PINGS_IN_FLIGHT_PER_NODE = 64;
/** Seconds to wait for an answer per try; a failed pair is tried once more. */
export const PING_TIMEOUT_SECONDS = 1;
/** Up to this many workloads the text output is a matrix; above, a summary and the failures. */
export const MATRIX_MAX_WORKLOADS = 16;
/** Nodes named one by one in the neighbour-table warning. */
const MAX_NAMED_NODES = 5;
/** The families verify pings in, in the order they are run and shown. */
const PING_FAMILIES: readonly AddressFamily[] = [IPV4, IPV6];

const label = (w: WorkloadTarget) => `${w.node}/${w.name}`;

/** The workload's address in the family, or undefined when it has none there. */
export function addressIn(w: Pick<WorkloadTarget, 'ip' | 'ipv6'>, family: AddressFamily): string | undefined {
  const address = family === IPV4 ? w.ip : w.ipv6;
  return address === undefined || address === '' ? undefined : address;
}

/** One ordered pair to ping: from inside `from`'s namespace, to `to`'s address in `family`. */
export interface PingPair {
  from: WorkloadTarget;
  to: WorkloadTarget;
  family: AddressFamily;
  /** `to`'s address in the family. */
  address: string;
}

/**
 * Every ordered pair of distinct workloads that both have an address in a family, per family:
 * all IPv4 pairs first, then all IPv6 pairs, each in the workloads' order.
 */
export function planPingPairs(workloads: readonly WorkloadTarget[]): PingPair[] {
  return PING_FAMILIES.flatMap((family) => {
    const members = workloads.filter((w) => addressIn(w, family) !== undefined);
    return members.flatMap((from) =>
      members.filter((to) => to !== from).map((to) => ({ from, to, family, address: addressIn(to, family)! })),
    );
  });
}

/** What is wrong with a workload before any of its values reach a shell, or null. */
export function pingTargetProblem(w: WorkloadTarget): string | null {
  if (addressIn(w, IPV4) === undefined && addressIn(w, IPV6) === undefined) return 'has no IPv4 or IPv6 address';
  return (
    (addressIn(w, IPV4) === undefined ? null : ipv4Problem(w.ip!)) ??
    (addressIn(w, IPV6) === undefined ? null : ipv6Problem(w.ipv6!)) ??
    workloadNameProblem(w.name)
  );
}

export async function pingMatrix(workloads: WorkloadTarget[], opts: { pinger?: Pinger } = {}): Promise<PingResult[]> {
  return (await pingRun(workloads, opts)).results;
}

export async function pingRun(workloads: WorkloadTarget[], opts: { pinger?: Pinger } = {}): Promise<PingRun> {
  for (const w of workloads) {
    // The same checks the provider applies before these values reach a shell.
    const problem = pingTargetProblem(w);
    if (problem) throw new Error(`workload ${label(w)}: ${problem}`);
  }
  const pairs = planPingPairs(workloads);
  // One run per node and family, all at once; IPv4's results first, each family in node order.
  const runs = PING_FAMILIES.flatMap((family) => {
    const byNode = new Map<string, { local: WorkloadTarget[]; pairs: PingPair[] }>();
    for (const w of workloads) {
      if (addressIn(w, family) === undefined) continue;
      const entry = byNode.get(w.node) ?? { local: [], pairs: [] };
      entry.local.push(w);
      byNode.set(w.node, entry);
    }
    for (const p of pairs) if (p.family === family) byNode.get(p.from.node)!.pairs.push(p);
    return [...byNode.values()].map((n) => ({
      family,
      run: pingFromNode(n.local, n.pairs, family, opts.pinger ?? 'auto'),
    }));
  });
  const perRun = await Promise.all(runs.map(async (r) => ({ family: r.family, ...(await r.run) })));
  const results = perRun.flatMap((n) => n.results);
  return {
    results,
    warnings: PING_FAMILIES.flatMap((f) =>
      neighbourTableWarning(
        f,
        perRun.filter((n) => n.family === f),
      ),
    ),
  };
}

/** One line however many nodes (nodes sharing a kernel, as in the lab, all see the same count). */
function neighbourTableWarning(
  family: AddressFamily,
  runs: { node: string; results: PingResult[]; tableFulls: number }[],
): string[] {
  const failed = runs.some((n) => n.results.some((r) => !r.ok));
  const full = runs.filter((n) => n.tableFulls > 0);
  if (full.length === 0) return [];
  const named = full.slice(0, MAX_NAMED_NODES).map((n) => `${n.node} ${n.tableFulls}x`);
  const more = full.length > named.length ? `, and ${full.length - named.length} more nodes` : '';
  const sysctl = `${family.sysctlDir.slice('/proc/sys/'.length).replace(/\//g, '.')}.neigh.default.gc_thresh3`;
  return [
    `the kernel's ${family.neighbourProtocol} (neighbour) table was full during the pings (${named.join(', ')}${more}); packets to ` +
      `unresolved neighbours were dropped${failed ? ', which can explain failed pairs' : ''} ` +
      `(raise ${sysctl}, or find what fills the table)`,
  ];
}

/** The script one node runs for one family; its values travel as quoted variables. */
export function pingScript(family: AddressFamily): string {
  return remoteScript(
    ['verify-ping'],
    {
      timeout: String(PING_TIMEOUT_SECONDS),
      pings_in_flight: String(PINGS_IN_FLIGHT_PER_NODE),
      neigh_table: family.neighbourTable,
    },
    scriptFamilyOf(family),
  ).text;
}

async function pingFromNode(
  local: WorkloadTarget[],
  pairs: PingPair[],
  family: AddressFamily,
  pinger: Pinger,
): Promise<{ node: string; results: PingResult[]; tableFulls: number }> {
  const node = local[0].node;
  if (pairs.length === 0) return { node, results: [], tableFulls: 0 };
  // "W <netns>" for each local workload, then its targets numbered in `pairs`' order.
  const input: string[] = pinger === 'ping' ? ['P ping'] : [];
  const index = new Map(pairs.map((p, i) => [p, i]));
  for (const from of local) {
    input.push(`W ${from.name}`);
    for (const p of pairs) if (p.from === from) input.push(`${index.get(p)} ${p.address}`);
  }
  const host = local[0].host;
  const result = await host.run(pingScript(family), { stdin: `${input.join('\n')}\n` });
  const verdicts = new Map<number, boolean>();
  const fulls: Record<string, number> = {};
  for (const line of result.stdout.split('\n')) {
    const m = /^(\d+) (ok|fail)$/.exec(line.trim());
    if (m) verdicts.set(Number(m[1]), m[2] === 'ok');
    const f = /^(F[01]) (\d+)$/.exec(line.trim());
    if (f) fulls[f[1]] = Number(f[2]);
  }
  if (![...pairs.keys()].every((i) => verdicts.has(i))) {
    const answered = [...pairs.keys()].filter((i) => verdicts.has(i)).length;
    throw new Error(
      `${family === IPV4 ? '' : `${family.name} `}ping run on ${host.label} answered ${answered} of ${pairs.length} pairs ` +
        `(exit ${result.code}): ${result.stderr.trim().slice(0, 2000)}`,
    );
  }
  // Without `ip ntable` the counter is unknown: no warning rather than a guess.
  const tableFulls = fulls.F0 !== undefined && fulls.F1 !== undefined ? Math.max(0, fulls.F1 - fulls.F0) : 0;
  return {
    node,
    results: pairs.map((p, i) => ({ from: label(p.from), to: label(p.to), family: family.name, ok: verdicts.get(i)! })),
    tableFulls,
  };
}

/**
 * The text report: per family, a matrix for a few workloads, else a summary and the failing
 * pairs. An IPv4-only cluster reads as it always has; once a workload has an IPv6 address each
 * family gets its own part, headed by the family's name and holding only its workloads.
 */
export function renderPingReport(workloads: WorkloadTarget[], results: PingResult[]): string {
  const shown = PING_FAMILIES.filter(
    (f) => workloads.some((w) => addressIn(w, f) !== undefined) || results.some((r) => r.family === f.name),
  );
  if (shown.length === 0 || (shown.length === 1 && shown[0] === IPV4)) return renderOneFamily(workloads, results);
  return shown
    .map(
      (f) =>
        `${f.name}:\n` +
        renderOneFamily(
          workloads.filter((w) => addressIn(w, f) !== undefined),
          results.filter((r) => r.family === f.name),
        ),
    )
    .join('\n\n');
}

function renderOneFamily(workloads: WorkloadTarget[], results: PingResult[]): string {
  return workloads.length <= MATRIX_MAX_WORKLOADS
    ? renderPingMatrix(workloads, results)
    : renderPingSummary(workloads, results);
}

/** Pairs pinged and failed in one family (JSON output). */
export interface FamilyTally {
  family: FamilyName;
  pairs: number;
  failed: number;
}

/**
 * The JSON report: `ok`, a tally per family pinged, every pair with its family, the warnings,
 * and on a sharded cluster which stack holds each node.
 */
export function pingReportJson(run: PingRun, shards?: Record<string, string>): object {
  const families: FamilyTally[] = PING_FAMILIES.filter((f) => run.results.some((r) => r.family === f.name)).map((f) => {
    const mine = run.results.filter((r) => r.family === f.name);
    return { family: f.name, pairs: mine.length, failed: mine.filter((r) => !r.ok).length };
  });
  return {
    ok: run.results.every((r) => r.ok),
    families,
    results: run.results,
    warnings: run.warnings,
    ...(shards && Object.keys(shards).length > 0 ? { shards } : {}),
  };
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
      : `${failures.length} of ${results.length} pairs failed: ` +
        failures.map((f) => `${f.from} -> ${f.to}`).join(', '),
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
    ...(failures.length > listed.length
      ? [`  … and ${failures.length - listed.length} more (--format json lists them all)`]
      : []),
  ].join('\n');
}
