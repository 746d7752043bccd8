/**
 * providers/install: the shim's layout and stability, the h1: hash and lock file Terraform
 * accepts, every synthesized stack carrying its own provider (cdktf never needs the registry or
 * HOME), and the opt-in global install `calico-net provider install`.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import {
  hash1,
  installProviderShim,
  lockFileWithProvider,
  packageDirIn,
  providerLockBlock,
  terraformPlatform,
} from '../../providers/install';
import { buildClusterStack, parseInventory } from '../../stacks/inventory';
import { REPO } from './provider-process';
import { compileFixture, FIXTURE_ENTRY, FIXTURE_SOURCE, fixtureConfig, TerraformDir } from './terraform-harness';

let tmp: string;
beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-install-'))));
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('writes #!/bin/sh + exec <node> <entry> at the calico mirror path', () => {
  const shim = installProviderShim({ entry: '/opt/x/dist/providers/main.js', pluginsDir: tmp });
  expect(shim).toBe(
    path.join(
      tmp,
      'registry.terraform.io/cdktf-calico/calico/0.1.0',
      terraformPlatform(),
      'terraform-provider-calico_v0.1.0',
    ),
  );
  const text = fs.readFileSync(shim, 'utf8');
  expect(text.startsWith('#!/bin/sh\n')).toBe(true);
  expect(text).toContain(`exec '${process.execPath}' '/opt/x/dist/providers/main.js' "$@"`);
  expect(fs.statSync(shim).mode & 0o755).toBe(0o755);
});

test('is stable: an unchanged shim is not rewritten; a changed entry is; strays are removed', () => {
  const shim = installProviderShim({ entry: '/a/main.js', pluginsDir: tmp });
  const past = new Date(Math.floor(Date.now() / 1000) * 1000 - 3600_000);
  fs.utimesSync(shim, past, past);
  const inode = fs.statSync(shim).ino;
  installProviderShim({ entry: '/a/main.js', pluginsDir: tmp });
  expect(Math.round(fs.statSync(shim).mtimeMs)).toBe(past.getTime());
  expect(fs.statSync(shim).ino).toBe(inode);

  fs.writeFileSync(path.join(path.dirname(shim), 'terraform-provider-calico.js'), '// stray');
  installProviderShim({ entry: '/b/main.js', pluginsDir: tmp });
  expect(fs.readFileSync(shim, 'utf8')).toContain("'/b/main.js'");
  expect(fs.readdirSync(path.dirname(shim))).toEqual(['terraform-provider-calico_v0.1.0']);
});

test('quotes paths with spaces and quotes for /bin/sh', () => {
  const shim = installProviderShim({ entry: "/it's here/main.js", pluginsDir: tmp, nodePath: '/n o/node' });
  const r = spawnSync('/bin/sh', ['-n', shim]);
  expect(r.status).toBe(0);
  expect(fs.readFileSync(shim, 'utf8')).toContain(`exec '/n o/node' '/it'\\''s here/main.js' "$@"`);
});

test('`calico-net provider install --plugins-dir` is the opt-in global install', () => {
  const r = spawnSync(
    process.execPath,
    [path.join(REPO, 'bin/calico-net.js'), 'provider', 'install', '--plugins-dir', tmp],
    { encoding: 'utf8' },
  );
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const shim = path.join(
    tmp,
    'registry.terraform.io/cdktf-calico/calico/0.1.0',
    terraformPlatform(),
    'terraform-provider-calico_v0.1.0',
  );
  expect(fs.readFileSync(shim, 'utf8')).toContain(`'${path.join(REPO, 'dist/providers/start.js')}'`);
});

describe('lock file text', () => {
  const ours = 'registry.terraform.io/cdktf-calico/calico';
  const nullBlock = providerLockBlock('registry.terraform.io/hashicorp/null', '3.2.4', '~> 3.2', ['h1:abc=', 'zh:def']);

  test("a new file holds our block in terraform init's format", () => {
    const text = lockFileWithProvider(undefined, ours, providerLockBlock(ours, '0.1.0', '0.1.0', ['h1:X=']));
    expect(text).toBe(
      '# This file is maintained automatically by "terraform init".\n# Manual edits may be lost in future updates.\n\n' +
        `provider "${ours}" {\n  version     = "0.1.0"\n  constraints = "0.1.0"\n  hashes = [\n    "h1:X=",\n  ]\n}\n`,
    );
  });

  test("other providers' blocks are kept; ours is replaced, not duplicated", () => {
    const first = lockFileWithProvider(undefined, 'registry.terraform.io/hashicorp/null', nullBlock);
    const withOurs = lockFileWithProvider(first, ours, providerLockBlock(ours, '0.1.0', '0.1.0', ['h1:old=']));
    const updated = lockFileWithProvider(withOurs, ours, providerLockBlock(ours, '0.1.0', '0.1.0', ['h1:new=']));
    expect(updated).toContain(nullBlock);
    expect(updated).toContain('h1:new=');
    expect(updated).not.toContain('h1:old=');
    expect(updated.match(/^provider /gm)).toHaveLength(2);
    expect(lockFileWithProvider(updated, ours, providerLockBlock(ours, '0.1.0', '0.1.0', ['h1:new=']))).toBe(updated);
  });
});

describe('with real terraform', () => {
  let fixture: ReturnType<typeof compileFixture>;
  beforeAll(() => (fixture = compileFixture()));
  afterAll(() => fixture.cleanup());

  test('hash1 is the h1: hash terraform init records for the package', () => {
    const t = new TerraformDir('rt-h1-');
    try {
      t.installFixture();
      t.write('main.tf', fixtureConfig(''));
      t.expectTf(0, 'init');
      const lock = fs.readFileSync(t.path('.terraform.lock.hcl'), 'utf8');
      const ours = hash1(packageDirIn(t.path('terraform.d', 'plugins'), FIXTURE_SOURCE, '0.1.0'));
      expect(ours).toMatch(/^h1:[A-Za-z0-9+/]{43}=$/);
      expect(lock).toContain(`"${ours}"`);
      expect(FIXTURE_ENTRY()).toBeTruthy();
    } finally {
      t.cleanup();
    }
  });
});

describe('a synthesized stack is self-sufficient', () => {
  const inventory = `cluster: { name: selfsuff, podCidr: 198.19.0.0/16 }
nodes:
  - { name: node1, address: 198.18.0.1, asNumber: 64501, podCidr: 198.19.1.0/24 }
`;
  let project: string;
  let stackDir: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(() => {
    project = path.join(tmp, 'project');
    fs.mkdirSync(path.join(project, 'home'), { recursive: true });
    fs.writeFileSync(path.join(project, 'cdktf.json'), '{"language":"typescript","app":"true"}\n');
    const app = new App({ outdir: path.join(project, 'cdktf.out') });
    buildClusterStack(app, parseInventory(inventory, path.join(project, 'cluster.yaml')));
    app.synth();
    stackDir = path.join(project, 'cdktf.out', 'stacks', 'selfsuff');
    // An empty HOME and no CLI config at all: only what synthesis wrote can satisfy terraform.
    env = { PATH: process.env.PATH, HOME: path.join(project, 'home'), CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1' };
  });

  function tf(cwd: string, args: string[]): { code: number; out: string } {
    const r = spawnSync('terraform', args, { cwd, env, encoding: 'utf8', timeout: 180_000 });
    return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
  }

  test('shim and lock file in the stack directory; terraform init there accepts them and runs the provider', () => {
    const shim = path.join(
      packageDirIn(path.join(stackDir, 'terraform.d', 'plugins')),
      'terraform-provider-calico_v0.1.0',
    );
    expect(fs.readFileSync(shim, 'utf8')).toContain(`'${path.join(REPO, 'dist', 'providers', 'start.js')}'`);
    const lockBefore = fs.readFileSync(path.join(stackDir, '.terraform.lock.hcl'), 'utf8');
    expect(lockBefore).toContain(`"${hash1(path.dirname(shim))}"`);

    const init = tf(stackDir, ['init', '-input=false', '-no-color']);
    expect(init).toMatchObject({ code: 0 });
    expect(init.out).toMatch(/Reusing previous version of cdktf-calico\/calico from the dependency lock file/);
    expect(fs.readFileSync(path.join(stackDir, '.terraform.lock.hcl'), 'utf8')).toBe(lockBefore);
    // validate loads the provider's schema: the shim really runs.
    expect(tf(stackDir, ['validate', '-no-color'])).toMatchObject({ code: 0 });
    expect(fs.readdirSync(env.HOME!)).toEqual([]);
  });

  test('terraform -chdir=cdktf.out/stacks/<name> from the project root finds the project-level copy', () => {
    const rel = path.relative(project, stackDir);
    expect(tf(project, [`-chdir=${rel}`, 'init', '-input=false', '-no-color'])).toMatchObject({ code: 0 });
    expect(tf(project, [`-chdir=${rel}`, 'validate', '-no-color'])).toMatchObject({ code: 0 });
    // Without the project-level copy, -chdir init searches the wrong place and fails.
    fs.rmSync(path.join(stackDir, '.terraform'), { recursive: true });
    fs.rmSync(path.join(project, 'terraform.d'), { recursive: true });
    const without = tf(project, [`-chdir=${rel}`, 'init', '-input=false', '-no-color']);
    expect(without.code).toBe(1);
    expect(fs.readdirSync(env.HOME!)).toEqual([]);
  });

  test('a CLI config with its own provider_installation block: synth warns, naming the file and what to add', () => {
    const rc = path.join(tmp, 'user.tfrc');
    fs.writeFileSync(rc, 'provider_installation {\n  direct {}\n}\n');
    const saved = process.env.TF_CLI_CONFIG_FILE;
    process.env.TF_CLI_CONFIG_FILE = rc;
    try {
      const app = new App({ outdir: path.join(project, 'cdktf.out') });
      buildClusterStack(app, parseInventory(inventory, path.join(project, 'cluster.yaml')));
      app.synth();
    } finally {
      if (saved === undefined) delete process.env.TF_CLI_CONFIG_FILE;
      else process.env.TF_CLI_CONFIG_FILE = saved;
    }
    const manifest = JSON.parse(fs.readFileSync(path.join(project, 'cdktf.out', 'manifest.json'), 'utf8'));
    const warnings: string[] = manifest.stacks.selfsuff.annotations
      .filter((a: { level: string }) => a.level === '@cdktf/warn')
      .map((a: { message: string }) => a.message);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`${rc} has a provider_installation block`);
    expect(warnings[0]).toContain('path    = "terraform.d/plugins"');
  });

  test('a second synth leaves shim and lock file untouched', () => {
    const lock = path.join(stackDir, '.terraform.lock.hcl');
    const past = new Date(Math.floor(Date.now() / 1000) * 1000 - 3600_000);
    fs.utimesSync(lock, past, past);
    const app = new App({ outdir: path.join(project, 'cdktf.out') });
    buildClusterStack(app, parseInventory(inventory, path.join(project, 'cluster.yaml')));
    app.synth();
    expect(Math.round(fs.statSync(lock).mtimeMs)).toBe(past.getTime());
  });
});
