/**
 * `calico-net shard migrate [--inventory FILE] [--dir PROJECT]`
 *
 * Moves a cluster deployed as one stack into its shard stacks (`sharding: byRack`) without
 * touching a host: each shard's resources keep their Terraform address (the constructs have the
 * same ids in every stack), so their state entries move as they are into the shard's own state,
 * and the next plan of every shard is empty.
 *
 * Order, so that an interruption loses nothing: read the single stack's state; refuse (writing
 * nothing) if any of its resources belongs to no shard, or a shard's state already holds
 * something else; push each shard's part into its state (a shard already holding exactly its part
 * is skipped, so a second run finishes an interrupted one); only then empty the single stack's
 * state, which from then on owns nothing. Works with any backend Terraform can push to (pg: each
 * shard's schema; local: each shard's file), always through terraform itself, under its lock.
 */
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ClusterSpec } from '../constructs/model';
import { shardsOf } from '../constructs/shards';
import { ClusterValidationError } from '../constructs/validation';
import { loadInventory } from '../stacks/inventory';
import { inventoryPathFrom } from './cluster-hosts';
import { synthesizeProject, stackDirectory } from './project';
import { runTerraform, terraformErrorText } from './terraform';

interface StateResource {
  mode: string;
  type: string;
  name: string;
  module?: string;
}

interface StateFile {
  version: number;
  terraform_version: string;
  serial: number;
  lineage: string;
  outputs?: Record<string, unknown>;
  resources: StateResource[];
  check_results?: unknown;
}

const addressOf = (r: StateResource) =>
  `${r.module ? `${r.module}.` : ''}${r.mode === 'data' ? 'data.' : ''}${r.type}.${r.name}`;

/** The single stack's backend block, as buildClusterStack writes it for this cluster's `state:`. */
export function singleStackBackend(cluster: ClusterSpec, projectDir: string): Record<string, Record<string, string>> {
  const state = cluster.state;
  if (state?.backend === 'pg') {
    return {
      pg: {
        ...(state.connStr ? { conn_str: state.connStr } : {}),
        ...(state.schemaName ? { schema_name: state.schemaName } : {}),
      },
    };
  }
  // cdktf's default: terraform.<stack>.tfstate in the directory the app runs in (the project).
  return {
    local: {
      path:
        state?.backend === 'local' && state.path
          ? state.path
          : path.join(projectDir, `terraform.${cluster.name}.tfstate`),
    },
  };
}

/** The resource addresses a synthesized stack declares. */
function declaredAddresses(stackDir: string): Set<string> {
  const json = JSON.parse(fs.readFileSync(path.join(stackDir, 'cdk.tf.json'), 'utf8'));
  const out = new Set<string>();
  for (const [type, byName] of Object.entries<Record<string, unknown>>(json.resource ?? {}))
    for (const name of Object.keys(byName)) out.add(`${type}.${name}`);
  for (const [type, byName] of Object.entries<Record<string, unknown>>(json.data ?? {}))
    for (const name of Object.keys(byName)) out.add(`data.${type}.${name}`);
  return out;
}

async function terraformOk(args: string[], cwd: string, what: string): Promise<string> {
  const r = await runTerraform(args, { cwd });
  if (r.code !== 0) throw new Error(`${what}: terraform ${args[0]} ${args[1] ?? ''} failed:\n${terraformErrorText(r)}`);
  return r.stdout;
}

async function pullState(dir: string, what: string): Promise<StateFile | null> {
  if (!fs.existsSync(path.join(dir, '.terraform'))) await terraformOk(['init', '-input=false', '-no-color'], dir, what);
  const text = (await terraformOk(['state', 'pull'], dir, what)).trim();
  return text === '' ? null : (JSON.parse(text) as StateFile);
}

async function pushState(dir: string, state: StateFile, what: string): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-migrate-'));
  try {
    const file = path.join(tmp, 'state.tfstate');
    // The state holds the BGP passwords: readable by us only, and gone right after the push.
    fs.writeFileSync(file, JSON.stringify(state, null, 2), { mode: 0o600 });
    await terraformOk(['state', 'push', '-lock-timeout=60s', file], dir, what);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export interface MigrateResult {
  moved: { stack: string; resources: number }[];
  skipped: string[];
  /** Declared in a shard, absent from the old state: the next deploy creates them. */
  notDeployed: string[];
}

export async function migrateToShards(
  projectDir: string,
  inventory: string,
  log: (line: string) => void,
): Promise<MigrateResult> {
  const cluster = loadInventory(inventory);
  const shards = shardsOf(cluster);
  if (shards.length === 0) throw new Error(`${inventory}: cluster.sharding is not set; nothing to migrate to`);
  await synthesizeProject(projectDir, inventory);

  // The single stack: its backend, in a directory of its own, with the provider a shard stack
  // carries (terraform init installs the providers the state names, and ours is in no registry).
  const dirs = new Map(shards.map((s) => [s.stackName, stackDirectory(projectDir, s.stackName).dir]));
  const single = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-single-'));
  try {
    const shardDir = dirs.get(shards[0].stackName)!;
    for (const entry of ['terraform.d', '.terraform.lock.hcl']) {
      fs.cpSync(path.join(shardDir, entry), path.join(single, entry), { recursive: true });
    }
    fs.writeFileSync(
      path.join(single, 'backend.tf.json'),
      JSON.stringify({ terraform: { backend: singleStackBackend(cluster, projectDir) } }, null, 2),
    );
    const old = await pullState(single, `single stack ${cluster.name}`);
    const oldResources = old?.resources ?? [];
    if (!old || oldResources.length === 0) {
      log(`the single stack ${cluster.name} holds no resources: nothing to migrate`);
      return { moved: [], skipped: [], notDeployed: [] };
    }

    // Plan every move before making any.
    const parts = shards.map((s) => {
      const declared = declaredAddresses(dirs.get(s.stackName)!);
      return { stack: s.stackName, declared, resources: oldResources.filter((r) => declared.has(addressOf(r))) };
    });
    const homeless = oldResources.filter((r) => !parts.some((p) => p.declared.has(addressOf(r)))).map(addressOf);
    if (homeless.length > 0) {
      throw new Error(
        `nothing moved: ${homeless.length} resource(s) of ${cluster.name}'s state belong to no shard (deploy the single stack without them first, or add their nodes to the inventory):\n  ${homeless.join('\n  ')}`,
      );
    }
    const current = await Promise.all(parts.map((p) => pullState(dirs.get(p.stack)!, `shard ${p.stack}`)));
    const same = (a: StateResource[], b: StateResource[]) =>
      JSON.stringify(a.map(addressOf).sort()) === JSON.stringify(b.map(addressOf).sort());
    parts.forEach((p, i) => {
      const has = current[i]?.resources ?? [];
      if (has.length > 0 && !same(has, p.resources)) {
        throw new Error(
          `nothing moved: the state of ${p.stack} already holds other resources (${has.map(addressOf).join(', ')}); migrate only into empty shard states`,
        );
      }
    });

    const result: MigrateResult = { moved: [], skipped: [], notDeployed: [] };
    for (const [i, p] of parts.entries()) {
      const oldAddresses = new Set(p.resources.map(addressOf));
      result.notDeployed.push(...[...p.declared].filter((a) => !oldAddresses.has(a)).map((a) => `${p.stack}: ${a}`));
      if ((current[i]?.resources.length ?? 0) > 0) {
        result.skipped.push(p.stack);
        log(`${p.stack}: already holds its ${p.resources.length} resource(s)`);
        continue;
      }
      if (p.resources.length === 0) continue;
      // A shard state that exists but is empty (a rack destroyed before) keeps its lineage:
      // terraform refuses a push that would replace another lineage.
      const existing = current[i];
      await pushState(
        dirs.get(p.stack)!,
        {
          version: old.version,
          terraform_version: old.terraform_version,
          serial: existing ? existing.serial + 1 : 1,
          lineage: existing?.lineage ?? randomUUID(),
          outputs: {},
          resources: p.resources,
          check_results: null,
        },
        `shard ${p.stack}`,
      );
      result.moved.push({ stack: p.stack, resources: p.resources.length });
      log(`${p.stack}: ${p.resources.length} resource(s) moved into its state`);
    }
    // Every resource now lives in a shard state: the single stack lets go of them.
    await pushState(single, { ...old, serial: old.serial + 1, resources: [] }, `single stack ${cluster.name}`);
    log(
      `${cluster.name}: the single stack's state now holds nothing (its ${oldResources.length} resource(s) live in the shards)`,
    );
    return result;
  } finally {
    fs.rmSync(single, { recursive: true, force: true });
  }
}

export async function shardCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'migrate') {
    process.stderr.write('usage: calico-net shard migrate [--inventory FILE] [--dir PROJECT]\n');
    return 1;
  }
  let projectDir = process.cwd();
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--dir' && rest[i + 1]) projectDir = path.resolve(rest[++i]);
    else if (rest[i] === '--inventory' && rest[i + 1]) i++;
    else {
      process.stderr.write(`calico-net shard migrate: unknown option "${rest[i]}"\n`);
      return 1;
    }
  }
  const inventory = rest.includes('--inventory')
    ? inventoryPathFrom(rest)
    : path.resolve(projectDir, process.env.CALICO_INVENTORY || 'cluster.yaml');
  try {
    const r = await migrateToShards(projectDir, inventory, (line) => process.stdout.write(`${line}\n`));
    for (const n of r.notDeployed) process.stdout.write(`not deployed yet (the next deploy creates it): ${n}\n`);
    process.stdout.write('now check: terraform plan -detailed-exitcode in every shard stack exits 0\n');
    return 0;
  } catch (err) {
    const message = err instanceof ClusterValidationError ? err.message : (err as Error).message;
    process.stderr.write(`calico-net shard migrate: ${message}\n`);
    return 1;
  }
}
