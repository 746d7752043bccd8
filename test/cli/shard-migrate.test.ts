/**
 * `calico-net shard migrate` against real terraform and local state files (no hosts needed: a
 * migration only moves state entries): each shard's file gets exactly its resources, the single
 * stack's state ends empty, a second run changes nothing, and the refusals write nothing.
 * Needs terraform on PATH (fails, never skips, without it).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { migrateToShards } from '../../cli/shard-migrate';
import { writeOperatorProject } from '../../cli/operator-project';
import { synthesizeProject } from '../../cli/project';

const PROVIDER = 'provider["registry.terraform.io/cdktf-calico/calico"]';

function inventory(sharded: boolean, extraNode = ''): string {
  return [
    `cluster: { name: fleet, podCidr: 198.19.0.0/16, topology: route-reflector${sharded ? ', sharding: byRack' : ''} }`,
    'nodes:',
    '  - { name: rr1, address: 198.18.96.1, podCidr: 198.19.1.0/24, routeReflector: true }',
    '  - { name: a0, rack: a, address: 198.18.96.3, podCidr: 198.19.3.0/24, workloads: [{ name: w3, ip: 198.19.3.2 }] }',
    '  - { name: b0, rack: b, address: 198.18.96.4, podCidr: 198.19.4.0/24, workloads: [{ name: w4, ip: 198.19.4.2 }] }',
    extraNode,
    'state: { backend: local, path: st/fleet.tfstate }',
    '',
  ].join('\n');
}

let dir: string;
let inv: string;
const env = { ...process.env };

beforeAll(() => {
  process.env.TF_CLI_CONFIG_FILE = '/dev/null';
  process.env.CHECKPOINT_DISABLE = '1';
});
afterAll(() => {
  process.env = env;
});

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-migrate-test-'));
  writeOperatorProject(dir);
  inv = path.join(dir, 'cluster.yaml');
  // The single stack as a deploy left it: a state entry for every resource it declares.
  fs.writeFileSync(inv, inventory(false));
  await synthesizeProject(dir, inv);
  const stack = JSON.parse(fs.readFileSync(path.join(dir, 'cdktf.out', 'stacks', 'fleet', 'cdk.tf.json'), 'utf8'));
  const resources = Object.entries<Record<string, unknown>>(stack.resource).flatMap(([type, byName]) =>
    Object.keys(byName).map((name) => ({
      mode: 'managed',
      type,
      name,
      provider: PROVIDER,
      instances: [{ schema_version: 0, attributes: { id: `${type}.${name}` }, sensitive_attributes: [] }],
    })),
  );
  fs.mkdirSync(path.join(dir, 'st'));
  fs.writeFileSync(
    path.join(dir, 'st', 'fleet.tfstate'),
    JSON.stringify({
      version: 4,
      terraform_version: '1.11.4',
      serial: 7,
      lineage: 'old-lineage',
      outputs: {},
      resources,
      check_results: null,
    }),
  );
  fs.rmSync(path.join(dir, 'cdktf.out'), { recursive: true });
});

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const stateOf = (file: string) => JSON.parse(fs.readFileSync(path.join(dir, 'st', file), 'utf8'));
const addresses = (state: any) => state.resources.map((r: any) => `${r.type}.${r.name}`).sort();

test('each shard file gets exactly its resources; the single stack ends empty; a second run changes nothing', async () => {
  const before = addresses(stateOf('fleet.tfstate'));
  expect(before).toHaveLength(8); // rr1: node, bird; a0, b0: node, bird, workload
  fs.writeFileSync(inv, inventory(true));
  const log: string[] = [];
  const result = await migrateToShards(dir, inv, (l) => log.push(l));
  expect(result.moved).toEqual([
    { stack: 'fleet-a', resources: 3 },
    { stack: 'fleet-b', resources: 3 },
    { stack: 'fleet-route-reflectors', resources: 2 },
  ]);
  const a = stateOf('fleet.a.tfstate');
  const b = stateOf('fleet.b.tfstate');
  const rr = stateOf('fleet.route-reflectors.tfstate');
  expect([...addresses(a), ...addresses(b), ...addresses(rr)].sort()).toEqual(before);
  expect(addresses(a).every((x: string) => /_a0_/.test(x))).toBe(true);
  expect(addresses(rr).every((x: string) => /_rr1_/.test(x))).toBe(true);
  // Entries move as they were (attributes included); the single stack keeps its lineage, a later serial.
  expect(a.resources[0].instances).toEqual([
    {
      schema_version: 0,
      attributes: { id: `${a.resources[0].type}.${a.resources[0].name}` },
      sensitive_attributes: [],
    },
  ]);
  const old = stateOf('fleet.tfstate');
  expect({ resources: old.resources, lineage: old.lineage }).toEqual({ resources: [], lineage: 'old-lineage' });
  expect(old.serial).toBeGreaterThan(7);

  const again = await migrateToShards(dir, inv, () => undefined);
  expect(again).toEqual({ moved: [], skipped: [], notDeployed: [], rackMoves: [], orphans: [], created: [] });
  expect(addresses(stateOf('fleet.a.tfstate'))).toEqual(addresses(a));
});

test('a resource that belongs to no shard: refused, naming it, and nothing written', async () => {
  const state = stateOf('fleet.tfstate');
  state.resources.push({
    mode: 'managed',
    type: 'calico_workload',
    name: 'gone_node_workload_ABC',
    provider: PROVIDER,
    instances: [],
  });
  fs.writeFileSync(path.join(dir, 'st', 'fleet.tfstate'), JSON.stringify(state));
  fs.writeFileSync(inv, inventory(true));
  await expect(migrateToShards(dir, inv, () => undefined)).rejects.toThrow(
    /nothing moved: 1 resource\(s\) of fleet's state belong to no shard[\s\S]*calico_workload\.gone_node_workload_ABC/,
  );
  expect(fs.readdirSync(path.join(dir, 'st')).sort()).toEqual(['fleet.tfstate']);
  expect(stateOf('fleet.tfstate').resources).toHaveLength(9);
});

test('a shard state holding something else: refused before any shard is written', async () => {
  fs.writeFileSync(inv, inventory(true));
  fs.writeFileSync(
    path.join(dir, 'st', 'fleet.b.tfstate'),
    JSON.stringify({
      version: 4,
      terraform_version: '1.11.4',
      serial: 1,
      lineage: 'b',
      outputs: {},
      resources: [{ mode: 'managed', type: 'calico_node', name: 'other', provider: PROVIDER, instances: [] }],
    }),
  );
  await expect(migrateToShards(dir, inv, () => undefined)).rejects.toThrow(
    /nothing moved: the state of fleet-b already holds other resources \(calico_node\.other\)/,
  );
  expect(fs.existsSync(path.join(dir, 'st', 'fleet.a.tfstate'))).toBe(false);
  expect(stateOf('fleet.tfstate').resources).toHaveLength(8);
});

test('an inventory without sharding is refused', async () => {
  await expect(migrateToShards(dir, inv, () => undefined)).rejects.toThrow(/cluster\.sharding is not set/);
});

test('a node moved to another rack: its entries move between the shard states, named rack by rack', async () => {
  fs.writeFileSync(inv, inventory(true));
  await migrateToShards(dir, inv, () => undefined);
  const a0 = addresses(stateOf('fleet.a.tfstate'));
  const b0 = addresses(stateOf('fleet.b.tfstate'));
  const aLineage = stateOf('fleet.a.tfstate').lineage;

  // a0 moves to rack b: rack a has no node left, so no stack; without --from-rack its state is not read.
  fs.writeFileSync(inv, inventory(true).replace('name: a0, rack: a', 'name: a0, rack: b'));
  const blind = await migrateToShards(dir, inv, () => undefined);
  expect(blind.rackMoves).toEqual([]);
  expect(blind.notDeployed.sort()).toEqual(a0.map((x: string) => `fleet-b: ${x}`).sort());
  expect(addresses(stateOf('fleet.b.tfstate'))).toEqual(b0);

  const log: string[] = [];
  const moved = await migrateToShards(dir, inv, (l) => log.push(l), { fromRacks: ['a'] });
  expect(moved.rackMoves.map((m) => [m.address, m.from, m.to, m.alreadyThere]).sort()).toEqual(
    a0.map((x: string) => [x, 'fleet-a', 'fleet-b', false]).sort(),
  );
  expect(moved.notDeployed).toEqual([]);
  expect(addresses(stateOf('fleet.b.tfstate'))).toEqual([...a0, ...b0].sort());
  // The old rack's state keeps its lineage and is left empty, not deleted.
  expect({ resources: stateOf('fleet.a.tfstate').resources, lineage: stateOf('fleet.a.tfstate').lineage }).toEqual({
    resources: [],
    lineage: aLineage,
  });
  expect(log).toContain(`${a0[0]}: moved from fleet-a into fleet-b`);

  // Done: a second run moves nothing.
  const again = await migrateToShards(dir, inv, () => undefined, { fromRacks: ['a'] });
  expect(again.rackMoves).toEqual([]);

  // b0 becomes a route reflector: its entries follow it into the reflectors' stack.
  fs.writeFileSync(
    inv,
    inventory(true)
      .replace('name: a0, rack: a', 'name: a0, rack: b')
      .replace('name: b0, rack: b,', 'name: b0, rack: b, routeReflector: true,'),
  );
  const promoted = await migrateToShards(dir, inv, () => undefined);
  expect(new Set(promoted.rackMoves.map((m) => `${m.from}>${m.to}`))).toEqual(
    new Set(['fleet-b>fleet-route-reflectors']),
  );
  expect(addresses(stateOf('fleet.b.tfstate'))).toEqual(a0);
});

test('an interrupted move (the entry in both states) is finished by dropping the stale copy', async () => {
  fs.writeFileSync(inv, inventory(true));
  await migrateToShards(dir, inv, () => undefined);
  const a = stateOf('fleet.a.tfstate');
  const b = stateOf('fleet.b.tfstate');
  // As if a run died between its two pushes: a0's entries are in b's state and still in a's.
  b.resources.push(...a.resources);
  b.serial += 1;
  fs.writeFileSync(path.join(dir, 'st', 'fleet.b.tfstate'), JSON.stringify(b));
  fs.writeFileSync(
    inv,
    inventory(true, '  - { name: a1, rack: a, address: 198.18.96.5, podCidr: 198.19.5.0/24 }').replace(
      'name: a0, rack: a',
      'name: a0, rack: b',
    ),
  );
  const r = await migrateToShards(dir, inv, () => undefined);
  expect(r.rackMoves.every((m) => m.alreadyThere && m.from === 'fleet-a' && m.to === 'fleet-b')).toBe(true);
  expect(r.rackMoves).toHaveLength(a.resources.length);
  expect(stateOf('fleet.a.tfstate').resources).toEqual([]);
  expect(stateOf('fleet.b.tfstate').resources).toHaveLength(b.resources.length);
});

test('--from-rack must be a rack name', async () => {
  fs.writeFileSync(inv, inventory(true));
  await expect(migrateToShards(dir, inv, () => undefined, { fromRacks: ['../x'] })).rejects.toThrow(
    /--from-rack: "\.\.\/x" is not a rack name/,
  );
});
