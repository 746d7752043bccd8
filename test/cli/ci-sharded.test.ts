/**
 * The sharded CI example's `shards` job, run as a runner would (bash, git, jq, cdktf) in a git
 * repository of a sharded cluster: after a commit that adds a workload to one rack only that
 * rack's stack is listed as changed; after adding a node to a rack of a reflector cluster, that
 * rack and the reflectors; without a base revision, every shard.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse as parseYaml } from 'yaml';
import { cdktfBinary, writeOperatorProject } from '../../cli/operator-project';
import { packageRoot } from '../../providers/package-root';

const listScript = (): string => {
  const workflow = parseYaml(
    fs.readFileSync(path.join(packageRoot(), 'examples', 'ci', 'github-actions-sharded.yml'), 'utf8'),
  );
  return (workflow.jobs.shards.steps as { id?: string; run?: string }[]).find((s) => s.id === 'list')!.run!;
};

function inventory(extra: string[] = []): string {
  return [
    'cluster: { name: fleet, podCidr: 198.19.0.0/16, topology: route-reflector, sharding: byRack }',
    'nodes:',
    '  - { name: rr1, address: 198.18.97.1, podCidr: 198.19.1.0/24, routeReflector: true }',
    '  - { name: a0, rack: a, address: 198.18.97.3, podCidr: 198.19.3.0/24, workloads: [{ name: w3, ip: 198.19.3.2 }] }',
    '  - { name: b0, rack: b, address: 198.18.97.4, podCidr: 198.19.4.0/24, workloads: [{ name: w4, ip: 198.19.4.2 }] }',
    '  - { name: c0, rack: c, address: 198.18.97.5, podCidr: 198.19.5.0/24 }',
    ...extra,
    '',
  ].join('\n');
}

let repo: string;

function git(...args: string[]): string {
  const r = spawnSync('git', args, { cwd: repo, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

function commit(text: string, message: string): string {
  fs.writeFileSync(path.join(repo, 'cluster.yaml'), text);
  git('add', 'cluster.yaml');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-qm', message);
  return git('rev-parse', 'HEAD');
}

/** Runs the job's script; returns its outputs (changed, all). */
function runList(base: string): Record<string, string[]> {
  const output = path.join(repo, '.github-output');
  fs.writeFileSync(output, '');
  const r = spawnSync('bash', ['-e', '-c', listScript()], {
    cwd: repo,
    encoding: 'utf8',
    env: {
      ...process.env,
      BASE: base,
      GITHUB_OUTPUT: output,
      CALICO_INVENTORY: 'cluster.yaml',
      PATH: `${path.dirname(cdktfBinary())}:${process.env.PATH}`,
      TF_CLI_CONFIG_FILE: '/dev/null',
      CHECKPOINT_DISABLE: '1',
      CDKTF_DISABLE_PLUGIN_CACHE_ENV: '1',
      CI: '1',
    },
  });
  if (r.status !== 0) throw new Error(`list script exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return Object.fromEntries(
    fs
      .readFileSync(output, 'utf8')
      .trim()
      .split('\n')
      .map((line) => {
        const i = line.indexOf('=');
        return [line.slice(0, i), JSON.parse(line.slice(i + 1))];
      }),
  );
}

beforeAll(() => {
  repo = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-ci-shards-'));
  writeOperatorProject(repo);
  // What `npm ci` gives the runner: cdktf in the project's node_modules/.bin, where npx finds it.
  fs.mkdirSync(path.join(repo, 'node_modules', '.bin'), { recursive: true });
  fs.symlinkSync(cdktfBinary(), path.join(repo, 'node_modules', '.bin', 'cdktf'));
  fs.writeFileSync(path.join(repo, 'package.json'), JSON.stringify({ name: 'fleet', private: true }));
  fs.writeFileSync(
    path.join(repo, '.gitignore'),
    'node_modules/\ncdktf.out/\n.base-out/\n.base-cluster.yaml\n.github-output\nterraform.d/\n',
  );
  git('init', '-q');
});

afterAll(() => fs.rmSync(repo, { recursive: true, force: true }));

test('only the shards whose stack changed are listed; every shard without a base', () => {
  const first = commit(inventory(), 'three racks');
  const all = ['fleet-a', 'fleet-b', 'fleet-c', 'fleet-route-reflectors'];
  expect(runList('')).toEqual({ all, changed: all });

  commit(
    inventory().replace(
      'workloads: [{ name: w4, ip: 198.19.4.2 }]',
      'workloads: [{ name: w4, ip: 198.19.4.2 }, { name: x4, ip: 198.19.4.3 }]',
    ),
    'a workload in rack b',
  );
  expect(runList(first)).toEqual({ all, changed: ['fleet-b'] });

  const second = git('rev-parse', 'HEAD');
  commit(
    fs.readFileSync(path.join(repo, 'cluster.yaml'), 'utf8') +
      '  - { name: c1, rack: c, address: 198.18.97.6, podCidr: 198.19.6.0/24 }\n',
    'a node in rack c',
  );
  expect(runList(second)).toEqual({ all, changed: ['fleet-c', 'fleet-route-reflectors'] });
});
