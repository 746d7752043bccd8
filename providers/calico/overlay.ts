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
 */
import { PlanRequest, PlanResult, ProviderError, ResourceContext, ResourceHandler, Unknown, Value } from '../runtime/resource';
import { asObjectValue, BlockValues, InputValues, knownInputs, knownValues } from '../runtime/typed';
import { isIpv4, isIpv4Cidr, isMtu, isNodeName } from '../../rules/checks';
import { ENCAPSULATION, Encapsulation, UNDERLAY_MTU } from '../../rules/constants';
import { IPV4 } from '../../rules/address-family';
import { CalicoProviderState, parseFacts, runChecked, runOn } from './hosts';
import { HostSnapshot, SnapshotSection, snapshotOf, splitParts } from './host-snapshot';
import { hostIpSection, parseLinks, parseRoutes, routeHead } from './ip-output';
import { parseImportId } from './import-id';
import { NETNS_MARK, OUR_ROUTE_PROTO, REGISTRY } from './names';
import { BUILDING_DEVICE, REGISTRY_FNS } from './registry';
import { resourceSchemas } from './schema';
import { FOREIGN_ROUTES_FN, LINK_EXISTS_FN, scriptWithVars } from './script';
import { checkSshBlock, DiagnosticCollector, requireValid } from './validate';

type Ctx = ResourceContext<CalicoProviderState>;
const schema = resourceSchemas.calico_overlay;
type OverlayState = BlockValues<typeof schema.block>;
type OverlayInputs = InputValues<typeof schema.block>;
type StringMap = Record<string, string>;

/** Our devices carry the same alias as our workload namespaces' lo: "made by calico-net". */
const DEVICE_MARK = NETNS_MARK;
const OWNER_OURS = 'calico-net';
const OWNER_FOREIGN = 'not calico-net';

const ADDRESS_EXIT = 44;
const NO_IPIP_EXIT = 46;

const ENCAPSULATIONS = Object.keys(ENCAPSULATION) as Encapsulation[];

/** A unicast MAC written as six lower-case hex pairs (the form `ip` prints). */
export function isUnicastMac(v: string): string | null {
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(v)) return `"${v}" is not a MAC address (six lower-case hex pairs, e.g. 66:cc:c6:13:01:01)`;
  if (parseInt(v.slice(0, 2), 16) % 2 === 1) return `"${v}" is a multicast MAC address`;
  if (v === '00:00:00:00:00:00') return `"${v}" is the all-zero MAC address`;
  return null;
}

const isEncapsulation = (v: string): string | null =>
  (ENCAPSULATIONS as string[]).includes(v) ? null : `"${v}" is not one of ${ENCAPSULATIONS.join(', ')}`;

/** Map entries as checked (key check, value check); the message names the key. */
function mapProblems(map: StringMap, keyCheck: (v: string) => string | null, valueCheck: (v: string) => string | null): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(map)) {
    const p = keyCheck(k) ?? valueCheck(v);
    if (p) out.push(`["${k}"]: ${p}`);
  }
  return out;
}

const MAP_CHECKS = {
  neighbours: [isIpv4, isUnicastMac],
  fdb: [isUnicastMac, isIpv4],
  routes: [isIpv4Cidr, isIpv4],
} as const;

/** Problems that involve more than one attribute (VXLAN needs a MAC; IPIP has no neighbours). */
function crossProblems(o: { encapsulation: string; tunnel_mac: string | null; neighbours: StringMap | null; fdb: StringMap | null }): [string, string][] {
  const out: [string, string][] = [];
  if (o.encapsulation === 'vxlan' && o.tunnel_mac === null) out.push(['tunnel_mac', 'VXLAN needs the device MAC']);
  if (o.encapsulation === 'ipip') {
    if (o.tunnel_mac !== null) out.push(['tunnel_mac', 'IPIP devices have no MAC']);
    for (const name of ['neighbours', 'fdb'] as const) {
      if (Object.keys(o[name] ?? {}).length > 0) out.push([name, 'IPIP has no neighbour or FDB entries']);
    }
  }
  return out;
}

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

/** The inputs, checked again (states and import ids bypass validate()): they reach a shell. */
function overlayOf(obj: OverlayInputs): Overlay {
  const node = requireValid(obj.node_name, 'node_name', isNodeName);
  const kind = requireValid(obj.encapsulation, 'encapsulation', isEncapsulation) as Encapsulation;
  const address = requireValid(obj.address, 'address', isIpv4);
  const tunnel = requireValid(obj.tunnel_address, 'tunnel_address', isIpv4);
  const mac = obj.tunnel_mac === null ? null : requireValid(obj.tunnel_mac, 'tunnel_mac', isUnicastMac);
  const mtu = requireValid(obj.mtu ?? defaultMtu(kind), 'mtu', isMtu);
  const maps = { neighbours: obj.neighbours ?? {}, fdb: obj.fdb ?? {}, routes: obj.routes ?? {} };
  for (const name of ['neighbours', 'fdb', 'routes'] as const) {
    const [keyCheck, valueCheck] = MAP_CHECKS[name];
    const problems = mapProblems(maps[name], keyCheck, valueCheck);
    if (problems.length) throw new ProviderError(`Invalid ${name}`, { detail: problems.join('; '), attribute: [name] });
  }
  const [cross] = crossProblems({ encapsulation: kind, tunnel_mac: mac, ...maps });
  if (cross) throw new ProviderError(`Invalid ${cross[0]}`, { detail: cross[1], attribute: [cross[0]] });
  return { node, kind, device: ENCAPSULATION[kind].device, address, tunnel, mac, mtu, ...maps };
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
// Scripts. Values arrive as quoted variables; the maps as "key value" lines of checked values,
// which is what makes it safe to turn them into `ip -batch` commands.

/** Shell helpers shared by apply and delete. */
const HELPERS = `${REGISTRY_FNS}
dev_exists() { ip link show dev "$dev" >/dev/null 2>&1; }
dev_ours() { ip -o link show dev "\${1:-$dev}" 2>/dev/null | grep -q ' alias ${DEVICE_MARK} *$'; }
# Prints the first word of each stdin line whose key is not among the declared lines in $1.
undeclared() { awk 'NR == FNR { want[$1] = 1; next } !($1 in want) { print $1 }' <(printf '%s\\n' "$1") -; }
remove_our_routes() {
  { ip -4 route show table main proto ${OUR_ROUTE_PROTO} dev "$dev" 2>/dev/null || true; } | undeclared "$1" |
    while read -r prefix; do ip route del "$prefix" dev "$dev" table main proto ${OUR_ROUTE_PROTO}; done
}`;

const APPLY_CHECKS = `
if [ -z "$(ip -4 -o addr show to "$address/32")" ]; then
  echo "$node does not hold its address $address on any interface: is the inventory pointing this node at the right host?" >&2
  exit ${ADDRESS_EXIT}
fi
${FOREIGN_ROUTES_FN}
while read -r prefix gw; do
  if [ -z "$prefix" ]; then continue; fi
  other=$(foreign_routes "$prefix")
  if [ -n "$other" ]; then
    echo "$node already has a route for $prefix that calico-net did not create ($other); remove it, then apply again" >&2
    exit 3
  fi
done <<< "$routes"`;

const VXLAN_DEVICE = `
if dev_exists; then
  if ! dev_ours; then
    echo "$node already has a device $dev that calico-net did not create (it lacks the alias ${DEVICE_MARK}); it is left alone: remove it, then apply again" >&2
    exit 3
  fi
  # VNI, source, port and learning cannot change in place: a device that differs is rebuilt
  # (its neighbours, FDB entries and routes are added again below).
  case "$(ip -d -o link show dev "$dev")" in
    *" vxlan id $vni local $address "*" dstport $port nolearning "*) ;;
    *) ip link del "$dev" ;;
  esac
fi
if ! dev_exists; then
  # Built under a name of our own and renamed once marked, so an apply killed halfway never
  # leaves an unmarked vxlan.calico that the next apply would refuse as foreign. The temporary
  # name is ours only with our mark: a device of that name without it is someone else's.
  if ip link show dev "$tmpdev" >/dev/null 2>&1; then
    if ! dev_ours "$tmpdev"; then
      echo "$node already has a device $tmpdev that calico-net did not create (it lacks the alias ${DEVICE_MARK}); calico-net builds $dev under that name, so it is left alone and nothing was changed: remove or rename it, then apply again" >&2
      exit 3
    fi
    ip link del "$tmpdev"
  fi
  # Listed on the host before they exist: a kill from here on leaves nothing unlisted.
  register link "$dev"
  register link "$tmpdev"
  # Made and marked by one ip process: no window in which a kill of this script leaves it unmarked.
  if ! err=$(printf 'link add %s mtu %s address %s type vxlan id %s local %s dstport %s nolearning\nlink set dev %s alias %s\n' \
      "$tmpdev" "$mtu" "$mac" "$vni" "$address" "$port" "$tmpdev" ${DEVICE_MARK} | ip -batch - 2>&1); then
    # E.g. another device already uses this VNI and port, or the kernel has no vxlan module.
    ip link del "$tmpdev" 2>/dev/null || true
    unregister link "$tmpdev"
    echo "$node: cannot create $dev (VXLAN, VNI $vni, UDP port $port, local $address): $err" >&2
    exit 3
  fi
  ip link set dev "$tmpdev" name "$dev"
  unregister link "$tmpdev"
fi
register link "$dev"
# Setting the MAC flushes the device's neighbours, even to the same value: only when it
# differs, and before the neighbours are added.
if [ "$(ip -o link show dev "$dev" | awk '{ for (i = 1; i < NF; i++) if ($i == "link/ether") print $(i + 1) }')" != "$mac" ]; then
  ip link set dev "$dev" address "$mac"
fi
ip link set dev "$dev" mtu "$mtu" up`;

const IPIP_DEVICE = `
if ! dev_exists; then modprobe ipip 2>/dev/null || true; fi
register link "$dev"
if ! dev_exists; then
  if ! err=$(ip link add name "$dev" type ipip remote any 2>&1); then
    echo "$node: this kernel has no ipip support (modprobe ipip failed, and ip link add $dev type ipip said: $err); IPIP cannot work on this host: use vxlanMode instead of ipipMode" >&2
    exit ${NO_IPIP_EXIT}
  fi
fi
case "$(ip -d -o link show dev "$dev")" in
  *" ipip "*) ;;
  *) echo "$node has a device $dev that is not an ipip tunnel; it is left alone" >&2; exit 3 ;;
esac
# tunl0 is the kernel's fallback device, there for anyone: in use by someone else when it
# holds an address without our mark.
if ! dev_ours && [ -n "$(ip -4 -o addr show dev "$dev")" ]; then
  echo "$node: $dev holds addresses that calico-net did not add (it lacks the alias ${DEVICE_MARK}); it is left alone" >&2
  exit 3
fi
ip link set dev "$dev" alias ${DEVICE_MARK} mtu "$mtu" up`;

const APPLY_ENTRIES = `
ip addr replace "$tunnel/32" dev "$dev"
ip -4 -o addr show dev "$dev" | awk '{ print $4 }' | while read -r a; do
  if [ "$a" != "$tunnel/32" ]; then ip addr del "$a" dev "$dev"; fi
done
if [ "$kind" = vxlan ]; then
  while read -r vtep lladdr; do
    if [ -n "$vtep" ]; then echo "neigh replace $vtep lladdr $lladdr dev $dev nud permanent"; fi
  done <<< "$neighbours" | ip -batch -
  ip -4 neigh show dev "$dev" nud permanent | undeclared "$neighbours" | while read -r vtep; do ip neigh del "$vtep" dev "$dev"; done
  while read -r lladdr dst; do
    if [ -n "$lladdr" ]; then echo "fdb replace $lladdr dev $dev dst $dst self permanent"; fi
  done <<< "$fdb" | bridge -batch -
  # An FDB entry is a (MAC, destination) pair: one not declared as such goes.
  bridge fdb show dev "$dev" | awk '$2 == "dst" { print $1 "/" $3 }' |
    undeclared "$(awk 'NF { print $1 "/" $2 }' <<< "$fdb")" | tr / ' ' |
    while read -r lladdr dst; do bridge fdb del "$lladdr" dev "$dev" dst "$dst" self; done
fi
while read -r prefix gw; do
  if [ -n "$prefix" ]; then echo "route replace $prefix via $gw dev $dev onlink table main proto ${OUR_ROUTE_PROTO}"; fi
done <<< "$routes" | ip -batch -
remove_our_routes "$routes"
echo end=ok`;

const DELETE_BODY = `${HELPERS}
remove_our_routes ""
# The temporary name is ours only when marked (a foreign device of that name stays).
if [ "$kind" = vxlan ] && dev_ours ${BUILDING_DEVICE}; then ip link del ${BUILDING_DEVICE}; fi
unregister link ${BUILDING_DEVICE}
if dev_exists && dev_ours; then
  if [ "$kind" = vxlan ]; then
    ip link del "$dev"
  elif ! ip link del "$dev" 2>/dev/null; then
    # The kernel's fallback tunl0 cannot be deleted: take back what we set on it.
    ip addr del "$tunnel/32" dev "$dev" 2>/dev/null || true
    ip link set dev "$dev" down
    ip link set dev "$dev" alias ""
  fi
fi
if ! dev_exists || ! dev_ours; then unregister link "$dev"; fi
echo end=ok`;

function applyScript(o: Overlay): string {
  const vars: Record<string, string> = {
    node: o.node,
    kind: o.kind,
    dev: o.device,
    address: o.address,
    tunnel: o.tunnel,
    mtu: String(o.mtu),
    registry: REGISTRY,
    neighbours: lines(o.neighbours),
    fdb: lines(o.fdb),
    routes: lines(o.routes),
  };
  if (o.kind === 'vxlan') {
    Object.assign(vars, { mac: o.mac!, vni: String(ENCAPSULATION.vxlan.vni), port: String(ENCAPSULATION.vxlan.port), tmpdev: BUILDING_DEVICE });
  }
  const device = o.kind === 'vxlan' ? VXLAN_DEVICE : IPIP_DEVICE;
  return scriptWithVars(vars, [HELPERS, APPLY_CHECKS, device, APPLY_ENTRIES].join('\n'));
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

/** Permanent neighbours as `ip -4 neigh show dev D nud permanent` prints them. */
export function parseNeighbours(text: string): StringMap {
  const out: StringMap = {};
  for (const line of text.split('\n')) {
    const m = /^(\S+) lladdr (\S+)/.exec(line.trim());
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** `bridge fdb show dev D`: entries with a destination, MAC → destinations. */
export function parseFdb(text: string): StringMap {
  const out: StringMap = {};
  for (const line of text.split('\n')) {
    const m = /^(\S+) dst (\S+)/.exec(line.trim());
    if (m) out[m[1]] = out[m[1]] ? `${out[m[1]]},${m[2]}` : m[2];
  }
  return out;
}

const DEVICES = ENCAPSULATIONS.map((k) => ENCAPSULATION[k].device);

/** Each device's details, permanent neighbours and FDB; a device that is not there costs no process. */
export const overlaySection: SnapshotSection<OverlayView> = {
  name: 'overlay',
  script: `${LINK_EXISTS_FN}
for d in ${DEVICES.join(' ')}; do
  link_exists "$d" || continue
  part "device $d"; ip -d -o link show dev "$d" 2>/dev/null || true
  part "neighbours $d"; ip -4 neigh show dev "$d" nud permanent 2>/dev/null || true
  part "fdb $d"; bridge fdb show dev "$d" 2>/dev/null || true
done`,
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
  const vxlan = /\\\s+vxlan id (\d+)/.exec(details);
  if (vxlan) {
    return {
      kind: 'vxlan',
      ...common,
      vni: vxlan[1],
      local: field(/ vxlan id \d+ .*?\blocal (\S+)/),
      dstport: field(/ dstport (\d+)/),
      learning: / nolearning /.test(details) ? 'off' : 'on',
      mac: field(/ link\/ether (\S+)/),
    };
  }
  if (/\\\s+ipip /.test(details)) return { kind: 'ipip', ...common, remote: field(/\\\s+ipip .*?\bremote (\S+)/) };
  return { kind: field(/\\\s+([a-z0-9_]+) /) || 'unknown', ...common };
}

/** The device fact apply establishes. */
function desiredDevice(o: Pick<Overlay, 'kind' | 'address' | 'tunnel' | 'mac' | 'mtu'>): StringMap {
  const common = { owner: OWNER_OURS, mtu: String(o.mtu), state: 'up', addresses: `${o.tunnel}/${IPV4.hostPrefix}` };
  if (o.kind === 'ipip') return { kind: 'ipip', ...common, remote: 'any' };
  const { vni, port } = ENCAPSULATION.vxlan;
  return { kind: 'vxlan', ...common, vni: String(vni), local: o.address, dstport: String(port), learning: 'off', mac: o.mac ?? '' };
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
    const text = [route.type === 'unicast' ? '' : route.type, route.via ? `via ${route.via}` : '', route.dev ? `dev ${route.dev}` : '', onlink ? 'onlink' : '']
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
  const result = await runOn(host, o.node, applyScript(o), { signal: ctx.signal, doing });
  if (result.code === ADDRESS_EXIT) throw new ProviderError(result.stderr.trim(), { attribute: ['address'] });
  if (result.code === NO_IPIP_EXIT) throw new ProviderError(result.stderr.trim(), { attribute: ['encapsulation'] });
  if (result.code !== 0) {
    throw new ProviderError(`Failed to ${doing} on node ${o.node}`, { detail: result.stderr.trim() || `exit code ${result.code}` });
  }
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

  validate(config) {
    const c = new DiagnosticCollector();
    c.string(config, ['node_name'], isNodeName);
    c.string(config, ['encapsulation'], isEncapsulation);
    c.string(config, ['address'], isIpv4);
    c.string(config, ['tunnel_address'], isIpv4);
    c.string(config, ['tunnel_mac'], isUnicastMac);
    c.number(config, ['mtu'], isMtu);
    checkSshBlock(c, config);
    const diagnostics = [...c.diagnostics];
    const maps: Record<string, StringMap | null> = {};
    for (const name of ['neighbours', 'fdb', 'routes'] as const) {
      const map = knownMap(config[name]);
      if (map === undefined) continue;
      maps[name] = map;
      const [keyCheck, valueCheck] = MAP_CHECKS[name];
      for (const p of mapProblems(map ?? {}, keyCheck, valueCheck)) {
        diagnostics.push({ severity: 'error', summary: `Invalid ${name}`, detail: p, attribute: [name] });
      }
    }
    const { encapsulation, tunnel_mac: mac } = config;
    if (typeof encapsulation === 'string' && mac !== Unknown && maps.neighbours !== undefined && maps.fdb !== undefined) {
      const cross = crossProblems({ encapsulation, tunnel_mac: typeof mac === 'string' ? mac : null, neighbours: maps.neighbours, fdb: maps.fdb });
      for (const [attribute, detail] of cross) diagnostics.push({ severity: 'error', summary: `Invalid ${attribute}`, detail, attribute: [attribute] });
    }
    return diagnostics;
  },

  plan(req: PlanRequest): PlanResult {
    const c = req.config;
    const kind = c.encapsulation;
    const routes = knownMap(c.routes);
    const neighbours = knownMap(c.neighbours);
    const fdb = knownMap(c.fdb);
    const kindKnown = typeof kind === 'string' && !isEncapsulation(kind);
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
        host_routes: routes === undefined || !kindKnown ? Unknown : desiredRoutes(routes ?? {}, ENCAPSULATION[kind as Encapsulation].device),
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
    const vars = { node: o.node, kind: o.kind, dev: o.device, tunnel: o.tunnel, registry: REGISTRY };
    await runChecked(host, o.node, scriptWithVars(vars, DELETE_BODY), { signal: ctx.signal, doing: `remove the ${o.kind} overlay` });
  },

  async import(id, ctx) {
    const { subject: node, ssh } = parseImportId(id, '<node>@[user@]host[:port]');
    const problem = isNodeName(node);
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
    const tunnel = device.addresses.split(' ').find((a) => a.endsWith(`/${IPV4.hostPrefix}`))?.split('/')[0];
    const address = found.kind === 'vxlan' ? device.local : ssh.host;
    if (!tunnel || !address || isIpv4(address)) {
      throw new ProviderError(`Cannot import calico_overlay ${node}`, { detail: `${found.device} on ${node} holds no /32 tunnel address, or its underlay address is unknown` });
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
      tunnel_mac: found.kind === 'vxlan' ? device.mac : null,
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
