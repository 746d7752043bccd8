/**
 * A rack change deployed without `calico-net shard migrate` is refused (lab 174: three nodes,
 * full-mesh iBGP, one workload each, two racks, cdktf's default local state: one file per shard
 * in the project, what a user gets without `state:`):
 * - `cdktf deploy 'lab174-*'` (and one rack's deploy) after a node's rack changed: refused at
 *   synthesis, naming the node, its old and new rack and the command; nothing on any host changed
 *   (netns inodes, veth ifindexes, bird.conf's inode and mtime, routes) and no state file changed;
 * - after `shard migrate`, the same deploy changes nothing and every plan is empty;
 * - the last node of a rack moving to a new rack: refused, naming `--from-rack`; after
 *   `shard migrate --from-rack` the deploy changes nothing.
 * pg state: test/e2e/shard-guard-pg.test.ts (the guard) and test/e2e/shard-moves.test.ts
 * (migrate).
 */
import * as fs from 'fs';
import * as path from 'path';
import { E2eCluster } from './cluster';
import * as rackLab from '../support/rack-lab';
import { ok } from '../support/rack-lab';

let cluster: E2eCluster;

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: 174, nodes: 3, asMode: 'ibgp' });
  rackLab.shardByRack(cluster, { node1: 'r1', node2: 'r2', node3: 'r2' });
});

afterAll(async () => {
  await cluster?.down();
});

const setRack = (node: string, rack: string) => rackLab.setRack(cluster, node, rack);
const expectEmptyPlans = (stacks: string[]) => rackLab.expectEmptyPlans(cluster, stacks);
const identity = (node: string) => rackLab.hostIdentity(cluster, node);

/** Every shard's state file in the project (cdktf's default), by name, with its content. */
function stateFiles(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fs.readdirSync(cluster.projectDir).sort())
    if (/^terraform\.lab174.*\.tfstate$/.test(f)) out[f] = fs.readFileSync(path.join(cluster.projectDir, f), 'utf8');
  return out;
}

const deployAll = () => cluster.cdktf(['deploy', 'lab174-*', '--auto-approve', '--parallelism', '2']);

test('two racks deploy on local state: every plan empty, routes converged', async () => {
  const deploy = await ok(deployAll());
  expect(deploy.stdout).toMatch(/Apply complete! Resources: 3 added, 0 changed, 0 destroyed/); // r1: node1
  expect(deploy.stdout).toMatch(/Apply complete! Resources: 6 added, 0 changed, 0 destroyed/); // r2: node2, node3
  expect(Object.keys(stateFiles())).toEqual(['terraform.lab174-r1.tfstate', 'terraform.lab174-r2.tfstate']);
  await expectEmptyPlans(['lab174-r1', 'lab174-r2']);
  await cluster.expectRoutesConverged();
});

test('a rack change deployed without shard migrate: refused, hosts and states untouched; after migrate the deploy is a no-op', async () => {
  const hosts = await Promise.all(cluster.nodeNames.map(identity));
  const states = stateFiles();
  expect(hosts.every((h) => /netns \/run\/netns\/\S+ \d+/.test(h) && /link cali/.test(h))).toBe(true);

  setRack('node3', 'r1');
  const refusal =
    'nothing was deployed: node node3 moved from rack r2 (lab174-r2) to rack r1 (lab174-r1) and is still held by lab174-r2';
  for (const args of [
    ['deploy', 'lab174-*', '--auto-approve', '--parallelism', '2'],
    ['deploy', 'lab174-r1', '--auto-approve'],
  ]) {
    const r = await cluster.cdktf(args);
    expect({ args, refused: r.code !== 0 }).toEqual({ args, refused: true });
    expect(r.stdout + r.stderr).toContain(refusal);
    expect(r.stdout + r.stderr).toContain('Run first: npx calico-net shard migrate');
    expect(r.stdout + r.stderr).not.toMatch(/Apply complete|Destroying|Creating/);
  }
  expect(stateFiles()).toEqual(states);
  expect(await Promise.all(cluster.nodeNames.map(identity))).toEqual(hosts);

  const migrate = await ok(cluster.calicoNet(['shard', 'migrate']));
  expect(migrate.stdout.match(/moved from lab174-r2 into lab174-r1/g)).toHaveLength(3);
  const deploy = await ok(deployAll());
  expect(deploy.stdout).not.toMatch(/Apply complete! Resources: [1-9]|[1-9]\d* (added|destroyed)/);
  await expectEmptyPlans(['lab174-r1', 'lab174-r2']);
  expect(await Promise.all(cluster.nodeNames.map(identity))).toEqual(hosts);
});

test('the last node of a rack moves to a new rack: refused naming --from-rack; after that migrate the deploy is a no-op', async () => {
  const hosts = await Promise.all(cluster.nodeNames.map(identity));
  const states = stateFiles();
  setRack('node2', 'r3'); // r2 is left with no node, so no stack: only its state file is left
  const r = await deployAll();
  expect(r.code).not.toBe(0);
  expect(r.stdout + r.stderr).toContain('node node2 moved from rack r2 (lab174-r2) to rack r3 (lab174-r3)');
  expect(r.stdout + r.stderr).toContain('Run first: npx calico-net shard migrate --from-rack r2');
  expect(stateFiles()).toEqual(states);
  expect(await Promise.all(cluster.nodeNames.map(identity))).toEqual(hosts);

  await ok(cluster.calicoNet(['shard', 'migrate', '--from-rack', 'r2']));
  const deploy = await ok(deployAll());
  expect(deploy.stdout).not.toMatch(/Apply complete! Resources: [1-9]|[1-9]\d* (added|destroyed)/);
  await expectEmptyPlans(['lab174-r1', 'lab174-r3']);
  expect(await Promise.all(cluster.nodeNames.map(identity))).toEqual(hosts);
  const pings = await cluster.pingAll();
  expect(pings.filter((p) => !p.ok)).toEqual([]);
});
