/**
 * calico_workload: a network namespace wired the Calico way — veth pair (host side cali<hash>,
 * MAC ee:ee:ee:ee:ee:ee, proxy ARP; container side eth0 with the pod IP /32 and a link-local
 * default gateway 169.254.1.1), plus the host's /32 route to the veth.
 *
 * IPv6 (dual-stack, or IPv6-only without `ip`), as Calico's CNI plugin and Felix program it: the
 * pod's /128 on eth0, its default route via fe80::ecee:eeff:feee:eeee (the link-local address the
 * host veth takes from its MAC, so the host answers for the gateway without any proxy), the
 * host's /128 route to the veth, and on the host veth proxy_ndp=1, forwarding=1, accept_ra=0
 * (Felix's configureInterface; its CNI plugin also sets disable_ipv6=0 there).
 *
 * Apply is one idempotent script that checks each piece and (re)creates only what is missing,
 * so any partial drift (netns deleted, sysctl flipped, route removed) is repaired in place.
 */
import {
  PlanRequest,
  PlanResult,
  ProviderError,
  ResourceContext,
  ResourceHandler,
  Unknown,
  Value,
} from '../runtime/resource';
import { asObjectValue, BlockValues, InputValues, knownInputs, knownValues } from '../runtime/typed';
import { nodeNameProblem, workloadNameProblem } from '../../rules/checks';
import { POD_GATEWAY, WORKLOAD_MTU } from '../../rules/constants';
import { hostRoute as hostRouteOf, IPV4, IPV6 } from '../../rules/address-family';
import { CalicoProviderState, parseFacts, runChecked } from './hosts';
import { HostSnapshot, SnapshotSection, snapshotOf, splitParts } from './host-snapshot';
import { parseImportId } from './import-id';
import { hostIp6Section, hostIpSection, IpView, parseIpBatch, routesFor } from './ip-output';
import { hostInterfaceName, NETNS_MARK, OUR_ROUTE_PROTO, POD_GATEWAY_V6, REGISTRY } from './names';
import { resourceSchemas } from './schema';
import { remoteScript } from './script';

type Ctx = ResourceContext<CalicoProviderState>;
const schema = resourceSchemas.calico_workload;
type WorkloadState = BlockValues<typeof schema.block>;
type WorkloadInputs = InputValues<typeof schema.block>;

interface Workload {
  node: string;
  ns: string;
  /** IPv4 address; null for an IPv6-only workload. */
  ip: string | null;
  /** IPv6 address; null for an IPv4-only workload. */
  ipv6: string | null;
  hif: string;
}

/** The workload's names on the host, from its inputs (the runtime ran the schema's checks on them: states too). */
function workloadOf(obj: WorkloadInputs): Workload {
  return {
    node: obj.node_name,
    ns: obj.name,
    ip: obj.ip,
    ipv6: obj.ipv6,
    hif: hostInterfaceName(obj.node_name, obj.name),
  };
}

/** The id: one place, for plan, apply and import. */
function workloadId(node: string, name: string): string {
  return `${node}/${name}`;
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

/** IPv4's facts on an IPv6-only workload: nothing of IPv4 is made, nothing is expected. */
const NO_V4_FACTS = {
  pod_interface: null,
  pod_routes: null,
  proxy_arp: null,
  proxy_delay: null,
  host_route: null,
} as const;

/** The desired IPv6 facts (with ipv6). */
const DESIRED_V6_FACTS = {
  pod_interface_v6: true,
  pod_routes_v6: true,
  host_route_v6: true,
  proxy_ndp: '1',
  forwarding_v6: '1',
  accept_ra: '0',
} as const;

/** IPv6's facts on an IPv4-only workload: null, in plan and read alike, so its plan is as before. */
const NO_V6_FACTS = {
  pod_interface_v6: null,
  pod_routes_v6: null,
  host_route_v6: null,
  proxy_ndp: null,
  forwarding_v6: null,
  accept_ra: null,
} as const;

type Facts = Pick<WorkloadState, keyof typeof DESIRED_FACTS | keyof typeof DESIRED_V6_FACTS>;

/** What apply establishes for a workload with these addresses (null: that family is not used). */
export function desiredWorkloadFacts(ip: string | null, ipv6: string | null): Facts {
  return {
    ...DESIRED_FACTS,
    ...(ip === null ? NO_V4_FACTS : {}),
    ...(ipv6 === null ? NO_V6_FACTS : DESIRED_V6_FACTS),
  };
}

export interface Ipv6Sysctls {
  proxyNdp: string;
  forwarding: string;
  acceptRa: string;
}

export interface WorkloadsView {
  /** proxy_arp and proxy_delay of every cali* interface ("" when unreadable). */
  proxySysctls: Map<string, { proxyArp: string; proxyDelay: string }>;
  /** IPv6's proxy_ndp, forwarding and accept_ra of every cali* interface ("" when unreadable). */
  ipv6Sysctls: Map<string, Ipv6Sysctls>;
  /** Every namespace under /run/netns whose name could be a workload's, by name. */
  namespaces: Map<string, IpView>;
  /**
   * The same namespaces' IPv6 addresses and routes: read only on a host where calico-net routes
   * IPv6 (see snapshot-workloads.sh); a namespace missing here has no IPv6 of ours.
   */
  namespaces6: Map<string, IpView>;
}

/**
 * Host-side sysctls of every workload veth and the inside of every namespace. A namespace that
 * vanishes mid-read reads as empty (its workload then shows as drifted). Names that no workload
 * can have are skipped: a foreign namespace name must not be able to forge our answer's framing.
 */
export const workloadsSection: SnapshotSection<WorkloadsView> = {
  name: 'workloads',
  scriptFile: 'snapshot-workloads',
  parse(body) {
    const proxySysctls = new Map<string, { proxyArp: string; proxyDelay: string }>();
    const ipv6Sysctls = new Map<string, Ipv6Sysctls>();
    const namespaces = new Map<string, IpView>();
    const namespaces6 = new Map<string, IpView>();
    for (const [label, text] of splitParts(body)) {
      if (label === 'sysctls') {
        for (const line of text.split('\n')) {
          const [dev, proxyArp = '', proxyDelay = ''] = line.split(' ');
          if (dev) proxySysctls.set(dev, { proxyArp, proxyDelay });
        }
        continue;
      }
      if (label === 'sysctls_v6') {
        for (const line of text.split('\n')) {
          const [dev, proxyNdp = '', forwarding = '', acceptRa = ''] = line.split(' ');
          if (dev) ipv6Sysctls.set(dev, { proxyNdp, forwarding, acceptRa });
        }
        continue;
      }
      if (label.startsWith('netns ')) namespaces.set(label.slice('netns '.length), parseIpBatch(text));
      if (label.startsWith('netns6 ')) namespaces6.set(label.slice('netns6 '.length), parseIpBatch(text, IPV6));
    }
    return { proxySysctls, ipv6Sysctls, namespaces, namespaces6 };
  },
};

export const workloadSections = [workloadsSection, hostIpSection, hostIp6Section] as const;

async function applyWorkload(planned: WorkloadInputs, ctx: Ctx): Promise<WorkloadState> {
  const w = workloadOf(planned);
  const mtu = planned.mtu ?? WORKLOAD_MTU.default;
  const host = ctx.provider.hosts.hostFor(planned.ssh, w.node);
  const vars = {
    node: w.node,
    ns: w.ns,
    ip: w.ip ?? '',
    ipv6: w.ipv6 ?? '',
    hif: w.hif,
    mtu: String(mtu),
    registry: REGISTRY,
  };
  const out = await runChecked(host, w.node, remoteScript(['workload-apply'], vars).text, {
    signal: ctx.signal,
    doing: `set up workload ${w.ns}`,
  });
  parseFacts(out, w.node);
  return { ...planned, id: workloadId(w.node, w.ns), host_interface: w.hif, ...desiredWorkloadFacts(w.ip, w.ipv6) };
}

/**
 * What read reports, from the host's snapshot: the same checks apply makes before it repairs
 * (a missing netns is drift, not absence; a host veth whose peer is not our eth0 is rebuilt).
 */
export function workloadFacts(
  s: HostSnapshot,
  w: Pick<Workload, 'ns' | 'ip' | 'hif'> & { ipv6?: string | null },
): Facts {
  const { namespaces, namespaces6, proxySysctls } = s.get(workloadsSection);
  const found = namespaces.get(w.ns);
  const ns = found?.links.some((l) => l.name === 'lo' && l.alias === NETNS_MARK) ? found : undefined;
  const host = s.get(hostIpSection);
  const hostVeth = host.links.find((l) => l.name === w.hif);
  const eth0 = ns?.links.find((l) => l.name === 'eth0');
  // peer_ok in templates/scripts/lib/workload.sh: each end of the pair names the other's ifindex, and the host end
  // names our namespace when iproute2 shows it.
  const pairedWithHostVeth =
    hostVeth !== undefined &&
    eth0 !== undefined &&
    hostVeth.peerIndex === eth0.index &&
    eth0.peerIndex === hostVeth.index &&
    (hostVeth.peerNetns === undefined || hostVeth.peerNetns === w.ns);
  const eth0Up = eth0?.flags.includes('UP') ?? false;
  const netnsPresent = ns !== undefined;
  const v6 = w.ipv6 ? workloadV6Facts(s, { ...w, ipv6: w.ipv6 }, ns && namespaces6.get(w.ns)) : NO_V6_FACTS;
  if (w.ip === null)
    return { netns_present: netnsPresent, ...NO_V4_FACTS, ...v6Paired(v6, pairedWithHostVeth && eth0Up) };
  const ip = w.ip;
  const podAddress =
    ns?.addresses.some((a) => a.dev === 'eth0' && a.address === ip && a.prefixLength === IPV4.hostPrefix) ?? false;
  const nsRoutes = ns?.routes ?? [];
  const gatewayRoute = routesFor(nsRoutes, POD_GATEWAY).some((r) => r.dev === 'eth0' && r.scope === 'link');
  const defaultRoute = routesFor(nsRoutes, 'default').some((r) => r.via === POD_GATEWAY && r.dev === 'eth0');
  const hostRoute =
    hostVeth !== undefined &&
    routesFor(host.routes, hostRouteOf(ip)).some(
      (r) => r.type === 'unicast' && r.dev === w.hif && r.scope === 'link' && r.proto === OUR_ROUTE_PROTO,
    );
  const sysctls = hostVeth ? proxySysctls.get(w.hif) : undefined;
  return {
    netns_present: netnsPresent,
    pod_interface: pairedWithHostVeth && eth0Up && podAddress,
    pod_routes: gatewayRoute && defaultRoute,
    host_route: hostRoute,
    proxy_arp: sysctls?.proxyArp || null,
    proxy_delay: sysctls?.proxyDelay || null,
    ...v6Paired(v6, pairedWithHostVeth && eth0Up),
  };
}

type V6Facts = Pick<WorkloadState, keyof typeof DESIRED_V6_FACTS>;

/** pod_interface_v6 also needs the pair wired and eth0 up (pod_interface says so for IPv4). */
function v6Paired(v6: V6Facts, wiredAndUp: boolean): V6Facts {
  return v6.pod_interface_v6 === null ? v6 : { ...v6, pod_interface_v6: wiredAndUp && v6.pod_interface_v6 };
}

/**
 * The IPv6 facts of a workload with ipv6, from the host's IPv6 read and its namespace's (ns6:
 * undefined when the namespace is not ours, or was not read: nothing of it then counts).
 */
export function workloadV6Facts(s: HostSnapshot, w: { ipv6: string; hif: string }, ns6: IpView | undefined): V6Facts {
  const host6 = s.get(hostIp6Section);
  const hostVethThere = s.get(hostIpSection).links.some((l) => l.name === w.hif);
  const podAddress =
    ns6?.addresses.some((a) => a.dev === 'eth0' && a.address === w.ipv6 && a.prefixLength === IPV6.hostPrefix) ?? false;
  const defaultRoute = routesFor(ns6?.routes ?? [], IPV6.defaultRoute, IPV6).some(
    (r) => r.via === POD_GATEWAY_V6 && r.dev === 'eth0',
  );
  // The gateway answers only if the host veth holds it (its MAC made it; disable_ipv6 removes it).
  const gatewayHeld = host6.addresses.some((a) => a.dev === w.hif && a.address === POD_GATEWAY_V6);
  const hostRoute =
    hostVethThere &&
    routesFor(host6.routes, hostRouteOf(w.ipv6), IPV6).some(
      (r) => r.type === 'unicast' && r.dev === w.hif && r.proto === OUR_ROUTE_PROTO,
    );
  const sysctls = hostVethThere ? s.get(workloadsSection).ipv6Sysctls.get(w.hif) : undefined;
  return {
    pod_interface_v6: podAddress,
    pod_routes_v6: defaultRoute && gatewayHeld,
    host_route_v6: hostRoute,
    proxy_ndp: sysctls?.proxyNdp || null,
    forwarding_v6: sysctls?.forwarding || null,
    accept_ra: sysctls?.acceptRa || null,
  };
}

/**
 * Why a namespace cannot be imported, or null. Import takes over only what apply can converge
 * without touching anything of the user's: a namespace whose eth0 is the peer of the workload's
 * host veth (ours, marked or not: the first apply puts the mark on). A namespace with an eth0
 * of its own would need that device replaced; calico-net refuses here, before anything is in
 * the state, and leaves the namespace and its devices as they are.
 */
export function importRefusal(s: HostSnapshot, node: string, name: string, hif: string): string | null {
  const found = s.get(workloadsSection).namespaces.get(name);
  if (!found) return `there is no network namespace ${name} on ${node}`;
  const eth0 = found.links.find((l) => l.name === 'eth0');
  const hostVeth = s.get(hostIpSection).links.find((l) => l.name === hif);
  const wired =
    eth0 !== undefined &&
    hostVeth !== undefined &&
    hostVeth.peerIndex === eth0.index &&
    eth0.peerIndex === hostVeth.index;
  if (wired) return null;
  const what =
    eth0 === undefined
      ? 'has no eth0'
      : `has an eth0 that is not the peer of ${hif}, calico-net's veth for this workload`;
  return (
    `network namespace ${name} on ${node} ${what}, so it was not made by calico-net and cannot be taken over without ` +
    `replacing the user's devices, which calico-net does not do; nothing was imported or changed. Keep it out of the ` +
    `inventory, or remove or rename it and let apply create the workload`
  );
}

/** For import: the /32 on the namespace's eth0 (IPv4), or its /128 (IPv6); null when there is none. */
function podIpIn(s: HostSnapshot, ns: string, family: typeof IPV4): string | null {
  const view = s.get(workloadsSection)[family === IPV6 ? 'namespaces6' : 'namespaces'].get(ns);
  return view?.addresses.find((a) => a.dev === 'eth0' && a.prefixLength === family.hostPrefix)?.address ?? null;
}

function isUnset(v: Value | undefined): boolean {
  return v === null || v === undefined;
}

export const workloadHandler: ResourceHandler<CalicoProviderState> = {
  typeName: 'calico_workload',
  schema,

  plan(req: PlanRequest): PlanResult {
    const node: Value = req.config.node_name;
    const name: Value = req.config.name;
    const known = typeof node === 'string' && typeof name === 'string';
    return {
      planned: {
        ...req.proposed,
        // An address left unset is null; one not known yet (never from an inventory) counts as set.
        ...desiredWorkloadFacts(isUnset(req.config.ip) ? null : 'set', isUnset(req.config.ipv6) ? null : 'set'),
        id: known ? workloadId(node, name) : Unknown,
        host_interface: known ? hostInterfaceName(node, name) : Unknown,
      },
    };
  },

  create: async (planned, ctx) => asObjectValue(await applyWorkload(knownInputs(schema.block, planned), ctx)),
  update: async (_prior, planned, ctx) => asObjectValue(await applyWorkload(knownInputs(schema.block, planned), ctx)),

  async read(stateValue, ctx) {
    // A missing netns is drift, not absence: the facts say what is gone and apply rebuilds it.
    const state = knownValues(schema.block, stateValue);
    const w = workloadOf(state);
    const snapshot = await snapshotOf(state.ssh, w.node, ctx);
    const refreshed: WorkloadState = { ...state, host_interface: w.hif, ...workloadFacts(snapshot, w) };
    return asObjectValue(refreshed);
  },

  async delete(priorValue, ctx) {
    const prior = knownValues(schema.block, priorValue);
    const w = workloadOf(prior);
    const host = ctx.provider.hosts.hostFor(prior.ssh, w.node);
    const vars = { node: w.node, ns: w.ns, ip: w.ip ?? '', ipv6: w.ipv6 ?? '', hif: w.hif, registry: REGISTRY };
    await runChecked(host, w.node, remoteScript(['workload-delete'], vars).text, {
      signal: ctx.signal,
      doing: `remove workload ${w.ns}`,
    });
  },

  async import(id, ctx) {
    const format = '<node>/<workload>@[user@]host[:port]';
    const { subject, ssh } = parseImportId(id, format);
    const slash = subject.indexOf('/');
    const node = subject.slice(0, slash);
    const name = subject.slice(slash + 1);
    const bad = slash < 0 ? 'missing "/<workload>"' : (nodeNameProblem(node) ?? workloadNameProblem(name));
    if (bad) throw new ProviderError(`Invalid import id "${id}"`, { detail: `${bad}; expected ${format}` });
    // Import only reads (with import {} blocks it runs during plan): the first apply marks.
    const snapshot = await snapshotOf(ssh, node, ctx);
    const hif = hostInterfaceName(node, name);
    const refusal = importRefusal(snapshot, node, name, hif);
    if (refusal) throw new ProviderError(`Cannot import workload ${name} on node ${node}`, { detail: refusal });
    const ip = podIpIn(snapshot, name, IPV4);
    const ipv6 = podIpIn(snapshot, name, IPV6);
    if (!ip && !ipv6) {
      throw new ProviderError(`Cannot import workload ${name} on node ${node}`, {
        detail: `no network namespace ${name} with a /32 pod IP (or a /128 pod IPv6 address) on eth0 was found on ${node}`,
      });
    }
    const state: WorkloadState = {
      id: workloadId(node, name),
      node_name: node,
      name,
      ip,
      ipv6,
      mtu: null,
      host_interface: hif,
      ssh,
      ...workloadFacts(snapshot, { ns: name, ip, ipv6, hif }),
    };
    return asObjectValue(state);
  },
};
