/**
 * The stacks of a cluster: one, named after the cluster (an inventory without `sharding`, exactly
 * as buildClusterStack has always built it), or one per shard (`sharding: byRack`): each
 * `<cluster>-<shard>` stack holds only its nodes' resources, renders them from the whole
 * inventory, and keeps its own state (constructs/shards.ts says which and where).
 */
import type { App, TerraformStack } from '../constructs/cdk-types';
import { cdk } from '../constructs/cdk';
import { CalicoCluster } from '../constructs/cluster';
import { ClusterSpec } from '../constructs/model';
import { isSharded, shardsOf, shardState } from '../constructs/shards';
import { addStackProvider, addStateBackend, buildClusterStack } from './inventory';

export function buildClusterStacks(app: App, cluster: ClusterSpec): TerraformStack[] {
  if (!isSharded(cluster)) return [buildClusterStack(app, cluster)];
  return shardsOf(cluster).map((shard) => {
    const stack = new cdk.TerraformStack(app, shard.stackName);
    addStateBackend(stack, shardState(cluster.state, shard.name));
    addStackProvider(stack, cluster.provider);
    // The same construct ids as the single stack: every resource keeps its Terraform address,
    // so moving a cluster into shards moves state entries and rebuilds nothing.
    CalicoCluster.fromSpec(stack, 'cluster', cluster, { onlyNodes: shard.nodes });
    return stack;
  });
}
