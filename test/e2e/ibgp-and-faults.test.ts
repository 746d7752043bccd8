/**
 * A 3-node iBGP cluster (one AS, full mesh), then the faults a user meets: a node whose sshd is
 * down (the others are applied, the failure names the node, a re-run converges) and a node that
 * presents a different host key (refused before any command runs there).
 */
import * as fs from 'fs';
import * as path from 'path';
import { CommandResult, describeCommand, E2eCluster, hostInterfaceOf } from './cluster';
import { startSshd, stopSshd, replaceHostKey } from '../../lab';

let cluster: E2eCluster;

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: 11, nodes: 3, asMode: 'ibgp' });
});

afterAll(async () => {
  await cluster?.down();
});

async function expectConverged(): Promise<void> {
  const sessions = await cluster.waitForSessions(() => 2);
  for (const node of cluster.nodeNames) {
    expect(sessions.get(node)!.filter((s) => s.established)).toHaveLength(2);
  }
  await cluster.expectRoutesConverged();
  const pings = await cluster.pingAll();
  expect(pings.filter((p) => !p.ok)).toEqual([]);
  expect(pings).toHaveLength(6);
}

test('iBGP full mesh: deploy converges, and a second plan is empty', async () => {
  const deploy = await cluster.deploy();
  if (deploy.code !== 0) throw new Error(describeCommand(deploy));
  await expectConverged();
  expect((await cluster.plan()).code).toBe(0);
});

test('sshd down on one node: deploy fails naming it, the others are applied, a re-run converges', async () => {
  // Drift on every node, so each needs a real apply.
  for (const node of cluster.nodeNames) {
    expect((await cluster.exec(node, ['sysctl', '-w', 'net.ipv4.ip_forward=0'])).code).toBe(0);
  }
  await stopSshd(cluster.lab, 'node2');
  try {
    const failed = await cluster.deploy();
    expect(failed.code).not.toBe(0);
    // The provider's own words for a host that does not answer, not just a resource address.
    expect(unwrapped(failed)).toMatch(/Error: Cannot reach node node2 \(198\.18\.11\.2\)/);
    for (const node of ['node1', 'node3']) {
      expect((await cluster.exec(node, ['sysctl', '-n', 'net.ipv4.ip_forward'])).stdout.trim()).toBe('1');
    }
    expect((await cluster.exec('node2', ['sysctl', '-n', 'net.ipv4.ip_forward'])).stdout.trim()).toBe('0');
  } finally {
    await startSshd(cluster.lab, 'node2');
  }
  const rerun = await cluster.deploy();
  if (rerun.code !== 0) throw new Error(describeCommand(rerun));
  expect((await cluster.plan()).code).toBe(0);
  await expectConverged();
});

/** Terraform's output with its diagnostic boxes' line wrapping undone (wraps fall on spaces). */
function unwrapped(r: CommandResult): string {
  return (r.stdout + r.stderr).replace(/[ \t]*\r?\n[│╷╵ \t]*/g, ' ');
}

/** sshd's log of a node (sshd -D -e writes it there), from byte `from` on. */
function sshdLogSince(node: string, from: number): string {
  return fs.readFileSync(sshdLog(node)).subarray(from).toString('utf8');
}

function sshdLog(node: string): string {
  return path.join(cluster.lab.dir, node, 'sshd.log');
}

test('a node presenting a different host key is refused before any command runs on it', async () => {
  const [w] = cluster.workloads().filter((x) => x.node === 'node3');
  const veth = await hostInterfaceOf(cluster, w.name);
  // Drift the deploy would repair if it ran anything on node3.
  expect((await cluster.exec('node3', ['sysctl', '-w', `net.ipv4.conf.${veth}.proxy_arp=0`])).code).toBe(0);
  await replaceHostKey(cluster.lab, 'node3');
  const logStart = { node1: fs.statSync(sshdLog('node1')).size, node3: fs.statSync(sshdLog('node3')).size };

  const refused = await cluster.deploy();
  expect(refused.code).not.toBe(0);
  const out = unwrapped(refused);
  expect(out).toMatch(/Refused to work on node node3 \(198\.18\.11\.3\)/);
  expect(out).toMatch(
    /host key for 198\.18\.11\.3 has CHANGED: expected SHA256:[A-Za-z0-9+/]{43}, offered SHA256:[A-Za-z0-9+/]{43}/,
  );
  expect(out).not.toMatch(/Cannot reach node node3/);

  // Before any command: node3's sshd saw the operator connect and go away during key exchange,
  // and never accepted a login (no login, so no session and no command). The same log on node1,
  // which the same deploy did log in to, shows what a login looks like.
  const node3Log = sshdLogSince('node3', logStart.node3);
  expect(node3Log).toMatch(/198\.18\.11\.254 port \d+/);
  expect(node3Log).not.toMatch(/Accepted publickey|session opened|Starting session/i);
  expect(sshdLogSince('node1', logStart.node1)).toMatch(/Accepted publickey for root from 198\.18\.11\.254/);
  expect((await cluster.exec('node3', ['sysctl', '-n', `net.ipv4.conf.${veth}.proxy_arp`])).stdout.trim()).toBe('0');
});
