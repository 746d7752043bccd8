/**
 * calico_bird_config at its edges, through real terraform on the lab:
 * - node1 has no bird.conf before the first deploy: ours is written, and destroy removes it;
 * - node2's BIRD runs from a non-default file (/etc/bird/calico.conf, the inventory's
 *   birdConfigPath): that file is managed and reloaded, the default one is never touched, and
 *   destroy puts the original back;
 * - BIRD not running: the deploy fails naming the node and why, and converges once BIRD is back;
 * - an imported bird.conf whose original was never backed up: destroy leaves the file alone.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { operatorExec, startBird, stopBird } from '../../lab';
import { run, waitFor } from '../../lab/process';
import { CommandResult, describeCommand, E2eCluster } from './cluster';

let cluster: E2eCluster;
let ownBirdPid = 0;
const CUSTOM = '/etc/bird/calico.conf';
const original = (node: string) => `router id ${cluster.address(node)};\nprotocol device {\n}\n`;

/** Terraform's output with its diagnostic boxes' line wrapping undone (wraps fall on spaces). */
function unwrapped(r: CommandResult): string {
  return (r.stdout + r.stderr).replace(/[ \t]*\r?\n[│╷╵ \t]*/g, ' ');
}

async function fileOn(node: string, file: string): Promise<string | null> {
  const r = await cluster.exec(node, ['cat', file]);
  return r.code === 0 ? r.stdout : null;
}

/** node2's BIRD, restarted from CUSTOM (the lab starts it from the default path). */
async function startBirdFromCustom(): Promise<void> {
  const holder = cluster.lab.nodes.find((n) => n.name === 'node2')!.holderPid;
  const child = spawn(
    'nsenter',
    [
      '-t',
      String(holder),
      '-n',
      '-m',
      'bird',
      '-f',
      '-c',
      CUSTOM,
      '-s',
      '/run/bird/bird.ctl',
      '-P',
      '/run/bird/bird.pid',
    ],
    {
      detached: true,
      stdio: 'ignore',
    },
  );
  child.unref();
  ownBirdPid = child.pid ?? 0;
  const up = await waitFor(
    async () => (await cluster.exec('node2', ['birdc', '-s', '/run/bird/bird.ctl', 'show', 'status'])).code === 0,
    10_000,
  );
  if (!up) throw new Error('bird from the custom path did not start on node2');
}

function stopOwnBird(): void {
  if (ownBirdPid > 0) {
    try {
      process.kill(ownBirdPid, 'SIGTERM');
    } catch {
      // already gone
    }
    ownBirdPid = 0;
  }
}

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: 21, nodes: 2, asMode: 'ibgp' });
  // node1: no bird.conf at all (BIRD keeps running on what it loaded).
  expect((await cluster.exec('node1', ['rm', '-f', '/etc/bird/bird.conf'])).code).toBe(0);
  // node2: BIRD from a file of its own; the default file stays as a decoy.
  expect((await cluster.sh('node2', `cp /etc/bird/bird.conf ${CUSTOM}`)).code).toBe(0);
  await stopBird(cluster.lab, 'node2');
  await startBirdFromCustom();
  const inventory = parseYaml(fs.readFileSync(cluster.lab.inventoryPath, 'utf8'));
  inventory.nodes[1].birdConfigPath = CUSTOM;
  fs.writeFileSync(cluster.lab.inventoryPath, toYaml(inventory));
});

afterAll(async () => {
  stopOwnBird();
  await cluster?.down();
});

test('deploy writes node1 a fresh file and node2 its custom one; sessions come up on both', async () => {
  const deploy = await cluster.deploy();
  if (deploy.code !== 0) throw new Error(describeCommand(deploy));
  const sessions = await cluster.waitForSessions(() => 1);
  for (const node of cluster.nodeNames) expect(sessions.get(node)!.filter((s) => s.established)).toHaveLength(1);
  expect(await fileOn('node1', '/etc/bird/bird.conf')).toMatch(/protocol bgp Mesh_198_18_21_2/);
  expect(await fileOn('node1', '/etc/bird/bird.conf.calico-net.orig')).toBeNull();
  expect(await fileOn('node2', CUSTOM)).toMatch(/protocol bgp Mesh_198_18_21_1/);
  expect(await fileOn('node2', '/etc/bird/bird.conf')).toBe(original('node2'));
  const state = JSON.parse((await cluster.terraform(['show', '-json', '-no-color'])).stdout).values.root_module
    .resources;
  const birdOf = (node: string) =>
    state.find((r: any) => r.type === 'calico_bird_config' && r.values.node_name === node).values;
  expect(birdOf('node1').backup_path).toBeNull();
  expect(birdOf('node2')).toMatchObject({ config_path: CUSTOM, id: `node2:${CUSTOM}` });
  expect(birdOf('node2').backup_path).toMatch(/^\/etc\/bird\/calico\.conf\./);
  expect((await cluster.plan()).code).toBe(0);
});

test('a hand edit of the custom file is drift, and repaired there', async () => {
  expect((await cluster.sh('node2', `printf '# hand 3c9d\\n' >> ${CUSTOM}`)).code).toBe(0);
  const plan = await cluster.plan();
  expect(plan.code).toBe(2);
  expect(plan.stdout).toMatch(/^\s+- # hand 3c9d$/m);
  const deploy = await cluster.deploy();
  if (deploy.code !== 0) throw new Error(describeCommand(deploy));
  expect(await fileOn('node2', CUSTOM)).not.toContain('3c9d');
  expect(await fileOn('node2', '/etc/bird/bird.conf')).toBe(original('node2'));
});

test('BIRD not running: the deploy fails naming the node and why; with BIRD back it converges', async () => {
  expect((await cluster.sh('node1', "printf '# needs a reload 51aa\\n' >> /etc/bird/bird.conf")).code).toBe(0);
  await stopBird(cluster.lab, 'node1');
  try {
    const failed = await cluster.deploy();
    expect(failed.code).not.toBe(0);
    expect(unwrapped(failed)).toMatch(
      /BIRD is not running on node1 \(no control socket at \/run\/bird\/bird\.ctl\)|birdc configure on node1 failed/,
    );
  } finally {
    await startBird(cluster.lab, 'node1');
  }
  const deploy = await cluster.deploy();
  if (deploy.code !== 0) throw new Error(describeCommand(deploy));
  expect((await cluster.plan()).code).toBe(0);
  const sessions = await cluster.waitForSessions(() => 1);
  expect(sessions.get('node1')!.filter((s) => s.established)).toHaveLength(1);
});

test('destroy: node1 loses our file (there was none), node2 gets its original custom file back', async () => {
  const destroy = await cluster.destroy();
  if (destroy.code !== 0) throw new Error(describeCommand(destroy));
  expect(await fileOn('node1', '/etc/bird/bird.conf')).toBeNull();
  expect(await fileOn('node2', CUSTOM)).toBe(original('node2'));
  expect(await fileOn('node2', '/etc/bird/bird.conf')).toBe(original('node2'));
});

test('an imported bird.conf without a backup is left alone by destroy', async () => {
  const deploy = await cluster.deploy();
  if (deploy.code !== 0) throw new Error(describeCommand(deploy));
  const state = JSON.parse((await cluster.terraform(['show', '-json', '-no-color'])).stdout).values.root_module
    .resources;
  const node1 = state.find((r: any) => r.type === 'calico_bird_config' && r.values.node_name === 'node1');
  const ours = await fileOn('node1', '/etc/bird/bird.conf');
  expect(ours).toMatch(/Mesh_198_18_21_2/);
  expect((await cluster.terraform(['state', 'rm', node1.address])).code).toBe(0);
  // The id carries only the host: the import reads it with the defaults (ssh-agent, ~/.ssh/known_hosts).
  const home = `${cluster.root}/home`;
  fs.mkdirSync(`${home}/.ssh`, { recursive: true });
  fs.copyFileSync(cluster.lab.knownHostsPath, `${home}/.ssh/known_hosts`);
  const sock = `${cluster.root}/agent.sock`;
  const agent = await run('ssh-agent', ['-a', sock, '-s']);
  expect(agent.code).toBe(0);
  const agentPid = Number(/SSH_AGENT_PID=(\d+)/.exec(agent.stdout)?.[1] ?? 0);
  try {
    expect(
      (await run('ssh-add', [cluster.lab.clientKeyPath], { env: { ...process.env, SSH_AUTH_SOCK: sock } })).code,
    ).toBe(0);
    const imported = await operatorExec(
      cluster.lab,
      [
        'terraform',
        'import',
        '-input=false',
        '-no-color',
        node1.address,
        `node1:/etc/bird/bird.conf@${cluster.address('node1')}`,
      ],
      {
        cwd: cluster.stackDir,
        env: { ...cluster.env, HOME: home, SSH_AUTH_SOCK: sock },
      },
    );
    if (imported.code !== 0) throw new Error(describeCommand(imported));
  } finally {
    if (agentPid > 0) process.kill(agentPid, 'SIGTERM');
  }
  expect(await fileOn('node1', '/etc/bird/bird.conf.calico-net.orig')).toBeNull();
  const imported = JSON.parse(
    (await cluster.terraform(['show', '-json', '-no-color'])).stdout,
  ).values.root_module.resources.find((r: any) => r.address === node1.address);
  expect(imported.values.backup_path).toBe('/etc/bird/bird.conf.calico-net.orig');
  // Record the configuration's ssh settings (the id had only the host), then destroy.
  const record = await cluster.deploy();
  if (record.code !== 0) throw new Error(describeCommand(record));
  const destroy = await cluster.destroy();
  if (destroy.code !== 0) throw new Error(describeCommand(destroy));
  expect(await fileOn('node1', '/etc/bird/bird.conf')).toBe(ours);
});
