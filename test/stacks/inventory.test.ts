/**
 * The inventory loader in process (parseInventory / loadInventory / buildClusterStack): what a
 * good file turns into (defaults, resolved paths, state backends), and the exact wording of the
 * shape problems. test/stacks/validation.test.ts covers each kind of bad inventory end to end.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Testing, TerraformStack } from 'cdktf';
import { buildClusterStack, loadInventory, parseInventory } from '../../stacks/inventory';
import { ClusterValidationError } from '../../constructs/validation';

const good = `
cluster: { name: lab, podCidr: 198.19.0.0/16 }
nodes:
  - name: node1
    address: 198.18.0.1
    podCidr: 198.19.1.0/24
    workloads: [{ name: web, ip: 198.19.1.2, mtu: 1400 }]
  - name: node2
    address: 198.18.0.2
    podCidr: 198.19.2.0/24
    ssh: { privateKeyPath: keys/n2, knownHostsPath: ~/kh, user: ops, sudo: true }
`;

function problemsOf(text: string, file = '/inv/cluster.yaml'): string[] {
  try {
    parseInventory(text, file);
  } catch (err) {
    expect(err).toBeInstanceOf(ClusterValidationError);
    return (err as ClusterValidationError).problems;
  }
  throw new Error('parseInventory accepted the inventory');
}

test('a good inventory: ssh defaults, relative paths against the file, ~ against home, no workloads = []', () => {
  const c = parseInventory(good, '/inv/dir/cluster.yaml');
  expect(c.name).toBe('lab');
  expect(c.podCidr).toBe('198.19.0.0/16');
  expect(c.asNumber).toBeUndefined();
  expect(c.topology).toBeUndefined();
  expect(c.ssh).toEqual({
    user: 'root',
    port: 22,
    knownHostsPath: path.join(os.homedir(), '.ssh/known_hosts'),
    privateKeyPath: undefined,
  });
  expect(c.nodes[0]).toEqual({
    name: 'node1',
    address: '198.18.0.1',
    podCidr: '198.19.1.0/24',
    ssh: undefined,
    workloads: [{ name: 'web', ip: '198.19.1.2', mtu: 1400 }],
  });
  expect(c.nodes[1].workloads).toEqual([]);
  expect(c.nodes[1].ssh).toEqual({
    user: 'ops',
    sudo: true,
    privateKeyPath: '/inv/dir/keys/n2',
    knownHostsPath: path.join(os.homedir(), 'kh'),
  });
  expect(c.peers).toEqual([]);
  expect(c.state).toBeUndefined();
});

test('cluster-level ssh settings override the defaults; "~" alone is home', () => {
  const c = parseInventory(
    good + 'ssh: { user: admin, port: 2222, privateKeyPath: "~", knownHostsPath: /etc/kh }\n',
    '/inv/cluster.yaml',
  );
  expect(c.ssh).toEqual({ user: 'admin', port: 2222, privateKeyPath: os.homedir(), knownHostsPath: '/etc/kh' });
});

test('JSON inventories are read as JSON, and their syntax errors say JSON', () => {
  const json = JSON.stringify({
    cluster: { name: 'j', podCidr: '198.19.0.0/16', asNumber: 65000, topology: 'full-mesh' },
    nodes: [{ name: 'n1', address: '198.18.0.1', podCidr: '198.19.1.0/24' }],
    peers: [{ address: '198.18.0.100', asNumber: 65100, password: 'secret' }],
  });
  const c = parseInventory(json, '/inv/cluster.json');
  expect(c.asNumber).toBe(65000);
  expect(c.topology).toBe('full-mesh');
  expect(c.peers).toEqual([{ address: '198.18.0.100', asNumber: 65100, password: 'secret' }]);
  expect(problemsOf('{"cluster": ', '/inv/c.json')).toEqual([
    expect.stringMatching(/^\/inv\/c\.json: not valid JSON: /),
  ]);
  expect(problemsOf('cluster: [x\n', '/inv/c.yml')).toEqual([
    expect.stringMatching(/^\/inv\/c\.yml: not valid YAML: /),
  ]);
  // YAML that is not JSON, in a .json file: read as JSON, so refused.
  expect(problemsOf('cluster: { name: j }\n', '/inv/c.json')).toEqual([
    expect.stringMatching(/^\/inv\/c\.json: not valid JSON: /),
  ]);
});

test('state backends: local path resolved, pg options kept, wrong options named', () => {
  expect(parseInventory(good + 'state: { backend: local, path: state/lab.tfstate }\n', '/inv/c.yaml').state).toEqual({
    backend: 'local',
    path: '/inv/state/lab.tfstate',
  });
  expect(parseInventory(good + 'state: { backend: local }\n', '/inv/c.yaml').state).toEqual({
    backend: 'local',
    path: undefined,
  });
  expect(parseInventory(good + 'state: { backend: pg, schemaName: calico_lab }\n', '/inv/c.yaml').state).toEqual({
    backend: 'pg',
    connStr: undefined,
    schemaName: 'calico_lab',
  });
  expect(parseInventory(good + 'state: { backend: pg, connStr: "postgres://x" }\n', '/inv/c.yaml').state).toEqual({
    backend: 'pg',
    connStr: 'postgres://x',
    schemaName: undefined,
  });
  expect(problemsOf(good + 'state: { backend: pg, path: x }\n')).toEqual(['state.path: only for backend local']);
  expect(problemsOf(good + 'state: { backend: pg, schemaName: Bad-Name }\n')).toEqual([
    'state.schemaName: "Bad-Name" is not a PostgreSQL schema name (a-z, 0-9, _)',
  ]);
  expect(problemsOf(good + 'state: { backend: pg, schemaName: 1abc }\n')).toEqual([
    'state.schemaName: "1abc" is not a PostgreSQL schema name (a-z, 0-9, _)',
  ]);
  expect(problemsOf(good + `state: { backend: pg, schemaName: a${'b'.repeat(63)} }\n`)).toHaveLength(1);
  expect(
    parseInventory(good + `state: { backend: pg, schemaName: _a${'b'.repeat(61)} }\n`, '/i/c.yaml').state,
  ).toMatchObject({ schemaName: `_a${'b'.repeat(61)}` });
  expect(problemsOf(good + 'state: { backend: local, connStr: x, schemaName: y }\n')).toEqual([
    'state.connStr: only for backend pg',
    'state.schemaName: only for backend pg',
  ]);
});

test('shape problems: every one, with its path and what was found', () => {
  expect(problemsOf('- a list\n')).toEqual(['inventory: expected a mapping, found a list']);
  expect(problemsOf('just text\n')).toEqual(['inventory: expected a mapping, found string "just text"']);
  expect(problemsOf('')).toEqual(['inventory: expected a mapping, found null']);
  expect(
    problemsOf(`
cluster: { name: 7, podCidr: 198.19.0.0/16, asNumber: "64512", topology: ring }
ssh: [root]
nodes:
  - name: n1
    address: 198.18.0.1
    podCidr: 198.19.1.0/24
    routeReflector: 1
    workloads: { name: w }
  - 42
peers: { address: x }
`),
  ).toEqual([
    'cluster.name: expected a string, found number 7',
    'cluster.asNumber: expected a number, found string "64512"',
    'cluster.topology: must be one of full-mesh, route-reflector, not "ring"',
    'ssh: expected a mapping, found a list',
    'nodes[0].routeReflector: expected true or false, found number 1',
    'nodes[0].workloads: expected a list, found a mapping',
    'nodes[1]: expected a mapping, found number 42',
    'peers: expected a list, found a mapping',
  ]);
  expect(problemsOf('nodes: []\n')).toEqual(['cluster: required']);
  expect(problemsOf('cluster: { name: x, podCidr: 198.19.0.0/16 }\nnodes: ~\n')).toEqual(['nodes: required']);
});

test('unknown keys suggest the closest known key only when it is close', () => {
  const base = 'cluster: { name: lab, podCidr: 198.19.0.0/16 }\nnodes: []\n';
  expect(problemsOf(base + 'Peers: []\n')).toEqual(['inventory: unknown key "Peers" (did you mean "peers"?)']);
  expect(problemsOf(base + 'nodez: []\n')).toEqual(['inventory: unknown key "nodez" (did you mean "nodes"?)']);
  expect(problemsOf(base + 'stat: {}\n')).toEqual(['inventory: unknown key "stat" (did you mean "state"?)']);
  expect(problemsOf(base + 'xyz: 1\n')).toEqual(['inventory: unknown key "xyz"']);
  // Long keys allow more edits (a third of their length).
  expect(problemsOf('cluster: { name: lab, podCidr: 198.19.0.0/16, topologyyyy: x }\nnodes: []\n')).toEqual([
    'cluster: unknown key "topologyyyy" (did you mean "topology"?)',
  ]);
  expect(problemsOf('cluster: { name: lab, podCidr: 198.19.0.0/16, tpolgy: x }\nnodes: []\n')).toEqual([
    'cluster: unknown key "tpolgy" (did you mean "topology"?)',
  ]);
  expect(problemsOf('cluster: { name: lab, podCidr: 198.19.0.0/16, abcdefgh: x }\nnodes: []\n')).toEqual([
    'cluster: unknown key "abcdefgh"',
  ]);
});

test('shape problems stop before the cluster checks; cluster problems are all listed in one error', () => {
  let error: ClusterValidationError | undefined;
  try {
    parseInventory('cluster: { name: "bad name", podCidr: 198.19.0.0/16 }\nnodes: []\n', '/i/c.yaml');
  } catch (err) {
    error = err as ClusterValidationError;
  }
  expect(error?.problems).toEqual([
    'cluster.name: "bad name" is not a valid node name (letters, digits, "_", ".", "-"; starts with a letter or digit; at most 63)',
    'nodes: a cluster needs at least one node',
  ]);
  expect(error?.message).toBe(`2 problems:\n  ${error?.problems.join('\n  ')}`);
  expect(error?.name).toBe('ClusterValidationError');
  expect(new ClusterValidationError(['only one']).message).toBe('only one');
});

test('loadInventory reads the file, and names it when it cannot', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-inv-'));
  const file = path.join(dir, 'c.yaml');
  fs.writeFileSync(file, good);
  expect(loadInventory(file).nodes.map((n) => n.name)).toEqual(['node1', 'node2']);
  expect(() => loadInventory(path.join(dir, 'missing.yaml'))).toThrow(
    `cannot read inventory ${path.join(dir, 'missing.yaml')}: ENOENT (set CALICO_INVENTORY to its path)`,
  );
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('buildClusterStack', () => {
  function synth(extra: string): any {
    const app = Testing.app();
    const stack = buildClusterStack(app as App, parseInventory(good + extra, '/inv/c.yaml'));
    return JSON.parse(Testing.synth(stack as TerraformStack));
  }

  it('one stack named after the cluster: nodes, workloads, bird configs and external peers', () => {
    const json = synth('peers: [{ address: 198.18.0.100, asNumber: 65000 }]\n');
    expect(
      Object.values<any>(json.resource.calico_node)
        .map((n) => n.name)
        .sort(),
    ).toEqual(['node1', 'node2']);
    expect(Object.values<any>(json.resource.calico_workload).map((w) => [w.node_name, w.name, w.ip, w.mtu])).toEqual([
      ['node1', 'web', '198.19.1.2', 1400],
    ]);
    const confs = Object.values<any>(json.resource.calico_bird_config).map((b) => b.content as string);
    expect(confs).toHaveLength(2);
    for (const conf of confs) expect(conf).toMatch(/198\.18\.0\.100/);
    expect(json.terraform.backend).toBeUndefined();
  });

  it('writes the backend the state section names, and none for local without a path', () => {
    expect(synth('state: { backend: local, path: /var/lib/calico/lab.tfstate }\n').terraform.backend).toEqual({
      local: { path: '/var/lib/calico/lab.tfstate' },
    });
    expect(synth('state: { backend: local }\n').terraform.backend).toBeUndefined();
    const pg = synth('state: { backend: pg, schemaName: calico_lab }\n').terraform.backend;
    expect(pg).toEqual({ pg: { schema_name: 'calico_lab' } });
  });
});

test('a node address may carry its prefix length (Calico IPv4Address form); the model splits it', () => {
  const c = parseInventory(good.replace('address: 198.18.0.1', 'address: 198.18.0.1/25'), '/inv/cluster.yaml');
  expect(c.nodes[0]).toMatchObject({ address: '198.18.0.1', prefixLength: 25 });
  expect(c.nodes[1].address).toBe('198.18.0.2');
  expect(c.nodes[1].prefixLength).toBeUndefined();
});

test('prefixLength is not an inventory key of its own: the prefix is written on the address', () => {
  expect(problemsOf(good.replace('address: 198.18.0.1', 'address: 198.18.0.1\n    prefixLength: 24'))).toEqual([
    expect.stringMatching(/nodes\[0\]: unknown key "prefixLength"/),
  ]);
});

test("vxlanMode / ipipMode: Calico's IPPool fields on the cluster, into the model and the stack", () => {
  const crossSubnet = good
    .replace(
      'cluster: { name: lab, podCidr: 198.19.0.0/16 }',
      'cluster: { name: lab, podCidr: 198.19.0.0/16, vxlanMode: CrossSubnet, ipipMode: Never }',
    )
    .replace('address: 198.18.0.1', 'address: 198.18.0.1/24')
    .replace('address: 198.18.0.2', 'address: 198.18.0.2/24');
  const c = parseInventory(crossSubnet, '/inv/cluster.yaml');
  expect(c).toMatchObject({ vxlanMode: 'CrossSubnet', ipipMode: 'Never' });
  const plain = parseInventory(good, '/inv/cluster.yaml');
  expect([plain.vxlanMode, plain.ipipMode]).toEqual([undefined, undefined]);
  const json = JSON.parse(Testing.synth(buildClusterStack(Testing.app(), c) as TerraformStack));
  expect(Object.values<any>(json.resource.calico_overlay).map((o) => [o.node_name, o.routes])).toEqual([
    ['node1', {}],
    ['node2', {}],
  ]);
  // A workload's own MTU wins over the VXLAN default.
  expect(Object.values<any>(json.resource.calico_workload)[0].mtu).toBe(1400);
  expect(
    problemsOf(good.replace('podCidr: 198.19.0.0/16 }', 'podCidr: 198.19.0.0/16, vxlanMode: Sometimes }')),
  ).toEqual(['cluster.vxlanMode: must be one of Always, CrossSubnet, Never, not "Sometimes"']);
});

test('ssh.sshConfig is true or a non-empty path', () => {
  const withSshConfig = (value: string) => good.replace('nodes:', `ssh: { sshConfig: ${value} }\nnodes:`);
  for (const value of ['false', '""', '7']) {
    expect(problemsOf(withSshConfig(value))).toEqual([
      expect.stringMatching(/^ssh\.sshConfig: expected true or a file path, found/),
    ]);
  }
});
