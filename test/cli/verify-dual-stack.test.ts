/**
 * `calico-net verify` on a dual-stack cluster, in process: which pairs are planned in which
 * family, what each node is sent per family (script and stdin), how the verdicts map back, and
 * the table and JSON reports naming the family. The lab-backed e2e (dual-stack-rr) runs the same
 * code against real namespaces.
 */
import { spawnSync } from 'child_process';
import {
  PingResult,
  pingReportJson,
  pingRun,
  pingScript,
  planPingPairs,
  renderPingReport,
  WorkloadTarget,
} from '../../cli/verify';
import { IPV4, IPV6 } from '../../rules/address-family';
import { RemoteHost, RunOptions } from '../../providers/ssh/types';

interface Canned extends RemoteHost {
  calls: { script: string; stdin: string }[];
}

/** A node that answers every "<index> <address>" line: `fail` for the addresses in `down`. */
function node(label: string, down: string[] = []): Canned {
  const calls: Canned['calls'] = [];
  return {
    label,
    calls,
    async run(script: string, options?: RunOptions) {
      const stdin = options?.stdin ?? '';
      calls.push({ script, stdin });
      const out = stdin
        .split('\n')
        .map((l) => /^(\d+) (\S+)$/.exec(l))
        .filter((m) => m !== null)
        .map((m) => `${m[1]} ${down.includes(m[2]) ? 'fail' : 'ok'}`);
      return { code: 0, stdout: ['F0 0', ...out, 'F1 0', ''].join('\n'), stderr: '' };
    },
  };
}

const familyOfScript = (script: string) => /^IP_FAMILY_FLAG='(-[46])'$/m.exec(script)?.[1];

describe('planPingPairs', () => {
  const h = node('h');
  const dual = (n: string, name: string, k: number): WorkloadTarget => ({
    node: n,
    name,
    ip: `198.19.0.${k}`,
    ipv6: `fd00:198:19::${k}`,
    host: h,
  });

  test('every ordered pair in IPv4, then every ordered pair of workloads that both have IPv6', () => {
    const ws: WorkloadTarget[] = [
      dual('n1', 'a', 2),
      { node: 'n1', name: 'v4only', ip: '198.19.0.3', host: h },
      { node: 'n2', name: 'v6only', ipv6: 'fd00:198:19::4', host: h },
      dual('n2', 'd', 5),
    ];
    const plan = planPingPairs(ws).map((p) => `${p.family.name} ${p.from.name}->${p.to.name} ${p.address}`);
    expect(plan).toEqual([
      'IPv4 a->v4only 198.19.0.3',
      'IPv4 a->d 198.19.0.5',
      'IPv4 v4only->a 198.19.0.2',
      'IPv4 v4only->d 198.19.0.5',
      'IPv4 d->a 198.19.0.2',
      'IPv4 d->v4only 198.19.0.3',
      'IPv6 a->v6only fd00:198:19::4',
      'IPv6 a->d fd00:198:19::5',
      'IPv6 v6only->a fd00:198:19::2',
      'IPv6 v6only->d fd00:198:19::5',
      'IPv6 d->a fd00:198:19::2',
      'IPv6 d->v6only fd00:198:19::4',
    ]);
  });

  test('an IPv4-only cluster plans exactly the IPv4 pairs; an empty address counts as none', () => {
    const ws: WorkloadTarget[] = [
      { node: 'n1', name: 'a', ip: '198.19.0.2', ipv6: '', host: h },
      { node: 'n2', name: 'b', ip: '198.19.0.3', host: h },
    ];
    expect(planPingPairs(ws).map((p) => [p.family, p.from.name, p.to.name])).toEqual([
      [IPV4, 'a', 'b'],
      [IPV4, 'b', 'a'],
    ]);
    // Three workloads, one of them without IPv6: 6 IPv4 pairs, 2 IPv6 pairs.
    const three = [dual('n1', 'a', 2), dual('n2', 'b', 3), { node: 'n3', name: 'c', ip: '198.19.0.4', host: h }];
    const plan = planPingPairs(three);
    expect(plan.filter((p) => p.family === IPV4)).toHaveLength(6);
    expect(plan.filter((p) => p.family === IPV6)).toHaveLength(2);
  });
});

describe('pingRun on a dual-stack cluster', () => {
  test('one run per node and family, the family in the script, the targets on stdin; results name the family', async () => {
    const h1 = node('h1', ['fd00:198:19:2::2']);
    const h2 = node('h2');
    const ws: WorkloadTarget[] = [
      { node: 'n1', name: 'a', ip: '198.19.1.2', ipv6: 'fd00:198:19:1::2', host: h1 },
      { node: 'n2', name: 'b', ip: '198.19.2.2', ipv6: 'fd00:198:19:2::2', host: h2 },
      { node: 'n2', name: 'c', ipv6: 'fd00:198:19:2::3', host: h2 },
    ];
    const run = await pingRun(ws);
    expect(h1.calls.map((c) => [familyOfScript(c.script), c.stdin])).toEqual([
      ['-4', 'W a\n0 198.19.2.2\n'],
      ['-6', 'W a\n0 fd00:198:19:2::2\n1 fd00:198:19:2::3\n'],
    ]);
    // The IPv4-only run gets no line for the IPv6-only workload c; c appears in the IPv6 run.
    expect(h2.calls.map((c) => [familyOfScript(c.script), c.stdin])).toEqual([
      ['-4', 'W b\n0 198.19.1.2\n'],
      ['-6', 'W b\n0 fd00:198:19:1::2\n1 fd00:198:19:2::3\nW c\n2 fd00:198:19:1::2\n3 fd00:198:19:2::2\n'],
    ]);
    // The neighbour table each family reads: ARP's for IPv4, NDP's for IPv6.
    expect(h1.calls.map((c) => /^neigh_table='(\w+)'$/m.exec(c.script)?.[1])).toEqual(['arp_cache', 'ndisc_cache']);
    expect(run.results).toEqual<PingResult[]>([
      { from: 'n1/a', to: 'n2/b', family: 'IPv4', ok: true },
      { from: 'n2/b', to: 'n1/a', family: 'IPv4', ok: true },
      { from: 'n1/a', to: 'n2/b', family: 'IPv6', ok: false },
      { from: 'n1/a', to: 'n2/c', family: 'IPv6', ok: true },
      { from: 'n2/b', to: 'n1/a', family: 'IPv6', ok: true },
      { from: 'n2/b', to: 'n2/c', family: 'IPv6', ok: true },
      { from: 'n2/c', to: 'n1/a', family: 'IPv6', ok: true },
      { from: 'n2/c', to: 'n2/b', family: 'IPv6', ok: true },
    ]);
    expect(run.warnings).toEqual([]);
  });

  test('IPv6 addresses are checked before anything reaches a shell; a workload needs one address at least', async () => {
    const h = node('h');
    const base = { node: 'n', name: 'a', host: h };
    await expect(pingRun([{ ...base, ipv6: 'fd00::1; reboot' }])).rejects.toThrow(
      new Error('workload n/a: "fd00::1; reboot" is not an IPv6 address'),
    );
    await expect(pingRun([{ ...base, ipv6: 'FD00::1' }])).rejects.toThrow(/not in canonical form.*write fd00::1/);
    await expect(pingRun([{ ...base, ip: '', ipv6: '' }])).rejects.toThrow(
      new Error('workload n/a: has no IPv4 or IPv6 address'),
    );
    expect(h.calls).toEqual([]);
  });

  test('a full NDP table is named with the IPv6 sysctl, apart from the ARP warning', async () => {
    const host: RemoteHost = {
      label: 'h',
      async run(script, options) {
        const v6 = familyOfScript(script) === '-6';
        const lines = (options?.stdin ?? '').split('\n').filter((l) => /^\d+ /.test(l));
        const out = lines.map((l) => `${l.split(' ')[0]} ${v6 ? 'fail' : 'ok'}`);
        return { code: 0, stdout: [v6 ? 'F0 1' : 'F0 0', ...out, v6 ? 'F1 3' : 'F1 0'].join('\n'), stderr: '' };
      },
    };
    const run = await pingRun([
      { node: 'n1', name: 'a', ip: '198.19.1.2', ipv6: 'fd00:198:19:1::2', host },
      { node: 'n2', name: 'b', ip: '198.19.2.2', ipv6: 'fd00:198:19:2::2', host },
    ]);
    expect(run.warnings).toEqual([
      "the kernel's NDP (neighbour) table was full during the pings (n1 2x, n2 2x); packets to unresolved " +
        'neighbours were dropped, which can explain failed pairs (raise net.ipv6.neigh.default.gc_thresh3, or find what fills the table)',
    ]);
  });
});

describe('reports', () => {
  const h = node('h');
  const ws: WorkloadTarget[] = [
    { node: 'n1', name: 'a', ip: '198.19.1.2', ipv6: 'fd00:198:19:1::2', host: h },
    { node: 'n2', name: 'b', ip: '198.19.2.2', ipv6: 'fd00:198:19:2::2', host: h },
    { node: 'n2', name: 'c', ipv6: 'fd00:198:19:2::3', host: h },
  ];
  const r = (from: string, to: string, family: 'IPv4' | 'IPv6', ok = true): PingResult => ({ from, to, family, ok });
  const results = [
    r('n1/a', 'n2/b', 'IPv4'),
    r('n2/b', 'n1/a', 'IPv4'),
    r('n1/a', 'n2/b', 'IPv6', false),
    r('n1/a', 'n2/c', 'IPv6'),
    r('n2/b', 'n1/a', 'IPv6'),
    r('n2/b', 'n2/c', 'IPv6'),
    r('n2/c', 'n1/a', 'IPv6'),
    r('n2/c', 'n2/b', 'IPv6'),
  ];

  test('the table: one part per family, headed by its name, holding only its workloads', () => {
    expect(renderPingReport(ws, results).split('\n')).toEqual([
      'IPv4:',
      '+-----------+------+------+',
      '| from \\ to | n1/a | n2/b |',
      '+-----------+------+------+',
      '| n1/a      | -    | ok   |',
      '| n2/b      | ok   | -    |',
      '+-----------+------+------+',
      '2/2 workload pairs answered',
      '',
      'IPv6:',
      '+-----------+------+------+------+',
      '| from \\ to | n1/a | n2/b | n2/c |',
      '+-----------+------+------+------+',
      '| n1/a      | -    | FAIL | ok   |',
      '| n2/b      | ok   | -    | ok   |',
      '| n2/c      | ok   | ok   | -    |',
      '+-----------+------+------+------+',
      '1 of 6 pairs failed: n1/a -> n2/b',
    ]);
  });

  test('an IPv4-only cluster reads as before (no family heading); an IPv6-only one is headed IPv6', () => {
    const v4 = ws.slice(0, 2).map((w) => ({ ...w, ipv6: undefined }));
    const text = renderPingReport(v4, results.slice(0, 2));
    expect(text).not.toMatch(/IPv/);
    expect(text.split('\n').pop()).toBe('2/2 workload pairs answered');
    const v6 = ws.map((w) => ({ ...w, ip: undefined }));
    const only6 = renderPingReport(v6, results.slice(2));
    expect(only6.split('\n')[0]).toBe('IPv6:');
    expect(only6).not.toMatch(/IPv4/);
  });

  test('JSON: ok, a tally per family, every pair with its family', () => {
    const json = JSON.parse(JSON.stringify(pingReportJson({ results, warnings: [] })));
    expect(json).toEqual({
      ok: false,
      families: [
        { family: 'IPv4', pairs: 2, failed: 0 },
        { family: 'IPv6', pairs: 6, failed: 1 },
      ],
      results,
      warnings: [],
    });
    expect(pingReportJson({ results: results.slice(0, 2), warnings: ['w'] }, { n1: 'lab-r1' })).toEqual({
      ok: true,
      families: [{ family: 'IPv4', pairs: 2, failed: 0 }],
      results: results.slice(0, 2),
      warnings: ['w'],
      shards: { n1: 'lab-r1' },
    });
  });
});

test('the node script runs here with no workloads: it parses, reads the neighbour counters, pings nothing', () => {
  for (const family of [IPV4, IPV6]) {
    const r = spawnSync('bash', ['--norc', '--noprofile', '-c', pingScript(family)], { input: '', encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // The counters are numbers where `ip ntable` works, empty where it does not; no verdict lines.
    expect(r.stdout).toMatch(/^F0 \d*\nF1 \d*\n$/);
  }
});
