/**
 * NetworkPolicy: a Calico v3 network policy of the cluster (see policy-model.ts for the fields
 * and their meaning). The first policy gives every node a calico_policy_ruleset; a cluster
 * without policies has none, and its hosts see nothing of nftables.
 */
import { Construct } from 'constructs';
import { CalicoCluster } from './cluster';
import type { PolicySpec } from './policy-model';
import { enclosing } from './scope';

/** A policy as PolicySpec declares it (policy-model.ts). */
export type NetworkPolicyProps = Readonly<PolicySpec>;

export class NetworkPolicy extends Construct {
  /** @param scope a CalicoCluster, or a construct inside one */
  constructor(scope: Construct, id: string, props: NetworkPolicyProps) {
    const cluster = enclosing(scope, CalicoCluster, 'NetworkPolicy', id);
    super(scope, id);
    cluster.registerPolicy(props);
  }
}
