/**
 * `calico-net status` and `calico-net drift` on a dual-stack cluster, in process: BIRD's IPv6
 * sessions are read with their family, the status table shows each family apart as calicoctl
 * does, an external IPv6 peer gets its route counts, and the drift report carries IPv6 facts as
 * readably as IPv4 ones (the report walks attributes, whatever family their values are in).
 */
import { parseBirdProtocols } from '../../cli/bird-protocols';
import { driftReportFromPlan, renderDriftMarkdown } from '../../cli/drift-report';
import { collectStatus, renderStatusTable } from '../../cli/status';
import { RemoteHost, RemoteResult } from '../../providers/ssh/types';

// `birdc show protocols` on a dual-stack route-reflector client, in BIRD 2.0.12's layout.
const protocols = [
  'BIRD 2.0.12 ready.',
  'Name       Proto      Table      State  Since         Info',
  'device1    Device     ---        up     03:50:01.100  ',
  'Node_198_18_135_1 BGP        ---        up     03:50:02.100  Established   ',
  'Node_fd00_198_18_135__1 BGP        ---        up     03:50:02.300  Established   ',
  'Global_fd00_198_18_135__fe BGP        ---        start  03:50:02.300  Active        Socket: Connection refused',
  'calico_blocks_v6 Static     master6    up     03:50:01.100  ',
].join('\n');

// `birdc show protocols all` for the external IPv6 peer: its channel is ipv6, its lines as IPv4's.
const protocolsAll = [
  'BIRD 2.0.12 ready.',
  'Name       Proto      Table      State  Since         Info',
  'Global_fd00_198_18_135__fe BGP        ---        up     03:50:02.300  Established   ',
  '  BGP state:          Established',
  '    Neighbor address: fd00:198:18:135::fe',
  '    Neighbor AS:      65000',
  '    Local AS:         64512',
  '  Channel ipv6',
  '    State:          UP',
  '    Table:          master6',
  '    Preference:     100',
  '    Input filter:   ACCEPT',
  '    Output filter:  calico_export_to_bgp_peers_v6',
  '    Routes:         2 imported, 3 exported, 2 preferred',
  '',
  'kernel_v6  Kernel     master6    up     03:50:01.100  ',
  '  Channel ipv6',
  '    Routes:         9 imported, 9 exported, 9 preferred',
  '',
].join('\n');

const ok = (stdout: string): RemoteResult => ({ code: 0, stdout, stderr: '' });

function host(answers: Record<string, string>): RemoteHost {
  return {
    label: 'node2',
    // templates/scripts/bird-status.sh: the question travels as a quoted variable.
    run: async (script: string) => {
      const question = /^question='([a-z-]+)'$/m.exec(script)?.[1];
      if (question === undefined || !(question in answers)) throw new Error(`unexpected script ${script}`);
      return ok(answers[question]);
    },
  };
}

test("BIRD's IPv6 session names are read back to the peer's IPv6 address, each row with its family", () => {
  expect(
    parseBirdProtocols(protocols).map((r) => [r.protocol, r.peerAddress, r.family, r.peerType, r.established]),
  ).toEqual([
    ['Node_198_18_135_1', '198.18.135.1', 'IPv4', 'route reflector', true],
    ['Node_fd00_198_18_135__1', 'fd00:198:18:135::1', 'IPv6', 'route reflector', true],
    ['Global_fd00_198_18_135__fe', 'fd00:198:18:135::fe', 'IPv6', 'global', false],
  ]);
});

test('status: one table per family as calicoctl prints them, a per-family tally, the IPv6 problem named', async () => {
  const [status] = await collectStatus([
    {
      name: 'node2',
      host: host({ protocols, 'protocols-all': protocolsAll }),
      socketPath: '/run/bird/bird.ctl',
      expectedProtocols: ['Node_198_18_135_1', 'Node_fd00_198_18_135__1', 'Global_fd00_198_18_135__fe'],
      externalPeers: [{ protocol: 'Global_fd00_198_18_135__fe', address: 'fd00:198:18:135::fe', bfd: false }],
    },
  ]);
  expect(status.problems).toEqual([
    'fd00:198:18:135::fe (Global_fd00_198_18_135__fe): start Active Socket: Connection refused',
  ]);
  // The external IPv6 peer's AS and route counts come from its ipv6 channel.
  expect(status.peers).toEqual([
    {
      protocol: 'Global_fd00_198_18_135__fe',
      address: 'fd00:198:18:135::fe',
      asNumber: 65000,
      state: 'Established',
      imported: 2,
      exported: 3,
    },
  ]);
  const rr = {
    node: 'node1',
    sessions: parseBirdProtocols(
      [
        'Name       Proto      Table      State  Since         Info',
        'Node_198_18_135_2 BGP        ---        up     03:50:02.100  Established   ',
      ].join('\n'),
    ),
    problems: [],
  };
  expect(renderStatusTable([rr, status]).split('\n')).toEqual([
    'Node node1:',
    '  IPv4 BGP status',
    '  +--------------+-----------------+-------+--------------+-------------+',
    '  | PEER ADDRESS | PEER TYPE       | STATE | SINCE        | INFO        |',
    '  +--------------+-----------------+-------+--------------+-------------+',
    '  | 198.18.135.2 | route reflector | up    | 03:50:02.100 | Established |',
    '  +--------------+-----------------+-------+--------------+-------------+',
    '  IPv6 BGP status',
    '  No IPv6 peers found.',
    '',
    'Node node2:',
    '  IPv4 BGP status',
    '  +--------------+-----------------+-------+--------------+-------------+',
    '  | PEER ADDRESS | PEER TYPE       | STATE | SINCE        | INFO        |',
    '  +--------------+-----------------+-------+--------------+-------------+',
    '  | 198.18.135.1 | route reflector | up    | 03:50:02.100 | Established |',
    '  +--------------+-----------------+-------+--------------+-------------+',
    '  IPv6 BGP status',
    '  +---------------------+-----------------+-------+--------------+-----------------------------------+',
    '  | PEER ADDRESS        | PEER TYPE       | STATE | SINCE        | INFO                              |',
    '  +---------------------+-----------------+-------+--------------+-----------------------------------+',
    '  | fd00:198:18:135::1  | route reflector | up    | 03:50:02.300 | Established                       |',
    '  | fd00:198:18:135::fe | global          | start | 03:50:02.300 | Active Socket: Connection refused |',
    '  +---------------------+-----------------+-------+--------------+-----------------------------------+',
    '  External peers:',
    '  +---------------------+-------+-------------+----------+----------+-----+',
    '  | PEER ADDRESS        | AS    | BGP STATE   | IMPORTED | EXPORTED | BFD |',
    '  +---------------------+-------+-------------+----------+----------+-----+',
    '  | fd00:198:18:135::fe | 65000 | Established | 2        | 3        | off |',
    '  +---------------------+-------+-------------+----------+----------+-----+',
    '  PROBLEM: fd00:198:18:135::fe (Global_fd00_198_18_135__fe): start Active Socket: Connection refused',
    '',
    '3/4 BGP sessions Established on 2 nodes (IPv4 2/2, IPv6 1/2); problems on: node2',
  ]);
});

test('the drift report carries IPv6 facts as it carries IPv4 ones: path, expected, actual, a diff for text', () => {
  // A refresh-only plan after hand changes on node1's IPv6 half (fact names as the host side
  // might call them: the report only walks attribute paths, it knows no fact by name).
  const plan = {
    resource_drift: [
      {
        address: 'calico_node.node1_node_A1',
        type: 'calico_node',
        change: {
          actions: ['update'],
          before: {
            name: 'node1',
            pod_cidr_v6: 'fd00:198:19:1::/64',
            ipv6_forwarding: '1',
            blackhole_v6: ['blackhole fd00:198:19:1::/64 proto 211'],
          },
          after: {
            name: 'node1',
            pod_cidr_v6: 'fd00:198:19:1::/64',
            ipv6_forwarding: '0',
            blackhole_v6: [],
          },
        },
      },
      {
        address: 'calico_workload.node1_wl1a_B2',
        type: 'calico_workload',
        change: {
          actions: ['update'],
          before: {
            name: 'wl1a',
            node_name: 'node1',
            ipv6: 'fd00:198:19:1::2',
            host_routes:
              'fd00:198:19:1::2 dev cali1a proto 211 metric 1024\n198.19.1.2 dev cali1a proto 211 scope link\n',
          },
          after: {
            name: 'wl1a',
            node_name: 'node1',
            ipv6: 'fd00:198:19:1::2',
            host_routes: '198.19.1.2 dev cali1a proto 211 scope link\n',
          },
        },
      },
    ],
  };
  const report = driftReportFromPlan(plan, 'lab135');
  expect(
    report.resources.map((r) => [r.node, r.workload, r.attributes.map((a) => [a.path, a.expected, a.actual])]),
  ).toEqual([
    [
      'node1',
      null,
      [
        ['blackhole_v6', ['blackhole fd00:198:19:1::/64 proto 211'], []],
        ['ipv6_forwarding', '1', '0'],
      ],
    ],
    [
      'node1',
      'wl1a',
      [
        [
          'host_routes',
          'fd00:198:19:1::2 dev cali1a proto 211 metric 1024\n198.19.1.2 dev cali1a proto 211 scope link\n',
          '198.19.1.2 dev cali1a proto 211 scope link\n',
        ],
      ],
    ],
  ]);
  const md = renderDriftMarkdown(report);
  // IPv6 text keeps its colons and "::" (nothing in the report reads them as separators).
  expect(md).toContain('| `blackhole_v6` | `["blackhole fd00:198:19:1::/64 proto 211"]` | `[]` |');
  expect(md).toContain('| `ipv6_forwarding` | `1` | `0` |');
  expect(md).toContain('-fd00:198:19:1::2 dev cali1a proto 211 metric 1024');
  expect(md).toContain('#### `calico_workload.node1_wl1a_B2` (workload `wl1a`)');
});
