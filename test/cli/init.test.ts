/** `calico-net init [DIR]`: scaffolds a project, adds only what is missing, never overwrites. */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { packageRoot } from '../../providers/package-root';

const CLI = path.join(packageRoot(), 'bin', 'calico-net.js');
let tmp: string;
beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-init-'))));
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

function init(cwd: string, ...args: string[]): { code: number; out: string } {
  const r = spawnSync(process.execPath, [CLI, 'init', ...args], { cwd, encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout + r.stderr };
}

const read = (...p: string[]): string => fs.readFileSync(path.join(tmp, ...p), 'utf8');

const own = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8'));
const versionOf = (name: string): string =>
  ({ ...own.devDependencies, ...own.peerDependencies, ...own.dependencies })[name];

describe.each([
  ['cdktn', ['--cdk', 'cdktn']],
  ['cdktf', ['--cdk', 'cdktf']],
  ['cdktf', []], // the default for a new project (cdktn-cli needs Node >= 22.19)
  ['cdktf', ['--cdk=cdktf']],
])('%s (init %j)', (flavour, flags) => {
  test('an empty directory gets package.json (with the CLI), cdktf.json, cluster.yaml, main.js and .gitignore', () => {
    const r = init(tmp, ...flags, 'proj');
    expect(r.code).toBe(0);
    const pkg = JSON.parse(read('proj', 'package.json'));
    expect(pkg.name).toBe('proj');
    expect(pkg.dependencies).toEqual({
      'cdktf-calico': `^${own.version}`,
      [flavour]: versionOf(flavour),
      [`${flavour}-cli`]: versionOf(`${flavour}-cli`),
      constructs: own.dependencies.constructs,
    });
    expect(Object.values(pkg.dependencies).every((v) => typeof v === 'string' && v !== '')).toBe(true);
    expect(pkg.scripts.deploy).toBe(`${flavour} deploy`);
    const cdktf = JSON.parse(read('proj', 'cdktf.json'));
    expect(cdktf.app).toBe('node main.js');
    expect(cdktf.projectId).toMatch(/^[0-9a-f-]{36}$/);
    expect(read('proj', 'main.js')).toMatch(/CALICO_INVENTORY \|\| 'cluster\.yaml'/);
    expect(read('proj', 'main.js')).toContain(`require('${flavour}')`);
    expect(read('proj', 'main.js')).not.toContain('__CDK__');
    expect(read('proj', 'cluster.yaml')).toMatch(/^# /);
    expect(read('proj', '.gitignore').split('\n')).toEqual(
      expect.arrayContaining(['cdktf.out/', 'terraform.d/', '*.tfstate']),
    );
    expect(r.out).toContain(`npx ${flavour} deploy`);
  });

  test('the written cluster.yaml is a valid inventory and main.js synthesizes it with that library', () => {
    expect(init(tmp, ...flags).code).toBe(0);
    // Resolve cdktf-calico to this checkout, as npm install would to the installed package.
    fs.mkdirSync(path.join(tmp, 'node_modules'));
    fs.symlinkSync(packageRoot(), path.join(tmp, 'node_modules', 'cdktf-calico'));
    for (const dep of [flavour, 'constructs'])
      fs.symlinkSync(path.join(packageRoot(), 'node_modules', dep), path.join(tmp, 'node_modules', dep));
    const out = path.join(tmp, 'out');
    const r = spawnSync(process.execPath, ['main.js'], {
      cwd: tmp,
      env: { ...process.env, CDKTF_OUTDIR: out, CALICO_INVENTORY: '' },
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const tf = JSON.parse(fs.readFileSync(path.join(out, 'stacks', 'lab', 'cdk.tf.json'), 'utf8'));
    expect(Object.keys(tf.resource.calico_node)).toHaveLength(2);
    expect(fs.existsSync(path.join(out, 'stacks', 'lab', '.terraform.lock.hcl'))).toBe(true);
    // Synthesized by the library the app uses: its version is in the stack's metadata.
    const used = JSON.parse(
      fs.readFileSync(path.join(packageRoot(), 'node_modules', flavour, 'package.json'), 'utf8'),
    ).version;
    expect(tf['//'].metadata.version).toBe(used);

    // A broken inventory: the problems, exit 1.
    fs.writeFileSync(path.join(tmp, 'bad.yaml'), 'cluster: { name: x }\n');
    const bad = spawnSync(process.execPath, ['main.js'], {
      cwd: tmp,
      env: { ...process.env, CDKTF_OUTDIR: out, CALICO_INVENTORY: 'bad.yaml' },
      encoding: 'utf8',
    });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/invalid inventory .*bad\.yaml/);
  });
});

test('an existing cdktf project stays cdktf without --cdk; --cdk cdktn on it is refused with a pointer to the migration note', () => {
  fs.writeFileSync(path.join(tmp, 'package.json'), JSON.stringify({ name: 'old', dependencies: { cdktf: '0.21.0' } }));
  const refused = init(tmp, '--cdk', 'cdktn');
  expect(refused.code).toBe(1);
  expect(refused.out).toMatch(/already uses cdktf; see the README's migration note/);
  expect(fs.readdirSync(tmp)).toEqual(['package.json']);
  const r = init(tmp);
  expect(r.code).toBe(0);
  expect(Object.keys(JSON.parse(read('package.json')).dependencies).sort()).toEqual([
    'cdktf',
    'cdktf-calico',
    'cdktf-cli',
    'constructs',
  ]);
  expect(read('main.js')).toContain("require('cdktf')");
});

test('--cdk with anything else is refused and writes nothing', () => {
  for (const flags of [['--cdk', 'cdk8s'], ['--cdk'], ['--cdk=']]) {
    const r = init(tmp, ...flags);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/--cdk must be cdktn or cdktf/);
  }
  expect(fs.readdirSync(tmp)).toEqual([]);
});

test("after `npm install cdktf-calico`: keeps the user's files, only adds missing dependencies", () => {
  const userPkg = {
    name: 'mine',
    dependencies: { 'cdktf-calico': 'file:../cdktf-calico-0.1.0.tgz', cdktf: '0.21.0' },
    scripts: { x: 'y' },
  };
  fs.writeFileSync(path.join(tmp, 'package.json'), JSON.stringify(userPkg, null, 4) + '\n');
  fs.mkdirSync(path.join(tmp, 'node_modules', 'left-alone'), { recursive: true });
  fs.writeFileSync(path.join(tmp, 'cluster.yaml'), 'mine\n');
  fs.writeFileSync(path.join(tmp, '.gitignore'), 'mine\n');
  const r = init(tmp);
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/kept your cluster\.yaml/);
  const pkg = JSON.parse(read('package.json'));
  expect(pkg.name).toBe('mine');
  expect(pkg.scripts).toEqual({ x: 'y' });
  expect(pkg.dependencies['cdktf-calico']).toBe('file:../cdktf-calico-0.1.0.tgz');
  expect(pkg.dependencies.cdktf).toBe('0.21.0');
  expect(Object.keys(pkg.dependencies).sort()).toEqual(['cdktf', 'cdktf-calico', 'cdktf-cli', 'constructs']);
  expect(read('package.json')).toMatch(/^\{\n {4}"name"/); // the user's indentation
  expect(read('cluster.yaml')).toBe('mine\n');
  expect(read('.gitignore')).toBe('mine\n');
  expect(fs.existsSync(path.join(tmp, 'node_modules', 'left-alone'))).toBe(true);

  // A second run changes nothing at all.
  const snapshot = ['package.json', 'cdktf.json', 'main.js', 'cluster.yaml', '.gitignore'].map((f) => read(f));
  expect(init(tmp).code).toBe(0);
  expect(['package.json', 'cdktf.json', 'main.js', 'cluster.yaml', '.gitignore'].map((f) => read(f))).toEqual(snapshot);
});

test('rejects options and extra arguments', () => {
  expect(init(tmp, '--force').code).toBe(1);
  expect(init(tmp, 'a', 'b').code).toBe(1);
  expect(fs.readdirSync(tmp)).toEqual([]);
});
