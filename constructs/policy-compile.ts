/**
 * The compiled policy model: the cluster's policies in Calico's order, every selector resolved
 * to the addresses of the workloads it matches, and per workload the policies that apply to it
 * in each direction. Computed once per cluster (at synth); the nftables rulesets
 * (policy-nft.ts), `calico-net explain` and `calico-net verify` all read this one model, and
 * `decide` is the one statement of Calico's semantics the tools evaluate.
 *
 * Semantics (Calico's): a workload no policy selects in a direction is open in that direction.
 * Once one does, its policies apply in order; in each, the first rule that matches decides
 * (Allow or Deny; Log logs and goes on); a packet no rule decided is dropped.
 */
import { hostInterfaceName } from '../providers/calico/names';
import { addressValue, cidrContainsIp, familyOf, IPV4, parseCidr } from '../rules/address-family';
import type { ClusterSpec } from './model';
import {
  comparePolicies,
  ICMP_PROTOCOL_OF_VERSION,
  IcmpMatch,
  IpVersion,
  PolicyAction,
  PolicyRule,
  PolicySpec,
  PolicyType,
  policyTypesOf,
  PortSpec,
  protocolNumber,
  EntityRule,
} from './policy-model';
import { canonicalSelector, matches, parseSelector } from './selector';

export interface PolicyEndpoint {
  node: string;
  workload: string;
  /** Its first address: the IPv4 one, or the IPv6 one of an IPv6-only workload. */
  ip: string;
  /** Its IPv6 address, when it has one (an IPv6-only workload's is `ip` too). */
  ipv6?: string;
  /** The host-side veth: what the node's verdict maps are keyed on. */
  iface: string;
  labels: Record<string, string>;
}

export interface PortRange {
  from: number;
  to: number;
}

export interface CompiledEntity {
  nets?: string[];
  notNets?: string[];
  /** Canonical selector text: a key of PolicyModel.selectors. */
  selector?: string;
  notSelector?: string;
  ports?: PortRange[];
  notPorts?: PortRange[];
}

export interface CompiledRule {
  /** Its index in the policy's ingress or egress list, as written. */
  index: number;
  action: PolicyAction;
  /** The rule applies to packets of this IP version only. */
  ipVersion?: IpVersion;
  protocol?: number;
  notProtocol?: number;
  icmp?: IcmpMatch;
  notICMP?: IcmpMatch;
  source: CompiledEntity;
  destination: CompiledEntity;
}

export interface CompiledPolicy {
  name: string;
  order?: number;
  selector: string;
  types: PolicyType[];
  ingress: CompiledRule[];
  egress: CompiledRule[];
}

export interface PolicyModel {
  /** In the order they apply (order, then name). */
  policies: CompiledPolicy[];
  endpoints: PolicyEndpoint[];
  /** Canonical selector → the addresses of the workloads it matches: IPv4 sorted, then IPv6 sorted. */
  selectors: Record<string, string[]>;
  /** "node/workload" → the policies that apply to it, in order, per direction. */
  applied: Record<string, { ingress: string[]; egress: string[] }>;
}

export const endpointKey = (e: Pick<PolicyEndpoint, 'node' | 'workload'>) => `${e.node}/${e.workload}`;

/** Every address of the endpoint, each a policy endpoint address: IPv4 first. */
export const endpointAddresses = (e: Pick<PolicyEndpoint, 'ip' | 'ipv6'>): string[] =>
  e.ipv6 === undefined || e.ipv6 === e.ip ? [e.ip] : [e.ip, e.ipv6];

/** The IP version of an address (as validated: IPv4 or IPv6). */
export const ipVersionOf = (address: string): IpVersion => (familyOf(address) === IPV4 ? 4 : 6);

function portRange(p: PortSpec): PortRange {
  if (typeof p === 'number') return { from: p, to: p };
  const [from, to] = p.split(':').map(Number);
  return { from, to };
}

function canonical(text: string | undefined): string | undefined {
  return text === undefined ? undefined : canonicalSelector(parseSelector(text));
}

function compileEntity(e: EntityRule | undefined): CompiledEntity {
  if (!e) return {};
  const out: CompiledEntity = {};
  if (e.nets?.length) out.nets = [...e.nets];
  if (e.notNets?.length) out.notNets = [...e.notNets];
  if (e.selector !== undefined) out.selector = canonical(e.selector);
  if (e.notSelector !== undefined) out.notSelector = canonical(e.notSelector);
  if (e.ports?.length) out.ports = e.ports.map(portRange);
  if (e.notPorts?.length) out.notPorts = e.notPorts.map(portRange);
  return out;
}

function compileRule(r: PolicyRule, index: number): CompiledRule {
  const out: CompiledRule = {
    index,
    action: r.action,
    source: compileEntity(r.source),
    destination: compileEntity(r.destination),
  };
  if (r.ipVersion !== undefined) out.ipVersion = r.ipVersion;
  if (r.protocol !== undefined) out.protocol = protocolNumber(r.protocol);
  if (r.notProtocol !== undefined) out.notProtocol = protocolNumber(r.notProtocol);
  if (r.icmp !== undefined && (r.icmp.type !== undefined || r.icmp.code !== undefined)) out.icmp = { ...r.icmp };
  if (r.notICMP !== undefined && r.notICMP.type !== undefined) out.notICMP = { ...r.notICMP };
  return out;
}

function compilePolicy(p: PolicySpec): CompiledPolicy {
  const out: CompiledPolicy = {
    name: p.name,
    selector: canonical(p.selector ?? '') ?? 'all()',
    types: policyTypesOf(p),
    ingress: (p.ingress ?? []).map(compileRule),
    egress: (p.egress ?? []).map(compileRule),
  };
  if (p.order !== undefined) out.order = p.order;
  return out;
}

/** Every selector a rule names, once. */
function ruleSelectors(policies: CompiledPolicy[]): string[] {
  const out = new Set<string>();
  for (const p of policies) {
    for (const r of [...p.ingress, ...p.egress]) {
      for (const e of [r.source, r.destination]) {
        if (e.selector !== undefined) out.add(e.selector);
        if (e.notSelector !== undefined) out.add(e.notSelector);
      }
    }
  }
  return [...out];
}

/** IPv4 addresses first, each family in numeric order. */
const byAddress = (a: string, b: string) => {
  const va = ipVersionOf(a);
  const vb = ipVersionOf(b);
  if (va !== vb) return va - vb;
  const na = addressValue(a);
  const nb = addressValue(b);
  return na < nb ? -1 : na > nb ? 1 : 0;
};

/** The model of a (validated) cluster; undefined when it declares no policies. */
export function compilePolicyModel(cluster: ClusterSpec): PolicyModel | undefined {
  const specs = cluster.policies ?? [];
  if (specs.length === 0) return undefined;
  const policies = [...specs].sort(comparePolicies).map(compilePolicy);
  // Every address of a workload is a policy endpoint address: dual-stack ones in both
  // families, IPv6-only ones in IPv6 (as Calico's workload endpoints carry ipNetworks of both).
  const endpoints: PolicyEndpoint[] = cluster.nodes.flatMap((n) =>
    n.workloads.flatMap((w) => {
      const ip = w.ip ?? w.ipv6;
      if (ip === undefined) return [];
      return [
        {
          node: n.name,
          workload: w.name,
          ip,
          ...(w.ipv6 === undefined ? {} : { ipv6: w.ipv6 }),
          iface: hostInterfaceName(n.name, w.name),
          labels: { ...(w.labels ?? {}) },
        },
      ];
    }),
  );
  const selectors: Record<string, string[]> = {};
  for (const sel of ruleSelectors(policies)) {
    const parsed = parseSelector(sel);
    selectors[sel] = endpoints
      .filter((e) => matches(parsed, e.labels))
      .flatMap(endpointAddresses)
      .sort(byAddress);
  }
  const applied: PolicyModel['applied'] = {};
  const parsedPolicySelectors = policies.map((p) => parseSelector(p.selector));
  for (const e of endpoints) {
    const selecting = policies.filter((_, i) => matches(parsedPolicySelectors[i], e.labels));
    applied[endpointKey(e)] = {
      ingress: selecting.filter((p) => p.types.includes('Ingress')).map((p) => p.name),
      egress: selecting.filter((p) => p.types.includes('Egress')).map((p) => p.name),
    };
  }
  return { policies, endpoints, selectors, applied };
}

// ---------------------------------------------------------------------------------------------
// Evaluation: what the rulesets do to one packet, stated once for explain and verify.

/** A new connection's first packet (replies of allowed connections always pass: conntrack). */
export interface Packet {
  src: string;
  dst: string;
  /** Protocol number (6 TCP, 17 UDP, 1 ICMP, …). */
  protocol: number;
  /** Destination port (TCP, UDP, SCTP). */
  port?: number;
  /** Source port; unknown (an ephemeral port) when absent. */
  sourcePort?: number;
  icmpType?: number;
  icmpCode?: number;
}

export type Direction = 'ingress' | 'egress';

export interface DirectionVerdict {
  direction: Direction;
  endpoint: string;
  /** The policies that apply to the endpoint in this direction, in order. */
  policies: string[];
  action: 'Allow' | 'Deny';
  /** What decided: a rule of a policy, the default drop of a selected endpoint, or no policy. */
  decidedBy: { kind: 'rule'; policy: string; rule: number } | { kind: 'default-deny' } | { kind: 'no-policy' };
  /** Log rules that matched on the way, as "policy/direction[index]". */
  logged: string[];
}

export interface PacketVerdict {
  action: 'Allow' | 'Deny';
  /** Egress of the source workload (if it is one), then ingress of the destination (if one). */
  steps: DirectionVerdict[];
}

const inRanges = (port: number | undefined, ranges: PortRange[]) =>
  port !== undefined && ranges.some((r) => port >= r.from && port <= r.to);
const inNets = (ip: string, nets: string[]) => nets.some((n) => cidrContainsIp(parseCidr(n), ip));

function entityMatches(model: PolicyModel, e: CompiledEntity, ip: string, port: number | undefined): boolean {
  if (e.nets && !inNets(ip, e.nets)) return false;
  if (e.notNets && inNets(ip, e.notNets)) return false;
  if (e.selector !== undefined && !(model.selectors[e.selector] ?? []).includes(ip)) return false;
  if (e.notSelector !== undefined && (model.selectors[e.notSelector] ?? []).includes(ip)) return false;
  if (e.ports && !inRanges(port, e.ports)) return false;
  if (e.notPorts && inRanges(port, e.notPorts)) return false;
  return true;
}

/**
 * The IP versions a rule can match: its ipVersion; else the family of its ICMP protocol; else
 * both (nets then narrow it per family, as Felix filters them: see entityMatches).
 */
export function ruleIpVersions(r: Pick<CompiledRule, 'ipVersion' | 'protocol'>): IpVersion[] {
  if (r.ipVersion !== undefined) return [r.ipVersion];
  if (r.protocol === ICMP_PROTOCOL_OF_VERSION[4]) return [4];
  if (r.protocol === ICMP_PROTOCOL_OF_VERSION[6]) return [6];
  return [4, 6];
}

export function ruleMatches(model: PolicyModel, r: CompiledRule, p: Packet): boolean {
  if (!ruleIpVersions(r).includes(ipVersionOf(p.src))) return false;
  if (r.protocol !== undefined && r.protocol !== p.protocol) return false;
  if (r.notProtocol !== undefined && r.notProtocol === p.protocol) return false;
  if (r.icmp) {
    if (r.icmp.type !== undefined && r.icmp.type !== p.icmpType) return false;
    if (r.icmp.code !== undefined && r.icmp.code !== p.icmpCode) return false;
  }
  if (r.notICMP && r.notICMP.type === p.icmpType && (r.notICMP.code === undefined || r.notICMP.code === p.icmpCode))
    return false;
  return entityMatches(model, r.source, p.src, p.sourcePort) && entityMatches(model, r.destination, p.dst, p.port);
}

/** The verdict of one endpoint's policies in one direction. */
export function decide(
  model: PolicyModel,
  endpoint: PolicyEndpoint,
  direction: Direction,
  p: Packet,
): DirectionVerdict {
  const names = model.applied[endpointKey(endpoint)]?.[direction] ?? [];
  const base = { direction, endpoint: endpointKey(endpoint), policies: names };
  const logged: string[] = [];
  if (names.length === 0) return { ...base, action: 'Allow', decidedBy: { kind: 'no-policy' }, logged };
  for (const name of names) {
    const policy = model.policies.find((x) => x.name === name)!;
    for (const r of policy[direction]) {
      if (!ruleMatches(model, r, p)) continue;
      if (r.action === 'Log') {
        logged.push(`${name}/${direction}[${r.index}]`);
        continue;
      }
      return { ...base, action: r.action, decidedBy: { kind: 'rule', policy: name, rule: r.index }, logged };
    }
  }
  return { ...base, action: 'Deny', decidedBy: { kind: 'default-deny' }, logged };
}

/** The endpoint that has this address (either family). */
export function endpointByIp(model: PolicyModel, ip: string): PolicyEndpoint | undefined {
  return model.endpoints.find((e) => e.ip === ip || e.ipv6 === ip);
}

/** The whole path: the source's egress policies, then the destination's ingress policies. */
export function packetVerdict(model: PolicyModel, p: Packet): PacketVerdict {
  const steps: DirectionVerdict[] = [];
  const src = endpointByIp(model, p.src);
  const dst = endpointByIp(model, p.dst);
  if (src) steps.push(decide(model, src, 'egress', p));
  if (dst && steps.every((s) => s.action === 'Allow')) steps.push(decide(model, dst, 'ingress', p));
  return { action: steps.every((s) => s.action === 'Allow') ? 'Allow' : 'Deny', steps };
}

const compiled = new WeakMap<ClusterSpec, PolicyModel | undefined>();

/**
 * The model of a cluster spec, compiled once per spec object: every node's ruleset at synth
 * reads this one copy (the constructs hand out one spec per revision of the cluster).
 */
export function compiledPolicyModel(cluster: ClusterSpec): PolicyModel | undefined {
  if (!compiled.has(cluster)) compiled.set(cluster, compilePolicyModel(cluster));
  return compiled.get(cluster);
}
