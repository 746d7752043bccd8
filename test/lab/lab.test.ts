/**
 * The namespace lab itself: real sshd reachable from the operator namespace with the lab's key
 * and known_hosts, bird answering inside each node, per-node /run/netns, and a teardown that
 * leaves no namespace or process behind.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { labDown, labUp, nodeExec, operatorExec, LabInfo } from '../../lab';
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
  operatorExec(lab, ['ssh', '-i', lab.clientKeyPath, '-o', `UserKnownHostsFile=${lab.knownHostsPath}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', `root@${address}`, command]);

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

test('lab down removes every namespace and process of the lab, and is idempotent', async () => {
  const pids = lab.nodes.flatMap((n) => [n.holderPid, n.sshdPid, n.birdPid]);
  await labDown(dir);
  await labDown(dir);
  expect((await run('ip', ['netns', 'list'])).stdout).not.toMatch(/cn201-/);
  for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
});
