/**
 * The namespace lab itself: real sshd reachable from the operator namespace with the lab's key
 * and known_hosts, bird answering inside each node, per-node /run/netns, /run and /root, the
 * kernel's neighbour table raised, and a teardown that
 * leaves no namespace or process behind.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { labDown, labUp, nodeExec, operatorExec, LabInfo } from '../../lab';
import { NEIGHBOUR_TABLE } from '../../lab/lab';
import { run } from '../../lab/process';
import { assertE2ePrerequisites } from '../e2e/prerequisites';

let lab: LabInfo;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-labtest-'));

beforeAll(async () => {
  await assertE2ePrerequisites();
  lab = await labUp({ dir, nodes: 2, id: 201 });
});

afterAll(async () => {
  await labDown(dir);
  fs.rmSync(dir, { recursive: true, force: true });
});

const ssh = (address: string, command: string) =>
  operatorExec(lab, [
    'ssh',
    '-i',
    lab.clientKeyPath,
    '-o',
    `UserKnownHostsFile=${lab.knownHostsPath}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    `root@${address}`,
    command,
  ]);

test('every node answers over SSH from the operator, with strict host key checking', async () => {
  for (const node of lab.nodes) {
    const r = await ssh(node.address, 'ip -4 -o addr show dev eth0');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`inet ${node.address}/24`);
  }
});

test('bird runs in every node on its own socket and config', async () => {
  for (const node of lab.nodes) {
    const r = await nodeExec(lab, node.name, ['birdc', '-s', '/run/bird/bird.ctl', 'show', 'status']);
    expect(r.stdout).toContain(`Router ID is ${node.address}`);
  }
});

test('network namespaces made over SSH are local to that node', async () => {
  expect((await ssh(lab.nodes[0].address, 'ip netns add probe && ip netns list')).stdout).toContain('probe');
  expect((await nodeExec(lab, lab.nodes[1].name, ['ip', 'netns', 'list'])).stdout).not.toContain('probe');
  expect((await run('ip', ['netns', 'list'])).stdout).not.toContain('probe');
});

test("every node has its own, empty home: a login runs none of this machine's ~/.bashrc", async () => {
  for (const node of lab.nodes) {
    const r = await ssh(node.address, 'echo "$HOME"; ls -A /root');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('/root\n');
  }
  // What one node writes in its home, another does not see.
  expect((await ssh(lab.nodes[0].address, 'touch /root/mark && ls -A /root')).stdout).toBe('mark\n');
  expect((await ssh(lab.nodes[1].address, 'ls -A /root')).stdout).toBe('');
  expect(fs.existsSync('/root/mark')).toBe(false);
});

test('every node has its own /run: a tmpfs holding only what its daemons need', async () => {
  for (const node of lab.nodes) {
    const r = await nodeExec(lab, node.name, ['sh', '-c', 'stat -f -c %T /run; ls /run']);
    expect(r.stdout.split('\n')[0]).toBe('tmpfs');
    expect(r.stdout).toMatch(/^bird$/m);
    expect(r.stdout).toMatch(/^calico-net$/m);
    expect(r.stdout).toMatch(/^sshd$/m);
  }
  expect(
    (await ssh(lab.nodes[0].address, 'echo one > /run/calico-net/probe && cat /run/calico-net/probe')).stdout,
  ).toBe('one\n');
  expect((await ssh(lab.nodes[1].address, 'ls /run/calico-net')).stdout).toBe('');
  expect(fs.existsSync('/run/calico-net/probe')).toBe(false);
});

test("the shared kernel's neighbour table has room for every node pair: nodes resolve each other by ARP", async () => {
  for (const family of ['ipv4', 'ipv6']) {
    for (const [name, value] of Object.entries(NEIGHBOUR_TABLE)) {
      expect(Number(fs.readFileSync(`/proc/sys/net/${family}/neigh/default/${name}`, 'utf8'))).toBeGreaterThanOrEqual(
        value,
      );
    }
  }
  const [a, b] = lab.nodes;
  expect((await nodeExec(lab, a.name, ['ping', '-c', '1', '-W', '2', b.address])).code).toBe(0);
  const neigh = await nodeExec(lab, a.name, ['ip', 'neigh', 'show', b.address, 'dev', 'eth0']);
  expect(neigh.stdout).toMatch(
    new RegExp(`^${b.address.replace(/\./g, '\\.')} lladdr \\S+ (REACHABLE|STALE|DELAY|PROBE)`),
  );
});

test('a lab dir inside /root stays readable by the nodes (their sshd keys live there) while their /root is empty', async () => {
  const under = fs.mkdtempSync('/root/.calico-labtest-');
  const inner = path.join(under, 'lab');
  try {
    const small = await labUp({ dir: inner, nodes: 1, id: 102 });
    const node = small.nodes[0];
    const r = await operatorExec(small, [
      'ssh',
      '-i',
      small.clientKeyPath,
      '-o',
      `UserKnownHostsFile=${small.knownHostsPath}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'BatchMode=yes',
      `root@${node.address}`,
      `ls -A /root; ls ${inner}`,
    ]);
    expect(r.code).toBe(0);
    // Only the directories leading to the lab dir, nothing of this machine's home.
    expect(r.stdout.split('\n')[0]).toBe(path.basename(under));
    expect(r.stdout).toMatch(/^lab\.json$/m);
  } finally {
    await labDown(inner);
    fs.rmSync(under, { recursive: true, force: true });
  }
});

test('lab down removes every namespace and process of the lab, and is idempotent', async () => {
  const pids = lab.nodes.flatMap((n) => [n.holderPid, n.sshdPid, n.birdPid]);
  await labDown(dir);
  await labDown(dir);
  expect((await run('ip', ['netns', 'list'])).stdout).not.toMatch(/cn201-/);
  for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
});
