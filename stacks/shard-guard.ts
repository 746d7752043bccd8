/**
 * The guard against a rack change deployed without `calico-net shard migrate`.
 *
 * A node's `rack` says which shard's state holds it. Change it and deploy (`cdktf deploy
 * 'lab-*'`, or one rack) without migrating, and the new rack's stack creates the node while the
 * old rack's stack destroys it: a rebuild at best, and if the old stack's destroy runs after the
 * new stack's create, the host loses what the new stack just made. So synthesis, which runs
 * before every cdktf deploy, diff and destroy, reads what each shard's state holds and refuses
 * (the app exits 1, so no stack is planned or applied and no host is touched) while a node is
 * held by one shard's state and declared by another shard's stack.
 *
 * Why at synthesis and not in the provider: only synthesis sees the whole inventory and every
 * shard at once, before any of them runs. A provider runs inside one stack: the old stack's
 * plan shows a destroy that looks exactly like a node removed on purpose, and the stacks of one
 * `cdktf deploy 'lab-*'` run side by side, so a refusal in one would not stop the other.
 *
 * What it does not refuse: a new node (declared, held by no state), a node removed on purpose
 * (held, declared by no stack: the next deploy of its stack destroys it, as before sharding), a
 * normal deploy (every node held where it is declared). A rack whose last node left has no stack
 * any more: its state file is still found next to the others and read, and the message says to
 * name it with `--from-rack`. The single stack's state, when it still holds nodes (sharding turned
 * on without migrating), counts as one more old home.
 *
 * Local state (the default, cdktf's one file per stack, or `state: { backend: local }`): the
 * files are read. pg state (`state: { backend: pg }`): every shard's schema is read in one
 * database connection (stacks/pg-states.ts says why not through terraform); a schema that does
 * not exist yet (a new rack) holds nothing, and a database that cannot be read stops synthesis,
 * naming it (never its password): a gate that could not read its input never passes. Only the
 * reading differs; the verdict is the same code for both.
 */
import * as fs from 'fs';
import * as path from 'path';
import { planShardMoves, ShardHoldings, ShardMove } from '../cli/shard-moves';
import { ClusterSpec } from '../constructs/model';
import {
  isRackName,
  isSharded,
  PG_DEFAULT_SCHEMA,
  REFLECTORS_SHARD,
  shardSchemaName,
  shardsOf,
} from '../constructs/shards';
import { PgStates, PgStatesError, readPgStates } from './pg-states';

/** Set by `calico-net shard migrate` for the synthesis it runs itself (it is the way out). */
export const SHARD_MIGRATING_ENV = 'CALICO_NET_SHARD_MIGRATING';

/** Thrown when a deploy now would rebuild (or strip) a node: synthesis stops, nothing runs. */
export class ShardGuardError extends Error {}

/** One state that may hold nodes: a shard of the inventory, a retired rack, or the single stack. */
export interface GuardedState extends ShardHoldings {
  /** The rack (or REFLECTORS_SHARD) of a shard stack; undefined for the single stack. */
  shard?: string;
  /** A rack no longer in the inventory (only its state file is left). */
  retired: boolean;
}

const shardLabel = (shard: string | undefined, stack: string): string =>
  shard === undefined
    ? `the single stack ${stack} (before sharding)`
    : shard === REFLECTORS_SHARD
      ? `the route reflectors (${stack})`
      : `rack ${shard} (${stack})`;

/**
 * Why deploying now would rebuild a node, naming each node, its old and new rack and the command
 * that moves it; null when nothing is pending. `nodeOf` names the node a declared address
 * belongs to.
 */
export function unmigratedMovesProblem(
  states: readonly GuardedState[],
  nodeOf: (address: string) => string | undefined,
): string | null {
  const plan = planShardMoves(states);
  if (plan.moves.length === 0 && plan.problems.length === 0) return null;
  const byStack = new Map(states.map((s) => [s.stack, s]));
  // One line per node and move (a node's resources move together).
  const lines = new Map<string, { move: ShardMove; node: string }>();
  for (const move of plan.moves) {
    const node = nodeOf(move.address) ?? move.address;
    const key = `${node}\0${move.from}\0${move.to}`;
    if (!lines.has(key)) lines.set(key, { move, node });
  }
  const out: string[] = [];
  for (const { move, node } of lines.values()) {
    const from = byStack.get(move.from)!;
    const to = byStack.get(move.to)!;
    const what = move.alreadyThere
      ? `is held by the states of both ${move.from} and ${move.to} (an interrupted shard migrate): deploying now would destroy it in ${move.from}`
      : `is still held by ${move.from}'s state: deploying now would destroy it in ${move.from} and create it again in ${move.to}, a rebuild of the host (and if ${move.to} applies first, ${move.from}'s destroy removes what it just made)`;
    out.push(
      `node ${node} moved from ${shardLabel(from.shard, from.stack)} to ${shardLabel(to.shard, to.stack)} and ${what}`,
    );
  }
  out.push(...plan.problems);
  const retired = [...new Set(plan.moves.map((m) => byStack.get(m.from)!).filter((s) => s.retired))]
    .map((s) => ` --from-rack ${s.shard}`)
    .join('');
  return (
    `nothing was deployed: ${out.join('; ')}.\n` +
    `Run first: npx calico-net shard migrate${retired}  (it moves the state entries; nothing on the hosts changes), then deploy.`
  );
}

interface StackJson {
  resource?: Record<string, Record<string, { name?: unknown; node_name?: unknown }>>;
  terraform?: {
    backend?: { local?: { path?: unknown }; pg?: { conn_str?: unknown; schema_name?: unknown } };
  };
}

/** The addresses a state (JSON text, as a file or a pg row holds it) lists; `where` names it in an error. */
export function stateAddresses(text: string, where: string): string[] {
  if (text.trim() === '') return [];
  let state: { resources?: { mode?: string; type: string; name: string; module?: string }[] };
  try {
    state = JSON.parse(text);
  } catch {
    // State recovery ran first and refuses a damaged local file it cannot restore; this is a
    // file being written right now, or not a state: the guard cannot tell what it holds.
    throw new ShardGuardError(`${where} is not a readable state, so a node moved between racks could go unseen`);
  }
  return (state.resources ?? []).map(
    (r) => `${r.module ? `${r.module}.` : ''}${r.mode === 'data' ? 'data.' : ''}${r.type}.${r.name}`,
  );
}

/** The addresses held by a local state file; none when there is no file or it is empty. */
function heldAddresses(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return stateAddresses(text, file);
}

/** A shard stack as synthesized: what it declares and where its backend block keeps its state. */
interface SynthesizedShard extends GuardedState {
  shard: string;
  /** Its directory under cdktf.out/stacks (a relative local state path starts there). */
  dir: string;
  backend: NonNullable<NonNullable<StackJson['terraform']>['backend']>;
}

/** Every shard stack in `outdir`, with the node each declared address belongs to. */
function synthesizedShards(
  cluster: ClusterSpec,
  outdir: string,
): { shards: SynthesizedShard[]; nodes: Map<string, string> } {
  const nodes = new Map<string, string>();
  const shards = shardsOf(cluster).map((shard) => {
    const dir = path.join(outdir, 'stacks', shard.stackName);
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'cdk.tf.json'), 'utf8')) as StackJson;
    const declared = new Set<string>();
    for (const [type, byName] of Object.entries(json.resource ?? {}))
      for (const [name, config] of Object.entries(byName)) {
        declared.add(`${type}.${name}`);
        const node = type === 'calico_node' ? config.name : config.node_name;
        if (typeof node === 'string') nodes.set(`${type}.${name}`, node);
      }
    return {
      stack: shard.stackName,
      shard: shard.name,
      dir,
      retired: false,
      declared,
      held: [] as string[],
      backend: json.terraform?.backend ?? {},
    };
  });
  return { shards, nodes };
}

/** A rack's name from what follows the shards' common prefix (a file's, a schema's); undefined: not a shard's. */
const shardNamed = (name: string): string | undefined =>
  isRackName(name) || name === REFLECTORS_SHARD ? name : undefined;

/**
 * What each shard's local state file holds, plus the files of retired racks next to them and
 * the single stack's file. `projectDir` is where cdktf runs the app (its default files live there).
 */
function localHoldings(cluster: ClusterSpec, shards: SynthesizedShard[], projectDir: string): GuardedState[] {
  const states: (GuardedState & { file?: string })[] = shards.map((s) => {
    const file = s.backend.local?.path;
    if (typeof file !== 'string') throw new ShardGuardError(`${s.stack}: no local state path in its stack`);
    const abs = path.resolve(s.dir, file);
    return {
      stack: s.stack,
      shard: s.shard,
      retired: false,
      declared: s.declared,
      held: heldAddresses(abs),
      file: abs,
    };
  });

  // The shards' files are `<prefix><shard>.tfstate`: a retired rack's file has the same form.
  const first = states[0];
  const suffix = '.tfstate';
  const prefix = first.file!.slice(0, first.file!.length - first.shard!.length - suffix.length);
  const dir = path.dirname(prefix);
  const known = new Set(states.map((s) => s.shard));
  const entries = fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
  for (const entry of entries) {
    const full = path.join(dir, entry);
    if (!full.startsWith(prefix) || !entry.endsWith(suffix)) continue;
    const rack = shardNamed(full.slice(prefix.length, full.length - suffix.length));
    if (rack === undefined || known.has(rack)) continue;
    states.push({
      stack: `${cluster.name}-${rack}`,
      shard: rack,
      retired: true,
      declared: new Set(),
      held: heldAddresses(full),
    });
  }
  const single =
    cluster.state?.backend === 'local' && cluster.state.path
      ? path.resolve(projectDir, cluster.state.path)
      : path.join(projectDir, `terraform.${cluster.name}.tfstate`);
  states.push({ stack: cluster.name, retired: false, declared: new Set(), held: heldAddresses(single) });
  return states;
}

/**
 * What each shard's pg state holds (its schema, as its stack's backend names it), plus the
 * schemas of retired racks (`<base>_<rack>`, found by name in the same query) and the single
 * stack's schema. A schema that does not exist yet (a new rack) holds nothing. The database
 * unreadable: refused, since a gate that could not read its input must not pass.
 */
async function pgHoldings(
  cluster: ClusterSpec,
  shards: SynthesizedShard[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<GuardedState[]> {
  const schemaOf = (s: SynthesizedShard) => {
    const schema = s.backend.pg?.schema_name;
    if (typeof schema !== 'string') throw new ShardGuardError(`${s.stack}: no pg schema_name in its stack`);
    return schema;
  };
  const schemas = shards.map(schemaOf);
  // The shards' schemas are `<base>_<shard>` (constructs/shards.ts shardSchemaName).
  const first = schemas[0];
  const prefix = first.slice(0, first.length - shards[0].shard.replace(/-/g, '_').length);
  if (!prefix.endsWith('_') || shardSchemaName(prefix.slice(0, -1), shards[0].shard) !== first)
    throw new ShardGuardError(`${shards[0].stack}: its pg schema ${first} is not <schema>_<rack>`);
  // Without schemaName the single stack's backend block names none, and Terraform's pg backend
  // takes PG_SCHEMA_NAME, else its default.
  const singleSchema = cluster.state?.backend === 'pg' ? cluster.state.schemaName : undefined;
  const single = singleSchema ?? (env.PG_SCHEMA_NAME || PG_DEFAULT_SCHEMA);
  const connStr = shards[0].backend.pg?.conn_str;
  let read: PgStates;
  try {
    read = await readPgStates(
      typeof connStr === 'string' ? connStr : env.PG_CONN_STR,
      env,
      [...schemas, single],
      prefix,
    );
  } catch (err) {
    if (!(err instanceof PgStatesError)) throw err;
    throw new ShardGuardError(
      `nothing was deployed: the shards' states could not be read from ${err.database} (${err.reason}), so a node moved between racks without shard migrate could go unseen.\n` +
        `Terraform reads the same database (state.connStr, else PG_CONN_STR, and the PG* variables): make it reachable from here, then run again.`,
    );
  }
  const held = (schema: string) => {
    const text = read.texts.get(schema);
    return text === undefined ? [] : stateAddresses(text, `the state in schema ${schema} of ${read.database}`);
  };
  const states: GuardedState[] = shards.map((s, i) => ({
    stack: s.stack,
    shard: s.shard,
    retired: false,
    declared: s.declared,
    held: held(schemas[i]),
  }));
  const known = new Set(schemas);
  for (const schema of read.prefixed) {
    // Rack names have "-" where schema names have "_" (and never "_" themselves).
    const rack = shardNamed(schema.slice(prefix.length).replace(/_/g, '-'));
    if (rack === undefined || known.has(schema) || schema === single) continue;
    states.push({
      stack: `${cluster.name}-${rack}`,
      shard: rack,
      retired: true,
      declared: new Set(),
      held: held(schema),
    });
  }
  if (!known.has(single)) states.push({ stack: cluster.name, retired: false, declared: new Set(), held: held(single) });
  return states;
}

/**
 * Reads every shard's state (and a retired rack's, and the single stack's) — local files next to
 * the synthesized stacks in `outdir`, or pg schemas in one database query — and throws
 * ShardGuardError while a node waits for `shard migrate`, or when the states cannot be read.
 * `projectDir` is where cdktf runs the app (cdktf's default state files live there).
 */
export async function guardShardMoves(
  cluster: ClusterSpec,
  outdir: string,
  projectDir: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<void> {
  if (!isSharded(cluster)) return;
  if (env[SHARD_MIGRATING_ENV] === '1') return;
  const { shards, nodes } = synthesizedShards(cluster, outdir);
  if (shards.length === 0) return;
  const states =
    cluster.state?.backend === 'pg'
      ? await pgHoldings(cluster, shards, env)
      : localHoldings(cluster, shards, projectDir);
  const problem = unmigratedMovesProblem(states, (address) => nodes.get(address));
  if (problem !== null) throw new ShardGuardError(problem);
}
