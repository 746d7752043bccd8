/**
 * The constructs used directly from a TypeScript app (no inventory): attribute names come from
 * the provider schema, the BIRD config is rendered once the cluster is complete, and a bad
 * cluster fails synth before any stack is written.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, TerraformStack } from 'cdktf';
import { BgpPeer, CalicoCluster, CalicoNode, validateCluster, Workload } from '../../constructs';
import * as validation from '../../constructs/validation';
import { resourceSchemas } from '../../providers/calico/schema';

function newApp() {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-constructs-'));
  return { app: new App({ outdir }), outdir };
}

function readStack(outdir: string, name: string): any {
  return JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', name, 'cdk.tf.json'), 'utf8'));
}

test('a user app synthesizes resources with the schema attribute names', () => {
  const { app, outdir } = newApp();
  const stack = new TerraformStack(app, 'mine');
  const cluster = new CalicoCluster(stack, 'net', {
    name: 'mine',
    podCidr: '198.19.0.0/16',
    ssh: { knownHostsPath: '/etc/calico/known_hosts', privateKeyPath: '/etc/calico/key' },
  });
  const n1 = new CalicoNode(cluster, 'n1', {
    name: 'n1',
    address: '198.18.5.1',
    podCidr: '198.19.5.0/24',
    ssh: { user: 'ops', sudo: true },
  });
  new Workload(n1, 'api', { name: 'api', ip: '198.19.5.10', mtu: 1400 });
  // Added after n1: n1's rendered config must still peer with it (rendered lazily at synth).
  new CalicoNode(cluster, 'n2', {
    name: 'n2',
    address: '198.18.5.2',
    podCidr: '198.19.6.0/24',
    sshHost: 'n2.example.test',
  });
  new BgpPeer(cluster, 'tor', { address: '198.18.5.254', asNumber: 65100 });
  app.synth();

  const json = readStack(outdir, 'mine');
  const nodes = Object.values<any>(json.resource.calico_node);
  const workloads = Object.values<any>(json.resource.calico_workload);
  const birds = Object.values<any>(json.resource.calico_bird_config);
  expect(nodes).toHaveLength(2);
  expect(workloads).toHaveLength(1);

  // Every synthesized key is an input attribute or block of the schema (no hand-listed names).
  const inputs = (t: keyof typeof resourceSchemas) => {
    const b = resourceSchemas[t].block;
    return [
      ...Object.entries(b.attributes)
        .filter(([, a]) => !('computed' in a && !('optional' in a) && !('required' in a)))
        .map(([k]) => k),
      ...Object.keys(b.blocks ?? {}),
    ];
  };
  for (const r of workloads)
    for (const k of Object.keys(r).filter((k) => k !== '//' && k !== 'depends_on'))
      expect(inputs('calico_workload')).toContain(k);

  expect(workloads[0]).toMatchObject({ node_name: 'n1', name: 'api', ip: '198.19.5.10', mtu: 1400 });
  expect(workloads[0].ssh).toEqual({
    host: '198.18.5.1',
    user: 'ops',
    sudo: true,
    known_hosts_path: '/etc/calico/known_hosts',
    private_key_path: '/etc/calico/key',
  });
  expect(nodes.find((n) => n.name === 'n2').ssh.host).toBe('n2.example.test');
  const n1conf = birds.find((b) => b.node_name === 'n1').content;
  expect(n1conf).toMatch(/protocol bgp Mesh_198_18_5_2 from bgp_template/);
  expect(n1conf).toMatch(/protocol bgp Global_198_18_5_254 from bgp_template \{\s+neighbor 198\.18\.5\.254 as 65100;/);
  expect(birds.every((b) => b.depends_on?.length === 1)).toBe(true);
});

test('a bad cluster fails synth naming the problem, and writes no stack', () => {
  const { app, outdir } = newApp();
  const stack = new TerraformStack(app, 'bad');
  const cluster = new CalicoCluster(stack, 'net', { name: 'bad', podCidr: '198.19.0.0/16' });
  new CalicoNode(cluster, 'a', { name: 'a', address: '198.18.5.1', podCidr: '198.19.5.0/24' });
  new CalicoNode(cluster, 'b', { name: 'b', address: '198.18.5.2', podCidr: '198.19.5.0/25' });
  expect(() => app.synth()).toThrow(
    /nodes\[1\] "b"\.podCidr: 198\.19\.5\.0\/25 overlaps node "a" \(198\.19\.5\.0\/24\)/,
  );
  expect(fs.existsSync(path.join(outdir, 'stacks', 'bad'))).toBe(false);
});

test('a BgpPeer for some nodes is on their configs only; an unknown node name fails synth naming the peer and the field', () => {
  const { app, outdir } = newApp();
  const stack = new TerraformStack(app, 'racks');
  const cluster = new CalicoCluster(stack, 'net', { name: 'racks', podCidr: '198.19.0.0/16' });
  new CalicoNode(cluster, 'a', { name: 'a', address: '198.18.5.1', podCidr: '198.19.5.0/24' });
  new CalicoNode(cluster, 'b', { name: 'b', address: '198.18.6.1', podCidr: '198.19.6.0/24' });
  const rackA = ['a'];
  new BgpPeer(cluster, 'tor-a', { address: '198.18.5.254', asNumber: 65100, nodes: rackA });
  // The construct keeps its own copy: the caller's array changing later changes nothing.
  rackA.push('b');
  app.synth();
  const birds = Object.values<any>(readStack(outdir, 'racks').resource.calico_bird_config);
  expect(birds.find((b) => b.node_name === 'a').content).toMatch(/protocol bgp Global_198_18_5_254 /);
  expect(birds.find((b) => b.node_name === 'b').content).not.toMatch(/198\.18\.5\.254/);

  const bad = newApp();
  const badStack = new TerraformStack(bad.app, 'badpeer');
  const c2 = new CalicoCluster(badStack, 'net', { name: 'badpeer', podCidr: '198.19.0.0/16' });
  new CalicoNode(c2, 'a', { name: 'a', address: '198.18.5.1', podCidr: '198.19.5.0/24' });
  new BgpPeer(c2, 'tor', { address: '198.18.5.254', asNumber: 65100, nodes: ['a', 'rack2-n1'] });
  expect(() => bad.app.synth()).toThrow(/peers\[0\] 198\.18\.5\.254\.nodes: no node named "rack2-n1"/);
});

test('a cluster built from an accepted spec is not validated again, but anything added afterwards is', () => {
  const spec = {
    name: 'fromspec',
    podCidr: '198.19.0.0/16',
    nodes: [
      { name: 'a', address: '198.18.5.1', podCidr: '198.19.5.0/24', workloads: [{ name: 'w', ip: '198.19.5.2' }] },
    ],
    peers: [],
  };
  validateCluster(spec);
  const clean = newApp();
  const validations = jest.spyOn(validation, 'clusterProblems');
  CalicoCluster.fromSpec(new TerraformStack(clean.app, 'fromspec'), 'net', spec);
  clean.app.synth();
  expect(validations).not.toHaveBeenCalled();
  expect(readStack(clean.outdir, 'fromspec').resource.calico_workload).toBeDefined();

  const grown = newApp();
  const cluster = CalicoCluster.fromSpec(new TerraformStack(grown.app, 'fromspec'), 'net', spec);
  new CalicoNode(cluster, 'b', { name: 'b', address: '198.18.5.1', podCidr: '198.19.6.0/24' });
  expect(() => grown.app.synth()).toThrow(/nodes\[1\] "b"\.address: 198\.18\.5\.1 is already the address of node "a"/);
  expect(validations).toHaveBeenCalledTimes(1);
  validations.mockRestore();
});

test('a misspelt property is refused at construction with the construct path', () => {
  const { app } = newApp();
  const stack = new TerraformStack(app, 's');
  const cluster = new CalicoCluster(stack, 'net', { name: 's', podCidr: '198.19.0.0/16' });
  new CalicoNode(cluster, 'a', { name: 'a', address: '198.18.5.1', podCidr: '198.19.5.0/24' });
  // TypeScript catches typos in typed code; the generic bindings also catch them in untyped code.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- untyped on purpose: the call as plain JavaScript makes it
  const { CalicoResource } = require('../../constructs');
  expect(
    () =>
      new CalicoResource(stack, 'x', 'calico_workload', {
        nodeName: 'a',
        name: 'x',
        ip: '198.19.5.3',
        ssh: { host: 'h' },
        ipp: 1,
      }),
  ).toThrow(/s\/x: unknown property "ipp"/);
});

test('post-deploy verify is off by default; when on, a null_resource re-runs it on any node change', () => {
  const off = newApp();
  const offStack = new TerraformStack(off.app, 'off');
  const offCluster = new CalicoCluster(offStack, 'net', { name: 'off', podCidr: '198.19.0.0/16' });
  new CalicoNode(offCluster, 'a', { name: 'a', address: '198.18.5.1', podCidr: '198.19.5.0/24' });
  off.app.synth();
  const offJson = readStack(off.outdir, 'off');
  expect(offJson.resource.null_resource).toBeUndefined();
  expect(offJson.terraform.required_providers.null).toBeUndefined();

  const on = newApp();
  const stack = new TerraformStack(on.app, 'on');
  const cluster = new CalicoCluster(stack, 'net', {
    name: 'on',
    podCidr: '198.19.0.0/16',
    // A shell variable: reaches the shell as written, not evaluated by Terraform.
    postDeployVerify: { command: 'calico-net verify --inventory ${CALICO_DIR}/cluster.yaml' },
  });
  const a = new CalicoNode(cluster, 'a', { name: 'a', address: '198.18.5.1', podCidr: '198.19.5.0/24' });
  new Workload(a, 'web', { name: 'web', ip: '198.19.5.2' });
  new CalicoNode(cluster, 'b', { name: 'b', address: '198.18.5.2', podCidr: '198.19.6.0/24' });
  on.app.synth();
  const json = readStack(on.outdir, 'on');
  const [hook] = Object.values<any>(json.resource.null_resource);
  expect(hook.provisioner).toEqual([
    { 'local-exec': { command: 'calico-net verify --inventory $${CALICO_DIR}/cluster.yaml' } },
  ]);
  const bird = (n: string) =>
    Object.keys(json.resource.calico_bird_config).find((k) => json.resource.calico_bird_config[k].node_name === n);
  const workload = Object.keys(json.resource.calico_workload)[0];
  expect(hook.triggers).toEqual({
    a: `\${sha256(calico_bird_config.${bird('a')}.content)}`,
    'a/web': `\${calico_workload.${workload}.id}`,
    b: `\${sha256(calico_bird_config.${bird('b')}.content)}`,
  });
  // cdktf writes the registry short form; Terraform reads "null" as hashicorp/null.
  expect(json.terraform.required_providers.null.source).toMatch(/^(hashicorp\/)?null$/);
});

test('a node address with its prefix length: the resources, BIRD and SSH get the bare address', () => {
  const { app, outdir } = newApp();
  const stack = new TerraformStack(app, 'pfx');
  const cluster = new CalicoCluster(stack, 'net', { name: 'pfx', podCidr: '198.19.0.0/16' });
  new CalicoNode(cluster, 'n1', { name: 'n1', address: '198.18.5.1/25', podCidr: '198.19.5.0/24' });
  new CalicoNode(cluster, 'n2', { name: 'n2', address: '198.18.5.129/25', podCidr: '198.19.6.0/24' });
  app.synth();

  expect(cluster.spec().nodes.map((n) => [n.address, n.prefixLength])).toEqual([
    ['198.18.5.1', 25],
    ['198.18.5.129', 25],
  ]);
  const json = readStack(outdir, 'pfx');
  const n1 = Object.values<any>(json.resource.calico_node).find((n) => n.name === 'n1');
  expect(n1.address).toBe('198.18.5.1');
  expect(n1.ssh.host).toBe('198.18.5.1');
  const bird = Object.values<any>(json.resource.calico_bird_config).find((b) => b.node_name === 'n1');
  expect(bird.content).toContain('router id 198.18.5.1;');
  expect(bird.content).toContain('neighbor 198.18.5.129 as');
  expect(bird.content).not.toContain('/25');
});

test('a bad prefix length on a construct node is refused at synth, naming the node and field', () => {
  const { app } = newApp();
  const stack = new TerraformStack(app, 'badpfx');
  const cluster = new CalicoCluster(stack, 'net', { name: 'badpfx', podCidr: '198.19.0.0/16' });
  new CalicoNode(cluster, 'n1', { name: 'n1', address: '198.18.5.1/40', podCidr: '198.19.5.0/24' });
  expect(() => app.synth()).toThrow(
    /nodes\[0\] "n1"\.address: the prefix length after "\/" must be a whole number from 1 to 32/,
  );
});
