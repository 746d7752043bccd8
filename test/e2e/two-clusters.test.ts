/**
 * Two clusters in one stack, end to end (lab 120, two nodes, one workload each): a user app that
 * sets the stack's calico provider (connectTimeout) and adds two one-node clusters, each node
 * peering with the other cluster's node as an external eBGP peer. Terraform used to refuse this
 * stack ("Duplicate provider configuration": every cluster made its own provider); now the two
 * share one. Real cdktf + terraform + our provider over SSH, real bird and kernel: deploy, the
 * sessions come up and each workload reaches the other; an empty plan; destroy leaves each
 * node as it was.
 */
import * as fs from 'fs';
import * as path from 'path';
import { packageRoot } from '../../providers/package-root';
import { describeCommand, E2eCluster, NodeSnapshot } from './cluster';

let cluster: E2eCluster;
const before = new Map<string, NodeSnapshot>();

/** The user's app: written in JavaScript against the built package, as a project would use it. */
function twoClusterApp(root: string): string {
  return `const root = ${JSON.stringify(root)};
const { cdk } = require(root + '/dist/constructs/cdk.js');
const { loadInventory, CalicoCluster, CalicoProvider } = require(root + '/dist/constructs/index.js');
const spec = loadInventory(process.env.CALICO_INVENTORY);
const app = new cdk.App();
const stack = new cdk.TerraformStack(app, spec.name);
// Set once, before the clusters: they use it rather than making their own.
new CalicoProvider(stack, 'calico', { connectTimeout: 20 });
const [n1, n2] = spec.nodes;
const half = (name, node, as, other, otherAs) => ({
  ...spec, name, asNumber: as, nodes: [node], peers: [{ address: other.address, asNumber: otherAs }],
});
CalicoCluster.fromSpec(stack, 'east', half('east', n1, 64601, n2, 64602));
CalicoCluster.fromSpec(stack, 'west', half('west', n2, 64602, n1, 64601));
app.synth();
`;
}

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: 120, nodes: 2, workloadsPerNode: 1 });
  fs.writeFileSync(path.join(cluster.projectDir, 'main.js'), twoClusterApp(packageRoot()));
  const cdktfJson = JSON.parse(fs.readFileSync(path.join(cluster.projectDir, 'cdktf.json'), 'utf8'));
  fs.writeFileSync(
    path.join(cluster.projectDir, 'cdktf.json'),
    JSON.stringify({ ...cdktfJson, app: `${JSON.stringify(process.execPath)} main.js` }, null, 2),
  );
  for (const node of cluster.nodeNames) before.set(node, await cluster.snapshot(node));
});

afterAll(async () => {
  await cluster?.down();
});

test('deploy: one provider block for both clusters; the sessions between them come up and the workloads reach each other', async () => {
  const deploy = await cluster.deploy();
  if (deploy.code !== 0) throw new Error(describeCommand(deploy));
  const stack = JSON.parse(fs.readFileSync(path.join(cluster.stackDir, 'cdk.tf.json'), 'utf8'));
  expect(stack.provider.calico).toEqual([{ connect_timeout: 20 }]);
  expect(
    Object.values<{ name: string }>(stack.resource.calico_node)
      .map((n) => n.name)
      .sort(),
  ).toEqual(['node1', 'node2']);

  // Each node's one session is its external peer: the other cluster's node.
  const sessions = await cluster.waitForSessions(() => 1);
  for (const node of cluster.nodeNames) {
    expect(
      sessions
        .get(node)!
        .filter((s) => s.established)
        .map((s) => s.protocol),
    ).toEqual([expect.stringMatching(/^Global_/)]);
  }
  await cluster.expectRoutesConverged();
  const pings = await cluster.pingAll();
  expect(pings).toHaveLength(2);
  expect(pings.filter((p) => !p.ok)).toEqual([]);
});

test('the plan after the deploy is empty', async () => {
  const plan = await cluster.plan();
  expect({ code: plan.code, out: plan.stdout.slice(-1500), err: plan.stderr.slice(-1500) }).toMatchObject({ code: 0 });
});

test('destroy leaves both nodes as they were', async () => {
  const destroy = await cluster.destroy();
  if (destroy.code !== 0) throw new Error(describeCommand(destroy));
  for (const node of cluster.nodeNames) expect(await cluster.snapshot(node)).toEqual(before.get(node));
});
