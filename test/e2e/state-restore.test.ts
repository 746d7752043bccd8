/**
 * The state restore of issue 28 (stacks/state-recovery.ts), end to end and deterministic, on one
 * small lab (id 87: two nodes, iBGP, one workload each) with real cdktf, terraform, sshd and bird.
 *
 * What a kill -9 of terraform inside a state write leaves is made on purpose, not raced (the
 * leftovers suite races a real kill). Why that is faithful: Terraform's local backend
 * (statemgr.Filesystem) writes `<state>.backup` once per run, before the run's first write, from
 * the state the run started with; each write then truncates the state file in place and writes
 * the new snapshot into it, under an fcntl lock that dies with the process. So a kill inside any
 * write of a run leaves exactly: the state file empty (or cut off where the write stopped), that
 * `.backup` beside it, and no lock. Here a real deploy runs to its end (so its `.backup` is the
 * one that run wrote, checked below against the state before it), then the state file is
 * emptied or cut off in place: the same three facts.
 *
 * - `cdktf diff`, `cdktf deploy` and `cdktf destroy` each restore the state and say so; diff
 *   changes no host, deploy converges, destroy leaves the hosts as they were before any deploy
 *   (the overlays the restored state never knew included: the hosts' registries list them);
 * - refused, with the reason, and nothing changed (files and hosts): the state file locked by a
 *   live terraform (an apply waiting at its prompt), a `.backup` of another lineage than the
 *   cut-off snapshot shows, no usable `.backup`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { isFileLocked } from '../../stacks/state-recovery';
import { reapGroup, spawnOperatorTerraform } from '../support/stopped-apply';
import { CommandResult, describeCommand, E2eCluster } from './cluster';

let cluster: E2eCluster;
const NODES = ['node1', 'node2'];
/** Every link of a node before the first deploy. */
const linksBefore = new Map<string, string>();
let stateFile: string;
/** The state after the first deploy (vxlanMode Never), and after the second (Always). */
let afterFirst: string;
let afterSecond: string;

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: 87, nodes: 2, asMode: 'ibgp', workloadsPerNode: 1 });
  expect(cluster.nodeNames).toEqual(NODES);
  for (const node of NODES) linksBefore.set(node, await links(node));
  stateFile = path.join(cluster.projectDir, `terraform.${cluster.stackName}.tfstate`);
});

afterAll(async () => {
  await cluster?.down();
});

async function links(node: string): Promise<string> {
  return (await cluster.sh(node, "ip -o link show | awk -F': ' '{ print $2 }' | sort")).stdout;
}

function setVxlanMode(mode: 'Always' | 'Never'): void {
  const inventory = parseYaml(fs.readFileSync(cluster.lab.inventoryPath, 'utf8'));
  if (mode === 'Never') delete inventory.cluster.vxlanMode;
  else inventory.cluster.vxlanMode = mode;
  fs.writeFileSync(cluster.lab.inventoryPath, toYaml(inventory));
}

/** What of ours a node holds: marked devices, proto 211 routes, namespaces, the registry and its content. */
async function ours(node: string): Promise<string> {
  const r = await cluster.sh(
    node,
    [
      "ip -o link show | awk -F': ' '/ alias calico-net/ { print $2 }'",
      'ip -4 route show table all proto 211',
      'ip netns list',
      'ls -A /run/calico-net 2>/dev/null',
      'cat /run/calico-net/* 2>/dev/null',
      'true',
    ].join('; '),
  );
  return r.stdout.trim();
}

async function allOurs(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const node of NODES) out[node] = await ours(node);
  return out;
}

/** The state file and its backup, byte for byte (undefined: no such file). */
function stateFiles(): { state?: string; backup?: string; cutOff?: string } {
  const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : undefined);
  return { state: read(stateFile), backup: read(`${stateFile}.backup`), cutOff: read(`${stateFile}.cut-off`) };
}

const snapshot = (text: string) =>
  JSON.parse(text) as { lineage: string; serial: number; resources: { type: string }[] };
const types = (text: string) => snapshot(text).resources.map((r) => r.type);
/** cdktf's output as one line (it wraps and frames what an app says). */
const oneLine = (r: CommandResult) => (r.stdout + r.stderr).replace(/[ \t]*\r?\n[│╷╵ \t]*/g, ' ');
const stateName = () => `terraform\\.${cluster.stackName}\\.tfstate`;

async function deploy(): Promise<CommandResult> {
  const r = await cluster.deploy();
  if (r.code !== 0) throw new Error(describeCommand(r));
  return r;
}

/**
 * A terraform apply that holds the state's lock and waits at its prompt (never answered), as a
 * live run does through every write. `-replace` gives it something to ask about; nothing is
 * applied. `stop()` kills its whole process group.
 */
async function applyWaitingAtPrompt(replace: string): Promise<{ stop(): Promise<void> }> {
  const child = spawnOperatorTerraform(cluster, ['apply', '-no-color', '-refresh=false', `-replace=${replace}`], {
    stdin: 'pipe',
  });
  const group = child.pid;
  const stop = async () => {
    if (group !== undefined) {
      try {
        process.kill(-group, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await reapGroup(group);
  };
  let output = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no prompt within 5 min:\n${output}`)), 300_000);
      const onData = (d: Buffer) => {
        output += d.toString('utf8');
        if (/Enter a value:/.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.on('close', (code) => {
        clearTimeout(timer);
        reject(new Error(`terraform apply ended (${code}) before its prompt:\n${output}`));
      });
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { stop };
}

test('two real deploys; the second one wrote .backup from the state it started from (what a kill inside its writes leaves beside the file)', async () => {
  await deploy();
  expect((await cluster.plan()).code).toBe(0);
  afterFirst = fs.readFileSync(stateFile, 'utf8');
  expect(types(afterFirst)).not.toContain('calico_overlay');

  setVxlanMode('Always');
  await deploy();
  afterSecond = fs.readFileSync(stateFile, 'utf8');
  expect(types(afterSecond)).toContain('calico_overlay');
  const backup = fs.readFileSync(`${stateFile}.backup`, 'utf8');
  expect(snapshot(backup)).toEqual(snapshot(afterFirst));
  expect(snapshot(afterSecond).lineage).toBe(snapshot(afterFirst).lineage);
  expect(snapshot(afterSecond).serial).toBeGreaterThan(snapshot(afterFirst).serial);
  for (const node of NODES) expect(await ours(node)).toMatch(/^vxlan\.calico$/m);
});

test('refused while a live terraform holds the lock: the emptied file is left as it is, and no host changes', async () => {
  const workload = (await cluster.terraform(['state', 'list'])).stdout
    .split('\n')
    .find((a) => a.includes('calico_workload'));
  expect(workload).toBeDefined();
  const live = await applyWaitingAtPrompt(workload!);
  try {
    expect(isFileLocked(stateFile)).toBe(true);
    // The moment inside a live run's write: the file is empty (truncated in place, lock kept).
    fs.writeFileSync(stateFile, '');
    const files = stateFiles();
    const hosts = await allOurs();
    const r = await cluster.cdktf(['diff']);
    expect(r.code).not.toBe(0);
    expect(oneLine(r)).toMatch(
      new RegExp(`${stateName()} is empty while a process holds its lock: a terraform run is writing it now`),
    );
    expect(oneLine(r)).not.toMatch(/Restored the state/);
    expect(stateFiles()).toEqual(files);
    expect(await allOurs()).toEqual(hosts);
  } finally {
    await live.stop();
  }
  // The kill -9 of that run released the lock: what is left is what a kill inside a write leaves.
  expect(isFileLocked(stateFile)).toBe(false);
  expect(fs.readFileSync(stateFile, 'utf8')).toBe('');
});

test('refused: a cut-off snapshot beside a .backup of another lineage, or beside no usable .backup; files and hosts unchanged', async () => {
  const hosts = await allOurs();
  const cut = afterSecond.slice(0, Math.floor(afterSecond.length / 2));
  const ownLineage = snapshot(afterSecond).lineage;
  expect(cut).toContain(ownLineage);
  const foreignLineage = 'c0ffee00-0000-4000-8000-000000000087';
  fs.writeFileSync(stateFile, cut);
  fs.writeFileSync(`${stateFile}.backup`, afterFirst.replace(ownLineage, foreignLineage));
  const files = stateFiles();
  const foreign = await cluster.cdktf(['diff']);
  expect(foreign.code).not.toBe(0);
  expect(oneLine(foreign)).toMatch(
    new RegExp(
      `${stateName()} holds a cut-off state snapshot: a terraform run was killed while writing it .*` +
        `belongs to another state \\(lineage ${foreignLineage}, not ${ownLineage}\\)`,
    ),
  );
  expect(stateFiles()).toEqual(files);

  fs.writeFileSync(stateFile, '');
  fs.writeFileSync(`${stateFile}.backup`, '{"version": 4, "lineage"');
  const files2 = stateFiles();
  const unusable = await cluster.cdktf(['diff']);
  expect(unusable.code).not.toBe(0);
  expect(oneLine(unusable)).toMatch(
    new RegExp(
      `${stateName()} is empty: a terraform run was killed while writing it .*there is no usable \\S*${stateName()}\\.backup to restore`,
    ),
  );
  expect(stateFiles()).toEqual(files2);
  expect(await allOurs()).toEqual(hosts);
});

test('cdktf diff restores a cut-off snapshot from its .backup, says so, keeps the cut-off, and changes no host', async () => {
  const cut = afterSecond.slice(0, Math.floor(afterSecond.length / 2));
  fs.writeFileSync(stateFile, cut);
  fs.writeFileSync(`${stateFile}.backup`, afterFirst);
  const hosts = await allOurs();
  const r = await cluster.cdktf(['diff']);
  if (r.code !== 0) throw new Error(describeCommand(r));
  const { serial, resources } = snapshot(afterFirst);
  expect(oneLine(r)).toMatch(
    new RegExp(
      `calico-net: \\S*${stateName()} holds a cut-off state snapshot: a terraform run was killed while writing it .*` +
        `Restored the state before that run from \\S*${stateName()}\\.backup \\(serial ${serial}, ${resources.length} resources\\)`,
    ),
  );
  // The restored state never knew the overlays the second deploy made: the diff plans them.
  expect(r.stdout).toMatch(/calico_overlay[^\n]*will be created/);
  expect(stateFiles()).toEqual({ state: afterFirst, backup: afterFirst, cutOff: cut });
  expect(await allOurs()).toEqual(hosts);
});

test('cdktf deploy restores an emptied state, says so, and converges: one overlay of ours per node, the plan empty, pods reach each other', async () => {
  fs.writeFileSync(stateFile, '');
  const r = await deploy();
  expect(oneLine(r)).toMatch(
    new RegExp(
      `calico-net: \\S*${stateName()} is empty: a terraform run was killed while writing it .*Restored the state before that run`,
    ),
  );
  const plan = await cluster.plan();
  if (plan.code !== 0) throw new Error(`not converged after the restore:\n${describeCommand(plan)}`);
  for (const node of NODES) {
    const links = (await cluster.sh(node, 'ip -o link show | grep -c "vxlan\\.calico.* alias calico-net"')).stdout;
    expect({ node, overlays: links.trim() }).toEqual({ node, overlays: '1' });
  }
  const pings = await cluster.pingAll();
  expect(pings).toHaveLength(2);
  expect(pings.filter((p) => !p.ok)).toEqual([]);
  // That deploy started from the restored state: its .backup is that state again.
  expect(snapshot(fs.readFileSync(`${stateFile}.backup`, 'utf8'))).toEqual(snapshot(afterFirst));
});

test('cdktf destroy restores an emptied state, says so, and the hosts end as they were before any deploy', async () => {
  // A kill inside the last deploy's writes: its .backup (no overlays) beside an empty file.
  fs.writeFileSync(stateFile, '');
  const r = await cluster.destroy();
  if (r.code !== 0) throw new Error(describeCommand(r));
  expect(oneLine(r)).toMatch(
    new RegExp(
      `calico-net: \\S*${stateName()} is empty: a terraform run was killed while writing it .*Restored the state before that run`,
    ),
  );
  expect(r.stdout).toMatch(/Destroy complete! Resources: [1-9]\d* destroyed/);
  for (const node of NODES) {
    expect({ node, ours: await ours(node) }).toEqual({ node, ours: '' });
    expect({ node, links: await links(node) }).toEqual({ node, links: linksBefore.get(node) });
  }
  expect(types(fs.readFileSync(stateFile, 'utf8'))).toEqual([]);
});
