/**
 * calico_node: IPv4 forwarding, the blackhole route for the node's pod block, the check that the
 * host holds the node's address, and a route to the pods' gateway 169.254.1.1 when the host has
 * none of its own (proxy ARP answers for the gateway only then).
 *
 * The gateway route (Calico issue #3270: hosts without a default route). Proxy ARP on a workload
 * veth answers only for a target the kernel routes, as unicast, out of another device. A host
 * with no default route (an air-gapped rack that learns everything over BGP) routes 169.254.1.1
 * nowhere, so pods never learn their gateway's MAC. When the host has no route of its own that
 * proxy ARP can use, apply adds `169.254.1.1/32 dev lo proto 211 scope link` and owns it. Tried
 * on this kernel (no dummy module): a route via lo, via one end of a veth pair (its peer down or
 * up), and via an empty bridge all make proxy ARP answer. lo was chosen because it has no carrier
 * to lose: routes via a NO-CARRIER veth or an empty bridge are "linkdown", and proxy ARP stops
 * answering as soon as a host sets ignore_routes_with_linkdown; lo creates no device for us to
 * own, does not care about the uplinks going down and up, and its route stays as the host adds or
 * removes a default route. When the host already routes 169.254.1.1 itself (its default route,
 * a link-local route on the uplink), nothing is added, so an address 169.254.1.1 on the host's
 * own network stays reachable; once ours is added it stays until destroy, so a default route
 * that comes and goes later does not take the pods' gateway with it.
 *
 * Teardown rule: destroy removes our blackhole (matched by OUR_ROUTE_PROTO, so a blackhole
 * someone else added survives), restores ip_forward, and removes `proto bird` leftovers that lie
 * inside this node's own pod block (only this node can own those). BIRD leftovers for other
 * nodes' blocks are removed by calico_bird_config's destroy, which owns BIRD.
 *
 * Leftovers (registry.ts): the node is the one resource every host has, so it converges what
 * the host's registry lists against what its configuration wants (`encapsulation`,
 * `workloads`): apply removes the rest, destroy what is still listed for it, read reports them.
 */
import { PlanRequest, PlanResult, ProviderError, ResourceContext, ResourceHandler, Unknown } from '../runtime/resource';
import { asObjectValue, BlockValues, InputValues, knownInputs, knownValues } from '../runtime/typed';
import { nodeNameProblem, workloadNameProblem } from '../../rules/checks';
import { ENCAPSULATION, POD_GATEWAY } from '../../rules/constants';
import { hostRoute, IPV6 } from '../../rules/address-family';
import { CalicoProviderState, parseFacts, runChecked, runOn } from './hosts';
import { HostSnapshot, SnapshotSection, snapshotOf, splitParts } from './host-snapshot';
import { hostIp6Section, hostIpSection, parseRoutes, Route, routesFor } from './ip-output';
import { parseImportId } from './import-id';
import { NETNS_MARK, NODE_RECORD, OUR_ROUTE_PROTO, OWN_GATEWAY_DEV, REGISTRY } from './names';
import { leftoversOf, MarkedObjects, parseRegistry, RegistryEntry, wantedOf } from './registry';
import { workloadsSection } from './workload';
import { resourceSchemas } from './schema';
import { scriptFailure } from './exit-codes';
import { remoteScript } from './script';

type Ctx = ResourceContext<CalicoProviderState>;
const schema = resourceSchemas.calico_node;
type NodeState = BlockValues<typeof schema.block>;
type NodeInputs = InputValues<typeof schema.block>;

/** The facts apply establishes, which plan announces. */
const DESIRED_FACTS = { ip_forward: '1', blackhole_route: true, gateway_route: true, address_assigned: true } as const;

/**
 * The IPv6 facts apply establishes on a dual-stack node (pod_cidr_v6 set); on an IPv4-only node
 * they stay null, in plan and read alike, so its plan is what it was before dual-stack existed.
 */
export function desiredV6Facts(cidr6: unknown): { ipv6_forwarding: string | null; blackhole_route_v6: boolean | null } {
  return typeof cidr6 === 'string' ? { ipv6_forwarding: '1', blackhole_route_v6: true } : NO_V6_FACTS;
}
const NO_V6_FACTS = { ipv6_forwarding: null, blackhole_route_v6: null } as const;

/**
 * Proxy ARP can use a route to 169.254.1.1 through any device but a workload's veth (the ARP
 * request comes in on one of those). Through lo: our own route, or a host's own `dev lo` route;
 * a `local` 169.254.1.1 (the host holds the address) is answered as the host's own address.
 * host_routes_gateway in templates/scripts/lib/gateway.sh is the same rule in shell.
 */
function isUsableGatewayDev(dev: string | undefined): boolean {
  return dev !== undefined && dev !== '' && !dev.startsWith('cali');
}

interface NodeView {
  ipForward: string;
  /** net.ipv6.conf.all.forwarding ("" on a host without IPv6). */
  ipv6Forwarding: string;
  /** The registry's lines (registry.ts). */
  registry: RegistryEntry[];
  /** `ip route get 169.254.1.1` as a route; undefined when the host has no route to it. */
  gatewayRoute?: Route;
}

/** What the node's read needs beyond the host-wide routes and addresses. */
export const nodeSection: SnapshotSection<NodeView> = {
  name: 'node',
  scriptFile: 'snapshot-node',
  parse(body) {
    const parts = splitParts(body);
    return {
      ipForward: (parts.get('ip_forward') ?? '').trim(),
      ipv6Forwarding: (parts.get('ipv6_forwarding') ?? '').trim(),
      gatewayRoute: parseRoutes(parts.get('gateway') ?? '')[0],
      registry: parseRegistry(parts.get('registry') ?? ''),
    };
  },
};

export const nodeSections = [nodeSection, hostIpSection, hostIp6Section, workloadsSection] as const;

/** Which devices and namespaces on the host carry our mark. */
function markedObjects(s: HostSnapshot): MarkedObjects {
  const links = new Set(
    s
      .get(hostIpSection)
      .links.filter((l) => l.alias === NETNS_MARK)
      .map((l) => l.name),
  );
  const netns = new Set(
    [...s.get(workloadsSection).namespaces]
      .filter(([, view]) => view.links.some((l) => l.name === 'lo' && l.alias === NETNS_MARK))
      .map(([name]) => name),
  );
  return { links, netns };
}

/** The `leftovers` fact (registry.ts). */
export function nodeLeftovers(
  s: HostSnapshot,
  node: string,
  encapsulation: string | null,
  workloads: readonly string[] | null,
): string[] {
  return leftoversOf(s.get(nodeSection).registry, markedObjects(s), wantedOf(node, encapsulation, workloads));
}

function isOurBlackhole(r: Route): boolean {
  return r.type === 'blackhole' && r.proto === OUR_ROUTE_PROTO;
}

function isOwnGatewayRoute(r: Route): boolean {
  return r.type === 'unicast' && r.dev === OWN_GATEWAY_DEV && r.proto === OUR_ROUTE_PROTO;
}

type NodeFacts = Pick<NodeState, keyof typeof DESIRED_FACTS | 'own_gateway_route'>;
type NodeV6Facts = Pick<NodeState, 'ipv6_forwarding' | 'blackhole_route_v6'>;

/** What read reports of IPv6: nothing (null) on an IPv4-only node. */
export function nodeV6Facts(s: HostSnapshot, cidr6: string | null): NodeV6Facts {
  if (cidr6 === null) return NO_V6_FACTS;
  return {
    ipv6_forwarding: s.get(nodeSection).ipv6Forwarding || null,
    blackhole_route_v6: routesFor(s.get(hostIp6Section).routes, cidr6, IPV6).some(isOurBlackhole),
  };
}

/**
 * Whether the host holds the node's IPv6 address (null: the node declares none). Both sides are
 * in RFC 5952 form (the schema insists on it; ip prints it), so they compare as text.
 */
export function addressV6Assigned(s: HostSnapshot, address6: string | null): boolean | null {
  return address6 === null ? null : s.get(hostIp6Section).addresses.some((a) => a.address === address6);
}

/** What read reports: the same checks apply makes (host_routes_gateway, own_gateway_route, the address test). */
export function nodeFacts(s: HostSnapshot, cidr: string, address: string): NodeFacts {
  const node = s.get(nodeSection);
  const host = s.get(hostIpSection);
  return {
    ip_forward: node.ipForward || null,
    blackhole_route: routesFor(host.routes, cidr).some(isOurBlackhole),
    gateway_route: isUsableGatewayDev(node.gatewayRoute?.dev),
    own_gateway_route: routesFor(host.routes, hostRoute(POD_GATEWAY)).some(isOwnGatewayRoute),
    address_assigned: host.addresses.some((a) => a.address === address),
  };
}

/**
 * Whether apply will have our gateway route in place, from the refreshed prior state: once ours,
 * it stays ours; a host that routed 169.254.1.1 itself at the last read gets nothing extra;
 * otherwise apply adds it. On create nothing has been read yet: known after apply.
 */
export function plannedOwnGatewayRoute(
  prior: { own_gateway_route?: unknown; gateway_route?: unknown } | null,
): boolean | typeof Unknown {
  if (!prior) return Unknown;
  if (prior.own_gateway_route === true) return true;
  return prior.gateway_route !== true;
}

type GatewayMode = 'own' | 'host' | 'auto';

function gatewayMode(planned: unknown): GatewayMode {
  return planned === true ? 'own' : planned === false ? 'host' : 'auto';
}

/** The inputs apply needs (the runtime ran the schema's checks on them: states too). */
function checkedInputs(obj: NodeInputs): {
  name: string;
  address: string;
  cidr: string;
  cidr6: string | null;
  encapsulation: string | null;
  workloads: string[] | null;
} {
  const workloads = obj.workloads === null ? null : [...obj.workloads].sort();
  return {
    name: obj.name,
    address: obj.address,
    cidr: obj.pod_cidr,
    cidr6: obj.pod_cidr_v6,
    encapsulation: obj.encapsulation,
    workloads,
  };
}

/** The registry variables of the node's scripts: what its configuration wants kept. */
function wantedVars(node: string, encapsulation: string | null, workloads: string[] | null): Record<string, string> {
  const wanted = wantedOf(node, encapsulation, workloads);
  return {
    registry: REGISTRY,
    want_links: [...wanted.links].join(' '),
    want_netns: wanted.netns ? [...wanted.netns].join(' ') : '-',
  };
}

interface Applied {
  /** ip_forward as it was before. */
  before: string | null;
  /** net.ipv6.conf.all.forwarding as it was before (dual-stack only). */
  before6: string | null;
  ownGatewayRoute: boolean;
}

/**
 * The IPv6 block an update gives up (pod_cidr_v6 changed or unset in place), and the IPv6
 * forwarding the state kept for it: apply removes that block's blackhole and, with no block
 * left, puts forwarding back. Create and an unchanged block give up nothing.
 */
export function givenUpV6(
  prior: { pod_cidr_v6: string | null; original_ipv6_forwarding: string | null } | null,
  cidr6: string | null,
): { prev_cidr6: string; prev_orig6: string } {
  if (prior === null || prior.pod_cidr_v6 === null || prior.pod_cidr_v6 === cidr6) {
    return { prev_cidr6: '', prev_orig6: '' };
  }
  return { prev_cidr6: prior.pod_cidr_v6, prev_orig6: prior.original_ipv6_forwarding ?? '' };
}

/** Applies the node settings (`prior`: the state an update starts from; null on create). */
async function applyNode(planned: NodeInputs, mode: GatewayMode, ctx: Ctx, prior: NodeState | null): Promise<Applied> {
  const { name, address, cidr, cidr6, encapsulation, workloads } = checkedInputs(planned);
  const host = ctx.provider.hosts.hostFor(planned.ssh, name);
  const doing = 'apply the node settings';
  const vars = {
    cidr,
    cidr6: cidr6 ?? '',
    address6: planned.ipv6_address ?? '',
    ...givenUpV6(prior, cidr6),
    address,
    node: name,
    rec: NODE_RECORD,
    gw_mode: mode,
    ...wantedVars(name, encapsulation, workloads),
  };
  const script = remoteScript(['node-apply'], vars);
  const result = await runOn(host, name, script.text, { signal: ctx.signal, doing });
  const failure = scriptFailure(result.code, result.stderr, script.exits, { node: name, doing });
  if (failure) throw failure;
  const facts = parseFacts(result.stdout, name);
  const removed = result.stdout
    .split('\n')
    .filter((l) => l.startsWith('removed='))
    .map((l) => l.slice('removed='.length));
  if (removed.length > 0)
    ctx.log.info(
      `node ${name}: removed what calico-net had made and the configuration no longer wants: ${removed.join(', ')}`,
    );
  return {
    before: facts.get('before_ip_forward') ?? null,
    before6: facts.get('before_ipv6_forwarding') ?? null,
    ownGatewayRoute: facts.get('own_gateway_route') === 'true',
  };
}

export const nodeHandler: ResourceHandler<CalicoProviderState> = {
  typeName: 'calico_node',
  schema,

  plan(req: PlanRequest): PlanResult {
    return {
      planned: {
        ...req.proposed,
        ...DESIRED_FACTS,
        id: req.config.name ?? Unknown,
        own_gateway_route: plannedOwnGatewayRoute(req.prior),
        original_ip_forward: req.prior ? req.prior.original_ip_forward : Unknown,
        ...desiredV6Facts(req.config.pod_cidr_v6),
        address_v6_assigned: typeof req.config.ipv6_address === 'string' ? true : null,
        // Known once a dual-stack apply has read it: a new node, or one that gets its first
        // IPv6 block in place, learns it from the host.
        original_ipv6_forwarding:
          typeof req.config.pod_cidr_v6 !== 'string' ? null : (req.prior?.original_ipv6_forwarding ?? Unknown),
        // Apply removes every leftover: a refresh that found some shows as drift.
        leftovers: [],
      },
    };
  },

  async create(plannedValue, ctx) {
    const planned = knownInputs(schema.block, plannedValue);
    const applied = await applyNode(planned, gatewayMode(plannedValue.own_gateway_route), ctx, null);
    const state: NodeState = {
      ...planned,
      ...DESIRED_FACTS,
      id: planned.name,
      own_gateway_route: applied.ownGatewayRoute,
      original_ip_forward: applied.before,
      ...desiredV6Facts(planned.pod_cidr_v6),
      address_v6_assigned: planned.ipv6_address === null ? null : true,
      original_ipv6_forwarding: planned.pod_cidr_v6 === null ? null : applied.before6,
      leftovers: [],
    };
    return asObjectValue(state);
  },

  async update(priorValue, plannedValue, ctx) {
    const prior = knownValues(schema.block, priorValue);
    const planned = knownInputs(schema.block, plannedValue);
    const applied = await applyNode(planned, gatewayMode(plannedValue.own_gateway_route), ctx, prior);
    // The value before the FIRST apply stays the one destroy restores.
    const state: NodeState = {
      ...planned,
      ...DESIRED_FACTS,
      id: planned.name,
      own_gateway_route: applied.ownGatewayRoute,
      original_ip_forward: prior.original_ip_forward,
      ...desiredV6Facts(planned.pod_cidr_v6),
      address_v6_assigned: planned.ipv6_address === null ? null : true,
      original_ipv6_forwarding:
        planned.pod_cidr_v6 === null ? null : (prior.original_ipv6_forwarding ?? applied.before6),
      leftovers: [],
    };
    return asObjectValue(state);
  },

  async read(stateValue, ctx) {
    const state = knownValues(schema.block, stateValue);
    const { name, address, cidr, cidr6, encapsulation, workloads } = checkedInputs(state);
    const snapshot = await snapshotOf(state.ssh, name, ctx);
    const refreshed: NodeState = {
      ...state,
      ...nodeFacts(snapshot, cidr, address),
      ...nodeV6Facts(snapshot, cidr6),
      address_v6_assigned: addressV6Assigned(snapshot, state.ipv6_address),
      leftovers: nodeLeftovers(snapshot, name, encapsulation, workloads),
    };
    return asObjectValue(refreshed);
  },

  async delete(priorValue, ctx) {
    const prior = knownValues(schema.block, priorValue);
    const { name, cidr, cidr6 } = checkedInputs(prior);
    const orig =
      prior.original_ip_forward !== null && /^[01]$/.test(prior.original_ip_forward) ? prior.original_ip_forward : '';
    const orig6 =
      prior.original_ipv6_forwarding !== null && /^[01]$/.test(prior.original_ipv6_forwarding ?? '')
        ? prior.original_ipv6_forwarding
        : '';
    const host = ctx.provider.hosts.hostFor(prior.ssh, name);
    const out = await runChecked(
      host,
      name,
      remoteScript(['node-delete'], {
        cidr,
        orig,
        cidr6: cidr6 ?? '',
        orig6: orig6 ?? '',
        node: name,
        rec: NODE_RECORD,
        registry: REGISTRY,
      }).text,
      {
        signal: ctx.signal,
        doing: 'remove the node settings',
      },
    );
    const heir = parseFacts(out, name).get('handed_over');
    if (heir) ctx.log.info(`node ${name}: host settings now belong to node ${heir}; left them in place`);
  },

  async import(id, ctx) {
    const { subject: name, ssh } = parseImportId(id, '<node>@[user@]host[:port]');
    const problem = nodeNameProblem(name);
    if (problem) throw new ProviderError(`Invalid node name in import id "${id}"`, { detail: problem });
    const snapshot = await snapshotOf(ssh, name, ctx);
    const podCidr = snapshot.get(hostIpSection).routes.find(isOurBlackhole)?.prefix;
    if (!podCidr) {
      throw new ProviderError(`Cannot import calico_node ${name}`, {
        detail: `node ${name} has no blackhole route created by this provider (proto ${OUR_ROUTE_PROTO}), so its pod_cidr is unknown`,
      });
    }
    // The node's address: the one we connect to if the host owns it, else its uplink source.
    const local = snapshot.get(hostIpSection).addresses.some((a) => a.address === ssh.host);
    const address = local ? ssh.host : snapshot.get(nodeSection).gatewayRoute?.src;
    if (!address) {
      throw new ProviderError(`Cannot import calico_node ${name}`, {
        detail: `cannot tell node ${name}'s address: it holds neither ${ssh.host} nor a route to ${POD_GATEWAY}`,
      });
    }
    const facts = nodeFacts(snapshot, podCidr, address);
    // A dual-stack node: our IPv6 blackhole names its IPv6 block.
    const podCidr6 = snapshot.get(hostIp6Section).routes.find(isOurBlackhole)?.prefix ?? null;
    const facts6 = nodeV6Facts(snapshot, podCidr6);
    // What the host holds of ours stands for what the configuration wants: nothing is a leftover
    // until the configuration says otherwise (the plan after the import).
    const marked = markedObjects(snapshot);
    const encapsulation =
      (Object.keys(ENCAPSULATION) as (keyof typeof ENCAPSULATION)[]).find((k) =>
        marked.links.has(ENCAPSULATION[k].device),
      ) ?? null;
    const workloads = [...marked.netns].filter((n) => !workloadNameProblem(n)).sort();
    const state: NodeState = {
      id: name,
      name,
      address,
      pod_cidr: podCidr,
      ...facts,
      // Unknown after the fact; the current value is the best guess of what to restore.
      original_ip_forward: facts.ip_forward,
      pod_cidr_v6: podCidr6,
      // Which IPv6 address BGP uses is not on the host to read: the configuration says (the plan
      // after the import sets it in place).
      ipv6_address: null,
      address_v6_assigned: null,
      ...facts6,
      original_ipv6_forwarding: facts6.ipv6_forwarding,
      encapsulation,
      workloads,
      leftovers: nodeLeftovers(snapshot, name, encapsulation, workloads),
      ssh,
    };
    return asObjectValue(state);
  },
};
