/**
 * `npm run bench` (root): where the time goes, on real namespace labs.
 *
 * - provider start-up (process start → handshake line), median of 9;
 * - synth of a 1000-node × 10-workload inventory (no lab);
 * - for N nodes × 4 workloads, full mesh and route reflectors: synth, first deploy, no-op plan,
 *   plan after one drifted fact, repair deploy, the CI-gate flow (plan -out, then apply the
 *   saved plan), destroy; SSH connections opened per host per terraform command and per provider
 *   process; provider peak memory. A one-shot `cdktf deploy` runs Terraform's plan walk and apply
 *   walk in two provider processes, each with its own pool; applying a saved plan runs one.
 *
 * Prints one table and writes bench-results.json. BENCH_SIZES=4,16 picks the lab sizes
 * (default 4,16,32).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { stringify as toYaml } from 'yaml';
import { labDown, labUp, nodeExec, operatorExec, LabInfo } from '../lab';
import { automationEnv, cdktfBinary, writeOperatorProject } from '../cli/operator-project';
import { packageRoot } from '../providers/package-root';
import { measureStartup } from './startup';

interface Row {
  nodes: number;
  topology: string;
  synthS: number;
  deployS: number;
  noopPlanS: number;
  driftPlanS: number;
  repairS: number;
  destroyS: number;
  /** SSH connections opened per host during one terraform command (max over hosts): plan, apply. */
  connPerHostPlan: number;
  connPerHostDeploy: number;
  /** The CI-gate flow: `terraform apply <saved plan>` after a drift (no plan walk inside). */
  gateApplyS: number;
  connPerHostGateApply: number;
  maxConnPerHostPerProcess: number;
  providerProcesses: number;
  peakRssMb: number;
}

interface StatsLine {
  connections: Record<string, number>;
  maxRssKb: number;
}

function readStats(file: string): StatsLine[] {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
}

/** Connections per host summed over all provider processes of one command; the worst host. */
function connectionsPerHost(lines: StatsLine[]): number {
  const perHost = new Map<string, number>();
  for (const l of lines) for (const [h, n] of Object.entries(l.connections)) perHost.set(h, (perHost.get(h) ?? 0) + n);
  return Math.max(0, ...perHost.values());
}

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
    workloads: Array.from({ length: 10 }, (_, w) => ({ name: `w${w}`, ip: `198.19.${Math.floor(i / 4)}.${(i % 4) * 64 + w + 2}` })),
  }));
  const rr = nodes.slice(0, 3).map((n) => ({ ...n, routeReflector: true }));
  const inventory = { cluster: { name: 'big', podCidr: '198.19.0.0/16', topology: 'route-reflector' }, nodes: [...rr, ...nodes.slice(3)] };
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

async function runLab(n: number, routeReflectors: number, id: number): Promise<Row> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `calico-bench-${n}-`));
  // One stats file per command, so connections can be counted per terraform command.
  const statsFor = (step: string) => path.join(root, `stats-${step}.jsonl`);
  let lab: LabInfo | undefined;
  try {
    lab = await labUp({ dir: path.join(root, 'lab'), nodes: n, id, workloadsPerNode: 4, routeReflectors });
    const project = writeOperatorProject(path.join(root, 'project'));
    const stackDir = path.join(project, 'cdktf.out', 'stacks', `lab${id}`);
    const op = (step: string, argv: string[], cwd = project) =>
      operatorExec(lab!, argv, { cwd, env: { ...automationEnv(lab!.inventoryPath), CALICO_PROVIDER_STATS: statsFor(step) } });
    const must = async (step: string, argv: string[], cwd?: string, codes = [0]) => {
      const r = await op(step, argv, cwd);
      if (!codes.includes(r.code)) throw new Error(`${argv.join(' ')} exited ${r.code}:\n${(r.stdout + r.stderr).slice(-3000)}`);
      return r;
    };
    const [synthS] = await timed(() => must('synth', [cdktfBinary(), 'synth']));
    const [deployS] = await timed(() => must('deploy', [cdktfBinary(), 'deploy', '--auto-approve']));
    const plan = ['terraform', 'plan', '-detailed-exitcode', '-input=false', '-no-color'];
    const [noopPlanS] = await timed(() => must('noop-plan', plan, stackDir, [0]));
    const last = lab.nodes[n - 1].name;
    await nodeExec(lab, last, ['sysctl', '-w', 'net.ipv4.ip_forward=0']);
    const [driftPlanS] = await timed(() => must('drift-plan', plan, stackDir, [2]));
    const [repairS] = await timed(() => must('repair', [cdktfBinary(), 'deploy', '--auto-approve']));
    // The gate flow: plan -out in one command, apply the reviewed plan in another.
    await nodeExec(lab, last, ['sysctl', '-w', 'net.ipv4.ip_forward=0']);
    await must('gate-plan', [...plan, '-out=gate.tfplan'], stackDir, [2]);
    const [gateApplyS] = await timed(() => must('gate-apply', ['terraform', 'apply', '-input=false', '-no-color', 'gate.tfplan'], stackDir));
    const [destroyS] = await timed(() => must('destroy', [cdktfBinary(), 'destroy', '--auto-approve']));

    const steps = ['deploy', 'noop-plan', 'drift-plan', 'repair', 'gate-plan', 'gate-apply', 'destroy'];
    const lines = steps.flatMap((s) => readStats(statsFor(s)));
    const perHost = lines.flatMap((l) => Object.values<number>(l.connections));
    return {
      nodes: n,
      topology: routeReflectors ? `rr(${routeReflectors})` : 'mesh',
      synthS,
      deployS,
      noopPlanS,
      driftPlanS,
      repairS,
      destroyS,
      connPerHostPlan: connectionsPerHost(readStats(statsFor('noop-plan'))),
      connPerHostDeploy: connectionsPerHost(readStats(statsFor('repair'))),
      gateApplyS,
      connPerHostGateApply: connectionsPerHost(readStats(statsFor('gate-apply'))),
      maxConnPerHostPerProcess: Math.max(0, ...perHost),
      providerProcesses: lines.length,
      peakRssMb: Math.max(...lines.map((l) => l.maxRssKb)) / 1024,
    };
  } finally {
    if (lab) await labDown(lab.dir);
    fs.rmSync(root, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const sizes = (process.env.BENCH_SIZES ?? '4,16,32').split(',').map(Number);
  const startup = await measureStartup(9);
  process.stdout.write(`provider start-up: median ${startup.medianMs} ms (runs ${startup.runsMs.join(', ')})\n`);
  const synth1000 = synthLarge();
  process.stdout.write(`synth 1000 nodes x 10 workloads: ${synth1000.toFixed(1)} s\n`);

  const rows: Row[] = [];
  let id = 100;
  for (const n of sizes) {
    for (const rr of [0, 2]) {
      process.stdout.write(`lab: ${n} nodes, ${rr ? 'route reflectors' : 'full mesh'}...\n`);
      rows.push(await runLab(n, rr, id++));
    }
  }
  const header = ['nodes', 'topology', 'synth s', 'deploy s', 'no-op plan s', 'drift plan s', 'repair s', 'destroy s', 'ssh/host plan', 'ssh/host deploy', 'saved-plan apply s', 'ssh/host saved-plan apply', 'ssh/host/process', 'provider procs', 'peak RSS MB'];
  const cells = rows.map((r) => [
    String(r.nodes), r.topology, r.synthS.toFixed(1), r.deployS.toFixed(1), r.noopPlanS.toFixed(1), r.driftPlanS.toFixed(1),
    r.repairS.toFixed(1), r.destroyS.toFixed(1), String(r.connPerHostPlan), String(r.connPerHostDeploy), r.gateApplyS.toFixed(1), String(r.connPerHostGateApply), String(r.maxConnPerHostPerProcess), String(r.providerProcesses), r.peakRssMb.toFixed(0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const fmt = (c: string[]) => c.map((x, i) => x.padStart(widths[i])).join('  ');
  process.stdout.write(`\n${fmt(header)}\n${cells.map(fmt).join('\n')}\n`);
  const out = path.join(process.cwd(), 'bench-results.json');
  fs.writeFileSync(out, JSON.stringify({ startup, synth1000Seconds: synth1000, labs: rows }, null, 2) + '\n');
  process.stdout.write(`\nwritten: ${out}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
