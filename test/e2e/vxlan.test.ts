/**
 * VXLAN across subnets, end to end: a two-subnet lab (node1 and node2 on 198.18.41.0/25, node3
 * on 198.18.41.128/25, joined by a router that knows no pod routes and runs no BGP), iBGP in one
 * AS, one workload per node. Real cdktf + terraform + our provider over SSH, real bird, kernel.
 *
 * - ipipMode on this kernel: the deploy fails naming each node (no ipip module); no data path.
 * - vxlanMode Never: BGP comes up across the router, but pod traffic between the subnets goes to
 *   the router, which drops it; within a subnet it flows.
 * - vxlanMode Always: every remote block is routed through vxlan.calico; every ping passes.
 * - vxlanMode CrossSubnet: node1 ↔ node2 natively (BIRD's route via eth0, vxlan.calico idle),
 *   anything to or from node3 through vxlan.calico; every ping passes.
 * - Drift on the device, a neighbour and an FDB entry: each shown by plan and `calico-net drift`,
 *   repaired by the next deploy.
 * - Back to Never: the tunnels go and BIRD routes every block again.
 * - Destroy leaves every node as it was.
 *
 * IPIP has no data-path test here: this kernel has no ipip module (see test/calico/overlay.test.ts
 * for the failing apply).
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { describeCommand, E2eCluster, NodeSnapshot } from './cluster';

let cluster: E2eCluster;
const before = new Map<string, NodeSnapshot & { links: string[]; neighbours: string }>();

// The lab's addressing (lab/lab.ts, id 41, two subnets): blocks 198.19.K.0/24, workloads .2.
const ADDRESS: Record<string, string> = { node1: '198.18.41.1', node2: '198.18.41.2', node3: '198.18.41.129' };
const BLOCK: Record<string, string> = { node1: '198.19.1.0/24', node2: '198.19.2.0/24', node3: '198.19.3.0/24' };
// Each node's VTEP: the first address of its block, and a MAC derived from it (66:cc + octets).
const VTEP: Record<string, string> = { node1: '198.19.1.1', node2: '198.19.2.1', node3: '198.19.3.1' };
const MAC: Record<string, string> = {
  node1: '66:cc:c6:13:01:01',
  node2: '66:cc:c6:13:02:01',
  node3: '66:cc:c6:13:03:01',
};
const SUBNET: Record<string, number> = { node1: 0, node2: 0, node3: 1 };
const NODES = ['node1', 'node2', 'node3'];

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: 41, nodes: 3, subnets: 2, asMode: 'ibgp' });
  expect(cluster.lab.nodes.map((n) => [n.name, n.address, n.subnet])).toEqual(
    NODES.map((n) => [n, ADDRESS[n], SUBNET[n]]),
  );
  for (const node of NODES) {
    expect((await cluster.exec(node, ['sysctl', '-w', 'net.ipv4.ip_forward=0'])).code).toBe(0);
    before.set(node, { ...(await cluster.snapshot(node)), ...(await extras(node)) });
  }
});

afterAll(async () => {
  await cluster?.down();
});

/** What NodeSnapshot leaves out and the overlay touches: every link, permanent neighbours. */
async function extras(node: string): Promise<{ links: string[]; neighbours: string }> {
  const links = await cluster.exec(node, ['ip', '-o', 'link', 'show']);
  const neighbours = await cluster.exec(node, ['ip', 'neigh', 'show', 'nud', 'permanent']);
  return {
    links: links.stdout
      .split('\n')
      .map((l) => l.split(':')[1]?.trim().split('@')[0])
      .filter(Boolean)
      .sort(),
    neighbours: neighbours.stdout,
  };
}

function setMode(field: 'vxlanMode' | 'ipipMode', mode: 'Always' | 'CrossSubnet' | undefined): void {
  const inventory = parseYaml(fs.readFileSync(cluster.lab.inventoryPath, 'utf8'));
  delete inventory.cluster.vxlanMode;
  delete inventory.cluster.ipipMode;
  if (mode) inventory.cluster[field] = mode;
  fs.writeFileSync(cluster.lab.inventoryPath, toYaml(inventory));
}

const setVxlanMode = (mode: 'Always' | 'CrossSubnet' | undefined) => setMode('vxlanMode', mode);

async function deploy(): Promise<void> {
  const r = await cluster.deploy();
  if (r.code !== 0) throw new Error(describeCommand(r));
  const plan = await cluster.plan();
  if (plan.code !== 0) throw new Error(`deploy left a plan behind:\n${describeCommand(plan)}`);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

const native = (from: string, to: string) =>
  new RegExp(`^${escape(BLOCK[to])} via ${escape(ADDRESS[to])} dev eth0 proto bird`);
const tunnelled = (to: string) =>
  new RegExp(`^${escape(BLOCK[to])} via ${escape(VTEP[to])} dev vxlan\\.calico proto 211 onlink`);

/** Polls until the node's routes for every other block match, and no other route holds them. */
async function expectRoutes(node: string, want: (other: string) => RegExp): Promise<void> {
  const others = NODES.filter((n) => n !== node);
  const ok = (routes: string[]) =>
    others.every((o) => {
      const held = routes.filter((r) => r.startsWith(`${BLOCK[o]} `));
      return held.length === 1 && want(o).test(held[0]);
    });
  const deadline = Date.now() + 60_000;
  let routes = await cluster.routes(node);
  while (!ok(routes) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    routes = await cluster.routes(node);
  }
  for (const o of others)
    expect(routes.filter((r) => r.startsWith(`${BLOCK[o]} `))).toEqual([expect.stringMatching(want(o))]);
}

/** Pings between every pair of workloads, as "node1->node3" → ok. */
async function pings(): Promise<Record<string, boolean>> {
  const results = await cluster.pingAll();
  return Object.fromEntries(results.map((p) => [`${p.from.split('/')[0]}->${p.to.split('/')[0]}`, p.ok]));
}

function allPairs(ok: (from: string, to: string) => boolean): Record<string, boolean> {
  return Object.fromEntries(NODES.flatMap((f) => NODES.filter((t) => t !== f).map((t) => [`${f}->${t}`, ok(f, t)])));
}

async function vxlanTxPackets(node: string): Promise<number> {
  const [link] = JSON.parse(
    (await cluster.exec(node, ['ip', '-j', '-s', 'link', 'show', 'dev', 'vxlan.calico'])).stdout,
  );
  return Number(link.stats64.tx.packets);
}

async function podPing(from: string, to: string): Promise<boolean> {
  const [w] = cluster.workloads().filter((x) => x.node === from);
  const [target] = cluster.workloads().filter((x) => x.node === to);
  const r = await cluster.exec(from, [
    'ip',
    'netns',
    'exec',
    w.name,
    'ping',
    '-c',
    '3',
    '-i',
    '0.2',
    '-W',
    '2',
    target.ip,
  ]);
  return r.code === 0;
}

async function sessionsUp(): Promise<void> {
  const sessions = await cluster.waitForSessions(() => 2);
  for (const node of NODES) {
    const up = sessions
      .get(node)!
      .filter((r) => r.established)
      .map((r) => r.peerAddress)
      .sort();
    expect({ node, up }).toEqual({
      node,
      up: NODES.filter((n) => n !== node)
        .map((n) => ADDRESS[n])
        .sort(),
    });
  }
}

test('ipipMode Always on this kernel (no ipip module): the deploy fails naming each node', async () => {
  setMode('ipipMode', 'Always');
  const r = await cluster.deploy();
  expect(r.code).not.toBe(0);
  const out = (r.stdout + r.stderr).replace(/[ \t]*\r?\n[│╷╵ \t]*/g, ' ');
  expect(out).toMatch(/Error: /);
  for (const node of NODES)
    expect(out).toMatch(new RegExp(`${node}: this kernel has no ipip support \\(modprobe ipip failed`));
  for (const node of NODES) expect((await cluster.exec(node, ['ip', 'link', 'show', 'dev', 'tunl0'])).code).not.toBe(0);
  setMode('ipipMode', undefined);
});

test('vxlanMode Never: BGP crosses the router, but pod traffic between the subnets is dropped there', async () => {
  await deploy();
  await sessionsUp();
  const routes = await cluster.waitForRoutes('node1', [native('node1', 'node2')]);
  expect(routes).toContainEqual(expect.stringMatching(native('node1', 'node2')));
  expect(await pings()).toEqual(allPairs((f, t) => SUBNET[f] === SUBNET[t]));
  for (const node of NODES)
    expect((await cluster.exec(node, ['ip', 'link', 'show', 'dev', 'vxlan.calico'])).code).not.toBe(0);
});

test('vxlanMode Always: every remote block through vxlan.calico, every pod reaches every other, MTU lowered by 50', async () => {
  setVxlanMode('Always');
  await deploy();
  await sessionsUp();
  for (const node of NODES) await expectRoutes(node, (o) => tunnelled(o));
  expect(await pings()).toEqual(allPairs(() => true));
  // BGP still carries every block: BIRD knows them, it only leaves the kernel routes to us.
  const bird = await cluster.exec('node1', [
    'birdc',
    '-s',
    '/run/bird/bird.ctl',
    'show',
    'route',
    'protocol',
    'Mesh_198_18_41_129',
  ]);
  expect(bird.stdout).toContain(BLOCK.node3);
  // Workloads without an MTU of their own get the underlay's minus the VXLAN overhead.
  const [w] = cluster.workloads().filter((x) => x.node === 'node2');
  const eth0 = await cluster.exec('node2', ['ip', '-n', w.name, '-o', 'link', 'show', 'dev', 'eth0']);
  expect(eth0.stdout).toMatch(/ mtu 1450 /);
  expect((await cluster.exec('node2', ['ip', '-o', 'link', 'show', 'dev', 'vxlan.calico'])).stdout).toMatch(
    / mtu 1450 /,
  );
});

test('vxlanMode CrossSubnet: native routing within the subnet, vxlan.calico only across it', async () => {
  setVxlanMode('CrossSubnet');
  await deploy();
  await sessionsUp();
  await expectRoutes('node1', (o) => (o === 'node2' ? native('node1', 'node2') : tunnelled(o)));
  await expectRoutes('node2', (o) => (o === 'node1' ? native('node2', 'node1') : tunnelled(o)));
  await expectRoutes('node3', (o) => tunnelled(o));
  expect(await pings()).toEqual(allPairs(() => true));

  // Same subnet: the tunnel stays idle. Across: it carries the packets.
  const idle = await vxlanTxPackets('node1');
  expect(await podPing('node1', 'node2')).toBe(true);
  expect(await vxlanTxPackets('node1')).toBe(idle);
  expect(await podPing('node1', 'node3')).toBe(true);
  expect(await vxlanTxPackets('node1')).toBeGreaterThanOrEqual(idle + 3);

  // node1's tunnel knows node3 only; node3's knows both.
  expect((await cluster.exec('node1', ['ip', 'neigh', 'show', 'dev', 'vxlan.calico'])).stdout.trim()).toBe(
    `${VTEP.node3} lladdr ${MAC.node3} PERMANENT`,
  );
  expect((await cluster.exec('node1', ['bridge', 'fdb', 'show', 'dev', 'vxlan.calico'])).stdout.trim()).toBe(
    `${MAC.node3} dst ${ADDRESS.node3} self permanent`,
  );
  const fdb3 = (await cluster.exec('node3', ['bridge', 'fdb', 'show', 'dev', 'vxlan.calico'])).stdout
    .trim()
    .split('\n')
    .sort();
  expect(fdb3).toEqual([
    `${MAC.node1} dst ${ADDRESS.node1} self permanent`,
    `${MAC.node2} dst ${ADDRESS.node2} self permanent`,
  ]);
});

interface DriftCase {
  name: string;
  node: string;
  inject: string[];
  /** How `terraform plan` shows the fact going back. */
  planned: RegExp;
  /** The drift report's attribute: path, expected (state), actual (host). */
  reported: { path: string; expected: unknown; actual: unknown };
  /** A pair of pods that cannot talk while the drift lasts. */
  breaks?: [string, string];
}

const driftCases: DriftCase[] = [
  {
    name: 'the device MTU changed by hand',
    node: 'node3',
    inject: ['ip', 'link', 'set', 'dev', 'vxlan.calico', 'mtu', '1300'],
    planned: /~ "mtu"\s+= "1300" -> "1450"/,
    reported: { path: 'device.mtu', expected: '1450', actual: '1300' },
  },
  {
    name: 'a neighbour deleted',
    node: 'node1',
    inject: ['ip', 'neigh', 'del', VTEP.node3, 'dev', 'vxlan.calico'],
    planned: new RegExp(`\\+ "${escape(VTEP.node3)}"\\s+= "${MAC.node3}"`),
    reported: { path: `host_neighbours.${VTEP.node3}`, expected: MAC.node3, actual: null },
    breaks: ['node1', 'node3'],
  },
  {
    name: 'an FDB entry deleted',
    node: 'node3',
    inject: ['bridge', 'fdb', 'del', MAC.node1, 'dev', 'vxlan.calico', 'dst', ADDRESS.node1, 'self'],
    planned: new RegExp(`\\+ "${MAC.node1}"\\s+= "${escape(ADDRESS.node1)}"`),
    reported: { path: `host_fdb.${MAC.node1}`, expected: ADDRESS.node1, actual: null },
    breaks: ['node3', 'node1'],
  },
];

describe.each(driftCases)('drift: $name', ({ node, inject, planned, reported, breaks }) => {
  test('plan and calico-net drift show it; the next deploy repairs it', async () => {
    const r = await cluster.exec(node, inject);
    expect(r.code).toBe(0);
    if (breaks) expect(await podPing(...breaks)).toBe(false);

    const plan = await cluster.plan();
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/# calico_overlay\.\S+ will be updated in-place/);
    expect(plan.stdout).toMatch(planned);

    const json = path.join(cluster.root, 'drift.json');
    const drift = await cluster.calicoNet(['drift', '--format', 'json', '--skip-synth', '--out', json]);
    if (drift.code !== 2) throw new Error(`calico-net drift: ${describeCommand(drift)}`);
    const report = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(report.resources).toEqual([
      expect.objectContaining({ node, type: 'calico_overlay', action: 'update', attributes: [reported] }),
    ]);

    await deploy();
    expect(await pings()).toEqual(allPairs(() => true));
  });
});

test('vxlanMode back to Never: the tunnels go, BIRD routes every block again, workloads get their MTU back', async () => {
  setVxlanMode(undefined);
  await deploy();
  await sessionsUp();
  await cluster.waitForRoutes('node1', [native('node1', 'node2')]);
  expect(await pings()).toEqual(allPairs((f, t) => SUBNET[f] === SUBNET[t]));
  for (const node of NODES) {
    expect((await cluster.exec(node, ['ip', 'link', 'show', 'dev', 'vxlan.calico'])).code).not.toBe(0);
    expect(
      (await cluster.exec(node, ['ip', '-4', 'route', 'show', 'proto', '211', 'root', '198.19.0.0/16'])).stdout,
    ).not.toMatch(/vxlan/);
  }
  const [w] = cluster.workloads().filter((x) => x.node === 'node2');
  expect((await cluster.exec('node2', ['ip', '-n', w.name, '-o', 'link', 'show', 'dev', 'eth0'])).stdout).toMatch(
    / mtu 1500 /,
  );
});

test('destroy leaves every node as it was before the first deploy', async () => {
  const destroy = await cluster.destroy();
  if (destroy.code !== 0) throw new Error(describeCommand(destroy));
  for (const node of NODES) {
    expect({ node, ...(await cluster.snapshot(node)), ...(await extras(node)) }).toEqual({ node, ...before.get(node) });
  }
});
