/**
 * The sharded case of `npm run bench` (issue 27): one cluster of BENCH_SHARD_NODES nodes × 4
 * workloads (2 of them route reflectors) in BENCH_SHARD_RACKS racks, on PostgreSQL state, on
 * lab BENCH_SHARD_LAB_ID (default 172; past 200 nodes the lab spans 198.18.172.0/23, ids 172 and 173).
 *
 * 1. deployed as one stack; its no-op plan;
 * 2. `calico-net shard migrate` into one stack per rack plus the reflectors';
 * 3. the no-op plan of one rack, and of every shard at once;
 * 4. a one-rack change end to end (`cdktf deploy <cluster>-<rack>`: synth, plan, apply);
 * 5. the pg lock: two racks applying at once (both succeed), two applies of one rack at once
 *    (one refused with the lock error);
 * 6. `cdktf destroy '<cluster>-*'`.
 *
 * Per-resource costs (plan seconds / resources in the stack) are printed so the README's
 * estimate for larger fleets can be redone from them.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { labDown, labUp, operatorExec, LabInfo } from '../lab';
import { startPostgres, Postgres } from '../lab/postgres';
import { workloadAddress } from '../lab/lab';
import { automationEnv, cdktfBinary, writeOperatorProject } from '../cli/operator-project';
import { packageRoot } from '../providers/package-root';
import { processCpuMs } from './measure';

export interface ShardedStep {
  step: string;
  seconds: number;
  /**
   * Operator-side CPU seconds of everything the step ran (cdktf, terraform, providers): on a
   * shared, loaded machine a steadier measure than wall time.
   */
  cpuSeconds: number;
  /** The machine's 1-minute load average when the step started. */
  load: number;
  /** Resources in the stack(s) the step worked on. */
  resources?: number;
  note?: string;
}

export interface ShardedRun {
  nodes: number;
  racks: number;
  routeReflectors: number;
  steps: ShardedStep[];
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** CPU and load of the step being timed (set by timed(), read by record()). */
let lastCpuSeconds = 0;
let lastLoad = 0;

async function timed(fn: () => Promise<Result>): Promise<[number, Result]> {
  lastLoad = os.loadavg()[0];
  const cpu = processCpuMs('self').childrenMs;
  const t = process.hrtime.bigint();
  const r = await fn();
  lastCpuSeconds = (processCpuMs('self').childrenMs - cpu) / 1000;
  return [Number(process.hrtime.bigint() - t) / 1e9, r];
}

function must(name: string, r: Result, codes = [0]): Result {
  if (!codes.includes(r.code)) throw new Error(`${name}: exit ${r.code}\n${(r.stdout + r.stderr).slice(-3000)}`);
  return r;
}

const rackName = (i: number) => `rack${i + 1}`;

export async function runShardedBench(nodes: number, racks: number, id: number): Promise<ShardedRun> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `calico-bench-shards-${nodes}-`));
  let lab: LabInfo | undefined;
  let pg: Postgres | undefined;
  const steps: ShardedStep[] = [];
  const record = (step: Omit<ShardedStep, 'cpuSeconds' | 'load'>) => {
    const s: ShardedStep = { ...step, cpuSeconds: lastCpuSeconds, load: lastLoad };
    steps.push(s);
    const perResource = s.resources
      ? `; per resource ${((s.seconds * 1000) / s.resources).toFixed(0)} ms wall, ${((s.cpuSeconds * 1000) / s.resources).toFixed(0)} ms CPU (${s.resources} resources)`
      : '';
    process.stdout.write(
      `  ${s.step}: ${s.seconds.toFixed(1)} s wall, operator CPU ${s.cpuSeconds.toFixed(1)} s, load ${s.load.toFixed(1)}${perResource}${s.note ? `; ${s.note}` : ''}\n`,
    );
  };
  try {
    process.stdout.write(
      `sharded lab: ${nodes} nodes x 4 workloads in ${racks} racks, 2 route reflectors, pg state: building...\n`,
    );
    pg = startPostgres();
    lab = await labUp({ dir: path.join(root, 'lab'), nodes, id, workloadsPerNode: 4, routeReflectors: 2 });
    const project = writeOperatorProject(path.join(root, 'project'));
    const cliConfig = path.join(root, 'terraformrc');
    fs.writeFileSync(cliConfig, '');
    const env = { ...automationEnv(lab.inventoryPath), TF_CLI_CONFIG_FILE: cliConfig, PG_CONN_STR: pg.connStr };
    const cluster = `lab${id}`;
    const inventory = parseYaml(fs.readFileSync(lab.inventoryPath, 'utf8'));
    inventory.state = { backend: 'pg', schemaName: `calico_${cluster}` };
    const clients = inventory.nodes.filter((n: { routeReflector?: boolean }) => !n.routeReflector);
    // Contiguous racks of (nearly) equal size.
    clients.forEach((n: { rack?: string }, i: number) => (n.rack = rackName(Math.floor((i * racks) / clients.length))));
    const write = () => fs.writeFileSync(lab!.inventoryPath, toYaml(inventory));
    write();

    const inLab = (argv: string[], cwd = project) => operatorExec(lab!, argv, { cwd, env });
    const cdktf = (...args: string[]) => inLab([cdktfBinary(), ...args]);
    const stackDir = (stack: string) => path.join(project, 'cdktf.out', 'stacks', stack);
    const plan = (stack: string) =>
      inLab(
        ['terraform', 'plan', '-detailed-exitcode', '-input=false', '-no-color', '-lock-timeout=120s'],
        stackDir(stack),
      );
    const resourcesIn = (stack: string) => {
      const json = JSON.parse(fs.readFileSync(path.join(stackDir(stack), 'cdk.tf.json'), 'utf8'));
      return Object.values<Record<string, unknown>>(json.resource ?? {}).reduce(
        (sum, byName) => sum + Object.keys(byName).length,
        0,
      );
    };

    let [s, r] = await timed(() => cdktf('deploy', '--auto-approve'));
    must('single-stack deploy', r);
    record({ step: 'one stack: first deploy', seconds: s, resources: resourcesIn(cluster) });
    [s, r] = await timed(() => plan(cluster));
    must('single-stack no-op plan', r);
    record({ step: 'one stack: no-op plan', seconds: s, resources: resourcesIn(cluster) });

    inventory.cluster.sharding = 'byRack';
    write();
    [s, r] = await timed(() =>
      inLab([process.execPath, path.join(packageRoot(), 'bin', 'calico-net.js'), 'shard', 'migrate']),
    );
    must('shard migrate', r);
    record({ step: 'calico-net shard migrate', seconds: s, note: `${racks + 1} shard states written` });

    const shards = [
      ...Array.from({ length: racks }, (_, i) => `${cluster}-${rackName(i)}`),
      `${cluster}-route-reflectors`,
    ];
    const first = shards[0];
    [s, r] = await timed(() => plan(first));
    must('one rack no-op plan', r);
    record({ step: 'one rack: no-op plan', seconds: s, resources: resourcesIn(first) });
    [s, r] = await timed(() => plan(`${cluster}-route-reflectors`));
    must('reflectors no-op plan', r);
    record({ step: 'route reflectors: no-op plan', seconds: s, resources: resourcesIn(`${cluster}-route-reflectors`) });
    const allPlans = await timed(async () => {
      const results = await Promise.all(shards.map(plan));
      const bad = results.findIndex((x) => x.code !== 0);
      return bad < 0 ? results[0] : { ...results[bad], stdout: `${shards[bad]}: ${results[bad].stdout}` };
    });
    must('every shard planned at once', allPlans[1]);
    record({
      step: `all ${shards.length} shards: no-op plans at once`,
      seconds: allPlans[0],
      resources: shards.reduce((n, x) => n + resourcesIn(x), 0),
    });

    // A one-rack change: a workload more on the rack's first node, deployed from the inventory.
    const addWorkload = (rack: string, suffix: string) => {
      const node = inventory.nodes.find((n: { rack?: string }) => n.rack === rack);
      // Inside the node's block whatever its size (a wide lab's blocks are /25s).
      node.workloads.push({ name: `extra${suffix}`, ip: workloadAddress(node.podCidr, 100 + node.workloads.length) });
    };
    addWorkload(rackName(0), 'a');
    write();
    [s, r] = await timed(() => cdktf('deploy', first, '--auto-approve'));
    must('one-rack change', r);
    record({
      step: 'one rack changed: cdktf deploy of its stack (synth + plan + apply)',
      seconds: s,
      resources: resourcesIn(first),
    });

    // Two racks at once: both apply, each under its own lock.
    const [second, third] = [shards[1 % racks], shards[2 % racks]];
    addWorkload(rackName(1 % racks), 'b');
    addWorkload(rackName(2 % racks), 'c');
    write();
    must('synth', await cdktf('synth'));
    const apply = (stack: string) =>
      inLab(['terraform', 'apply', '-auto-approve', '-input=false', '-no-color', '-lock-timeout=0s'], stackDir(stack));
    const both = await timed(async () => {
      const rs = await Promise.all([apply(second), apply(third)]);
      return {
        code: rs.every((x) => x.code === 0) ? 0 : 1,
        stdout: rs.map((x) => x.stdout).join('\n'),
        stderr: rs.map((x) => x.stderr).join('\n'),
      };
    });
    must('two racks at once', both[1]);
    record({ step: `two racks applied at once (${second}, ${third})`, seconds: both[0], note: 'both applied' });

    // Two applies of one rack: one holds the lock, the other is refused.
    addWorkload(rackName(0), 'd');
    write();
    must('synth', await cdktf('synth'));
    const [sameS, same] = await timed(async () => {
      const rs = await Promise.all([apply(first), apply(first)]);
      const refused = rs.filter(
        (x) => x.code !== 0 && /Error acquiring the state lock/.test(x.stdout + x.stderr),
      ).length;
      const applied = rs.filter((x) => x.code === 0).length;
      return {
        code: refused === 1 && applied === 1 ? 0 : 1,
        stdout: `refused ${refused}, applied ${applied}`,
        stderr: rs.map((x) => x.stderr).join('\n'),
      };
    });
    must('two applies of one rack', same);
    record({
      step: `two applies of ${first} at once`,
      seconds: sameS,
      note: 'one applied, one refused by the pg lock',
    });

    [s, r] = await timed(() =>
      cdktf('destroy', `${cluster}-*`, '--auto-approve', '--parallelism', String(shards.length)),
    );
    must('destroy', r);
    record({ step: `cdktf destroy '${cluster}-*' --parallelism ${shards.length}`, seconds: s });
    return { nodes, racks, routeReflectors: 2, steps };
  } finally {
    if (lab) await labDown(lab.dir);
    pg?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
}
