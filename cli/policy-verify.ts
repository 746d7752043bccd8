/**
 * `calico-net verify` for a cluster with network policy: a truth table, the way Kubernetes'
 * network-policy conformance tools print one. For every ordered pair of workloads and every
 * probe (ICMP echo, and each TCP or UDP port the policies name) the expected verdict comes from
 * the compiled policy model (packetVerdict, the statement of the semantics the rulesets are
 * rendered from); the observed one from the wire: a listener started in each destination's
 * namespace for the run answers TCP connects and UDP datagrams, and each source probes all its
 * cells from its own namespace with one non-blocking prober process, so a pass costs about one
 * probe wait rather than one per cell. It passes only when every cell agrees.
 */
import { packetVerdict, PolicyEndpoint, PolicyModel } from '../constructs/policy-compile';
import { RemoteHost } from '../providers/ssh/types';
import { isIpv4Text } from '../rules/address-family';
import { remoteScript } from '../providers/calico/script';

export interface Probe {
  protocol: 'ICMP' | 'TCP' | 'UDP';
  port?: number;
}

export interface Cell {
  src: string;
  dst: string;
  probe: string;
  expected: 'allow' | 'deny';
  observed?: 'allow' | 'deny';
}

export const probeName = (p: Probe) => (p.port === undefined ? p.protocol : `${p.protocol}/${p.port}`);

/** ICMP, then each TCP and UDP destination port the policies name (a range by its first port). */
export function probesOf(model: PolicyModel, maxPorts = 16): Probe[] {
  const ports = { TCP: new Set<number>(), UDP: new Set<number>() };
  for (const p of model.policies) {
    for (const r of [...p.ingress, ...p.egress]) {
      const proto = r.protocol === 6 ? 'TCP' : r.protocol === 17 ? 'UDP' : undefined;
      if (!proto) continue;
      for (const range of [...(r.destination.ports ?? []), ...(r.destination.notPorts ?? [])])
        ports[proto].add(range.from);
    }
  }
  const sorted = (s: Set<number>) => [...s].sort((a, b) => a - b).slice(0, maxPorts);
  return [
    { protocol: 'ICMP' },
    ...sorted(ports.TCP).map((port) => ({ protocol: 'TCP' as const, port })),
    ...sorted(ports.UDP).map((port) => ({ protocol: 'UDP' as const, port })),
  ];
}

const PROTOCOL = { ICMP: 1, TCP: 6, UDP: 17 } as const;

/**
 * The workloads the truth table covers: those with an IPv4 address, probed over IPv4 (an
 * IPv6-only workload is a policy endpoint of the model, but not a row of the table yet).
 */
export function truthTableEndpoints(model: PolicyModel): PolicyModel['endpoints'] {
  return model.endpoints.filter((e) => isIpv4Text(e.ip));
}

/** Every cell with its expected verdict. */
export function expectedCells(model: PolicyModel, probes: Probe[]): Cell[] {
  const cells: Cell[] = [];
  const endpoints = truthTableEndpoints(model);
  for (const s of endpoints) {
    for (const d of endpoints) {
      if (s === d) continue;
      for (const p of probes) {
        const packet = p.protocol === 'ICMP' ? { icmpType: 8, icmpCode: 0 } : { port: p.port };
        const v = packetVerdict(model, { src: s.ip, dst: d.ip, protocol: PROTOCOL[p.protocol], ...packet });
        cells.push({
          src: s.workload,
          dst: d.workload,
          probe: probeName(p),
          expected: v.action === 'Allow' ? 'allow' : 'deny',
        });
      }
    }
  }
  return cells;
}

/**
 * A TCP listener and UDP echo on the given ports, started in the workload's namespace
 * (templates/scripts/policy-verify-listener.sh); the script prints its pid.
 */
export function listenerScript(netns: string, tcp: number[], udp: number[]): string {
  return hostListenerScript([netns], tcp, udp);
}

/** The listeners of all of a host's namespaces in one script; it prints one pid per namespace, in order. */
export function hostListenerScript(namespaces: string[], tcp: number[], udp: number[]): string {
  return remoteScript(['policy-verify-listener'], {
    sources: namespaces.join(' '),
    tcp: tcp.join(','),
    udp: udp.join(','),
  }).text;
}

/**
 * Sockets one source's prober keeps open at once (TCP and UDP cells; ICMP shares one raw socket
 * per family). The prober lowers it further to the open-file limit it finds on the host, less a
 * margin. A source with more cells than this probes them in a rolling window, still in one
 * process; at 32x4 with ten policies a source has ~640 cells, so it takes one wait.
 */
export const SOCKETS_PER_PROBER = 1000;

/**
 * How long each probe waits for its answer, in seconds: the whole pass costs about this once per
 * window, not once per cell. 2 s leaves room for one SYN retransmit (the kernel resends after 1 s).
 */
export const PROBE_WAIT_SECONDS = 2;

/**
 * Probes every "index protocol ip port" line from the namespace with one process; prints
 * "index allow|deny" (templates/scripts/policy-verify-prober.sh).
 */
export function proberScript(netns: string, lines: string[]): string {
  return hostProberScript([{ netns, lines }]);
}

/**
 * One script for all of a host's probing sources: one prober process per namespace, all at once
 * (the host's scripts run one after another on its shell, so a script per source made each pass
 * cost one probe wait per workload of the host).
 */
export function hostProberScript(
  sources: { netns: string; lines: string[] }[],
  waitSeconds = PROBE_WAIT_SECONDS,
): string {
  return remoteScript(['policy-verify-prober'], {
    sources: sources.map((s) => s.netns).join(' '),
    cells: sources.flatMap((s, k) => s.lines.map((l) => `${k} ${l}`)).join('\n'),
    window: String(SOCKETS_PER_PROBER),
    wait: String(waitSeconds),
  }).text;
}

/** The verdicts in a prober's output ("index allow|deny" lines; anything else is ignored). */
export function proberVerdicts(stdout: string): Map<number, 'allow' | 'deny'> {
  const out = new Map<number, 'allow' | 'deny'>();
  for (const line of stdout.split('\n')) {
    const m = /^(\d{1,9}) (allow|deny)$/.exec(line.trim());
    if (m) out.set(Number(m[1]), m[2] as 'allow' | 'deny');
  }
  return out;
}

export interface VerifyTarget extends PolicyEndpoint {
  host: RemoteHost;
}

/** Where an observation's time went, ms per phase (CALICO_VERIFY_TIMING=1 prints it). */
export interface ObservePhases {
  listeners: number;
  passes: { cells: number; ms: number }[];
  stop: number;
  /** What a prober reported besides verdicts (exit code, stderr), one line per source and pass. */
  problems: string[];
}

/** The targets of each host (one RemoteHost per node), in their order. */
function targetsByHost(targets: VerifyTarget[]): Map<RemoteHost, VerifyTarget[]> {
  const byHost = new Map<RemoteHost, VerifyTarget[]>();
  for (const t of targets) byHost.set(t.host, [...(byHost.get(t.host) ?? []), t]);
  return byHost;
}

/** Runs the probes on the wire and fills each cell's observed verdict. */
export async function observeCells(targets: VerifyTarget[], probes: Probe[], cells: Cell[]): Promise<ObservePhases> {
  const tcp = probes.filter((p) => p.protocol === 'TCP').map((p) => p.port!);
  const udp = probes.filter((p) => p.protocol === 'UDP').map((p) => p.port!);
  const listeners: { host: RemoteHost; pid: string }[] = [];
  const phases: ObservePhases = { listeners: 0, passes: [], stop: 0, problems: [] };
  let t = Date.now();
  try {
    if (tcp.length + udp.length > 0) {
      // All hosts at once, one script each: one after the other cost a round trip per workload
      // (128 at 32x4) before the first probe. Every listener that did start is recorded for the stop.
      const started = await Promise.allSettled(
        [...targetsByHost(targets)].map(async ([host, dsts]) => {
          const r = await host.run(
            hostListenerScript(
              dsts.map((d) => d.workload),
              tcp,
              udp,
            ),
          );
          for (const pid of r.stdout.split('\n').filter((l) => l.trim() !== ''))
            listeners.push({ host, pid: pid.trim() });
          if (r.code !== 0)
            throw new Error(
              `cannot start the listeners on ${dsts[0].node} (${dsts.map((d) => d.workload).join(', ')}): ${r.stderr.trim()}`,
            );
        }),
      );
      const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
      await new Promise((r) => setTimeout(r, 300));
    }
    phases.listeners = Date.now() - t;
    const byName = new Map(targets.map((t) => [t.workload, t]));
    // The sources of each host, probed by one script per host and pass.
    const byHost = targetsByHost(targets);
    // Each source's cells, found once: a scan of all cells per source and pass cost 2 x 128 x
    // 81,280 steps at 32x4 (seconds of a loaded operator, even for an empty second pass).
    const bySource = new Map<string, number[]>();
    cells.forEach((c, i) => {
      const list = bySource.get(c.src);
      if (list) list.push(i);
      else bySource.set(c.src, [i]);
    });
    // A cell that should answer and did not is probed again, up to twice, with twice the wait,
    // before it counts as denied: a host saturated by a whole pass (81,280 probes at 32x4 on 2
    // cores) misses windows, and a retry of the few that did runs on a quiet host; a dropped
    // packet never answers, however often it is sent. A cell expected denied is not: a second
    // silence says nothing new (42,112 of the 81,280 at 32x4 with the bench's policies each wait
    // out the whole probe wait).
    const retried = (c: Cell) => c.expected === 'allow' && c.observed !== 'allow';
    for (const pass of [0, 1, 2]) {
      if (pass === 2 && !cells.some(retried)) break;
      t = Date.now();
      let probed = 0;
      await Promise.all(
        [...byHost].map(async ([host, sources]) => {
          const parts = sources
            .map((src) => ({
              src,
              mine: (bySource.get(src.workload) ?? [])
                .map((i) => ({ c: cells[i], i }))
                .filter(({ c }) => pass === 0 || retried(c)),
            }))
            .filter((p) => p.mine.length > 0);
          if (parts.length === 0) return;
          const lines = parts.map(({ src, mine }) => {
            probed += mine.length;
            return {
              netns: src.workload,
              lines: mine.map(({ c, i }) => {
                const [protocol, port] = c.probe.split('/');
                return `${i} ${protocol} ${byName.get(c.dst)!.ip} ${port ?? 0}`;
              }),
            };
          });
          const r = await host.run(hostProberScript(lines, pass === 0 ? PROBE_WAIT_SECONDS : 2 * PROBE_WAIT_SECONDS));
          // Only this host's cells of this pass take a verdict: a line naming any other index
          // (a garbled or foreign line) changes nothing. A cell left without one stays unobserved,
          // and the run cannot pass; what the probers said goes to the operator.
          const asked = new Set(parts.flatMap(({ mine }) => mine.map(({ i }) => i)));
          for (const [i, v] of proberVerdicts(r.stdout)) if (asked.has(i)) cells[i].observed = v;
          if (r.code !== 0 || r.stderr.trim() !== '')
            phases.problems.push(
              `${parts[0].src.node}: probers exited ${r.code}${r.stderr.trim() ? `: ${r.stderr.trim()}` : ''}`,
            );
        }),
      );
      phases.passes.push({ cells: probed, ms: Date.now() - t });
    }
  } finally {
    t = Date.now();
    const pidsByHost = new Map<RemoteHost, string[]>();
    for (const l of listeners.filter((x) => /^\d+$/.test(x.pid)))
      pidsByHost.set(l.host, [...(pidsByHost.get(l.host) ?? []), l.pid]);
    await Promise.all(
      [...pidsByHost].map(([host, pids]) =>
        host.run(remoteScript(['policy-verify-stop'], { pids: pids.join(' ') }).text).catch(() => undefined),
      ),
    );
    phases.stop = Date.now() - t;
  }
  return phases;
}

/** "verify phases: listeners 1.2 s, pass 1 8.0 s (81280 cells), pass 2 ..., stop 0.4 s". */
export function phasesLine(p: Pick<ObservePhases, 'listeners' | 'passes' | 'stop'>): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const passes = p.passes.map((x, i) => `pass ${i + 1} ${s(x.ms)} (${x.cells} cells)`);
  return `verify phases: ${[`listeners ${s(p.listeners)}`, ...passes, `stop ${s(p.stop)}`].join(', ')}`;
}

/** One matrix per probe: "." allowed, "X" denied, as expected; a mismatch shows both and "!". */
export function renderTruthTable(workloads: string[], probes: Probe[], cells: Cell[]): string {
  const mark = (v: 'allow' | 'deny' | undefined) => (v === 'allow' ? '.' : v === 'deny' ? 'X' : '?');
  const width = Math.max(5, ...workloads.map((w) => w.length)) + 1;
  const pad = (s: string) => s.padEnd(width);
  const out: string[] = [];
  // Cells by source, destination and probe: a search of the list per entry cost 81,280 x 81,280
  // / 2 comparisons at 32x4 with ten policies (minutes), more than the probing itself.
  const key = (src: string, dst: string, probe: string) => JSON.stringify([src, dst, probe]);
  const byKey = new Map(cells.map((c) => [key(c.src, c.dst, c.probe), c]));
  for (const p of probes) {
    const name = probeName(p);
    out.push(
      `${name}  (rows: source, columns: destination; . allowed, X denied; a mismatch shows expected/observed and !)`,
    );
    out.push(pad('') + workloads.map(pad).join(''));
    for (const s of workloads) {
      const row = workloads.map((d) => {
        if (s === d) return pad('-');
        const c = byKey.get(key(s, d, name))!;
        return pad(c.expected === c.observed ? mark(c.expected) : `${mark(c.expected)}/${mark(c.observed)}!`);
      });
      out.push(pad(s) + row.join(''));
    }
    out.push('');
  }
  const bad = cells.filter((c) => c.expected !== c.observed);
  out.push(bad.length === 0 ? `all ${cells.length} cells agree` : `${bad.length} of ${cells.length} cells disagree`);
  return out.join('\n');
}

/** The truth-table run of `calico-net verify`: exit 0 only when every cell agrees. */
export async function policyVerify(
  model: PolicyModel,
  hostOf: (node: string) => RemoteHost,
  format: 'table' | 'json',
): Promise<number> {
  const probes = probesOf(model);
  const cells = expectedCells(model, probes);
  const targets: VerifyTarget[] = truthTableEndpoints(model).map((e) => ({ ...e, host: hostOf(e.node) }));
  const phases = await observeCells(targets, probes, cells);
  if (process.env.CALICO_VERIFY_TIMING === '1') process.stderr.write(`${phasesLine(phases)}\n`);
  for (const p of phases.problems) process.stderr.write(`${p}\n`);
  const ok = cells.every((c) => c.expected === c.observed);
  const workloads = truthTableEndpoints(model).map((e) => e.workload);
  process.stdout.write(
    format === 'json'
      ? `${JSON.stringify({ ok, probes: probes.map(probeName), cells }, null, 2)}\n`
      : `${renderTruthTable(workloads, probes, cells)}\n`,
  );
  return ok ? 0 : 1;
}
