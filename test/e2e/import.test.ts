/**
 * `terraform import` of every resource type on a deployed lab, with real terraform: each object
 * is forgotten (`state rm`) and imported back by its documented id. The import id carries only
 * host, user and port, so the import reads the host with the documented defaults — ssh-agent and
 * ~/.ssh/known_hosts — and records no key path: the first plan after import may only fill in
 * those ssh settings (in place, nothing on the host changes kind), and once applied the plan is
 * empty.
 */
import { operatorExec } from '../../lab';
import { CommandResult, describeCommand, E2eCluster, operatorAgent } from './cluster';

let cluster: E2eCluster;
let agent: { stop(): void } | undefined;
let importEnv: NodeJS.ProcessEnv;

interface StateResource {
  address: string;
  type: string;
  values: Record<string, any>;
}

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: 22, nodes: 2, asMode: 'ebgp' });
  const deploy = await cluster.deploy();
  if (deploy.code !== 0) throw new Error(describeCommand(deploy));

  const started = await operatorAgent(cluster, 'import');
  agent = started;
  importEnv = started.env;
});

afterAll(async () => {
  agent?.stop();
  await cluster?.down();
});

function terraform(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
  return operatorExec(cluster.lab, ['terraform', ...args], { cwd: cluster.stackDir, env: { ...cluster.env, ...env } });
}

async function stateResources(): Promise<StateResource[]> {
  const r = await terraform(['show', '-json', '-no-color']);
  if (r.code !== 0) throw new Error(describeCommand(r));
  return (JSON.parse(r.stdout).values?.root_module?.resources ?? []).map((x: StateResource) => ({
    address: x.address,
    type: x.type,
    values: x.values,
  }));
}

/** The documented import id of a resource, from its state (see providers/calico/import-id.ts). */
function importId(r: StateResource): string {
  const host = r.values.ssh.host;
  switch (r.type) {
    case 'calico_node':
      return `${r.values.name}@${host}`;
    case 'calico_bird_config':
      return `${r.values.node_name}:${r.values.config_path ?? '/etc/bird/bird.conf'}@root@${host}:22`;
    case 'calico_workload':
      return `${r.values.node_name}/${r.values.name}@${host}`;
    default:
      throw new Error(`no import id for ${r.type}`);
  }
}

/** A resource's values without the ones import cannot know (ssh settings; ip_forward before us). */
function comparable(r: StateResource): Record<string, unknown> {
  const { ssh: _ssh, original_ip_forward: _orig, ...rest } = r.values;
  return rest;
}

test('every resource type imports back to the state it had, and after recording ssh settings the plan is empty', async () => {
  const before = await stateResources();
  expect(before.map((r) => r.type).sort()).toEqual([
    'calico_bird_config',
    'calico_bird_config',
    'calico_node',
    'calico_node',
    'calico_workload',
    'calico_workload',
  ]);

  const rm = await terraform(['state', 'rm', ...before.map((r) => r.address)]);
  if (rm.code !== 0) throw new Error(describeCommand(rm));
  expect(await stateResources()).toEqual([]);

  for (const r of before) {
    const imported = await terraform(['import', '-input=false', '-no-color', r.address, importId(r)], importEnv);
    if (imported.code !== 0) throw new Error(`import ${r.address} ${importId(r)}\n${describeCommand(imported)}`);
    expect(imported.stdout).toMatch(/Import successful!/);
  }

  const after = await stateResources();
  expect(after.map((r) => r.address).sort()).toEqual(before.map((r) => r.address).sort());
  for (const r of before) {
    const twin = after.find((a) => a.address === r.address)!;
    expect({ address: r.address, values: comparable(twin) }).toEqual({ address: r.address, values: comparable(r) });
    // The id's host, with the defaults it implies; the rest is left for the configuration.
    expect(twin.values.ssh).toMatchObject({ host: r.values.ssh.host, private_key_path: null, known_hosts_path: null });
  }

  // The first plan only records the ssh settings the id did not carry: updates in place, and no
  // attribute outside the ssh block changes. Its refresh still reads through the imported ssh
  // block (the defaults), so it runs with the agent, as the import did.
  const plan = await terraform(['plan', '-input=false', '-no-color', '-out', 'import.tfplan'], importEnv);
  if (plan.code !== 0) throw new Error(describeCommand(plan));
  const shown = await terraform(['show', '-json', 'import.tfplan']);
  const changes: { address: string; change: { actions: string[]; before: any; after: any } }[] =
    JSON.parse(shown.stdout).resource_changes ?? [];
  expect(changes.map((c) => c.address).sort()).toEqual(before.map((r) => r.address).sort());
  for (const c of changes) {
    expect({ address: c.address, actions: c.change.actions }).toEqual({ address: c.address, actions: ['update'] });
    const { ssh: sshBefore, ...restBefore } = c.change.before;
    const { ssh: sshAfter, ...restAfter } = c.change.after;
    expect({ address: c.address, rest: restAfter }).toEqual({ address: c.address, rest: restBefore });
    expect(sshAfter).toMatchObject({
      host: sshBefore.host,
      private_key_path: cluster.lab.clientKeyPath,
      known_hosts_path: cluster.lab.knownHostsPath,
    });
  }

  const apply = await terraform(['apply', '-input=false', '-no-color', '-auto-approve', 'import.tfplan'], importEnv);
  if (apply.code !== 0) throw new Error(describeCommand(apply));
  // From here on the recorded settings suffice: no agent, no ~/.ssh.
  const empty = await cluster.plan();
  if (empty.code !== 0) throw new Error(`plan after import + apply is not empty:\n${describeCommand(empty)}`);
  // Imported objects behave as deployed ones: the cluster still routes.
  await cluster.expectRoutesConverged();
  const pings = await cluster.pingAll();
  expect(pings.filter((p) => !p.ok)).toEqual([]);
});

test('destroy after import puts the original bird.conf back (the import recorded its backup)', async () => {
  const destroy = await cluster.destroy();
  if (destroy.code !== 0) throw new Error(describeCommand(destroy));
  for (const node of cluster.nodeNames) {
    expect((await cluster.exec(node, ['cat', '/etc/bird/bird.conf'])).stdout).toBe(
      `router id ${cluster.address(node)};\nprotocol device {\n}\n`,
    );
    expect((await cluster.exec(node, ['ip', 'netns', 'list'])).stdout.trim()).toBe('');
  }
});
