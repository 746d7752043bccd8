/** Report builders at their edges: diff alignment, drift entries Terraform rarely writes, unreadable nodes. */
import { driftReportFromPlan, renderDriftMarkdown } from '../../cli/drift-report';
import { unifiedDiff } from '../../cli/unified-diff';

const lines = (...l: string[]) => l.join('\n') + '\n';
const labels = { before: 'a', after: 'b' };

describe('unifiedDiff', () => {
  it('a line added before the first one is an addition, not a delete and re-add', () => {
    expect(unifiedDiff(lines('a'), lines('x', 'a'), labels)).toBe(
      lines('--- a', '+++ b', '@@ -1,1 +1,2 @@', '+x', ' a'),
    );
    expect(unifiedDiff(lines('x', 'a'), lines('a'), labels)).toBe(
      lines('--- a', '+++ b', '@@ -1,2 +1,1 @@', '-x', ' a'),
    );
  });

  it('hunk starts come from the first line of the hunk, including when it opens with an addition', () => {
    const before = lines('1', '2', '3', '4', '5', '6');
    expect(unifiedDiff(before, lines('1', '2', '3', 'new', '4', '5', '6'), labels, 1)).toBe(
      lines('--- a', '+++ b', '@@ -3,2 +3,3 @@', ' 3', '+new', ' 4'),
    );
    expect(unifiedDiff(before, lines('new', '1', '2', '3', '4', '5', '6'), labels, 0)).toBe(
      lines('--- a', '+++ b', '@@ -0,0 +1,1 @@', '+new'),
    );
    expect(unifiedDiff(before, lines('1', '2', '3', '4', '5', '6', 'new'), labels, 2)).toBe(
      lines('--- a', '+++ b', '@@ -5,2 +5,3 @@', ' 5', ' 6', '+new'),
    );
  });

  it('equal texts (empty ones too) give no diff; text without a final newline counts its last line', () => {
    expect(unifiedDiff('', '', labels)).toBe('');
    expect(unifiedDiff('a\nb', 'a\nb\n', labels)).toBe('');
    expect(unifiedDiff('a', 'b', labels, 0)).toBe(lines('--- a', '+++ b', '@@ -1,1 +1,1 @@', '-a', '+b'));
  });
});

describe('driftReportFromPlan edges', () => {
  it('an entry whose after is null is gone, whatever its actions say, and lists no attributes', () => {
    const report = driftReportFromPlan(
      {
        resource_drift: [
          {
            address: 'calico_workload.w',
            type: 'calico_workload',
            change: { actions: ['update'], before: { node_name: 'n1', name: 'w', ip: '198.19.1.2' }, after: null },
          },
        ],
      },
      's',
    );
    expect(report.resources).toEqual([
      {
        address: 'calico_workload.w',
        type: 'calico_workload',
        node: 'n1',
        workload: 'w',
        action: 'delete',
        attributes: [],
      },
    ]);
  });

  it('a deleted entry lists no attributes even when before and after differ', () => {
    const report = driftReportFromPlan(
      {
        resource_drift: [
          {
            address: 'calico_node.n',
            type: 'calico_node',
            change: {
              actions: ['delete'],
              before: { name: 'n1', ip_forward: '1' },
              after: { name: 'n1', ip_forward: '0' },
            },
          },
        ],
      },
      's',
    );
    expect(report.resources[0].attributes).toEqual([]);
    expect(report.resources[0].action).toBe('delete');
  });

  it('only a calico_node is named by its own name; other types without node_name have no node', () => {
    const report = driftReportFromPlan(
      {
        resource_drift: [
          {
            address: 'null_resource.v',
            type: 'null_resource',
            change: { actions: ['update'], before: { name: 'hook', x: '1' }, after: { name: 'hook', x: '2' } },
          },
        ],
      },
      's',
    );
    expect(report.resources).toEqual([
      {
        address: 'null_resource.v',
        type: 'null_resource',
        node: null,
        workload: null,
        action: 'update',
        attributes: [{ path: 'x', expected: '1', actual: '2' }],
      },
    ]);
  });
});

describe('renderDriftMarkdown with unreadable nodes', () => {
  const unreadable = [
    { node: 'n2', resources: ['calico_node.n2'], reason: 'Cannot reach node n2\nconnect ETIMEDOUT' },
    { node: 'n3', resources: [], reason: 'refused' },
  ];

  it('says the report is incomplete, one line per node (newlines folded), then that the rest has no drift', () => {
    expect(renderDriftMarkdown({ version: 1, stack: 's', drifted: false, resources: [], unreadable })).toBe(
      lines(
        '## Drift report: stack `s`',
        '',
        '**Incomplete: 2 node(s) could not be read**, so nothing is known about them:',
        '',
        '- `n2`: Cannot reach node n2 connect ETIMEDOUT',
        '- `n3`: refused',
        '',
        'No drift on the nodes that were read.',
      ),
    );
  });

  it('with drift elsewhere: the incomplete note, then the drift', () => {
    const md = renderDriftMarkdown({
      version: 1,
      stack: 's',
      drifted: true,
      resources: [
        { address: 'calico_node.n', type: 'calico_node', node: 'n1', workload: null, action: 'delete', attributes: [] },
      ],
      unreadable: [unreadable[1]],
    });
    expect(md.split('\n').slice(0, 7)).toEqual([
      '## Drift report: stack `s`',
      '',
      '**Incomplete: 1 node(s) could not be read**, so nothing is known about them:',
      '',
      '- `n3`: refused',
      '',
      '**1 resource(s) drifted on 1 node(s):** n1.',
    ]);
  });
});
