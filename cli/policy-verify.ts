/**
 * `calico-net verify` for a cluster with network policy: a truth table, the way Kubernetes'
 * network-policy conformance tools print one. For every ordered pair of workloads and every
 * probe (ICMP echo, and each TCP or UDP port the policies name) the expected verdict comes from
 * the compiled policy model (packetVerdict, the statement of the semantics the rulesets are
 * rendered from); the observed one from the wire: a listener started in each destination's
 * namespace for the run answers TCP connects and UDP datagrams, and each source probes all its
 * cells from its own namespace with one non-blocking prober process, so a pass costs about one
 * probe wait rather than one per cell. It passes only when every cell agrees. On a cluster with
 * IPv6 the pairs that both have an IPv6 address are probed over IPv6 too (ICMPv6 echo for ICMP),
 * each family its own part of the table, as the ping verify reports them.
 */
import { packetVerdict, PolicyEndpoint, PolicyModel } from '../constructs/policy-compile';
import { ICMP_PROTOCOL_OF_VERSION } from '../constructs/policy-model';
import { RemoteHost } from '../providers/ssh/types';
import { AddressFamily, IPV4, IPV6, isIpv4Text } from '../rules/address-family';
import { remoteScript } from '../providers/calico/script';

export interface Probe {
  protocol: 'ICMP' | 'TCP' | 'UDP';
  port?: number;
}

/** The family a cell is probed in, as the ping verify names it. */
export type FamilyName = AddressFamily['name'];

export interface Cell {
  src: string;
  dst: string;
  probe: string;
  expected: 'allow' | 'deny';
  observed?: 'allow' | 'deny';
  /** The family the pair is probed in (IPv4 unless both ends have an IPv6 address and this is their IPv6 cell). */
  family: FamilyName;
}

/** The truth table's families, in the order they are probed and shown. */
const TABLE_FAMILIES: readonly AddressFamily[] = [IPV4, IPV6];

/** "ICMP", "TCP/5432": a probe's name in IPv4's part (and the JSON's list of probes). */
export const probeName = (p: Probe) => (p.port === undefined ? p.protocol : `${p.protocol}/${p.port}`);

/** The probe's name in a family's part: an IPv6 pair's ICMP probe is "ICMPv6" (echo request, type 128). */
export const probeNameIn = (p: Probe, family: AddressFamily) =>
  p.protocol === 'ICMP' && family === IPV6 ? 'ICMPv6' : probeName(p);

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

/** The echo request each family's ICMP cell sends: ICMP type 8, ICMPv6 type 128 (code 0). */
const ECHO_REQUEST = { 4: 8, 6: 128 } as const;
const PORT_PROTOCOL = { TCP: 6, UDP: 17 } as const;

/** The packet a cell's probe sends, as packetVerdict reads it. */
function probePacket(p: Probe, family: AddressFamily) {
  return p.protocol === 'ICMP'
    ? { protocol: ICMP_PROTOCOL_OF_VERSION[family.version], icmpType: ECHO_REQUEST[family.version], icmpCode: 0 }
    : { protocol: PORT_PROTOCOL[p.protocol], port: p.port };
}

/** A workload's address in the family: its IPv4 one, or its IPv6 one (an IPv6-only workload's `ip` too). */
export function endpointAddress(e: Pick<PolicyEndpoint, 'ip' | 'ipv6'>, family: AddressFamily): string | undefined {
  if (family === IPV6) return e.ipv6;
  return isIpv4Text(e.ip) ? e.ip : undefined;
}

/**
 * The workloads of the truth table's part for a family: those with an address in it (IPv4 by
 * default; a dual-stack workload is a row of both parts, an IPv6-only one of IPv6's only).
 */
export function truthTableEndpoints(model: PolicyModel, family: AddressFamily = IPV4): PolicyModel['endpoints'] {
  return model.endpoints.filter((e) => endpointAddress(e, family) !== undefined);
}

/** The families the table has a part for: those some workload has an address in (as the ping verify shows them). */
export function tableFamilies(model: PolicyModel): AddressFamily[] {
  return TABLE_FAMILIES.filter((f) => truthTableEndpoints(model, f).length > 0);
}

/**
 * Every cell with its expected verdict: all IPv4 pairs first (each source's destinations, each
 * with every probe), then all IPv6 pairs, the expected verdict from the compiled model.
 */
export function expectedCells(model: PolicyModel, probes: Probe[]): Cell[] {
  const cells: Cell[] = [];
  for (const family of tableFamilies(model)) {
    const endpoints = truthTableEndpoints(model, family);
    for (const s of endpoints) {
      for (const d of endpoints) {
        if (s === d) continue;
        const [src, dst] = [endpointAddress(s, family)!, endpointAddress(d, family)!];
        for (const p of probes) {
          const v = packetVerdict(model, { src, dst, ...probePacket(p, family) });
          cells.push({
            src: s.workload,
            dst: d.workload,
            probe: probeNameIn(p, family),
            expected: v.action === 'Allow' ? 'allow' : 'deny',
            family: family.name,
          });
        }
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
  stats = false,
): string {
  return remoteScript(['policy-verify-prober'], {
    sources: sources.map((s) => s.netns).join(' '),
    cells: sources.flatMap((s, k) => s.lines.map((l) => `${k} ${l}`)).join('\n'),
    window: String(SOCKETS_PER_PROBER),
    wait: String(waitSeconds),
    stats: stats ? '1' : '0',
  }).text;
}

/**
 * The "# stats key=value ..." lines of probers (stats=1), summed over them; oversleep_ms (how
 * much longer than asked a prober's wait lasted: a starved process) is the longest.
 */
export function proberStats(stdout: string, into: Record<string, number> = {}): Record<string, number> {
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('# stats ')) continue;
    for (const m of line.slice('# stats '.length).matchAll(/([\w.]+)=(-?\d+)/g)) {
      const v = Number(m[2]);
      into[m[1]] = m[1] === 'oversleep_ms' ? Math.max(into[m[1]] ?? 0, v) : (into[m[1]] ?? 0) + v;
    }
  }
  return into;
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
  passes: PassPhase[];
  stop: number;
  /** What a prober reported besides verdicts (exit code, stderr), one line per source and pass. */
  problems: string[];
}

/** One probe pass: its cells and time, and (with stats) what became of them. */
export interface PassPhase {
  cells: number;
  ms: number;
  /** Cells of this pass expected allowed that did not answer, by probe kind ("TCP", "ICMPv6", "UDP IPv6"). */
  misses?: Record<string, number>;
  /** The same misses by the source's node. */
  missesByNode?: Record<string, number>;
  /** The probers' "# stats" lines, summed (proberStats). */
  stats?: Record<string, number>;
}

/** The targets of each host (one RemoteHost per node), in their order. */
function targetsByHost(targets: VerifyTarget[]): Map<RemoteHost, VerifyTarget[]> {
  const byHost = new Map<RemoteHost, VerifyTarget[]>();
  for (const t of targets) byHost.set(t.host, [...(byHost.get(t.host) ?? []), t]);
  return byHost;
}

/**
 * The prober's line for cell i: "i protocol address port", the destination's address in the
 * cell's family (the prober sends ICMPv6 echo to an IPv6 address, ICMP echo to an IPv4 one).
 */
export function proberLine(i: number, c: Cell, dst: Pick<PolicyEndpoint, 'ip' | 'ipv6'>): string {
  const [name, port] = c.probe.split('/');
  const family = c.family === IPV6.name ? IPV6 : IPV4;
  return `${i} ${name === 'ICMPv6' ? 'ICMP' : name} ${endpointAddress(dst, family)} ${port ?? 0}`;
}

/** Runs the probes on the wire and fills each cell's observed verdict. */
export async function observeCells(
  targets: VerifyTarget[],
  probes: Probe[],
  cells: Cell[],
  opts: { stats?: boolean } = {},
): Promise<ObservePhases> {
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
      if (pass > 0 && !cells.some(retried)) break;
      t = Date.now();
      let probed = 0;
      const stats: Record<string, number> = {};
      const passCells: number[] = [];
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
            for (const { i } of mine) passCells.push(i);
            return {
              netns: src.workload,
              lines: mine.map(({ c, i }) => proberLine(i, c, byName.get(c.dst)!)),
            };
          });
          const r = await host.run(
            hostProberScript(lines, pass === 0 ? PROBE_WAIT_SECONDS : 2 * PROBE_WAIT_SECONDS, opts.stats === true),
          );
          if (opts.stats) proberStats(r.stdout, stats);
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
      const ms = Date.now() - t;
      phases.passes.push(
        opts.stats ? { cells: probed, ms, ...passMisses(passCells, cells, byName), stats } : { cells: probed, ms },
      );
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

/** The cells of a pass expected allowed that did not answer, by probe kind and by the source's node. */
function passMisses(
  passCells: number[],
  cells: Cell[],
  byName: Map<string, VerifyTarget>,
): Pick<PassPhase, 'misses' | 'missesByNode'> {
  const misses: Record<string, number> = {};
  const missesByNode: Record<string, number> = {};
  for (const i of passCells) {
    const c = cells[i];
    if (c.expected !== 'allow' || c.observed === 'allow') continue;
    const kind = c.probe.split('/')[0] + (c.family === IPV6.name && c.probe !== 'ICMPv6' ? ' IPv6' : '');
    misses[kind] = (misses[kind] ?? 0) + 1;
    const node = byName.get(c.src)?.node ?? '?';
    missesByNode[node] = (missesByNode[node] ?? 0) + 1;
  }
  return { misses, missesByNode };
}

/**
 * One line per pass that has stats: "verify pass 1: 12034 expected-allow cells missed (TCP
 * 9000, UDP 3034; most from node5 700, ...); probers: icmp_allow=... late=...".
 */
export function passDetailLines(p: Pick<ObservePhases, 'passes'>): string[] {
  return p.passes.flatMap((x, k) => {
    if (!x.misses || !x.stats) return [];
    const total = Object.values(x.misses).reduce((a, b) => a + b, 0);
    const kinds = Object.entries(x.misses).map(([kind, n]) => `${kind} ${n}`);
    const nodes = Object.entries(x.missesByNode ?? {})
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, 5)
      .map(([node, n]) => `${node} ${n}`);
    const where = total === 0 ? '' : ` (${kinds.join(', ')}; most from ${nodes.join(', ')})`;
    const stats = Object.entries(x.stats).map(([key, v]) => `${key}=${v}`);
    return [`verify pass ${k + 1}: ${total} expected-allow cells missed${where}; probers: ${stats.join(' ')}`];
  });
}

/** "verify phases: listeners 1.2 s, pass 1 8.0 s (81280 cells), pass 2 ..., stop 0.4 s". */
export function phasesLine(p: Pick<ObservePhases, 'listeners' | 'passes' | 'stop'>): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const passes = p.passes.map((x, i) => `pass ${i + 1} ${s(x.ms)} (${x.cells} cells)`);
  return `verify phases: ${[`listeners ${s(p.listeners)}`, ...passes, `stop ${s(p.stop)}`].join(', ')}`;
}

/** One matrix per probe: "." allowed, "X" denied, as expected; a mismatch shows both and "!". */
export function renderTruthTable(
  workloads: string[],
  probes: Probe[],
  cells: Cell[],
  family: AddressFamily = IPV4,
): string {
  const mark = (v: 'allow' | 'deny' | undefined) => (v === 'allow' ? '.' : v === 'deny' ? 'X' : '?');
  const width = Math.max(5, ...workloads.map((w) => w.length)) + 1;
  const pad = (s: string) => s.padEnd(width);
  const out: string[] = [];
  // Cells by source, destination and probe: a search of the list per entry cost 81,280 x 81,280
  // / 2 comparisons at 32x4 with ten policies (minutes), more than the probing itself.
  const key = (src: string, dst: string, probe: string) => JSON.stringify([src, dst, probe]);
  const byKey = new Map(cells.map((c) => [key(c.src, c.dst, c.probe), c]));
  for (const p of probes) {
    const name = probeNameIn(p, family);
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

/**
 * The text report: an IPv4-only cluster's table as it has always read; once a workload has an
 * IPv6 address, one part per family, headed by its name and holding only its workloads and
 * cells (as the ping verify's report).
 */
export function renderTruthTables(model: PolicyModel, probes: Probe[], cells: Cell[]): string {
  const families = tableFamilies(model);
  const part = (f: AddressFamily) =>
    renderTruthTable(
      truthTableEndpoints(model, f).map((e) => e.workload),
      probes,
      cells.filter((c) => c.family === f.name),
      f,
    );
  if (families.length === 1 && families[0] === IPV4) return part(IPV4);
  return families.map((f) => `${f.name}:\n${part(f)}`).join('\n\n');
}

/**
 * The JSON report: `ok`, the probes and every cell; an IPv4-only cluster's as it has always
 * been (cells without a family), else each cell with its family and a tally per family (its
 * probes by their names there, its cells and how many disagree), as the ping verify's JSON.
 */
export function truthTableJson(model: PolicyModel, probes: Probe[], cells: Cell[]): object {
  const ok = cells.every((c) => c.expected === c.observed);
  const families = tableFamilies(model);
  if (families.length === 1 && families[0] === IPV4)
    return { ok, probes: probes.map(probeName), cells: cells.map(({ family: _, ...rest }) => rest) };
  return {
    ok,
    probes: probes.map(probeName),
    families: families.map((f) => {
      const mine = cells.filter((c) => c.family === f.name);
      return {
        family: f.name,
        probes: probes.map((p) => probeNameIn(p, f)),
        cells: mine.length,
        disagree: mine.filter((c) => c.expected !== c.observed).length,
      };
    }),
    cells,
  };
}

/** The truth-table run of `calico-net verify`: exit 0 only when every cell agrees. */
export async function policyVerify(
  model: PolicyModel,
  hostOf: (node: string) => RemoteHost,
  format: 'table' | 'json',
): Promise<number> {
  const probes = probesOf(model);
  const cells = expectedCells(model, probes);
  // Every workload is a row of one family's part at least (an endpoint has an address): a
  // listener and a prober in each, IPv6-only ones included.
  const targets: VerifyTarget[] = model.endpoints.map((e) => ({ ...e, host: hostOf(e.node) }));
  const timing = process.env.CALICO_VERIFY_TIMING === '1';
  const phases = await observeCells(targets, probes, cells, { stats: timing });
  if (timing) process.stderr.write([phasesLine(phases), ...passDetailLines(phases)].map((l) => `${l}\n`).join(''));
  for (const p of phases.problems) process.stderr.write(`${p}\n`);
  const ok = cells.every((c) => c.expected === c.observed);
  process.stdout.write(
    format === 'json'
      ? `${JSON.stringify(truthTableJson(model, probes, cells), null, 2)}\n`
      : `${renderTruthTables(model, probes, cells)}\n`,
  );
  return ok ? 0 : 1;
}
