/**
 * Destroy without its refresh's logins (issue 29 item 3), through real cdktf, terraform and
 * sshd on lab 151. Terraform's pre-destroy refresh ran in a provider process of its own and
 * logged into every host once more than the deploy did; now a process serving a destroy answers
 * reads with the stored state and only the deletes log in, and they still look at the host:
 * - one SSH connection per host over the whole destroy (it was two);
 * - what we did not create is left, even where ours was (a hand-made blackhole route for the
 *   node's block in place of ours);
 * - a host that is away fails the destroy naming it, its objects stay in state and on the
 *   host, the other host is torn down; once it is back, a destroy finishes the job;
 * - every host ends as it was before the first deploy.
 */
import * as fs from 'fs';
import * as path from 'path';
import { startSshd, stopSshd } from '../../lab';
import { CommandResult, describeCommand, E2eCluster, NodeSnapshot } from './cluster';

let cluster: E2eCluster;
const before = new Map<string, NodeSnapshot>();

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: 151, nodes: 2, asMode: 'ibgp' });
  for (const node of cluster.nodeNames) before.set(node, await cluster.snapshot(node));
  const deploy = await cluster.deploy();
  if (deploy.code !== 0) throw new Error(describeCommand(deploy));
});

afterAll(async () => {
  await cluster?.down();
});

interface StatsLine {
  connections: Record<string, number>;
  scripts?: Record<string, number>;
}

/** cdktf destroy with the provider's stats on: one line per provider process. */
async function destroyCounted(name: string): Promise<{ result: CommandResult; lines: StatsLine[] }> {
  const file = path.join(cluster.root, `stats-${name}.jsonl`);
  cluster.extraEnv = { CALICO_PROVIDER_STATS: file };
  try {
    const result = await cluster.destroy();
    const lines = fs.existsSync(file)
      ? fs
          .readFileSync(file, 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as StatsLine)
      : [];
    return { result, lines };
  } finally {
    cluster.extraEnv = {};
  }
}

/** Connections opened to a host, summed over the command's provider processes. */
const connectionsTo = (lines: StatsLine[], address: string) =>
  lines.reduce(
    (n, l) =>
      n + Object.entries(l.connections).reduce((m, [login, c]) => m + (login.includes(`@${address}:`) ? c : 0), 0),
    0,
  );

/** A host's state without BIRD's learned routes, which come and go with the other node's sessions. */
const withoutBgp = (s: NodeSnapshot): NodeSnapshot => ({
  ...s,
  routes: s.routes.filter((r) => !/ proto bird( |$)/.test(r)),
});

async function stateList(): Promise<string[]> {
  const r = await cluster.terraform(['state', 'list']);
  return r.code === 0 ? r.stdout.split('\n').filter(Boolean) : [];
}

/** Terraform's output with its diagnostic boxes' line wrapping undone. */
const unwrapped = (r: CommandResult) => (r.stdout + r.stderr).replace(/[ \t]*\r?\n[│╷╵ \t]*/g, ' ');

test('node2 away: the destroy fails naming it, keeps its objects, and tears node1 down with one login', async () => {
  // Something of the operator's where ours was on node1: a blackhole for the block, not ours.
  const block = cluster.podCidr('node1');
  const swap = await cluster.sh(
    'node1',
    `ip route del blackhole ${block} proto 211 && ip route add blackhole ${block}`,
  );
  if (swap.code !== 0) throw new Error(describeCommand(swap));
  const node2Before = await cluster.snapshot('node2');
  const inState = await stateList();
  expect(inState.length).toBeGreaterThanOrEqual(6);

  await stopSshd(cluster.lab, 'node2');
  let down: { result: CommandResult; lines: StatsLine[] };
  try {
    down = await destroyCounted('node2-away');
  } finally {
    await startSshd(cluster.lab, 'node2');
  }
  expect(down.result.code).not.toBe(0);
  expect(unwrapped(down.result)).toMatch(/Cannot reach node node2 \(198\.18\.151\.\d+\)/);
  expect(unwrapped(down.result)).not.toMatch(/Cannot reach node node1/);

  // Only the deletes logged in: one connection to node1 over the whole command.
  expect(connectionsTo(down.lines, cluster.address('node1'))).toBe(1);
  expect(down.lines.filter((l) => Object.keys(l.connections).length > 0)).toHaveLength(1);

  // node1 is torn down but for the operator's blackhole; node2 holds what it held.
  const left = await stateList();
  expect(left.length).toBeGreaterThan(0);
  expect(left.every((address) => inState.includes(address))).toBe(true);
  const node1 = await cluster.snapshot('node1');
  expect(node1.routes).toContain(`blackhole ${block}`);
  expect({ ...node1, routes: node1.routes.filter((r) => r !== `blackhole ${block}`) }).toEqual(before.get('node1'));
  expect(withoutBgp(await cluster.snapshot('node2'))).toEqual(withoutBgp(node2Before));
  await cluster.sh('node1', `ip route del blackhole ${block}`);
});

test('node2 back: a destroy finishes with one login to it, and both hosts are as before the first deploy', async () => {
  const again = await destroyCounted('node2-back');
  if (again.result.code !== 0) throw new Error(describeCommand(again.result));
  expect(connectionsTo(again.lines, cluster.address('node2'))).toBe(1);
  expect(connectionsTo(again.lines, cluster.address('node1'))).toBe(0);
  expect(await stateList()).toEqual([]);
  for (const node of cluster.nodeNames) expect(await cluster.snapshot(node)).toEqual(before.get(node));
});
