/**
 * `calico-net graph` without hosts: the picture model, and the SVG, Mermaid and DOT made from it.
 * The SVG must be well-formed XML naming every node, session and state; hostile text (BIRD's
 * messages, drift paths) must stay text; and a 128-node reflector cluster must stay a picture of
 * its subnets, not of thousands of edges.
 */
import { DOMParser, Document, Element } from '@xmldom/xmldom';
import { bgpSessionsOf } from '../../constructs/bgp-sessions';
import { buildPicture, ClusterPicture, DETAILED_LIMIT } from '../../cli/graph/picture';
import { pictureSvg } from '../../cli/graph/svg';
import { mermaidText, pictureDot, pictureMermaid } from '../../cli/graph/text-formats';
import { driftOfReport, parseGraphArgs } from '../../cli/graph-command';
import { demoCluster, liveState, rrCluster } from '../support/graph/fixtures';

function parseXml(svg: string): Document & { documentElement: Element } {
  const errors: string[] = [];
  const doc = new DOMParser({
    onError: (level: string, msg: string) => void errors.push(`${level}: ${msg}`),
  }).parseFromString(svg, 'image/svg+xml');
  expect(errors).toEqual([]);
  expect(doc.documentElement?.tagName).toBe('svg');
  return doc as Document & { documentElement: Element };
}

const elements = (doc: Document & { documentElement: Element }, predicate: (e: Element) => boolean): Element[] => {
  const out: Element[] = [];
  const walk = (e: Element) => {
    if (predicate(e)) out.push(e);
    for (let c = e.firstChild; c; c = c.nextSibling) if (c.nodeType === 1) walk(c as Element);
  };
  walk(doc.documentElement);
  return out;
};
const hasClass = (e: Element, cls: string) => (e.getAttribute('class') ?? '').split(' ').includes(cls);

const demo = demoCluster();
const faults = {
  down: [
    ['node2', '198.18.1.5'],
    ['node5', '198.18.0.2'],
  ] as [string, string][],
  drifted: { node6: ['calico_workload web6: mtu'] },
};

test('the demo cluster: every node with its block and workloads, every session pair an edge with its state', async () => {
  const picture = buildPicture(demo, liveState(demo, faults));
  expect(picture.detailed).toBe(true);
  const doc = parseXml(await pictureSvg(picture));
  const text = doc.documentElement.textContent ?? '';
  for (const node of demo.nodes) {
    const card = elements(doc, (e) => e.getAttribute('data-name') === node.name);
    expect(card).toHaveLength(1);
    expect(card[0].textContent).toContain(node.podCidr);
    for (const w of node.workloads) expect(card[0].textContent).toContain(`${w.name} ${w.ip}`);
  }
  // Subnets as groups holding their nodes' cards.
  expect(elements(doc, (e) => hasClass(e, 'subnet')).map((e) => e.textContent?.trim())).toEqual([
    'subnet 198.18.0.0/24',
    'subnet 198.18.1.0/24',
  ]);
  // 15 mesh pairs, 6 peer sessions, 1 tunnel edge between the two subnets.
  const edges = elements(doc, (e) => hasClass(e, 'edge'));
  expect(edges.filter((e) => e.getAttribute('data-kind') === 'mesh')).toHaveLength(15);
  expect(edges.filter((e) => e.getAttribute('data-kind') === 'peer')).toHaveLength(6);
  expect(edges.filter((e) => e.getAttribute('data-kind') === 'tunnel')).toHaveLength(1);
  // Exactly the pair taken down is down, with BIRD's words; the others Established.
  const down = edges.filter((e) => e.getAttribute('data-state') === 'down');
  expect(down.map((e) => [e.getAttribute('data-from'), e.getAttribute('data-to')])).toEqual([
    ['node_node2', 'node_node5'],
  ]);
  expect(down[0].textContent).toContain('Active Socket: Connection refused');
  expect(
    edges.filter((e) => e.getAttribute('data-kind') !== 'tunnel' && e.getAttribute('data-state') === 'established'),
  ).toHaveLength(20);
  // Every session (both ends) is named in some edge's tooltip.
  const titles = edges.map((e) => e.getElementsByTagName('title')[0]?.textContent ?? '').join('\n');
  for (const node of demo.nodes)
    for (const s of bgpSessionsOf(demo, node.name)) expect(titles).toContain(`${node.name} ${s.protocol}:`);
  // The nodes with a session down, and the drifted one, are marked on their cards.
  expect(elements(doc, (e) => hasClass(e, 'session-down')).map((e) => e.getAttribute('data-name'))).toEqual([
    'node2',
    'node5',
  ]);
  expect(elements(doc, (e) => hasClass(e, 'drifted')).map((e) => e.getAttribute('data-name'))).toEqual(['node6']);
  expect(text).toContain('DRIFT calico_workload web6: mtu');
  // The legend names every state.
  for (const words of [
    'BGP session Established',
    'BGP session down',
    'BGP session not read',
    'tunnel (VXLAN / IPIP)',
    'unreachable node',
    'drifted node',
    'route reflector',
  ])
    expect(text).toContain(words);
});

test('offline: nothing is claimed about sessions; every edge is "not read"', async () => {
  const picture = buildPicture(demo);
  expect(picture.edges.filter((e) => e.kind !== 'tunnel').every((e) => e.state === 'unknown')).toBe(true);
  expect(picture.nodes.every((n) => n.downSessions.length === 0 && n.unreachable === undefined)).toBe(true);
  parseXml(await pictureSvg(picture));
});

test('an unreachable node is marked, its sessions are not read, and its peers see theirs down', () => {
  const picture = buildPicture(demo, liveState(demo, { unreachable: { node3: 'cannot connect: ECONNREFUSED' } }));
  const node3 = picture.nodes.find((n) => n.name === 'node3');
  expect(node3?.unreachable).toBe('cannot connect: ECONNREFUSED');
  const toNode3 = picture.edges.filter((e) => e.from === 'node_node3' || e.to === 'node_node3');
  expect(toNode3.filter((e) => e.kind === 'mesh').every((e) => e.state === 'down')).toBe(true);
  expect(
    toNode3
      .flatMap((e) => e.sessions)
      .filter((s) => s.node === 'node3')
      .every((s) => s.state === 'unknown'),
  ).toBe(true);
  expect(picture.summary).toContain('unreachable: node3');
});

test('hostile text from a host stays text: XML, Mermaid and DOT', async () => {
  const evil = `<script>alert("x")</script> & ' \${x} %{y} ]] --> |a| ;\n"\\`;
  const live = liveState(demo, { unreachable: { node1: evil }, drifted: { node2: [evil] } });
  const picture = buildPicture(demo, live);
  const svg = await pictureSvg(picture);
  const doc = parseXml(svg);
  expect(elements(doc, (e) => e.tagName === 'script')).toEqual([]);
  expect(doc.documentElement.textContent).toContain('UNREACHABLE: <script>alert("x")</script> & \'');
  const mermaid = pictureMermaid(picture);
  for (const line of mermaid.split('\n').filter((l) => l.includes('node_node1[')))
    expect(line).not.toMatch(/<script|"x"|\]\]|-->/);
  expect(mermaidText('a"b[c]<d>')).toBe('a#34;b#91;c#93;#60;d#62;');
  const dot = pictureDot(picture);
  expect(dot).toContain('\\"x\\"');
  expect(dot).not.toMatch(/[^\\]"x"/);
});

test('128 nodes with reflectors: groups, not mesh edges; every node still on the picture', async () => {
  const big = rrCluster(128, 4);
  const picture: ClusterPicture = buildPicture(
    big,
    liveState(big, { down: [['r3n4', '198.18.0.1']], unreachable: { r4n7: 'timeout' } }),
  );
  expect(picture.detailed).toBe(false);
  expect(big.nodes.length).toBeGreaterThan(DETAILED_LIMIT);
  // One reflector-group edge per subnet, one edge per ToR peer, one overlay edge per subnet.
  expect(picture.edges.filter((e) => e.kind === 'route-reflector')).toHaveLength(4);
  expect(picture.edges.filter((e) => e.kind === 'peer')).toHaveLength(4);
  expect(picture.edges.filter((e) => e.kind === 'tunnel')).toHaveLength(4);
  const rrEdge = picture.edges.find(
    (e) => e.kind === 'route-reflector' && e.to === picture.nodes.find((n) => n.name === 'r3n4')?.subnet,
  );
  expect(rrEdge?.state).toBe('down');
  expect(rrEdge?.label).toMatch(/down \(r3n4→r1n1\)/);
  const svg = await pictureSvg(picture);
  const doc = parseXml(svg);
  expect(elements(doc, (e) => hasClass(e, 'node'))).toHaveLength(128);
  expect(elements(doc, (e) => hasClass(e, 'reflector')).map((e) => e.getAttribute('data-name'))).toEqual([
    'r1n1',
    'r2n1',
  ]);
  expect(elements(doc, (e) => hasClass(e, 'unreachable')).map((e) => e.getAttribute('data-name'))).toEqual(['r4n7']);
  // A picture, not a wall: bounded by its subnets' grid, not by 128 × a card's width.
  const width = Number(doc.documentElement.getAttribute('width'));
  const height = Number(doc.documentElement.getAttribute('height'));
  expect(width * height).toBeLessThan(6000 * 3000);
  expect(
    pictureMermaid(picture)
      .split('\n')
      .filter((l) => /^ {2}\S+ (---|-\.-)/.test(l)),
  ).toHaveLength(12);
});

test('drift reports become marks per node; graph options are checked', () => {
  const drift = driftOfReport({
    version: 1,
    stack: 'demo',
    drifted: true,
    resources: [
      {
        address: 'calico_node.a',
        type: 'calico_node',
        node: 'node1',
        workload: null,
        action: 'update',
        attributes: [{ path: 'proxy_arp', expected: true, actual: false }],
      },
      {
        address: 'calico_workload.w',
        type: 'calico_workload',
        node: 'node1',
        workload: 'web1',
        action: 'delete',
        attributes: [],
      },
    ],
    unreadable: [{ node: 'node4', resources: [], reason: 'Cannot reach node node4' }],
  });
  expect(drift.drifted.get('node1')).toEqual(['calico_node: proxy_arp', 'calico_workload web1 gone']);
  expect(drift.unreadable.get('node4')).toBe('Cannot reach node node4');
  expect(parseGraphArgs(['--format', 'dot', '--offline']).format).toBe('dot');
  expect(() => parseGraphArgs(['--format', 'png'])).toThrow(/--format must be svg, mermaid or dot, not "png"/);
  expect(() => parseGraphArgs(['--out'])).toThrow(/--out needs a value/);
  expect(() => parseGraphArgs(['--bogus'])).toThrow(/unknown option "--bogus"/);
});

test('a node without a prefix length sits in a group labelled "subnet not given", said once', async () => {
  const cluster = { ...demo, nodes: demo.nodes.map((n) => ({ ...n, prefixLength: undefined })) };
  const doc = parseXml(await pictureSvg(buildPicture(cluster, liveState(cluster, faults))));
  expect(elements(doc, (e) => hasClass(e, 'subnet')).map((e) => e.textContent?.trim())).toEqual(['subnet not given']);
});
