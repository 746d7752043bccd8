/**
 * `calico-net graph --format dot` through Graphviz itself: `dot -Tsvg` must take every shape the
 * picture can have (meshes, reflector groups, summarized large clusters, tunnels within and
 * between subnets, names that carry quotes, backslashes, `${`, unicode and newlines) without an
 * error or a warning, and draw every node, hub and edge we wrote. Needs Debian's graphviz
 * (scripts/prerequisites.json); fails without it.
 */
import { spawnSync } from 'child_process';
import { DOMParser, Element } from '@xmldom/xmldom';
import { ClusterSpec } from '../../constructs/model';
import { buildPicture, ClusterPicture } from '../../cli/graph/picture';
import { pictureDot } from '../../cli/graph/text-formats';
import { demoCluster, liveState, rrCluster } from '../support/graph/fixtures';

/** Graphviz's answer: exit status, everything it said on stderr, and the SVG. */
function renderDot(dot: string): { status: number | null; stderr: string; svg: string } {
  const r = spawnSync('dot', ['-Tsvg'], { input: dot, encoding: 'utf8', timeout: 120000 });
  if (r.error) throw new Error(`prerequisite missing: dot (Debian package graphviz): ${r.error.message}`);
  return { status: r.status, stderr: r.stderr, svg: r.stdout };
}

/** Each drawn node's and edge's <title> (Graphviz names them by id), and all text shown. */
function drawn(svg: string): { nodes: string[]; edges: string[]; text: string } {
  const errors: string[] = [];
  const doc = new DOMParser({
    onError: (level: string, msg: string) => void errors.push(`${level}: ${msg}`),
  }).parseFromString(svg, 'image/svg+xml');
  expect(errors).toEqual([]);
  const groups = Array.from(doc.getElementsByTagName('g')) as unknown as Element[];
  const titlesOf = (cls: string) =>
    groups
      .filter((g) => g.getAttribute('class') === cls)
      .map((g) => g.getElementsByTagName('title')[0]?.textContent ?? '');
  const text = (Array.from(doc.getElementsByTagName('text')) as unknown as Element[])
    .map((t) => t.textContent)
    .join('\n');
  return { nodes: titlesOf('node'), edges: titlesOf('edge'), text };
}

const hostile = `<b>"q" \${x} %{y} ]] \\ é 🚀 {a|b} \\l\n"\\`;

function shapes(): Record<string, ClusterPicture> {
  const demo = demoCluster();
  const always: ClusterSpec = { ...demoCluster(), vxlanMode: 'Always' };
  const ipipOneSubnet: ClusterSpec = { ...demoCluster(), vxlanMode: undefined, ipipMode: 'Always' };
  ipipOneSubnet.nodes = ipipOneSubnet.nodes.slice(0, 3);
  const rr8 = rrCluster(8, 2);
  const rr32 = rrCluster();
  const rr128 = { ...rrCluster(128, 4), vxlanMode: 'Always' as const };
  const named = demoCluster();
  named.name = `lab "${hostile}`;
  named.nodes[0].name = `n"1 \${HOME} ü\\`;
  named.nodes[1].workloads = [{ name: `w"\\{}<>é`, ip: '198.19.2.2' }];
  return {
    'demo, sessions down, a node drifted and one unreachable': buildPicture(
      demo,
      liveState(demo, {
        down: [['node2', '198.18.1.5']],
        drifted: { node6: ['calico_node: proxy_arp'] },
        unreachable: { node4: 'cannot connect: "x" <y> & z' },
      }),
    ),
    'demo offline': buildPicture(demo),
    'VXLAN Always: tunnels within each subnet and between them': buildPicture(always, liveState(always)),
    'IPIP Always on one subnet': buildPicture(ipipOneSubnet, liveState(ipipOneSubnet)),
    'route reflectors, every session drawn (8 nodes)': buildPicture(
      rr8,
      liveState(rr8, { down: [['r2n2', '198.18.0.1']] }),
    ),
    'route reflectors, 32 nodes': buildPicture(
      rr32,
      liveState(rr32, { down: [['r3n4', '198.18.0.1']], unreachable: { r4n7: 'timeout' } }),
    ),
    'route reflectors, 128 nodes summarized, VXLAN Always': buildPicture(
      rr128,
      liveState(rr128, { down: [['r3n4', '198.18.0.1']] }),
    ),
    'names and host text with quotes, backslashes, ${, unicode, newlines': buildPicture(
      named,
      liveState(named, { unreachable: { node3: hostile }, drifted: { node2: [hostile] } }),
    ),
  };
}

test.each(Object.entries(shapes()))('dot -Tsvg draws %s without an error or a warning', (_name, picture) => {
  const { status, stderr, svg } = renderDot(pictureDot(picture));
  expect(stderr).toBe('');
  expect(status).toBe(0);
  const { nodes, edges, text } = drawn(svg);
  // Every node and hub drawn once, under its own id (a broken string would have made new ones).
  expect(nodes.sort()).toEqual([...picture.nodes.map((n) => n.id), ...picture.hubs.map((h) => h.id)].sort());
  expect(edges.sort()).toEqual(picture.edges.map((e) => `${e.from}--${e.to}`).sort());
  // Names reach the drawing as written, quotes and all.
  for (const node of picture.nodes) expect(text).toContain(node.name);
  for (const node of picture.nodes) for (const w of node.workloads) expect(text).toContain(`${w.name} ${w.ip}`);
});

test('the hostile names shape really carries the hostile text to Graphviz', () => {
  const picture = shapes()['names and host text with quotes, backslashes, ${, unicode, newlines'];
  const { text } = drawn(renderDot(pictureDot(picture)).svg);
  expect(text).toContain('n"1 ${HOME} ü\\');
  expect(text).toContain('w"\\{}<>é 198.19.2.2');
  expect(text).toMatch(/UNREACHABLE: <b>"q" \$\{x\} %\{y\} \]\] \\ é 🚀/);
});
