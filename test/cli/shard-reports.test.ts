/**
 * The reports over every shard: the merged drift report (each resource and unreadable node with
 * its stack, a failed shard named instead of passing, one exit code), the status table naming
 * each node's shard, and the single stack's backend that `shard migrate` reads from.
 */
import * as path from 'path';
import { DriftReport } from '../../cli/drift-report';
import { mergeShardDrift, renderShardDriftMarkdown, shardDriftExitCode, ShardOutcome } from '../../cli/shard-drift';
import { singleStackBackend } from '../../cli/shard-migrate';
import { renderStatusTable } from '../../cli/status';
import { ClusterSpec } from '../../constructs/model';

const clean = (stack: string): DriftReport => ({ version: 1, stack, drifted: false, resources: [], unreadable: [] });
const drifted = (stack: string, node: string): DriftReport => ({
  version: 1,
  stack,
  drifted: true,
  resources: [
    {
      address: `calico_node.${node}`,
      type: 'calico_node',
      node,
      workload: null,
      action: 'update',
      attributes: [{ path: 'ip_forward', expected: '1', actual: '0' }],
    },
  ],
  unreadable: [],
});

test('no drift anywhere: exit 0, every shard listed', () => {
  const outcomes: ShardOutcome[] = [
    { stack: 'f-b', report: clean('f-b') },
    { stack: 'f-a', report: clean('f-a') },
  ];
  const report = mergeShardDrift('f-*', outcomes);
  expect(report.shards.map((s) => s.stack)).toEqual(['f-a', 'f-b']);
  expect(report.drifted).toBe(false);
  expect(shardDriftExitCode(report)).toBe(0);
  expect(renderShardDriftMarkdown(report, outcomes)).toBe(
    '# Drift report: 2 shard stacks `f-*`\n\n| stack | result |\n|---|---|\n| `f-a` | no drift |\n| `f-b` | no drift |\n',
  );
});

test('drift in one rack: exit 2, the resource carries its stack, the summary names rack and node', () => {
  const outcomes: ShardOutcome[] = [
    { stack: 'f-a', report: clean('f-a') },
    { stack: 'f-c', report: drifted('f-c', 'n5') },
  ];
  const report = mergeShardDrift('f-*', outcomes);
  expect(report.resources.map((r) => [r.stack, r.node])).toEqual([['f-c', 'n5']]);
  expect(shardDriftExitCode(report)).toBe(2);
  const md = renderShardDriftMarkdown(report, outcomes);
  expect(md).toContain('| `f-c` | **drift** on `n5` |');
  expect(md).toContain('| `f-a` | no drift |');
  expect(md).toMatch(/## Drift report: stack `f-c`[\s\S]*### Node `n5`/);
  expect(md).not.toContain('stack `f-a`');
});

test('a shard that failed or left a node unread makes the whole run exit 1, named, even with drift elsewhere', () => {
  const unread: DriftReport = {
    ...clean('f-b'),
    unreadable: [{ node: 'n3', resources: ['calico_node.n3'], reason: 'Cannot reach node n3' }],
  };
  const outcomes: ShardOutcome[] = [
    { stack: 'f-a', error: 'refresh-only plan failed:\nError acquiring the state lock | pg' },
    { stack: 'f-b', report: unread },
    { stack: 'f-c', report: drifted('f-c', 'n5') },
  ];
  const report = mergeShardDrift('f-*', outcomes);
  expect(report.shards).toEqual([
    {
      stack: 'f-a',
      drifted: false,
      unreadable: [],
      error: 'refresh-only plan failed:\nError acquiring the state lock | pg',
    },
    { stack: 'f-b', drifted: false, unreadable: ['n3'] },
    { stack: 'f-c', drifted: true, unreadable: [] },
  ]);
  expect(report.unreadable).toEqual([
    { node: 'n3', resources: ['calico_node.n3'], reason: 'Cannot reach node n3', stack: 'f-b' },
  ]);
  expect(shardDriftExitCode(report)).toBe(1);
  expect(shardDriftExitCode(mergeShardDrift('f-*', [outcomes[0], { stack: 'f-b', report: clean('f-b') }]))).toBe(1);
  expect(shardDriftExitCode(mergeShardDrift('f-*', [outcomes[1]]))).toBe(1);
  const md = renderShardDriftMarkdown(report, outcomes);
  expect(md).toContain('| `f-a` | **error**: refresh-only plan failed: |');
  expect(md).toContain('| `f-b` | no drift; **unreadable**: `n3` |');
  expect(md).toContain(
    '## Stack `f-a`: failed\n\n```\nrefresh-only plan failed:\nError acquiring the state lock | pg\n```',
  );
  expect(md).toContain('## Drift report: stack `f-b`');
});

test('a pipe in an error does not break the summary table', () => {
  const report = mergeShardDrift('f-*', [{ stack: 'f-a', error: 'a | b' }]);
  expect(renderShardDriftMarkdown(report, [{ stack: 'f-a', error: 'a | b' }])).toContain(
    '| `f-a` | **error**: a \\| b |',
  );
});

test('the status table names each node with its shard; unsharded output is unchanged', () => {
  const rows = [
    { node: 'n1', shard: 'f-a', sessions: [], problems: [] },
    { node: 'n2', sessions: [], problems: ['x'], error: 'cannot connect', shard: 'f-b' },
  ];
  const text = renderStatusTable(rows);
  expect(text).toContain('Node n1 (shard f-a):');
  expect(text).toContain('Node n2 (shard f-b):\n  ERROR: cannot connect');
  expect(renderStatusTable([{ node: 'n1', sessions: [], problems: [] }])).toMatch(/^Node n1:\n/);
});

test('shard migrate reads the single stack where buildClusterStack kept it', () => {
  const base: ClusterSpec = { name: 'lab', podCidr: '198.19.0.0/16', nodes: [], peers: [] };
  expect(singleStackBackend(base, '/p')).toEqual({ local: { path: path.join('/p', 'terraform.lab.tfstate') } });
  expect(singleStackBackend({ ...base, state: { backend: 'local' } }, '/p')).toEqual({
    local: { path: '/p/terraform.lab.tfstate' },
  });
  expect(singleStackBackend({ ...base, state: { backend: 'local', path: '/s/lab.tfstate' } }, '/p')).toEqual({
    local: { path: '/s/lab.tfstate' },
  });
  expect(singleStackBackend({ ...base, state: { backend: 'pg', schemaName: 'calico_lab' } }, '/p')).toEqual({
    pg: { schema_name: 'calico_lab' },
  });
  expect(singleStackBackend({ ...base, state: { backend: 'pg' } }, '/p')).toEqual({ pg: {} });
  expect(singleStackBackend({ ...base, state: { backend: 'pg', connStr: 'postgres://x' } }, '/p')).toEqual({
    pg: { conn_str: 'postgres://x' },
  });
});
