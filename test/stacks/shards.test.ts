/**
 * Sharding (`sharding: byRack`), synthesized in process: the stacks and what each holds, every
 * resource identical to the single stack's (same address, same bird.conf from the whole
 * inventory), which stacks a change touches, each shard's state, and the refused inventories.
 * An inventory without sharding synthesizes exactly the single stack buildClusterStack writes.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, TerraformStack } from 'cdktf';
import { CalicoCluster, CalicoNode } from '../../constructs/cluster';
import { ClusterSpec } from '../../constructs/model';
import { ClusterValidationError } from '../../constructs/validation';
import { shardSchemaName, shardStatePath, shardsOf, REFLECTORS_SHARD } from '../../constructs/shards';
import { buildClusterStack, parseInventory } from '../../stacks/inventory';
import { buildClusterStacks } from '../../stacks/shards';
import { synthInventory } from './synth-helpers';

type StackJson = any;

function synthWith(build: (app: App) => void): Map<string, StackJson> {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-shards-'));
  try {
    const app = new App({ outdir });
    build(app);
    app.synth();
    const stacksDir = path.join(outdir, 'stacks');
    return new Map(
      fs
        .readdirSync(stacksDir)
        .sort()
        .map((name) => [name, JSON.parse(fs.readFileSync(path.join(stacksDir, name, 'cdk.tf.json'), 'utf8'))]),
    );
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

const stacksOf = (cluster: ClusterSpec) => synthWith((app) => buildClusterStacks(app, cluster));
const singleStackOf = (cluster: ClusterSpec) => synthWith((app) => buildClusterStack(app, cluster));

/** Every resource of a stack by "type.name" (its Terraform address). */
function resourcesOf(stack: StackJson): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [type, byName] of Object.entries<Record<string, unknown>>(stack.resource ?? {})) {
    for (const [name, config] of Object.entries(byName)) out.set(`${type}.${name}`, config);
  }
  return out;
}

function nodesOf(stack: StackJson): string[] {
  return Object.values<any>(stack.resource.calico_node)
    .map((r) => r.name)
    .sort();
}

/** 3 racks of 2 nodes, 2 reflectors (one without a rack), one workload per node, a peer with a password. */
function rackInventory(
  opts: { topology?: 'route-reflector' | 'full-mesh'; extra?: string; state?: string; sharding?: boolean } = {},
): string {
  const rr = (opts.topology ?? 'route-reflector') === 'route-reflector';
  const lines = [
    `cluster: { name: fleet, podCidr: 198.19.0.0/16, topology: ${rr ? 'route-reflector' : 'full-mesh'}${opts.sharding === false ? '' : ', sharding: byRack'} }`,
    'nodes:',
  ];
  if (rr) {
    lines.push('  - { name: rr1, address: 198.18.95.1, podCidr: 198.19.1.0/24, routeReflector: true }');
    lines.push('  - { name: rr2, address: 198.18.95.2, podCidr: 198.19.2.0/24, routeReflector: true, rack: a }');
  }
  let k = 3;
  for (const rack of ['a', 'b', 'c']) {
    for (let i = 0; i < 2; i++, k++) {
      lines.push(
        `  - { name: ${rack}${i}, rack: ${rack}, address: 198.18.95.${k}, podCidr: 198.19.${k}.0/24, workloads: [{ name: w${k}, ip: 198.19.${k}.2 }] }`,
      );
    }
  }
  if (opts.extra) lines.push(opts.extra);
  lines.push('peers: [{ address: 198.18.95.254, asNumber: 65000, password: "s3cret${x}" }]');
  if (opts.state) lines.push(opts.state);
  return lines.join('\n') + '\n';
}

const parse = (text: string) => parseInventory(text, '/inv/fleet.yaml');

function problemsOf(text: string): string[] {
  try {
    parse(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ClusterValidationError);
    return (err as ClusterValidationError).problems;
  }
  throw new Error('the inventory was accepted');
}

describe('an inventory without sharding', () => {
  test.each([
    ['examples/two-node.yaml'],
    ['examples/route-reflectors.yaml'],
    ['examples/external-peers.yaml'],
    ['examples/vxlan-cross-subnet.yaml'],
  ])('%s: buildClusterStacks writes exactly the single stack buildClusterStack writes', (file) => {
    const cluster = parseInventory(fs.readFileSync(file, 'utf8'), path.resolve(file));
    const stacks = stacksOf(cluster);
    expect([...stacks.keys()]).toEqual([cluster.name]);
    expect(stacks.get(cluster.name)).toEqual(singleStackOf(cluster).get(cluster.name));
  });

  test('with pg and local state, and racks as mere labels: still one stack, its backend unchanged', () => {
    for (const state of [
      'state: { backend: pg, schemaName: calico_fleet }',
      'state: { backend: local, path: st/fleet.tfstate }',
    ]) {
      const cluster = parse(rackInventory({ sharding: false, state }));
      const stacks = stacksOf(cluster);
      expect([...stacks.keys()]).toEqual(['fleet']);
      expect(stacks.get('fleet')).toEqual(singleStackOf(cluster).get('fleet'));
      expect(stacks.get('fleet').terraform.backend).toEqual(
        state.includes('pg') ? { pg: { schema_name: 'calico_fleet' } } : { local: { path: '/inv/st/fleet.tfstate' } },
      );
    }
  });

  test('the compiled default app (cdktf synth) writes one stack named after the cluster', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-inv-'));
    fs.writeFileSync(path.join(dir, 'c.yaml'), rackInventory({ sharding: false }));
    const r = synthInventory(path.join(dir, 'c.yaml'));
    expect(r.code).toBe(0);
    expect(fs.readdirSync(path.join(r.outdir, 'stacks'))).toEqual(['fleet']);
  });
});

describe('sharding: byRack', () => {
  const cluster = parse(rackInventory());
  const stacks = stacksOf(cluster);
  const single = singleStackOf({ ...cluster, sharding: undefined }).get('fleet');

  test('one stack per rack and one for the route reflectors, each with only its nodes', () => {
    expect([...stacks.keys()]).toEqual(['fleet-a', 'fleet-b', 'fleet-c', `fleet-${REFLECTORS_SHARD}`]);
    expect(nodesOf(stacks.get('fleet-a'))).toEqual(['a0', 'a1']);
    expect(nodesOf(stacks.get('fleet-b'))).toEqual(['b0', 'b1']);
    expect(nodesOf(stacks.get('fleet-c'))).toEqual(['c0', 'c1']);
    // rr2 says rack a, but a reflector serves every rack: it lives with the other reflector.
    expect(nodesOf(stacks.get('fleet-route-reflectors'))).toEqual(['rr1', 'rr2']);
    for (const stack of stacks.values()) expect(Object.keys(stack.provider)).toEqual(['calico']);
  });

  test('together the shards hold every resource of the single stack once, at the same address, configured identically', () => {
    const union = new Map<string, unknown>();
    for (const stack of stacks.values()) {
      for (const [address, config] of resourcesOf(stack)) {
        expect(union.has(address)).toBe(false);
        union.set(address, config);
      }
    }
    const expected = resourcesOf(single);
    expect(union.size).toBe(expected.size);
    for (const [address, config] of expected) expect(union.get(address)).toEqual(config);
    // bird.conf comes from the whole inventory: a rack node's config peers with both reflectors,
    // the reflectors' configs with every client, though no other stack's state is read.
    const birdOf = (stackName: string, node: string) =>
      Object.values<any>(stacks.get(stackName).resource.calico_bird_config).find((r) => r.node_name === node)
        .content as string;
    expect(birdOf('fleet-b', 'b0')).toMatch(/neighbor 198\.18\.95\.1 as/);
    expect(birdOf('fleet-b', 'b0')).toMatch(/neighbor 198\.18\.95\.2 as/);
    expect(birdOf('fleet-b', 'b0')).not.toMatch(/neighbor 198\.18\.95\.3 as/);
    for (const client of ['3', '4', '5', '6', '7', '8'])
      expect(birdOf('fleet-route-reflectors', 'rr1')).toMatch(new RegExp(`neighbor 198\\.18\\.95\\.${client} as`));
    expect(JSON.stringify([...stacks.values()])).not.toContain('terraform_remote_state"');
  });

  test('a change to one rack changes only its stack', () => {
    const changed = stacksOf(
      parse(
        rackInventory().replace(
          'workloads: [{ name: w5, ip: 198.19.5.2 }]',
          'workloads: [{ name: w5, ip: 198.19.5.2 }, { name: x5, ip: 198.19.5.3 }]',
        ),
      ),
    );
    const differing = [...stacks.keys()].filter(
      (s) => JSON.stringify(changed.get(s)) !== JSON.stringify(stacks.get(s)),
    );
    expect(differing).toEqual(['fleet-b']);
    expect(Object.keys(changed.get('fleet-b').resource.calico_workload)).toHaveLength(3);
  });

  test('a node added to a reflector cluster changes its rack and the reflectors, never the other racks', () => {
    const added = stacksOf(
      parse(rackInventory({ extra: '  - { name: c2, rack: c, address: 198.18.95.40, podCidr: 198.19.40.0/24 }' })),
    );
    const differing = [...stacks.keys()].filter((s) => JSON.stringify(added.get(s)) !== JSON.stringify(stacks.get(s)));
    expect(differing).toEqual(['fleet-c', 'fleet-route-reflectors']);
    expect(nodesOf(added.get('fleet-c'))).toEqual(['c0', 'c1', 'c2']);
  });

  test('a new rack is a new stack and changes only the reflectors besides', () => {
    const added = stacksOf(
      parse(rackInventory({ extra: '  - { name: d0, rack: d, address: 198.18.95.41, podCidr: 198.19.41.0/24 }' })),
    );
    expect([...added.keys()]).toEqual(['fleet-a', 'fleet-b', 'fleet-c', 'fleet-d', 'fleet-route-reflectors']);
    const differing = [...stacks.keys()].filter((s) => JSON.stringify(added.get(s)) !== JSON.stringify(stacks.get(s)));
    expect(differing).toEqual(['fleet-route-reflectors']);
  });

  test('full mesh: a node added to one rack changes every stack (every node peers with it)', () => {
    const mesh = stacksOf(parse(rackInventory({ topology: 'full-mesh' })));
    expect([...mesh.keys()]).toEqual(['fleet-a', 'fleet-b', 'fleet-c']);
    const added = stacksOf(
      parse(
        rackInventory({
          topology: 'full-mesh',
          extra: '  - { name: c2, rack: c, address: 198.18.95.40, podCidr: 198.19.40.0/24 }',
        }),
      ),
    );
    const differing = [...mesh.keys()].filter((s) => JSON.stringify(added.get(s)) !== JSON.stringify(mesh.get(s)));
    expect(differing).toEqual(['fleet-a', 'fleet-b', 'fleet-c']);
  });

  test('state: a pg schema per shard on the same database, a local file per shard', () => {
    const pg = stacksOf(parse(rackInventory({ state: 'state: { backend: pg, schemaName: calico_fleet }' })));
    expect([...pg.entries()].map(([name, s]) => [name, s.terraform.backend])).toEqual([
      ['fleet-a', { pg: { schema_name: 'calico_fleet_a' } }],
      ['fleet-b', { pg: { schema_name: 'calico_fleet_b' } }],
      ['fleet-c', { pg: { schema_name: 'calico_fleet_c' } }],
      ['fleet-route-reflectors', { pg: { schema_name: 'calico_fleet_route_reflectors' } }],
    ]);
    const noSchema = stacksOf(parse(rackInventory({ state: 'state: { backend: pg }' })));
    expect(noSchema.get('fleet-a').terraform.backend).toEqual({ pg: { schema_name: 'terraform_remote_state_a' } });
    const local = stacksOf(parse(rackInventory({ state: 'state: { backend: local, path: st/fleet.tfstate }' })));
    expect([...local.values()].map((s) => s.terraform.backend.local.path)).toEqual([
      '/inv/st/fleet.a.tfstate',
      '/inv/st/fleet.b.tfstate',
      '/inv/st/fleet.c.tfstate',
      '/inv/st/fleet.route-reflectors.tfstate',
    ]);
    // No state: cdktf's default, terraform.<stack>.tfstate: already one file per shard.
    expect(stacks.get('fleet-a').terraform.backend).toEqual({
      local: { path: expect.stringMatching(/terraform\.fleet-a\.tfstate$/) },
    });
    expect(shardStatePath('/s/x', 'a')).toBe('/s/x.a.tfstate');
    expect(shardSchemaName(undefined, 'rack-1')).toBe('terraform_remote_state_rack_1');
  });

  test('shards are sorted by name whatever the inventory order', () => {
    const reordered = parse(rackInventory().replace(/^( {2}- \{ name: a0.*)\n(.*)$/m, '$2\n$1'));
    expect(shardsOf(reordered).map((s) => s.name)).toEqual(['a', 'b', 'c', REFLECTORS_SHARD]);
  });

  test("a shard's cluster sees every node in inventory order, and a node added to it afterwards last", () => {
    const stack = new TerraformStack(
      new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'calico-shards-')) }),
      'fleet-a',
    );
    const shard = CalicoCluster.fromSpec(stack, 'cluster', cluster, { onlyNodes: ['a0', 'a1'] });
    expect(shard.spec().nodes.map((n) => n.name)).toEqual(cluster.nodes.map((n) => n.name));
    new CalicoNode(shard, 'a9', { name: 'a9', rack: 'a', address: '198.18.95.60', podCidr: '198.19.60.0/24' });
    expect(shard.spec().nodes.map((n) => n.name)).toEqual([...cluster.nodes.map((n) => n.name), 'a9']);
    expect(shard.spec().sharding).toBe('byRack');
    // Only the shard's own nodes have constructs (and so resources) in this stack.
    expect(shard.node.children.filter((c) => c instanceof CalicoNode).map((c) => c.node.id)).toEqual([
      'a0',
      'a1',
      'a9',
    ]);
  });

  test('the compiled default app writes the shard stacks', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-inv-'));
    fs.writeFileSync(path.join(dir, 'c.yaml'), rackInventory());
    const r = synthInventory(path.join(dir, 'c.yaml'));
    expect(r.code).toBe(0);
    expect(fs.readdirSync(path.join(r.outdir, 'stacks')).sort()).toEqual([
      'fleet-a',
      'fleet-b',
      'fleet-c',
      'fleet-route-reflectors',
    ]);
  });
});

describe('refused sharding settings, each naming the node or field', () => {
  test('a node without a rack, a bad rack name, the reflectors shard as a rack', () => {
    expect(
      problemsOf(rackInventory({ extra: '  - { name: lost, address: 198.18.95.40, podCidr: 198.19.40.0/24 }' })),
    ).toEqual([
      'nodes[8] "lost".rack: required with cluster.sharding byRack (every node that is not a route reflector needs one)',
    ]);
    expect(
      problemsOf(
        rackInventory({ extra: '  - { name: x, rack: "Rack 1", address: 198.18.95.40, podCidr: 198.19.40.0/24 }' }),
      ),
    ).toEqual([
      'nodes[8] "x".rack: "Rack 1" is not a rack name (a-z, 0-9 and "-", at most 32, starting and ending with a letter or digit)',
    ]);
    expect(
      problemsOf(
        rackInventory({ extra: '  - { name: x, rack: "a-", address: 198.18.95.40, podCidr: 198.19.40.0/24 }' }),
      ),
    ).toHaveLength(1);
    expect(
      problemsOf(
        rackInventory({ extra: '  - { name: x, rack: "${x}", address: 198.18.95.40, podCidr: 198.19.40.0/24 }' }),
      ),
    ).toHaveLength(1);
    expect(
      problemsOf(
        rackInventory({
          extra: `  - { name: x, rack: ${'r'.repeat(33)}, address: 198.18.95.40, podCidr: 198.19.40.0/24 }`,
        }),
      ),
    ).toHaveLength(1);
    expect(
      problemsOf(
        rackInventory({
          extra: '  - { name: x, rack: route-reflectors, address: 198.18.95.40, podCidr: 198.19.40.0/24 }',
        }),
      ),
    ).toEqual(['nodes[8] "x".rack: "route-reflectors" is the route reflectors\' shard; choose another rack name']);
  });

  test('an unknown sharding, a rack of the wrong type', () => {
    expect(problemsOf(rackInventory().replace('sharding: byRack', 'sharding: byRow'))).toEqual([
      'cluster.sharding: must be one of byRack, not "byRow"',
    ]);
    expect(
      problemsOf(rackInventory({ extra: '  - { name: x, rack: 7, address: 198.18.95.40, podCidr: 198.19.40.0/24 }' })),
    ).toEqual(['nodes[8].rack: expected a string, found number 7']);
  });

  test('a shard schema longer than PostgreSQL allows', () => {
    const long = `s${'x'.repeat(61)}`; // + "_a": 64 characters
    expect(problemsOf(rackInventory({ state: `state: { backend: pg, schemaName: ${long} }` }))).toEqual(
      ['a', 'b', 'c', 'route-reflectors'].map(
        (shard) =>
          `state.schemaName: the schema of shard ${shard}, "${long}_${shard.replace('-', '_')}", is longer than PostgreSQL's 63 characters`,
      ),
    );
  });
});
