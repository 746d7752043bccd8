/**
 * BGPPeer `nodeSelector` over node `labels`, and BGPPeer `nextHopMode`, in process: which nodes
 * get the Global_ session (Calico's selector semantics, the policy parser), what each mode
 * renders (every variant parse-checked by real `bird -p`), the inventory fields, the synth
 * checks naming peer/node and field, and the warning for a selector that matches no node.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, TerraformStack } from 'cdktf';
import { BgpPeer, CalicoCluster, CalicoNode } from '../../constructs';
import { ClusterSpec, NodeSpec, PeerSpec, peerServesNode } from '../../constructs/model';
import { clusterProblems } from '../../constructs/validation';
import { peeringWarnings } from '../../constructs/peering-validation';
import { renderBirdConfig } from '../../constructs/bird-config';
import { bgpSessionsOf } from '../../constructs/bgp-sessions';
import { parseInventory } from '../../stacks/inventory';
import { birdParse } from '../stacks/synth-helpers';
import { buildPicture } from '../../cli/graph/picture';

function node(k: number, labels?: Record<string, string>, over: Partial<NodeSpec> = {}): NodeSpec {
  return {
    name: `node${k}`,
    address: `198.18.0.${k}`,
    prefixLength: 24,
    podCidr: `198.19.${k}.0/24`,
    workloads: [],
    ...(labels ? { labels } : {}),
    ...over,
  };
}

const tor: PeerSpec = { address: '198.18.0.100', asNumber: 65000 };
const GLOBAL = 'Global_198_18_0_100';

/** node1 rack a, node2 rack b, node3 no labels. */
function cluster(peer: Partial<PeerSpec> = {}, over: Partial<ClusterSpec> = {}): ClusterSpec {
  return {
    name: 'lab',
    podCidr: '198.19.0.0/16',
    nodes: [node(1, { rack: 'a', role: 'edge' }), node(2, { rack: 'b' }), node(3)],
    peers: [{ ...tor, ...peer }],
    ...over,
  };
}

function parsed(c: ClusterSpec, nodeName: string): string {
  const conf = renderBirdConfig(c, nodeName);
  const r = birdParse(conf);
  if (r.code !== 0) throw new Error(`bird -p rejected:\n${r.output}\n${conf}`);
  return conf;
}

/** The nodes that hold a session to the ToR. */
const peered = (c: ClusterSpec) =>
  c.nodes.filter((n) => bgpSessionsOf(c, n.name).some((s) => s.protocol === GLOBAL)).map((n) => n.name);
const sessionLine = (conf: string, protocol: string) =>
  conf.split('\n').find((l) => l.startsWith(`protocol bgp ${protocol} `));

describe('nodeSelector: the nodes whose labels match peer, with Calico semantics', () => {
  test.each<[string, string, string[]]>([
    ['equality', "rack == 'a'", ['node1']],
    ['inequality also matches a node without the label', "rack != 'a'", ['node2', 'node3']],
    ['has()', 'has(rack)', ['node2', 'node1'].sort()],
    ['!has()', '!has(rack)', ['node3']],
    ['in {…}', "rack in {'a', 'b'}", ['node1', 'node2']],
    ['not in {…} also matches a node without the label', "rack not in {'a'}", ['node2', 'node3']],
    ['&& and ||, with precedence', "rack == 'b' || rack == 'a' && role == 'edge'", ['node1', 'node2']],
    ['all()', 'all()', ['node1', 'node2', 'node3']],
    ['the empty selector is all()', '', ['node1', 'node2', 'node3']],
    ['matching none', "rack == 'z'", []],
  ])('%s: %s', (_, nodeSelector, want) => {
    const c = cluster({ nodeSelector });
    expect(clusterProblems(c)).toEqual([]);
    expect(peered(c)).toEqual(want);
    // The bird.conf of every node parses; the session is there exactly on the selected ones.
    for (const n of c.nodes)
      expect({ node: n.name, has: sessionLine(parsed(c, n.name), GLOBAL) !== undefined }).toEqual({
        node: n.name,
        has: want.includes(n.name),
      });
  });

  test('relabelling a node moves the peer: the session follows the labels, the protocol name stays Global_', () => {
    const before = cluster({ nodeSelector: "rack == 'a'" });
    const after = { ...before, nodes: [node(1, { rack: 'b' }), node(2, { rack: 'a' }), node(3)] };
    expect(peered(before)).toEqual(['node1']);
    expect(peered(after)).toEqual(['node2']);
    expect(sessionLine(parsed(after, 'node2'), GLOBAL)).toBe(
      `protocol bgp ${GLOBAL} from bgp_template { neighbor 198.18.0.100 as 65000; }`,
    );
  });

  test('a peer without nodes or nodeSelector still serves every node; nodes alone still works', () => {
    expect(peered(cluster())).toEqual(['node1', 'node2', 'node3']);
    expect(peered(cluster({ nodes: ['node3'] }))).toEqual(['node3']);
  });

  test('what hangs off the sessions follows the selector: the default route is opened only where the peer is', () => {
    const c = cluster({ nodeSelector: "rack == 'b'", acceptDefaultRoute: true });
    expect(parsed(c, 'node2')).toContain('if from ~ [ 198.18.0.100 ] then accept;');
    expect(parsed(c, 'node1')).toContain('if net = 0.0.0.0/0 then reject;');
  });

  test('BFD: the multihop check and the one-BFD-instance check count only the selected nodes', () => {
    // node9 is not on the ToR's segment (no prefix: multihop eBGP); it is not selected, so no problem.
    const far = node(9, { rack: 'far' }, { prefixLength: undefined, address: '198.18.1.9' });
    const c = cluster({ nodeSelector: "rack == 'a'", bfd: {} }, { nodes: [node(1, { rack: 'a' }), far] });
    expect(clusterProblems(c)).toEqual([]);
    expect(parsed(c, 'node1')).toMatch(/protocol bfd/);
    const all = { ...c, peers: [{ ...c.peers[0], nodeSelector: 'all()' }] };
    expect(clusterProblems(all)).toEqual([
      expect.stringContaining(
        'peers[0] 198.18.0.100.bfd: BFD needs a directly connected peer, but the session from "node9" is multihop',
      ),
    ]);
  });

  test('300 nodes, half selected: each gets its session or not, and the labels never reach bird.conf', () => {
    const nodes: NodeSpec[] = Array.from({ length: 300 }, (_, i) => ({
      name: `n${i}`,
      address: `198.18.${Math.floor(i / 200)}.${(i % 200) + 1}`,
      podCidr: `198.19.${i >> 2}.${(i & 3) * 64}/26`,
      labels: { rack: i % 2 === 0 ? 'even' : 'odd', 'example.com/zone': `z${i % 7}` },
      workloads: [],
    }));
    const c: ClusterSpec = {
      name: 'big',
      podCidr: '198.19.0.0/16',
      nodes,
      peers: [{ ...tor, address: '198.18.3.1', nodeSelector: "rack == 'even'" }],
    };
    expect(clusterProblems(c)).toEqual([]);
    const served = c.nodes.filter((n) => peerServesNode(c.peers[0], n));
    expect(served).toHaveLength(150);
    expect(served.every((n) => n.labels!.rack === 'even')).toBe(true);
    const conf = renderBirdConfig(c, 'n0');
    expect(conf).toContain('Global_198_18_3_1');
    expect(conf).not.toContain('even');
    expect(renderBirdConfig(c, 'n1')).not.toContain('Global_198_18_3_1');
  });
});

describe('nodeSelector and labels: synth checks name the peer or node and the field', () => {
  test.each<[string, Partial<PeerSpec>, Partial<ClusterSpec>, string]>([
    [
      'a selector that does not parse, with its position',
      { nodeSelector: "rack == 'a' &&" },
      {},
      `peers[0] 198.18.0.100.nodeSelector: selector "rack == 'a' &&" does not parse:`,
    ],
    [
      'an unknown operator',
      { nodeSelector: 'rack = a' },
      {},
      'peers[0] 198.18.0.100.nodeSelector: selector "rack = a" does not parse: ',
    ],
    [
      'an unterminated string',
      { nodeSelector: "rack == 'a" },
      {},
      'peers[0] 198.18.0.100.nodeSelector: selector "rack == \'a" does not parse: ',
    ],
    [
      'nodes and nodeSelector together (Calico: node and nodeSelector)',
      { nodes: ['node1'], nodeSelector: 'has(rack)' },
      {},
      'peers[0] 198.18.0.100: set nodes or nodeSelector, not both',
    ],
    [
      "a selector beyond Calico's 1024 characters",
      { nodeSelector: `rack in {${Array.from({ length: 200 }, (_, i) => `'r${i}'`).join(', ')}}` },
      {},
      'peers[0] 198.18.0.100.nodeSelector: 1498 characters, at most 1024',
    ],
    [
      'a node label value with ${ (never reaches a shell, but refused as a label)',
      {},
      { nodes: [node(1, { rack: '${a}' }), node(2)] },
      'nodes[0] "node1".labels: "${a}" is not a label value',
    ],
    ['a node label key with a quote', {}, { nodes: [node(1), node(2, { "ra'ck": 'a' })] }, `nodes[1] "node2".labels: `],
  ])('%s', (_, peer, over, message) => {
    const problems = clusterProblems(cluster(peer, over));
    expect(problems).toEqual([expect.stringContaining(message)]);
  });

  test('the position in a bad selector points at the problem', () => {
    const [problem] = clusterProblems(cluster({ nodeSelector: "rack == 'a' && && role == 'x'" }));
    expect(problem).toMatch(/at position 15$/);
  });

  test('a selector that matches no node is accepted (as Calico does) but warned about, naming peer and field', () => {
    const c = cluster({ nodeSelector: "rack == 'c'" });
    expect(clusterProblems(c)).toEqual([]);
    expect(peeringWarnings(c)).toEqual([
      'peers[0] 198.18.0.100.nodeSelector: "rack == \'c\'" matches no node (2 of 3 nodes have labels); no node peers with 198.18.0.100',
    ]);
    expect(peeringWarnings(cluster({ nodeSelector: "rack == 'a'" }))).toEqual([]);
    expect(peeringWarnings(cluster())).toEqual([]);
    // A selector that does not parse is an error, not also a warning.
    expect(peeringWarnings(cluster({ nodeSelector: 'rack ==' }))).toEqual([]);
  });
});

describe("nextHopMode: Calico's three modes on the peer's channel, bird -p accepts each", () => {
  test.each<[string, PeerSpec['nextHopMode'], string]>([
    [
      "Auto: BGP's default, nothing rendered",
      'Auto',
      `protocol bgp ${GLOBAL} from bgp_template { neighbor 198.18.0.100 as 65000; }`,
    ],
    [
      'Self',
      'Self',
      `protocol bgp ${GLOBAL} from bgp_template { neighbor 198.18.0.100 as 65000; ipv4 { next hop self; }; }`,
    ],
    [
      'Keep',
      'Keep',
      `protocol bgp ${GLOBAL} from bgp_template { neighbor 198.18.0.100 as 65000; ipv4 { next hop keep; }; }`,
    ],
  ])('%s', (_, nextHopMode, line) => {
    const c = cluster({ nextHopMode });
    expect(clusterProblems(c)).toEqual([]);
    expect(sessionLine(parsed(c, 'node1'), GLOBAL)).toBe(line);
  });

  test('Self on a multihop eBGP session shares the one ipv4 block with the recursive gateway', () => {
    const c = cluster(
      { nextHopMode: 'Self', address: '198.18.5.1' },
      { nodes: [node(1, undefined, { asNumber: 64601 }), node(2)] },
    );
    expect(sessionLine(parsed(c, 'node1'), 'Global_198_18_5_1')).toContain(
      'ipv4 { gateway recursive; next hop self; };',
    );
  });

  test('only the peer that sets it: the mesh sessions stay as they were', () => {
    const conf = parsed(cluster({ nextHopMode: 'Self' }), 'node1');
    expect(conf.split('\n').filter((l) => l.includes('next hop self'))).toHaveLength(1);
  });

  test('an unknown mode, and nextHopMode together with keepOriginalNextHop (Calico refuses both), name peer and field', () => {
    expect(clusterProblems(cluster({ nextHopMode: 'self' as never }))).toEqual([
      'peers[0] 198.18.0.100.nextHopMode: must be one of Auto, Self, Keep, not "self"',
    ]);
    expect(clusterProblems(cluster({ nextHopMode: 'Keep', keepOriginalNextHop: true }))).toEqual([
      'peers[0] 198.18.0.100.nextHopMode: keepOriginalNextHop is set too; use nextHopMode alone (Keep is what keepOriginalNextHop did)',
    ]);
    expect(clusterProblems(cluster({ nextHopMode: 'Self', keepOriginalNextHop: false }))).toEqual([]);
  });
});

describe('the inventory', () => {
  const yaml = (peerLines: string, labels = '    labels: { rack: a }') =>
    [
      'cluster: { name: lab, podCidr: 198.19.0.0/16 }',
      'nodes:',
      '  - name: node1',
      '    address: 198.18.0.1/24',
      '    podCidr: 198.19.1.0/24',
      labels,
      '  - name: node2',
      '    address: 198.18.0.2/24',
      '    podCidr: 198.19.2.0/24',
      'peers:',
      '  - address: 198.18.0.100',
      '    asNumber: 65000',
      peerLines,
    ].join('\n');

  test('node labels, nodeSelector and nextHopMode load and render', () => {
    const c = parseInventory(yaml(`    nodeSelector: "rack == 'a'"\n    nextHopMode: Self`), 'inv.yaml');
    expect(c.nodes[0].labels).toEqual({ rack: 'a' });
    expect(c.peers[0]).toMatchObject({ nodeSelector: "rack == 'a'", nextHopMode: 'Self' });
    expect(sessionLine(parsed(c, 'node1'), GLOBAL)).toContain('next hop self;');
    expect(sessionLine(parsed(c, 'node2'), GLOBAL)).toBeUndefined();
  });

  test('the fields are typed and checked, with the path', () => {
    expect(() => parseInventory(yaml('    nextHopMode: self'), 'inv.yaml')).toThrow(
      'peers[0].nextHopMode: must be one of Auto, Self, Keep, not "self"',
    );
    expect(() => parseInventory(yaml('    nodeSelector: [a]'), 'inv.yaml')).toThrow(
      'peers[0].nodeSelector: expected a string',
    );
    expect(() => parseInventory(yaml('    nodeSelector: "rack =="'), 'inv.yaml')).toThrow(
      'peers[0] 198.18.0.100.nodeSelector: selector "rack ==" does not parse',
    );
    expect(() => parseInventory(yaml('    nodeSelector: has(rack)', '    labels: { rack: [a] }'), 'inv.yaml')).toThrow(
      'nodes[0].labels',
    );
    expect(() => parseInventory(yaml('    nodeselector: has(rack)'), 'inv.yaml')).toThrow(
      'unknown key "nodeselector" (did you mean "nodeSelector"?)',
    );
    // Calico's peerSelector is not ours: said so, never "did you mean nodeSelector".
    expect(() => parseInventory(yaml('    peerSelector: has(rr)'), 'inv.yaml')).toThrow(
      `peers[0]: unknown key "peerSelector" (Calico's BGPPeer peerSelector (node-to-node peerings chosen by label) is not supported;`,
    );
  });
});

describe('the constructs', () => {
  function synth(peer: Partial<PeerSpec>): { json?: any; warnings: string[]; error?: string } {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-node-selector-synth-'));
    try {
      const app = new App({ outdir });
      const stack = new TerraformStack(app, 'fab');
      const net = new CalicoCluster(stack, 'net', { name: 'fab', podCidr: '198.19.0.0/16' });
      new CalicoNode(net, 'node1', {
        name: 'node1',
        address: '198.18.0.1/24',
        podCidr: '198.19.1.0/24',
        labels: { rack: 'a' },
      });
      new CalicoNode(net, 'node2', {
        name: 'node2',
        address: '198.18.0.2/24',
        podCidr: '198.19.2.0/24',
        labels: { rack: 'b' },
      });
      new BgpPeer(net, 'tor', { ...tor, ...peer });
      app.synth();
      const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8'));
      const warnings = (manifest.stacks.fab.annotations as { level: string; message: string }[])
        .filter((a) => a.level === '@cdktf/warn')
        .map((a) => a.message);
      return { json: JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', 'fab', 'cdk.tf.json'), 'utf8')), warnings };
    } catch (err) {
      return { error: (err as Error).message, warnings: [] };
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  }

  test("CalicoNode's labels and BgpPeer's nodeSelector and nextHopMode reach the right bird.conf", () => {
    const { json, error, warnings } = synth({ nodeSelector: "rack == 'b'", nextHopMode: 'Self' });
    expect(error).toBeUndefined();
    expect(warnings).toEqual([]);
    const confs = Object.values<any>(json.resource.calico_bird_config).map((r) => r.content as string);
    expect(confs).toHaveLength(2);
    expect(
      confs.filter((c) =>
        c.includes(
          `protocol bgp ${GLOBAL} from bgp_template { neighbor 198.18.0.100 as 65000; ipv4 { next hop self; }; }`,
        ),
      ),
    ).toHaveLength(1);
  });

  test('a selector that matches no node: synth goes on, with a warning in the manifest', () => {
    const { json, error, warnings } = synth({ nodeSelector: "rack == 'c'" });
    expect(error).toBeUndefined();
    expect(warnings).toEqual([
      expect.stringContaining('peers[0] 198.18.0.100.nodeSelector: "rack == \'c\'" matches no node'),
    ]);
    expect(
      Object.values<any>(json.resource.calico_bird_config).every((r) => !(r.content as string).includes(GLOBAL)),
    ).toBe(true);
  });

  test('a bad selector stops synth with the peer and field named', () => {
    expect(synth({ nodeSelector: 'rack in {a}' }).error).toContain(
      'peers[0] 198.18.0.100.nodeSelector: selector "rack in {a}" does not parse',
    );
  });
});

describe('calico-net graph', () => {
  test('a nodeSelector peer: its box names the selector, and it has an edge to the selected node only', () => {
    const c = cluster({ nodeSelector: "rack == 'a'" });
    const picture = buildPicture(c);
    const hub = picture.hubs.find((h) => h.kind === 'peer')!;
    expect(hub.label).toEqual(['peer 198.18.0.100', 'AS 65000', "nodes: rack == 'a'"]);
    expect(picture.edges.filter((e) => e.kind === 'peer').map((e) => e.to)).toEqual(['node_node1']);
  });
});
