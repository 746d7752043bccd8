/**
 * Peering with the fabric, in process: Calico's BGPPeer / BGPConfiguration / BGPFilter fields as
 * they render in bird.conf (every variant parse-checked by real `bird -p`), the kernel
 * programming of routes learned from peers, the inventory fields, and the synth-time checks that
 * name the peer and field.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, TerraformStack } from 'cdktf';
import { BgpPeer, CalicoCluster, CalicoNode } from '../../constructs';
import { ClusterSpec, NodeSpec, PeerSpec } from '../../constructs/model';
import { clusterProblems } from '../../constructs/validation';
import { renderBirdConfig } from '../../constructs/bird-config';
import { bgpSessionsOf } from '../../constructs/bgp-sessions';
import { packageRoot } from '../../providers/package-root';
import { parseInventory } from '../../stacks/inventory';
import { birdParse } from '../stacks/synth-helpers';

function node(k: number, over: Partial<NodeSpec> = {}): NodeSpec {
  return {
    name: `node${k}`,
    address: `198.18.0.${k}`,
    prefixLength: 24,
    podCidr: `198.19.${k}.0/24`,
    workloads: [],
    ...over,
  };
}

const tor: PeerSpec = { address: '198.18.0.100', asNumber: 65000 };

function cluster(over: Partial<ClusterSpec> = {}, peer: Partial<PeerSpec> = {}): ClusterSpec {
  return { name: 'lab', podCidr: '198.19.0.0/16', nodes: [node(1), node(2)], peers: [{ ...tor, ...peer }], ...over };
}

function parsed(c: ClusterSpec, nodeName = 'node1'): string {
  const conf = renderBirdConfig(c, nodeName);
  const r = birdParse(conf);
  if (r.code !== 0) throw new Error(`bird -p rejected:\n${r.output}\n${conf}`);
  return conf;
}

const sessionLine = (conf: string, protocol: string) =>
  conf.split('\n').find((l) => l.startsWith(`protocol bgp ${protocol} `));
const kernelFilter = (conf: string) => /filter calico_kernel_programming \{\n([\s\S]*?)\n\}/.exec(conf)![1];

describe('routes learned from peers go into the kernel', () => {
  test('pool routes as before, then what BGP learned; device and static routes never; the default route refused', () => {
    expect(kernelFilter(parsed(cluster()))).toBe(
      [
        '  if source = RTS_DEVICE then reject;',
        '  if source = RTS_STATIC then reject;',
        '  if net ~ [ 198.19.0.0/16+ ] then accept;',
        '  if source != RTS_BGP then reject;',
        '  if net = 0.0.0.0/0 then reject;',
        '  accept;',
      ].join('\n'),
    );
  });

  test('acceptDefaultRoute: a default route from that peer only (by its address)', () => {
    const c = cluster({
      peers: [
        { ...tor, acceptDefaultRoute: true },
        { address: '198.18.0.101', asNumber: 65001 },
        { address: '198.18.0.102', asNumber: 65002, acceptDefaultRoute: true },
      ],
    });
    expect(kernelFilter(parsed(c))).toContain(
      '  if net = 0.0.0.0/0 then { if from ~ [ 198.18.0.100, 198.18.0.102 ] then accept; reject; }\n  accept;',
    );
  });

  test('a peer for other nodes only does not open the default route on this one', () => {
    const c = cluster({}, { acceptDefaultRoute: true, nodes: ['node2'] });
    expect(kernelFilter(parsed(c, 'node1'))).toContain('if net = 0.0.0.0/0 then reject;');
    expect(kernelFilter(parsed(c, 'node2'))).toContain('from ~ [ 198.18.0.100 ]');
  });

  test('the encapsulated blocks are still refused before the pool is accepted', () => {
    const c = cluster({ vxlanMode: 'Always' });
    expect(kernelFilter(parsed(c))).toMatch(
      /if net ~ calico_encapsulated then reject;\n {2}if net ~ \[ 198\.19\.0\.0\/16\+ \] then accept;\n {2}if source != RTS_BGP then reject;/,
    );
  });
});

describe("BGPPeer fields render on the peer's session, and bird -p accepts each", () => {
  test.each<[string, Partial<PeerSpec>, string]>([
    ['keepaliveTime + holdTime', { keepaliveTime: 3, holdTime: 9 }, ' hold time 9; keepalive time 3; }'],
    ['maxRestartTime', { maxRestartTime: 60 }, ' graceful restart time 60; }'],
    ['keepOriginalNextHop', { keepOriginalNextHop: true }, ' ipv4 { next hop keep; }; }'],
    ['localASNumber', { localASNumber: 64600 }, ' local as 64600; }'],
    ['numAllowedLocalASNumbers', { numAllowedLocalASNumbers: 2 }, ' allow local as 2; }'],
    ['ttlSecurity 1 (direct)', { ttlSecurity: 1 }, ' ttl security on; }'],
    ['ttlSecurity 3', { ttlSecurity: 3 }, ' ttl security on; multihop 3; }'],
    [
      'sourceAddress UseNodeIP',
      { sourceAddress: 'UseNodeIP' },
      'from bgp_template { neighbor 198.18.0.100 as 65000; }',
    ],
    [
      'sourceAddress None',
      { sourceAddress: 'None' },
      'from bgp_template_any_source { neighbor 198.18.0.100 as 65000; }',
    ],
    ['bfd', { bfd: { interval: 200, multiplier: 4 } }, ' bfd on; }'],
  ])('%s', (_name, peer, expected) => {
    const conf = parsed(cluster({}, peer));
    expect(sessionLine(conf, 'Global_198_18_0_100')).toContain(expected);
    // The mesh session is untouched by a peer's fields.
    expect(sessionLine(conf, 'Mesh_198_18_0_2')).toBe(
      'protocol bgp Mesh_198_18_0_2 from bgp_template { neighbor 198.18.0.2 as 64512; passive on; }',
    );
  });

  test('bfd: one protocol bfd with the interval and multiplier; sourceAddress None: a template without the address', () => {
    expect(parsed(cluster({}, { bfd: { interval: 200, multiplier: 4 } }))).toContain(
      'protocol bfd calico_bfd {\n  interface "*" { interval 200 ms; multiplier 4; };\n}',
    );
    expect(parsed(cluster({}, { bfd: {} }))).toContain('interval 100 ms; multiplier 5;');
    expect(parsed(cluster({}, { sourceAddress: 'None' }))).toMatch(
      /template bgp bgp_template_any_source \{\n {2}local as 64512;/,
    );
  });

  test('multihop eBGP keeps its recursive gateway in the one ipv4 block it shares with next hop keep', () => {
    const c = cluster({ nodes: [node(1, { prefixLength: undefined }), node(2)] }, { keepOriginalNextHop: true });
    expect(sessionLine(parsed(c), 'Global_198_18_0_100')).toBe(
      'protocol bgp Global_198_18_0_100 from bgp_template { neighbor 198.18.0.100 as 65000; multihop; ipv4 { gateway recursive; next hop keep; }; }',
    );
  });

  test('every field at once', () => {
    const line = sessionLine(
      parsed(
        cluster(
          { filters: [{ name: 'f', importV4: [{ cidr: '10.0.0.0/8', matchOperator: 'In', action: 'Reject' }] }] },
          {
            keepaliveTime: 3,
            holdTime: 9,
            maxRestartTime: 60,
            keepOriginalNextHop: true,
            localASNumber: 64600,
            numAllowedLocalASNumbers: 1,
            ttlSecurity: 1,
            sourceAddress: 'None',
            filters: ['f'],
            bfd: {},
            acceptDefaultRoute: true,
          },
        ),
      ),
      'Global_198_18_0_100',
    );
    expect(line).toBe(
      "protocol bgp Global_198_18_0_100 from bgp_template_any_source { neighbor 198.18.0.100 as 65000; local as 64600; hold time 9; keepalive time 3; graceful restart time 60; allow local as 1; ttl security on; bfd on; ipv4 { next hop keep; import filter { 'bgp_f_importFilterV4'(); accept; }; }; }",
    );
  });
});

describe('BGPFilter', () => {
  const filters: ClusterSpec['filters'] = [
    {
      name: 'edge-1',
      importV4: [
        { cidr: '10.0.0.0/8', matchOperator: 'In', action: 'Reject' },
        { cidr: '198.18.50.0/24', matchOperator: 'Equal', action: 'Accept' },
      ],
      exportV4: [
        { cidr: '198.19.2.0/24', matchOperator: 'Equal', action: 'Reject' },
        { cidr: '198.19.0.0/16', matchOperator: 'NotIn', action: 'Reject' },
        { cidr: '198.19.1.0/24', matchOperator: 'NotEqual', action: 'Accept' },
      ],
    },
    { name: 'only-import', importV4: [{ cidr: '0.0.0.0/0', matchOperator: 'Equal', action: 'Reject' }] },
    { name: 'unused', exportV4: [{ cidr: '198.19.9.0/24', matchOperator: 'Equal', action: 'Reject' }] },
  ];

  test("rules in order, one function per direction; the peer's filters run first, then Calico's logic (as Calico does)", () => {
    const conf = parsed(cluster({ filters }, { filters: ['edge-1', 'only-import'] }));
    expect(conf).toContain(
      "function 'bgp_edge-1_importFilterV4'() {\n  if ((net ~ 10.0.0.0/8)) then { reject; }\n  if ((net = 198.18.50.0/24)) then { accept; }\n}",
    );
    expect(conf).toContain(
      "function 'bgp_edge-1_exportFilterV4'() {\n  if ((net = 198.19.2.0/24)) then { reject; }\n  if ((net !~ 198.19.0.0/16)) then { reject; }\n  if ((net != 198.19.1.0/24)) then { accept; }\n}",
    );
    expect(conf).toContain(
      "function 'bgp_only-import_importFilterV4'() {\n  if ((net = 0.0.0.0/0)) then { reject; }\n}",
    );
    expect(conf).not.toContain('unused');
    expect(sessionLine(conf, 'Global_198_18_0_100')).toContain(
      "ipv4 { import filter { 'bgp_edge-1_importFilterV4'(); 'bgp_only-import_importFilterV4'(); accept; }; export filter { 'bgp_edge-1_exportFilterV4'(); calico_export(); reject; }; };",
    );
    // Calico's export logic became a function the filter and the peers call; the mesh still uses the filter.
    expect(conf).toContain(
      'function calico_export() {\n  calico_aggr();\n  if ( net ~ [ 198.19.0.0/16+ ] ) then { accept; }\n}\n\nfilter calico_export_to_bgp_peers {\n  calico_export();\n  reject;\n}',
    );
  });

  test('a filter referenced only by a peer of other nodes is not rendered on this one', () => {
    const conf = parsed(cluster({ filters }, { filters: ['edge-1'], nodes: ['node2'] }), 'node1');
    expect(conf).not.toContain('bgp_edge-1');
    expect(conf).toContain('filter calico_export_to_bgp_peers {\n  calico_aggr();');
  });
});

describe('BGPConfiguration', () => {
  test('nodeToNodeMeshEnabled: false leaves only the peers', () => {
    const c = cluster({ nodeToNodeMeshEnabled: false });
    expect(bgpSessionsOf(c, 'node1').map((s) => s.protocol)).toEqual(['Global_198_18_0_100']);
    expect(parsed(c)).not.toContain('Mesh_');
    expect(bgpSessionsOf(cluster({ nodeToNodeMeshEnabled: true }), 'node1').map((s) => s.protocol)).toEqual([
      'Mesh_198_18_0_2',
      'Global_198_18_0_100',
    ]);
  });

  test('listenPort: BIRD listens there and the nodes reach each other there; external peers keep 179', () => {
    const conf = parsed(cluster({ listenPort: 1790 }));
    expect(conf).toContain('local 198.18.0.1 port 1790 as 64512;');
    expect(sessionLine(conf, 'Mesh_198_18_0_2')).toContain('neighbor 198.18.0.2 port 1790 as 64512;');
    expect(sessionLine(conf, 'Global_198_18_0_100')).toContain('neighbor 198.18.0.100 as 65000;');
  });

  test('communities on prefixAdvertisements: standard and large, by name or by value', () => {
    const conf = parsed(
      cluster({
        communities: [
          { name: 'rack', value: '64512:100' },
          { name: 'big', value: '64512:1:2' },
        ],
        prefixAdvertisements: [{ cidr: '198.19.0.0/16', communities: ['rack', 'big', '65000:7'] }],
      }),
    );
    expect(conf).toContain(
      'function calico_apply_communities() {\n  if ( net ~ 198.19.0.0/16 ) then { bgp_community.add((64512, 100)); }\n  if ( net ~ 198.19.0.0/16 ) then { bgp_large_community.add((64512, 1, 2)); }\n  if ( net ~ 198.19.0.0/16 ) then { bgp_community.add((65000, 7)); }\n}',
    );
    expect(conf).toContain('filter calico_export_to_bgp_peers {\n  calico_apply_communities();\n  calico_aggr();');
  });

  test('service ranges: announced from every node or the listed ones, never programmed into the kernel', () => {
    const c = cluster({
      serviceClusterIPs: [{ cidr: '198.18.96.0/24' }],
      serviceExternalIPs: [{ cidr: '198.18.97.0/28', nodes: ['node2'] }],
      serviceLoadBalancerIPs: [{ cidr: '198.18.97.16/28' }],
    });
    const n1 = parsed(c, 'node1');
    const n2 = parsed(c, 'node2');
    expect(n1).toContain(
      'protocol static calico_service_ranges {\n  ipv4;\n  route 198.18.96.0/24 blackhole;\n  route 198.18.97.16/28 blackhole;\n}',
    );
    expect(n2).toContain('route 198.18.97.0/28 blackhole;');
    for (const conf of [n1, n2]) {
      expect(kernelFilter(conf)).toContain(
        'if net ~ [ 198.18.96.0/24+, 198.18.97.0/28+, 198.18.97.16/28+ ] then reject;',
      );
      expect(conf).toContain('  if ( net ~ [ 198.18.96.0/24+, 198.18.97.0/28+, 198.18.97.16/28+ ] ) then { accept; }');
    }
  });
});

describe('the inventory', () => {
  const examplePath = path.join(packageRoot(), 'examples', 'fabric-peering.yaml');

  test('examples/fabric-peering.yaml: every field loads and every node config passes bird -p', () => {
    const c = parseInventory(fs.readFileSync(examplePath, 'utf8'), examplePath);
    expect(c.nodeToNodeMeshEnabled).toBe(false);
    expect(c.filters?.[0].name).toBe('no-test-block');
    expect(c.peers[0]).toMatchObject({
      keepaliveTime: 3,
      holdTime: 9,
      bfd: { interval: 100, multiplier: 3 },
      filters: ['no-test-block'],
    });
    for (const n of c.nodes) parsed(c, n.name);
    expect(sessionLine(parsed(c, 'node2'), 'Global_198_18_0_101')).toBe(
      'protocol bgp Global_198_18_0_101 from bgp_template_any_source { neighbor 198.18.0.101 as 65000; local as 64513; ttl security on; ipv4 { next hop keep; }; }',
    );
  });

  test('the fields are typed and their values checked', () => {
    const base = fs.readFileSync(examplePath, 'utf8');
    expect(() => parseInventory(base.replace('keepaliveTime: 3', 'keepaliveTime: 3s'), examplePath)).toThrow(
      'peers[0].keepaliveTime: expected a number, found string "3s"',
    );
    expect(() => parseInventory(base.replace('sourceAddress: None', 'sourceAddress: Node'), examplePath)).toThrow(
      'peers[1].sourceAddress: must be one of UseNodeIP, None, not "Node"',
    );
    expect(() => parseInventory(base.replace('matchOperator: Equal', 'matchOperator: Equals'), examplePath)).toThrow(
      'filters[0].exportV4[0].matchOperator: must be one of Equal, NotEqual, In, NotIn, not "Equals"',
    );
    expect(() => parseInventory(base.replace('keepOriginalNextHop', 'keepOriginalNexthop'), examplePath)).toThrow(
      'unknown key "keepOriginalNexthop" (did you mean "keepOriginalNextHop"?)',
    );
  });
});

describe('validation names the peer and the field', () => {
  test.each<[string, Partial<ClusterSpec>, Partial<PeerSpec>, string]>([
    [
      'hold 1',
      {},
      { holdTime: 1 },
      'peers[0] 198.18.0.100.holdTime: 1 is not allowed by BGP (0 switches keepalives off, else at least 3 seconds)',
    ],
    ['hold 2', {}, { holdTime: 2 }, 'peers[0] 198.18.0.100.holdTime: 2 is not allowed by BGP'],
    [
      'hold < 3 × keepalive',
      {},
      { holdTime: 9, keepaliveTime: 4 },
      'peers[0] 198.18.0.100.keepaliveTime: 4 s does not fit three times into the hold time (9 s); use at most 3',
    ],
    [
      'keepalive against the default hold',
      {},
      { keepaliveTime: 81 },
      "peers[0] 198.18.0.100.keepaliveTime: 81 s does not fit three times into the hold time (240 s, BIRD's default); use at most 80",
    ],
    [
      'keepalive with hold 0',
      {},
      { holdTime: 0, keepaliveTime: 30 },
      'peers[0] 198.18.0.100.keepaliveTime: holdTime 0 switches keepalives off; leave keepaliveTime out',
    ],
    [
      'hold too big',
      {},
      { holdTime: 65536 },
      'peers[0] 198.18.0.100.holdTime: 65536 is not an integer in 0..65535 (seconds)',
    ],
    [
      'keepalive 0',
      {},
      { keepaliveTime: 0 },
      'peers[0] 198.18.0.100.keepaliveTime: 0 is not an integer in 1..65535 (seconds)',
    ],
    [
      'restart time',
      {},
      { maxRestartTime: 4096 },
      'peers[0] 198.18.0.100.maxRestartTime: 4096 is not an integer in 1..4095',
    ],
    [
      'local AS 0',
      {},
      { localASNumber: 0 },
      'peers[0] 198.18.0.100.localASNumber: 0 is not an AS number (1..4294967295)',
    ],
    [
      'local AS too big',
      {},
      { localASNumber: 4294967296 },
      'peers[0] 198.18.0.100.localASNumber: 4294967296 is not an AS number (1..4294967295)',
    ],
    [
      'allowed local AS',
      {},
      { numAllowedLocalASNumbers: 0 },
      'peers[0] 198.18.0.100.numAllowedLocalASNumbers: 0 is not an integer in 1..255',
    ],
    [
      'ttl security',
      {},
      { ttlSecurity: 256 },
      'peers[0] 198.18.0.100.ttlSecurity: 256 is not an integer in 1..255 (hops)',
    ],
    [
      'source address',
      {},
      { sourceAddress: 'Node' as never },
      'peers[0] 198.18.0.100.sourceAddress: must be one of UseNodeIP, None, not "Node"',
    ],
    [
      'unknown filter',
      { filters: [{ name: 'a' }] },
      { filters: ['b'] },
      'peers[0] 198.18.0.100.filters: no filter named "b" (filters: a)',
    ],
    [
      'no filters at all',
      {},
      { filters: ['b'] },
      'peers[0] 198.18.0.100.filters: no filter named "b" (the inventory defines no filters)',
    ],
    [
      'a filter twice',
      { filters: [{ name: 'a' }] },
      { filters: ['a', 'a'] },
      'peers[0] 198.18.0.100.filters: "a" is listed twice',
    ],
    [
      'bfd interval',
      {},
      { bfd: { interval: 5 } },
      'peers[0] 198.18.0.100.bfd.interval: 5 is not an integer in 10..60000 (milliseconds)',
    ],
    [
      'bfd multiplier',
      {},
      { bfd: { multiplier: 0 } },
      'peers[0] 198.18.0.100.bfd.multiplier: 0 is not an integer in 1..255',
    ],
    [
      'bfd over ttlSecurity hops',
      {},
      { bfd: {}, ttlSecurity: 2 },
      'peers[0] 198.18.0.100.bfd: BFD needs a directly connected peer, but the session from "node1", "node2" is multihop (ttlSecurity 2)',
    ],
    [
      'bfd with a node of unknown subnet',
      { nodes: [node(1), node(2, { prefixLength: undefined })] },
      { bfd: {} },
      'peers[0] 198.18.0.100.bfd: BFD needs a directly connected peer, but the session from "node2" is multihop (give the nodes their prefix, address: a.b.c.d/len, when the peer shares their subnet)',
    ],
    [
      'bfd to a peer on another subnet',
      {},
      { address: '198.18.5.1', bfd: {} },
      'peers[0] 198.18.5.1.bfd: BFD needs a directly connected peer, but the session from "node1", "node2" is multihop',
    ],
    ['listenPort', { listenPort: 0 }, {}, 'cluster.listenPort: 0 is not a port number (1..65535)'],
    [
      'service range in the pool',
      { serviceClusterIPs: [{ cidr: '198.19.128.0/17' }] },
      {},
      'cluster.serviceClusterIPs[0].cidr: 198.19.128.0/17 overlaps the pod pool 198.19.0.0/16',
    ],
    [
      'service range around the pool',
      { serviceLoadBalancerIPs: [{ cidr: '198.18.0.0/15' }] },
      {},
      'cluster.serviceLoadBalancerIPs[0].cidr: 198.18.0.0/15 overlaps the pod pool 198.19.0.0/16',
    ],
    [
      'service range not a cidr',
      { serviceExternalIPs: [{ cidr: '198.18.97.1/28' }] },
      {},
      'cluster.serviceExternalIPs[0].cidr: "198.18.97.1/28" has host bits set',
    ],
    [
      'service range for an unknown node',
      { serviceExternalIPs: [{ cidr: '198.18.97.0/28', nodes: ['node9'] }] },
      {},
      'cluster.serviceExternalIPs[0].nodes: no node named "node9"',
    ],
    [
      'community value',
      { communities: [{ name: 'c', value: '65536:1' }] },
      {},
      'cluster.communities[0] "c".value: "65536:1": each part of a standard community is at most 65535',
    ],
    [
      'community text',
      { communities: [{ name: 'c', value: 'no-export' }] },
      {},
      'cluster.communities[0] "c".value: "no-export" is not a community (aa:nn, or aa:nn:mm for a large community)',
    ],
    [
      'unknown community',
      { prefixAdvertisements: [{ cidr: '198.19.0.0/16', communities: ['rack'] }] },
      {},
      'cluster.prefixAdvertisements[0].communities: "rack" is neither a name from cluster.communities nor a community value (aa:nn or aa:nn:mm)',
    ],
    [
      'advertisement outside anything announced',
      { prefixAdvertisements: [{ cidr: '10.0.0.0/8', communities: ['1:1'] }] },
      {},
      'cluster.prefixAdvertisements[0].cidr: 10.0.0.0/8 is neither inside the pod pool 198.19.0.0/16 nor inside a service range',
    ],
    [
      'filter rule cidr',
      { filters: [{ name: 'a', importV4: [{ cidr: '10.0.0.0/33', matchOperator: 'In', action: 'Accept' }] }] },
      {},
      'filters[0] "a".importV4[0].cidr: "10.0.0.0/33" is not an IPv4 CIDR',
    ],
    [
      'filter rule action',
      { filters: [{ name: 'a', exportV4: [{ cidr: '10.0.0.0/8', matchOperator: 'In', action: 'Drop' as never }] }] },
      {},
      'filters[0] "a".exportV4[0].action: must be one of Accept, Reject, not "Drop"',
    ],
    ['filter name', { filters: [{ name: 'a b' }] }, {}, 'filters[0].name: "a b" is not a filter name'],
    ['filter name with a quote', { filters: [{ name: "a'b" }] }, {}, 'filters[0].name: "a\'b" is not a filter name'],
    ['duplicate filter', { filters: [{ name: 'a' }, { name: 'a' }] }, {}, 'filters[1] "a": duplicate filter name'],
  ])('%s', (_name, over, peer, message) => {
    const problems = clusterProblems(cluster(over, peer));
    expect(problems.find((p) => p.startsWith(message.slice(0, 40)))).toContain(message);
  });

  test('two BFD peers of one node must agree (one BFD instance per node)', () => {
    const c = cluster({
      peers: [
        { ...tor, bfd: { interval: 100 } },
        { address: '198.18.0.101', asNumber: 65000, bfd: { interval: 300 } },
      ],
    });
    expect(clusterProblems(c)).toContain(
      'peers 198.18.0.100 and 198.18.0.101: their bfd settings differ (100/5 against 300/5 ms/multiplier) on node "node1", which runs one BFD instance; give them the same interval and multiplier',
    );
  });

  test('the example is clean, and a cluster without the fields has no new problems', () => {
    expect(clusterProblems(cluster())).toEqual([]);
    const edges = cluster(
      { nodeToNodeMeshEnabled: false, listenPort: 1790 },
      { holdTime: 0, bfd: {}, ttlSecurity: 1, maxRestartTime: 4095 },
    );
    expect(clusterProblems(edges)).toEqual([]);
    parsed(edges);
    const widest = cluster(
      {},
      {
        holdTime: 65535,
        keepaliveTime: 21845,
        localASNumber: 4294967295,
        numAllowedLocalASNumbers: 255,
        ttlSecurity: 255,
      },
    );
    expect(clusterProblems(widest)).toEqual([]);
    parsed(widest);
  });
});

describe('the constructs', () => {
  function synth(
    props: Partial<ConstructorParameters<typeof CalicoCluster>[2]>,
    peer: Partial<PeerSpec>,
  ): { json?: any; error?: string } {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-peering-synth-'));
    try {
      const app = new App({ outdir });
      const stack = new TerraformStack(app, 'fab');
      const net = new CalicoCluster(stack, 'net', { name: 'fab', podCidr: '198.19.0.0/16', ...props });
      new CalicoNode(net, 'node1', { name: 'node1', address: '198.18.0.1/24', podCidr: '198.19.1.0/24' });
      new CalicoNode(net, 'node2', { name: 'node2', address: '198.18.0.2/24', podCidr: '198.19.2.0/24' });
      new BgpPeer(net, 'tor', { ...tor, ...peer });
      app.synth();
      return { json: JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', 'fab', 'cdk.tf.json'), 'utf8')) };
    } catch (err) {
      return { error: (err as Error).message };
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  }

  test("CalicoCluster's BGPConfiguration props and filters, and BgpPeer's fields, reach every node's bird.conf", () => {
    const { json, error } = synth(
      {
        nodeToNodeMeshEnabled: false,
        filters: [{ name: 'f', exportV4: [{ cidr: '198.19.2.0/24', matchOperator: 'Equal', action: 'Reject' }] }],
      },
      { filters: ['f'], numAllowedLocalASNumbers: 1, acceptDefaultRoute: true },
    );
    expect(error).toBeUndefined();
    const confs = Object.values<any>(json.resource.calico_bird_config).map((r) => r.content as string);
    expect(confs).toHaveLength(2);
    for (const conf of confs) {
      expect(conf).not.toContain('Mesh_');
      expect(conf).toContain("export filter { 'bgp_f_exportFilterV4'(); calico_export(); reject; };");
      expect(conf).toContain('allow local as 1;');
      expect(conf).toContain('if from ~ [ 198.18.0.100 ] then accept;');
    }
  });

  test('a bad field stops synth with the peer and field named', () => {
    expect(synth({}, { filters: ['nope'] }).error).toContain('peers[0] 198.18.0.100.filters: no filter named "nope"');
    expect(synth({ listenPort: 70000 }, {}).error).toContain('cluster.listenPort: 70000 is not a port number');
  });
});
