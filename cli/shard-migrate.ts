/**
 * `calico-net shard migrate [--inventory FILE] [--dir PROJECT]`
 *
 * Moves a cluster deployed as one stack into its shard stacks (`sharding: byRack`) without
 * touching a host: each shard's resources keep their Terraform address (the constructs have the
 * same ids in every stack), so their state entries move as they are into the shard's own state,
 * and the next plan of every shard is empty.
 *
 * It also moves nodes between shards: a node whose `rack` changed (or that became a route
 * reflector, or stopped being one) is declared by another stack than the one whose state holds
 * it; its entries move into the new shard's state, so neither stack plans a destroy or a create
 * and the host keeps every object. A rack whose last node left has no stack any more: name it
 * with `--from-rack` so its state is read too.
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
import { ClusterSpec, StateSpec } from '../constructs/model';
import { isRackName, Shard, shardsOf, shardStackName, shardState } from '../constructs/shards';
import { ClusterValidationError } from '../constructs/validation';
import { loadInventory } from '../stacks/inventory';
import { SHARD_MIGRATING_ENV } from '../stacks/shard-guard';
import { inventoryPathFrom } from './cluster-hosts';
import { synthesizeProject, stackDirectory } from './project';
import { runTerraform, terraformErrorText } from './terraform';
import { planShardMoves, ShardHoldings, ShardMove } from './shard-moves';

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

/** A stack's backend block, as synthesis writes it for this `state:` (cdktf's default file without one). */
export function backendBlock(
  state: StateSpec | undefined,
  stackName: string,
  projectDir: string,
): Record<string, Record<string, string>> {
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
          ? path.resolve(projectDir, state.path)
          : path.join(projectDir, `terraform.${stackName}.tfstate`),
    },
  };
}

/** The single stack's backend block, as buildClusterStack writes it for this cluster's `state:`. */
export function singleStackBackend(cluster: ClusterSpec, projectDir: string): Record<string, Record<string, string>> {
  return backendBlock(cluster.state, cluster.name, projectDir);
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
  /** Entries moved from one shard's state into another's (nodes whose shard changed). */
  rackMoves: ShardMove[];
  /** Held by a shard whose stack no longer declares them, declared by none: the next deploy destroys them. */
  orphans: { address: string; stack: string }[];
  /** pg shards whose state did not exist: created empty (see createMissingStates). */
  created: string[];
}

export interface MigrateOptions {
  /**
   * Racks no longer in the inventory whose states may still hold nodes that moved away (a rack
   * whose last node moved has no stack any more, so nothing else names its state).
   */
  fromRacks?: readonly string[];
}

/** A directory where terraform reaches one backend: a temporary one, for a state no synthesized stack has. */
function backendOnlyDir(
  providerSource: string,
  backend: Record<string, Record<string, string>>,
  tmp: string[],
): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-state-'));
  tmp.push(dir);
  // terraform init installs the providers a state names, and ours is in no registry: a shard
  // stack's local copy of it comes along.
  for (const entry of ['terraform.d', '.terraform.lock.hcl']) {
    fs.cpSync(path.join(providerSource, entry), path.join(dir, entry), { recursive: true });
  }
  fs.writeFileSync(path.join(dir, 'backend.tf.json'), JSON.stringify({ terraform: { backend } }, null, 2));
  return dir;
}

export async function migrateToShards(
  projectDir: string,
  inventory: string,
  log: (line: string) => void,
  options: MigrateOptions = {},
): Promise<MigrateResult> {
  const cluster = loadInventory(inventory);
  const shards = shardsOf(cluster);
  if (shards.length === 0) throw new Error(`${inventory}: cluster.sharding is not set; nothing to migrate to`);
  for (const rack of options.fromRacks ?? []) {
    if (!isRackName(rack)) throw new Error(`--from-rack: "${rack}" is not a rack name (a-z, 0-9 and "-")`);
  }
  // Its own synthesis skips the guard against unmigrated rack changes: this is what clears them.
  await synthesizeProject(projectDir, inventory, { [SHARD_MIGRATING_ENV]: '1' });

  const dirs = new Map(shards.map((s) => [s.stackName, stackDirectory(projectDir, s.stackName).dir]));
  const providerSource = dirs.get(shards[0].stackName)!;
  const tmp: string[] = [];
  try {
    const single = backendOnlyDir(providerSource, singleStackBackend(cluster, projectDir), tmp);
    const result: MigrateResult = { moved: [], skipped: [], notDeployed: [], rackMoves: [], orphans: [], created: [] };
    await migrateSingleStack(cluster, shards, dirs, single, log, result);
    const retired = (options.fromRacks ?? [])
      .filter((rack) => !shards.some((s) => s.name === rack))
      .map((rack) => {
        const stack = shardStackName(cluster, rack);
        return {
          stack,
          dir: backendOnlyDir(providerSource, backendBlock(shardState(cluster.state, rack), stack, projectDir), tmp),
        };
      });
    await moveBetweenShards(
      [
        ...[...dirs].map(([stack, dir]) => ({ stack, dir, retired: false })),
        ...retired.map((r) => ({ ...r, retired: true })),
      ],
      log,
      result,
      cluster.state?.backend === 'pg',
    );
    return result;
  } finally {
    for (const dir of tmp) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The single stack's entries into the shards' states (the first move into shards). */
async function migrateSingleStack(
  cluster: ClusterSpec,
  shards: Shard[],
  dirs: Map<string, string>,
  single: string,
  log: (line: string) => void,
  result: MigrateResult,
): Promise<void> {
  const old = await pullState(single, `single stack ${cluster.name}`);
  const oldResources = old?.resources ?? [];
  if (!old || oldResources.length === 0) {
    log(`the single stack ${cluster.name} holds no resources: nothing to migrate`);
    return;
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

  for (const [i, p] of parts.entries()) {
    if ((current[i]?.resources.length ?? 0) > 0) {
      result.skipped.push(p.stack);
      log(`${p.stack}: already holds its ${p.resources.length} resource(s)`);
      continue;
    }
    if (p.resources.length === 0) continue;
    await pushState(dirs.get(p.stack)!, nextState(current[i], old, p.resources), `shard ${p.stack}`);
    result.moved.push({ stack: p.stack, resources: p.resources.length });
    log(`${p.stack}: ${p.resources.length} resource(s) moved into its state`);
  }
  // Every resource now lives in a shard state: the single stack lets go of them.
  await pushState(single, { ...old, serial: old.serial + 1, resources: [] }, `single stack ${cluster.name}`);
  log(
    `${cluster.name}: the single stack's state now holds nothing (its ${oldResources.length} resource(s) live in the shards)`,
  );
}

/**
 * No state yet: nothing pulled, or (pg) the empty state terraform shows for a state with no row,
 * lineage "" and serial 0.
 */
const isAbsent = (state: StateFile | null): boolean => !state || !state.lineage;

/**
 * A state with these resources, as the next version of `existing` (its lineage, the next serial:
 * terraform refuses a push over a state that changed since it was pulled, or of another lineage),
 * or a new state when there is none yet.
 */
function nextState(pulled: StateFile | null, like: StateFile, resources: StateResource[]): StateFile {
  const existing = isAbsent(pulled) ? null : pulled;
  return {
    version: existing?.version ?? like.version,
    terraform_version: existing?.terraform_version ?? like.terraform_version,
    serial: existing ? existing.serial + 1 : 1,
    lineage: existing?.lineage ?? randomUUID(),
    outputs: existing?.outputs ?? {},
    resources,
    check_results: null,
  };
}

/**
 * Every shard's state made to exist (pg), empty, before its first deploy. Terraform's pg backend
 * (1.11) creates a state's row at its first write and, until then, locks it with one advisory lock
 * shared by the whole database (`pg_try_advisory_lock(-1)`, "workspace creation"), held for the
 * whole first apply. So two new racks' first applies at once refuse each other ("Already locked
 * for workspace creation: default", seen in 2 of 2 runs of `cdktf deploy '<cluster>-*'` on a fresh
 * database), and while any new rack's first apply runs, every other rack's apply is refused too.
 * With its row written here (under that lock for a moment), each shard takes only its own lock.
 */
async function createMissingStates(
  states: { stack: string; dir: string; retired: boolean }[],
  pulled: (StateFile | null)[],
  moves: ShardMove[],
  log: (line: string) => void,
  result: MigrateResult,
): Promise<void> {
  const targets = new Set(moves.filter((m) => !m.alreadyThere).map((m) => m.to));
  const missing = states.filter((s, i) => !s.retired && isAbsent(pulled[i]) && !targets.has(s.stack));
  if (missing.length === 0) return;
  const version = JSON.parse(await terraformOk(['version', '-json'], missing[0].dir, 'terraform version'));
  const like = { version: 4, terraform_version: String(version.terraform_version) } as StateFile;
  for (const s of missing) {
    await pushState(s.dir, nextState(null, like, []), `shard ${s.stack}`);
    result.created.push(s.stack);
    log(`${s.stack}: its state created (empty), so its first deploy takes only its own lock`);
  }
}

/**
 * Nodes whose shard changed: their entries move from the state of the shard that no longer
 * declares them into the state of the one that does. Every state is pulled and every move
 * planned before anything is written; the targets are written first and the sources after, so
 * an interruption leaves an entry in both states (never in neither), and the next run only
 * drops the source's copy. Each push is checked by terraform against the state it replaces (same
 * lineage, next serial), so an apply that ran meanwhile makes the push fail instead of being lost.
 */
async function moveBetweenShards(
  states: { stack: string; dir: string; retired: boolean }[],
  log: (line: string) => void,
  result: MigrateResult,
  createMissing: boolean,
): Promise<void> {
  const pulled = await Promise.all(states.map((s) => pullState(s.dir, `shard ${s.stack}`)));
  const holdings: ShardHoldings[] = states.map((s, i) => ({
    stack: s.stack,
    declared: s.retired ? new Set<string>() : declaredAddresses(s.dir),
    held: (pulled[i]?.resources ?? []).map(addressOf),
  }));
  const plan = planShardMoves(holdings);
  if (plan.problems.length > 0) throw new Error(`nothing moved between shards:\n  ${plan.problems.join('\n  ')}`);
  result.orphans.push(...plan.orphans);
  // Declared, held by no state read and not arriving: created by the next deploy (a new node, or
  // one deployed in a rack whose state was not read: the CLI says to name it with --from-rack).
  const held = new Set(holdings.flatMap((h) => h.held));
  for (const h of holdings) for (const a of h.declared) if (!held.has(a)) result.notDeployed.push(`${h.stack}: ${a}`);
  if (createMissing) await createMissingStates(states, pulled, plan.moves, log, result);
  if (plan.moves.length === 0) return;

  const index = new Map(states.map((s, i) => [s.stack, i]));
  const entry = (stack: string, address: string) =>
    pulled[index.get(stack)!]!.resources.find((r) => addressOf(r) === address)!;
  const sample = pulled.find((p) => p !== null)!;
  const targets = [...new Set(plan.moves.filter((m) => !m.alreadyThere).map((m) => m.to))];
  for (const to of targets) {
    const i = index.get(to)!;
    const incoming = plan.moves.filter((m) => m.to === to && !m.alreadyThere);
    const resources = [...(pulled[i]?.resources ?? []), ...incoming.map((m) => entry(m.from, m.address))];
    await pushState(states[i].dir, nextState(pulled[i], sample, resources), `shard ${to}`);
    for (const m of incoming) log(`${m.address}: moved from ${m.from} into ${to}`);
  }
  const sources = [...new Set(plan.moves.map((m) => m.from))];
  for (const from of sources) {
    const i = index.get(from)!;
    const leaving = new Set(plan.moves.filter((m) => m.from === from).map((m) => m.address));
    const resources = pulled[i]!.resources.filter((r) => !leaving.has(addressOf(r)));
    await pushState(states[i].dir, nextState(pulled[i], sample, resources), `shard ${from}`);
    for (const m of plan.moves.filter((x) => x.from === from && x.alreadyThere))
      log(`${m.address}: ${m.to} already held it; ${from} let go of its copy`);
  }
  result.rackMoves.push(...plan.moves);
}

export async function shardCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'migrate') {
    process.stderr.write('usage: calico-net shard migrate [--inventory FILE] [--dir PROJECT] [--from-rack RACK]...\n');
    return 1;
  }
  let projectDir = process.cwd();
  const fromRacks: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--dir' && rest[i + 1]) projectDir = path.resolve(rest[++i]);
    else if (rest[i] === '--from-rack' && rest[i + 1]) fromRacks.push(rest[++i]);
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
    const r = await migrateToShards(projectDir, inventory, (line) => process.stdout.write(`${line}\n`), { fromRacks });
    for (const n of r.notDeployed) process.stdout.write(`not deployed yet (the next deploy creates it): ${n}\n`);
    if (r.notDeployed.length > 0)
      process.stdout.write(
        'if one of these was deployed in a rack that is no longer in the inventory, run again with --from-rack <that rack>: its state was not read\n',
      );
    for (const o of r.orphans)
      process.stdout.write(`in no shard of the inventory (the next deploy of ${o.stack} destroys it): ${o.address}\n`);
    process.stdout.write('now check: terraform plan -detailed-exitcode in every shard stack exits 0\n');
    return 0;
  } catch (err) {
    const message = err instanceof ClusterValidationError ? err.message : (err as Error).message;
    process.stderr.write(`calico-net shard migrate: ${message}\n`);
    return 1;
  }
}
