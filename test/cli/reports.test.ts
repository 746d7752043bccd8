import { parseBirdProtocols } from '../../cli/bird-protocols';
import { driftReportFromPlan, renderDriftMarkdown } from '../../cli/drift-report';
import { unifiedDiff } from '../../cli/unified-diff';

describe('parseBirdProtocols', () => {
  // Captured from BIRD 2.0.12 (Debian bird2): `birdc show protocols`.
  const output = [
    'BIRD 2.0.12 ready.',
    'Name       Proto      Table      State  Since         Info',
    'device1    Device     ---        up     03:37:43.439  ',
    'Mesh_198_18_99_2 BGP        ---        start  03:37:43.439  Active        Socket: Connection refused',
    'Node_198_18_99_3 BGP        ---        up     2026-11-24 03:37:43  Established   ',
    'Global_198_18_99_9 BGP      ---        down   03:37:43.439  ',
    'static1    Static     master4    up     03:37:43.439  ',
  ].join('\n');

  it('keeps only Calico-named BGP sessions and classifies them', () => {
    const rows = parseBirdProtocols(output);
    expect(rows.map((r) => [r.peerAddress, r.peerType, r.state, r.established])).toEqual([
      ['198.18.99.2', 'node-to-node mesh', 'start', false],
      ['198.18.99.3', 'route reflector', 'up', true],
      ['198.18.99.9', 'global', 'down', false],
    ]);
    expect(rows[0].info).toBe('Active Socket: Connection refused');
    expect(rows[1].since).toBe('2026-11-24 03:37:43');
  });

  it('refuses output without a protocol table', () => {
    expect(() => parseBirdProtocols('Unable to connect to server control socket')).toThrow(/no protocol table/);
  });
});

describe('unifiedDiff', () => {
  it('shows a changed line with context and correct hunk ranges', () => {
    const before = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].join('\n') + '\n';
    const after = ['a', 'b', 'c', 'd', 'E', 'f', 'g', 'h'].join('\n') + '\n';
    expect(unifiedDiff(before, after, { before: 'x', after: 'y' }, 2)).toBe(
      ['--- x', '+++ y', '@@ -3,5 +3,5 @@', ' c', ' d', '-e', '+E', ' f', ' g', ''].join('\n'),
    );
  });

  it('is empty for equal texts', () => {
    expect(unifiedDiff('a\n', 'a\n', { before: 'x', after: 'y' })).toBe('');
  });
});

describe('driftReportFromPlan', () => {
  const plan = {
    resource_drift: [
      {
        address: 'calico_node.n1',
        type: 'calico_node',
        change: {
          actions: ['update'],
          before: { name: 'node1', ip_forward: '1', ssh: { host: '198.18.0.1' } },
          after: { name: 'node1', ip_forward: '0', ssh: { host: '198.18.0.1' } },
        },
      },
      {
        address: 'calico_bird_config.b2',
        type: 'calico_bird_config',
        change: {
          actions: ['update'],
          before: { node_name: 'node2', content: 'router id 1;\nprotocol device {}\n' },
          after: { node_name: 'node2', content: 'router id 1;\n# edited\nprotocol device {}\n' },
        },
      },
      {
        address: 'calico_workload.w',
        type: 'calico_workload',
        change: { actions: ['delete'], before: { node_name: 'node2', name: 'web' }, after: null },
      },
    ],
  };

  it('names node, resource and attribute, with a diff for long text', () => {
    const report = driftReportFromPlan(plan, 'lab');
    expect(report.drifted).toBe(true);
    expect(report.resources.map((r) => [r.node, r.address, r.action])).toEqual([
      ['node1', 'calico_node.n1', 'update'],
      ['node2', 'calico_bird_config.b2', 'update'],
      ['node2', 'calico_workload.w', 'delete'],
    ]);
    expect(report.resources[0].attributes).toEqual([{ path: 'ip_forward', expected: '1', actual: '0' }]);
    expect(report.resources[1].attributes[0].diff).toContain('+# edited');
    const md = renderDriftMarkdown(report);
    expect(md).toContain('### Node `node1`');
    expect(md).toContain('| `ip_forward` | `1` | `0` |');
    expect(md).toContain('```diff');
  });

  it('never says "No drift" when a node could not be read: names it and why', () => {
    const unread = [
      {
        node: 'node2',
        resources: ['calico_node.n2'],
        reason: 'Cannot reach node node2 (root@198.18.0.2:22) to read the host',
      },
    ];
    const report = driftReportFromPlan({ resource_drift: [] }, 'lab', unread);
    expect(report.unreadable).toEqual(unread);
    const md = renderDriftMarkdown(report);
    expect(md).not.toContain('No drift: every host');
    expect(md).toContain('**Incomplete: 1 node(s) could not be read**');
    expect(md).toContain('- `node2`: Cannot reach node node2');
  });

  it('reports no drift for an empty plan', () => {
    const report = driftReportFromPlan({ resource_drift: [] }, 'lab');
    expect(report.drifted).toBe(false);
    expect(renderDriftMarkdown(report)).toContain('No drift');
  });
});
