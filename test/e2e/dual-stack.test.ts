/**
 * A dual-stack cluster on the host, end to end (lab 131, 2 nodes): `cdktf deploy` from an
 * inventory with an IPv6 pool, each node's IPv6 address and block, dual-stack workloads and one
 * IPv6-only workload. Proves what Calico programs for IPv6 on a host: IPv4 and IPv6 pings between
 * every pair of workloads across the nodes (from inside the namespaces), the IPv6 BGP sessions
 * Established, a hand-deleted IPv6 /128 host route and IPv6 blackhole shown by
 * `terraform plan -detailed-exitcode` (2) and repaired by the next deploy, a node whose host lost
 * its IPv6 address refused by name, the cluster taken back to IPv4 only in place (no IPv6 route
 * left behind, BIRD's included) and forward again, and a destroy that leaves each node as it was
 * (no IPv6 route of ours, IPv6 forwarding back, namespaces gone).
 * The nodes' IPv6 addresses are added by hand, as dual-stack-bird.test.ts does (the lab gives
 * nodes IPv4 only).
 */
import * as fs from 'fs';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { describeCommand, E2eCluster } from './cluster';

const LAB = 131;
const HEX = LAB.toString(16);
let cluster: E2eCluster;

interface Wl {
  node: string;
  name: string;
  ip?: string;
  ipv6: string;
}

/** Two dual-stack workloads on node1 and node2, and an IPv6-only one beside the first. */
const WORKLOADS: Wl[] = [
  { node: 'node1', name: 'wl1a', ip: '198.19.1.2', ipv6: 'fd00:198:19:1::2' },
  { node: 'node1', name: 'wl1six', ipv6: 'fd00:198:19:1::3' },
  { node: 'node2', name: 'wl2a', ip: '198.19.2.2', ipv6: 'fd00:198:19:2::2' },
];
const nodeV6 = (k: number) => `fd00:198:18:${HEX}::${k}`;

interface Before {
  routes6: string;
  forwarding6: string;
  netns: string;
}
const before = new Map<string, Before>();

async function out(node: string, argv: string[]): Promise<string> {
  const r = await cluster.exec(node, argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} on ${node}: ${describeCommand(r)}`);
  return r.stdout;
}

async function stateOf(node: string): Promise<Before> {
  return {
    routes6: await out(node, ['ip', '-6', 'route', 'show', 'table', 'main']),
    forwarding6: (await out(node, ['sysctl', '-n', 'net.ipv6.conf.all.forwarding'])).trim(),
    netns: await out(node, ['ip', 'netns', 'list']),
  };
}

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: LAB, nodes: 2, asMode: 'ibgp' });
  const inventory = parseYaml(fs.readFileSync(cluster.lab.inventoryPath, 'utf8'));
  inventory.cluster.podCidrV6 = 'fd00:198:19::/48';
  inventory.nodes.forEach((n: Record<string, unknown>, i: number) => {
    n.ipv6Address = `${nodeV6(i + 1)}/64`;
    n.podCidrV6 = `fd00:198:19:${i + 1}::/64`;
    n.workloads = WORKLOADS.filter((w) => w.node === n.name).map(({ name, ip, ipv6 }) => ({
      name,
      ...(ip ? { ip } : {}),
      ipv6,
    }));
  });
  fs.writeFileSync(cluster.lab.inventoryPath, toYaml(inventory));
  for (const [i, node] of cluster.nodeNames.entries()) {
    await out(node, ['ip', '-6', 'addr', 'add', `${nodeV6(i + 1)}/64`, 'dev', 'eth0', 'nodad']);
    before.set(node, await stateOf(node));
  }
  const deploy = await cluster.deploy();
  if (deploy.code !== 0) throw new Error(describeCommand(deploy));
});

afterAll(async () => {
  await cluster?.down();
});

/** Polls (never a blind sleep) until `check` holds or the deadline passes; returns the last value. */
async function until<T>(read: () => Promise<T>, check: (v: T) => boolean, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (check(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** A ping from inside a workload's namespace on its node: a few tries (the first may wait for NDP). */
async function ping(from: Wl, to: string): Promise<boolean> {
  const flag = to.includes(':') ? '-6' : '-4';
  for (let i = 0; i < 5; i++) {
    const r = await cluster.exec(from.node, ['ip', 'netns', 'exec', from.name, 'ping', flag, '-c', '1', '-W', '2', to]);
    if (r.code === 0) return true;
  }
  return false;
}

/** `cdktf diff` of the edited inventory changes both calico_node resources in place, replacing none. */
async function nodesUpdatedInPlace(): Promise<boolean> {
  const diff = await cluster.cdktf(['diff']);
  if (diff.code !== 0) throw new Error(describeCommand(diff));
  const inPlace = diff.stdout.match(/calico_node\.\S+ will be updated in-place/g) ?? [];
  return inPlace.length === 2 && !/calico_node\.\S+ must be replaced/.test(diff.stdout);
}

/** Polls until node `i` routes the other node's IPv6 block via BIRD; returns its IPv6 routes. */
async function otherV6BlockRouted(node: string, i: number): Promise<string> {
  const other = `fd00:198:19:${2 - i}::/64`;
  const routes = await until(
    () => out(node, ['ip', '-6', 'route', 'show', 'table', 'main']),
    (r) => r.includes(`${other} via ${nodeV6(2 - i)} `),
  );
  expect(routes).toMatch(new RegExp(`^${other} via ${nodeV6(2 - i)} dev eth0 proto bird`, 'm'));
  return routes;
}

test('the IPv6 sessions are Established and each node routes the other IPv6 block via its IPv6 address', async () => {
  for (const [i, node] of cluster.nodeNames.entries()) {
    const peer = nodeV6(2 - i).replace(/:/g, '_');
    const protocols = await until(
      () => out(node, ['birdc', '-s', '/run/bird/bird.ctl', 'show', 'protocols']),
      (p) => new RegExp(`^Mesh_${peer}\\s+BGP\\s+\\S+\\s+up\\s+.*Established`, 'm').test(p),
    );
    expect(protocols).toMatch(new RegExp(`^Mesh_${peer}\\s+BGP\\s+\\S+\\s+up\\s+.*Established`, 'm'));
    // The IPv4 session comes up on its own time: polled too, never read once.
    const v4 = /^Mesh_198_18_131_\d\s+BGP\s+\S+\s+up\s+.*Established/m;
    expect(
      await until(
        () => out(node, ['birdc', '-s', '/run/bird/bird.ctl', 'show', 'protocols']),
        (p) => v4.test(p),
      ),
    ).toMatch(v4);
    const routes = await otherV6BlockRouted(node, i);
    // Our own: the IPv6 blackhole for the node's block, IPv6 forwarding on.
    expect(routes).toMatch(new RegExp(`^blackhole fd00:198:19:${i + 1}::/64 dev lo proto 211 `, 'm'));
    expect((await out(node, ['sysctl', '-n', 'net.ipv6.conf.all.forwarding'])).trim()).toBe('1');
  }
});

test('every workload pings every other across the nodes, over IPv4 and IPv6; the IPv6-only one over IPv6', async () => {
  const results: string[] = [];
  for (const from of WORKLOADS) {
    for (const to of WORKLOADS.filter((w) => w.node !== from.node)) {
      results.push(`${from.name} -> ${to.name} IPv6: ${(await ping(from, to.ipv6)) ? 'ok' : 'FAILED'}`);
      if (from.ip && to.ip)
        results.push(`${from.name} -> ${to.name} IPv4: ${(await ping(from, to.ip)) ? 'ok' : 'FAILED'}`);
    }
  }
  expect(results).toEqual([
    'wl1a -> wl2a IPv6: ok',
    'wl1a -> wl2a IPv4: ok',
    'wl1six -> wl2a IPv6: ok',
    'wl2a -> wl1a IPv6: ok',
    'wl2a -> wl1a IPv4: ok',
    'wl2a -> wl1six IPv6: ok',
  ]);
  // Calico's IPv6 wiring, seen on the host and inside the namespace.
  const six = WORKLOADS[1];
  expect(await out('node1', ['ip', '-n', six.name, '-6', 'route', 'show', 'default'])).toMatch(
    /^default via fe80::ecee:eeff:feee:eeee dev eth0 /m,
  );
  expect(await out('node1', ['ip', '-n', six.name, '-4', 'addr', 'show', 'dev', 'eth0'])).not.toMatch(/inet /);
});

test('a hand-deleted IPv6 /128 host route and IPv6 blackhole are drift in the plan, and the next deploy repairs both', async () => {
  expect((await cluster.plan()).code).toBe(0);
  const route = `${WORKLOADS[0].ipv6}/128`;
  await out('node1', ['ip', '-6', 'route', 'del', route, 'proto', '211']);
  await out('node1', ['ip', '-6', 'route', 'del', 'blackhole', 'fd00:198:19:1::/64', 'proto', '211']);
  const plan = await cluster.plan();
  expect(plan.code).toBe(2);
  expect(plan.stdout).toMatch(/host_route_v6\s+= false -> true/);
  expect(plan.stdout).toMatch(/blackhole_route_v6\s+= false -> true/);

  const repair = await cluster.deploy();
  if (repair.code !== 0) throw new Error(describeCommand(repair));
  const routes = await out('node1', ['ip', '-6', 'route', 'show', 'table', 'main']);
  expect(routes).toMatch(new RegExp(`^${WORKLOADS[0].ipv6} dev cali[0-9a-f]{11} proto 211 `, 'm'));
  expect(routes).toMatch(/^blackhole fd00:198:19:1::\/64 dev lo proto 211 /m);
  expect((await cluster.plan()).code).toBe(0);
  expect(await ping(WORKLOADS[2], WORKLOADS[0].ipv6)).toBe(true);
});

test('a node whose host lost its IPv6 address: the plan shows it, deploy refuses naming the node, and passes once it is back', async () => {
  const address = `${nodeV6(2)}/64`;
  await out('node2', ['ip', '-6', 'addr', 'del', address, 'dev', 'eth0']);
  try {
    const plan = await cluster.plan();
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/address_v6_assigned\s+= false -> true/);
    const refused = await cluster.deploy();
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toMatch(
      new RegExp(`node2 does not hold its IPv6 address ${nodeV6(2)} on any interface`),
    );
  } finally {
    await out('node2', ['ip', '-6', 'addr', 'add', address, 'dev', 'eth0', 'nodad']);
  }
  const deploy = await cluster.deploy();
  if (deploy.code !== 0) throw new Error(describeCommand(deploy));
  expect((await cluster.plan()).code).toBe(0);
  for (const i of [0, 1]) await otherV6BlockRouted(cluster.nodeNames[i], i);
});

test('back to IPv4 only: no IPv6 route of ours or of BIRD is left, IPv6 forwarding back, IPv4 still routed', async () => {
  const inventory = parseYaml(fs.readFileSync(cluster.lab.inventoryPath, 'utf8'));
  const withV6 = toYaml(inventory);
  delete inventory.cluster.podCidrV6;
  for (const n of inventory.nodes) {
    delete n.ipv6Address;
    delete n.podCidrV6;
    n.workloads = n.workloads
      .filter((w: { ip?: string }) => w.ip !== undefined)
      .map(({ name, ip }: { name: string; ip: string }) => ({ name, ip }));
  }
  fs.writeFileSync(cluster.lab.inventoryPath, toYaml(inventory));
  try {
    // The nodes give up their IPv6 blocks in place: IPv4 forwarding, blackhole and gateway are
    // never taken down for it (the workloads, whose addresses change, are replaced).
    expect(await nodesUpdatedInPlace()).toBe(true);
    const deploy = await cluster.deploy();
    if (deploy.code !== 0) throw new Error(describeCommand(deploy));
    for (const node of cluster.nodeNames) {
      const after = await stateOf(node);
      // BIRD's kernel protocol runs with `persist`: the IPv6 routes it installed outlive its config
      // unless calico-net removes them.
      // The kernel gives every new interface, an IPv4-only workload's veth too, its link-local
      // route: that one is not ours to remove.
      const routes6 = after.routes6.replace(/^fe80::\/64 dev cali[0-9a-f]{11} proto kernel .*\n/gm, '');
      expect({ node, routes6 }).toEqual({ node, routes6: before.get(node)!.routes6 });
      expect({ node, forwarding6: after.forwarding6 }).toEqual({ node, forwarding6: before.get(node)!.forwarding6 });
    }
    expect(await ping(WORKLOADS[0], WORKLOADS[2].ip!)).toBe(true);
    expect((await cluster.plan()).code).toBe(0);
  } finally {
    // The destroy case below starts from the dual-stack cluster again.
    fs.writeFileSync(cluster.lab.inventoryPath, withV6);
  }
  expect(await nodesUpdatedInPlace()).toBe(true);
  const again = await cluster.deploy();
  if (again.code !== 0) throw new Error(describeCommand(again));
  // The IPv6 sessions start again with the new config, each node on its own time (BIRD's error
  // wait is up to 30 s when one side asked before the other had the protocol): the ping waits
  // for the routes both ways, as the first case does, never a fixed number of tries.
  for (const i of [0, 1]) await otherV6BlockRouted(cluster.nodeNames[i], i);
  expect(await ping(WORKLOADS[2], WORKLOADS[1].ipv6)).toBe(true);
});

test('destroy leaves each node as before: no IPv6 route of ours, IPv6 forwarding back, the namespaces gone', async () => {
  const destroy = await cluster.destroy();
  if (destroy.code !== 0) throw new Error(describeCommand(destroy));
  for (const node of cluster.nodeNames) {
    const after = await stateOf(node);
    expect(after.routes6).not.toMatch(/proto 211|fd00:198:19:/);
    expect(after).toEqual(before.get(node));
  }
});
