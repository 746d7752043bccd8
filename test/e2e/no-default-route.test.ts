/**
 * A host without a default route (Calico issue #3270), end to end: a 3-node eBGP lab whose
 * node2 has had its default route removed. Real cdktf + terraform + our provider over SSH, real
 * bird and kernel.
 *
 * calico_node routes 169.254.1.1 via lo on node2 only (so proxy ARP answers for the pods'
 * gateway) and every pod reaches every other; the route outlives node2's own network changes;
 * deleted by hand it shows as drift (plan and `calico-net drift`), and the next deploy puts it
 * back; destroy removes it and leaves every node as before.
 */
import * as path from 'path';
import { operatorExec } from '../../lab';
import { packageRoot } from '../../providers/package-root';
import { describeCommand, E2eCluster, NodeSnapshot } from './cluster';

let cluster: E2eCluster;
const before = new Map<string, NodeSnapshot>();
const OUR_ROUTE = '169.254.1.1 dev lo proto 211 scope link';
const cli = path.join(packageRoot(), 'bin', 'calico-net.js');

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: 45, nodes: 3, asMode: 'ebgp' });
  const del = await cluster.exec('node2', ['ip', 'route', 'del', 'default']);
  expect(del.code).toBe(0);
  for (const node of cluster.nodeNames) before.set(node, await cluster.snapshot(node));
  expect(before.get('node2')!.routes.some((r) => r.startsWith('default'))).toBe(false);
});

afterAll(async () => {
  await cluster?.down();
});

async function gatewayRoutes(node: string): Promise<string[]> {
  return (await cluster.routes(node)).filter((r) => r.startsWith('169.254.1.1'));
}

async function expectEveryPodReachesEveryOther(): Promise<void> {
  await cluster.waitForSessions(() => 2);
  await cluster.expectRoutesConverged();
  const pings = await cluster.pingAll();
  expect(pings).toHaveLength(6);
  expect(pings.filter((p) => !p.ok)).toEqual([]);
}

async function nodeState(node: string): Promise<Record<string, unknown>> {
  const r = await cluster.terraform(['show', '-json', '-no-color']);
  const resources: { type: string; values: Record<string, unknown> }[] =
    JSON.parse(r.stdout).values?.root_module?.resources ?? [];
  const found = resources.find((x) => x.type === 'calico_node' && x.values.name === node);
  if (!found) throw new Error(`calico_node ${node} not in state`);
  return found.values;
}

test('deploy: node2 (no default route) gets our route via lo, the others nothing; every pod reaches every other', async () => {
  const deploy = await cluster.deploy();
  if (deploy.code !== 0) throw new Error(describeCommand(deploy));
  expect(await gatewayRoutes('node2')).toEqual([OUR_ROUTE]);
  expect(await gatewayRoutes('node1')).toEqual([]);
  expect(await gatewayRoutes('node3')).toEqual([]);
  await expectEveryPodReachesEveryOther();
  expect(await nodeState('node2')).toMatchObject({ gateway_route: true, own_gateway_route: true });
  expect(await nodeState('node1')).toMatchObject({ gateway_route: true, own_gateway_route: false });
  const plan = await cluster.plan();
  expect({ code: plan.code, out: plan.stdout.slice(-1500) }).toMatchObject({ code: 0 });
});

test("the route outlives node2's own network changes: uplink down and up, a default route added and removed", async () => {
  const changes = await cluster.sh(
    'node2',
    'ip link set eth0 down && ip link set eth0 up && ip route add default via ' +
      cluster.lab.operator.address +
      ' && ip route del default',
  );
  expect(changes.code).toBe(0);
  expect(await gatewayRoutes('node2')).toEqual([OUR_ROUTE]);
  const plan = await cluster.plan();
  expect({ code: plan.code, out: plan.stdout.slice(-1500) }).toMatchObject({ code: 0 });
  await expectEveryPodReachesEveryOther();
});

test('deleted by hand: pods on node2 lose their gateway, drift and plan show it, deploy repairs it', async () => {
  expect(
    (await cluster.exec('node2', ['ip', 'route', 'del', '169.254.1.1/32', 'dev', 'lo', 'proto', '211'])).code,
  ).toBe(0);
  const [w2] = cluster.workloads().filter((w) => w.node === 'node2');
  const [w1] = cluster.workloads().filter((w) => w.node === 'node1');
  // The pod's cached gateway MAC would hide the loss for a while: ask again, as a new pod would.
  const cut = await cluster.sh(
    'node2',
    `ip netns exec ${w2.name} ip neigh flush all; ip netns exec ${w2.name} ping -c 1 -W 1 ${w1.ip}`,
  );
  expect(cut.code).not.toBe(0);

  const drift = await operatorExec(cluster.lab, [process.execPath, cli, 'drift', '--format', 'json'], {
    cwd: cluster.projectDir,
    env: cluster.env,
  });
  expect({ code: drift.code, stderr: drift.stderr.slice(-1500) }).toMatchObject({ code: 2 });
  const report = JSON.parse(drift.stdout);
  expect(report.resources.map((r: { node: string; type: string }) => [r.node, r.type])).toEqual([
    ['node2', 'calico_node'],
  ]);
  expect(report.resources[0].attributes).toEqual(
    expect.arrayContaining([
      { path: 'gateway_route', expected: true, actual: false },
      { path: 'own_gateway_route', expected: true, actual: false },
    ]),
  );

  const plan = await cluster.plan();
  expect(plan.code).toBe(2);
  expect(plan.stdout).toMatch(/~ own_gateway_route\s+= false -> true/);
  expect(plan.stdout).toMatch(/~ gateway_route\s+= false -> true/);

  const repair = await cluster.deploy();
  if (repair.code !== 0) throw new Error(describeCommand(repair));
  expect(await gatewayRoutes('node2')).toEqual([OUR_ROUTE]);
  await expectEveryPodReachesEveryOther();
  const clean = await cluster.plan();
  expect({ code: clean.code, out: clean.stdout.slice(-1500) }).toMatchObject({ code: 0 });
});

test('destroy removes our route and leaves every node as it was (node2 still without a default route)', async () => {
  const destroy = await cluster.destroy();
  if (destroy.code !== 0) throw new Error(describeCommand(destroy));
  expect(await gatewayRoutes('node2')).toEqual([]);
  for (const node of cluster.nodeNames) expect(await cluster.snapshot(node)).toEqual(before.get(node));
});
