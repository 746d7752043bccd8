/**
 * NetworkPolicy: a Calico v3 network policy of the cluster (see policy-model.ts for the fields
 * and their meaning). The first policy gives every node a calico_policy_ruleset; a cluster
 * without policies has none, and its hosts see nothing of nftables.
 */
import { Construct } from 'constructs';
import type { CalicoCluster } from './cluster';
import type { PolicySpec } from './policy-model';

export type NetworkPolicyProps = PolicySpec;

export class NetworkPolicy extends Construct {
  constructor(cluster: CalicoCluster, id: string, props: NetworkPolicyProps) {
    super(cluster, id);
    cluster.registerPolicy(props);
  }
}
