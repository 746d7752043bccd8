/**
 * A CDK Terrain project in TypeScript, with cdktn installed and cdktf not, type-checks against
 * our published declarations (dist/**\/*.d.ts, as `npm pack` ships them): they name neither
 * library (constructs/cdk-types.ts). `skipLibCheck: false`, so a declaration that imports a
 * module the project lacks is an error, not a silent `any`; and a prop of the wrong type is
 * still caught, so the types the user sees are ours, not `any`.
 *
 * No lab: the project is a directory holding copies of our declarations and links to the
 * packages a cdktn user installs (cdktn, constructs, our dependencies, @types/node). The jest
 * global setup has just built dist/.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { packageRoot } from '../../providers/package-root';

const ROOT = packageRoot();
let project: string;

function copyDeclarations(from: string, to: string): void {
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    if (entry.isDirectory()) {
      if (['test', 'bench', 'test-fixtures'].includes(entry.name) && from === path.join(ROOT, 'dist')) continue;
      copyDeclarations(source, path.join(to, entry.name));
    } else if (entry.name.endsWith('.d.ts')) {
      fs.mkdirSync(to, { recursive: true });
      fs.copyFileSync(source, path.join(to, entry.name));
    }
  }
}

/** A package as the user's node_modules holds it: a link to this repository's copy. */
function linkPackage(name: string): void {
  const target = path.join(project, 'node_modules', name);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules', name), target);
}

const USER_APP = `import { App, TerraformOutput, TerraformStack } from 'cdktn';
import { Construct } from 'constructs';
import { BgpPeer, CalicoCluster, CalicoClusterProps, CalicoNode, CalicoProvider, NetworkPolicy, Workload, buildClusterStacks, parseInventory } from 'cdktf-calico';

const app = new App();
const stack = new TerraformStack(app, 'mine');
new CalicoProvider(stack, 'calico', { connectTimeout: 30, connectRetries: 1 });
// Our constructs take any scope inside the stack, like the libraries' own.
const rack = new Construct(stack, 'rack-a');
const cluster = new CalicoCluster(rack, 'net', { name: 'mine', podCidr: '198.19.0.0/16', vxlanMode: 'CrossSubnet' });
const node = new CalicoNode(cluster, 'n1', { name: 'n1', address: '198.18.120.1/24', podCidr: '198.19.1.0/24' });
new Workload(node, 'web', { name: 'web', ip: '198.19.1.2', labels: { role: 'web' } });
new BgpPeer(cluster, 'tor', { address: '198.18.120.254', asNumber: 65100 });
new NetworkPolicy(cluster, 'allow', { name: 'allow', selector: 'role == "web"', types: ['Ingress'], ingress: [{ action: 'Allow' }] });
// Our resources are cdktn elements: referenced in outputs, depended on.
new TerraformOutput(stack, 'node-id', { value: node.nodeResource.attr('id'), dependsOn: [node.birdConfig] });
const stacks: TerraformStack[] = buildClusterStacks(app, parseInventory('cluster: { name: inv, podCidr: 198.19.0.0/16 }\\nnodes: []\\n', '/inv.yaml')).map((s) => s as TerraformStack);
void stacks;

// The types are ours, not \`any\`: a wrong one is an error.
// @ts-expect-error podCidr is a string
new CalicoNode(cluster, 'n2', { name: 'n2', address: '198.18.120.2', podCidr: 42 });
const props: CalicoClusterProps = { name: 'x', podCidr: '198.19.0.0/16' };
// @ts-expect-error props are readonly
props.podCidr = '198.19.0.0/17';
app.synth();
`;

beforeAll(() => {
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-types-cdktn-'));
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const ours = path.join(project, 'node_modules', 'cdktf-calico');
  fs.mkdirSync(ours, { recursive: true });
  fs.writeFileSync(
    path.join(ours, 'package.json'),
    JSON.stringify({ name: pkg.name, version: pkg.version, main: pkg.main, types: pkg.types }),
  );
  copyDeclarations(path.join(ROOT, 'dist'), path.join(ours, 'dist'));
  for (const name of new Set(['cdktn', 'constructs', '@types/node', ...Object.keys(pkg.dependencies)]))
    linkPackage(name);
  if (fs.existsSync(path.join(ROOT, 'node_modules', '@types', 'ssh2'))) linkPackage('@types/ssh2');
  fs.writeFileSync(
    path.join(project, 'package.json'),
    JSON.stringify({
      name: 'user-app',
      private: true,
      dependencies: { cdktn: '*', constructs: '*', 'cdktf-calico': '*' },
    }),
  );
  fs.writeFileSync(path.join(project, 'main.ts'), USER_APP);
  fs.writeFileSync(
    path.join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'commonjs',
        moduleResolution: 'node',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: ['node'],
      },
      files: ['main.ts'],
    }),
  );
});

afterAll(() => {
  if (project) fs.rmSync(project, { recursive: true, force: true });
});

test('the project has cdktn and no cdktf', () => {
  expect(() => require.resolve('cdktn', { paths: [project] })).not.toThrow();
  expect(() => require.resolve('cdktf', { paths: [project] })).toThrow(/'cdktf'/);
  // Resolved from our declarations' own directory too (that is where `import ... from 'cdktf'` would look).
  expect(() =>
    require.resolve('cdktf/package.json', {
      paths: [path.join(project, 'node_modules', 'cdktf-calico', 'dist', 'constructs')],
    }),
  ).toThrow();
});

test('our declarations name no CDK library', () => {
  const named: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/(from|import\()\s*['"](cdktf|cdktn)['"]/.test(fs.readFileSync(p, 'utf8')))
        named.push(path.relative(project, p));
    }
  };
  walk(path.join(project, 'node_modules', 'cdktf-calico', 'dist'));
  expect(named).toEqual([]);
});

test('a cdktn user app type-checks with skipLibCheck off (and a wrong prop type is still an error)', () => {
  const tsc = require.resolve('typescript/bin/tsc', { paths: [ROOT] });
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(project, 'tsconfig.json')], {
    cwd: project,
    encoding: 'utf8',
  });
  expect({ code: r.status, out: r.stdout + r.stderr }).toEqual({ code: 0, out: '' });
});

test('control: in this project, a declaration that names cdktf (as ours did) is an error', () => {
  // What dist/constructs/cdk.d.ts held before: the check above would have failed on it.
  const control = path.join(project, 'control');
  fs.mkdirSync(path.join(control, 'node_modules', 'old-calico'), { recursive: true });
  fs.writeFileSync(
    path.join(control, 'node_modules', 'old-calico', 'index.d.ts'),
    "import type * as CdktfLibrary from 'cdktf';\nexport declare const cdk: typeof CdktfLibrary;\n",
  );
  fs.writeFileSync(
    path.join(control, 'main.ts'),
    "import { cdk } from 'old-calico';\nexport const app = new cdk.App();\n",
  );
  fs.writeFileSync(
    path.join(control, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, skipLibCheck: false, types: [] },
      files: ['main.ts'],
    }),
  );
  const tsc = require.resolve('typescript/bin/tsc', { paths: [ROOT] });
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(control, 'tsconfig.json')], {
    cwd: control,
    encoding: 'utf8',
  });
  expect(r.status).not.toBe(0);
  expect(r.stdout).toContain("Cannot find module 'cdktf'");
});
