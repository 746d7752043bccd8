/**
 * A rack change deployed without `calico-net shard migrate` is refused on shared PostgreSQL
 * state too (lab 175: three nodes, full-mesh iBGP, one workload each, two racks, pg state with
 * the connection string in PG_CONN_STR, as the README recommends for CI):
 * - a database the guard cannot read: every deploy refused at synthesis, naming the database and
 *   not the password; nothing deployed;
 * - `cdktf deploy 'lab175-*'` (and one rack's deploy) after a node's rack changed: refused at
 *   synthesis, naming the node, its old and new rack and the command; nothing on any host changed
 *   (netns inodes, veth ifindexes, bird.conf's inode and mtime, routes) and no state row changed;
 * - after `shard migrate`, the same deploy changes nothing and every plan is empty.
 */
import { E2eCluster } from './cluster';
import * as rackLab from '../support/rack-lab';
import { ok } from '../support/rack-lab';
import { clusterOnPostgres, pgStateResources, Postgres } from './postgres';

let cluster: E2eCluster;
let pg: Postgres;

beforeAll(async () => {
  ({ cluster, pg } = await clusterOnPostgres({ id: 175, nodes: 3, asMode: 'ibgp' }, 'calico_lab175'));
  rackLab.shardByRack(cluster, { node1: 'r1', node2: 'r2', node3: 'r2' });
});

afterAll(async () => {
  await cluster?.down();
  pg?.stop();
});

// pg state: a plan waits for a lock the other rack's run may hold for a moment.
const LOCK_WAIT = ['-lock-timeout=60s'];
const SCHEMAS = ['calico_lab175_r1', 'calico_lab175_r2'];
const expectEmptyPlans = (stacks: string[]) => rackLab.expectEmptyPlans(cluster, stacks, LOCK_WAIT);
const identity = (node: string) => rackLab.hostIdentity(cluster, node);
const deployAll = () => cluster.cdktf(['deploy', 'lab175-*', '--auto-approve', '--parallelism', '2']);

/** Every shard's state row as the database holds it (the whole JSON: serial and lineage too). */
const stateRows = () =>
  SCHEMAS.map((schema) =>
    pg.psql(`select coalesce((select data from ${schema}.states where name = 'default'), '<none>')`),
  );

test('a database the guard cannot read: refused naming it, never the password; nothing deployed', async () => {
  const connStr = pg.connStr;
  cluster.extraEnv = { PG_CONN_STR: connStr.replace('dbname=postgres', "dbname=nodb password='pw-s3cret-175'") };
  try {
    const r = await deployAll();
    expect(r.code).not.toBe(0);
    const out = r.stdout + r.stderr;
    expect(out).toContain(`nothing was deployed: the shards' states could not be read from PostgreSQL database "nodb"`);
    expect(out).toContain('database "nodb" does not exist');
    expect(out).not.toContain('pw-s3cret-175');
    expect(out).not.toMatch(/Apply complete|Creating/);
  } finally {
    cluster.extraEnv = { PG_CONN_STR: connStr };
  }
  expect(pg.psql("select count(*) from pg_namespace where nspname like 'calico_lab175%'")).toBe('0');
});

test('two racks deploy on pg state (new racks: no schema yet, the guard lets them through)', async () => {
  // shard migrate writes the new racks' rows first (one lock per rack from the first apply on).
  await ok(cluster.calicoNet(['shard', 'migrate']));
  const deploy = await ok(deployAll());
  expect(deploy.stdout).toMatch(/Apply complete! Resources: 3 added, 0 changed, 0 destroyed/); // r1: node1
  expect(deploy.stdout).toMatch(/Apply complete! Resources: 6 added, 0 changed, 0 destroyed/); // r2: node2, node3
  expect(pgStateResources(pg, 'calico_lab175_r1')).toHaveLength(3);
  expect(pgStateResources(pg, 'calico_lab175_r2')).toHaveLength(6);
  await expectEmptyPlans(['lab175-r1', 'lab175-r2']);
  await cluster.expectRoutesConverged();
});

test('a rack change deployed without shard migrate: refused, hosts and pg states untouched; after migrate the deploy is a no-op', async () => {
  const hosts = await Promise.all(cluster.nodeNames.map(identity));
  const rows = stateRows();
  expect(hosts.every((h) => /netns \/run\/netns\/\S+ \d+/.test(h) && /link cali/.test(h))).toBe(true);

  rackLab.setRack(cluster, 'node3', 'r1');
  const refusal =
    'nothing was deployed: node node3 moved from rack r2 (lab175-r2) to rack r1 (lab175-r1) and is still held by lab175-r2';
  for (const args of [
    ['deploy', 'lab175-*', '--auto-approve', '--parallelism', '2'],
    ['deploy', 'lab175-r2', '--auto-approve'],
  ]) {
    const r = await cluster.cdktf(args);
    expect({ args, refused: r.code !== 0 }).toEqual({ args, refused: true });
    expect(r.stdout + r.stderr).toContain(refusal);
    expect(r.stdout + r.stderr).toContain('Run first: npx calico-net shard migrate');
    expect(r.stdout + r.stderr).not.toMatch(/Apply complete|Destroying|Creating/);
  }
  expect(stateRows()).toEqual(rows);
  expect(await Promise.all(cluster.nodeNames.map(identity))).toEqual(hosts);

  const migrate = await ok(cluster.calicoNet(['shard', 'migrate']));
  expect(migrate.stdout.match(/moved from lab175-r2 into lab175-r1/g)).toHaveLength(3);
  const deploy = await ok(deployAll());
  expect(deploy.stdout).not.toMatch(/Apply complete! Resources: [1-9]|[1-9]\d* (added|destroyed)/);
  await expectEmptyPlans(['lab175-r1', 'lab175-r2']);
  expect(pgStateResources(pg, 'calico_lab175_r1').filter((a) => a.includes('node3'))).toHaveLength(3);
  expect(await Promise.all(cluster.nodeNames.map(identity))).toEqual(hosts);
  const pings = await cluster.pingAll();
  expect(pings.filter((p) => !p.ok)).toEqual([]);
});
