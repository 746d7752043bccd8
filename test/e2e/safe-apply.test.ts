/**
 * What a deploy must never do silently (issue 11, items 3, 5, 6 and the BIRD rollback), on a
 * 2-node eBGP lab driven by real cdktf/terraform: a reload that failed is retried by the next
 * plan; a config that breaks BGP rolls itself back; a namespace calico-net did not create is
 * neither adopted nor deleted; a node or workload renamed in place, or a workload moved to another
 * node, converges in one deploy, and destroy still restores the original ip_forward.
 */
import * as fs from 'fs';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { pingMatrix } from '../../cli/verify';
import { startBird, stopBird } from '../../lab';
import { describeCommand, E2eCluster } from './cluster';

let cluster: E2eCluster;
let original: string;

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: 31, nodes: 2, asMode: 'ebgp', workloadsPerNode: 1 });
  original = fs.readFileSync(cluster.lab.inventoryPath, 'utf8');
  // A known starting value, so "destroy restores it" cannot pass by accident.
  for (const node of cluster.nodeNames) await cluster.exec(node, ['sysctl', '-w', 'net.ipv4.ip_forward=0']);
});

afterAll(async () => {
  await cluster?.down();
});

/** Edits the lab's inventory (the stack the next cdktf run synthesizes). */
function editInventory(change: (inv: any) => void): void {
  const inv = parseYaml(fs.readFileSync(cluster.lab.inventoryPath, 'utf8'));
  change(inv);
  fs.writeFileSync(cluster.lab.inventoryPath, toYaml(inv));
}

async function deployOk(): Promise<void> {
  const r = await cluster.deploy();
  if (r.code !== 0) throw new Error(describeCommand(r));
}

async function expectConverged(): Promise<void> {
  const sessions = await cluster.waitForSessions(() => 1);
  for (const node of cluster.nodeNames) expect(sessions.get(node)!.filter((s) => s.established)).toHaveLength(1);
  const pings = await cluster.pingAll();
  expect(pings.filter((p) => !p.ok)).toEqual([]);
  expect(pings.length).toBeGreaterThan(0);
}

async function birdConf(node: string): Promise<string> {
  return (await cluster.exec(node, ['cat', '/etc/bird/bird.conf'])).stdout;
}

/** The synthesized address of a node's resource of a type (cdktf names them by construct path). */
function addressOf(type: string, node: string): string {
  const stack = JSON.parse(fs.readFileSync(`${cluster.stackDir}/cdk.tf.json`, 'utf8'));
  const name = Object.keys(stack.resource[type]).find((k) => {
    const r = stack.resource[type][k];
    return (r.node_name ?? r.name) === node;
  });
  if (!name) throw new Error(`no ${type} for ${node} in the stack`);
  return `${type}.${name}`;
}

test('deploy converges', async () => {
  await deployOk();
  await expectConverged();
  expect((await cluster.plan()).code).toBe(0);
});

test('a reload that failed (BIRD down) is not forgotten: plan shows it pending, deploys retry it', async () => {
  await stopBird(cluster.lab, 'node2');
  try {
    editInventory((inv) => (inv.peers = [{ address: '198.18.31.200', asNumber: 65200 }]));
    const failed = await cluster.deploy();
    expect(failed.code).not.toBe(0);
    expect(failed.stdout + failed.stderr).toMatch(/BIRD is not running on node node2/);
    // The file is in place, BIRD does not run it: the plan must still show a change.
    expect(await birdConf('node2')).toContain('198.18.31.200');
    const pending = await cluster.plan();
    expect(pending.code).toBe(2);
    expect(pending.stdout).toMatch(/~ loaded\s+= false -> true/);
    // Refresh-only agrees that the host is not what was applied.
    const drift = await cluster.plan(['-refresh-only']);
    expect(drift.code).toBe(2);
    // A re-deploy with BIRD still down tries again, and fails again.
    const again = await cluster.deploy();
    expect(again.code).not.toBe(0);
    expect(again.stdout + again.stderr).toMatch(/BIRD is not running on node node2/);
  } finally {
    await startBird(cluster.lab, 'node2');
  }
  await deployOk();
  expect((await cluster.plan()).code).toBe(0);
  await expectConverged();
});

test('a bird.conf that breaks an Established session is rolled back, and the apply fails naming it', async () => {
  const before = await birdConf('node2');
  // node2 alone learns a new AS for itself: node1 still expects the old one, so Mesh breaks.
  editInventory((inv) => (inv.nodes[1].asNumber = 64999));
  expect((await cluster.cdktf(['synth'])).code).toBe(0);
  const target = addressOf('calico_bird_config', 'node2');
  const apply = await cluster.terraform(['apply', '-auto-approve', '-input=false', '-no-color', `-target=${target}`]);
  expect(apply.code).not.toBe(0);
  expect(apply.stdout + apply.stderr).toMatch(/broke BGP on node node2 and was rolled back/);
  expect(apply.stdout + apply.stderr).toMatch(/Mesh_198_18_31_1/);
  // The old file is back, BIRD runs it, and the session is up again.
  expect(await birdConf('node2')).toBe(before);
  await expectConverged();
  // The state still says the old config runs: the plan proposes the change again.
  const plan = await cluster.plan(['-target', target]);
  expect(plan.code).toBe(2);
  expect(plan.stdout).toMatch(/as 64999/);

  // With the check switched off, the same change loads and stays, broken session and all.
  editInventory((inv) => (inv.cluster.birdReload = { sessionWait: 0 }));
  expect((await cluster.cdktf(['synth'])).code).toBe(0);
  const unchecked = await cluster.terraform([
    'apply',
    '-auto-approve',
    '-input=false',
    '-no-color',
    `-target=${target}`,
  ]);
  if (unchecked.code !== 0) throw new Error(describeCommand(unchecked));
  expect(await birdConf('node2')).toMatch(/as 64999/);

  fs.writeFileSync(cluster.lab.inventoryPath, original);
  await deployOk();
  await expectConverged();
  expect((await cluster.plan()).code).toBe(0);
});

test('a namespace calico-net did not create is neither adopted nor deleted', async () => {
  // Someone else's namespace, with its own interface, under the name a new workload wants.
  await cluster.sh('node1', 'ip netns add theirs && ip -n theirs link add keepme type veth peer name keepme2');
  editInventory((inv) => inv.nodes[0].workloads.push({ name: 'theirs', ip: '198.19.1.50' }));
  const refused = await cluster.deploy();
  expect(refused.code).not.toBe(0);
  expect(refused.stdout + refused.stderr).toMatch(
    /network namespace theirs on node1 exists but was not created by calico-net/,
  );
  // Import no longer takes over a namespace that is not paired with our veth (it is refused at
  // import), so the message asks for the namespace to be moved out of the way.
  expect(refused.stdout + refused.stderr).toMatch(/remove\s+or\s+rename\s+it,\s+then\s+apply\s+again/);
  expect((await cluster.sh('node1', 'ip -n theirs -o link show keepme')).code).toBe(0);
  expect((await cluster.sh('node1', 'ip -n theirs -o link show eth0')).code).not.toBe(0);

  // Our own workload's namespace replaced behind our back: destroy of that workload leaves it.
  editInventory((inv) => inv.nodes[0].workloads.pop());
  const ours = cluster.workloads().find((w) => w.node === 'node1')!.name;
  await cluster.sh(
    'node1',
    `ip netns del ${ours} && ip netns add ${ours} && ip -n ${ours} link add keepme type veth peer name keepme2`,
  );
  editInventory((inv) => (inv.nodes[0].workloads = []));
  const removed = await cluster.deploy();
  if (removed.code !== 0) throw new Error(describeCommand(removed));
  expect((await cluster.sh('node1', `ip -n ${ours} -o link show keepme`)).code).toBe(0);
  expect((await cluster.sh('node1', 'ip -n theirs -o link show keepme')).code).toBe(0);
  await cluster.sh('node1', `ip netns del ${ours}; ip netns del theirs`);
  fs.writeFileSync(cluster.lab.inventoryPath, original);
  await deployOk();
  await expectConverged();
});

test('a node and a workload renamed in place, then a workload moved between nodes, converge in one deploy each; destroy restores ip_forward', async () => {
  editInventory((inv) => {
    inv.nodes[1].name = 'node2b';
    inv.nodes[1].workloads[0].name = 'renamed2';
  });
  await deployOk();
  // The renamed node's BGP session may restart (its config was handed over): wait for it.
  await cluster.expectRoutesConverged();
  // The lab still calls the host node2; the inventory now says node2b.
  const labNode = (name: string) => (name === 'node2b' ? 'node2' : name);
  const pings = await pingMatrix(cluster.workloads().map((w) => ({ ...w, host: cluster.hostOf(labNode(w.node)) })));
  expect(pings.filter((p) => !p.ok)).toEqual([]);
  expect(pings.map((p) => `${p.from}>${p.to}`)).toEqual(
    expect.arrayContaining(['node1/wl1a>node2b/renamed2', 'node2b/renamed2>node1/wl1a']),
  );
  expect((await cluster.exec('node2', ['sysctl', '-n', 'net.ipv4.ip_forward'])).stdout.trim()).toBe('1');
  expect((await cluster.plan()).code).toBe(0);

  // A workload moved to the other node (same name, an address of its new block), plus a new one
  // on node1 so both nodes keep a workload to ping from.
  editInventory((inv) => {
    inv.nodes[0].workloads = [{ name: 'stay1', ip: '198.19.1.9' }];
    inv.nodes[1].workloads.push({ name: 'wl1a', ip: '198.19.2.9' });
  });
  await deployOk();
  await cluster.expectRoutesConverged();
  expect((await cluster.sh('node1', 'ls /run/netns')).stdout.split('\n')).not.toContain('wl1a');
  const moved = await pingMatrix(cluster.workloads().map((w) => ({ ...w, host: cluster.hostOf(labNode(w.node)) })));
  expect(moved.filter((p) => !p.ok)).toEqual([]);
  expect(moved.map((p) => `${p.from}>${p.to}`)).toEqual(
    expect.arrayContaining(['node1/stay1>node2b/wl1a', 'node2b/wl1a>node1/stay1']),
  );
  expect((await cluster.plan()).code).toBe(0);

  const destroy = await cluster.destroy();
  if (destroy.code !== 0) throw new Error(describeCommand(destroy));
  for (const node of cluster.nodeNames) {
    expect((await cluster.exec(node, ['sysctl', '-n', 'net.ipv4.ip_forward'])).stdout.trim()).toBe('0');
    expect((await cluster.sh(node, 'ip -4 route show proto 211')).stdout).toBe('');
    expect((await cluster.sh(node, 'ls /run/netns')).stdout.trim()).toBe('');
  }
});
