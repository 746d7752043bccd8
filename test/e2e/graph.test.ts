/**
 * `calico-net graph` on a deployed lab (lab 91, three nodes, iBGP mesh), run from the operator
 * namespace: every session drawn Established; then one session disabled in BIRD and one sysctl
 * changed by hand, and the next picture shows exactly that session down and that node drifted.
 * Drawing never changes a host. `drift --format md` carries the same picture in Mermaid.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DOMParser, Element } from '@xmldom/xmldom';
import { describeCommand, E2eCluster, NodeSnapshot } from './cluster';

let cluster: E2eCluster;

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: 91, nodes: 3, asMode: 'ibgp' });
  const deploy = await cluster.deploy();
  if (deploy.code !== 0) throw new Error(describeCommand(deploy));
  await cluster.waitForSessions(() => 2);
});

afterAll(async () => {
  await cluster?.down();
});

interface Drawn {
  edges: { from: string; to: string; kind: string; state: string }[];
  classes: Map<string, string[]>;
  text: string;
}

async function graph(): Promise<Drawn> {
  const out = path.join(cluster.root, 'graph.svg');
  const r = await cluster.calicoNet(['graph', '--out', out]);
  if (r.code !== 0) throw new Error(describeCommand(r));
  const errors: string[] = [];
  const doc = new DOMParser({
    onError: (level: string, msg: string) => void errors.push(`${level}: ${msg}`),
  }).parseFromString(fs.readFileSync(out, 'utf8'), 'image/svg+xml');
  expect(errors).toEqual([]);
  const drawn: Drawn = { edges: [], classes: new Map(), text: doc.documentElement?.textContent ?? '' };
  const walk = (e: Element) => {
    const cls = (e.getAttribute('class') ?? '').split(' ');
    if (cls.includes('edge'))
      drawn.edges.push({
        from: e.getAttribute('data-from') ?? '',
        to: e.getAttribute('data-to') ?? '',
        kind: e.getAttribute('data-kind') ?? '',
        state: e.getAttribute('data-state') ?? '',
      });
    if (cls.includes('node')) drawn.classes.set(e.getAttribute('data-name') ?? '', cls);
    for (let c = e.firstChild; c; c = c.nextSibling) if (c.nodeType === 1) walk(c as Element);
  };
  walk(doc.documentElement as Element);
  return drawn;
}

test('after deploy: three mesh sessions drawn Established, no drift; drawing changes no host', async () => {
  const before = new Map<string, NodeSnapshot>();
  for (const node of cluster.nodeNames) before.set(node, await cluster.snapshot(node));
  const drawn = await graph();
  expect(drawn.edges.map((e) => `${e.from}-${e.to}:${e.kind}:${e.state}`).sort()).toEqual([
    'node_node1-node_node2:mesh:established',
    'node_node1-node_node3:mesh:established',
    'node_node2-node_node3:mesh:established',
  ]);
  expect(drawn.text).toContain('BGP sessions (each end): 6 up');
  expect(drawn.text).toContain('no drift');
  for (const node of cluster.nodeNames) expect(await cluster.snapshot(node)).toEqual(before.get(node));
  expect((await cluster.plan()).code).toBe(0);
});

test('a session taken down and a sysctl changed by hand: that edge is down, that node drifted', async () => {
  const node3 = cluster.address('node3').replace(/\./g, '_');
  const disable = await cluster.exec('node1', ['birdc', '-s', '/run/bird/bird.ctl', 'disable', `Mesh_${node3}`]);
  expect(disable.code).toBe(0);
  expect((await cluster.exec('node2', ['sysctl', '-w', 'net.ipv4.ip_forward=0'])).code).toBe(0);
  // Both ends of node1-node3 see it down (node3's side retries and is refused).
  const drawn = await graph();
  expect(drawn.edges.map((e) => `${e.from}-${e.to}:${e.state}`).sort()).toEqual([
    'node_node1-node_node2:established',
    'node_node1-node_node3:down',
    'node_node2-node_node3:established',
  ]);
  expect(drawn.classes.get('node1')).toContain('session-down');
  expect(drawn.classes.get('node2')).toContain('drifted');
  expect(drawn.classes.get('node3')).not.toContain('drifted');
  expect(drawn.text).toContain('drifted: node2');
  expect(drawn.text).toMatch(/DRIFT calico_node: ip_forward/);

  // The Markdown drift report embeds the same picture as Mermaid, node2 marked drifted.
  const md = await cluster.calicoNet(['drift', '--format', 'md', '--skip-synth']);
  expect(md.code).toBe(2);
  const mermaid = /```mermaid\n([\s\S]*?)```/.exec(md.stdout)?.[1] ?? '';
  expect(mermaid).toMatch(/^flowchart TB/);
  expect(mermaid).toMatch(/^ {2}class node_node2 drifted$/m);

  expect((await cluster.exec('node1', ['birdc', '-s', '/run/bird/bird.ctl', 'enable', `Mesh_${node3}`])).code).toBe(0);
  const repair = await cluster.deploy();
  if (repair.code !== 0) throw new Error(describeCommand(repair));
});
