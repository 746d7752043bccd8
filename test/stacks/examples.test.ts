/**
 * The example inventories synthesize, through the real default app, into stacks whose bird.conf
 * has Calico's structure for each topology, and real BIRD 2 (`bird -p`) accepts every one.
 */
import * as path from 'path';
import { packageRoot } from '../../providers/package-root';
import { birdConfigs, birdParse, synthInventory } from './synth-helpers';

const example = (name: string) => path.join(packageRoot(), 'examples', name);

function protocols(conf: string): { name: string; body: string }[] {
  // A body may hold one nested block (a session's own `ipv4 { … };`).
  return [...conf.matchAll(/protocol bgp (\S+) from bgp_template \{((?:[^{}]|\{[^{}]*\})*)\}/g)].map((m) => ({
    name: m[1],
    body: m[2],
  }));
}

describe.each([
  ['two-node.yaml', 'seed'],
  ['three-node-ibgp.yaml', 'ibgp'],
  ['route-reflectors.yaml', 'rr'],
  ['external-peers.yaml', 'peers'],
])('%s', (file, stackName) => {
  const result = synthInventory(example(file));

  test('synthesizes one stack named after the cluster', () => {
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stack.terraform.required_providers.calico.source).toBe('cdktf-calico/calico');
    expect(result.stack['//'].metadata.stackName).toBe(stackName);
  });

  test('resources carry no construct metadata (the cdktf CLI matched every output line against every resource with it)', () => {
    const resources = Object.values<Record<string, { '//'?: { metadata?: unknown } }>>(result.stack.resource).flatMap(
      (byName) => Object.values(byName),
    );
    expect(resources.length).toBeGreaterThan(3);
    for (const r of resources) expect(r['//']?.metadata).toBeUndefined();
  });

  test('one line per BGP session', () => {
    for (const [node, conf] of birdConfigs(result.stack)) {
      const lines = conf.split('\n').filter((l) => l.startsWith('protocol bgp '));
      expect({ node, sessions: lines.length }).toEqual({ node, sessions: protocols(conf).length });
      for (const l of lines) expect(l).toMatch(/^protocol bgp \S+ from bgp_template \{ neighbor [0-9.]+ as \d+;.* \}$/);
    }
  });

  test('every rendered bird.conf passes bird -p', () => {
    const configs = birdConfigs(result.stack);
    expect(configs.size).toBeGreaterThan(1);
    for (const [node, conf] of configs) {
      const parsed = birdParse(conf);
      if (parsed.code !== 0) throw new Error(`bird -p rejected ${node}'s config:\n${parsed.output}\n${conf}`);
    }
  });

  test('each config has the seed structure', () => {
    for (const [, conf] of birdConfigs(result.stack)) {
      expect(conf).toMatch(/^router id 198\.18\.0\.\d+;$/m);
      expect(conf).toMatch(/route 198\.19\.\d+\.0\/24 blackhole;/);
      expect(conf).toMatch(/filter calico_kernel_programming/);
      expect(conf).toMatch(
        /protocol kernel \{\s+learn;\s+persist;\s+scan time 2;\s+graceful restart;\s+merge paths on;/,
      );
      expect(conf).toMatch(/protocol device \{\s+scan time 2;/);
      expect(conf).toMatch(/interface -"cali\*", -"kube-ipvs\*", "\*";/);
      expect(conf).toMatch(/function calico_aggr\(\)/);
      expect(conf).toMatch(/filter calico_export_to_bgp_peers/);
      expect(conf).toMatch(/connect delay time 2;\s+connect retry time 5;\s+error wait time 5,30;/);
    }
  });
});

test('seed (eBGP): each node peers with the other in the other AS, the higher-IP side passive', () => {
  const configs = birdConfigs(synthInventory(example('two-node.yaml')).stack);
  expect(configs.get('node1')).toMatch(/local 198\.18\.0\.1 as 64501;/);
  expect(protocols(configs.get('node1')!)).toEqual([
    { name: 'Mesh_198_18_0_2', body: expect.stringMatching(/neighbor 198\.18\.0\.2 as 64502;\s+passive on;/) },
  ]);
  expect(protocols(configs.get('node2')!)).toEqual([
    { name: 'Mesh_198_18_0_1', body: expect.not.stringMatching(/passive/) },
  ]);
});

test('iBGP mesh: every node peers with both others in AS 64512', () => {
  const configs = birdConfigs(synthInventory(example('three-node-ibgp.yaml')).stack);
  for (const [node, conf] of configs) {
    const names = protocols(conf).map((p) => p.name);
    expect(names).toHaveLength(2);
    expect(names.every((n) => n.startsWith('Mesh_'))).toBe(true);
    expect(conf).toMatch(/as 64512;/);
    expect(names).not.toContain(`Mesh_198_18_0_${node.slice(-1)}`);
  }
});

test('route reflectors: RRs reflect to clients and peer with each other; clients peer only with RRs', () => {
  const configs = birdConfigs(synthInventory(example('route-reflectors.yaml')).stack);
  const rr1 = protocols(configs.get('rr1')!);
  expect(rr1.map((p) => p.name)).toEqual(['Node_198_18_0_2', 'Node_198_18_0_3', 'Node_198_18_0_4', 'Node_198_18_0_5']);
  expect(rr1[0].body).not.toMatch(/rr client/); // RR to RR: plain iBGP
  for (const client of rr1.slice(1)) expect(client.body).toMatch(/rr client;\s+rr cluster id 198\.18\.0\.1;/);
  const node3 = protocols(configs.get('node3')!);
  expect(node3.map((p) => p.name)).toEqual(['Node_198_18_0_1', 'Node_198_18_0_2']);
  expect(node3.every((p) => !/rr client/.test(p.body))).toBe(true);
});

test('external peers: Global_ sessions on every node, with the password (a placeholder; the value in secrets) when given', () => {
  const stack = synthInventory(example('external-peers.yaml')).stack;
  for (const [, conf] of birdConfigs(stack)) {
    const globals = protocols(conf).filter((p) => p.name.startsWith('Global_'));
    expect(globals.map((p) => p.name)).toEqual(['Global_198_18_0_100', 'Global_198_18_0_101']);
    expect(globals[0].body).not.toMatch(/password/);
    expect(globals[1].body).toMatch(
      /neighbor 198\.18\.0\.101 as 65001;\s+password "<<calico-secret:Global_198_18_0_101>>";/,
    );
    expect(conf).not.toContain('s3cret-Key');
  }
  for (const r of Object.values<any>(stack.resource.calico_bird_config)) {
    expect(r.secrets).toEqual({ Global_198_18_0_101: 's3cret-Key' });
  }
});

test('synthesis is deterministic: the same inventory gives identical bytes', () => {
  const a = synthInventory(example('route-reflectors.yaml')).stack;
  const b = synthInventory(example('route-reflectors.yaml')).stack;
  delete a.terraform.backend;
  delete b.terraform.backend;
  expect(JSON.stringify(b)).toBe(JSON.stringify(a));
});

test('VXLAN CrossSubnet: one calico_overlay per node for the other rack only; bird -p accepts every config', () => {
  const result = synthInventory(example('vxlan-cross-subnet.yaml'));
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  const configs = birdConfigs(result.stack);
  for (const [node, conf] of configs) {
    const parsed = birdParse(conf);
    if (parsed.code !== 0) throw new Error(`bird -p rejected ${node}'s config:\n${parsed.output}\n${conf}`);
  }
  expect(configs.get('rack1-a')).toContain('define calico_encapsulated = [ 198.19.3.0/24, 198.19.4.0/24 ];');
  expect(configs.get('rack2-b')).toContain('define calico_encapsulated = [ 198.19.1.0/24, 198.19.2.0/24 ];');
  const overlays = Object.values<any>(result.stack.resource.calico_overlay);
  expect(overlays.map((o) => [o.node_name, Object.keys(o.routes)])).toEqual([
    ['rack1-a', ['198.19.3.0/24', '198.19.4.0/24']],
    ['rack1-b', ['198.19.3.0/24', '198.19.4.0/24']],
    ['rack2-a', ['198.19.1.0/24', '198.19.2.0/24']],
    ['rack2-b', ['198.19.1.0/24', '198.19.2.0/24']],
  ]);
  const mtus = Object.fromEntries(
    Object.values<any>(result.stack.resource.calico_workload).map((w) => [w.name, w.mtu]),
  );
  expect(mtus).toEqual({ web1: 1450, web2: 1450, web3: 1450, web4: 1400 });
});
