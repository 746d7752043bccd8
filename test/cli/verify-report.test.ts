/** `calico-net verify`'s text report: a matrix for a few workloads, a summary for many. */
import { MATRIX_MAX_WORKLOADS, PingResult, renderPingReport, WorkloadTarget } from '../../cli/verify';

const host = { label: 'unused', run: () => Promise.reject(new Error('not used')) };

function cluster(workloads: number): WorkloadTarget[] {
  return Array.from({ length: workloads }, (_, i) => ({ node: `node${(i % 4) + 1}`, name: `wl${i}`, ip: `198.19.${(i % 4) + 1}.${i + 2}`, host }));
}

function results(ws: WorkloadTarget[], broken?: string): PingResult[] {
  const label = (w: WorkloadTarget) => `${w.node}/${w.name}`;
  return ws.flatMap((from) => ws.filter((to) => to !== from).map((to) => ({ from: label(from), to: label(to), ok: label(from) !== broken && label(to) !== broken })));
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
