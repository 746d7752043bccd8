/**
 * calico_workload: a network namespace wired the Calico way — veth pair (host side cali<hash>,
 * MAC ee:ee:ee:ee:ee:ee, proxy ARP; container side eth0 with the pod IP /32 and a link-local
 * default gateway 169.254.1.1), plus the host's /32 route to the veth.
 *
 * Apply is one idempotent script that checks each piece and (re)creates only what is missing,
 * so any partial drift (netns deleted, sysctl flipped, route removed) is repaired in place.
 */
import { ObjectValue, PlanRequest, PlanResult, ProviderError, ResourceContext, ResourceHandler, Unknown } from '../runtime/resource';
import { resourceSchemas } from './schema';
import { CalicoProviderState, parseFacts, runChecked, sshBlockOf } from './hosts';
import { HostSnapshot, routesFor, snapshotOf } from './host-snapshot';
import { parseImportId } from './import-id';
import { DEFAULT_MTU, FOREIGN_ROUTES_FN, HOST_VETH_MAC, hostInterfaceName, OUR_ROUTE_PROTO, POD_GATEWAY, tempPeerName } from './names';
import { scriptWithVars } from './quote';
import { checkSshBlock, DiagnosticCollector, inRange, isNodeName, isPodIp, isWorkloadName } from './validate';
import { optionalNumber, requireString } from './values';

type Ctx = ResourceContext<CalicoProviderState>;

const checkMtu = inRange(68, 65535);

/**
 * Shell helpers for apply. `peer_ok` holds when the host veth exists and its peer is eth0
 * inside our netns (the host side's "@ifN" names the peer's ifindex).
 */
const HELPERS = `
netns_ok() { [ -e "/run/netns/$ns" ]; }
hif_ok() { ip link show dev "$hif" >/dev/null 2>&1; }
peer_ok() {
  netns_ok && hif_ok || return 1
  local peer_index eth0_index
  peer_index=$(ip -o link show dev "$hif" | sed -n 's/^[0-9]*: [^@]*@if\\([0-9]*\\):.*/\\1/p')
  eth0_index=$(ip -n "$ns" -o link show dev eth0 2>/dev/null | cut -d: -f1)
  [ -n "$peer_index" ] && [ "$peer_index" = "$eth0_index" ]
}`;

const APPLY_BODY = `${HELPERS}
${FOREIGN_ROUTES_FN}
other=$(foreign_routes "$ip/32" | grep -vF " dev $hif " || true)
if [ -n "$other" ]; then
  echo "$node already routes $ip/32 elsewhere ($other), not created by calico-net; remove that route or pick another pod IP" >&2
  exit 3
fi
netns_ok || ip netns add "$ns"
# A host veth whose peer is not our eth0 (e.g. the netns was deleted and recreated) is rebuilt.
if hif_ok && ! peer_ok; then ip link del "$hif"; fi
if ! hif_ok; then
  ip link del "$tmp" 2>/dev/null || true
  # Anything else called eth0 in our netns would block the rename.
  if ip -n "$ns" link show dev eth0 >/dev/null 2>&1; then
    echo "$ns on $node already has an eth0 that is not the peer of $hif" >&2; exit 3
  fi
  ip link add "$hif" type veth peer name "$tmp"
  ip link set "$tmp" netns "$ns"
  ip -n "$ns" link set "$tmp" name eth0
fi
ip link set dev "$hif" address ${HOST_VETH_MAC}
ip link set dev "$hif" mtu "$mtu"
ip -n "$ns" link set dev eth0 mtu "$mtu"
echo 1 > "/proc/sys/net/ipv4/conf/$hif/proxy_arp"
echo 0 > "/proc/sys/net/ipv4/neigh/$hif/proxy_delay"
echo 1 > "/proc/sys/net/ipv4/conf/$hif/forwarding"
if [ -e "/proc/sys/net/ipv6/conf/$hif/accept_ra" ]; then echo 0 > "/proc/sys/net/ipv6/conf/$hif/accept_ra"; fi
ip link set dev "$hif" up
ip -n "$ns" link set dev lo up
ip -n "$ns" addr replace "$ip/32" dev eth0
ip -n "$ns" link set dev eth0 up
ip -n "$ns" route replace ${POD_GATEWAY} dev eth0 scope link
ip -n "$ns" route replace default via ${POD_GATEWAY} dev eth0
ip route replace "$ip/32" dev "$hif" scope link table main proto ${OUR_ROUTE_PROTO}
echo end=ok`;

const DELETE_BODY = `
# Only ours: the route carries our proto and points at our veth; the veth and netns carry our names.
if [ -n "$(ip -4 route show table main exact "$ip/32" dev "$hif" proto ${OUR_ROUTE_PROTO} 2>/dev/null)" ]; then
  ip route del "$ip/32" dev "$hif" table main proto ${OUR_ROUTE_PROTO}
fi
if ip link show dev "$hif" >/dev/null 2>&1; then ip link del "$hif"; fi
ip link del "$tmp" 2>/dev/null || true
if [ -e "/run/netns/$ns" ]; then ip netns del "$ns"; fi
echo end=ok`;

interface Workload {
  node: string;
  ns: string;
  ip: string;
  hif: string;
  tmp: string;
}

function workloadOf(obj: ObjectValue): Workload {
  const node = requireString(obj, 'node_name', isNodeName);
  const ns = requireString(obj, 'name', isWorkloadName);
  const ip = typeof obj.ip === 'string' ? requireString(obj, 'ip', isPodIp) : '';
  return { node, ns, ip, hif: hostInterfaceName(node, ns), tmp: tempPeerName(node, ns) };
}

/** The desired facts: what apply establishes and what plan announces. */
const DESIRED_FACTS = {
  netns_present: true,
  pod_interface: true,
  pod_routes: true,
  proxy_arp: '1',
  proxy_delay: '0',
  host_route: true,
} as const;

async function applyWorkload(planned: ObjectValue, ctx: Ctx): Promise<ObjectValue> {
  const w = workloadOf(planned);
  const mtu = optionalNumber(planned, 'mtu') ?? DEFAULT_MTU;
  const bad = checkMtu(mtu);
  if (bad) throw new ProviderError('Invalid mtu', { detail: bad, attribute: ['mtu'] });
  const host = ctx.provider.hosts.hostFor(sshBlockOf(planned), w.node);
  const vars = { node: w.node, ns: w.ns, ip: w.ip, hif: w.hif, tmp: w.tmp, mtu: String(mtu) };
  const out = await runChecked(host, w.node, scriptWithVars(vars, APPLY_BODY), { signal: ctx.signal, doing: `set up workload ${w.ns}` });
  parseFacts(out, w.node);
  return { ...planned, id: `${w.node}/${w.ns}`, host_interface: w.hif, ...DESIRED_FACTS };
}

/**
 * What read reports, from the host's snapshot: the same checks apply makes before it repairs
 * (a missing netns is drift, not absence).
 */
export function workloadFacts(s: HostSnapshot, w: Pick<Workload, 'ns' | 'ip' | 'hif'>): ObjectValue {
  const ns = s.namespaces.get(w.ns);
  const hostVeth = s.links.some((l) => l.name === w.hif);
  const eth0Up = ns?.links.some((l) => l.name === 'eth0' && l.flags.includes('UP')) ?? false;
  const podAddress = ns?.addresses.some((a) => a.dev === 'eth0' && a.address === w.ip && a.prefixLength === 32) ?? false;
  const nsRoutes = ns?.routes ?? [];
  const gatewayRoute = routesFor(nsRoutes, POD_GATEWAY).some((r) => r.dev === 'eth0' && r.scope === 'link');
  const defaultRoute = routesFor(nsRoutes, 'default').some((r) => r.via === POD_GATEWAY && r.dev === 'eth0');
  const hostRoute =
    hostVeth && routesFor(s.routes, `${w.ip}/32`).some((r) => r.type === 'unicast' && r.dev === w.hif && r.scope === 'link' && r.proto === OUR_ROUTE_PROTO);
  const sysctls = hostVeth ? s.proxySysctls.get(w.hif) : undefined;
  return {
    netns_present: ns !== undefined,
    pod_interface: eth0Up && podAddress,
    pod_routes: gatewayRoute && defaultRoute,
    host_route: hostRoute,
    proxy_arp: sysctls?.proxyArp || null,
    proxy_delay: sysctls?.proxyDelay || null,
  };
}

/** For import: the /32 on the namespace's eth0. */
function podIpIn(s: HostSnapshot, ns: string): string | undefined {
  return s.namespaces.get(ns)?.addresses.find((a) => a.dev === 'eth0' && a.prefixLength === 32)?.address;
}

export const workloadHandler: ResourceHandler<CalicoProviderState> = {
  typeName: 'calico_workload',
  schema: resourceSchemas.calico_workload,

  validate(config) {
    const c = new DiagnosticCollector();
    c.string(config, ['node_name'], isNodeName);
    c.string(config, ['name'], isWorkloadName);
    c.string(config, ['ip'], isPodIp);
    c.number(config, ['mtu'], checkMtu);
    checkSshBlock(c, config);
    return c.diagnostics;
  },

  plan(req: PlanRequest): PlanResult {
    const p: ObjectValue = { ...req.proposed, ...DESIRED_FACTS };
    const { node_name: node, name } = req.config;
    const known = typeof node === 'string' && typeof name === 'string';
    p.id = known ? `${node}/${name}` : Unknown;
    p.host_interface = known ? hostInterfaceName(node, name) : Unknown;
    return { planned: p };
  },

  create: (planned, ctx) => applyWorkload(planned, ctx),
  update: (_prior, planned, ctx) => applyWorkload(planned, ctx),

  async read(state, ctx) {
    // A missing netns is drift, not absence: the facts say what is gone and apply rebuilds it.
    const w = workloadOf(state);
    return { ...state, host_interface: w.hif, ...workloadFacts(await snapshotOf(state, w.node, ctx), w) };
  },

  async delete(prior, ctx) {
    const w = workloadOf(prior);
    const host = ctx.provider.hosts.hostFor(sshBlockOf(prior), w.node);
    const vars = { ns: w.ns, ip: w.ip, hif: w.hif, tmp: w.tmp };
    await runChecked(host, w.node, scriptWithVars(vars, DELETE_BODY), { signal: ctx.signal, doing: `remove workload ${w.ns}` });
  },

  async import(id, ctx) {
    const format = '<node>/<workload>@[user@]host[:port]';
    const { subject, ssh } = parseImportId(id, format);
    const slash = subject.indexOf('/');
    const node = subject.slice(0, slash);
    const name = subject.slice(slash + 1);
    const bad = slash < 0 ? 'missing "/<workload>"' : (isNodeName(node) ?? isWorkloadName(name));
    if (bad) throw new ProviderError(`Invalid import id "${id}"`, { detail: `${bad}; expected ${format}` });
    const shell: ObjectValue = { node_name: node, name, ip: null, ssh };
    const snapshot = await snapshotOf(shell, node, ctx);
    const ip = podIpIn(snapshot, name);
    if (!ip) {
      throw new ProviderError(`Cannot import workload ${name} on node ${node}`, {
        detail: `no network namespace ${name} with a /32 pod IP on eth0 was found on ${node}`,
      });
    }
    const hif = hostInterfaceName(node, name);
    const state: ObjectValue = { id: `${node}/${name}`, node_name: node, name, ip, mtu: null, host_interface: hif, ssh };
    return { ...state, ...workloadFacts(snapshot, { ns: name, ip, hif }) };
  },
};
