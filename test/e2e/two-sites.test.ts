/**
 * Issue 28, item 1 (hostile): two "sites" whose nodes share an address, each behind its own
 * bastion. Lab 81 is site A (node1 = bastion A, node2 = the site's node), lab 82 site B (the
 * same). Both site nodes also answer SSH at 198.18.84.5, which only their own bastion routes to
 * them; the operator (lab 81's) reaches both bastions and never 198.18.84.5 itself. One
 * known_hosts holds both sites' keys for 198.18.84.5 and one client key logs in everywhere, so
 * only the bastion tells the two hosts apart, as when a company's racks reuse private ranges.
 *
 * The cluster has the two site nodes (`siteA` and `siteB`, sshHost 198.18.84.5 each, proxyJump
 * their own bastion). Each node's state must be read from its own host: after a deploy the plan
 * is empty (a read of one site answering for the other shows the other's bird.conf, blackhole
 * and workload as drift), and a change by hand on site B shows as drift of site B's resources
 * only. On main before issue 28 the host snapshot was keyed by user@host:port, so both nodes got
 * one snapshot: this suite fails there.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { labDown, labUp, LabInfo, nodeExec, operatorExec, startSshd, stopSshd } from '../../lab';
import { run } from '../../lab/process';
import { CommandResult, describeCommand, E2eCluster } from './cluster';

const SHARED = '198.18.84.5';
let cluster: E2eCluster;
let siteB: LabInfo;

function mustSucceed(r: CommandResult, what: string): CommandResult {
  if (r.code !== 0) throw new Error(`${what}\n${describeCommand(r)}`);
  return r;
}

async function must(cmd: string, args: string[]): Promise<void> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.stdout}`);
}

const hostKeyLine = (lab: LabInfo, node: string, as: string) => {
  const pub = fs
    .readFileSync(path.join(lab.dir, node, 'ssh_host_ed25519_key.pub'), 'utf8')
    .trim()
    .split(' ');
  return `${as} ${pub[0]} ${pub[1]}`;
};

/** Site node `node2` of a lab also answers at SHARED, reached only through its bastion `node1`. */
async function shareAddress(lab: LabInfo, authorizedKeys: string[]): Promise<void> {
  const [bastion, site] = lab.nodes;
  await must('ip', ['-n', site.netns, 'addr', 'add', `${SHARED}/32`, 'dev', 'lo']);
  await must('ip', ['-n', bastion.netns, 'route', 'add', `${SHARED}/32`, 'via', site.address]);
  for (const node of [bastion.name, site.name]) {
    await stopSshd(lab, node);
    await startSshd(lab, node, { authorizedKeys, listenAddresses: node === site.name ? [SHARED] : [] });
  }
}

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: 81, nodes: 2, asMode: 'ebgp' });
  siteB = await labUp({ dir: path.join(cluster.root, 'site-b'), id: 82, nodes: 2 });
  const siteA = cluster.lab;
  const key = [`${siteA.clientKeyPath}.pub`];
  await shareAddress(siteA, key);
  await shareAddress(siteB, key);

  // The operator of site A also sits on site B's segment (bastion B is reachable, its node is not).
  await must('ip', [
    '-n',
    siteB.switchNetns,
    'link',
    'add',
    'popA',
    'type',
    'veth',
    'peer',
    'name',
    'eth1',
    'netns',
    siteA.operator.netns,
  ]);
  await must('ip', ['-n', siteB.switchNetns, 'link', 'set', 'popA', 'master', 'br0', 'up']);
  await must('ip', ['-n', siteA.operator.netns, 'addr', 'add', '198.18.82.253/24', 'dev', 'eth1']);
  await must('ip', ['-n', siteA.operator.netns, 'link', 'set', 'eth1', 'up']);

  fs.writeFileSync(
    siteA.knownHostsPath,
    [
      hostKeyLine(siteA, 'node1', siteA.nodes[0].address),
      hostKeyLine(siteB, 'node1', siteB.nodes[0].address),
      hostKeyLine(siteA, 'node2', SHARED),
      hostKeyLine(siteB, 'node2', SHARED),
      '',
    ].join('\n'),
  );
  const inventory = parseYaml(fs.readFileSync(siteA.inventoryPath, 'utf8'));
  inventory.nodes = [
    {
      name: 'siteA',
      address: siteA.nodes[1].address,
      asNumber: 64501,
      sshHost: SHARED,
      podCidr: '198.19.1.0/24',
      ssh: { proxyJump: `root@${siteA.nodes[0].address}` },
      workloads: [{ name: 'wa', ip: '198.19.1.2' }],
    },
    {
      name: 'siteB',
      address: siteB.nodes[1].address,
      asNumber: 64502,
      sshHost: SHARED,
      podCidr: '198.19.2.0/24',
      ssh: { proxyJump: `root@${siteB.nodes[0].address}` },
      workloads: [{ name: 'wb', ip: '198.19.2.2' }],
    },
  ];
  fs.writeFileSync(siteA.inventoryPath, toYaml(inventory));
}, 300_000);

afterAll(async () => {
  if (siteB) await labDown(siteB.dir);
  await cluster?.down();
});

const siteExec = (lab: LabInfo, argv: string[]) => nodeExec(lab, 'node2', argv);

test('the operator reaches both bastions but not the shared address; each bastion reaches its own site there', async () => {
  const tcp = (target: string) =>
    operatorExec(cluster.lab, ['timeout', '5', 'bash', '-c', `exec 3<>/dev/tcp/${target}/22`]);
  expect((await tcp(cluster.lab.nodes[0].address)).code).toBe(0);
  expect((await tcp(siteB.nodes[0].address)).code).toBe(0);
  expect((await tcp(SHARED)).code).not.toBe(0);
});

test('deploy puts each node on its own host, and the plan after it is empty', async () => {
  mustSucceed(await cluster.deploy(), 'deploy');
  // Each site's host holds its own node's objects, and nothing of the other.
  const a = await siteExec(cluster.lab, ['ip', '-4', 'route', 'show', 'table', 'main']);
  const b = await siteExec(siteB, ['ip', '-4', 'route', 'show', 'table', 'main']);
  expect(a.stdout).toMatch(/^blackhole 198\.19\.1\.0\/24 proto 211/m);
  expect(a.stdout).not.toMatch(/198\.19\.2\.0\/24/);
  expect(b.stdout).toMatch(/^blackhole 198\.19\.2\.0\/24 proto 211/m);
  expect(b.stdout).not.toMatch(/198\.19\.1\.0\/24/);
  expect((await siteExec(cluster.lab, ['ip', 'netns', 'list'])).stdout).toMatch(/^wa\b/m);
  expect((await siteExec(siteB, ['ip', 'netns', 'list'])).stdout).toMatch(/^wb\b/m);
  expect((await siteExec(cluster.lab, ['cat', '/etc/bird/bird.conf'])).stdout).toContain(
    `router id ${cluster.lab.nodes[1].address};`,
  );
  expect((await siteExec(siteB, ['cat', '/etc/bird/bird.conf'])).stdout).toContain(
    `router id ${siteB.nodes[1].address};`,
  );

  // Read back: every resource from its own host. A shared read would show one site's facts
  // (another bird.conf, no workload of that name, another blackhole) as drift of the other.
  for (let i = 0; i < 2; i++) {
    const plan = await cluster.plan();
    if (plan.code !== 0) throw new Error(`plan ${i + 1} after deploy is not empty:\n${describeCommand(plan)}`);
  }
}, 600_000);

test("a change by hand on site B is drift of site B's resources only", async () => {
  // Site B's workload loses its host route; site A's identical-looking host is untouched.
  const r = await siteExec(siteB, ['ip', 'route', 'del', '198.19.2.2/32']);
  expect(r.code).toBe(0);
  const plan = await cluster.terraform(['plan', '-refresh-only', '-json', '-input=false', '-no-color']);
  expect(plan.code).toBe(0);
  const drifted = plan.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((m) => m.type === 'resource_drift')
    .map((m) => m.change.resource.addr as string);
  expect(drifted.length).toBeGreaterThan(0);
  expect({ drifted, allOfSiteB: drifted.every((addr) => /siteB|wb/i.test(addr)) }).toEqual({
    drifted,
    allOfSiteB: true,
  });

  mustSucceed(await cluster.deploy(), 'deploy repairing site B');
  expect((await siteExec(siteB, ['ip', 'route', 'show', '198.19.2.2/32'])).stdout).toMatch(/dev cali/);
  const empty = await cluster.plan();
  if (empty.code !== 0) throw new Error(describeCommand(empty));
}, 600_000);

test('destroy empties both hosts, each of its own objects', async () => {
  mustSucceed(await cluster.destroy(), 'destroy');
  for (const lab of [cluster.lab, siteB]) {
    expect((await siteExec(lab, ['ip', 'netns', 'list'])).stdout.trim()).toBe('');
    expect((await siteExec(lab, ['ip', '-4', 'route', 'show', 'proto', '211'])).stdout.trim()).toBe('');
    expect((await siteExec(lab, ['cat', '/etc/bird/bird.conf'])).stdout).toBe(
      `router id ${lab.nodes[1].address};\nprotocol device {\n}\n`,
    );
  }
}, 600_000);
