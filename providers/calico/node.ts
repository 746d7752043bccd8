/**
 * calico_node: IPv4 forwarding, the blackhole route for the node's pod block, and the checks
 * that the host holds the node's address and routes 169.254.1.1 (proxy ARP answers for the
 * pods' gateway only then).
 *
 * Teardown rule: destroy removes our blackhole (matched by OUR_ROUTE_PROTO, so a blackhole
 * someone else added survives), restores ip_forward, and removes `proto bird` leftovers that lie
 * inside this node's own pod block (only this node can own those). BIRD leftovers for other
 * nodes' blocks are removed by calico_bird_config's destroy, which owns BIRD.
 */
import { PlanRequest, PlanResult, ProviderError, ResourceContext, ResourceHandler, Unknown } from '../runtime/resource';
import { asObjectValue, BlockValues, InputValues, knownInputs, knownValues } from '../runtime/typed';
import { isIpv4, isIpv4Cidr, isNodeName } from '../../rules/checks';
import { POD_GATEWAY } from '../../rules/constants';
import { CalicoProviderState, parseFacts, runChecked, runOn } from './hosts';
import { HostSnapshot, SnapshotSection, snapshotOf, splitParts } from './host-snapshot';
import { hostAddressesSection, mainRoutesSection, parseRoutes, Route, routesFor } from './ip-output';
import { parseImportId } from './import-id';
import { NODE_RECORD, OUR_ROUTE_PROTO } from './names';
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

/** A route to 169.254.1.1 counts only through an uplink: not lo, not a workload's veth. */
function isUplink(dev: string | undefined): boolean {
  return dev !== undefined && dev !== '' && dev !== 'lo' && !dev.startsWith('cali');
}

/** Sets $gw to true when the host routes 169.254.1.1 through an uplink (isUplink in shell). */
const GATEWAY_PROBE = `
gw=false
if out=$(ip -4 -o route get ${POD_GATEWAY} 2>/dev/null); then
  dev=$(printf '%s\\n' "$out" | sed -n 's/.* dev \\([^ ]*\\).*/\\1/p' | head -n1)
  case "$dev" in ''|cali*|lo) gw=false ;; *) gw=true ;; esac
fi`;

const APPLY_BODY = `${GATEWAY_PROBE}
if [ -z "$(ip -4 -o addr show to "$address/32")" ]; then
  echo "$node does not hold its address $address on any interface: is the inventory pointing this node at the right host?" >&2
  exit ${ADDRESS_EXIT}
fi
if [ "$gw" != true ]; then
  echo "$node has no route to ${POD_GATEWAY}; proxy ARP will not answer for pods' gateway: add a default route on $node (e.g. ip route add default via <router on the node's network>) or a route to ${POD_GATEWAY} through the uplink, then apply again" >&2
  exit ${GATEWAY_EXIT}
fi
${FOREIGN_ROUTES_FN}
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
echo end=ok`;

const DELETE_BODY = `${REMOVE_BIRD_ROUTES_FN}
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
fi
if [ -n "$(ip -4 route show table main exact "$cidr" type blackhole proto ${OUR_ROUTE_PROTO})" ]; then
  ip route del blackhole "$cidr" table main proto ${OUR_ROUTE_PROTO}
fi
remove_bird_routes root "$cidr"
if [ -n "$orig" ]; then echo "$orig" > /proc/sys/net/ipv4/ip_forward; fi
if [ "$owner" = "$node" ]; then rm -f "$rec"; fi
echo end=ok`;

interface NodeView {
  ipForward: string;
  /** `ip route get 169.254.1.1` as a route; undefined when the host has no route to it. */
  gatewayRoute?: Route;
}

/** What the node's read needs beyond the host-wide routes and addresses. */
export const nodeSection: SnapshotSection<NodeView> = {
  name: 'node',
  script: `part ip_forward; cat /proc/sys/net/ipv4/ip_forward
part gateway; ip -4 -o route get ${POD_GATEWAY} 2>/dev/null || true`,
  parse(body) {
    const parts = splitParts(body);
    return { ipForward: (parts.get('ip_forward') ?? '').trim(), gatewayRoute: parseRoutes(parts.get('gateway') ?? '')[0] };
  },
};

export const nodeSections = [nodeSection, mainRoutesSection, hostAddressesSection] as const;

function isOurBlackhole(r: Route): boolean {
  return r.type === 'blackhole' && r.proto === OUR_ROUTE_PROTO;
}

type NodeFacts = Pick<NodeState, keyof typeof DESIRED_FACTS>;

/** What read reports: the same checks apply makes (GATEWAY_PROBE, the address test). */
export function nodeFacts(s: HostSnapshot, cidr: string, address: string): NodeFacts {
  const node = s.get(nodeSection);
  return {
    ip_forward: node.ipForward || null,
    blackhole_route: routesFor(s.get(mainRoutesSection), cidr).some(isOurBlackhole),
    gateway_route: isUplink(node.gatewayRoute?.dev),
    address_assigned: s.get(hostAddressesSection).some((a) => a.address === address),
  };
}

/** The inputs apply needs, checked again (states and import ids bypass validate()). */
function checkedInputs(obj: NodeInputs): { name: string; address: string; cidr: string } {
  return {
    name: requireValid(obj.name, 'name', isNodeName),
    address: requireValid(obj.address, 'address', isIpv4),
    cidr: requireValid(obj.pod_cidr, 'pod_cidr', isIpv4Cidr),
  };
}

/** Applies the node settings; returns ip_forward as it was before. */
async function applyNode(planned: NodeInputs, ctx: Ctx): Promise<string | null> {
  const { name, address, cidr } = checkedInputs(planned);
  const host = ctx.provider.hosts.hostFor(planned.ssh, name);
  const doing = 'apply the node settings';
  const result = await runOn(host, name, scriptWithVars({ cidr, address, node: name, rec: NODE_RECORD }, APPLY_BODY), { signal: ctx.signal, doing });
  if (result.code === GATEWAY_EXIT) throw new ProviderError(result.stderr.trim(), { attribute: ['name'] });
  if (result.code === ADDRESS_EXIT) throw new ProviderError(result.stderr.trim(), { attribute: ['address'] });
  if (result.code !== 0) {
    throw new ProviderError(`Failed to ${doing} on node ${name}`, { detail: result.stderr.trim() || `exit code ${result.code}` });
  }
  return parseFacts(result.stdout, name).get('before_ip_forward') ?? null;
}

export const nodeHandler: ResourceHandler<CalicoProviderState> = {
  typeName: 'calico_node',
  schema,

  validate(config) {
    const c = new DiagnosticCollector();
    c.string(config, ['name'], isNodeName);
    c.string(config, ['address'], isIpv4);
    c.string(config, ['pod_cidr'], isIpv4Cidr);
    checkSshBlock(c, config);
    return c.diagnostics;
  },

  plan(req: PlanRequest): PlanResult {
    return {
      planned: {
        ...req.proposed,
        ...DESIRED_FACTS,
        id: req.config.name ?? Unknown,
        original_ip_forward: req.prior ? req.prior.original_ip_forward : Unknown,
      },
    };
  },

  async create(plannedValue, ctx) {
    const planned = knownInputs(schema.block, plannedValue);
    const before = await applyNode(planned, ctx);
    const state: NodeState = { ...planned, ...DESIRED_FACTS, id: planned.name, original_ip_forward: before };
    return asObjectValue(state);
  },

  async update(priorValue, plannedValue, ctx) {
    const prior = knownValues(schema.block, priorValue);
    const planned = knownInputs(schema.block, plannedValue);
    await applyNode(planned, ctx);
    // The value before the FIRST apply stays the one destroy restores.
    const state: NodeState = { ...planned, ...DESIRED_FACTS, id: planned.name, original_ip_forward: prior.original_ip_forward };
    return asObjectValue(state);
  },

  async read(stateValue, ctx) {
    const state = knownValues(schema.block, stateValue);
    const { name, address, cidr } = checkedInputs(state);
    const refreshed: NodeState = { ...state, ...nodeFacts(await snapshotOf(state.ssh, name, ctx), cidr, address) };
    return asObjectValue(refreshed);
  },

  async delete(priorValue, ctx) {
    const prior = knownValues(schema.block, priorValue);
    const { name, cidr } = checkedInputs(prior);
    const orig = prior.original_ip_forward !== null && /^[01]$/.test(prior.original_ip_forward) ? prior.original_ip_forward : '';
    const host = ctx.provider.hosts.hostFor(prior.ssh, name);
    const out = await runChecked(host, name, scriptWithVars({ cidr, orig, node: name, rec: NODE_RECORD }, DELETE_BODY), {
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
    const podCidr = snapshot.get(mainRoutesSection).find(isOurBlackhole)?.prefix;
    if (!podCidr) {
      throw new ProviderError(`Cannot import calico_node ${name}`, {
        detail: `node ${name} has no blackhole route created by this provider (proto ${OUR_ROUTE_PROTO}), so its pod_cidr is unknown`,
      });
    }
    // The node's address: the one we connect to if the host owns it, else its uplink source.
    const local = snapshot.get(hostAddressesSection).some((a) => a.address === ssh.host);
    const address = local ? ssh.host : snapshot.get(nodeSection).gatewayRoute?.src;
    if (!address) {
      throw new ProviderError(`Cannot import calico_node ${name}`, { detail: `cannot tell node ${name}'s address: it holds neither ${ssh.host} nor a route to ${POD_GATEWAY}` });
    }
    const facts = nodeFacts(snapshot, podCidr, address);
    const state: NodeState = {
      id: name,
      name,
      address,
      pod_cidr: podCidr,
      ...facts,
      // Unknown after the fact; the current value is the best guess of what to restore.
      original_ip_forward: facts.ip_forward,
      ssh,
    };
    return asObjectValue(state);
  },
};
