/**
 * A sharded fleet on shared PostgreSQL state (lab 95, three racks of one node, full-mesh iBGP,
 * one workload each): a cluster deployed as one stack moves into its shards without a host
 * changing (every shard's plan empty afterwards), every shard deploys at once
 * (`cdktf deploy 'lab95-*' --parallelism 3`), a change to one rack touches only its stack, the
 * pg lock refuses a second apply of one rack while another rack applies, `calico-net drift`
 * merges every shard into one report naming the drifted rack, and destroying one rack leaves
 * the others as they were.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { operatorExec } from '../../lab';
import { CommandResult, describeCommand, E2eCluster, NodeSnapshot } from './cluster';
import { clusterOnPostgres, pgStateResources, Postgres } from './postgres';

let cluster: E2eCluster;
let pg: Postgres;
const RACKS: Record<string, string> = { node1: 'r1', node2: 'r2', node3: 'r3' };
const SHARDS = ['lab95-r1', 'lab95-r2', 'lab95-r3'];

beforeAll(async () => {
  ({ cluster, pg } = await clusterOnPostgres({ id: 95, nodes: 3, asMode: 'ibgp' }, 'calico_lab95'));
});

afterAll(async () => {
  await cluster?.down();
  pg?.stop();
});

function editInventory(edit: (inv: any) => void): void {
  const inv = parseYaml(fs.readFileSync(cluster.lab.inventoryPath, 'utf8'));
  edit(inv);
  fs.writeFileSync(cluster.lab.inventoryPath, toYaml(inv));
}

const shardDir = (stack: string) => path.join(cluster.projectDir, 'cdktf.out', 'stacks', stack);

function terraformIn(stack: string, args: string[]): Promise<CommandResult> {
  return operatorExec(cluster.lab, ['terraform', ...args], { cwd: shardDir(stack), env: cluster.env });
}

const planIn = (stack: string) =>
  terraformIn(stack, ['plan', '-detailed-exitcode', '-input=false', '-no-color', '-lock-timeout=60s']);

async function ok(r: Promise<CommandResult>): Promise<CommandResult> {
  const done = await r;
  if (done.code !== 0) throw new Error(describeCommand(done));
  return done;
}

const stateResources = (schema: string) => pgStateResources(pg, schema);

async function snapshots(): Promise<Record<string, NodeSnapshot>> {
  return Object.fromEntries(
    await Promise.all(cluster.nodeNames.map(async (n) => [n, await cluster.snapshot(n)] as const)),
  );
}

test('a cluster deployed as one stack moves into its shards: nothing rebuilt, every shard plan empty', async () => {
  await ok(cluster.deploy());
  const single = stateResources('calico_lab95');
  expect(single).toHaveLength(9); // 3 × (node, bird config, workload)
  // BIRD's routes arrive a few seconds after the deploy: compare against the converged hosts.
  await cluster.expectRoutesConverged();
  const before = await snapshots();

  editInventory((inv) => {
    inv.cluster.sharding = 'byRack';
    for (const node of inv.nodes) node.rack = RACKS[node.name];
  });
  const migrate = await ok(cluster.calicoNet(['shard', 'migrate']));
  for (const s of SHARDS) expect(migrate.stdout).toContain(`${s}: 3 resource(s) moved into its state`);

  // Each shard its own schema on the one database; together exactly the single stack's entries.
  const moved = SHARDS.map((s) => stateResources(`calico_${s.replace('-', '_')}`));
  expect(moved.map((m) => m.length)).toEqual([3, 3, 3]);
  expect(moved.flat().sort()).toEqual(single);
  expect(stateResources('calico_lab95')).toEqual([]);

  const plans = await Promise.all(SHARDS.map(planIn));
  plans.forEach((p, i) =>
    expect({ stack: SHARDS[i], code: p.code, out: p.code === 0 ? '' : p.stdout + p.stderr }).toEqual({
      stack: SHARDS[i],
      code: 0,
      out: '',
    }),
  );
  expect(await snapshots()).toEqual(before);

  // A second run finds nothing left to move, and changes nothing.
  const again = await ok(cluster.calicoNet(['shard', 'migrate']));
  expect(again.stdout).toMatch(/holds no resources: nothing to migrate/);
  expect(SHARDS.map((s) => stateResources(`calico_${s.replace('-', '_')}`).length)).toEqual([3, 3, 3]);
});

test("cdktf deploy 'lab95-*' --parallelism 3 applies every shard at once", async () => {
  editInventory((inv) => {
    inv.nodes.forEach((node: any, k: number) => node.workloads.push({ name: `wl${k + 1}b`, ip: `198.19.${k + 1}.3` }));
  });
  const started = Date.now();
  const deploy = await ok(cluster.cdktf(['deploy', 'lab95-*', '--auto-approve', '--parallelism', '3']));
  const seconds = (Date.now() - started) / 1000;
  // The new workload, and its node's list of wanted workloads (calico_node.workloads: what the
  // node removes as leftovers is what that list no longer holds).
  // cdktf prefixes a stack's name to the first line of each chunk of its output only, so the
  // summary lines are counted; the empty plan of every shard below says which stack got what.
  expect(deploy.stdout.match(/Apply complete! Resources: 1 added, 1 changed, 0 destroyed/g)).toHaveLength(
    SHARDS.length,
  );
  process.stdout.write(
    `[shards e2e] parallel deploy of 3 shards (one workload added to each): ${seconds.toFixed(1)} s\n`,
  );
  expect((await Promise.all(SHARDS.map(planIn))).map((p) => p.code)).toEqual([0, 0, 0]);
  await cluster.expectRoutesConverged();
  const pings = await cluster.pingAll();
  expect(pings.filter((p) => !p.ok)).toEqual([]);
  expect(pings).toHaveLength(30);
  // status and verify cover every shard's nodes in one run with one exit code.
  const status = await cluster.calicoNet(['status', '--wait', '30']);
  expect(status.code).toBe(0);
  for (const n of cluster.nodeNames) expect(status.stdout).toContain(`Node ${n} (shard lab95-${RACKS[n]}):`);
  const verify = await cluster.calicoNet(['verify']);
  expect(verify.code).toBe(0);
  expect(verify.stdout).toMatch(
    /30\/30 workload pairs answered\nshards: lab95-r1: node1; lab95-r2: node2; lab95-r3: node3\n$/,
  );
});

test("a change to one rack changes only its stack's configuration and plan", async () => {
  const config = (s: string) => fs.readFileSync(path.join(shardDir(s), 'cdk.tf.json'), 'utf8');
  const before = Object.fromEntries(SHARDS.map((s) => [s, config(s)]));
  editInventory((inv) => {
    inv.nodes.find((n: any) => n.name === 'node2').workloads.pop();
  });
  await ok(cluster.cdktf(['synth']));
  expect(SHARDS.filter((s) => config(s) !== before[s])).toEqual(['lab95-r2']);
  expect((await Promise.all(SHARDS.map(planIn))).map((p) => p.code)).toEqual([0, 2, 0]);
  const deploy = await ok(cluster.cdktf(['deploy', 'lab95-r2', '--auto-approve']));
  expect(deploy.stdout).toMatch(/Apply complete! Resources: 0 added, 1 changed, 1 destroyed/);
  expect((await cluster.snapshot('node2')).netns).toEqual(['wl2a']);
  expect((await cluster.snapshot('node1')).netns).toEqual(['wl1a', 'wl1b']);
  expect((await cluster.snapshot('node3')).netns).toEqual(['wl3a', 'wl3b']);
});

test('the pg lock: a second apply of one rack is refused while another rack applies', async () => {
  // The first apply of r1 stops half-way: drift on node1's bird.conf and node1's bird frozen,
  // so its `birdc configure` waits until bird is thawed, holding r1's lock.
  expect((await cluster.sh('node1', "printf '# drift\\n' >> /etc/bird/bird.conf")).code).toBe(0);
  expect((await cluster.exec('node3', ['sysctl', '-w', 'net.ipv4.ip_forward=0'])).code).toBe(0);
  const birdPid = cluster.lab.nodes[0].birdPid;
  process.kill(birdPid, 'SIGSTOP');
  let first: Promise<CommandResult> | undefined;
  let firstDone = false;
  try {
    first = terraformIn('lab95-r1', ['apply', '-auto-approve', '-input=false', '-no-color']).finally(
      () => (firstDone = true),
    );
    const deadline = Date.now() + 60_000;
    while (pg.psql("select count(*) from pg_locks where locktype = 'advisory'") === '0') {
      if (Date.now() > deadline) throw new Error('the first apply never took the lock');
      await new Promise((r) => setTimeout(r, 100));
    }
    const [second, otherRack] = await Promise.all([
      terraformIn('lab95-r1', ['apply', '-auto-approve', '-input=false', '-no-color', '-lock-timeout=0s']),
      terraformIn('lab95-r3', ['apply', '-auto-approve', '-input=false', '-no-color', '-lock-timeout=0s']),
    ]);
    expect(second.code).toBe(1);
    expect(second.stdout + second.stderr).toMatch(/Error acquiring the state lock/);
    expect(second.stdout + second.stderr).not.toMatch(/Apply complete/);
    if (otherRack.code !== 0) throw new Error(describeCommand(otherRack));
    expect(otherRack.stdout).toMatch(/Apply complete! Resources: 0 added, 1 changed, 0 destroyed/);
    expect(firstDone).toBe(false); // r1's lock was held all along
  } finally {
    process.kill(birdPid, 'SIGCONT');
  }
  const done = await first!;
  if (done.code !== 0) throw new Error(describeCommand(done));
  expect(done.stdout).toMatch(/Apply complete! Resources: 0 added, 1 changed, 0 destroyed/);
  expect((await Promise.all(SHARDS.map(planIn))).map((p) => p.code)).toEqual([0, 0, 0]);
});

test('calico-net drift plans every shard and merges one report that names the drifted rack', async () => {
  expect((await cluster.calicoNet(['drift'])).code).toBe(0);
  expect((await cluster.exec('node3', ['sysctl', '-w', 'net.ipv4.ip_forward=0'])).code).toBe(0);
  const json = await cluster.calicoNet(['drift', '--format', 'json', '--skip-synth']);
  expect(json.code).toBe(2);
  const report = JSON.parse(json.stdout);
  expect(report.shards.map((s: any) => [s.stack, s.drifted, s.error ?? null])).toEqual([
    ['lab95-r1', false, null],
    ['lab95-r2', false, null],
    ['lab95-r3', true, null],
  ]);
  expect(report.resources.map((r: any) => [r.stack, r.node, r.type])).toEqual([['lab95-r3', 'node3', 'calico_node']]);
  const md = await cluster.calicoNet(['drift', '--skip-synth']);
  expect(md.code).toBe(2);
  expect(md.stdout).toMatch(/\| `lab95-r3` \| \*\*drift\*\* on `node3` \|/);
  expect(md.stdout).toMatch(/\| `lab95-r1` \| no drift \|/);
  expect(md.stdout).toMatch(/## Drift report: stack `lab95-r3`[\s\S]*### Node `node3`/);
  await ok(cluster.cdktf(['deploy', 'lab95-r3', '--auto-approve']));
});

test('destroying one rack leaves the other racks as they were', async () => {
  const before = await snapshots();
  await ok(cluster.cdktf(['destroy', 'lab95-r3', '--auto-approve']));
  const after = await snapshots();
  expect(after.node3.netns).toEqual([]);
  expect(after.node3.caliLinks).toEqual([]);
  // The other racks keep everything of theirs; only the routes they learned from node3 go.
  const own = (s: NodeSnapshot) => ({ ...s, routes: s.routes.filter((r) => !r.includes('proto bird')) });
  for (const n of ['node1', 'node2']) {
    expect(own(after[n])).toEqual(own(before[n]));
    expect(after[n].routes.filter((r) => r.startsWith(cluster.podCidr('node3')))).toEqual([]);
  }
  expect(stateResources('calico_lab95_r3')).toEqual([]);
  expect((await Promise.all(['lab95-r1', 'lab95-r2'].map(planIn))).map((p) => p.code)).toEqual([0, 0]);
});
