/**
 * One construct code, two CDKs: the same inventory synthesizes the same Terraform JSON inside a
 * CDK Terrain (cdktn) app and a CDK for Terraform (cdktf) app, each built on the library the app
 * uses; and the rule that picks that library.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { chooseCdk, CdkEvidence, CdkFlavour } from '../../constructs/cdk';
import { packageRoot } from '../../providers/package-root';

const inventory = `
cluster: { name: twin, podCidr: 198.19.0.0/16, topology: route-reflector, vxlanMode: CrossSubnet }
ssh: { privateKeyPath: /k/id, knownHostsPath: /k/kh }
nodes:
  - { name: rr1, address: 198.18.90.1/24, podCidr: 198.19.1.0/24, routeReflector: true }
  - { name: n2, address: 198.18.90.2/24, podCidr: 198.19.2.0/24, workloads: [{ name: web, ip: 198.19.2.2 }] }
  - { name: n3, address: 198.18.91.3/24, podCidr: 198.19.3.0/24 }
peers:
  - { address: 198.18.90.100, asNumber: 65000, password: 'pa\${x}ss' }
state: { backend: local, path: ./twin.tfstate }
`;

let tmp: string;
beforeAll(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-cdk-flavours-'))));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function synthWith(flavour: CdkFlavour): { json: any; hook: any; used: string } {
  const outdir = path.join(tmp, flavour);
  const saved = process.env.CALICO_CDK;
  process.env.CALICO_CDK = flavour;
  let used = '';
  try {
    jest.isolateModules(() => {
      // The app's own import of its CDK, then ours (as main.js does).
      /* eslint-disable @typescript-eslint/no-require-imports -- fresh module instances inside jest.isolateModules */
      const library = require(flavour);
      const { cdkFlavour } = require('../../constructs/cdk');
      const { CalicoCluster, CalicoNode, Workload } = require('../../constructs/cluster');
      const { buildClusterStack, parseInventory } = require('../../stacks/inventory');
      /* eslint-enable @typescript-eslint/no-require-imports */
      const app = new library.App({ outdir });
      buildClusterStack(app, parseInventory(inventory, '/inv/cluster.yaml'));
      // A second stack written with the constructs by hand, with postDeployVerify's null_resource.
      const hook = new library.TerraformStack(app, 'hook');
      const cluster = new CalicoCluster(hook, 'net', { name: 'hook', podCidr: '198.19.0.0/16', postDeployVerify: {} });
      const node = new CalicoNode(cluster, 'a', { name: 'a', address: '198.18.92.1', podCidr: '198.19.5.0/24' });
      new Workload(node, 'web', { name: 'web', ip: '198.19.5.2' });
      app.synth();
      used = cdkFlavour;
    });
  } finally {
    if (saved === undefined) delete process.env.CALICO_CDK;
    else process.env.CALICO_CDK = saved;
  }
  const read = (stack: string) =>
    JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', stack, 'cdk.tf.json'), 'utf8'));
  return { json: read('twin'), hook: read('hook'), used };
}

test('a cdktn app and a cdktf app synthesize the same stack from the same constructs', () => {
  const tn = synthWith('cdktn');
  const tf = synthWith('cdktf');
  expect(tn.used).toBe('cdktn');
  expect(tf.used).toBe('cdktf');
  const version = (name: string) =>
    JSON.parse(fs.readFileSync(path.join(packageRoot(), 'node_modules', name, 'package.json'), 'utf8')).version;
  expect(tn.json['//'].metadata.version).toBe(version('cdktn'));
  expect(tf.json['//'].metadata.version).toBe(version('cdktf'));
  const { '//': _tn, ...tnRest } = tn.json;
  const { '//': _tf, ...tfRest } = tf.json;
  expect(tnRest).toEqual(tfRest);
  // And it is the whole stack: nodes, bird configs, overlay, the workload, the backend.
  expect(Object.keys(tnRest.resource).sort()).toEqual([
    'calico_bird_config',
    'calico_node',
    'calico_overlay',
    'calico_workload',
  ]);
  expect(tnRest.terraform.backend.local.path).toBe('/inv/twin.tfstate');
  // postDeployVerify's null_resource (our own binding, no @cdktf/provider-null) under both.
  const { '//': _h1, ...tnHook } = tn.hook;
  const { '//': _h2, ...tfHook } = tf.hook;
  expect(tnHook).toEqual(tfHook);
  expect(tnHook.terraform.required_providers.null).toEqual({ source: 'null', version: '3.2.4' });
  const [verify] = Object.values<any>(tnHook.resource.null_resource);
  expect(verify.provisioner).toEqual([{ 'local-exec': { command: 'npx calico-net verify' } }]);
  expect(Object.keys(verify.triggers)).toEqual(['a', 'a/web']);
  expect(tnHook.provider.null).toEqual([{}]);
  // The password reaches Terraform escaped, through the secrets attribute, with either library.
  expect(Object.values<any>(tnRest.resource.calico_bird_config).map((b) => b.secrets)).toEqual(
    Array(3).fill({ Global_198_18_90_100: 'pa$${x}ss' }),
  );
  // Each stack directory got the provider and its lock file.
  for (const flavour of ['cdktn', 'cdktf']) {
    expect(fs.readFileSync(path.join(tmp, flavour, 'stacks', 'twin', '.terraform.lock.hcl'), 'utf8')).toMatch(
      /cdktf-calico\/calico/,
    );
  }
});

const evidence = (over: Partial<CdkEvidence>): CdkEvidence => ({
  loaded: [],
  dependencies: [],
  devDependencies: [],
  resolvable: ['cdktn', 'cdktf'],
  ...over,
});

test.each<[string, Partial<CdkEvidence>, CdkFlavour | RegExp]>([
  ['CALICO_CDK wins', { override: 'cdktn', loaded: ['cdktf'], dependencies: ['cdktf'] }, 'cdktn'],
  ['an empty CALICO_CDK is no choice', { override: '', dependencies: ['cdktn'] }, 'cdktn'],
  ['CALICO_CDK names something else', { override: 'cdk8s' }, /CALICO_CDK must be cdktn or cdktf, not "cdk8s"/],
  [
    'CALICO_CDK names one not installed',
    { override: 'cdktn', resolvable: ['cdktf'] },
    /CALICO_CDK=cdktn, but cdktn is not installed/,
  ],
  ['the one the app already loaded', { loaded: ['cdktn'], dependencies: ['cdktf'] }, 'cdktn'],
  ['the one package.json depends on', { dependencies: ['cdktn'], devDependencies: ['cdktf'] }, 'cdktn'],
  ['dependencies before devDependencies', { dependencies: ['cdktf'], devDependencies: ['cdktn'] }, 'cdktf'],
  ['a migrating project listing both stays on cdktf', { dependencies: ['cdktn', 'cdktf'] }, 'cdktf'],
  ['listed but not installed does not count', { dependencies: ['cdktn'], resolvable: ['cdktf'] }, 'cdktf'],
  ['only devDependencies', { devDependencies: ['cdktn'] }, 'cdktn'],
  ['nothing listed: whichever is installed', { resolvable: ['cdktn'] }, 'cdktn'],
  ['nothing listed, both installed', {}, 'cdktf'],
  ['none installed', { resolvable: [] }, /needs CDK Terrain or CDK for Terraform in your project: npm install cdktn/],
])('choosing the CDK: %s', (_name, over, expected) => {
  const choice = chooseCdk(evidence(over));
  if (typeof expected === 'string') expect(choice).toEqual({ flavour: expected });
  else expect('problem' in choice && choice.problem).toMatch(expected);
});
