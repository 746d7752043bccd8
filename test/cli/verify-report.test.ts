/** `calico-net verify`'s text report: a matrix for a few workloads, a summary for many. */
import { MATRIX_MAX_WORKLOADS, PingResult, pingRun, renderPingReport, WorkloadTarget } from '../../cli/verify';

const host = { label: 'unused', run: () => Promise.reject(new Error('not used')) };

function cluster(workloads: number): WorkloadTarget[] {
  return Array.from({ length: workloads }, (_, i) => ({
    node: `node${(i % 4) + 1}`,
    name: `wl${i}`,
    ip: `198.19.${(i % 4) + 1}.${i + 2}`,
    host,
  }));
}

function results(ws: WorkloadTarget[], broken?: string): PingResult[] {
  const label = (w: WorkloadTarget) => `${w.node}/${w.name}`;
  return ws.flatMap((from) =>
    ws
      .filter((to) => to !== from)
      .map((to) => ({
        from: label(from),
        to: label(to),
        family: 'IPv4',
        ok: label(from) !== broken && label(to) !== broken,
      })),
  );
}

test('up to the limit: the matrix', () => {
  const ws = cluster(MATRIX_MAX_WORKLOADS);
  const text = renderPingReport(ws, results(ws));
  expect(text).toMatch(/^\+/);
  expect(text).toContain(`| from \\ to `);
  expect(text.split('\n').pop()).toBe(`${16 * 15}/${16 * 15} workload pairs answered`);
});

test('above it: one summary line when all answer; the broken workload and the failing pairs when not', () => {
  const ws = cluster(128);
  expect(renderPingReport(ws, results(ws))).toBe('128 workloads on 4 nodes: 16256/16256 workload pairs answered');
  const text = renderPingReport(ws, results(ws, 'node3/wl2'));
  const lines = text.split('\n');
  expect(lines[0]).toBe('128 workloads on 4 nodes: 16002/16256 workload pairs answered; 254 failed');
  // The broken workload leads the table: it failed as source and as target towards everyone.
  expect(lines[5]).toMatch(/^\| node3\/wl2 +\| 127 +\| 127 +\|$/);
  expect(lines.filter((l) => / -> /.test(l))).toHaveLength(200);
  expect(lines[lines.length - 1]).toBe('  … and 54 more (--format json lists them all)');
});

describe('pingRun against a canned node', () => {
  /** A node that answers every target line with `verdict` and reports the ARP table counters. */
  function node(label: string, fulls: [number, number] | undefined, verdict: (ip: string) => boolean) {
    const seen: string[] = [];
    return {
      seen,
      host: {
        label,
        run: async (_script: string, opts?: { stdin?: string }) => {
          seen.push(opts?.stdin ?? '');
          const lines = (opts?.stdin ?? '').split('\n').filter((l) => /^\d+ /.test(l));
          const out = lines.map((l) => `${l.split(' ')[0]} ${verdict(l.split(' ')[1]) ? 'ok' : 'fail'}`);
          return {
            code: 0,
            stdout: [...(fulls ? [`F0 ${fulls[0]}`] : []), ...out, ...(fulls ? [`F1 ${fulls[1]}`] : []), ''].join('\n'),
            stderr: '',
          };
        },
      },
    };
  }

  test('a full ARP table during the run is named as a warning, with the failed pairs it may explain', async () => {
    const a = node('node1', [5, 9], () => true);
    const b = node('node2', [9, 9], (ip) => ip !== '198.19.1.2');
    const ws: WorkloadTarget[] = [
      { node: 'node1', name: 'wa', ip: '198.19.1.2', host: a.host },
      { node: 'node2', name: 'wb', ip: '198.19.2.2', host: b.host },
    ];
    const run = await pingRun(ws);
    expect(run.results).toEqual([
      { from: 'node1/wa', to: 'node2/wb', family: 'IPv4', ok: true },
      { from: 'node2/wb', to: 'node1/wa', family: 'IPv4', ok: false },
    ]);
    expect(run.warnings).toHaveLength(1);
    expect(run.warnings[0]).toMatch(
      /^the kernel's ARP \(neighbour\) table was full during the pings \(node1 4x\);.*can explain failed pairs.*gc_thresh3/,
    );
    // Targets travel on stdin; the fallback is asked for only when wanted.
    expect(a.seen[0]).toBe('W wa\n0 198.19.2.2\n');
    await pingRun(ws, { pinger: 'ping' });
    expect(a.seen[1]).toBe('P ping\nW wa\n0 198.19.2.2\n');
  });

  test('many nodes with a full table: one warning line naming the first five', async () => {
    const ws: WorkloadTarget[] = Array.from({ length: 8 }, (_, k) => ({
      node: `node${k + 1}`,
      name: 'w',
      ip: `198.19.${k + 1}.2`,
      host: node(`node${k + 1}`, [0, k + 1], () => true).host,
    }));
    const run = await pingRun(ws);
    expect(run.warnings).toEqual([
      "the kernel's ARP (neighbour) table was full during the pings (node1 1x, node2 2x, node3 3x, node4 4x, node5 5x, and 3 more nodes); " +
        'packets to unresolved neighbours were dropped (raise net.ipv4.neigh.default.gc_thresh3, or find what fills the table)',
    ]);
  });

  test('no counters (no `ip ntable`) or an unchanged counter: no warning', async () => {
    const a = node('node1', undefined, () => true);
    const b = node('node2', [3, 3], () => true);
    const run = await pingRun([
      { node: 'node1', name: 'wa', ip: '198.19.1.2', host: a.host },
      { node: 'node2', name: 'wb', ip: '198.19.2.2', host: b.host },
    ]);
    expect(run.results.every((r) => r.ok)).toBe(true);
    expect(run.warnings).toEqual([]);
  });
});
