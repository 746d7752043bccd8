/**
 * Nodes moving between shards, on shared PostgreSQL state (lab 170: three nodes, full-mesh iBGP,
 * one workload each, two racks):
 * - the first-ever deploy of both racks at once on a fresh database, after `calico-net shard
 *   migrate` created their (empty) states: both apply at once (without those rows Terraform's pg
 *   backend takes one database-wide lock for each new state's whole first apply);
 * - a node whose `rack` changes: `calico-net shard migrate` moves its state entries into the new
 *   rack's state, both racks' plans are then empty, and nothing on the host was recreated (the
 *   workload's netns inode, its veth's ifindex, bird.conf's inode and mtime all as before);
 * - the last node of a rack moving to a new rack: the old rack has no stack any more, so its state
 *   is named with `--from-rack`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { E2eCluster } from './cluster';
import * as rackLab from '../support/rack-lab';
import { ok } from '../support/rack-lab';
import { clusterOnPostgres, pgStateResources, Postgres } from './postgres';

let cluster: E2eCluster;
let pg: Postgres;

beforeAll(async () => {
  ({ cluster, pg } = await clusterOnPostgres({ id: 170, nodes: 3, asMode: 'ibgp' }, 'calico_lab170'));
  rackLab.shardByRack(cluster, { node1: 'r1', node2: 'r2', node3: 'r2' });
});

afterAll(async () => {
  await cluster?.down();
  pg?.stop();
});

// pg state: a plan waits for a lock the other rack's run may hold for a moment.
const LOCK_WAIT = ['-lock-timeout=60s'];
const setRack = (node: string, rack: string) => rackLab.setRack(cluster, node, rack);
const expectEmptyPlans = (stacks: string[]) => rackLab.expectEmptyPlans(cluster, stacks, LOCK_WAIT);
const identity = (node: string) => rackLab.hostIdentity(cluster, node);
const stateResources = (schema: string) => pgStateResources(pg, schema);

test('first-ever deploy of two racks at once on a fresh pg database: shard migrate creates their states, both apply', async () => {
  expect(pg.psql("select count(*) from pg_namespace where nspname like 'calico_lab170%'")).toBe('0');
  // Terraform's pg backend locks a state that has no row yet with one lock for the whole
  // database, for the whole first apply: without their rows the two first applies refuse each
  // other (cli/shard-migrate.ts createMissingStates). shard migrate writes the rows.
  const migrate = await ok(cluster.calicoNet(['shard', 'migrate']));
  for (const s of ['lab170-r1', 'lab170-r2'])
    expect(migrate.stdout).toContain(`${s}: its state created (empty), so its first deploy takes only its own lock`);
  expect(stateResources('calico_lab170_r1')).toEqual([]);
  expect(stateResources('calico_lab170_r2')).toEqual([]);

  const deploy = await ok(cluster.cdktf(['deploy', 'lab170-*', '--auto-approve', '--parallelism', '2']));
  expect(deploy.stdout).toMatch(/Apply complete! Resources: 3 added, 0 changed, 0 destroyed/); // r1: node1
  expect(deploy.stdout).toMatch(/Apply complete! Resources: 6 added, 0 changed, 0 destroyed/); // r2: node2, node3
  expect(stateResources('calico_lab170_r1')).toHaveLength(3);
  expect(stateResources('calico_lab170_r2')).toHaveLength(6);
  await expectEmptyPlans(['lab170-r1', 'lab170-r2']);
  await cluster.expectRoutesConverged();
});

test("a node whose rack changes moves into the new rack's state: both plans empty, nothing on the host recreated", async () => {
  const before = await Promise.all(cluster.nodeNames.map(identity));
  const node3 = stateResources('calico_lab170_r2').filter((a) => a.includes('node3'));
  expect(node3).toHaveLength(3);

  setRack('node3', 'r1');
  // Without migrating, the move would be a create in r1 and a destroy in r2 (a rebuild): the
  // shard guard reads both racks' pg states at synthesis and refuses before any stack is planned.
  const refused = await cluster.cdktf(['synth']);
  expect(refused.code).toBe(1);
  expect(refused.stdout + refused.stderr).toMatch(
    /node node3 moved from rack r2 \(lab170-r2\) to rack r1 \(lab170-r1\) and is still held by lab170-r2's state/,
  );

  const migrate = await ok(cluster.calicoNet(['shard', 'migrate']));
  for (const a of node3) expect(migrate.stdout).toContain(`${a}: moved from lab170-r2 into lab170-r1`);
  expect(stateResources('calico_lab170_r1')).toEqual(
    [...stateResources('calico_lab170_r1').filter((a) => a.includes('node1')), ...node3].sort(),
  );
  expect(stateResources('calico_lab170_r2').filter((a) => a.includes('node3'))).toEqual([]);
  await expectEmptyPlans(['lab170-r1', 'lab170-r2']);
  expect(await Promise.all(cluster.nodeNames.map(identity))).toEqual(before);

  // A second run finds nothing to move.
  const again = await ok(cluster.calicoNet(['shard', 'migrate']));
  expect(again.stdout).not.toMatch(/moved from/);
});

test('the last node of a rack moves to a new rack: its old state is read with --from-rack, and nothing is rebuilt', async () => {
  const before = await Promise.all(cluster.nodeNames.map(identity));
  setRack('node2', 'r3'); // r2 is left with no node, so no stack
  const blind = await ok(cluster.calicoNet(['shard', 'migrate']));
  expect(blind.stdout).not.toMatch(/moved from/);
  expect(blind.stdout).toMatch(/not deployed yet \(the next deploy creates it\): lab170-r3: calico_node\./);
  expect(blind.stdout).toMatch(/run again with --from-rack/);
  const manifest = JSON.parse(fs.readFileSync(path.join(cluster.projectDir, 'cdktf.out', 'manifest.json'), 'utf8'));
  expect(Object.keys(manifest.stacks).sort()).toEqual(['lab170-r1', 'lab170-r3']);

  const migrate = await ok(cluster.calicoNet(['shard', 'migrate', '--from-rack', 'r2']));
  expect(migrate.stdout.match(/moved from lab170-r2 into lab170-r3/g)).toHaveLength(3);
  expect(migrate.stdout).not.toMatch(/not deployed yet/);
  expect(stateResources('calico_lab170_r2')).toEqual([]);
  expect(stateResources('calico_lab170_r3')).toHaveLength(3);
  await expectEmptyPlans(['lab170-r1', 'lab170-r3']);
  expect(await Promise.all(cluster.nodeNames.map(identity))).toEqual(before);
  const pings = await cluster.pingAll();
  expect(pings.filter((p) => !p.ok)).toEqual([]);
});
