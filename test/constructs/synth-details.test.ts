/**
 * What the constructs write, detail by detail: ssh settings (node over cluster), BIRD paths,
 * dependencies, the provider block, references, and the post-deploy hook's default command.
 */
import { Testing, TerraformOutput, TerraformStack } from 'cdktf';
import { CalicoCluster, CalicoNode, CalicoProvider, CalicoResource, Workload } from '../../constructs';

function synth(build: (stack: TerraformStack) => void): any {
  const app = Testing.app();
  const stack = new TerraformStack(app, 'st');
  build(stack);
  return JSON.parse(Testing.synth(stack));
}

test('node ssh settings override the cluster defaults field by field; sshHost replaces the address', () => {
  const json = synth((stack) => {
    const c = new CalicoCluster(stack, 'c', {
      name: 'c',
      podCidr: '198.19.0.0/16',
      ssh: { user: 'ops', port: 2222, sudo: true, passphraseEnv: 'PASS' },
    });
    const n = new CalicoNode(c, 'n1', {
      name: 'n1',
      address: '198.18.0.1',
      podCidr: '198.19.1.0/24',
      sshHost: 'n1.example.test',
      ssh: { user: 'other', knownHostsPath: '/kh' },
      birdConfigPath: '/etc/bird/c.conf',
      birdSocketPath: '/run/b.ctl',
    });
    new Workload(n, 'w', { name: 'w', ip: '198.19.1.2' });
    new CalicoNode(c, 'n2', { name: 'n2', address: '198.18.0.2', podCidr: '198.19.2.0/24' });
  });
  const node = (name: string) => Object.values<any>(json.resource.calico_node).find((r) => r.name === name);
  expect(node('n1').ssh).toEqual({
    host: 'n1.example.test',
    user: 'other',
    port: 2222,
    sudo: true,
    passphrase_env: 'PASS',
    known_hosts_path: '/kh',
  });
  expect(node('n2').ssh).toEqual({ host: '198.18.0.2', user: 'ops', port: 2222, sudo: true, passphrase_env: 'PASS' });
  expect(node('n1')).toEqual({
    name: 'n1',
    address: '198.18.0.1',
    pod_cidr: '198.19.1.0/24',
    workloads: ['w'],
    ssh: node('n1').ssh,
  });
  const bird = Object.values<any>(json.resource.calico_bird_config).find((r) => r.node_name === 'n1');
  expect(bird).toMatchObject({ config_path: '/etc/bird/c.conf', socket_path: '/run/b.ctl' });
  const nodeKey = Object.keys(json.resource.calico_node).find((k) => json.resource.calico_node[k].name === 'n1');
  expect(bird.depends_on).toEqual([`calico_node.${nodeKey}`]);
  const [workload] = Object.values<any>(json.resource.calico_workload);
  expect(workload).toMatchObject({
    node_name: 'n1',
    name: 'w',
    ip: '198.19.1.2',
    ssh: node('n1').ssh,
    depends_on: [`calico_node.${nodeKey}`],
  });
  expect(workload.mtu).toBeUndefined();
  // The cluster's provider block carries no settings by default.
  expect(json.provider.calico).toEqual([{}]);
});

test('the provider block takes the schema settings; references name the attribute', () => {
  const json = synth((stack) => {
    new CalicoProvider(stack, 'p', { connectTimeout: 5, connectRetries: 0 });
    const c = new CalicoCluster(stack, 'c', { name: 'c', podCidr: '198.19.0.0/16' });
    const n = new CalicoNode(c, 'n1', { name: 'n1', address: '198.18.0.1', podCidr: '198.19.1.0/24' });
    new TerraformOutput(stack, 'fwd', { value: n.nodeResource.attr('original_ip_forward') });
  });
  // The cluster uses the stack's provider made before it: one block, which Terraform accepts.
  expect(json.provider.calico).toEqual([{ connect_timeout: 5, connect_retries: 0 }]);
  const nodeKey = Object.keys(json.resource.calico_node)[0];
  expect(json.output.fwd.value).toBe(`\${calico_node.${nodeKey}.original_ip_forward}`);
  expect(CalicoProvider.version).toBe('0.1.0');
  expect(json.terraform.required_providers.calico).toEqual({ source: 'cdktf-calico/calico', version: '0.1.0' });
});

test('an aliased provider block carries its alias, and resources that use it name it', () => {
  const json = synth((stack) => {
    new CalicoProvider(stack, 'default');
    const second = new CalicoProvider(stack, 'second', { alias: 'east', connectRetries: 2 });
    new CalicoResource(
      stack,
      'n',
      'calico_node',
      { name: 'n1', address: '198.18.0.1', podCidr: '198.19.1.0/24', ssh: { host: '198.18.0.1' } },
      { provider: second },
    );
  });
  expect(json.provider.calico).toEqual(expect.arrayContaining([{}, { alias: 'east', connect_retries: 2 }]));
  expect(json.provider.calico).toHaveLength(2);
  expect(Object.values<any>(json.resource.calico_node)[0].provider).toBe('calico.east');
});

test('post-deploy verify without a command runs `npx calico-net verify`', () => {
  const json = synth((stack) => {
    const c = new CalicoCluster(stack, 'c', { name: 'c', podCidr: '198.19.0.0/16', postDeployVerify: {} });
    new CalicoNode(c, 'n1', { name: 'n1', address: '198.18.0.1', podCidr: '198.19.1.0/24' });
  });
  const [hook] = Object.values<any>(json.resource.null_resource);
  expect(hook.provisioner).toEqual([{ 'local-exec': { command: 'npx calico-net verify' } }]);
});

test('the cluster spec collects nodes, workloads and peers as declared', () => {
  const app = Testing.app();
  const stack = new TerraformStack(app, 'st');
  const c = new CalicoCluster(stack, 'c', {
    name: 'c',
    podCidr: '198.19.0.0/16',
    asNumber: 65000,
    topology: 'full-mesh',
    ssh: { user: 'u' },
  });
  const n = new CalicoNode(c, 'n1', { name: 'n1', address: '198.18.0.1', podCidr: '198.19.1.0/24' });
  new Workload(n, 'w', { name: 'w', ip: '198.19.1.2', mtu: 1400 });
  expect(c.spec()).toEqual({
    name: 'c',
    podCidr: '198.19.0.0/16',
    asNumber: 65000,
    topology: 'full-mesh',
    ssh: { user: 'u' },
    nodes: [
      {
        name: 'n1',
        address: '198.18.0.1',
        podCidr: '198.19.1.0/24',
        workloads: [{ name: 'w', ip: '198.19.1.2', mtu: 1400 }],
      },
    ],
    peers: [],
  });
  expect(c.sshDefaults).toEqual({ user: 'u' });
});
