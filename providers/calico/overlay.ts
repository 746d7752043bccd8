/**
 * calico_overlay: the encapsulated data path between nodes on different subnets, as Calico
 * programs it.
 *
 * - VXLAN: a `vxlan.calico` device (VNI 4096, UDP 4789, `local <node address>`, nolearning)
 *   holding the node's VTEP address as /32 and a MAC of its own; per remote node a permanent
 *   neighbour (VTEP address → VTEP MAC) and a permanent FDB entry (VTEP MAC → the node's
 *   underlay address); per remote block `<block> via <VTEP> dev vxlan.calico onlink`.
 * - IPIP: `tunl0` (ipip, remote any) holding the tunnel address; per remote block
 *   `<block> via <node address> dev tunl0 onlink`. Where the kernel has no ipip module, apply
 *   fails naming the host.
 *
 * The routes carry our proto (OUR_ROUTE_PROTO) and the device our mark (its alias), so destroy
 * removes exactly what we made: a device of that name without the mark is refused and left in
 * place, and a route for a declared block that is not ours is refused, never replaced. The
 * neighbours, FDB entries and addresses of our own device are ours: entries not declared are
 * removed. BIRD is configured (templates/bird.conf.hbs) to leave these blocks to us.
 *
 * What differs between the two lives in one strategy per kind (STRATEGIES below): its script
 * (templates/scripts/overlay-vxlan.sh, overlay-ipip.sh), its variables, its device settings.
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
import { encapsulationProblem, ipv4Problem, nodeNameProblem } from '../../rules/checks';
import { ENCAPSULATION, Encapsulation, UNDERLAY_MTU } from '../../rules/constants';
import { IPV4 } from '../../rules/address-family';
import { CalicoProviderState, parseFacts, runChecked, runOn } from './hosts';
import { HostSnapshot, SnapshotSection, snapshotOf, splitParts } from './host-snapshot';
import { hostIpSection, parseFdb, parseLinks, parseNeighbours, parseRoutes, routeHead } from './ip-output';
import { parseImportId } from './import-id';
import { NETNS_MARK, OUR_ROUTE_PROTO, REGISTRY } from './names';
import { BUILDING_DEVICE } from './registry';
import { resourceSchemas } from './schema';
import { scriptFailure } from './exit-codes';
import { remoteScript, RemoteScript } from './script';

type Ctx = ResourceContext<CalicoProviderState>;
const schema = resourceSchemas.calico_overlay;
type OverlayState = BlockValues<typeof schema.block>;
type OverlayInputs = InputValues<typeof schema.block>;
type StringMap = Record<string, string>;

/** Our devices carry the same alias as our workload namespaces' lo: "made by calico-net". */
const DEVICE_MARK = NETNS_MARK;
const OWNER_OURS = 'calico-net';
const OWNER_FOREIGN = 'not calico-net';

const ENCAPSULATIONS = Object.keys(ENCAPSULATION) as Encapsulation[];

interface Overlay {
  node: string;
  kind: Encapsulation;
  device: string;
  address: string;
  tunnel: string;
  mac: string | null;
  mtu: number;
  neighbours: StringMap;
  fdb: StringMap;
  routes: StringMap;
}

/**
 * The inputs as the scripts use them, defaults applied. They reach a shell: the runtime ran the
 * schema's checks on them (every map entry and the VXLAN/IPIP rules included), states too.
 */
function overlayOf(obj: OverlayInputs): Overlay {
  const kind = obj.encapsulation as Encapsulation;
  const maps = { neighbours: obj.neighbours ?? {}, fdb: obj.fdb ?? {}, routes: obj.routes ?? {} };
  return {
    node: obj.node_name,
    kind,
    device: ENCAPSULATION[kind].device,
    address: obj.address,
    tunnel: obj.tunnel_address,
    mac: obj.tunnel_mac,
    mtu: obj.mtu ?? defaultMtu(kind),
    ...maps,
  };
}

function defaultMtu(kind: Encapsulation): number {
  return UNDERLAY_MTU - ENCAPSULATION[kind].overhead;
}

/** "key value" lines: how a map reaches the script (every key and value passed a check). */
function lines(map: StringMap): string {
  return Object.entries(map)
    .map(([k, v]) => `${k} ${v}`)
    .join('\n');
}

// ---------------------------------------------------------------------------------------------
// What differs between the encapsulations, in TypeScript and in shell: one strategy per kind.

interface OverlayStrategy {
  /**
   * Its script under templates/scripts: ensure_device, converge_entries and remove_device for
   * this kind, which overlay-apply.sh and overlay-delete.sh call.
   */
  readonly script: string;
  /** The device has a MAC of its own (tunnel_mac), neighbours and FDB entries. */
  readonly hasMac: boolean;
  /** Its script's own variables. */
  vars(o: Overlay): StringMap;
  /** Its settings in the `device` fact as apply makes them. */
  desired(o: Pick<Overlay, 'address' | 'mac'>): StringMap;
  /** Recognises the kind in `ip -d -o link show` and reads its settings there. */
  readonly detect: RegExp;
  settings(details: string, field: (re: RegExp) => string): StringMap;
  /** For import: the node's underlay address, from the device's settings or the login's host. */
  underlayAddress(device: StringMap, sshHost: string): string | undefined;
}

const STRATEGIES: Readonly<Record<Encapsulation, OverlayStrategy>> = {
  vxlan: {
    script: 'overlay-vxlan',
    hasMac: true,
    vars: (o) => ({ mac: o.mac ?? '', vni: String(ENCAPSULATION.vxlan.vni), port: String(ENCAPSULATION.vxlan.port) }),
    desired: (o) => ({
      vni: String(ENCAPSULATION.vxlan.vni),
      local: o.address,
      dstport: String(ENCAPSULATION.vxlan.port),
      learning: 'off',
      mac: o.mac ?? '',
    }),
    detect: /\\\s+vxlan id (\d+)/,
    settings: (details, field) => ({
      vni: field(/\\\s+vxlan id (\d+)/),
      local: field(/ vxlan id \d+ .*?\blocal (\S+)/),
      dstport: field(/ dstport (\d+)/),
      learning: / nolearning /.test(details) ? 'off' : 'on',
      mac: field(/ link\/ether (\S+)/),
    }),
    underlayAddress: (device) => device.local,
  },
  ipip: {
    script: 'overlay-ipip',
    hasMac: false,
    vars: () => ({}),
    desired: () => ({ remote: 'any' }),
    detect: /\\\s+ipip /,
    settings: (_details, field) => ({ remote: field(/\\\s+ipip .*?\bremote (\S+)/) }),
    underlayAddress: (_device, sshHost) => sshHost,
  },
};

/** The variables every overlay script takes. */
function commonVars(o: Overlay): StringMap {
  return { node: o.node, dev: o.device, tmpdev: BUILDING_DEVICE, tunnel: o.tunnel, registry: REGISTRY };
}

function applyScript(o: Overlay): RemoteScript {
  const strategy = STRATEGIES[o.kind];
  const vars = {
    ...commonVars(o),
    address: o.address,
    mtu: String(o.mtu),
    neighbours: lines(o.neighbours),
    fdb: lines(o.fdb),
    routes: lines(o.routes),
    ...strategy.vars(o),
  };
  return remoteScript([strategy.script, 'overlay-apply'], vars);
}

function deleteScript(o: Overlay): RemoteScript {
  return remoteScript([STRATEGIES[o.kind].script, 'overlay-delete'], commonVars(o));
}

// ---------------------------------------------------------------------------------------------
// What the host holds: the snapshot section and the facts derived from it.

interface DeviceView {
  /** `ip -d -o link show dev <device>`; empty when the device is missing. */
  details: string;
  /** Permanent neighbours: address → MAC. */
  neighbours: StringMap;
  /** FDB entries: MAC → destination(s), comma-separated when a MAC has several. */
  fdb: StringMap;
}

interface OverlayView {
  devices: Map<string, DeviceView>;
}

const DEVICES = ENCAPSULATIONS.map((k) => ENCAPSULATION[k].device);

/** Each device's details, permanent neighbours and FDB; a device that is not there costs no process. */
export const overlaySection: SnapshotSection<OverlayView> = {
  name: 'overlay',
  scriptFile: 'snapshot-overlay',
  parse(body) {
    const devices = new Map<string, DeviceView>();
    for (const [label, text] of splitParts(body)) {
      const m = /^(device|neighbours|fdb) (\S+)$/.exec(label);
      if (!m) continue;
      const view = devices.get(m[2]) ?? { details: '', neighbours: {}, fdb: {} };
      if (m[1] === 'device') view.details = text.trim();
      else if (m[1] === 'neighbours') view.neighbours = parseNeighbours(text);
      else view.fdb = parseFdb(text);
      devices.set(m[2], view);
    }
    return { devices };
  },
};

export const overlaySections = [overlaySection, hostIpSection] as const;

/** The device's settings as the `device` fact shows them; {} when it is missing. */
export function deviceSettings(details: string, addresses: string[]): StringMap {
  const [link] = parseLinks(details);
  if (!link) return {};
  const field = (re: RegExp) => re.exec(details)?.[1] ?? '';
  const common = {
    owner: link.alias === DEVICE_MARK ? OWNER_OURS : OWNER_FOREIGN,
    mtu: field(/ mtu (\d+)/),
    state: link.flags.includes('UP') ? 'up' : 'down',
    addresses: addresses.join(' '),
  };
  const kind = ENCAPSULATIONS.find((k) => STRATEGIES[k].detect.test(details));
  if (kind) return { kind, ...common, ...STRATEGIES[kind].settings(details, field) };
  return { kind: field(/\\\s+([a-z0-9_]+) /) || 'unknown', ...common };
}

/** The device fact apply establishes. */
function desiredDevice(o: Pick<Overlay, 'kind' | 'address' | 'tunnel' | 'mac' | 'mtu'>): StringMap {
  const common = { owner: OWNER_OURS, mtu: String(o.mtu), state: 'up', addresses: `${o.tunnel}/${IPV4.hostPrefix}` };
  return { kind: o.kind, ...common, ...STRATEGIES[o.kind].desired(o) };
}

function routeText(via: string, dev: string): string {
  return `via ${via} dev ${dev} onlink`;
}

function desiredRoutes(routes: StringMap, dev: string): StringMap {
  return Object.fromEntries(Object.entries(routes).map(([block, gw]) => [block, routeText(gw, dev)]));
}

/**
 * The `host_routes` fact: our routes through the device, and for each declared block whichever
 * route in its place (metric 0) is not ours, so a plan shows what holds the block.
 */
export function hostRoutes(routeLines: string[], dev: string, declared: string[]): StringMap {
  const out: StringMap = {};
  for (const line of routeLines.map(routeHead)) {
    const [route] = parseRoutes(line);
    if (!route) continue;
    const metric = / metric (\d+)/.exec(line)?.[1] ?? '0';
    const ours = route.proto === OUR_ROUTE_PROTO;
    const onlink = /\sonlink(\s|$)/.test(line);
    const text = [
      route.type === 'unicast' ? '' : route.type,
      route.via ? `via ${route.via}` : '',
      route.dev ? `dev ${route.dev}` : '',
      onlink ? 'onlink' : '',
    ]
      .filter(Boolean)
      .join(' ');
    if (ours && route.dev === dev) out[route.prefix] = text;
    else if (declared.includes(route.prefix) && metric === '0' && out[route.prefix] === undefined) {
      out[route.prefix] = ours ? text : `not calico-net's: ${line.trim()}`;
    }
  }
  return out;
}

type OverlayFacts = Pick<OverlayState, 'device' | 'host_neighbours' | 'host_fdb' | 'host_routes'>;

export function overlayFacts(s: HostSnapshot, o: Pick<Overlay, 'device' | 'routes'>): OverlayFacts {
  const view = s.get(overlaySection);
  const host = s.get(hostIpSection);
  const dev = view.devices.get(o.device) ?? { details: '', neighbours: {}, fdb: {} };
  const addresses = host.addresses
    .filter((a) => a.dev === o.device)
    .map((a) => `${a.address}/${a.prefixLength}`)
    .sort();
  return {
    device: deviceSettings(dev.details, addresses),
    host_neighbours: dev.neighbours,
    host_fdb: dev.fdb,
    host_routes: hostRoutes(host.routeLines, o.device, Object.keys(o.routes)),
  };
}

// ---------------------------------------------------------------------------------------------

async function applyOverlay(planned: OverlayInputs, ctx: Ctx): Promise<OverlayState> {
  const o = overlayOf(planned);
  const host = ctx.provider.hosts.hostFor(planned.ssh, o.node);
  const doing = `set up the ${o.kind} overlay`;
  const script = applyScript(o);
  const result = await runOn(host, o.node, script.text, { signal: ctx.signal, doing });
  const failure = scriptFailure(result.code, result.stderr, script.exits, { node: o.node, doing });
  if (failure) throw failure;
  parseFacts(result.stdout, o.node);
  return {
    ...planned,
    id: o.node,
    device: desiredDevice(o),
    host_neighbours: o.neighbours,
    host_fdb: o.fdb,
    host_routes: desiredRoutes(o.routes, o.device),
  };
}

/** A map from config whose every key and value is known, else undefined. */
function knownMap(v: Value | undefined): StringMap | null | undefined {
  if (v === null || v === undefined) return null;
  if (v === Unknown || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const entries = Object.entries(v);
  return entries.every(([, x]) => typeof x === 'string') ? (Object.fromEntries(entries) as StringMap) : undefined;
}

export const overlayHandler: ResourceHandler<CalicoProviderState> = {
  typeName: 'calico_overlay',
  schema,

  plan(req: PlanRequest): PlanResult {
    const c = req.config;
    const kind = c.encapsulation;
    const routes = knownMap(c.routes);
    const neighbours = knownMap(c.neighbours);
    const fdb = knownMap(c.fdb);
    const kindKnown = typeof kind === 'string' && !encapsulationProblem(kind);
    const deviceKnown = kindKnown && [c.address, c.tunnel_address, c.tunnel_mac, c.mtu].every((v) => v !== Unknown);
    const device = deviceKnown
      ? desiredDevice({
          kind: kind as Encapsulation,
          address: String(c.address),
          tunnel: String(c.tunnel_address),
          mac: typeof c.tunnel_mac === 'string' ? c.tunnel_mac : null,
          mtu: typeof c.mtu === 'number' ? c.mtu : defaultMtu(kind as Encapsulation),
        })
      : Unknown;
    return {
      planned: {
        ...req.proposed,
        id: c.node_name ?? Unknown,
        device,
        host_neighbours: neighbours === undefined ? Unknown : (neighbours ?? {}),
        host_fdb: fdb === undefined ? Unknown : (fdb ?? {}),
        host_routes:
          routes === undefined || !kindKnown
            ? Unknown
            : desiredRoutes(routes ?? {}, ENCAPSULATION[kind as Encapsulation].device),
      },
    };
  },

  create: async (planned, ctx) => asObjectValue(await applyOverlay(knownInputs(schema.block, planned), ctx)),
  update: async (_prior, planned, ctx) => asObjectValue(await applyOverlay(knownInputs(schema.block, planned), ctx)),

  async read(stateValue, ctx) {
    // A missing device is drift, not absence: the facts say what is gone and apply rebuilds it.
    const state = knownValues(schema.block, stateValue);
    const o = overlayOf(state);
    const refreshed: OverlayState = { ...state, ...overlayFacts(await snapshotOf(state.ssh, o.node, ctx), o) };
    return asObjectValue(refreshed);
  },

  async delete(priorValue, ctx) {
    const prior = knownValues(schema.block, priorValue);
    const o = overlayOf(prior);
    const host = ctx.provider.hosts.hostFor(prior.ssh, o.node);
    await runChecked(host, o.node, deleteScript(o).text, { signal: ctx.signal, doing: `remove the ${o.kind} overlay` });
  },

  async import(id, ctx) {
    const { subject: node, ssh } = parseImportId(id, '<node>@[user@]host[:port]');
    const problem = nodeNameProblem(node);
    if (problem) throw new ProviderError(`Invalid node name in import id "${id}"`, { detail: problem });
    const snapshot = await snapshotOf(ssh, node, ctx);
    const view = snapshot.get(overlaySection);
    const found = ENCAPSULATIONS.map((kind) => ({ kind, device: ENCAPSULATION[kind].device }))
      .map((d) => ({ ...d, facts: overlayFacts(snapshot, { device: d.device, routes: {} }) }))
      .find((d) => d.facts.device?.owner === OWNER_OURS);
    if (!found || !found.facts.device) {
      throw new ProviderError(`Cannot import calico_overlay ${node}`, {
        detail: `node ${node} has no ${DEVICES.join(' or ')} device marked as calico-net's`,
      });
    }
    const device = found.facts.device;
    const tunnel = device.addresses
      .split(' ')
      .find((a) => a.endsWith(`/${IPV4.hostPrefix}`))
      ?.split('/')[0];
    const address = STRATEGIES[found.kind].underlayAddress(device, ssh.host);
    if (!tunnel || !address || ipv4Problem(address)) {
      throw new ProviderError(`Cannot import calico_overlay ${node}`, {
        detail: `${found.device} on ${node} holds no /32 tunnel address, or its underlay address is unknown`,
      });
    }
    const routes = Object.fromEntries(
      Object.entries(found.facts.host_routes ?? {}).flatMap(([block, text]) => {
        const via = /^via (\S+) /.exec(text)?.[1];
        return via ? [[block, via]] : [];
      }),
    );
    const dev = view.devices.get(found.device);
    const state: OverlayState = {
      id: node,
      node_name: node,
      encapsulation: found.kind,
      address,
      tunnel_address: tunnel,
      tunnel_mac: STRATEGIES[found.kind].hasMac ? device.mac : null,
      mtu: Number(device.mtu),
      neighbours: dev?.neighbours ?? {},
      fdb: dev?.fdb ?? {},
      routes,
      ...overlayFacts(snapshot, { device: found.device, routes }),
      ssh,
    };
    return asObjectValue(state);
  },
};
