/**
 * `npm run bench` (root): where the time goes, on real namespace labs, against the targets of
 * issue 13.
 *
 * - provider start-up (process start → handshake line), median of 9;
 * - synth of a 1000-node × 10-workload inventory (no lab);
 * - BENCH_NODES (default 32) nodes × 4 workloads, full mesh: synth, first deploy, no-op
 *   `cdktf deploy`, no-op `terraform plan`, plan after one drifted fact, repair deploy, the
 *   CI-gate flow (plan -out, then apply the saved plan), `calico-net verify`, a deploy with 10
 *   policies (bench/policy-lab.ts), `calico-net verify` of their truth table, a deploy without
 *   them, destroy; then the first deploy and destroy again with batching off
 *   (CALICO_BATCH_WINDOW_MS=0: one round trip per script), the "before" of issue 29 item 2;
 * - BENCH_BIG_NODES (default 128; 0 skips it) nodes × 4 workloads with 2 route reflectors:
 *   deploy, no-op plan, destroy.
 * - BENCH_SHARD_NODES (default 16; 0 skips it) nodes × 4 workloads in BENCH_SHARD_RACKS (default
 *   4) racks with 2 route reflectors on pg state, one stack against shards (bench/sharded.ts),
 *   on lab BENCH_SHARD_LAB_ID (default 172).
 * Labs use ids BENCH_LAB_ID (default 100) and the next one; BENCH_NODES=0 skips the main lab.
 * BENCH_STEPS="first deploy,destroy" (names as printed) runs only those steps of the labs, and
 * no start-up, 1000-node synth or floor runs: a quick look at one figure.
 * Per command: wall time; operator-side CPU (everything the command ran: cdktf, terraform,
 * providers) and the providers' share, with the load average at its start (the machine may be
 * shared, and CPU time says more than wall time then); SSH connections opened and remote shells
 * started per host (over all provider processes of the command), scripts sent (round trips) and
 * scripts asked for (calls) per host; provider peak RSS (each
 * process's own VmHWM); and node-side CPU per host: what the node's sshd and everything under it
 * (the remote shell and the scripts it runs) used, read from a cgroup holding the nodes' sshd
 * listeners (node-cpu.ts) once the command's sessions ended.
 *
 * Prints the targets table and one row per lab; writes bench-results.json.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { ansibleEnv, ansibleInventory, playbookArgv } from './ansible-peer';
import { labDown, labUp, missingPrerequisites, nodeExec, operatorExec, LabInfo } from '../lab';
import { automationEnv, cdktfBinary, writeOperatorProject } from '../cli/operator-project';
import { packageRoot } from '../providers/package-root';
import { measureStartup, unbundledEntry } from './startup';
import { NodeCpuMeter } from './node-cpu';
import { processCpuMs } from './measure';
import { kernelFloor, KernelFloor, SshFloor } from './floors';
import { runShardedBench, ShardedRun } from './sharded';
import { printPolicyBench, runPolicyBench } from './policy';
import { withBenchPolicies } from './policy-lab';

/** One measured command. */
interface Measured {
  seconds: number;
  /** Max over hosts of connections opened, summed over the command's provider processes. */
  connPerHost: number;
  /** Same for remote shells started (1 = no restarts). */
  shellsPerHost: number;
  /** Same for scripts run: round trips on the hosts' shells. */
  scriptsPerHost: number;
  /** Same for scripts the handlers asked for (more than round trips when batched, issue 29). */
  callsPerHost: number;
  /** Round trips and calls summed over all hosts: how much batching there was in the whole command. */
  scriptsTotal: number;
  callsTotal: number;
  /** Node-side CPU (sshd + shell + scripts) per host, ms. */
  nodeCpuMsPerHost: number;
  providerProcesses: number;
  peakRssMb: number;
  exitCode: number;
  /** CPU seconds of everything the command ran on the operator side (cdktf, terraform, providers). */
  operatorCpuS: number;
  /** CPU seconds of the command's provider processes (a part of operatorCpuS). */
  providerCpuS: number;
  /** The machine's 1-minute load average when the command started (others share the machine). */
  load: number;
}

interface LabRun {
  nodes: number;
  topology: string;
  /** Terraform resources in the stack once deployed (terraform state list). */
  resources?: number;
  steps: Record<string, Measured>;
  floors?: { ssh: SshFloor; kernel: KernelFloor };
}

/** The lab's floors (see floors.ts): SSH login and round trip from the operator, kernel work on a node. */
async function measureFloors(lab: LabInfo, meter: NodeCpuMeter): Promise<{ ssh: SshFloor; kernel: KernelFloor }> {
  const script = path.join(packageRoot(), 'dist', 'bench', 'floors.js');
  const hosts = lab.nodes.slice(0, 8).map((n) => n.address.split('/')[0]);
  const nodeCpuBefore = await meter.read();
  const r = await operatorExec(lab, [process.execPath, script, 'ssh', lab.knownHostsPath, lab.clientKeyPath, ...hosts]);
  if (r.code !== 0) throw new Error(`ssh floor: ${r.stderr}`);
  const ssh = JSON.parse(r.stdout.trim()) as SshFloor;
  // What a login costs the host itself (sshd, the login shell, our remote shell, 11 empty
  // scripts), which wall time on a loaded machine does not tell.
  ssh.nodeCpuMsPerLogin = ((await meter.read()) - nodeCpuBefore) / hosts.length;
  const kernel = await kernelFloor(lab, 128);
  process.stdout.write(
    `  floors: ssh login ${ssh.loginMs.toFixed(0)} ms/host (node-side CPU ${ssh.nodeCpuMsPerLogin?.toFixed(0)} ms per login with 11 empty scripts), script round trip ${ssh.roundTripMs.toFixed(1)} ms; ` +
      `${kernel.workloads} workloads' netns+veth by a plain shell: ${kernel.sequentialMs} ms, ${kernel.twoParallelMs} ms in 2 parallel shells\n`,
  );
  return { ssh, kernel };
}

interface StatsLine {
  connections: Record<string, number>;
  shells?: Record<string, number>;
  scripts?: Record<string, number>;
  calls?: Record<string, number>;
  maxRssKb: number;
  cpuMs?: number;
}

function readStats(file: string): StatsLine[] {
  return fs.existsSync(file)
    ? fs
        .readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : [];
}

/** Per host summed over all provider processes of one command; the worst host. */
function worstHost(lines: StatsLine[], pick: (l: StatsLine) => Record<string, number> | undefined): number {
  const perHost = new Map<string, number>();
  for (const l of lines) for (const [h, n] of Object.entries(pick(l) ?? {})) perHost.set(h, (perHost.get(h) ?? 0) + n);
  return Math.max(0, ...perHost.values());
}

/** Summed over every host and provider process of one command. */
function allHosts(lines: StatsLine[], pick: (l: StatsLine) => Record<string, number> | undefined): number {
  return lines.reduce((sum, l) => sum + Object.values(pick(l) ?? {}).reduce((a, b) => a + b, 0), 0);
}

/** CPU ms of this process's reaped descendants: every command it ran, with their children. */
const childrenCpuMs = (): number => processCpuMs('self').childrenMs;

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = process.hrtime.bigint();
  const r = await fn();
  return [Number(process.hrtime.bigint() - t) / 1e9, r];
}

function synthLarge(): number {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-bench-synth-'));
  const nodes = Array.from({ length: 1000 }, (_, i) => ({
    name: `node${i + 1}`,
    address: `198.18.${Math.floor((i + 1) / 250)}.${((i + 1) % 250) + 1}`,
    podCidr: `198.19.${Math.floor(i / 4)}.${(i % 4) * 64}/26`,
    workloads: Array.from({ length: 10 }, (_, w) => ({
      name: `w${w}`,
      ip: `198.19.${Math.floor(i / 4)}.${(i % 4) * 64 + w + 2}`,
    })),
  }));
  const rr = nodes.slice(0, 3).map((n) => ({ ...n, routeReflector: true }));
  const inventory = {
    cluster: { name: 'big', podCidr: '198.19.0.0/16', topology: 'route-reflector' },
    nodes: [...rr, ...nodes.slice(3)],
  };
  const file = path.join(dir, 'cluster.yaml');
  fs.writeFileSync(file, toYaml(inventory));
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [path.join(packageRoot(), 'dist', 'stacks', 'main.js')], {
    env: { ...process.env, CALICO_INVENTORY: file, CDKTF_OUTDIR: path.join(dir, 'out') },
    encoding: 'utf8',
  });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  fs.rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`large synth failed: ${r.stderr}`);
  return seconds;
}

type Step = [
  name: string,
  argv: string[],
  where: 'project' | 'stack',
  codes: number[],
  before?: () => Promise<unknown>,
  env?: NodeJS.ProcessEnv,
];

/** What a lab's steps may need besides the lab: the bench's scratch dir and the stack's resource count. */
interface StepContext {
  root: string;
  stackDir: string;
  countResources(): Promise<void>;
}

/**
 * An empty Terraform CLI config: each synthesized stack carries its own provider launcher and
 * lock file, so the bench needs no mirror and reads none of the user's settings.
 */
function emptyCliConfig(root: string): string {
  const file = path.join(root, 'terraformrc');
  fs.writeFileSync(file, '');
  return file;
}

async function runLab(
  n: number,
  routeReflectors: number,
  id: number,
  steps: (lab: LabInfo, plan: string[], context: StepContext) => Step[],
  floors = false,
): Promise<LabRun> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `calico-bench-${n}-`));
  // One stats file per command, so connections can be counted per terraform command.
  const statsFor = (step: string) => path.join(root, `stats-${step}.jsonl`);
  let lab: LabInfo | undefined;
  let meter: NodeCpuMeter | undefined;
  // Interrupted (Ctrl-C, timeout): take the lab down before leaving, or its namespaces stay.
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`bench: ${signal}, taking lab ${id} down\n`);
    void labDown(path.join(root, 'lab')).finally(() => {
      meter?.close();
      process.exit(130);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    process.stdout.write(
      `lab: ${n} nodes x 4 workloads, ${routeReflectors ? `${routeReflectors} route reflectors` : 'full mesh'}: building...\n`,
    );
    lab = await labUp({ dir: path.join(root, 'lab'), nodes: n, id, workloadsPerNode: 4, routeReflectors });
    meter = NodeCpuMeter.open(
      `calico-bench-${id}`,
      lab.nodes.map((node) => node.sshdPid),
    );
    process.stdout.write(`  node-side CPU counted by ${meter.method}\n`);
    const labFloors = floors ? await measureFloors(lab, meter) : undefined;
    const project = writeOperatorProject(path.join(root, 'project'));
    const cliConfig = emptyCliConfig(root);
    const stackDir = path.join(project, 'cdktf.out', 'stacks', `lab${id}`);
    const plan = ['terraform', 'plan', '-detailed-exitcode', '-input=false', '-no-color'];
    const measured: Record<string, Measured> = {};
    let resources: number | undefined;
    const countResources = async () => {
      const r = await operatorExec(lab!, ['terraform', 'state', 'list'], {
        cwd: stackDir,
        env: { ...automationEnv(lab!.inventoryPath), TF_CLI_CONFIG_FILE: cliConfig },
      });
      if (r.code === 0) resources = r.stdout.split('\n').filter(Boolean).length;
    };
    // BENCH_STEPS=a,b runs only the named steps (e.g. "synth,first deploy,destroy"), for a
    // quick look at one figure; the targets table then says what was not run.
    const only = process.env.BENCH_STEPS?.split(',').map((x) => x.trim());
    for (const [name, argv, where, codes, before, stepEnv] of steps(lab, plan, { root, stackDir, countResources })) {
      if (only && !only.includes(name)) continue;
      await before?.();
      const cpuBefore = await meter.read();
      const load = os.loadavg()[0];
      const operatorBefore = childrenCpuMs();
      const env = {
        ...automationEnv(lab.inventoryPath),
        TF_CLI_CONFIG_FILE: cliConfig,
        CALICO_PROVIDER_STATS: statsFor(name),
        ...stepEnv,
      };
      const [seconds, r] = await timed(() =>
        operatorExec(lab!, argv, { cwd: where === 'stack' ? stackDir : project, env }),
      );
      if (!codes.includes(r.code))
        throw new Error(`${name}: ${argv.join(' ')} exited ${r.code}:\n${(r.stdout + r.stderr).slice(-3000)}`);
      const operatorCpuS = (childrenCpuMs() - operatorBefore) / 1000;
      const cpu = (await meter.read()) - cpuBefore;
      const lines = readStats(statsFor(name));
      measured[name] = {
        seconds,
        connPerHost: worstHost(lines, (l) => l.connections),
        shellsPerHost: worstHost(lines, (l) => l.shells),
        scriptsPerHost: worstHost(lines, (l) => l.scripts),
        callsPerHost: worstHost(lines, (l) => l.calls ?? l.scripts),
        scriptsTotal: allHosts(lines, (l) => l.scripts),
        callsTotal: allHosts(lines, (l) => l.calls ?? l.scripts),
        nodeCpuMsPerHost: cpu / n,
        providerProcesses: lines.length,
        peakRssMb: Math.max(0, ...lines.map((l) => l.maxRssKb)) / 1024,
        exitCode: r.code,
        operatorCpuS,
        providerCpuS: lines.reduce((sum, l) => sum + (l.cpuMs ?? 0), 0) / 1000,
        load,
      };
      const note = r.code === codes[0] ? '' : ` (exit ${r.code}: ${r.stdout.split('\n')[0].slice(0, 200)})`;
      process.stdout.write(
        `  ${name}: ${seconds.toFixed(1)} s, operator CPU ${operatorCpuS.toFixed(1)} s, load ${load.toFixed(1)}${note}\n`,
      );
      for (const line of r.stderr.split('\n'))
        if (/^verify (phases|pass \d+): /.test(line)) process.stdout.write(`    ${line}\n`);
    }
    return {
      nodes: n,
      topology: routeReflectors ? `rr(${routeReflectors})` : 'mesh',
      resources,
      steps: measured,
      floors: labFloors,
    };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (lab) await labDown(lab.dir);
    meter?.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

const cdktf = (...args: string[]) => [cdktfBinary(), ...args];
const deploy = cdktf('deploy', '--auto-approve');
/** The provider with batching off (providers/ssh/batch.ts): one round trip per script. */
const UNBATCHED: NodeJS.ProcessEnv = { CALICO_BATCH_WINDOW_MS: '0' };

function mainLabSteps(lab: LabInfo, plan: string[], context: StepContext): Step[] {
  const last = lab.nodes[lab.nodes.length - 1].name;
  const drift = () => nodeExec(lab, last, ['sysctl', '-w', 'net.ipv4.ip_forward=0']);
  const verify = [
    process.execPath,
    path.join(packageRoot(), 'bin', 'calico-net.js'),
    'verify',
    '--inventory',
    lab.inventoryPath,
  ];
  const plain = fs.readFileSync(lab.inventoryPath, 'utf8');
  const policies = {
    add: async () => fs.writeFileSync(lab.inventoryPath, withBenchPolicies(plain)),
    remove: async () => fs.writeFileSync(lab.inventoryPath, plain),
  };
  return [
    ['synth', cdktf('synth'), 'project', [0]],
    ['first deploy', deploy, 'project', [0]],
    ['no-op deploy', deploy, 'project', [0], context.countResources],
    ['no-op plan', plan, 'stack', [0]],
    ['drift plan', plan, 'stack', [2], drift],
    ['repair deploy', deploy, 'project', [0]],
    // The gate flow: plan -out in one command, apply the reviewed plan in another.
    ['gate plan', [...plan, '-out=gate.tfplan'], 'stack', [2], drift],
    ['saved-plan apply', ['terraform', 'apply', '-input=false', '-no-color', 'gate.tfplan'], 'stack', [0]],
    // A failed pair is a finding to print, not a reason to lose the rest of the bench.
    ['verify', verify, 'project', [0, 1]],
    // Issue 22: verify with 10 policies (truth table on the wire), then the policies removed
    // again, so destroy tears down what the first deploy made.
    ['policy deploy', deploy, 'project', [0], policies.add],
    // CALICO_VERIFY_TIMING: verify says where its time went (listeners, each probe pass, stop).
    ['policy verify', verify, 'project', [0, 1], undefined, { CALICO_VERIFY_TIMING: '1' }],
    ['policy removal deploy', deploy, 'project', [0], policies.remove],
    ['destroy', cdktf('destroy', '--auto-approve'), 'project', [0]],
    // Issue 29 item 2, before and after: the same first deploy and destroy with every script its
    // own round trip (batching off), to set against the two rows above.
    ['first deploy (unbatched)', deploy, 'project', [0], undefined, UNBATCHED],
    ['destroy (unbatched)', cdktf('destroy', '--auto-approve'), 'project', [0], undefined, UNBATCHED],
    // The peer on the same lab, now back as it was: its first run, a second (no-op) run, and
    // --check (its plan) against the no-op state.
    ...ansibleSteps(lab, context),
  ];
}

function ansibleSteps(lab: LabInfo, context: StepContext): Step[] {
  const inventory = path.join(context.root, 'ansible-hosts.yml');
  const env = ansibleEnv(context.root);
  const writeInventory = async () =>
    fs.writeFileSync(inventory, ansibleInventory(lab, parseYaml(fs.readFileSync(lab.inventoryPath, 'utf8'))));
  return [
    [ANSIBLE_FIRST, playbookArgv(inventory), 'project', [0], writeInventory, env],
    [ANSIBLE_NOOP, playbookArgv(inventory), 'project', [0], undefined, env],
    [ANSIBLE_CHECK, playbookArgv(inventory, true), 'project', [0], undefined, env],
  ];
}

const ANSIBLE_FIRST = 'ansible first';
const ANSIBLE_NOOP = 'ansible no-op';
const ANSIBLE_CHECK = 'ansible --check';

const bigLabSteps = (_lab: LabInfo, plan: string[]): Step[] => [
  ['synth', cdktf('synth'), 'project', [0]],
  ['first deploy', deploy, 'project', [0]],
  ['no-op plan', plan, 'stack', [0]],
  ['destroy', cdktf('destroy', '--auto-approve'), 'project', [0]],
];

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((c) => c[i].length)));
  const fmt = (c: string[]) => c.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ');
  process.stdout.write(`${fmt(header)}\n${rows.map(fmt).join('\n')}\n`);
}

const CORES = os.cpus().length;

/**
 * Where a command's time went, so that a reader can tell what separate hosts would pay: CPU on
 * the operator per resource, CPU on each node, and how far the wall time is above all that CPU
 * spread over this machine's cores (time spent waiting: round trips, locks, sleeps, the load
 * of others on the machine).
 */
function costColumns(run: LabRun, m: Measured): string[] {
  const cpuS = m.operatorCpuS + (m.nodeCpuMsPerHost * run.nodes) / 1000;
  return [
    run.resources ? `${((m.operatorCpuS * 1000) / run.resources).toFixed(1)} ms` : '-',
    `${m.nodeCpuMsPerHost.toFixed(0)} ms`,
    `${(m.seconds - cpuS / CORES).toFixed(1)} s`,
    m.load.toFixed(1),
  ];
}

/** The issue's targets, each with what was measured, whether it is met, and where the time went. */
function targetRows(main: LabRun | undefined, big: LabRun | undefined): string[][] {
  const rows: string[][] = [];
  const at = (run: LabRun, size: number) => (run.nodes === size ? '' : ` (n/a: ${run.nodes} nodes)`);
  const label = (run: LabRun, what: string) =>
    `${what} (${run.nodes}x4${run.topology === 'mesh' ? '' : `, ${run.topology}`})`;
  const failed = (m: Measured, ok: number[] = [0]) => (ok.includes(m.exitCode) ? '' : `NO (exit ${m.exitCode})`);
  const notRun = (run: LabRun, what: string) =>
    rows.push([label(run, what), '', 'not run (BENCH_STEPS)', '', '', '', '', '']);
  const seconds = (run: LabRun, step: string, limit: number, size: number, what: string) => {
    const m = run.steps[step];
    if (!m) return notRun(run, what);
    const met = failed(m) || `${m.seconds <= limit ? 'yes' : 'NO'}${at(run, size)}`;
    rows.push([label(run, what), `<= ${limit} s`, `${m.seconds.toFixed(1)} s`, met, ...costColumns(run, m)]);
  };
  /** Ours against the peer's: the peer's wall time over ours, at least `factor`. */
  const ratio = (run: LabRun, ours: string, peer: string, factor: number, what: string) => {
    const m = run.steps[ours];
    const p = run.steps[peer];
    if (!m || !p) return notRun(run, `${what}: ${ours} vs ${peer}`);
    const x = p.seconds / m.seconds;
    const met = failed(m) || failed(p) || `${x >= factor ? 'yes' : 'NO'}${at(run, 32)}`;
    rows.push([
      label(run, `${what}: ${ours} vs ${peer}`),
      `>= ${factor}x`,
      `${m.seconds.toFixed(1)} / ${p.seconds.toFixed(1)} s = ${x.toFixed(1)}x`,
      met,
      ...costColumns(run, m),
    ]);
    rows.push([label(run, `  the peer: ${peer}`), '', `${p.seconds.toFixed(1)} s`, '', ...costColumns(run, p)]);
  };
  if (main) {
    ratio(main, 'first deploy', ANSIBLE_FIRST, 5, 'first deploy');
    ratio(main, 'no-op deploy', ANSIBLE_NOOP, 8, 'no-op cdktf deploy');
    ratio(main, 'no-op plan', ANSIBLE_CHECK, 15, 'no-op terraform plan');
    const d = main.steps.destroy;
    const f = main.steps['first deploy'];
    if (!d || !f) notRun(main, 'destroy vs first deploy');
    else
      rows.push([
        label(main, 'destroy vs first deploy'),
        '<= 1x',
        `${d.seconds.toFixed(1)} / ${f.seconds.toFixed(1)} s = ${(d.seconds / f.seconds).toFixed(2)}x`,
        failed(d) || (d.seconds <= f.seconds ? 'yes' : 'NO'),
        ...costColumns(main, d),
      ]);
    seconds(main, 'verify', 15, 32, 'calico-net verify, passing');
    seconds(main, 'policy verify', 30, 32, 'calico-net verify with 10 policies, passing (issue 22)');
  } else {
    rows.push(['32 nodes: the peer ratios, destroy, verify', '', 'not run (BENCH_NODES=0)', '', '', '', '', '']);
  }
  if (big) {
    seconds(big, 'no-op plan', 10, 128, 'no-op plan');
    const rss = Math.max(...Object.values(big.steps).map((m) => m.peakRssMb));
    rows.push([
      label(big, 'provider peak RSS'),
      '<= 150 MB',
      `${rss.toFixed(0)} MB`,
      `${rss <= 150 ? 'yes' : 'NO'}${at(big, 128)}`,
      '',
      '',
      '',
      '',
    ]);
  } else {
    rows.push(['128 nodes: no-op plan, peak RSS', '', 'not run (BENCH_BIG_NODES=0)', '', '', '', '', '']);
  }
  if (main?.floors) {
    const { ssh, kernel } = main.floors;
    rows.push([
      'floor: ssh login + remote shell start per host (wall)',
      'measured',
      `${ssh.loginMs.toFixed(0)} ms`,
      '-',
      '',
      '',
      '',
      '',
    ]);
    rows.push([
      'floor: node-side CPU of one login (+11 empty scripts)',
      'measured',
      `${ssh.nodeCpuMsPerLogin?.toFixed(0)} ms`,
      '-',
      '',
      '',
      '',
      '',
    ]);
    rows.push([
      'floor: script round trip on a running shell',
      'measured',
      `${ssh.roundTripMs.toFixed(1)} ms`,
      '-',
      '',
      '',
      '',
      '',
    ]);
    rows.push([
      `floor: ${kernel.workloads} workloads by a plain shell (1 / 2 shells)`,
      'measured',
      `${(kernel.sequentialMs / 1000).toFixed(1)} / ${(kernel.twoParallelMs / 1000).toFixed(1)} s`,
      '-',
      '',
      '',
      '',
      '',
    ]);
  }
  return rows;
}

async function main(): Promise<void> {
  // The bench runs the Ansible peer too: a missing tool is an error here, never a shorter table.
  const missing = missingPrerequisites('bench');
  if (missing.length) throw new Error(`missing: ${missing.join(', ')} (npm run bench installs them as root)`);
  const nodes = Number(process.env.BENCH_NODES ?? 32);
  const bigNodes = Number(process.env.BENCH_BIG_NODES ?? 128);
  // Before (every module on its own) and after (the launcher and its one-file bundle), interleaved
  // in time as little as possible apart so the machine's load treats both alike.
  // BENCH_STEPS (a quick look at chosen lab steps) leaves out the start-up, synth and floor runs.
  const quick = process.env.BENCH_STEPS !== undefined;
  const unbundled = quick ? undefined : await measureStartup(9, unbundledEntry());
  const startup = quick ? undefined : await measureStartup(9);
  for (const [what, s] of [
    ['unbundled main.js', unbundled],
    ['start.js (bundle)', startup],
  ] as const) {
    if (!s) continue;
    process.stdout.write(
      `provider start-up, ${what}: median ${s.medianMs} ms, CPU ${s.medianCpuMs} ms (runs ${s.runsMs.join(', ')})\n`,
    );
  }
  const synth1000 = quick ? undefined : synthLarge();
  if (synth1000 !== undefined) process.stdout.write(`synth 1000 nodes x 10 workloads: ${synth1000.toFixed(1)} s\n`);

  // Lab ids are shared out among the people on a machine: BENCH_LAB_ID picks ours (the big lab
  // takes the next one).
  const labId = Number(process.env.BENCH_LAB_ID ?? 100);
  const labs: LabRun[] = [];
  if (nodes > 0) labs.push(await runLab(nodes, 0, labId, mainLabSteps, !quick));
  if (bigNodes > 0) labs.push(await runLab(bigNodes, 2, labId + 1, bigLabSteps));
  const shardNodes = Number(process.env.BENCH_SHARD_NODES ?? 16);
  const sharded: ShardedRun | undefined =
    shardNodes > 0
      ? await runShardedBench(
          shardNodes,
          Number(process.env.BENCH_SHARD_RACKS ?? 4),
          Number(process.env.BENCH_SHARD_LAB_ID ?? 172),
        )
      : undefined;
  const main = nodes > 0 ? labs[0] : undefined;
  const big = bigNodes > 0 ? labs[labs.length - 1] : undefined;

  process.stdout.write(`\ntargets (issue 29); ${CORES} cores\n`);
  // op CPU/resource: everything the command ran on the operator side (cdktf, terraform,
  // providers; ansible and its ssh for the peer) over the stack's resources; node CPU/host: each
  // node's sshd and all under it; waiting: wall time minus all that CPU over the cores.
  printTable(
    ['measurement', 'target', 'measured', 'met', 'op CPU/resource', 'node CPU/host', 'waiting', 'load'],
    targetRows(main, big),
  );

  process.stdout.write('\nper command\n');
  const rows = labs.flatMap((run) =>
    Object.entries(run.steps).map(([step, m]) => [
      // Commands without a provider process (synth, calico-net verify) have no provider columns.
      `${run.nodes}x4 ${run.topology}`,
      step,
      m.seconds.toFixed(1),
      ...(m.providerProcesses
        ? [
            String(m.connPerHost),
            String(m.shellsPerHost),
            String(m.scriptsPerHost),
            String(m.callsPerHost ?? '-'),
            `${m.scriptsTotal ?? '-'}/${m.callsTotal ?? '-'}`,
          ]
        : ['-', '-', '-', '-', '-']),
      m.nodeCpuMsPerHost.toFixed(0),
      String(m.providerProcesses),
      m.providerProcesses ? m.peakRssMb.toFixed(0) : '-',
      m.operatorCpuS.toFixed(1),
      m.providerProcesses ? m.providerCpuS.toFixed(1) : '-',
      (m.seconds - (m.operatorCpuS + (m.nodeCpuMsPerHost * run.nodes) / 1000) / CORES).toFixed(1),
      m.load.toFixed(1),
    ]),
  );
  // Wall time depends on who else uses the machine; CPU time much less so.
  printTable(
    [
      'lab',
      'command',
      'wall s',
      'ssh conn/host',
      'shells/host',
      'scripts/host',
      'calls/host',
      'round trips/calls, all hosts',
      'node CPU ms/host',
      'provider procs',
      'peak RSS MB',
      'operator CPU s',
      'provider CPU s',
      'waiting s',
      'load',
    ],
    rows,
  );
  // Network policy (issue 22): ruleset load and throughput on lab 65's namespaces; BENCH_POLICY=0 skips it.
  const policy = process.env.BENCH_POLICY === '0' ? undefined : runPolicyBench();
  if (policy) printPolicyBench(policy);
  const out = path.join(process.cwd(), 'bench-results.json');
  fs.writeFileSync(
    out,
    JSON.stringify(
      { startup, unbundledStartup: unbundled, synth1000Seconds: synth1000, labs, sharded, policy },
      null,
      2,
    ) + '\n',
  );
  process.stdout.write(`\nwritten: ${out}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
