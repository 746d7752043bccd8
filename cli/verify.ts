/**
 * `calico-net verify`: from inside every workload, ping every other workload, and print the
 * matrix. One SSH round trip per node: the node pings from all its workloads in parallel.
 */
import { RemoteHost } from '../providers/ssh/types';
import { shQuote } from '../providers/ssh/quote';
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

const label = (w: WorkloadTarget) => `${w.node}/${w.name}`;

export async function pingMatrix(workloads: WorkloadTarget[], attempts = 3): Promise<PingResult[]> {
  for (const w of workloads) {
    // The same checks the provider applies before these values reach a shell.
    const problem = isIpv4(w.ip) ?? isWorkloadName(w.name);
    if (problem) throw new Error(`workload ${label(w)}: ${problem}`);
  }
  const byNode = new Map<string, WorkloadTarget[]>();
  for (const w of workloads) byNode.set(w.node, [...(byNode.get(w.node) ?? []), w]);

  const perNode = await Promise.all(
    [...byNode.values()].map((local) => pingFromNode(local, workloads, attempts)),
  );
  return perNode.flat();
}

async function pingFromNode(
  local: WorkloadTarget[],
  all: WorkloadTarget[],
  attempts: number,
): Promise<PingResult[]> {
  const pairs = local.flatMap((from) => all.filter((to) => to !== from).map((to) => ({ from, to })));
  if (pairs.length === 0) return [];
  // Each pair is an independent background job. The first ARP exchange can cost one lost probe,
  // so a pair passes when any of `attempts` probes is answered (iputils ping exits 0 then).
  const jobs = pairs.map(
    ({ from, to }, i) =>
      `( if ip netns exec ${shQuote(from.name)} ping -c ${attempts} -i 0.2 -W 1 -q ${shQuote(to.ip)} ` +
      `>/dev/null 2>&1; then echo "${i} ok"; else echo "${i} fail"; fi ) &`,
  );
  const host = local[0].host;
  const result = await host.run(`${jobs.join('\n')}\nwait\n`);
  const verdicts = new Map<number, boolean>();
  for (const line of result.stdout.split('\n')) {
    const m = /^(\d+) (ok|fail)$/.exec(line.trim());
    if (m) verdicts.set(Number(m[1]), m[2] === 'ok');
  }
  if (verdicts.size !== pairs.length) {
    throw new Error(
      `ping run on ${host.label} answered ${verdicts.size} of ${pairs.length} pairs ` +
        `(exit ${result.code}): ${result.stderr.trim()}`,
    );
  }
  return pairs.map(({ from, to }, i) => ({ from: label(from), to: label(to), ok: verdicts.get(i)! }));
}

export function renderPingMatrix(workloads: WorkloadTarget[], results: PingResult[]): string {
  const names = workloads.map(label);
  const cell = (from: string, to: string) => {
    if (from === to) return '-';
    const r = results.find((x) => x.from === from && x.to === to);
    return r ? (r.ok ? 'ok' : 'FAIL') : '?';
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
