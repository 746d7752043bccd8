/**
 * The constructs operators use: CalicoCluster > CalicoNode > Workload, and BgpPeer. Each node
 * emits a calico_node and a calico_bird_config resource, each workload a calico_workload. The
 * BIRD config depends on every node and peer, so it is rendered lazily at synth, after the
 * cluster is complete and validated.
 */
import { Construct } from 'constructs';
import { cdk } from './cdk';
import { NullProvider, NullResource } from './null-resource';
import { CalicoProvider, CalicoResource, ResourceConfig, templateLiteral } from './bindings';
import { birdSecretsOf, renderBirdConfig } from './bird-config';
import {
  BirdReloadSettings,
  ClusterSettings,
  clusterSettingsOf,
  ClusterSpec,
  NodeSpec,
  PeerSpec,
  SshSettings,
  WorkloadSpec,
} from './model';
import { defaultWorkloadMtu, encapsulationOf, OverlayInputs, overlayInputsOf, overlayPlanOf } from './overlay';
import { clusterProblems, wasAccepted } from './validation';
import { peeringWarnings } from './peering-validation';
import { enclosing, requireStack } from './scope';
import type { PolicySpec } from './policy-model';
import { compiledPolicyModel } from './policy-compile';
import { renderNodeRuleset } from './policy-nft';
import { nodeIpv6Of } from './dual-stack';
import { resolveNodeSsh } from '../rules/ssh';
import { withSplitAddress } from '../rules/subnets';

/**
 * The cluster's settings, as ClusterSpec declares them (model.ts: name, podCidr, asNumber,
 * topology, ssh, birdReload, vxlanMode/ipipMode, Calico's BGPConfiguration fields and BGPFilters,
 * and whatever ClusterSpec gains), plus what only the construct does. Its members come as
 * constructs: CalicoNode, BgpPeer, NetworkPolicy. `sharding` is the inventory's (stacks/shards.ts).
 */
export interface CalicoClusterProps extends Readonly<Omit<ClusterSettings, 'sharding'>> {
  /**
   * When set, a null_resource runs `command` (default `npx calico-net verify`) on the machine
   * running Terraform after every deploy that changed a node's BIRD config or a workload. Needs
   * the hashicorp/null provider, which comes from the public registry (or your own mirror):
   * machines without registry access cannot use it. @default none: no check after a deploy
   */
  readonly postDeployVerify?: { readonly command?: string };
}

export class CalicoCluster extends Construct {
  readonly provider: CalicoProvider;
  private readonly nodes: CalicoNode[] = [];
  private readonly peers: PeerSpec[] = [];
  private readonly policies: PolicySpec[] = [];
  /** Bumped by every node, workload and peer added: what the cached spec and the trust are of. */
  private revision = 0;
  /** The revision at which the cluster equalled a spec validation already accepted. */
  private trustedRevision = -1;
  private cachedSpec?: { revision: number; spec: ClusterSpec };
  /** Set for one shard (fromSpec's onlyNodes): the whole cluster, whose other nodes this stack does not build. */
  private wholeCluster?: ClusterSpec;

  /**
   * The constructs of a whole cluster spec (the inventory loader's). A spec that
   * validateCluster accepted is not validated again at synth, unless more is added to the
   * cluster afterwards.
   */
  static fromSpec(scope: Construct, id: string, spec: ClusterSpec, options: FromSpecOptions = {}): CalicoCluster {
    const { sharding: _sharding, ...settings } = clusterSettingsOf(spec);
    const cluster = new CalicoCluster(scope, id, settings);
    // One shard of a sharded cluster: the other nodes still shape every bird.conf and overlay.
    if (options.onlyNodes) cluster.wholeCluster = spec;
    for (const { workloads, ...props } of spec.nodes) {
      if (options.onlyNodes && !options.onlyNodes.includes(props.name)) continue;
      const node = new CalicoNode(cluster, props.name, props);
      for (const w of workloads) new Workload(node, w.name, w);
    }
    spec.peers.forEach((peer) => new BgpPeer(cluster, `peer-${peer.address}`, peer));
    spec.policies?.forEach((policy) => cluster.registerPolicy(policy));
    if (wasAccepted(spec)) cluster.trustedRevision = cluster.revision;
    return cluster;
  }

  /**
   * @param scope anywhere inside a TerraformStack (its resources are the stack's; the stack's one
   *   calico provider, see CalicoProvider.of, serves every cluster in it)
   */
  constructor(
    scope: Construct,
    id: string,
    private readonly props: CalicoClusterProps,
  ) {
    requireStack(scope, 'CalicoCluster', id);
    super(scope, id);
    this.provider = CalicoProvider.of(this);
    // Runs before cdktf writes the stack: a bad cluster synthesizes nothing.
    this.node.addValidation({
      validate: () => (this.revision === this.trustedRevision ? [] : clusterProblems(this.spec())),
    });
    // Said at synth but not refused (a nodeSelector that matches no node): Calico accepts it too.
    this.node.addValidation({
      validate: () => (peeringWarnings(this.spec()).forEach((w) => cdk.Annotations.of(this).addWarning(w)), []),
    });
    if (props.postDeployVerify) this.addPostDeployVerify(props.postDeployVerify.command ?? 'npx calico-net verify');
  }

  private addPostDeployVerify(command: string): void {
    NullProvider.of(this);
    new NullResource(this, 'post-deploy-verify', {
      // References to every node's config and every workload: a change to any of them replaces
      // this resource (re-running the check), and the check runs after all of them.
      triggers: cdk.Token.asStringMap(
        cdk.Lazy.anyValue({
          produce: () =>
            Object.fromEntries(
              this.nodes.flatMap((n) => [
                [n.props.name, cdk.Fn.sha256(n.birdConfig.getStringAttribute('content'))],
                ...n.workloadResources.map((w) => [`${n.props.name}/${w.name}`, w.resource.getStringAttribute('id')]),
              ]),
            ),
        }),
      ),
      // The command is user text in a Terraform template like any other: escaped.
      provisioners: [{ type: 'local-exec', command: templateLiteral(command) }],
    });
  }

  /** The whole cluster as data (for rendering, validation and tools); one copy per revision. */
  spec(): ClusterSpec {
    if (this.cachedSpec?.revision !== this.revision)
      this.cachedSpec = { revision: this.revision, spec: this.buildSpec() };
    return this.cachedSpec.spec;
  }

  private buildSpec(): ClusterSpec {
    const own = this.ownSpec();
    if (!this.wholeCluster) return own;
    // The nodes of other shards keep their inventory places, so everything rendered from the
    // cluster (bird.conf, overlays) is what the single stack renders; nodes added to this
    // shard's cluster afterwards come last, as they would in one stack.
    const mine = new Map(own.nodes.map((n) => [n.name, n]));
    const whole = this.wholeCluster.nodes.map((n) => mine.get(n.name) ?? withSplitAddress(n));
    const inWhole = new Set(this.wholeCluster.nodes.map((n) => n.name));
    const added = own.nodes.filter((n) => !inWhole.has(n.name));
    return { ...own, nodes: [...whole, ...added], sharding: this.wholeCluster.sharding };
  }

  private ownSpec(): ClusterSpec {
    const { postDeployVerify: _verify, ...settings } = this.props;
    return {
      ...clusterSettingsOf(settings),
      nodes: this.nodes.map((n) => n.spec()),
      peers: [...this.peers],
      policies: this.policies.length > 0 ? [...this.policies] : undefined,
    };
  }

  get sshDefaults(): SshSettings | undefined {
    return this.props.ssh;
  }

  get birdReload(): BirdReloadSettings | undefined {
    return this.props.birdReload;
  }

  /** Whether nodes reach each other through a tunnel (then each node gets a calico_overlay). */
  get encapsulated(): boolean {
    return encapsulationOf(this.props) !== undefined;
  }

  /** The workloads' MTU when they set none (lower under encapsulation); undefined: the provider's. */
  get defaultWorkloadMtu(): number | undefined {
    return defaultWorkloadMtu(this.props);
  }

  /** @internal */
  registerNode(node: CalicoNode): void {
    this.nodes.push(node);
    this.changed();
  }

  /** @internal */
  registerPeer(peer: PeerSpec): void {
    this.peers.push(peer);
    this.changed();
  }

  /** @internal A network policy (NetworkPolicy, or the inventory's): every node enforces policy from now on. */
  registerPolicy(policy: PolicySpec): void {
    this.policies.push(policy);
    this.changed();
    for (const n of this.nodes) n.ensurePolicyRuleset();
  }

  /** Whether any network policy is declared (then every node gets a calico_policy_ruleset). */
  get hasPolicies(): boolean {
    return this.policies.length > 0;
  }

  /** @internal A node, workload or peer was added. */
  changed(): void {
    this.revision++;
  }
}

/** How CalicoCluster.fromSpec builds a cluster. */
export interface FromSpecOptions {
  /**
   * Build only these nodes' resources (one shard of a sharded cluster, see constructs/shards.ts);
   * the spec's other nodes and peers still shape every rendered bird.conf and overlay.
   * @default every node of the spec
   */
  readonly onlyNodes?: readonly string[];
}

/** A node as NodeSpec declares it (model.ts); its workloads come as Workload constructs. */
export type CalicoNodeProps = Readonly<Omit<NodeSpec, 'workloads'>>;

export class CalicoNode extends Construct {
  readonly nodeResource: CalicoResource<'calico_node'>;
  readonly birdConfig: CalicoResource<'calico_bird_config'>;
  /** The node's tunnel, when the cluster encapsulates (vxlanMode or ipipMode not Never). */
  readonly overlay?: CalicoResource<'calico_overlay'>;
  /** The node's nftables policy table, once the cluster declares a network policy. */
  policyRuleset?: CalicoResource<'calico_policy_ruleset'>;
  private readonly workloads: WorkloadSpec[] = [];
  /** @internal */
  readonly workloadResources: { name: string; resource: CalicoResource<'calico_workload'> }[] = [];

  /** The props with the address split from its prefix length ("198.18.1.1/24"). */
  readonly props: CalicoNodeProps;

  /** The cluster the node belongs to: the nearest CalicoCluster at or above its scope. */
  readonly cluster: CalicoCluster;

  /** @param scope a CalicoCluster, or a construct inside one */
  constructor(scope: Construct, id: string, props: CalicoNodeProps) {
    const cluster = enclosing(scope, CalicoCluster, 'CalicoNode', id);
    super(scope, id);
    this.cluster = cluster;
    this.props = withSplitAddress(props);
    cluster.registerNode(this);
    const ssh = this.sshBlock();

    this.nodeResource = new CalicoResource(this, 'node', 'calico_node', {
      name: props.name,
      address: this.props.address,
      podCidr: props.podCidr,
      podCidrV6: props.podCidrV6,
      ipv6Address: nodeIpv6Of(props)?.address,
      ssh,
      // What the node's host should hold of ours: any other overlay device or workload
      // namespace calico-net made there (a kill can leave one no state knows) is removed.
      encapsulation: encapsulationOf(cluster.spec())?.kind,
      workloads: cdk.Lazy.listValue({ produce: () => this.workloads.map((w) => w.name) }),
    });
    this.birdConfig = new CalicoResource(
      this,
      'bird',
      'calico_bird_config',
      {
        nodeName: props.name,
        configPath: props.birdConfigPath,
        socketPath: props.birdSocketPath,
        // A Lazy value is not escaped by synthesizeBlock: its producer escapes the rendered text.
        content: cdk.Lazy.stringValue({ produce: () => templateLiteral(renderBirdConfig(cluster.spec(), props.name)) }),
        // Sensitive: Terraform hides it in plans and output; it still lands in the state.
        secrets: cdk.Token.asStringMap(
          cdk.Lazy.anyValue({
            produce: () => {
              const secrets = Object.entries(birdSecretsOf(cluster.spec(), props.name));
              return secrets.length === 0
                ? undefined
                : Object.fromEntries(secrets.map(([k, v]) => [k, templateLiteral(v)]));
            },
          }),
        ),
        sessionWait: cluster.birdReload?.sessionWait,
        revertAfter: cluster.birdReload?.revertAfter,
        ssh,
      },
      // ip_forward and the blackhole are in place before BIRD starts announcing the block.
      { dependsOn: [this.nodeResource] },
    );
    if (cluster.encapsulated) {
      // Every input comes from the node's overlay plan, the one the BIRD template renders from;
      // the remotes depend on the whole cluster, so they are resolved at synth.
      const inputs = () => overlayInputsOf(overlayPlanOf(cluster.spec(), props.name)!);
      const text = (pick: (i: OverlayInputs) => string | undefined) =>
        cdk.Lazy.stringValue({ produce: () => pick(inputs()) });
      const map = (pick: (i: OverlayInputs) => Record<string, string>) =>
        cdk.Token.asStringMap(cdk.Lazy.anyValue({ produce: () => pick(inputs()) }));
      this.overlay = new CalicoResource(
        this,
        'overlay',
        'calico_overlay',
        {
          nodeName: props.name,
          encapsulation: text((i) => i.encapsulation),
          address: text((i) => i.address),
          tunnelAddress: text((i) => i.tunnelAddress),
          tunnelMac: encapsulationOf(cluster.spec())?.kind === 'vxlan' ? text((i) => i.tunnelMac) : undefined,
          mtu: cdk.Lazy.numberValue({ produce: () => inputs().mtu }),
          neighbours: map((i) => i.neighbours),
          fdb: map((i) => i.fdb),
          routes: map((i) => i.routes),
          ssh,
        },
        // Forwarding is on before the tunnel carries anything.
        { dependsOn: [this.nodeResource] },
      );
    }
    if (cluster.hasPolicies) this.ensurePolicyRuleset();
  }

  /** @internal The node's calico_policy_ruleset: its table, rendered from the cluster's one compiled model. */
  ensurePolicyRuleset(): void {
    if (this.policyRuleset) return;
    const name = this.props.name;
    this.policyRuleset = new CalicoResource(
      this,
      'policy',
      'calico_policy_ruleset',
      {
        nodeName: name,
        ruleset: cdk.Lazy.stringValue({
          produce: () => templateLiteral(renderNodeRuleset(compiledPolicyModel(this.cluster.spec())!, name)),
        }),
        ssh: this.sshBlock(),
      },
      { dependsOn: [this.nodeResource] },
    );
  }

  spec(): NodeSpec {
    return { ...this.props, workloads: [...this.workloads] };
  }

  /** The resources' ssh block: node settings over cluster defaults. */
  sshBlock(): ResourceConfig<'calico_node'>['ssh'] {
    const { host, settings: s, fromSshConfig } = resolveNodeSsh(this.props, this.cluster.sshDefaults);
    return {
      host,
      port: s.port,
      user: s.user,
      privateKeyPath: s.privateKeyPath,
      passphraseEnv: s.passphraseEnv,
      knownHostsPath: s.knownHostsPath,
      sudo: s.sudo,
      proxyJump: s.proxyJump,
      proxyJumpKeys: s.proxyJumpKeys === undefined ? undefined : [...s.proxyJumpKeys],
      // Shown in the plan: which values ssh_config supplied.
      fromSshConfig: fromSshConfig.length > 0 ? fromSshConfig : undefined,
    };
  }

  /** @internal */
  registerWorkload(workload: WorkloadSpec, resource: CalicoResource<'calico_workload'>): void {
    this.workloads.push(workload);
    this.workloadResources.push({ name: workload.name, resource });
    this.cluster.changed();
  }
}

/** A workload as WorkloadSpec declares it (model.ts). */
export type WorkloadProps = Readonly<WorkloadSpec>;

export class Workload extends Construct {
  readonly resource: CalicoResource<'calico_workload'>;

  /** @param scope a CalicoNode, or a construct inside one */
  constructor(scope: Construct, id: string, props: WorkloadProps) {
    const node = enclosing(scope, CalicoNode, 'Workload', id);
    super(scope, id);
    this.resource = new CalicoResource(
      this,
      'workload',
      'calico_workload',
      {
        nodeName: node.props.name,
        name: props.name,
        ip: props.ip,
        ipv6: props.ipv6,
        mtu: props.mtu ?? node.cluster.defaultWorkloadMtu,
        ssh: node.sshBlock(),
      },
      { dependsOn: [node.nodeResource] },
    );
    node.registerWorkload({ ...props }, this.resource);
  }
}

/** An external peer as PeerSpec declares it (model.ts). */
export type BgpPeerProps = Readonly<PeerSpec>;

/**
 * An external BGP peer: every node's BIRD config gets a Global_<ip> session to it, or only the
 * configs of the nodes named in `nodes` (a ToR per rack).
 */
export class BgpPeer extends Construct {
  /** @param scope a CalicoCluster, or a construct inside one */
  constructor(scope: Construct, id: string, props: BgpPeerProps) {
    const cluster = enclosing(scope, CalicoCluster, 'BgpPeer', id);
    super(scope, id);
    cluster.registerPeer({ ...props, nodes: props.nodes && [...props.nodes] });
  }
}
