/**
 * Nodes behind a bastion, through real terraform, the real provider and real sshd on a lab of two
 * subnets where the operator reaches only the first:
 * - node1 (first subnet, not managed) is the bastion; node2 (first subnet) is reached directly;
 *   node3 (second subnet) through `proxyJump` in the inventory, node4 (second subnet) through an
 *   ssh_config alias (Host node4-behind: HostName + ProxyJump to Host bastion). The sshd logs of
 *   node3 and node4 show every login coming from the bastion;
 * - deploy, an empty plan, drift on node4 seen by `calico-net drift` and repaired by a deploy,
 *   `calico-net status` through the bastion, destroy back to the nodes' first state;
 * - every provider process opens one connection per host, plus one to the bastion;
 * - a changed bastion host key stops the plan before anything reaches node3 or node4 (their sshd
 *   logs stay silent); the bastion's sshd down keeps node3's and node4's state and names the bastion;
 *   node3's sshd down behind a working bastion is told apart ("the bastion answered");
 * - `terraform import` of node3's objects by an id that names the bastion (" via "), with the
 *   agent and ~/.ssh/known_hosts an operator importing by hand has;
 * - a bastion that takes only a key of its own: refused with the node's key, then reached with
 *   the hop key from proxyJumpKeys (node3) and from ssh_config's IdentityFile (node4);
 * - ssh_config's nested ProxyJump: node4 through a hop (node2) that itself goes through the bastion.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { operatorExec, replaceHostKey, startSshd, stopSshd } from '../../lab';
import { run } from '../../lab/process';
import { CommandResult, describeCommand, E2eCluster, NodeSnapshot, operatorAgent } from './cluster';

let cluster: E2eCluster;
let bastion: string;
let direct: string;
let viaInventory: string;
let viaSshConfig: string;
let statsFile: string;
const behind = () => [viaInventory, viaSshConfig];
const before = new Map<string, NodeSnapshot>();

const sshdLog = (node: string) => path.join(cluster.lab.dir, node, 'sshd.log');
const logSize = (node: string) => fs.statSync(sshdLog(node)).size;
const logSince = (node: string, from: number) => fs.readFileSync(sshdLog(node)).subarray(from).toString('utf8');
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Terraform's output with its diagnostic boxes' line wrapping undone (wraps fall on spaces). */
function unwrapped(r: CommandResult): string {
  return (r.stdout + r.stderr).replace(/[ \t]*\r?\n[│╷╵ \t]*/g, ' ');
}

function mustSucceed(r: CommandResult): CommandResult {
  if (r.code !== 0) throw new Error(describeCommand(r));
  return r;
}

async function stateValues(): Promise<Record<string, { ssh: Record<string, unknown> } & Record<string, unknown>>> {
  const r = mustSucceed(await cluster.terraform(['show', '-json', '-no-color']));
  const resources: { address: string; values: never }[] = JSON.parse(r.stdout).values?.root_module?.resources ?? [];
  return Object.fromEntries(resources.map((x) => [x.address, x.values]));
}

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: 50, nodes: 4, asMode: 'ibgp', subnets: 2, operatorReach: 'first' });
  const first = cluster.lab.nodes.filter((n) => n.subnet === 0).map((n) => n.name);
  const second = cluster.lab.nodes.filter((n) => n.subnet === 1).map((n) => n.name);
  expect(first.length).toBeGreaterThanOrEqual(2);
  expect(second.length).toBeGreaterThanOrEqual(2);
  [bastion, direct] = first;
  [viaInventory, viaSshConfig] = second;

  const sshConfig = path.join(cluster.root, 'ssh_config');
  fs.writeFileSync(
    sshConfig,
    [
      '# What an operator keeps in ~/.ssh/config.',
      'Host bastion',
      `  HostName ${cluster.address(bastion)}`,
      '  User root',
      `Host ${viaSshConfig}-behind`,
      `  HostName ${cluster.address(viaSshConfig)}`,
      '  ProxyJump bastion',
      '',
    ].join('\n'),
  );
  const inventory = parseYaml(fs.readFileSync(cluster.lab.inventoryPath, 'utf8'));
  inventory.ssh = { ...inventory.ssh, sshConfig };
  inventory.nodes = inventory.nodes
    .filter((n: { name: string }) => n.name !== bastion)
    .map((n: { name: string; ssh?: object }) => {
      if (n.name === viaInventory) return { ...n, ssh: { proxyJump: `root@${cluster.address(bastion)}` } };
      if (n.name === viaSshConfig) return { ...n, sshHost: `${viaSshConfig}-behind` };
      return n;
    });
  fs.writeFileSync(cluster.lab.inventoryPath, toYaml(inventory));
  for (const node of behind()) before.set(node, await cluster.snapshot(node));
  statsFile = path.join(cluster.root, 'provider-stats.jsonl');
});

afterAll(async () => {
  await cluster?.down();
});

test('the operator cannot reach the second subnet by itself', async () => {
  for (const node of behind()) {
    const r = await operatorExec(cluster.lab, [
      'timeout',
      '5',
      'bash',
      '-c',
      `exec 3<>/dev/tcp/${cluster.address(node)}/22`,
    ]);
    expect(r.code).not.toBe(0);
  }
  const r = await operatorExec(cluster.lab, [
    'timeout',
    '5',
    'bash',
    '-c',
    `exec 3<>/dev/tcp/${cluster.address(bastion)}/22`,
  ]);
  expect(r.code).toBe(0);
});

test('deploy through the bastion, one connection per host and per bastion, then an empty plan', async () => {
  const start = Object.fromEntries(behind().map((n) => [n, logSize(n)]));
  cluster.extraEnv = { CALICO_PROVIDER_STATS: statsFile };
  mustSucceed(await cluster.deploy());
  cluster.extraEnv = {};

  // Every login on node3 and node4 came from the bastion's address, none from the operator.
  for (const node of behind()) {
    const log = logSince(node, start[node]);
    expect(log).toMatch(new RegExp(`Accepted publickey for root from ${escape(cluster.address(bastion))} port \\d+`));
    expect(log).not.toContain(cluster.lab.operator.address);
    // The real outcome on the host: its pod block's blackhole and its workload's namespace.
    expect((await cluster.routes(node)).some((r) => cluster.blackholeRoute(node).test(r))).toBe(true);
    expect((await cluster.snapshot(node)).netns.length).toBe(1);
  }

  // Each provider process: at most one connection per node and one to the bastion.
  const lines = fs
    .readFileSync(statsFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { connections: Record<string, number> });
  const expected = [bastion, direct, viaInventory, viaSshConfig].map((n) => `root@${cluster.address(n)}:22`).sort();
  const busy = lines.filter((l) => Object.keys(l.connections).length > 0);
  expect(busy.length).toBeGreaterThan(0);
  for (const line of busy) {
    for (const count of Object.values(line.connections)) expect(count).toBe(1);
    for (const key of Object.keys(line.connections)) expect(expected).toContain(key);
  }
  // The process that applied everything talked to all four, the bastion once.
  expect(busy.some((l) => Object.keys(l.connections).sort().join() === expected.join())).toBe(true);

  const plan = await cluster.plan();
  if (plan.code !== 0) throw new Error(`not converged:\n${describeCommand(plan)}`);
});

test('the stack says how each node is reached, and which settings came from ssh_config', async () => {
  const state = await stateValues();
  const sshOf = (node: string) => Object.values(state).find((v) => v.ssh.host === cluster.address(node))?.ssh;
  expect(sshOf(direct)).toMatchObject({ proxy_jump: null, from_ssh_config: null });
  expect(sshOf(viaInventory)).toMatchObject({ proxy_jump: `root@${cluster.address(bastion)}`, from_ssh_config: null });
  expect(sshOf(viaSshConfig)).toMatchObject({
    proxy_jump: `root@${cluster.address(bastion)}`,
    from_ssh_config: ['HostName', 'ProxyJump'],
  });
  const shown = mustSucceed(await cluster.terraform(['show', '-no-color']));
  expect(shown.stdout).toMatch(/from_ssh_config\s+=\s+\[\s*"HostName",\s*"ProxyJump",?\s*\]/);
});

test('calico-net status reads BIRD on the nodes behind the bastion', async () => {
  const r = await cluster.calicoNet(['status', '--inventory', cluster.lab.inventoryPath, '--format', 'json']);
  const report = JSON.parse(r.stdout) as { nodes: { node: string; error?: string; sessions: unknown[] }[] };
  expect(report.nodes.map((n) => n.node).sort()).toEqual([direct, viaInventory, viaSshConfig].sort());
  for (const n of report.nodes) {
    expect(n.error).toBeUndefined();
    expect(n.sessions.length).toBeGreaterThan(0);
  }
});

test('drift on a node behind the bastion: calico-net drift sees it, a deploy repairs it', async () => {
  const off = await cluster.exec(viaSshConfig, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=0']);
  expect(off.code).toBe(0);
  const drift = await cluster.calicoNet([
    'drift',
    '--inventory',
    cluster.lab.inventoryPath,
    '--dir',
    cluster.projectDir,
    '--skip-synth',
    '--format',
    'json',
  ]);
  expect(drift.code).toBe(2);
  const report = JSON.parse(drift.stdout) as {
    unreadable: unknown[];
    resources: { node: string; attributes: { path: string; actual: unknown }[] }[];
  };
  expect(report.unreadable).toEqual([]);
  expect(report.resources.map((r) => r.node)).toEqual([viaSshConfig]);
  expect(report.resources[0].attributes).toContainEqual(expect.objectContaining({ path: 'ip_forward', actual: '0' }));

  expect((await cluster.plan()).code).toBe(2);
  mustSucceed(await cluster.deploy());
  expect((await cluster.exec(viaSshConfig, ['sysctl', '-n', 'net.ipv4.ip_forward'])).stdout.trim()).toBe('1');
  const plan = await cluster.plan();
  if (plan.code !== 0) throw new Error(`not repaired:\n${describeCommand(plan)}`);
});

test('a changed bastion host key is refused before anything reaches the nodes behind it', async () => {
  const knownHosts = fs.readFileSync(cluster.lab.knownHostsPath, 'utf8');
  await replaceHostKey(cluster.lab, bastion);
  const start = Object.fromEntries(behind().map((n) => [n, logSize(n)]));
  const plan = await cluster.plan();
  expect(plan.code).toBe(1);
  const out = unwrapped(plan);
  for (const node of behind()) {
    expect(out).toMatch(
      new RegExp(
        `Refused to work on node ${node} \\(${escape(cluster.address(node))}\\) through bastion ${escape(cluster.address(bastion))}`,
      ),
    );
    // Not one TCP connection reached the node: its sshd logged nothing at all.
    expect(logSince(node, start[node])).toBe('');
  }
  expect(out).toContain(`host key for ${cluster.address(bastion)} has CHANGED`);
  expect(out).not.toMatch(new RegExp(`Refused to work on node ${direct}`));

  // The operator checks the new key and records it: the nodes behind are reachable again.
  const pub = fs
    .readFileSync(path.join(cluster.lab.dir, bastion, 'ssh_host_ed25519_key.pub'), 'utf8')
    .trim()
    .split(' ');
  const line = `${cluster.address(bastion)} ${pub[0]} ${pub[1]}`;
  fs.writeFileSync(
    cluster.lab.knownHostsPath,
    knownHosts
      .split('\n')
      .map((l) => (l.startsWith(`${cluster.address(bastion)} `) ? line : l))
      .join('\n'),
  );
  const again = await cluster.plan();
  if (again.code !== 0) throw new Error(describeCommand(again));
});

test('a node down behind a working bastion: its state is kept, and the warning says the bastion answered', async () => {
  const state = await stateValues();
  await stopSshd(cluster.lab, viaInventory);
  try {
    const refresh = mustSucceed(
      await cluster.terraform(['apply', '-refresh-only', '-auto-approve', '-input=false', '-no-color']),
    );
    const out = unwrapped(refresh);
    expect(out).toMatch(
      new RegExp(
        `Warning: Cannot reach node ${viaInventory} \\(${escape(cluster.address(viaInventory))}\\) through bastion ${escape(cluster.address(bastion))} to [^:]+: state not refreshed`,
      ),
    );
    expect(out).toContain(`the bastion answered, but cannot connect to ${cluster.address(viaInventory)}`);
    expect(out).not.toMatch(new RegExp(`Cannot reach node (${direct}|${viaSshConfig})`));
    expect(await stateValues()).toEqual(state);
  } finally {
    await startSshd(cluster.lab, viaInventory);
  }
});

test("the bastion's sshd down: the nodes behind it keep their state, and the warning names the bastion", async () => {
  const state = await stateValues();
  await stopSshd(cluster.lab, bastion);
  try {
    const refresh = mustSucceed(
      await cluster.terraform(['apply', '-refresh-only', '-auto-approve', '-input=false', '-no-color']),
    );
    const out = unwrapped(refresh);
    for (const node of behind()) {
      expect(out).toMatch(
        new RegExp(
          `Warning: Cannot reach node ${node} \\(${escape(cluster.address(node))}\\) through bastion ${escape(cluster.address(bastion))} to [^:]+: state not refreshed`,
        ),
      );
    }
    expect(out).toMatch(/the bastion is down or unreachable/);
    expect(out).not.toMatch(new RegExp(`Cannot reach node ${direct}`));
    expect(out).not.toMatch(/has been deleted/);
    expect(await stateValues()).toEqual(state);
  } finally {
    await startSshd(cluster.lab, bastion);
  }
  const plan = await cluster.plan();
  if (plan.code !== 0) throw new Error(describeCommand(plan));
});

/** Runs one script on `target` through a fresh SshPool in the operator namespace; the answer or the error. */
async function poolRun(target: Record<string, unknown>): Promise<{
  code?: number;
  stdout?: string;
  kind?: string;
  message?: string;
  through?: unknown;
  stats: Record<string, number>;
}> {
  const pool = path.join(__dirname, '..', '..', 'dist', 'providers', 'ssh', 'pool.js');
  const full = {
    port: 22,
    user: 'root',
    privateKeyPath: cluster.lab.clientKeyPath,
    knownHostsPath: cluster.lab.knownHostsPath,
    sudo: false,
    ...target,
  };
  const program = `
    const { SshPool } = require(${JSON.stringify(pool)});
    const pool = new SshPool({ connectRetries: 0, connectTimeoutMs: 5000 });
    pool.host(${JSON.stringify(full)}, 'probe').run('echo "$SSH_CLIENT"')
      .then((r) => r, (e) => ({ kind: e.kind, message: e.message, through: e.through }))
      .then(async (a) => { process.stdout.write(JSON.stringify({ ...a, stats: pool.stats() })); await pool.close(); });`;
  const r = await operatorExec(cluster.lab, [process.execPath, '-e', program], { env: { SSH_AUTH_SOCK: '' } });
  if (r.code !== 0) throw new Error(`probe failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

test('a chain of two hops; a bastion that refuses the login stops before the node', async () => {
  const hop = (node: string, user = 'root') => ({ host: cluster.address(node), port: 22, user });
  const chained = await poolRun({ host: cluster.address(viaInventory), jumps: [hop(bastion), hop(direct)] });
  expect(chained.code).toBe(0);
  // The node saw the last hop; each host was connected to once.
  expect(chained.stdout).toMatch(new RegExp(`^${escape(cluster.address(direct))} \\d+ 22`));
  expect(Object.values(chained.stats)).toEqual([1, 1, 1]);

  const start = logSize(viaInventory);
  const refused = await poolRun({ host: cluster.address(viaInventory), jumps: [hop(bastion, 'nobody-here')] });
  expect(refused.kind).toBe('auth');
  expect(refused.through).toEqual({ bastion: cluster.address(bastion), failed: 'bastion' });
  expect(refused.message).toContain(
    `through bastion ${cluster.address(bastion)}: the bastion did not accept the login`,
  );
  expect(logSince(viaInventory, start)).toBe('');
});

test('terraform import behind the bastion: the id names it after " via ", every login comes from it', async () => {
  const agent = await operatorAgent(cluster, 'import');
  try {
    const importEnv = { ...cluster.env, ...agent.env };
    const terraform = (args: string[]) =>
      operatorExec(cluster.lab, ['terraform', ...args], { cwd: cluster.stackDir, env: importEnv });

    const state = await stateValues();
    const ours = Object.entries(state).filter(
      ([address, v]) =>
        /^calico_(node|workload)\./.test(address) && (v.name === viaInventory || v.node_name === viaInventory),
    );
    expect(ours.map(([address]) => address.split('.')[0]).sort()).toEqual(['calico_node', 'calico_workload']);
    mustSucceed(await terraform(['state', 'rm', ...ours.map(([address]) => address)]));

    const jump = `root@${cluster.address(bastion)}`;
    const start = logSize(viaInventory);
    for (const [address, v] of ours) {
      const subject = address.startsWith('calico_node.') ? String(v.name) : `${v.node_name}/${v.name}`;
      mustSucceed(
        await terraform([
          'import',
          '-input=false',
          '-no-color',
          address,
          `${subject}@${cluster.address(viaInventory)} via ${jump}`,
        ]),
      );
    }
    // The operator cannot reach node3: every import login went through the bastion.
    const log = logSince(viaInventory, start);
    expect(log).toMatch(new RegExp(`Accepted publickey for root from ${escape(cluster.address(bastion))} port \\d+`));
    expect(log).not.toContain(cluster.lab.operator.address);

    const after = await stateValues();
    for (const [address, v] of ours) {
      const { ssh: _s, original_ip_forward: _o, ...was } = v;
      const { ssh, original_ip_forward: _o2, ...now } = after[address];
      expect({ address, now }).toEqual({ address, now: was });
      expect(ssh).toMatchObject({ host: cluster.address(viaInventory), proxy_jump: jump, private_key_path: null });
    }
    // The next apply records the configuration's key path (its refresh still reads through the
    // imported ssh block, with the agent, as the import did).
    mustSucceed(await terraform(['apply', '-input=false', '-no-color', '-auto-approve']));
  } finally {
    agent.stop();
  }
  // From here on the recorded settings suffice: no agent, no ~/.ssh.
  const plan = await cluster.plan();
  if (plan.code !== 0) throw new Error(`plan after import + deploy is not empty:\n${describeCommand(plan)}`);
});

test("a bastion that takes only its own key: each hop logs in with the key proxyJumpKeys or ssh_config's IdentityFile gives it", async () => {
  const bastionKey = path.join(cluster.root, 'bastion_ed25519');
  const keygen = await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bastion-only', '-f', bastionKey]);
  if (keygen.code !== 0) throw new Error(`ssh-keygen: ${keygen.stderr}`);
  const fingerprint = async (pub: string) => (await run('ssh-keygen', ['-lf', pub])).stdout.split(' ')[1];
  const restartBastion = async (keys: string[]) => {
    await stopSshd(cluster.lab, bastion);
    await startSshd(cluster.lab, bastion, { authorizedKeys: keys });
  };

  // The new key goes in while the old one still works: a refresh reads with the settings in the
  // state, so the deploy that records the hop keys must still get through with the node's key.
  await restartBastion([`${cluster.lab.clientKeyPath}.pub`, `${bastionKey}.pub`]);
  const inventory = parseYaml(fs.readFileSync(cluster.lab.inventoryPath, 'utf8'));
  inventory.nodes = inventory.nodes.map((n: { name: string; ssh?: object }) =>
    n.name === viaInventory ? { ...n, ssh: { ...n.ssh, proxyJumpKeys: [bastionKey] } } : n,
  );
  fs.writeFileSync(cluster.lab.inventoryPath, toYaml(inventory));
  const sshConfig = path.join(cluster.root, 'ssh_config');
  fs.writeFileSync(
    sshConfig,
    fs.readFileSync(sshConfig, 'utf8').replace('Host bastion\n', `Host bastion\n  IdentityFile ${bastionKey}\n`),
  );
  mustSucceed(await cluster.deploy());
  const state = await stateValues();
  for (const node of behind()) {
    const ssh = Object.values(state).find((v) => v.name === node && v.ssh)!.ssh;
    expect({ node, keys: ssh.proxy_jump_keys, key: ssh.private_key_path }).toEqual({
      node,
      keys: [bastionKey],
      key: cluster.lab.clientKeyPath,
    });
  }
  expect(Object.values(state).find((v) => v.name === viaSshConfig && v.ssh)!.ssh.from_ssh_config).toContain(
    'IdentityFile',
  );

  // Now the bastion takes its own key only. The node's key is refused there...
  await restartBastion([`${bastionKey}.pub`]);
  const hop = { host: cluster.address(bastion), port: 22, user: 'root' };
  const refused = await poolRun({ host: cluster.address(viaInventory), jumps: [hop] });
  expect(refused.message).toContain('the bastion did not accept the login');
  const reached = await poolRun({
    host: cluster.address(viaInventory),
    jumps: [{ ...hop, privateKeyPath: bastionKey }],
  });
  expect(reached.code).toBe(0);
  // ...and the plan reads both nodes behind it with the hop key, and the nodes with theirs.
  const start = logSize(bastion);
  const nodeStarts = Object.fromEntries(behind().map((n) => [n, logSize(n)]));
  const plan = await cluster.plan();
  if (plan.code !== 0) throw new Error(`not converged:\n${describeCommand(plan)}`);
  const bastionLog = logSince(bastion, start);
  expect(bastionLog).toContain(`ED25519 ${await fingerprint(`${bastionKey}.pub`)}`);
  expect(bastionLog).not.toContain(await fingerprint(`${cluster.lab.clientKeyPath}.pub`));
  for (const node of behind())
    expect(logSince(node, nodeStarts[node])).toContain(
      `ED25519 ${await fingerprint(`${cluster.lab.clientKeyPath}.pub`)}`,
    );
});

test("ssh_config's nested ProxyJump: node4 through a hop that itself goes through the bastion", async () => {
  // Host mid is the directly reached node, and says ProxyJump bastion of itself; node4's alias
  // now names mid: OpenSSH (and we) go bastion, then mid, then node4.
  const sshConfig = path.join(cluster.root, 'ssh_config');
  const text = fs.readFileSync(sshConfig, 'utf8');
  fs.writeFileSync(
    sshConfig,
    text
      .replace(
        `Host ${viaSshConfig}-behind\n`,
        `Host mid\n  HostName ${cluster.address(direct)}\n  ProxyJump bastion\nHost ${viaSshConfig}-behind\n`,
      )
      .replace(
        new RegExp(`(Host ${viaSshConfig}-behind\n  HostName \\S+\n)  ProxyJump bastion\n`),
        '$1  ProxyJump mid\n',
      ),
  );
  mustSucceed(await cluster.deploy());
  const ssh = Object.values(await stateValues()).find((v) => v.name === viaSshConfig && v.ssh)!.ssh;
  expect(ssh.proxy_jump).toBe(`root@${cluster.address(bastion)},${cluster.address(direct)}`);

  const start = logSize(viaSshConfig);
  const midStart = logSize(direct);
  const plan = await cluster.plan();
  if (plan.code !== 0) throw new Error(`not converged:\n${describeCommand(plan)}`);
  // node4 saw mid, and mid (besides the operator, for its own resources) saw the bastion.
  const log = logSince(viaSshConfig, start);
  expect(log).toMatch(new RegExp(`Accepted publickey for root from ${escape(cluster.address(direct))} port \\d+`));
  expect(log).not.toContain(`from ${cluster.address(bastion)} `);
  expect(logSince(direct, midStart)).toMatch(
    new RegExp(`Accepted publickey for root from ${escape(cluster.address(bastion))} port \\d+`),
  );
});

test('destroy through the bastion leaves the nodes behind it as they were', async () => {
  mustSucceed(await cluster.destroy());
  for (const node of behind()) expect(await cluster.snapshot(node)).toEqual(before.get(node));
});
