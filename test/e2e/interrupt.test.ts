/**
 * Ctrl-C in the middle of a real apply: terraform gets SIGINT once the first object has been
 * created, stops the provider (StopProvider) and exits with a partial but valid state. The next
 * deploy creates the rest, the plan is then empty, and no node holds duplicates or leftovers.
 */
import { applyStoppedAt } from '../support/stopped-apply';
import { describeCommand, E2eCluster } from './cluster';

let cluster: E2eCluster;

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: 20, nodes: 2, asMode: 'ibgp', workloadsPerNode: 4 });
  const synth = await cluster.cdktf(['synth']);
  if (synth.code !== 0) throw new Error(describeCommand(synth));
  const init = await cluster.terraform(['init', '-input=false', '-no-color']);
  if (init.code !== 0) throw new Error(describeCommand(init));
});

afterAll(async () => {
  await cluster?.down();
});

test('SIGINT mid-apply leaves a partial, valid state; the next deploy converges', async () => {
  const total = 2 + 2 + 8; // calico_node, calico_bird_config per node; 4 workloads per node
  const first = await applyStoppedAt(cluster, /: Creation complete after/, 'sigint');
  expect(first.stopped).toBe(true);
  expect(first.code).not.toBe(0);
  expect(first.output).toMatch(/Interrupt received/);

  const list = await cluster.terraform(['state', 'list']);
  expect(list.code).toBe(0);
  const created = list.stdout.split('\n').filter(Boolean);
  expect(created.length).toBeGreaterThan(0);
  expect(created.length).toBeLessThan(total);

  const deploy = await cluster.deploy();
  if (deploy.code !== 0) throw new Error(describeCommand(deploy));
  const plan = await cluster.plan();
  if (plan.code !== 0) throw new Error(`not converged after the interrupted apply:\n${describeCommand(plan)}`);
  expect((await cluster.terraform(['state', 'list'])).stdout.split('\n').filter(Boolean)).toHaveLength(total);

  for (const node of cluster.nodeNames) {
    const expected = cluster
      .workloads()
      .filter((w) => w.node === node)
      .map((w) => w.name)
      .sort();
    const snapshot = await cluster.snapshot(node);
    expect(snapshot.netns).toEqual(expected);
    expect(snapshot.caliLinks).toHaveLength(expected.length);
  }
  await cluster.expectRoutesConverged();
  const pings = await cluster.pingAll();
  expect(pings).toHaveLength(8 * 7);
  expect(pings.filter((p) => !p.ok)).toEqual([]);
});
