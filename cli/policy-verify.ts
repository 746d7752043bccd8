/**
 * `calico-net verify` for a cluster with network policy: a truth table, the way Kubernetes'
 * network-policy conformance tools print one. For every ordered pair of workloads and every
 * probe (ICMP echo, and each TCP or UDP port the policies name) the expected verdict comes from
 * the compiled policy model (packetVerdict, the statement of the semantics the rulesets are
 * rendered from); the observed one from the wire: a listener started in each destination's
 * namespace for the run answers TCP connects and UDP datagrams, and each source probes all its
 * cells at once from its own namespace. It passes only when every cell agrees.
 */
import { packetVerdict, PolicyEndpoint, PolicyModel } from '../constructs/policy-compile';
import { RemoteHost } from '../providers/ssh/types';
import { isIpv4Text } from '../rules/address-family';
import { remoteScript, scriptBody } from '../providers/calico/script';

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
  return remoteScript(['policy-verify-listener'], { netns, tcp: tcp.join(','), udp: udp.join(',') }).text;
}

/**
 * Probes in flight at once from one source workload. Without a bound a 32x4 cluster with ten
 * policies started tens of thousands of processes at once (load average ~1,600 on a 2-core lab
 * machine); a real host has its own cores, but a verify must not swamp the node it checks either.
 */
export const PROBES_IN_FLIGHT = 32;

/**
 * The prober's bash (templates/scripts/lib/probe.sh): runs each cell's probe in the background,
 * at most $max at a time, reading $cells, $max and $udp_probe from its environment.
 */
export const PROBER_BODY = `${scriptBody(['lib/probe']).body}\nprobe_cells`;

/**
 * Probes every "index protocol ip port" line from the namespace; prints "index allow|deny"
 * (templates/scripts/policy-verify-prober.sh).
 */
export function proberScript(netns: string, lines: string[]): string {
  return remoteScript(['policy-verify-prober'], { netns, cells: lines.join('\n'), max: String(PROBES_IN_FLIGHT) }).text;
}

export interface VerifyTarget extends PolicyEndpoint {
  host: RemoteHost;
}

/** Where an observation's time went, ms per phase (CALICO_VERIFY_TIMING=1 prints it). */
export interface ObservePhases {
  listeners: number;
  passes: { cells: number; ms: number }[];
  stop: number;
}

/** Runs the probes on the wire and fills each cell's observed verdict. */
export async function observeCells(targets: VerifyTarget[], probes: Probe[], cells: Cell[]): Promise<ObservePhases> {
  const tcp = probes.filter((p) => p.protocol === 'TCP').map((p) => p.port!);
  const udp = probes.filter((p) => p.protocol === 'UDP').map((p) => p.port!);
  const listeners: { host: RemoteHost; pid: string }[] = [];
  const phases: ObservePhases = { listeners: 0, passes: [], stop: 0 };
  let t = Date.now();
  try {
    if (tcp.length + udp.length > 0) {
      // All destinations at once: one after the other cost a round trip per workload (128 at
      // 32x4) before the first probe. Every listener that did start is recorded for the stop.
      const started = await Promise.allSettled(
        targets.map(async (dst) => {
          const r = await dst.host.run(listenerScript(dst.workload, tcp, udp));
          if (r.code !== 0)
            throw new Error(`cannot start a listener in ${dst.node}/${dst.workload}: ${r.stderr.trim()}`);
          listeners.push({ host: dst.host, pid: r.stdout.trim() });
        }),
      );
      const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
      await new Promise((r) => setTimeout(r, 300));
    }
    phases.listeners = Date.now() - t;
    const byName = new Map(targets.map((t) => [t.workload, t]));
    // A cell that should answer and did not is probed once more before it counts as denied (a
    // loaded host can miss a 1-2 s window; a dropped packet never answers, however often it is
    // sent). A cell expected denied is not: a second silence says nothing new, and those cells
    // wait out their whole timeout (42,112 of the 81,280 at 32x4 with the bench's policies).
    for (const pass of [0, 1]) {
      t = Date.now();
      let probed = 0;
      await Promise.all(
        targets.map(async (src) => {
          const mine = cells
            .map((c, i) => ({ c, i }))
            .filter(
              ({ c }) => c.src === src.workload && (pass === 0 || (c.expected === 'allow' && c.observed !== 'allow')),
            );
          if (mine.length === 0) return;
          probed += mine.length;
          const lines = mine.map(({ c, i }) => {
            const [protocol, port] = c.probe.split('/');
            return `${i} ${protocol} ${byName.get(c.dst)!.ip} ${port ?? 0}`;
          });
          const r = await src.host.run(proberScript(src.workload, lines));
          for (const line of r.stdout.split('\n')) {
            const m = /^(\d+) (allow|deny)$/.exec(line.trim());
            if (m) cells[Number(m[1])].observed = m[2] as 'allow' | 'deny';
          }
        }),
      );
      phases.passes.push({ cells: probed, ms: Date.now() - t });
    }
  } finally {
    t = Date.now();
    await Promise.all(
      listeners
        .filter((l) => /^\d+$/.test(l.pid))
        .map((l) => l.host.run(remoteScript(['policy-verify-stop'], { pid: l.pid }).text).catch(() => undefined)),
    );
    phases.stop = Date.now() - t;
  }
  return phases;
}

/** "verify phases: listeners 1.2 s, pass 1 8.0 s (81280 cells), pass 2 ..., stop 0.4 s". */
export function phasesLine(p: ObservePhases): string {
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
  for (const p of probes) {
    const name = probeName(p);
    out.push(
      `${name}  (rows: source, columns: destination; . allowed, X denied; a mismatch shows expected/observed and !)`,
    );
    out.push(pad('') + workloads.map(pad).join(''));
    for (const s of workloads) {
      const row = workloads.map((d) => {
        if (s === d) return pad('-');
        const c = cells.find((x) => x.src === s && x.dst === d && x.probe === name)!;
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
  const ok = cells.every((c) => c.expected === c.observed);
  const workloads = truthTableEndpoints(model).map((e) => e.workload);
  process.stdout.write(
    format === 'json'
      ? `${JSON.stringify({ ok, probes: probes.map(probeName), cells }, null, 2)}\n`
      : `${renderTruthTable(workloads, probes, cells)}\n`,
  );
  return ok ? 0 : 1;
}
