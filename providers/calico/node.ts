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
import { isIpv4, isIpv4Cidr, isNodeName, isWorkloadName } from '../../rules/checks';
import { ENCAPSULATION, POD_GATEWAY } from '../../rules/constants';
import { hostRoute } from '../../rules/address-family';
import { CalicoProviderState, parseFacts, runChecked, runOn } from './hosts';
import { HostSnapshot, SnapshotSection, snapshotOf, splitParts } from './host-snapshot';
import { hostIpSection, parseRoutes, Route, routesFor } from './ip-output';
import { parseImportId } from './import-id';
import { NETNS_MARK, NODE_RECORD, OUR_ROUTE_PROTO, REGISTRY } from './names';
import { leftoversOf, MarkedObjects, parseRegistry, REGISTRY_FNS, REMOVE_LEFTOVERS_FN, RegistryEntry, wantedOf } from './registry';
import { workloadsSection } from './workload';
import { resourceSchemas } from './schema';
import { FOREIGN_ROUTES_FN, REMOVE_BIRD_ROUTES_FN, scriptWithVars } from './script';
import { checkSshBlock, DiagnosticCollector, requireValid } from './validate';

type Ctx = ResourceContext<CalicoProviderState>;
const schema = resourceSchemas.calico_node;
type NodeState = BlockValues<typeof schema.block>;
type NodeInputs = InputValues<typeof schema.block>;

const GATEWAY_EXIT = 42;
const ADDRESS_EXIT = 44;

/** The facts apply establishes, which plan announces. */
const DESIRED_FACTS = { ip_forward: '1', blackhole_route: true, gateway_route: true, address_assigned: true } as const;

/** Our route to the pods' gateway (see the top of this file for why lo). */
const OWN_GATEWAY_DEV = 'lo';

/**
 * Proxy ARP can use a route to 169.254.1.1 through any device but a workload's veth (the ARP
 * request comes in on one of those). Through lo: our own route, or a host's own `dev lo` route;
 * a `local` 169.254.1.1 (the host holds the address) is answered as the host's own address.
 */
function isUsableGatewayDev(dev: string | undefined): boolean {
  return dev !== undefined && dev !== '' && !dev.startsWith('cali');
}

/**
 * Shell functions: own_gateway_route prints our route to 169.254.1.1 (empty when absent);
 * host_routes_gateway succeeds when the kernel routes 169.254.1.1 out of a device proxy ARP can
 * use (isUsableGatewayDev in shell).
 */
const GATEWAY_FNS = `
own_gateway_route() {
  ip -4 route show table main exact ${POD_GATEWAY}/32 dev ${OWN_GATEWAY_DEV} proto ${OUR_ROUTE_PROTO}
}
host_routes_gateway() {
  local out dev
  out=$(ip -4 -o route get ${POD_GATEWAY} 2>/dev/null) || return 1
  dev=$(printf '%s\\n' "$out" | sed -n 's/.* dev \\([^ ]*\\).*/\\1/p' | head -n1)
  case "$dev" in ''|cali*) return 1 ;; esac
  return 0
}`;

/**
 * $gw_mode (from the plan): "own" keeps or adds our gateway route, "host" expects the host's own
 * route (the plan saw one), "auto" (create: the plan could not know) decides here. Every check
 * comes before the first change, so a refusal changes nothing.
 */
const APPLY_BODY = `${GATEWAY_FNS}
${FOREIGN_ROUTES_FN}
${REGISTRY_FNS}
${REMOVE_LEFTOVERS_FN}
if [ -z "$(ip -4 -o addr show to "$address/32")" ]; then
  echo "$node does not hold its address $address on any interface: is the inventory pointing this node at the right host?" >&2
  exit ${ADDRESS_EXIT}
fi
has_own=false
[ -z "$(own_gateway_route)" ] || has_own=true
case "$gw_mode" in
  own) want_own=true ;;
  host) want_own=false ;;
  *) if [ "$has_own" = true ] || ! host_routes_gateway; then want_own=true; else want_own=false; fi ;;
esac
if [ "$want_own" = true ] && [ "$has_own" = false ]; then
  blocking=$(foreign_routes ${POD_GATEWAY}/32)
  if [ -n "$blocking" ]; then
    echo "$node has a route to ${POD_GATEWAY} that calico-net did not create ($blocking) where calico-net puts its own (pods need one proxy ARP can use, not through a workload veth): remove it, then apply again" >&2
    exit ${GATEWAY_EXIT}
  fi
fi
if [ "$want_own" = false ] && [ "$has_own" = false ] && ! host_routes_gateway; then
  echo "$node no longer routes ${POD_GATEWAY} through an uplink, as it did when the plan was made: plan again (calico-net then adds its own route)" >&2
  exit ${GATEWAY_EXIT}
fi
other=$(foreign_routes "$cidr")
if [ -n "$other" ]; then
  echo "$node already has a route for $cidr that calico-net did not create ($other); remove it or choose another pod_cidr" >&2
  exit 3
fi
# The value before any calico_node touched this host: from the record when there is one.
orig=""
if [ -f "$rec" ]; then orig=$(sed -n 's/^original_ip_forward=//p' "$rec"); fi
[ -n "$orig" ] || orig=$(cat /proc/sys/net/ipv4/ip_forward)
mkdir -p "$(dirname "$rec")"
printf 'name=%s\npod_cidr=%s\noriginal_ip_forward=%s\n' "$node" "$cidr" "$orig" > "$rec.tmp"
mv -f "$rec.tmp" "$rec"
echo "before_ip_forward=$orig"
echo 1 > /proc/sys/net/ipv4/ip_forward
ip route replace blackhole "$cidr" table main proto ${OUR_ROUTE_PROTO}
if [ "$want_own" = true ] && [ "$has_own" = false ]; then
  ip route replace ${POD_GATEWAY}/32 dev ${OWN_GATEWAY_DEV} scope link table main proto ${OUR_ROUTE_PROTO}
  has_own=true
fi
echo "own_gateway_route=$has_own"
# What a kill left behind, or the configuration no longer wants (e.g. vxlanMode back to Never
# while the state knew only some of the nodes' overlays).
remove_leftovers apply
echo end=ok`;

const DELETE_BODY = `${REMOVE_BIRD_ROUTES_FN}
${GATEWAY_FNS}
${REGISTRY_FNS}
${REMOVE_LEFTOVERS_FN}
owner=""
owner_cidr=""
if [ -f "$rec" ]; then
  owner=$(sed -n 's/^name=//p' "$rec")
  owner_cidr=$(sed -n 's/^pod_cidr=//p' "$rec")
  recorded=$(sed -n 's/^original_ip_forward=//p' "$rec")
  [ -z "$recorded" ] || orig=$recorded
fi
if [ -n "$owner" ] && [ "$owner" != "$node" ]; then
  # Another calico_node took this host over (the node was renamed): what it owns stays.
  echo "handed_over=$owner"
  if [ "$owner_cidr" = "$cidr" ]; then echo end=ok; exit 0; fi
  orig=""
else
  # The gateway route is the host's, not the block's: it goes only with the last owner.
  if [ -n "$(own_gateway_route)" ]; then
    ip route del ${POD_GATEWAY}/32 dev ${OWN_GATEWAY_DEV} table main proto ${OUR_ROUTE_PROTO}
  fi
  # Objects of ours no resource in the state knows (a kill between making one and the state).
  remove_leftovers delete
fi
if [ -n "$(ip -4 route show table main exact "$cidr" type blackhole proto ${OUR_ROUTE_PROTO})" ]; then
  ip route del blackhole "$cidr" table main proto ${OUR_ROUTE_PROTO}
fi
remove_bird_routes root "$cidr"
if [ -n "$orig" ]; then echo "$orig" > /proc/sys/net/ipv4/ip_forward; fi
if [ "$owner" = "$node" ]; then rm -f "$rec"; fi
if [ -f "$registry" ] && [ ! -s "$registry" ]; then rm -f "$registry"; fi
echo end=ok`;

interface NodeView {
  ipForward: string;
  /** The registry's lines (registry.ts). */
  registry: RegistryEntry[];
  /** `ip route get 169.254.1.1` as a route; undefined when the host has no route to it. */
  gatewayRoute?: Route;
}

/** What the node's read needs beyond the host-wide routes and addresses. */
export const nodeSection: SnapshotSection<NodeView> = {
  name: 'node',
  script: `part ip_forward; read -r node_ip_forward < /proc/sys/net/ipv4/ip_forward; printf '%s\\n' "$node_ip_forward"
part gateway; ip -4 -o route get ${POD_GATEWAY} 2>/dev/null || true
part registry; if [ -f ${REGISTRY} ]; then while IFS= read -r l; do printf '%s\\n' "$l"; done < ${REGISTRY}; fi`,
  parse(body) {
    const parts = splitParts(body);
    return {
      ipForward: (parts.get('ip_forward') ?? '').trim(),
      gatewayRoute: parseRoutes(parts.get('gateway') ?? '')[0],
      registry: parseRegistry(parts.get('registry') ?? ''),
    };
  },
};

export const nodeSections = [nodeSection, hostIpSection, workloadsSection] as const;

/** Which devices and namespaces on the host carry our mark. */
function markedObjects(s: HostSnapshot): MarkedObjects {
  const links = new Set(s.get(hostIpSection).links.filter((l) => l.alias === NETNS_MARK).map((l) => l.name));
  const netns = new Set(
    [...s.get(workloadsSection).namespaces].filter(([, view]) => view.links.some((l) => l.name === 'lo' && l.alias === NETNS_MARK)).map(([name]) => name),
  );
  return { links, netns };
}

/** The `leftovers` fact (registry.ts). */
export function nodeLeftovers(s: HostSnapshot, node: string, encapsulation: string | null, workloads: readonly string[] | null): string[] {
  return leftoversOf(s.get(nodeSection).registry, markedObjects(s), wantedOf(node, encapsulation, workloads));
}

function isOurBlackhole(r: Route): boolean {
  return r.type === 'blackhole' && r.proto === OUR_ROUTE_PROTO;
}

function isOwnGatewayRoute(r: Route): boolean {
  return r.type === 'unicast' && r.dev === OWN_GATEWAY_DEV && r.proto === OUR_ROUTE_PROTO;
}

type NodeFacts = Pick<NodeState, keyof typeof DESIRED_FACTS | 'own_gateway_route'>;

const isEncapsulationName = (v: string): string | null =>
  v in ENCAPSULATION ? null : `"${v}" is not one of ${Object.keys(ENCAPSULATION).join(', ')}`;

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
export function plannedOwnGatewayRoute(prior: { own_gateway_route?: unknown; gateway_route?: unknown } | null): boolean | typeof Unknown {
  if (!prior) return Unknown;
  if (prior.own_gateway_route === true) return true;
  return prior.gateway_route !== true;
}

type GatewayMode = 'own' | 'host' | 'auto';

function gatewayMode(planned: unknown): GatewayMode {
  return planned === true ? 'own' : planned === false ? 'host' : 'auto';
}

/** The inputs apply needs, checked again (states and import ids bypass validate()). */
function checkedInputs(obj: NodeInputs): { name: string; address: string; cidr: string; encapsulation: string | null; workloads: string[] | null } {
  const workloads = obj.workloads === null ? null : [...obj.workloads].sort();
  for (const w of workloads ?? []) requireValid(w, 'workloads', isWorkloadName);
  return {
    name: requireValid(obj.name, 'name', isNodeName),
    address: requireValid(obj.address, 'address', isIpv4),
    cidr: requireValid(obj.pod_cidr, 'pod_cidr', isIpv4Cidr),
    encapsulation: obj.encapsulation === null ? null : requireValid(obj.encapsulation, 'encapsulation', isEncapsulationName),
    workloads,
  };
}

/** The registry variables of the node's scripts: what its configuration wants kept. */
function wantedVars(node: string, encapsulation: string | null, workloads: string[] | null): Record<string, string> {
  const wanted = wantedOf(node, encapsulation, workloads);
  return { registry: REGISTRY, want_links: [...wanted.links].join(' '), want_netns: wanted.netns ? [...wanted.netns].join(' ') : '-' };
}

interface Applied {
  /** ip_forward as it was before. */
  before: string | null;
  ownGatewayRoute: boolean;
}

/** Applies the node settings. */
async function applyNode(planned: NodeInputs, mode: GatewayMode, ctx: Ctx): Promise<Applied> {
  const { name, address, cidr, encapsulation, workloads } = checkedInputs(planned);
  const host = ctx.provider.hosts.hostFor(planned.ssh, name);
  const doing = 'apply the node settings';
  const vars = { cidr, address, node: name, rec: NODE_RECORD, gw_mode: mode, ...wantedVars(name, encapsulation, workloads) };
  const result = await runOn(host, name, scriptWithVars(vars, APPLY_BODY), { signal: ctx.signal, doing });
  if (result.code === GATEWAY_EXIT) throw new ProviderError(result.stderr.trim(), { attribute: ['name'] });
  if (result.code === ADDRESS_EXIT) throw new ProviderError(result.stderr.trim(), { attribute: ['address'] });
  if (result.code !== 0) {
    throw new ProviderError(`Failed to ${doing} on node ${name}`, { detail: result.stderr.trim() || `exit code ${result.code}` });
  }
  const facts = parseFacts(result.stdout, name);
  const removed = result.stdout.split('\n').filter((l) => l.startsWith('removed=')).map((l) => l.slice('removed='.length));
  if (removed.length > 0) ctx.log.info(`node ${name}: removed what calico-net had made and the configuration no longer wants: ${removed.join(', ')}`);
  return { before: facts.get('before_ip_forward') ?? null, ownGatewayRoute: facts.get('own_gateway_route') === 'true' };
}

export const nodeHandler: ResourceHandler<CalicoProviderState> = {
  typeName: 'calico_node',
  schema,

  validate(config) {
    const c = new DiagnosticCollector();
    c.string(config, ['name'], isNodeName);
    c.string(config, ['address'], isIpv4);
    c.string(config, ['pod_cidr'], isIpv4Cidr);
    c.string(config, ['encapsulation'], isEncapsulationName);
    checkSshBlock(c, config);
    return c.diagnostics;
  },

  plan(req: PlanRequest): PlanResult {
    return {
      planned: {
        ...req.proposed,
        ...DESIRED_FACTS,
        id: req.config.name ?? Unknown,
        own_gateway_route: plannedOwnGatewayRoute(req.prior),
        original_ip_forward: req.prior ? req.prior.original_ip_forward : Unknown,
        // Apply removes every leftover: a refresh that found some shows as drift.
        leftovers: [],
      },
    };
  },

  async create(plannedValue, ctx) {
    const planned = knownInputs(schema.block, plannedValue);
    const applied = await applyNode(planned, gatewayMode(plannedValue.own_gateway_route), ctx);
    const state: NodeState = { ...planned, ...DESIRED_FACTS, id: planned.name, own_gateway_route: applied.ownGatewayRoute, original_ip_forward: applied.before, leftovers: [] };
    return asObjectValue(state);
  },

  async update(priorValue, plannedValue, ctx) {
    const prior = knownValues(schema.block, priorValue);
    const planned = knownInputs(schema.block, plannedValue);
    const applied = await applyNode(planned, gatewayMode(plannedValue.own_gateway_route), ctx);
    // The value before the FIRST apply stays the one destroy restores.
    const state: NodeState = { ...planned, ...DESIRED_FACTS, id: planned.name, own_gateway_route: applied.ownGatewayRoute, original_ip_forward: prior.original_ip_forward, leftovers: [] };
    return asObjectValue(state);
  },

  async read(stateValue, ctx) {
    const state = knownValues(schema.block, stateValue);
    const { name, address, cidr, encapsulation, workloads } = checkedInputs(state);
    const snapshot = await snapshotOf(state.ssh, name, ctx);
    const refreshed: NodeState = { ...state, ...nodeFacts(snapshot, cidr, address), leftovers: nodeLeftovers(snapshot, name, encapsulation, workloads) };
    return asObjectValue(refreshed);
  },

  async delete(priorValue, ctx) {
    const prior = knownValues(schema.block, priorValue);
    const { name, cidr } = checkedInputs(prior);
    const orig = prior.original_ip_forward !== null && /^[01]$/.test(prior.original_ip_forward) ? prior.original_ip_forward : '';
    const host = ctx.provider.hosts.hostFor(prior.ssh, name);
    const out = await runChecked(host, name, scriptWithVars({ cidr, orig, node: name, rec: NODE_RECORD, registry: REGISTRY }, DELETE_BODY), {
      signal: ctx.signal,
      doing: 'remove the node settings',
    });
    const heir = parseFacts(out, name).get('handed_over');
    if (heir) ctx.log.info(`node ${name}: host settings now belong to node ${heir}; left them in place`);
  },

  async import(id, ctx) {
    const { subject: name, ssh } = parseImportId(id, '<node>@[user@]host[:port]');
    const problem = isNodeName(name);
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
      throw new ProviderError(`Cannot import calico_node ${name}`, { detail: `cannot tell node ${name}'s address: it holds neither ${ssh.host} nor a route to ${POD_GATEWAY}` });
    }
    const facts = nodeFacts(snapshot, podCidr, address);
    // What the host holds of ours stands for what the configuration wants: nothing is a leftover
    // until the configuration says otherwise (the plan after the import).
    const marked = markedObjects(snapshot);
    const encapsulation = (Object.keys(ENCAPSULATION) as (keyof typeof ENCAPSULATION)[]).find((k) => marked.links.has(ENCAPSULATION[k].device)) ?? null;
    const workloads = [...marked.netns].filter((n) => !isWorkloadName(n)).sort();
    const state: NodeState = {
      id: name,
      name,
      address,
      pod_cidr: podCidr,
      ...facts,
      // Unknown after the fact; the current value is the best guess of what to restore.
      original_ip_forward: facts.ip_forward,
      encapsulation,
      workloads,
      leftovers: nodeLeftovers(snapshot, name, encapsulation, workloads),
      ssh,
    };
    return asObjectValue(state);
  },
};
