export { CalicoCluster, CalicoNode, Workload, BgpPeer } from './cluster';
export type { CalicoClusterProps, CalicoNodeProps, WorkloadProps, BgpPeerProps } from './cluster';
export { CalicoProvider, CalicoResource } from './bindings';
export type { ResourceConfig, ProviderConfig } from './bindings';
export * from './model';
export { bgpSessionsOf, protocolName } from './bgp-sessions';
export type { BgpSession, SessionKind } from './bgp-sessions';
export { renderBirdConfig } from './bird-config';
export { clusterProblems, validateCluster, ClusterValidationError } from './validation';
