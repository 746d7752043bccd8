/**
 * Issue 28, item 1 (hostile): the import-then-plan repro. An operator shell with an ssh-agent
 * but no key path imports one workload (its id carries host only, so the imported state logs in
 * with the agent); then plain `terraform plan`, in a shell with no agent, three times.
 *
 * Before issue 28 the host snapshot was shared by user@host:port: whichever resource of node1
 * was read first decided the login for all of them. The workload's agent login failing answered
 * for the calico_node that declares a private_key_path (`no private_key_path given and no
 * ssh-agent`), or the node's key answered for the workload: exits 1, 2, 1.
 *
 * Now each resource is read with its own login only. The imported workload, whose only login is
 * the agent, is not refreshed (a warning says why) and its update is planned; the node and every
 * other resource are read with their own key. Every plan exits 2 with the same changes; the apply
 * (no agent) records the configuration's settings, and the plan after it is empty.
 */
import { operatorExec } from '../../lab';
import { CommandResult, describeCommand, E2eCluster, operatorAgent } from './cluster';

let cluster: E2eCluster;
let agent: { stop(): void } | undefined;
let importEnv: NodeJS.ProcessEnv;
/** A plain operator shell: no agent at all. */
const NO_AGENT = { SSH_AUTH_SOCK: '' };

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: 80, nodes: 2, asMode: 'ebgp' });
  const deploy = await cluster.deploy();
  if (deploy.code !== 0) throw new Error(describeCommand(deploy));
  const started = await operatorAgent(cluster, 'import');
  agent = started;
  importEnv = started.env;
}, 600_000);

afterAll(async () => {
  agent?.stop();
  await cluster?.down();
});

function terraform(args: string[], env: NodeJS.ProcessEnv): Promise<CommandResult> {
  return operatorExec(cluster.lab, ['terraform', ...args], { cwd: cluster.stackDir, env: { ...cluster.env, ...env } });
}

/** Terraform's output with its diagnostic boxes' line wrapping undone. */
const unwrapped = (r: CommandResult) => (r.stdout + r.stderr).replace(/[ \t]*\r?\n[│╷╵ \t]*/g, ' ');

/** The addresses a plan's text says it will change, sorted. */
const planned = (r: CommandResult) =>
  [...r.stdout.matchAll(/^\s*# (\S+) will be updated in-place/gm)].map((m) => m[1]).sort();

test('import a workload with the agent, then plain plans without one: consistent, green, and the apply converges', async () => {
  const shown = await terraform(['show', '-json', '-no-color'], NO_AGENT);
  const resources: { address: string; type: string; values: Record<string, any> }[] = JSON.parse(shown.stdout).values
    .root_module.resources;
  const workload = resources.find((r) => r.type === 'calico_workload' && r.values.node_name === 'node1')!;
  const node = resources.find((r) => r.type === 'calico_node' && r.values.name === 'node1')!;
  expect(node.values.ssh.private_key_path).toBe(cluster.lab.clientKeyPath);

  const rm = await terraform(['state', 'rm', workload.address], NO_AGENT);
  if (rm.code !== 0) throw new Error(describeCommand(rm));
  const id = `node1/${workload.values.name}@${cluster.address('node1')}`;
  const imported = await terraform(['import', '-input=false', '-no-color', workload.address, id], importEnv);
  if (imported.code !== 0) throw new Error(`import ${id}\n${describeCommand(imported)}`);
  expect(imported.stdout).toMatch(/Import successful!/);

  const runs: { code: number; changes: string[]; text: string }[] = [];
  for (let i = 0; i < 3; i++) {
    const plan = await terraform(['plan', '-detailed-exitcode', '-input=false', '-no-color'], NO_AGENT);
    runs.push({ code: plan.code, changes: planned(plan), text: unwrapped(plan) });
  }
  for (const [i, run] of runs.entries()) {
    // Never the node's error: each resource is read with its own login.
    expect({
      plan: i + 1,
      code: run.code,
      crossed: /no private_key_path given and no ssh-agent/.test(run.text),
    }).toEqual({ plan: i + 1, code: 2, crossed: false });
    expect(run.changes).toEqual([workload.address]);
    expect(run.text).toContain(
      `Cannot read node node1 (${cluster.address('node1')}) with the login its import recorded: state not refreshed`,
    );
  }

  // The apply, still without an agent, works with the configuration's key and records it.
  const apply = await terraform(['apply', '-input=false', '-no-color', '-auto-approve'], NO_AGENT);
  if (apply.code !== 0) throw new Error(describeCommand(apply));
  const after = await terraform(['show', '-json', '-no-color'], NO_AGENT);
  const again = JSON.parse(after.stdout).values.root_module.resources.find(
    (r: { address: string }) => r.address === workload.address,
  );
  expect(again.values.ssh.private_key_path).toBe(cluster.lab.clientKeyPath);
  for (let i = 0; i < 2; i++) {
    const empty = await terraform(['plan', '-detailed-exitcode', '-input=false', '-no-color'], NO_AGENT);
    if (empty.code !== 0) throw new Error(`plan ${i + 1} after the apply is not empty:\n${describeCommand(empty)}`);
  }
  const pings = await cluster.pingAll();
  expect(pings.filter((p) => !p.ok)).toEqual([]);
}, 900_000);
