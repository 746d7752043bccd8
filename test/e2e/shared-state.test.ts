/**
 * Shared state with a lock: the inventory names Terraform's pg backend (connection string from
 * PG_CONN_STR, never in a file), state lands in a real PostgreSQL, and a second apply started
 * while the first holds the lock fails with Terraform's lock error instead of applying.
 */
import * as fs from 'fs';
import { describeCommand, E2eCluster } from './cluster';
import { startPostgres, Postgres } from './postgres';

let cluster: E2eCluster;
let pg: Postgres;

beforeAll(async () => {
  pg = startPostgres();
  cluster = await E2eCluster.up({ id: 14, nodes: 2, asMode: 'ibgp' });
  fs.appendFileSync(cluster.lab.inventoryPath, 'state: { backend: pg, schemaName: calico_lab14 }\n');
  cluster.extraEnv = { PG_CONN_STR: pg.connStr };
});

afterAll(async () => {
  await cluster?.down();
  pg?.stop();
});

test('deploy keeps its state in PostgreSQL, and the connection string is in no file', async () => {
  const deploy = await cluster.deploy();
  if (deploy.code !== 0) throw new Error(describeCommand(deploy));
  expect(pg.psql('select name from calico_lab14.states')).toBe('default');
  expect(pg.psql('select length(data) > 1000 from calico_lab14.states')).toBe('t');
  expect(fs.readdirSync(cluster.projectDir).filter((f) => f.endsWith('.tfstate'))).toEqual([]);
  const synthesized = fs.readFileSync(`${cluster.stackDir}/cdk.tf.json`, 'utf8');
  expect(synthesized).toContain('"pg"');
  expect(synthesized).not.toContain(pg.connStr);
});

test('a second apply while the first holds the lock fails with the lock error, never applies', async () => {
  // Make the first apply stop half-way: drift on node1's bird.conf, and node1's bird frozen, so
  // `birdc configure` waits until bird is thawed.
  expect((await cluster.sh('node1', "printf '# drift\\n' >> /etc/bird/bird.conf")).code).toBe(0);
  const birdPid = cluster.lab.nodes[0].birdPid;
  process.kill(birdPid, 'SIGSTOP');
  let first: Promise<{ code: number; stdout: string; stderr: string }> | undefined;
  try {
    first = cluster.terraform(['apply', '-auto-approve', '-input=false', '-no-color']);
    const deadline = Date.now() + 60_000;
    while (pg.psql("select count(*) from pg_locks where locktype = 'advisory'") === '0') {
      if (Date.now() > deadline) throw new Error('the first apply never took the lock');
      await new Promise((r) => setTimeout(r, 100));
    }
    const second = await cluster.terraform(['apply', '-auto-approve', '-input=false', '-no-color', '-lock-timeout=0s']);
    expect(second.code).toBe(1);
    expect(second.stdout + second.stderr).toMatch(/Error acquiring the state lock/);
    expect(second.stdout + second.stderr).not.toMatch(/Apply complete/);
  } finally {
    process.kill(birdPid, 'SIGCONT');
  }
  const done = await first!;
  if (done.code !== 0) throw new Error(describeCommand(done));
  expect(done.stdout).toMatch(/Apply complete! Resources: 0 added, 1 changed, 0 destroyed/);
  expect((await cluster.plan()).code).toBe(0);
});
