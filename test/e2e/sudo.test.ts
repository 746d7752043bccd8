/**
 * The whole life cycle as a non-root SSH user with `sudo: true`, through real cdktf/terraform:
 * deploy, drift repair and destroy, every script run through `sudo -n` (bird.conf travelling on
 * the script's standard input). The user exists only inside each node's mount namespace (its own
 * passwd, group, shadow and sudoers bound over /etc), the way test/ssh/pool.test.ts builds it.
 * sshd's log proves every login was that user and none was root.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { missingPrerequisites } from '../../lab';
import { describeCommand, E2eCluster, NodeSnapshot } from './cluster';

const USER = 'calico-admin';
let cluster: E2eCluster;
const before = new Map<string, NodeSnapshot>();
const logStart = new Map<string, number>();

const sshdLog = (node: string) => path.join(cluster.lab.dir, node, 'sshd.log');
const logSinceStart = (node: string) => fs.readFileSync(sshdLog(node)).subarray(logStart.get(node)).toString('utf8');

/** A login user that exists only inside the node, allowed to run anything as root without a password. */
async function addNodeUser(node: string): Promise<void> {
  const d = path.join(cluster.root, `etc-${node}`);
  fs.mkdirSync(d);
  const files: [string, string][] = [
    ['passwd', `${USER}:x:4343:4343::/tmp:/bin/bash\n`],
    ['group', `${USER}:x:4343:\n`],
    ['shadow', `${USER}:*:19000:0:99999:7:::\n`],
  ];
  for (const [name, line] of files) {
    fs.writeFileSync(path.join(d, name), fs.readFileSync(`/etc/${name}`, 'utf8') + line);
    fs.chmodSync(path.join(d, name), name === 'shadow' ? 0o640 : 0o644);
  }
  // The host's own sudoers (Debian's sets secure_path, which puts /usr/sbin, where bird lives,
  // on the PATH of commands run through sudo) plus the user's rule.
  fs.writeFileSync(
    path.join(d, 'sudoers'),
    `${fs.readFileSync('/etc/sudoers', 'utf8')}\n${USER} ALL=(root) NOPASSWD: ALL\n`,
  );
  fs.chmodSync(path.join(d, 'sudoers'), 0o440);
  for (const name of ['passwd', 'group', 'shadow', 'sudoers']) {
    const r = await cluster.exec(node, ['mount', '--bind', path.join(d, name), `/etc/${name}`]);
    if (r.code !== 0) throw new Error(`bind ${name} on ${node}: ${r.stderr}`);
  }
}

beforeAll(async () => {
  const missing = missingPrerequisites('lab', ['sudo']);
  if (missing.length > 0) throw new Error(`prerequisites missing:\n  - ${missing.join('\n  - ')}`);
  cluster = await E2eCluster.up({ id: 17, nodes: 2, asMode: 'ibgp' });
  // sshd reads the authorized keys (the lab's client .pub) as the logging-in user: let it
  // traverse the test's private temp dir (the private key itself stays 0600).
  fs.chmodSync(cluster.root, 0o711);
  for (const node of cluster.nodeNames) {
    await addNodeUser(node);
    // A known starting value that deploy changes and destroy must restore.
    expect((await cluster.exec(node, ['sysctl', '-w', 'net.ipv4.ip_forward=0'])).code).toBe(0);
    before.set(node, await cluster.snapshot(node));
    logStart.set(node, fs.statSync(sshdLog(node)).size);
  }
  const inventory = parseYaml(fs.readFileSync(cluster.lab.inventoryPath, 'utf8'));
  inventory.ssh = { ...inventory.ssh, user: USER, sudo: true };
  fs.writeFileSync(cluster.lab.inventoryPath, toYaml(inventory));
});

afterAll(async () => {
  await cluster?.down();
});

/** Every login the provider made on the node since the test began was USER; none was root. */
function expectOnlyUserLogins(node: string): void {
  const log = logSinceStart(node);
  expect(log).toMatch(new RegExp(`Accepted publickey for ${USER} from 198\\.18\\.17\\.254`));
  expect(log).not.toMatch(/Accepted publickey for root/);
}

test('deploy as a non-root user through sudo -n: routes, pings, root-owned bird.conf with our content', async () => {
  const deploy = await cluster.deploy();
  if (deploy.code !== 0) throw new Error(describeCommand(deploy));
  await cluster.waitForSessions(() => 1);
  await cluster.expectRoutesConverged();
  const pings = await cluster.pingAll();
  expect(pings).toHaveLength(2);
  expect(pings.filter((p) => !p.ok)).toEqual([]);
  for (const node of cluster.nodeNames) {
    const conf = await cluster.exec(node, ['stat', '-c', '%U:%G %a', '/etc/bird/bird.conf']);
    expect(conf.stdout.trim()).toBe('root:root 644');
    const content = (await cluster.exec(node, ['cat', '/etc/bird/bird.conf'])).stdout;
    expect(content).toMatch(new RegExp(`router id ${cluster.address(node).replace(/\./g, '\\.')};`));
    expect(content).toMatch(/protocol bgp Mesh_/);
    expect((await cluster.exec(node, ['sysctl', '-n', 'net.ipv4.ip_forward'])).stdout.trim()).toBe('1');
    expectOnlyUserLogins(node);
  }
  expect((await cluster.plan()).code).toBe(0);
});

test('drift is planned and repaired through sudo', async () => {
  expect((await cluster.exec('node1', ['sysctl', '-w', 'net.ipv4.ip_forward=0'])).code).toBe(0);
  expect((await cluster.sh('node2', "printf '# by hand 77a1\\n' >> /etc/bird/bird.conf")).code).toBe(0);
  const plan = await cluster.plan();
  expect(plan.code).toBe(2);
  expect(plan.stdout).toMatch(/ip_forward\s+= "0" -> "1"/);
  expect(plan.stdout).toMatch(/^\s+- # by hand 77a1$/m);
  const deploy = await cluster.deploy();
  if (deploy.code !== 0) throw new Error(describeCommand(deploy));
  const after = await cluster.plan();
  if (after.code !== 0) throw new Error(`still drifting after deploy:\n${describeCommand(after)}`);
  expect((await cluster.exec('node2', ['cat', '/etc/bird/bird.conf'])).stdout).not.toContain('77a1');
  for (const node of cluster.nodeNames) expectOnlyUserLogins(node);
});

test('destroy through sudo leaves every node as it was', async () => {
  const destroy = await cluster.destroy();
  if (destroy.code !== 0) throw new Error(describeCommand(destroy));
  for (const node of cluster.nodeNames) {
    expect(await cluster.snapshot(node)).toEqual(before.get(node));
    expectOnlyUserLogins(node);
  }
});
