/**
 * One round trip per host for what Terraform applies at the same time (issue 29 item 2), on a
 * 2-node × 4-workload lab driven by real cdktf/terraform/sshd: a first deploy and a destroy send
 * fewer scripts to each host than the provider was asked to run (counted by the provider's own
 * instrumentation, CALICO_PROVIDER_STATS, over every provider process of the command); a
 * workload whose apply fails (someone else's namespace under its name) fails alone and named,
 * while its neighbours batched with it on the same host are applied, and the next plan plans
 * the failed one again.
 */
import * as fs from 'fs';
import * as path from 'path';
import { pingMatrix } from '../../cli/verify';
import { describeCommand, E2eCluster } from './cluster';

let cluster: E2eCluster;

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: 152, nodes: 2, asMode: 'ebgp', workloadsPerNode: 4 });
});

afterAll(async () => {
  await cluster?.down();
});

interface HostCounts {
  /** Scripts the handlers asked to run. */
  calls: number;
  /** Scripts sent: round trips on the host's shell. */
  roundTrips: number;
  /** Remote shells started. */
  shells: number;
}

/** Runs a command with a fresh stats file; the counts per node address, over all provider processes. */
async function counted<T>(run: () => Promise<T>): Promise<{ result: T; hosts: Map<string, HostCounts> }> {
  const file = path.join(cluster.root, `stats-${Date.now()}.jsonl`);
  cluster.extraEnv = { CALICO_PROVIDER_STATS: file };
  let result: T;
  try {
    result = await run();
  } finally {
    cluster.extraEnv = {};
  }
  const hosts = new Map<string, HostCounts>();
  const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  for (const line of lines) {
    const l = JSON.parse(line) as Record<'calls' | 'scripts' | 'shells', Record<string, number>>;
    for (const [key, n] of Object.entries(l.calls ?? {})) {
      const address = /@([^:]+):/.exec(key)![1];
      const h = hosts.get(address) ?? { calls: 0, roundTrips: 0, shells: 0 };
      h.calls += n;
      h.roundTrips += l.scripts[key] ?? 0;
      h.shells += l.shells[key] ?? 0;
      hosts.set(address, h);
    }
  }
  return { result, hosts };
}

/** Every node was worked on, each in fewer round trips than scripts asked for, on one shell per process. */
function expectBatched(hosts: Map<string, HostCounts>, processes: number): void {
  for (const node of cluster.nodeNames) {
    const h = hosts.get(cluster.address(node));
    expect({ node, worked: (h?.calls ?? 0) >= 4 }).toEqual({ node, worked: true });
    expect({ node, batched: h!.roundTrips < h!.calls }).toEqual({ node, batched: true });
    expect(h!.shells).toBeLessThanOrEqual(processes);
  }
}

const netnsOf = async (node: string) =>
  (await cluster.sh(node, 'ls /run/netns 2>/dev/null || true')).stdout.split('\n').filter(Boolean).sort();

test('a first deploy and a destroy reach each host in fewer round trips than scripts', async () => {
  const deploy = await counted(() => cluster.deploy());
  if (deploy.result.code !== 0) throw new Error(describeCommand(deploy.result));
  process.stdout.write(`first deploy, per host: ${JSON.stringify(Object.fromEntries(deploy.hosts))}\n`);
  expectBatched(deploy.hosts, 3);
  const pings = await cluster.pingAll();
  expect(pings.length).toBe(8 * 7);
  expect(pings.filter((p) => !p.ok)).toEqual([]);
  expect((await cluster.plan()).code).toBe(0);

  const destroy = await counted(() => cluster.destroy());
  if (destroy.result.code !== 0) throw new Error(describeCommand(destroy.result));
  process.stdout.write(`destroy, per host: ${JSON.stringify(Object.fromEntries(destroy.hosts))}\n`);
  expectBatched(destroy.hosts, 3);
  for (const node of cluster.nodeNames) {
    expect(await netnsOf(node)).toEqual([]);
    expect((await cluster.sh(node, 'ip -4 route show proto 211')).stdout).toBe('');
  }
});

test("a workload refused by someone else's namespace fails alone, named; its neighbours apply; the next plan plans it again", async () => {
  const mine = cluster.workloads().filter((w) => w.node === 'node1');
  expect(mine).toHaveLength(4);
  const victim = mine[1].name;
  await cluster.sh('node1', `ip netns add ${victim} && ip -n ${victim} link add keepme type veth peer name keepme2`);
  try {
    const deploy = await counted(() => cluster.deploy());
    const out = deploy.result.stdout + deploy.result.stderr;
    expect(deploy.result.code).not.toBe(0);
    expect(out).toMatch(new RegExp(`network namespace ${victim} on node1 exists but was not created by calico-net`));
    // Only the one workload failed.
    expect(out.match(/exists but was not created by calico-net/g)).toHaveLength(1);
    // Its neighbours went in the same round trips as it did (fewer round trips than scripts).
    expectBatched(deploy.hosts, 3);
    // The neighbours on node1 are up and reachable; the foreign namespace is as it was.
    const up = cluster.workloads().filter((w) => w.name !== victim);
    for (const w of mine.filter((x) => x.name !== victim))
      expect((await cluster.sh('node1', `ip -n ${w.name} -4 -o addr show dev eth0`)).stdout).toContain(w.ip);
    const between = await pingMatrix(up.map((w) => ({ ...w, host: cluster.hostOf(w.node) })));
    expect(between.length).toBe(7 * 6);
    expect(between.filter((p) => !p.ok)).toEqual([]);
    expect((await cluster.sh('node1', `ip -n ${victim} -o link show keepme`)).code).toBe(0);
    expect((await cluster.sh('node1', `ip -n ${victim} -o link show eth0`)).code).not.toBe(0);

    // The failed one is planned again, and only it.
    const plan = await cluster.plan();
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/Plan: 1 to add, 0 to change, 0 to destroy/);
    expect(plan.stdout).toMatch(new RegExp(`name\\s+= "${victim}"`));
  } finally {
    await cluster.sh('node1', `ip netns del ${victim}`);
  }
  const again = await cluster.deploy();
  if (again.code !== 0) throw new Error(describeCommand(again));
  expect((await cluster.plan()).code).toBe(0);
  const pings = await cluster.pingAll();
  expect(pings.filter((p) => !p.ok)).toEqual([]);
  const destroy = await cluster.destroy();
  if (destroy.code !== 0) throw new Error(describeCommand(destroy));
  for (const node of cluster.nodeNames) expect(await netnsOf(node)).toEqual([]);
});
