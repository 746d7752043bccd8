/**
 * The guard against a rack change deployed without `calico-net shard migrate` (stacks/shard-guard.ts):
 * synthesis reads what each shard's local state holds and refuses while a node is held by one
 * shard and declared by another, naming the node, both racks and the command; it lets a normal
 * deploy, a new node and a node removed on purpose through. The real app (dist/stacks/main.js)
 * exits 1 with the message, on cdktf's default state files in the project directory.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseInventory } from '../../stacks/inventory';
import { synthesizeShards } from '../support/synth-shards';
import { guardShardMoves, SHARD_MIGRATING_ENV, ShardGuardError } from '../../stacks/shard-guard';
import { packageRoot } from '../../providers/package-root';

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-guard-'))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

type Racks = Record<string, string>;

function inventoryText(racks: Racks, state = `state: { backend: local, path: ${dir}/st/lab.tfstate }`): string {
  const lines = ['cluster: { name: lab, podCidr: 198.19.0.0/16, sharding: byRack }', 'nodes:'];
  Object.entries(racks).forEach(([name, rack], i) =>
    lines.push(
      `  - { name: ${name}, rack: ${rack}, address: 198.18.174.${i + 1}, podCidr: 198.19.${i + 1}.0/24, workloads: [{ name: w${i}, ip: 198.19.${i + 1}.2 }] }`,
    ),
  );
  if (state) lines.push(state);
  return lines.join('\n') + '\n';
}

/** Synthesizes the inventory into dir/out; returns each stack's declared addresses. */
function synth(racks: Racks, state?: string): Map<string, string[]> {
  return synthesizeShards(parseInventory(inventoryText(racks, state), '/inv/lab.yaml'), path.join(dir, 'out'));
}

function writeState(file: string, addresses: string[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const resources = addresses.map((a) => {
    const [type, name] = a.split('.');
    return { mode: 'managed', type, name, provider: 'provider["x"]', instances: [] };
  });
  fs.writeFileSync(file, JSON.stringify({ version: 4, serial: 3, lineage: 'l', resources }));
}

/** Deployed as synthesized: each shard's state holds exactly what its stack declares. */
function deployed(racks: Racks): void {
  for (const [stack, addresses] of synth(racks))
    writeState(path.join(dir, 'st', `lab.${stack.slice('lab-'.length)}.tfstate`), addresses);
}

const guard = (racks: Racks, state?: string, env?: Record<string, string>) =>
  guardShardMoves(parseInventory(inventoryText(racks, state), '/inv/lab.yaml'), path.join(dir, 'out'), dir, env);

async function refusal(racks: Racks, state?: string): Promise<string> {
  synth(racks, state);
  try {
    await guard(racks, state);
  } catch (err) {
    expect(err).toBeInstanceOf(ShardGuardError);
    return (err as Error).message;
  }
  throw new Error('the guard let it through');
}

const RACKS: Racks = { n1: 'r1', n2: 'r2', n3: 'r2' };

test('a normal deploy, a new node and a node removed on purpose pass', async () => {
  deployed(RACKS);
  synth(RACKS);
  await expect(guard(RACKS)).resolves.toBeUndefined();
  const grown = { ...RACKS, n4: 'r1', n5: 'r9' };
  synth(grown);
  await expect(guard(grown)).resolves.toBeUndefined();
  const shrunk = { n1: 'r1', n2: 'r2' };
  synth(shrunk);
  await expect(guard(shrunk)).resolves.toBeUndefined();
  // Nothing deployed yet at all.
  fs.rmSync(path.join(dir, 'st'), { recursive: true });
  synth(RACKS);
  await expect(guard(RACKS)).resolves.toBeUndefined();
});

test('a rack change: refused, naming the node, its old and new rack, and the command', async () => {
  deployed(RACKS);
  const message = await refusal({ ...RACKS, n3: 'r1' });
  expect(message).toMatch(/^nothing was deployed: node n3 moved from rack r2 \(lab-r2\) to rack r1 \(lab-r1\)/);
  expect(message).toContain("is still held by lab-r2's state");
  expect(message).toContain('Run first: npx calico-net shard migrate  (');
  expect(message).not.toContain('n1');
  expect(message).not.toContain('n2');
  // One line per node, not per resource.
  expect(message.match(/node n3 moved/g)).toHaveLength(1);
});

test("the last node of a rack leaves: the retired rack's state file is found, and --from-rack named", async () => {
  deployed(RACKS);
  const message = await refusal({ n1: 'r3', n2: 'r2', n3: 'r2' });
  expect(message).toMatch(/node n1 moved from rack r1 \(lab-r1\) to rack r3 \(lab-r3\)/);
  expect(message).toContain('npx calico-net shard migrate --from-rack r1');
  // After a destroy of that rack its state is empty: nothing pending.
  writeState(path.join(dir, 'st', 'lab.r1.tfstate'), []);
  await expect(guard({ n1: 'r3', n2: 'r2', n3: 'r2' })).resolves.toBeUndefined();
});

test('sharding turned on over a deployed single stack: refused until migrated', async () => {
  synth(RACKS);
  writeState(path.join(dir, 'st', 'lab.tfstate'), [...synth(RACKS).values()].flat());
  const message = await refusal(RACKS);
  expect(message).toContain('node n1 moved from the single stack lab (before sharding) to rack r1 (lab-r1)');
  expect(message).toContain('node n3 moved from the single stack lab (before sharding) to rack r2 (lab-r2)');
  // Migrated: the single stack's state is empty.
  deployed(RACKS);
  writeState(path.join(dir, 'st', 'lab.tfstate'), []);
  await expect(guard(RACKS)).resolves.toBeUndefined();
});

test('an interrupted migrate (the entry in both states): refused, the old copy would destroy the host', async () => {
  deployed(RACKS);
  const moved = { ...RACKS, n3: 'r1' };
  const stacks = synth(moved);
  writeState(path.join(dir, 'st', 'lab.r1.tfstate'), stacks.get('lab-r1')!);
  expect(await refusal(moved)).toMatch(
    /node n3 moved from rack r2 \(lab-r2\) to rack r1 \(lab-r1\) and is held by the states of both/,
  );
});

test("shard migrate's own synthesis is not guarded (it is the way out), on local or pg state", async () => {
  deployed(RACKS);
  synth({ ...RACKS, n3: 'r1' });
  process.env[SHARD_MIGRATING_ENV] = '1';
  try {
    await expect(guard({ ...RACKS, n3: 'r1' })).resolves.toBeUndefined();
  } finally {
    delete process.env[SHARD_MIGRATING_ENV];
  }
  // pg: nothing is read at all (the database named here does not exist).
  const pg = 'state: { backend: pg, schemaName: calico_lab }';
  synth({ ...RACKS, n3: 'r1' }, pg);
  const env = { PG_CONN_STR: `host=${dir}/no-such-db`, [SHARD_MIGRATING_ENV]: '1' };
  await expect(guard({ ...RACKS, n3: 'r1' }, pg, env)).resolves.toBeUndefined();
});

test('pg state whose database cannot be read: refused, naming the database, never the password', async () => {
  const pg = 'state: { backend: pg, schemaName: calico_lab }';
  synth(RACKS, pg);
  const connStr = `host=${dir}/no-such-db user=tf password='s3cret word' dbname=states sslmode=disable`;
  const problem = await guard(RACKS, pg, { PG_CONN_STR: connStr }).then(
    () => 'passed',
    (err: Error) => (err instanceof ShardGuardError ? err.message : `not a ShardGuardError: ${err}`),
  );
  expect(problem).toContain(
    `nothing was deployed: the shards' states could not be read from PostgreSQL database "states" on the unix socket in ${dir}/no-such-db (port 5432) as user "tf" (`,
  );
  expect(problem).toContain('make it reachable from here, then run again');
  expect(problem).not.toContain('s3cret');
  // A connection string that cannot be parsed: refused the same way, the value never quoted.
  const broken = await guard(RACKS, pg, { PG_CONN_STR: "host=/x password='s3cret" }).catch((e: Error) => e.message);
  expect(broken).toContain('the quoted value of "password" is not closed');
  expect(broken).not.toContain('s3cret');
});

test('an unreadable state file stops synthesis rather than reading as "nothing held"', async () => {
  deployed(RACKS);
  fs.writeFileSync(path.join(dir, 'st', 'lab.r2.tfstate'), '{"version": 4, "resou');
  synth(RACKS);
  await expect(guard(RACKS)).rejects.toThrow(/lab\.r2\.tfstate is not a readable state/);
});

test("the app: cdktf's default state files in the project directory, a rack change exits 1 with the message", async () => {
  const inv = path.join(dir, 'cluster.yaml');
  const run = (racks: Racks) => {
    fs.writeFileSync(inv, inventoryText(racks, ''));
    return spawnSync(process.execPath, [path.join(packageRoot(), 'dist', 'stacks', 'main.js')], {
      cwd: dir,
      env: { ...process.env, CALICO_INVENTORY: inv, CDKTF_OUTDIR: path.join(dir, 'out') },
      encoding: 'utf8',
    });
  };
  expect(run(RACKS).status).toBe(0);
  for (const [stack, addresses] of synth(RACKS, ''))
    writeState(path.join(dir, `terraform.${stack}.tfstate`), addresses);
  expect(run(RACKS).status).toBe(0);
  const moved = run({ ...RACKS, n2: 'r1' });
  expect(moved.status).toBe(1);
  expect(moved.stderr).toContain(
    'calico-net: nothing was deployed: node n2 moved from rack r2 (lab-r2) to rack r1 (lab-r1)',
  );
});
