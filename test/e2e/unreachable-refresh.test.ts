/**
 * A node that cannot be reached during a real refresh, through real terraform: the refresh warns
 * and keeps the last known state (unreachable is not absent: nothing is planned for re-creation),
 * the next plan is exactly an in-place update of that node's resources (apply will retry them),
 * and once the node is back a deploy converges to an empty plan.
 */
import { operatorExec, startSshd, stopSshd } from '../../lab';
import { CommandResult, describeCommand, E2eCluster } from './cluster';

let cluster: E2eCluster;

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: 16, nodes: 2, asMode: 'ibgp' });
  const deploy = await cluster.deploy();
  if (deploy.code !== 0) throw new Error(describeCommand(deploy));
});

afterAll(async () => {
  await cluster?.down();
});

function terraform(args: string[]): Promise<CommandResult> {
  return operatorExec(cluster.lab, ['terraform', ...args], { cwd: cluster.stackDir, env: cluster.env });
}

async function stateValues(): Promise<Record<string, unknown>> {
  const r = await terraform(['show', '-json', '-no-color']);
  if (r.code !== 0) throw new Error(describeCommand(r));
  const resources: { address: string; values: unknown }[] = JSON.parse(r.stdout).values?.root_module?.resources ?? [];
  return Object.fromEntries(resources.map((x) => [x.address, x.values]));
}

/** Terraform's output with its diagnostic boxes' line wrapping undone (wraps fall on spaces). */
function unwrapped(r: CommandResult): string {
  return (r.stdout + r.stderr).replace(/[ \t]*\r?\n[│╷╵ \t]*/g, ' ');
}

test('refresh with node2 down keeps its state, and the retry plan updates exactly its resources in place', async () => {
  const before = await stateValues();
  const node2Resources = Object.entries(before)
    .filter(([, v]) => (v as { ssh: { host: string } }).ssh.host === cluster.address('node2'))
    .map(([address]) => address)
    .sort();
  expect(node2Resources).toHaveLength(3); // calico_node, calico_bird_config, calico_workload

  await stopSshd(cluster.lab, 'node2');
  try {
    // A real refresh that writes state.
    const refresh = await terraform(['apply', '-refresh-only', '-auto-approve', '-input=false', '-no-color']);
    if (refresh.code !== 0) throw new Error(describeCommand(refresh));
    const warned = unwrapped(refresh);
    for (const address of node2Resources)
      expect(warned).not.toMatch(new RegExp(`${address.replace(/\./g, '\\.')} has been deleted`));
    expect(warned).toMatch(/Warning: Cannot reach node node2 \(198\.18\.\d+\.2\) to [^:]+: state not refreshed/);
    expect(warned).not.toMatch(/Cannot reach node node1/);
    expect(await stateValues()).toEqual(before);

    const plan = await cluster.plan();
    expect(plan.code).toBe(2);
    const updated = [...plan.stdout.matchAll(/^ {2}# (\S+) will be updated in-place$/gm)].map((m) => m[1]).sort();
    expect(updated).toEqual(node2Resources);
    expect(plan.stdout).toMatch(/^Plan: 0 to add, 3 to change, 0 to destroy\.$/m);
    expect(plan.stdout).not.toMatch(/must be replaced|will be created|will be destroyed/);
  } finally {
    await startSshd(cluster.lab, 'node2');
  }

  const deploy = await cluster.deploy();
  if (deploy.code !== 0) throw new Error(describeCommand(deploy));
  const empty = await cluster.plan();
  if (empty.code !== 0) throw new Error(`not converged after node2 came back:\n${describeCommand(empty)}`);
});
