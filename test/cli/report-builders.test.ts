/**
 * The report builders behind `calico-net status`, `verify` and `drift`, through their public
 * functions, with exact expected output. The hosts here are canned answers to the one script each
 * builder sends (the lab-backed tests in test/e2e run the same builders against real nodes).
 */
import { collectStatus, renderStatusTable, statusIsHealthy, table, NodeStatus } from '../../cli/status';
import { renderPingMatrix, WorkloadTarget } from '../../cli/verify';
import { driftReportFromPlan, renderDriftMarkdown } from '../../cli/drift-report';
import { unifiedDiff } from '../../cli/unified-diff';
import { parseBirdProtocols, BgpSessionRow } from '../../cli/bird-protocols';
import { RemoteHost, RemoteResult } from '../../providers/ssh/types';

function cannedHost(
  label: string,
  answer: (script: string) => RemoteResult | Promise<RemoteResult>,
): RemoteHost & { scripts: string[] } {
  const scripts: string[] = [];
  return {
    label,
    scripts,
    run: async (script: string) => {
      scripts.push(script);
      return answer(script);
    },
  };
}

const ok = (stdout: string): RemoteResult => ({ code: 0, stdout, stderr: '' });

describe('table', () => {
  it('pads every column to its widest cell, calicoctl style', () => {
    expect(
      table(
        ['A', 'LONGER'],
        [
          ['wide cell', 'x'],
          ['y', ''],
        ],
      ),
    ).toEqual([
      '+-----------+--------+',
      '| A         | LONGER |',
      '+-----------+--------+',
      '| wide cell | x      |',
      '| y         |        |',
      '+-----------+--------+',
    ]);
  });

  it('prints a short row with every column (missing cells blank), and keeps extra cells of a long row', () => {
    expect(table(['A', 'B', 'C'], [['1'], ['1', '2', '3']])).toEqual([
      '+---+---+---+',
      '| A | B | C |',
      '+---+---+---+',
      '| 1 |   |   |',
      '| 1 | 2 | 3 |',
      '+---+---+---+',
    ]);
    expect(table(['A'], [['1', 'extra']])).toEqual([
      '+---+-------+',
      '| A |       |',
      '+---+-------+',
      '| 1 | extra |',
      '+---+-------+',
    ]);
  });
});

describe('collectStatus', () => {
  const protocols = [
    'BIRD 2.0.12 ready.',
    'Name       Proto      Table      State  Since         Info',
    'Mesh_198_18_0_2 BGP        ---        up     03:37:43.439  Established   ',
    'Mesh_198_18_0_3 BGP        ---        start  03:37:43.439  Active        Socket: Connection refused',
  ].join('\n');

  it('asks BIRD on the given socket (quoted) and reports each expected session that is not up', async () => {
    const host = cannedHost('n1', () => ok(protocols));
    const [status] = await collectStatus([
      {
        name: 'n1',
        host,
        socketPath: "/run/bird/it's.ctl",
        expectedProtocols: ['Mesh_198_18_0_2', 'Mesh_198_18_0_3', 'Mesh_198_18_0_4'],
      },
    ]);
    // One script (templates/scripts/bird-status.sh), the socket a quoted variable, never spliced.
    expect(host.scripts).toHaveLength(1);
    expect(host.scripts[0]).toContain(`\nsock='/run/bird/it'\\''s.ctl'\nquestion='protocols'\n`);
    expect(host.scripts[0]).toContain('birdc -s "$sock" show protocols ;;');
    expect(status.node).toBe('n1');
    expect(status.error).toBeUndefined();
    expect(status.sessions.map((s) => s.peerAddress)).toEqual(['198.18.0.2', '198.18.0.3']);
    expect(status.problems).toEqual([
      '198.18.0.3 (Mesh_198_18_0_3): start Active Socket: Connection refused',
      'Mesh_198_18_0_4: no such BGP session in BIRD',
    ]);
    expect(statusIsHealthy([status])).toBe(false);
  });

  it('is healthy when every expected session is Established', async () => {
    const statuses = await collectStatus([
      {
        name: 'n1',
        host: cannedHost('n1', () => ok(protocols)),
        socketPath: '/s',
        expectedProtocols: ['Mesh_198_18_0_2'],
      },
      { name: 'n2', host: cannedHost('n2', () => ok(protocols)), socketPath: '/s', expectedProtocols: [] },
    ]);
    expect(statuses.map((s) => [s.node, s.problems])).toEqual([
      ['n1', []],
      ['n2', []],
    ]);
    expect(statusIsHealthy(statuses)).toBe(true);
    expect(statusIsHealthy([])).toBe(true);
  });

  it('a failing birdc or an unreachable host is an error for that node only', async () => {
    const statuses = await collectStatus([
      {
        name: 'a',
        host: cannedHost('a', () => ({
          code: 1,
          stdout: '',
          stderr: ' Unable to connect to server control socket \n',
        })),
        socketPath: '/s',
        expectedProtocols: [],
      },
      {
        name: 'b',
        host: cannedHost('b', () => ({ code: 2, stdout: 'only stdout\n', stderr: '' })),
        socketPath: '/s',
        expectedProtocols: [],
      },
      {
        name: 'c',
        host: cannedHost('c', () => Promise.reject(new Error('c: cannot connect: ECONNREFUSED'))),
        socketPath: '/s',
        expectedProtocols: [],
      },
      { name: 'd', host: cannedHost('d', () => ok('garbage')), socketPath: '/s', expectedProtocols: [] },
    ]);
    expect(statuses[0]).toEqual({
      node: 'a',
      sessions: [],
      problems: ['birdc failed (exit 1): Unable to connect to server control socket'],
      error: 'birdc failed (exit 1): Unable to connect to server control socket',
    });
    expect(statuses[1].error).toBe('birdc failed (exit 2): only stdout');
    expect(statuses[2].error).toBe('c: cannot connect: ECONNREFUSED');
    expect(statuses[3].error).toMatch(/^unexpected birdc output \(no protocol table\)/);
    expect(statusIsHealthy(statuses)).toBe(false);
  });
});

describe('renderStatusTable', () => {
  const row = (peerAddress: string, established: boolean, info: string): BgpSessionRow => ({
    protocol: `Mesh_${peerAddress.replace(/\./g, '_')}`,
    peerAddress,
    family: 'IPv4',
    peerType: 'node-to-node mesh',
    state: established ? 'up' : 'start',
    since: '03:37:43',
    info,
    established,
  });

  it('prints one table per node and a summary naming the unhealthy nodes', () => {
    const statuses: NodeStatus[] = [
      {
        node: 'n1',
        sessions: [row('198.18.0.2', true, 'Established'), row('198.18.0.3', false, 'Active')],
        problems: ['198.18.0.3 (Mesh_198_18_0_3): start Active'],
      },
      { node: 'n2', sessions: [], problems: ['boom'], error: 'boom' },
    ];
    expect(renderStatusTable(statuses)).toBe(
      [
        'Node n1:',
        '  +--------------+-------------------+-------+----------+-------------+',
        '  | PEER ADDRESS | PEER TYPE         | STATE | SINCE    | INFO        |',
        '  +--------------+-------------------+-------+----------+-------------+',
        '  | 198.18.0.2   | node-to-node mesh | up    | 03:37:43 | Established |',
        '  | 198.18.0.3   | node-to-node mesh | start | 03:37:43 | Active      |',
        '  +--------------+-------------------+-------+----------+-------------+',
        '  PROBLEM: 198.18.0.3 (Mesh_198_18_0_3): start Active',
        '',
        'Node n2:',
        '  ERROR: boom',
        '',
        '1/2 BGP sessions Established on 2 nodes; problems on: n1, n2',
      ].join('\n'),
    );
  });

  it('says so when every expected session is up', () => {
    const text = renderStatusTable([{ node: 'n1', sessions: [row('198.18.0.2', true, 'Established')], problems: [] }]);
    expect(text.split('\n').slice(-1)).toEqual(['1/1 BGP sessions Established on 1 nodes; all expected sessions up']);
    expect(text).not.toContain('PROBLEM');
  });
});

describe('renderPingMatrix', () => {
  const h = cannedHost('n', () => ok(''));
  const workloads: WorkloadTarget[] = [
    { node: 'n1', name: 'a', ip: '198.19.1.2', host: h },
    { node: 'n2', name: 'b', ip: '198.19.2.2', host: h },
  ];

  it('prints the matrix with ok, FAIL, - on the diagonal and ? for a pair never tried', () => {
    const text = renderPingMatrix(workloads, [{ from: 'n1/a', to: 'n2/b', family: 'IPv4', ok: false }]);
    expect(text).toBe(
      [
        '+-----------+------+------+',
        '| from \\ to | n1/a | n2/b |',
        '+-----------+------+------+',
        '| n1/a      | -    | FAIL |',
        '| n2/b      | ?    | -    |',
        '+-----------+------+------+',
        '1 of 1 pairs failed: n1/a -> n2/b',
      ].join('\n'),
    );
  });

  it('counts the pairs that answered', () => {
    const text = renderPingMatrix(workloads, [
      { from: 'n1/a', to: 'n2/b', family: 'IPv4', ok: true },
      { from: 'n2/b', to: 'n1/a', family: 'IPv4', ok: true },
    ]);
    expect(text.split('\n')).toContain('| n2/b      | ok   | -    |');
    expect(text.split('\n').slice(-1)).toEqual(['2/2 workload pairs answered']);
  });

  it('lists every failed pair', () => {
    const text = renderPingMatrix(workloads, [
      { from: 'n1/a', to: 'n2/b', family: 'IPv4', ok: false },
      { from: 'n2/b', to: 'n1/a', family: 'IPv4', ok: false },
    ]);
    expect(text.split('\n').slice(-1)).toEqual(['2 of 2 pairs failed: n1/a -> n2/b, n2/b -> n1/a']);
  });
});

describe('unifiedDiff', () => {
  const labels = { before: 'a', after: 'b' };
  const lines = (...l: string[]) => l.join('\n') + '\n';

  it('keeps separate hunks apart and merges touching ones', () => {
    const before = lines('1', '2', '3', '4', '5', '6', '7', '8', '9', '10');
    expect(unifiedDiff(before, lines('X', '2', '3', '4', '5', '6', '7', '8', '9', 'Y'), labels, 1)).toBe(
      lines('--- a', '+++ b', '@@ -1,2 +1,2 @@', '-1', '+X', ' 2', '@@ -9,2 +9,2 @@', ' 9', '-10', '+Y'),
    );
    // Windows 1..3 and 4..6 touch (3 + 1 = 4): one hunk.
    expect(unifiedDiff(before, lines('1', 'B', '3', '4', 'E', '6', '7', '8', '9', '10'), labels, 1)).toBe(
      lines('--- a', '+++ b', '@@ -1,6 +1,6 @@', ' 1', '-2', '+B', ' 3', ' 4', '-5', '+E', ' 6'),
    );
  });

  it('counts hunk ranges for pure additions and pure removals', () => {
    expect(unifiedDiff('', lines('new'), labels)).toBe(lines('--- a', '+++ b', '@@ -0,0 +1,1 @@', '+new'));
    expect(unifiedDiff(lines('old'), '', labels)).toBe(lines('--- a', '+++ b', '@@ -1,1 +0,0 @@', '-old'));
    expect(unifiedDiff(lines('a', 'b'), lines('a', 'b', 'c'), labels, 0)).toBe(
      lines('--- a', '+++ b', '@@ -2,0 +3,1 @@', '+c'),
    );
    expect(unifiedDiff(lines('a', 'b', 'c'), lines('a', 'c'), labels, 0)).toBe(
      lines('--- a', '+++ b', '@@ -2,1 +1,0 @@', '-b'),
    );
  });

  it('uses three lines of context by default and ignores only one trailing newline', () => {
    const before = lines('1', '2', '3', '4', '5', '6', '7', '8', '9');
    const after = lines('1', '2', '3', '4', 'V', '6', '7', '8', '9');
    expect(unifiedDiff(before, after, labels)).toBe(
      lines('--- a', '+++ b', '@@ -2,7 +2,7 @@', ' 2', ' 3', ' 4', '-5', '+V', ' 6', ' 7', ' 8'),
    );
    expect(unifiedDiff('a\n', 'a\n\n', labels)).toBe(lines('--- a', '+++ b', '@@ -1,1 +1,2 @@', ' a', '+'));
    expect(unifiedDiff('a', 'a\n', labels)).toBe('');
  });

  it('prints removals before additions where a line was replaced', () => {
    expect(unifiedDiff(lines('a', 'b', 'c'), lines('a', 'x', 'y', 'c'), labels, 0)).toBe(
      lines('--- a', '+++ b', '@@ -2,1 +2,2 @@', '-b', '+x', '+y'),
    );
  });

  it('finds the longest common part, not the first match', () => {
    // A greedy diff would match the early "x" and mark the whole tail as changed.
    expect(unifiedDiff(lines('x', 'a', 'b', 'c'), lines('a', 'b', 'c', 'x'), labels, 0)).toBe(
      lines('--- a', '+++ b', '@@ -1,1 +0,0 @@', '-x', '@@ -4,0 +4,1 @@', '+x'),
    );
  });
});

describe('driftReportFromPlan', () => {
  it('masks sensitive values, walks nested blocks, and skips resources whose values did not change', () => {
    const report = driftReportFromPlan(
      {
        resource_drift: [
          {
            address: 'calico_workload.z',
            type: 'calico_workload',
            change: {
              actions: ['update'],
              before: { node_name: 'node2', name: 'web', proxy_arp: '1', ssh: { host: 'h', port: 22, secret: 'old' } },
              after: { node_name: 'node2', name: 'web', proxy_arp: '0', ssh: { host: 'h2', port: 22, secret: 'new' } },
              before_sensitive: { ssh: { secret: true } },
              after_sensitive: {},
            },
          },
          {
            address: 'calico_node.same',
            type: 'calico_node',
            change: { actions: ['update'], before: { name: 'node0', x: [1, 2] }, after: { name: 'node0', x: [1, 2] } },
          },
          {
            address: 'calico_node.a',
            type: 'calico_node',
            change: {
              actions: ['update'],
              before: { name: 'node1', ip_forward: '1', gone: 'x' },
              after: { name: 'node1', ip_forward: null, added: 7 },
            },
          },
        ],
      },
      'st',
    );
    expect(report).toEqual({
      version: 1,
      stack: 'st',
      drifted: true,
      unreadable: [],
      resources: [
        {
          address: 'calico_node.a',
          type: 'calico_node',
          node: 'node1',
          workload: null,
          action: 'update',
          attributes: [
            { path: 'added', expected: null, actual: 7 },
            { path: 'gone', expected: 'x', actual: null },
            { path: 'ip_forward', expected: '1', actual: null },
          ],
        },
        {
          address: 'calico_workload.z',
          type: 'calico_workload',
          node: 'node2',
          workload: 'web',
          action: 'update',
          attributes: [
            { path: 'proxy_arp', expected: '1', actual: '0' },
            { path: 'ssh.host', expected: 'h', actual: 'h2' },
            { path: 'ssh.secret', expected: '(sensitive)', actual: '(sensitive)' },
          ],
        },
      ],
    });
  });

  it('a sensitive value that did not change is not drift; a wholly sensitive block compares as one', () => {
    const report = driftReportFromPlan(
      {
        resource_drift: [
          {
            address: 'calico_bird_config.b',
            type: 'calico_bird_config',
            change: {
              actions: ['update'],
              before: { node_name: 'n', secret: 's', ssh: { a: 1 } },
              after: { node_name: 'n', secret: 's', ssh: { a: 2 } },
              before_sensitive: { secret: true },
              after_sensitive: { ssh: true },
            },
          },
        ],
      },
      's',
    );
    expect(report.resources[0].attributes).toEqual([{ path: 'ssh', expected: '(sensitive)', actual: '(sensitive)' }]);
    expect(report.resources[0].node).toBe('n');
    expect(report.resources[0].workload).toBeNull();
  });

  it('a resource gone from the host is a delete without attributes; a node is known from its own name', () => {
    const report = driftReportFromPlan(
      {
        resource_drift: [
          {
            address: 'calico_node.n',
            type: 'calico_node',
            change: { actions: ['delete'], before: { name: 'node3' }, after: { name: 'node3' } },
          },
          {
            address: 'calico_thing.t',
            type: 'calico_thing',
            change: { actions: ['update'], before: null, after: { name: 'x' } },
          },
        ],
      },
      's',
    );
    expect(report.resources).toEqual([
      {
        address: 'calico_node.n',
        type: 'calico_node',
        node: 'node3',
        workload: null,
        action: 'delete',
        attributes: [],
      },
      {
        address: 'calico_thing.t',
        type: 'calico_thing',
        node: null,
        workload: null,
        action: 'update',
        attributes: [{ path: '', expected: null, actual: { name: 'x' } }],
      },
    ]);
  });

  it('gives multi-line text a unified diff labelled expected/on host', () => {
    const report = driftReportFromPlan(
      {
        resource_drift: [
          {
            address: 'calico_bird_config.b',
            type: 'calico_bird_config',
            change: {
              actions: ['update'],
              before: { node_name: 'n', content: 'a\nb\n', one: 'x' },
              after: { node_name: 'n', content: 'a\nc\n', one: 'y' },
            },
          },
        ],
      },
      's',
    );
    const [content, one] = report.resources[0].attributes;
    expect(content.diff).toBe('--- content (expected)\n+++ content (on host)\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n');
    expect(one).toEqual({ path: 'one', expected: 'x', actual: 'y' });
    expect(driftReportFromPlan({}, 's')).toEqual({
      version: 1,
      stack: 's',
      drifted: false,
      resources: [],
      unreadable: [],
    });
  });

  it('sorts by node, then address', () => {
    const change = (name: string) => ({
      actions: ['update'],
      before: { node_name: name, v: 1 },
      after: { node_name: name, v: 2 },
    });
    const report = driftReportFromPlan(
      {
        resource_drift: [
          { address: 'x.b', type: 'x', change: change('n2') },
          { address: 'x.c', type: 'x', change: change('n1') },
          { address: 'x.a', type: 'x', change: change('n2') },
        ],
      },
      's',
    );
    expect(report.resources.map((r) => r.address)).toEqual(['x.c', 'x.a', 'x.b']);
  });
});

describe('renderDriftMarkdown', () => {
  it('renders the whole report: summary, one section per node, tables, diffs, deletes', () => {
    const md = renderDriftMarkdown({
      version: 1,
      stack: 'lab',
      drifted: true,
      unreadable: [],
      resources: [
        {
          address: 'calico_workload.w',
          type: 'calico_workload',
          node: 'node1',
          workload: 'web',
          action: 'update',
          attributes: [{ path: 'mtu', expected: 1500, actual: 'a`b' }],
        },
        {
          address: 'calico_bird_config.b',
          type: 'calico_bird_config',
          node: 'node1',
          workload: null,
          action: 'update',
          attributes: [
            { path: 'content', expected: 'x', actual: 'y', diff: '--- e\n+++ h\n@@ -1,1 +1,1 @@\n-x\n+y\n' },
          ],
        },
        { address: 'calico_node.n', type: 'calico_node', node: null, workload: null, action: 'delete', attributes: [] },
      ],
    });
    expect(md).toBe(
      [
        '## Drift report: stack `lab`',
        '',
        '**3 resource(s) drifted on 2 node(s):** node1, (unknown node).',
        'Run `cdktf deploy` (or `terraform apply`) to put them back as declared.',
        '',
        '### Node `node1`',
        '',
        '#### `calico_workload.w` (workload `web`)',
        '',
        '| attribute | expected (last applied) | actual (on host) |',
        '|---|---|---|',
        "| `mtu` | `1500` | `a'b` |",
        '',
        '#### `calico_bird_config.b`',
        '',
        '| attribute | expected (last applied) | actual (on host) |',
        '|---|---|---|',
        '| `content` | (see diff) | (see diff) |',
        '',
        '<details open><summary><code>content</code> diff</summary>',
        '',
        '```diff',
        '--- e\n+++ h\n@@ -1,1 +1,1 @@\n-x\n+y',
        '```',
        '',
        '</details>',
        '',
        '### Node `(unknown node)`',
        '',
        '#### `calico_node.n`',
        '',
        'Gone from the host: the next deploy creates it again.',
        '',
      ].join('\n'),
    );
  });

  it('says there is no drift in one line', () => {
    expect(renderDriftMarkdown({ version: 1, stack: 's', drifted: false, resources: [], unreadable: [] })).toBe(
      '## Drift report: stack `s`\n\nNo drift: every host matches the last applied state.\n',
    );
  });
});

describe('parseBirdProtocols', () => {
  const header = 'name       proto      table      state  since         info';

  it('reads the lower-case header of BIRD 1.x and skips short and non-BGP rows', () => {
    const rows = parseBirdProtocols(
      [
        'BIRD 1.6.8 ready.',
        header,
        'Mesh_10_0_0_2 BGP master up 03:37:43',
        'kernel1 Kernel master4 up 03:37:43',
        'Mesh_10_0_0_3 Static master up 03:37:43 Established',
        'Peer_10_0_0_4 BGP master up 03:37:43 Established',
        'Mesh_10_0_0_5 BGP master up 03:37:43 EstablishedX',
        'Mesh_10_0_0_6 BGP master down 03:37:43 Established',
        'Mesh_10_0_0_7x BGP master up 03:37:43 Established',
        'Global_1_2_3_4 BGP master up 2026-01-02 03:37:43 Established',
      ].join('\n'),
    );
    expect(rows.map((r) => [r.protocol, r.since, r.info, r.established])).toEqual([
      ['Mesh_10_0_0_2', '03:37:43', '', false],
      ['Mesh_10_0_0_5', '03:37:43', 'EstablishedX', false],
      ['Mesh_10_0_0_6', '03:37:43', 'Established', false],
      ['Global_1_2_3_4', '2026-01-02 03:37:43', 'Established', true],
    ]);
    expect(rows[3].peerType).toBe('global');
    expect(rows[3].state).toBe('up');
  });

  it('only rows after the header count', () => {
    const rows = parseBirdProtocols(
      ['Mesh_10_0_0_1 BGP --- up 03:37 Established', header, 'Mesh_10_0_0_2 BGP --- up 03:37 Established'].join('\n'),
    );
    expect(rows.map((r) => r.peerAddress)).toEqual(['10.0.0.2']);
  });

  it('needs the whole header in order', () => {
    expect(() => parseBirdProtocols('Name Proto Table State Since')).toThrow(/no protocol table/);
    expect(() => parseBirdProtocols('x Name Proto Table State Since Info')).toThrow(/no protocol table/);
  });
});

describe('edges the mutation run found untested', () => {
  it('a table that starts on the first line, rows with trailing blanks, BGP rows without a Since column', () => {
    const rows = parseBirdProtocols(
      [
        'Name Proto Table State Since Info',
        'Mesh_10_0_0_2 BGP --- up 03:37 Established   ',
        'Mesh_10_0_0_3 BGP --- up',
        'Mesh_10_0_0_4 BGP --- up 03:37 Active Established',
      ].join('\n'),
    );
    expect(rows.map((r) => [r.peerAddress, r.info, r.established])).toEqual([
      ['10.0.0.2', 'Established', true],
      ['10.0.0.4', 'Active Established', false],
    ]);
  });

  it('a session that is down with no info reads without a trailing blank', async () => {
    const out = ['Name Proto Table State Since Info', 'Mesh_10_0_0_2 BGP --- down 03:37'].join('\n');
    const [status] = await collectStatus([
      { name: 'n', host: cannedHost('n', () => ok(out)), socketPath: '/s', expectedProtocols: ['Mesh_10_0_0_2'] },
    ]);
    expect(status.problems).toEqual(['10.0.0.2 (Mesh_10_0_0_2): down']);
  });
});

describe('parseBirdProtocols on a dual-stack node', () => {
  it('reads the IPv6 sessions by their Calico names back to their addresses, and nothing that only looks like one', async () => {
    const out = [
      'Name Proto Table State Since Info',
      'Mesh_198_18_0_2 BGP --- up 03:37 Established',
      'Mesh_fd00_198_18__2 BGP --- up 03:37 Established',
      'Node_fd00_198_18__3 BGP --- start 03:37 Active Socket: Connection refused',
      'Global_fd00_198_18__fe BGP --- up 03:37 Established',
      'Mesh_FD00_198_18__2 BGP --- up 03:37 Established',
      'Mesh_fd00_0198_18__2 BGP --- up 03:37 Established',
      'Mesh_fd00__1__2 BGP --- up 03:37 Established',
      'Peer_fd00_198_18__9 BGP --- up 03:37 Established',
      'kernel_v6 Kernel master6 up 03:37',
    ].join('\n');
    expect(parseBirdProtocols(out).map((r) => [r.protocol, r.peerAddress, r.peerType, r.established])).toEqual([
      ['Mesh_198_18_0_2', '198.18.0.2', 'node-to-node mesh', true],
      ['Mesh_fd00_198_18__2', 'fd00:198:18::2', 'node-to-node mesh', true],
      ['Node_fd00_198_18__3', 'fd00:198:18::3', 'route reflector', false],
      ['Global_fd00_198_18__fe', 'fd00:198:18::fe', 'global', true],
    ]);
    const [status] = await collectStatus([
      {
        name: 'n',
        host: cannedHost('n', () => ok(out)),
        socketPath: '/s',
        expectedProtocols: ['Mesh_fd00_198_18__2', 'Node_fd00_198_18__3', 'Mesh_fd00_198_18__4'],
      },
    ]);
    expect(status.problems).toEqual([
      'fd00:198:18::3 (Node_fd00_198_18__3): start Active Socket: Connection refused',
      'Mesh_fd00_198_18__4: no such BGP session in BIRD',
    ]);
  });
});
