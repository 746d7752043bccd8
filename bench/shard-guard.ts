/**
 * What the shard guard (stacks/shard-guard.ts) adds to every synthesis, on pg state and on
 * local state: `node dist/bench/shard-guard.js` (root: it starts a throwaway PostgreSQL,
 * lab/postgres.ts; no lab, no terraform). BENCH_GUARD_RACKS (default 8) racks of
 * BENCH_GUARD_NODES_PER_RACK (default 32) nodes × 4 workloads, every shard deployed (its state
 * holds what its stack declares, each resource with its synthesized configuration as attributes,
 * so rows are of a real state's size), BENCH_GUARD_RUNS (default 7) runs each.
 *
 * Each run is a fresh node process, as synthesis is: it loads the modules the guard needs, then
 * times the guard call alone (wall and its process's CPU). The pg figure includes loading the
 * `pg` client (the first import of a synthesis pays it), opening the connection and both queries.
 * Prints the median and the range; writes nothing.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { startPostgres } from '../lab/postgres';
import { median } from './measure';

interface GuardTiming {
  wallMs: number;
  cpuMs: number;
}

/** The child: one guard call on an already synthesized outdir, timed. */
async function child(inventory: string, outdir: string, projectDir: string): Promise<void> {
  const { loadInventory } = await import('../stacks/inventory');
  const { guardShardMoves } = await import('../stacks/shard-guard');
  const cluster = loadInventory(inventory);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await guardShardMoves(cluster, outdir, projectDir);
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(JSON.stringify({ wallMs, cpuMs: (cpu.user + cpu.system) / 1000 }) + '\n');
}

function inventoryText(racks: number, perRack: number, state: string): string {
  const lines = [`cluster: { name: bench, podCidr: 198.19.0.0/16, sharding: byRack }`, 'nodes:'];
  let n = 0;
  for (let r = 1; r <= racks; r++)
    for (let i = 0; i < perRack; i++, n++) {
      const ip = (k: number) => `198.19.${Math.floor(n / 2)}.${(n % 2) * 128 + k}`;
      const workloads = [1, 2, 3, 4].map((k) => `{ name: w${k}, ip: ${ip(k + 1)} }`).join(', ');
      lines.push(
        `  - { name: n${n}, rack: r${r}, address: 198.18.${175 + Math.floor(n / 250)}.${(n % 250) + 1}, podCidr: ${ip(0)}/25, workloads: [${workloads}] }`,
      );
    }
  lines.push(state);
  return lines.join('\n') + '\n';
}

/** A state holding exactly what a synthesized stack declares, each with its configuration. */
function stateOf(stackDir: string, serial: number): string {
  const json = JSON.parse(fs.readFileSync(path.join(stackDir, 'cdk.tf.json'), 'utf8'));
  const resources = Object.entries<Record<string, unknown>>(json.resource ?? {}).flatMap(([type, byName]) =>
    Object.entries(byName).map(([name, config]) => ({
      mode: 'managed',
      type,
      name,
      provider: 'provider["registry.terraform.io/calico-net/calico"]',
      instances: [{ schema_version: 0, attributes: config }],
    })),
  );
  return JSON.stringify({ version: 4, terraform_version: '1.11.4', serial, lineage: 'bench', outputs: {}, resources });
}

function runs(n: number, argv: string[], env: NodeJS.ProcessEnv): GuardTiming[] {
  const out: GuardTiming[] = [];
  for (let i = 0; i < n; i++) {
    const r = spawnSync(process.execPath, [__filename, '--child', ...argv], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`guard run failed (${r.status}):\n${r.stdout}${r.stderr}`);
    out.push(JSON.parse(r.stdout.trim().split('\n').pop()!));
  }
  return out;
}

function summary(label: string, xs: GuardTiming[]): string {
  const fmt = (v: number[]) => `${median(v).toFixed(1)} ms (${Math.min(...v).toFixed(1)}-${Math.max(...v).toFixed(1)})`;
  return `${label}: wall ${fmt(xs.map((x) => x.wallMs))}, CPU ${fmt(xs.map((x) => x.cpuMs))}`;
}

async function main(): Promise<void> {
  const racks = Number(process.env.BENCH_GUARD_RACKS ?? 8);
  const perRack = Number(process.env.BENCH_GUARD_NODES_PER_RACK ?? 32);
  const n = Number(process.env.BENCH_GUARD_RUNS ?? 7);
  const { App } = await import('cdktf');
  const { parseInventory } = await import('../stacks/inventory');
  const { buildClusterStacks } = await import('../stacks/shards');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-guard-bench-'));
  const pg = startPostgres();
  try {
    const synth = (name: string, state: string) => {
      const inventory = path.join(dir, `${name}.yaml`);
      fs.writeFileSync(inventory, inventoryText(racks, perRack, state));
      const outdir = path.join(dir, `${name}-out`);
      const app = new App({ outdir });
      buildClusterStacks(app, parseInventory(fs.readFileSync(inventory, 'utf8'), inventory));
      app.synth();
      return { inventory, outdir, stacks: fs.readdirSync(path.join(outdir, 'stacks')).sort() };
    };
    // pg: each shard's schema and row, as Terraform's pg backend makes them.
    const onPg = synth('pg', 'state: { backend: pg, schemaName: calico_bench }');
    let bytes = 0;
    for (const stack of onPg.stacks) {
      const schema = `calico_bench_${stack.slice('bench-'.length).replace(/-/g, '_')}`;
      const data = stateOf(path.join(onPg.outdir, 'stacks', stack), 1);
      bytes += data.length;
      const file = path.join(dir, `${schema}.json`);
      fs.writeFileSync(file, data);
      fs.chmodSync(dir, 0o755);
      fs.chmodSync(file, 0o644);
      pg.psql(
        `CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.states (id bigserial PRIMARY KEY, name text, data text);` +
          ` CREATE UNIQUE INDEX ON ${schema}.states (name); INSERT INTO ${schema}.states (name, data) VALUES ('default', pg_read_file('${file}'))`,
      );
    }
    // local: cdktf's default files in the project directory.
    const onLocal = synth('local', '');
    for (const stack of onLocal.stacks)
      fs.writeFileSync(
        path.join(dir, `terraform.${stack}.tfstate`),
        stateOf(path.join(onLocal.outdir, 'stacks', stack), 1),
      );
    const env = { ...process.env, PG_CONN_STR: pg.connStr };
    const pgRuns = runs(n, [onPg.inventory, onPg.outdir, dir], env);
    const localRuns = runs(n, [onLocal.inventory, onLocal.outdir, dir], env);
    const load = os.loadavg()[0].toFixed(1);
    process.stdout.write(
      `shard guard, ${racks} racks × ${perRack} nodes × 4 workloads (${onPg.stacks.length} shard states, ` +
        `${(bytes / 1e6).toFixed(1)} MB of pg rows), ${n} runs, load ${load}:\n` +
        `  ${summary('pg (one connection, 2 queries)', pgRuns)}\n  ${summary('local files', localRuns)}\n`,
    );
  } finally {
    pg.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  void child(process.argv[3], process.argv[4], process.argv[5]);
} else {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exitCode = 1;
  });
}
