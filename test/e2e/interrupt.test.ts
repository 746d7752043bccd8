/**
 * Ctrl-C in the middle of a real apply: terraform gets SIGINT once the first object has been
 * created, stops the provider (StopProvider) and exits with a partial but valid state. The next
 * deploy creates the rest, the plan is then empty, and no node holds duplicates or leftovers.
 */
import { spawn } from 'child_process';
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

/** terraform apply in the operator netns, interrupted (SIGINT) once `trigger` shows in its output. */
function interruptedApply(trigger: RegExp): Promise<{ code: number | null; output: string; interrupted: boolean }> {
  return new Promise((resolve, reject) => {
    // `ip netns exec` execs terraform in place: the child's pid is terraform's.
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        cluster.lab.operator.netns,
        'terraform',
        'apply',
        '-auto-approve',
        '-input=false',
        '-no-color',
        '-parallelism=1',
      ],
      {
        cwd: cluster.stackDir,
        env: { ...process.env, ...cluster.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    let interrupted = false;
    const onData = (d: Buffer) => {
      output += d.toString('utf8');
      if (!interrupted && trigger.test(output)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output, interrupted }));
  });
}

test('SIGINT mid-apply leaves a partial, valid state; the next deploy converges', async () => {
  const total = 2 + 2 + 8; // calico_node, calico_bird_config per node; 4 workloads per node
  const first = await interruptedApply(/: Creation complete after/);
  expect(first.interrupted).toBe(true);
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
