/**
 * The shard guard on pg state (stacks/shard-guard.ts, stacks/pg-states.ts) against a real,
 * throwaway PostgreSQL (lab/postgres.ts: root, the postgres user; no lab, no terraform): each
 * shard's state is a row of `<schema>.states`, as Terraform's pg backend keeps it, written here
 * directly. The same verdicts as on local state: a normal deploy, a new node, a node removed on
 * purpose and nothing deployed at all pass; a rack change, a retired rack's schema still holding
 * a node, and the single stack's schema still holding nodes are refused, naming the node and the
 * command. A schema that does not exist yet is empty; a row that is not a state, a role that may
 * not read the states and a database that is not there are refused, never passed, and never with
 * the password.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { startPostgres, Postgres } from '../../lab/postgres';
import { parseInventory } from '../../stacks/inventory';
import { synthesizeShards } from '../support/synth-shards';
import { guardShardMoves, ShardGuardError } from '../../stacks/shard-guard';

let pg: Postgres;
let dir: string;
beforeAll(() => (pg = startPostgres()));
afterAll(() => pg?.stop());
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-guard-pg-'));
  // Every schema of the last test goes: each test starts from an empty database.
  const schemas = pg.psql("select string_agg(nspname, ',') from pg_namespace where nspname like 'calico\\_t%'");
  if (schemas) pg.psql(`SET client_min_messages TO warning; DROP SCHEMA ${schemas} CASCADE`);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

type Racks = Record<string, string>;
const RACKS: Racks = { n1: 'r1', n2: 'r2', n3: 'r2' };
const STATE = 'state: { backend: pg, schemaName: calico_t }';

function inventory(racks: Racks) {
  const lines = ['cluster: { name: lab, podCidr: 198.19.0.0/16, sharding: byRack }', 'nodes:'];
  Object.entries(racks).forEach(([name, rack], i) =>
    lines.push(
      `  - { name: ${name}, rack: ${rack}, address: 198.18.175.${i + 1}, podCidr: 198.19.${i + 1}.0/24, workloads: [{ name: w${i}, ip: 198.19.${i + 1}.2 }] }`,
    ),
  );
  lines.push(STATE);
  return parseInventory(lines.join('\n') + '\n', '/inv/lab.yaml');
}

/** Synthesizes into dir/out; returns each stack's declared addresses. */
function synth(racks: Racks): Map<string, string[]> {
  return synthesizeShards(inventory(racks), path.join(dir, 'out'));
}

/** A schema's `states` table with the default workspace's row, as Terraform's pg backend makes it. */
function writeRow(schema: string, data: string): void {
  pg.psql(
    `SET client_min_messages TO warning; CREATE SCHEMA IF NOT EXISTS ${schema}; CREATE TABLE IF NOT EXISTS ${schema}.states (id bigserial PRIMARY KEY, name text, data text);` +
      ` CREATE UNIQUE INDEX IF NOT EXISTS states_by_name ON ${schema}.states (name);` +
      ` INSERT INTO ${schema}.states (name, data) VALUES ('default', $json$${data}$json$)` +
      ` ON CONFLICT (name) DO UPDATE SET data = excluded.data`,
  );
}

function writeState(schema: string, addresses: string[]): void {
  const resources = addresses.map((a) => {
    const [type, name] = a.split('.');
    return { mode: 'managed', type, name, provider: 'provider["x"]', instances: [] };
  });
  writeRow(schema, JSON.stringify({ version: 4, serial: 3, lineage: 'l', resources }));
}

/** Deployed as synthesized: each shard's schema holds exactly what its stack declares. */
function deployed(racks: Racks): void {
  for (const [stack, addresses] of synth(racks))
    writeState(`calico_t_${stack.slice('lab-'.length).replace(/-/g, '_')}`, addresses);
}

const guard = (racks: Racks, connStr = pg.connStr) =>
  guardShardMoves(inventory(racks), path.join(dir, 'out'), dir, { PG_CONN_STR: connStr });

async function refusal(racks: Racks, connStr?: string): Promise<string> {
  synth(racks);
  try {
    await guard(racks, connStr);
  } catch (err) {
    expect(err).toBeInstanceOf(ShardGuardError);
    return (err as Error).message;
  }
  throw new Error('the guard let it through');
}

test('nothing deployed, a normal deploy, a new node (a new rack without a schema) and a node removed on purpose pass', async () => {
  synth(RACKS);
  await expect(guard(RACKS)).resolves.toBeUndefined();
  deployed(RACKS);
  await expect(guard(RACKS)).resolves.toBeUndefined();
  const grown = { ...RACKS, n4: 'r1', n5: 'r9' };
  synth(grown);
  await expect(guard(grown)).resolves.toBeUndefined();
  const shrunk = { n1: 'r1', n2: 'r2' };
  synth(shrunk);
  await expect(guard(shrunk)).resolves.toBeUndefined();
  // A schema with an empty table (shard migrate made it, nothing deployed yet) holds nothing.
  pg.psql('DELETE FROM calico_t_r2.states');
  synth({ ...RACKS, n3: 'r1' });
  await expect(guard({ ...RACKS, n3: 'r1' })).resolves.toBeUndefined();
});

test('a rack change: refused, naming the node, its old and new rack, and the command; the rows unchanged', async () => {
  deployed(RACKS);
  const rows = pg.psql("select (select data from calico_t_r1.states) || '|' || (select data from calico_t_r2.states)");
  const message = await refusal({ ...RACKS, n3: 'r1' });
  expect(message).toMatch(/^nothing was deployed: node n3 moved from rack r2 \(lab-r2\) to rack r1 \(lab-r1\)/);
  expect(message).toContain("is still held by lab-r2's state");
  expect(message).toContain('Run first: npx calico-net shard migrate  (');
  expect(message.match(/node n3 moved/g)).toHaveLength(1);
  expect(message).not.toMatch(/node n[12] /);
  expect(pg.psql("select (select data from calico_t_r1.states) || '|' || (select data from calico_t_r2.states)")).toBe(
    rows,
  );
});

test("the last node of a rack leaves: the retired rack's schema is found by name, and --from-rack named", async () => {
  deployed({ ...RACKS, n1: 'rack-a' });
  // Another cluster's schema that only starts alike is not a rack of this one.
  writeState('calico_tx_r1', synth({ ...RACKS, n1: 'rack-a' }).get('lab-rack-a')!);
  const message = await refusal({ n1: 'r3', n2: 'r2', n3: 'r2' });
  expect(message).toMatch(/node n1 moved from rack rack-a \(lab-rack-a\) to rack r3 \(lab-r3\)/);
  expect(message).toContain('npx calico-net shard migrate --from-rack rack-a');
  // After a destroy of that rack its state is empty: nothing pending.
  writeState('calico_t_rack_a', []);
  await expect(guard({ n1: 'r3', n2: 'r2', n3: 'r2' })).resolves.toBeUndefined();
});

test('sharding turned on over a deployed single stack: its schema is read, refused until migrated', async () => {
  writeState('calico_t', [...synth(RACKS).values()].flat());
  const message = await refusal(RACKS);
  expect(message).toContain('node n1 moved from the single stack lab (before sharding) to rack r1 (lab-r1)');
  expect(message).toContain('node n3 moved from the single stack lab (before sharding) to rack r2 (lab-r2)');
  deployed(RACKS);
  writeState('calico_t', []);
  await expect(guard(RACKS)).resolves.toBeUndefined();
});

test('a row that is not a state, and a role that may not read the states: refused, naming where', async () => {
  deployed(RACKS);
  writeRow('calico_t_r2', '{"version": 4, "resou');
  expect(await refusal(RACKS)).toMatch(
    /the state in schema calico_t_r2 of PostgreSQL database "postgres" .* is not a readable state/,
  );

  deployed(RACKS);
  pg.psql(
    "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'outsider') THEN CREATE ROLE outsider LOGIN; END IF; END $$",
  );
  const message = await refusal(RACKS, pg.connStr.replace('user=postgres', "user=outsider password='pw-s3cret'"));
  expect(message).toMatch(
    /^nothing was deployed: the shards' states could not be read from PostgreSQL database "postgres" on the unix socket in \S+ \(port 5432\) as user "outsider" \(permission denied for schema calico_t_r1\)/,
  );
  expect(message).not.toContain('pw-s3cret');
});

test('a database that is not there: refused, naming it, without the password', async () => {
  const message = await refusal(RACKS, pg.connStr.replace('dbname=postgres', "dbname=nodb password='pw-s3cret'"));
  expect(message).toContain('could not be read from PostgreSQL database "nodb"');
  expect(message).toContain('database "nodb" does not exist');
  expect(message).not.toContain('pw-s3cret');
});
