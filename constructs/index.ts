/**
 * The constructs operators write (CalicoCluster > CalicoNode > Workload, BgpPeer), the cluster
 * model they collect (model.ts), its validation (validation.ts) and the BIRD config rendering
 * (bird-config.ts + templates/). The resources they emit are typed by bindings.ts, derived from
 * the provider's schema (providers/calico/schema.ts): the two cannot drift apart.
 */
export { CalicoCluster, CalicoNode, Workload, BgpPeer } from './cluster';
export type { CalicoClusterProps, CalicoNodeProps, WorkloadProps, BgpPeerProps } from './cluster';
export { NetworkPolicy } from './network-policy';
export type { NetworkPolicyProps } from './network-policy';
export * from './policy-model';
export { parseSelector, matches as selectorMatches, canonicalSelector, SelectorError } from './selector';
export { compilePolicyModel, packetVerdict } from './policy-compile';
export type { PolicyModel, Packet, PacketVerdict } from './policy-compile';
export { CalicoProvider, CalicoResource } from './bindings';
export type { CalicoProviderProps, CalicoResourceMeta } from './bindings';
export type { ResourceConfig, ProviderConfig } from './bindings';
export * from './model';
export { bgpSessionsOf, protocolName } from './bgp-sessions';
export type { BgpSession, SessionKind } from './bgp-sessions';
export { renderBirdConfig } from './bird-config';
export { clusterProblems, validateCluster, ClusterValidationError } from './validation';
export { buildClusterStack, loadInventory, parseInventory } from '../stacks/inventory';
export { buildClusterStacks } from '../stacks/shards';
export { recoverKilledLocalStates, StateRecoveryError } from '../stacks/state-recovery';
export { shardsOf, shardOf, shardStackName, shardState, REFLECTORS_SHARD } from './shards';
export type { Shard } from './shards';
export type { FromSpecOptions } from './cluster';
