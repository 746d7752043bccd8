/**
 * The cluster as data: what the constructs collect and the inventory loader produces. Rendering
 * (bird.conf), validation and the status command's expectations all work on this one model.
 */
import type { SshSettings } from '../rules/ssh';
import type { BgpConfigurationKnobs, BgpFilterSpec, PeerKnobs } from './peering';
import type { PolicySpec } from './policy-model';
import { nodeSelectorMatches } from './node-selector';

export type { SshSettings };

export type Topology = 'full-mesh' | 'route-reflector';

export interface WorkloadSpec {
  name: string;
  /** The workload's IPv4 address, inside its node's podCidr. @default none: an IPv6-only workload (needs ipv6) */
  ip?: string;
  /**
   * Dual-stack: the workload's IPv6 address, inside its node's podCidrV6 (canonical spelling,
   * e.g. fd00:198:19:1::5). @default none (IPv4 only)
   */
  ipv6?: string;
  /** The veth MTU. @default under VXLAN/IPIP the underlay's minus the tunnel overhead (overlay.ts), else the host's 1500 */
  mtu?: number;
  /** Calico labels: what policy selectors match (`{ role: db }`). @default none */
  labels?: Record<string, string>;
}

export interface NodeSpec {
  name: string;
  /**
   * Host IPv4 address: router id, BGP source, SSH target unless sshHost is given. It may carry
   * the prefix length of the node's network, as Calico's IPv4Address does ("198.18.1.1/24");
   * the model then holds the bare address and prefixLength.
   */
  address: string;
  /**
   * Prefix length of the node's network: which nodes share a subnet (CrossSubnet, multihop).
   * @default the one `address` carries, else none (vxlanMode or ipipMode CrossSubnet then needs it)
   */
  prefixLength?: number;
  /** Where SSH connects. @default address */
  sshHost?: string;
  /** A per-node AS makes the sessions eBGP (the seed). @default the cluster's asNumber */
  asNumber?: number;
  podCidr: string;
  /**
   * Dual-stack: the node's IPv6 address, with the prefix length of its network as Calico's
   * IPv6Address has it ("fd00:198:18::1/64"): the source of its IPv6 BGP sessions. Needed on
   * every node once the cluster has podCidrV6. @default none
   */
  ipv6Address?: string;
  /** Dual-stack: the node's IPv6 block, inside the cluster's podCidrV6. @default none */
  podCidrV6?: string;
  /**
   * BGP router id (Calico's CALICO_ROUTER_ID): a 32-bit id written as an IPv4 address, even for
   * the IPv6 sessions (MP-BGP keeps 4 octets). @default the node's IPv4 address
   */
  routerID?: string;
  /** A route reflector under topology `route-reflector`. @default false */
  routeReflector?: boolean;
  /**
   * The node's rack (its shard under `sharding: byRack`): lower-case letters, digits and "-".
   * Without sharding it is only a label. @default none
   */
  rack?: string;
  /** @default /etc/bird/bird.conf */
  birdConfigPath?: string;
  /** @default /run/bird/bird.ctl */
  birdSocketPath?: string;
  /** SSH settings over the cluster's, field by field. @default the cluster's */
  ssh?: SshSettings;
  /** Calico node labels: what a BGPPeer's `nodeSelector` matches (`{ rack: a }`). @default none */
  labels?: Record<string, string>;
  workloads: WorkloadSpec[];
}

/** An external BGP peer (a ToR switch, a route server): a Global_<ip> session on its nodes. */
export interface PeerSpec extends PeerKnobs {
  address: string;
  asNumber: number;
  /** The session's TCP MD5 password (Calico's BGPPeer password). @default none */
  password?: string;
  /**
   * The nodes that peer with it, by name ("this peer is for these nodes only", e.g. the ToR of
   * one rack). @default every node
   */
  nodes?: string[];
  /**
   * Calico's BGPPeer `nodeSelector`: the nodes whose `labels` match it peer with it (the
   * policy selector syntax, constructs/selector.ts). At most one of `nodes` and `nodeSelector`.
   * @default every node
   */
  nodeSelector?: string;
}

/** Whether a node holds a session to the peer: named in `nodes`, or matched by `nodeSelector`. */
export function peerServesNode(peer: PeerSpec, node: Pick<NodeSpec, 'name' | 'labels'>): boolean {
  if (peer.nodes !== undefined && !peer.nodes.includes(node.name)) return false;
  return peer.nodeSelector === undefined || nodeSelectorMatches(peer.nodeSelector, node.labels ?? {});
}

/**
 * Where Terraform keeps the state. `pg`: Terraform's PostgreSQL backend, which also locks, so two
 * pipelines never apply at once. Its connection string comes from `connStr`, or, better, from
 * the PG_CONN_STR environment variable so it never sits in a file.
 */
export type StateSpec = { backend: 'local'; path?: string } | { backend: 'pg'; connStr?: string; schemaName?: string };

/** How a new bird.conf is loaded (see calico_bird_config's session_wait and revert_after). */
export interface BirdReloadSettings {
  /**
   * Seconds to wait for every BGP session that was Established before a new config to be
   * Established again; otherwise BIRD goes back to the previous config and the deploy fails.
   * 0 switches the check off. @default 30
   */
  readonly sessionWait?: number;
  /** Seconds after which BIRD reverts an unconfirmed config by itself. @default sessionWait + 90 */
  readonly revertAfter?: number;
}

/**
 * Calico's IPPool `vxlanMode` / `ipipMode`: encapsulate traffic to every other node (Always),
 * only to nodes outside this node's subnet (CrossSubnet), or never.
 */
export type EncapsulationMode = 'Always' | 'CrossSubnet' | 'Never';
export const ENCAPSULATION_MODES: readonly EncapsulationMode[] = ['Always', 'CrossSubnet', 'Never'];

export interface ClusterSpec extends BgpConfigurationKnobs {
  name: string;
  /** The IP pool every node block lies in. */
  podCidr: string;
  /**
   * Dual-stack: the IPv6 pool every node's podCidrV6 lies in. Its sessions run between the
   * nodes' ipv6Address, beside the IPv4 ones, as Calico's bird6 does. @default none (IPv4 only)
   */
  podCidrV6?: string;
  /** VXLAN between nodes (Calico's IPPool vxlanMode). At most one of the two modes is not Never. @default Never */
  vxlanMode?: EncapsulationMode;
  /** IPIP between nodes (Calico's IPPool ipipMode). @default Never */
  ipipMode?: EncapsulationMode;
  /** @default 64512 (DEFAULT_AS_NUMBER), as Calico's */
  asNumber?: number;
  /** @default full-mesh */
  topology?: Topology;
  /** SSH defaults for every node. @default root on port 22, ~/.ssh/known_hosts, the SSH agent's keys */
  ssh?: SshSettings;
  /** How each node's new bird.conf is loaded and, when BGP does not come back, rolled back. @default see BirdReloadSettings */
  birdReload?: BirdReloadSettings;
  nodes: NodeSpec[];
  peers: PeerSpec[];
  /** Calico's BGPFilters, referenced by name from peers' `filters`. @default none */
  filters?: BgpFilterSpec[];
  /** @default Terraform's local backend, terraform.<stack>.tfstate in the stack directory */
  state?: StateSpec;
  /** Network policies (Calico v3 NetworkPolicy); none: no host changes for policy at all. @default none */
  policies?: PolicySpec[];
  /**
   * `byRack`: one stack (and state) per rack, plus one for the route reflectors; see
   * constructs/shards.ts. @default one stack for the whole cluster
   */
  sharding?: Sharding;
  /** The calico provider's settings in the cluster's stacks (the inventory's `provider:`). @default the provider's */
  provider?: ProviderSettings;
}

/** The calico provider's attributes a cluster's stacks set (CalicoProvider's props). */
export interface ProviderSettings {
  /** Seconds to wait for an SSH connection before failing. @default 15 */
  readonly connectTimeout?: number;
  /** Extra attempts after a failed SSH connection. @default 2 */
  readonly connectRetries?: number;
}

/** How a cluster is split into stacks (shards). */
export type Sharding = 'byRack';
export const SHARDINGS: readonly Sharding[] = ['byRack'];

export const DEFAULT_AS_NUMBER = 64512;

export function clusterAs(cluster: ClusterSpec): number {
  return cluster.asNumber ?? DEFAULT_AS_NUMBER;
}

export function nodeAs(cluster: ClusterSpec, node: NodeSpec): number {
  return node.asNumber ?? clusterAs(cluster);
}

/**
 * The fields a cluster is made of that are neither its members nor its stacks' own (state,
 * provider): its settings. The CalicoCluster
 * construct's props and the inventory's `cluster:` section are derived from this, so a field
 * added to ClusterSpec reaches both without being listed again.
 */
export type ClusterMembers = 'nodes' | 'peers' | 'policies' | 'state' | 'provider';
export type ClusterSettings = Omit<ClusterSpec, ClusterMembers>;

/** A cluster's settings without its members; fields that are undefined are left out, as absent. */
export function clusterSettingsOf(from: ClusterSettings & Partial<Pick<ClusterSpec, ClusterMembers>>): ClusterSettings {
  const { nodes: _nodes, peers: _peers, policies: _policies, state: _state, provider: _provider, ...settings } = from;
  return Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)) as ClusterSettings;
}
