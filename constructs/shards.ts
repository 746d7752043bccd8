/**
 * Sharding a cluster into several stacks (`sharding: byRack`): which stack each node's resources
 * live in, what the stacks are called, and where each keeps its state.
 *
 * The rules:
 * - every node's resources (calico_node, calico_bird_config, calico_workload, calico_overlay) live
 *   in exactly one stack: its rack's (`<cluster>-<rack>`), or, for a route reflector of a
 *   route-reflector cluster, the reflectors' stack (`<cluster>-route-reflectors`), a cluster-wide
 *   role no rack owns;
 * - every stack renders its nodes' bird.conf and overlay from the whole inventory, so no stack
 *   reads another's state and the resources are byte for byte those of the single stack;
 * - each stack has its own state: its own pg schema (and so its own lock), or its own file.
 *
 * Pure logic: no cdktf, no I/O.
 */
import { ClusterSpec, NodeSpec, StateSpec } from './model';

/** The shard of the route reflectors (a rack may not take this name). */
export const REFLECTORS_SHARD = 'route-reflectors';

/** Terraform's pg backend's own default schema, the base of the shards' schemas when none is named. */
export const PG_DEFAULT_SCHEMA = 'terraform_remote_state';

/** Rack names become part of stack names, state file names and pg schema names. */
const RACK_NAME = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;

export const isRackName = (name: string): boolean => RACK_NAME.test(name);

export interface Shard {
  /** The rack, or REFLECTORS_SHARD. */
  name: string;
  /** `<cluster>-<shard>`: the cdktf stack (and directory under cdktf.out/stacks). */
  stackName: string;
  /** The nodes whose resources this stack holds, in inventory order. */
  nodes: string[];
}

export function isSharded(cluster: Pick<ClusterSpec, 'sharding'>): boolean {
  return cluster.sharding === 'byRack';
}

/** The shard holding a node's resources; undefined when the cluster is not sharded. */
export function shardOf(cluster: ClusterSpec, node: NodeSpec): string | undefined {
  if (!isSharded(cluster)) return undefined;
  if (node.routeReflector && cluster.topology === 'route-reflector') return REFLECTORS_SHARD;
  return node.rack;
}

/** The stack holding a node's resources (`<cluster>-<shard>`); undefined when not sharded. */
export function shardStackOfNode(cluster: ClusterSpec, node: NodeSpec): string | undefined {
  const shard = shardOf(cluster, node);
  return shard === undefined ? undefined : shardStackName(cluster, shard);
}

export function shardStackName(cluster: Pick<ClusterSpec, 'name'>, shard: string): string {
  return `${cluster.name}-${shard}`;
}

/**
 * The shards of a sharded cluster, sorted by name (stable stack order whatever the inventory's
 * order); [] when the cluster is not sharded.
 */
export function shardsOf(cluster: ClusterSpec): Shard[] {
  const byName = new Map<string, string[]>();
  for (const node of cluster.nodes) {
    const shard = shardOf(cluster, node);
    if (shard === undefined) continue;
    byName.set(shard, [...(byName.get(shard) ?? []), node.name]);
  }
  return [...byName.keys()]
    .sort()
    .map((name) => ({ name, stackName: shardStackName(cluster, name), nodes: byName.get(name)! }));
}

/** The pg schema of a shard: the cluster's schema (or Terraform's default) and the shard name. */
export function shardSchemaName(schemaName: string | undefined, shard: string): string {
  return `${schemaName ?? PG_DEFAULT_SCHEMA}_${shard.replace(/-/g, '_')}`;
}

/** `state/lab.tfstate` → `state/lab.rack1.tfstate`: one file per shard next to the named one. */
export function shardStatePath(statePath: string, shard: string): string {
  const ext = statePath.endsWith('.tfstate') ? '.tfstate' : '';
  return `${statePath.slice(0, statePath.length - ext.length)}.${shard}${ext || '.tfstate'}`;
}

/**
 * Where a shard keeps its state. No `state:` (cdktf's default local backend) already gives one
 * file per stack (`terraform.<stack>.tfstate`), so it stays undefined.
 */
export function shardState(state: StateSpec | undefined, shard: string): StateSpec | undefined {
  if (!state) return undefined;
  if (state.backend === 'pg')
    return { backend: 'pg', connStr: state.connStr, schemaName: shardSchemaName(state.schemaName, shard) };
  return { backend: 'local', path: state.path === undefined ? undefined : shardStatePath(state.path, shard) };
}

/** What is wrong with a cluster's sharding settings, one line each naming the node or field. */
export function shardingProblems(cluster: ClusterSpec): string[] {
  const out: string[] = [];
  if (cluster.sharding !== undefined && cluster.sharding !== 'byRack') {
    out.push(`cluster.sharding: must be byRack, not "${String(cluster.sharding)}"`);
    return out;
  }
  cluster.nodes.forEach((node, i) => {
    const label = `nodes[${i}] "${node.name}"`;
    if (node.rack !== undefined) {
      if (!RACK_NAME.test(node.rack)) {
        out.push(
          `${label}.rack: "${node.rack}" is not a rack name (a-z, 0-9 and "-", at most 32, starting and ending with a letter or digit)`,
        );
      } else if (node.rack === REFLECTORS_SHARD) {
        out.push(`${label}.rack: "${REFLECTORS_SHARD}" is the route reflectors' shard; choose another rack name`);
      }
    }
    if (isSharded(cluster) && shardOf(cluster, node) === undefined) {
      out.push(
        `${label}.rack: required with cluster.sharding byRack (every node that is not a route reflector needs one)`,
      );
    }
  });
  if (!isSharded(cluster)) return out;
  for (const shard of shardsOf(cluster)) {
    if (shard.stackName.length > 63)
      out.push(`cluster.sharding: stack name "${shard.stackName}" is longer than 63 characters`);
    if (cluster.state?.backend === 'pg') {
      const schema = shardSchemaName(cluster.state.schemaName, shard.name);
      if (schema.length > 63)
        out.push(
          `state.schemaName: the schema of shard ${shard.name}, "${schema}", is longer than PostgreSQL's 63 characters`,
        );
    }
  }
  return out;
}
