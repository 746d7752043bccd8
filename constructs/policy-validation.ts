/**
 * Synth-time checks of network policy input, on the values as written (inventory or construct
 * props): every problem is one line naming the policy, the rule and the field
 * (`policy "db": ingress[1].destination.ports[0]: "80-90" is not a port or from:to range`).
 * Shape (unknown keys, wrong types) and meaning are checked in one pass, so the inventory and
 * the constructs refuse the same things.
 */
import { isIpv4Text } from '../rules/address-family';
import { ipv4CidrProblem, ipv6CidrProblem } from '../rules/checks';
import {
  ICMP_PROTOCOL_OF_VERSION,
  IP_VERSIONS,
  PORT_PROTOCOLS,
  POLICY_ACTIONS,
  POLICY_TYPES,
  PROTOCOL_NUMBERS,
  ProtocolName,
} from './policy-model';
import { selectorProblem } from './selector';

type Obj = Record<string, unknown>;

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  // JSON.stringify prints YAML's .inf and .nan as "null"; String does not.
  return typeof v === 'number' ? `number ${String(v)}` : `${typeof v} ${JSON.stringify(v)}`;
}

/** Reports keys of `obj` not in `known`. */
function unknownKeys(obj: Obj, known: readonly string[], where: string, out: string[]): void {
  for (const k of Object.keys(obj)) {
    if (!known.includes(k)) out.push(`${where}: unknown key "${k}" (known: ${known.join(', ')})`);
  }
}

/** A Kubernetes-style name: what a policy name must be (it also names nft chains and log prefixes). */
export function policyNameProblem(v: unknown): string | null {
  if (typeof v !== 'string') return `expected a string, found ${describe(v)}`;
  return /^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/.test(v)
    ? null
    : `"${v}" is not a policy name (lower-case letters, digits, "-", "."; starts and ends with a letter or digit; at most 63)`;
}

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A label key as Calico (and Kubernetes) accept it: [prefix/]name. */
export function labelKeyProblem(k: string): string | null {
  const slash = k.lastIndexOf('/');
  const prefix = slash >= 0 ? k.slice(0, slash) : undefined;
  const name = slash >= 0 ? k.slice(slash + 1) : k;
  if (prefix !== undefined && (prefix.length > 253 || !DNS_PREFIX.test(prefix)))
    return `label key "${k}": the prefix is not a DNS subdomain`;
  if (!LABEL_NAME.test(name))
    return `label key "${k}" is not valid (letters, digits, "-", "_", "."; starts and ends with a letter or digit; at most 63)`;
  return null;
}

export function labelValueProblem(v: unknown): string | null {
  if (typeof v !== 'string') return `expected a string, found ${describe(v)}`;
  return v === '' || LABEL_NAME.test(v)
    ? null
    : `"${v}" is not a label value (letters, digits, "-", "_", "."; starts and ends with a letter or digit; at most 63)`;
}

/** Problems with a workload's labels; `where` names the workload. */
export function labelProblems(labels: unknown, where: string): string[] {
  if (labels === undefined) return [];
  if (!isObject(labels)) return [`${where}.labels: expected a mapping, found ${describe(labels)}`];
  const out: string[] = [];
  for (const [k, v] of Object.entries(labels)) {
    const p = labelKeyProblem(k) ?? labelValueProblem(v);
    if (p) out.push(`${where}.labels: ${p}`);
  }
  return out;
}

const PROTOCOL_NAMES = Object.keys(PROTOCOL_NUMBERS) as ProtocolName[];

function protocolProblem(v: unknown): string | null {
  if (typeof v === 'string') {
    return (PROTOCOL_NAMES as string[]).includes(v)
      ? null
      : `unknown protocol "${v}" (${PROTOCOL_NAMES.join(', ')}, or a number 1..255)`;
  }
  if (typeof v === 'number')
    return Number.isInteger(v) && v >= 1 && v <= 255 ? null : `${v} is not a protocol number (1..255)`;
  return `expected a protocol name or number, found ${describe(v)}`;
}

/** The protocol's number when it is valid. */
function protocolOf(v: unknown): number | undefined {
  if (protocolProblem(v)) return undefined;
  return typeof v === 'number' ? v : PROTOCOL_NUMBERS[v as ProtocolName];
}

function portProblem(v: unknown): string | null {
  const isPortNumber = (n: number) => Number.isInteger(n) && n >= 0 && n <= 65535;
  if (typeof v === 'number') return isPortNumber(v) ? null : `${v} is not a port (0..65535)`;
  if (typeof v === 'string') {
    const m = /^(\d{1,5}):(\d{1,5})$/.exec(v);
    if (m && isPortNumber(Number(m[1])) && isPortNumber(Number(m[2])) && Number(m[1]) <= Number(m[2])) return null;
    if (m) return `"${v}" is not a port range (from:to, 0 <= from <= to <= 65535)`;
    return `"${v}" is not a port or from:to range (named ports are not supported)`;
  }
  return `expected a port number or "from:to", found ${describe(v)}`;
}

/** A CIDR of either family (IPv6 in canonical form, as nft prints it back). */
export function policyNetProblem(v: string): string | null {
  if (!v.includes(':')) return ipv4CidrProblem(v);
  const p = ipv6CidrProblem(v);
  return p && p.includes('is not an IPv6 CIDR') ? `"${v}" is not an IPv4 or IPv6 CIDR (address/len)` : p;
}

const ENTITY_KEYS = ['nets', 'notNets', 'selector', 'notSelector', 'ports', 'notPorts'] as const;

/**
 * `protocol`: the rule's protocol number, undefined when it has none, null when it is invalid;
 * `ipVersion`: the rule's, when it is a valid one.
 */
function entityProblems(
  e: unknown,
  protocol: number | null | undefined,
  ipVersion: number | undefined,
  where: string,
  out: string[],
): void {
  if (e === undefined) return;
  if (!isObject(e)) {
    out.push(`${where}: expected a mapping, found ${describe(e)}`);
    return;
  }
  unknownKeys(e, ENTITY_KEYS, where, out);
  for (const key of ['nets', 'notNets'] as const) {
    const v = e[key];
    if (v === undefined) continue;
    if (!Array.isArray(v)) out.push(`${where}.${key}: expected a list of CIDRs, found ${describe(v)}`);
    else
      v.forEach((n, i) => {
        const p = typeof n === 'string' ? policyNetProblem(n) : `expected a CIDR, found ${describe(n)}`;
        if (p) out.push(`${where}.${key}[${i}]: ${p}`);
        // Calico refuses a CIDR of the other family than the rule's ipVersion (it never matches).
        else if (ipVersion !== undefined && (isIpv4Text(n.split('/')[0]) ? 4 : 6) !== ipVersion)
          out.push(
            `${where}.${key}[${i}]: ${n} is an IPv${ipVersion === 4 ? 6 : 4} CIDR, but the rule's ipVersion is ${ipVersion}`,
          );
      });
  }
  for (const key of ['selector', 'notSelector'] as const) {
    const v = e[key];
    if (v === undefined) continue;
    const p = typeof v === 'string' ? selectorProblem(v) : `expected a selector string, found ${describe(v)}`;
    if (p) out.push(`${where}.${key}: ${p}`);
  }
  for (const key of ['ports', 'notPorts'] as const) {
    const v = e[key];
    if (v === undefined) continue;
    if (!Array.isArray(v)) {
      out.push(`${where}.${key}: expected a list of ports, found ${describe(v)}`);
      continue;
    }
    v.forEach((port, i) => {
      const p = portProblem(port);
      if (p) out.push(`${where}.${key}[${i}]: ${p}`);
    });
    // A protocol that is itself wrong has been reported; ports then need no second message.
    if (protocol !== null && (protocol === undefined || !PORT_PROTOCOLS.includes(protocol))) {
      out.push(`${where}.${key}: ports need protocol TCP, UDP or SCTP`);
    }
  }
}

const RULE_KEYS = [
  'action',
  'ipVersion',
  'protocol',
  'notProtocol',
  'icmp',
  'notICMP',
  'source',
  'destination',
] as const;

const ICMP_PROTOCOLS: readonly number[] = [PROTOCOL_NUMBERS.ICMP, PROTOCOL_NUMBERS.ICMPv6];

/** `icmp` or `notICMP`: a type (0..254) and a code that needs it, under protocol ICMP or ICMPv6. */
function icmpProblems(icmp: unknown, protocol: number | null | undefined, where: string, out: string[]): void {
  if (!isObject(icmp)) {
    out.push(`${where}: expected a mapping, found ${describe(icmp)}`);
    return;
  }
  unknownKeys(icmp, ['type', 'code'], where, out);
  if (protocol !== null && (protocol === undefined || !ICMP_PROTOCOLS.includes(protocol)))
    out.push(`${where}: needs protocol ICMP or ICMPv6`);
  const byte = (v: unknown, max: number) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
  if (icmp.type !== undefined && !byte(icmp.type, 254))
    out.push(`${where}.type: ${JSON.stringify(icmp.type)} is not an ICMP type (0..254)`);
  if (icmp.code !== undefined && !byte(icmp.code, 255))
    out.push(`${where}.code: ${JSON.stringify(icmp.code)} is not an ICMP code (0..255)`);
  if (icmp.code !== undefined && icmp.type === undefined)
    out.push(`${where}.code: needs ${where.split('.').pop()}.type`);
}

function ruleProblems(rule: unknown, where: string, out: string[]): void {
  if (!isObject(rule)) {
    out.push(`${where}: expected a mapping, found ${describe(rule)}`);
    return;
  }
  unknownKeys(rule, RULE_KEYS, where, out);
  const action = rule.action;
  if (action === undefined) out.push(`${where}.action: required (${POLICY_ACTIONS.join(', ')})`);
  else if (action === 'Pass') out.push(`${where}.action: Pass is not supported (there are no tiers to pass to)`);
  else if (typeof action !== 'string' || !(POLICY_ACTIONS as string[]).includes(action)) {
    out.push(`${where}.action: unknown action ${JSON.stringify(action)} (${POLICY_ACTIONS.join(', ')})`);
  }
  for (const key of ['protocol', 'notProtocol'] as const) {
    if (rule[key] === undefined) continue;
    const p = protocolProblem(rule[key]);
    if (p) out.push(`${where}.${key}: ${p}`);
  }
  const protocol = rule.protocol === undefined ? undefined : (protocolOf(rule.protocol) ?? null);
  let ipVersion: number | undefined;
  if (rule.ipVersion !== undefined) {
    if (!(IP_VERSIONS as unknown[]).includes(rule.ipVersion))
      out.push(`${where}.ipVersion: ${JSON.stringify(rule.ipVersion)} is not an IP version (4 or 6)`);
    else ipVersion = rule.ipVersion as number;
  }
  // As Calico: ICMP is IPv4's and ICMPv6 IPv6's, so the other ipVersion could never match.
  for (const v of IP_VERSIONS) {
    if (ipVersion !== undefined && ipVersion !== v && protocol === ICMP_PROTOCOL_OF_VERSION[v])
      out.push(`${where}.ipVersion: protocol ${v === 4 ? 'ICMP' : 'ICMPv6'} needs ipVersion ${v} (or none)`);
  }
  for (const key of ['icmp', 'notICMP'] as const) {
    if (rule[key] !== undefined) icmpProblems(rule[key], protocol, `${where}.${key}`, out);
  }
  for (const end of ['source', 'destination'] as const)
    entityProblems(rule[end], protocol, ipVersion, `${where}.${end}`, out);
}

const POLICY_KEYS = ['name', 'order', 'selector', 'types', 'ingress', 'egress'] as const;

function onePolicyProblems(p: unknown, index: number, out: string[]): string | undefined {
  if (!isObject(p)) {
    out.push(`policies[${index}]: expected a mapping, found ${describe(p)}`);
    return undefined;
  }
  const nameProblem =
    p.name === undefined ? 'name: required' : policyNameProblem(p.name) && `name: ${policyNameProblem(p.name)}`;
  const where = nameProblem ? `policies[${index}]` : `policy "${p.name as string}"`;
  if (nameProblem) out.push(`${where}: ${nameProblem}`);
  unknownKeys(p, POLICY_KEYS, where, out);
  if (p.order !== undefined && (typeof p.order !== 'number' || !Number.isFinite(p.order))) {
    out.push(`${where}: order: expected a number, found ${describe(p.order)}`);
  }
  if (p.selector !== undefined) {
    const sp =
      typeof p.selector === 'string'
        ? selectorProblem(p.selector)
        : `expected a selector string, found ${describe(p.selector)}`;
    if (sp) out.push(`${where}: selector: ${sp}`);
  }
  if (p.types !== undefined) {
    if (!Array.isArray(p.types))
      out.push(`${where}: types: expected a list (Ingress, Egress), found ${describe(p.types)}`);
    else {
      p.types.forEach((t, i) => {
        if (!(POLICY_TYPES as unknown[]).includes(t))
          out.push(`${where}: types[${i}]: ${JSON.stringify(t)} is not Ingress or Egress`);
        else if (p.types && (p.types as unknown[]).indexOf(t) !== i)
          out.push(`${where}: types[${i}]: ${t} is listed twice`);
      });
      for (const [dir, type] of [
        ['ingress', 'Ingress'],
        ['egress', 'Egress'],
      ] as const) {
        const rules = p[dir];
        if (Array.isArray(rules) && rules.length > 0 && !(p.types as unknown[]).includes(type)) {
          out.push(`${where}: ${dir}: rules given, but types does not include ${type}, so they would never apply`);
        }
      }
    }
  }
  for (const dir of ['ingress', 'egress'] as const) {
    const rules = p[dir];
    if (rules === undefined) continue;
    if (!Array.isArray(rules)) out.push(`${where}: ${dir}: expected a list of rules, found ${describe(rules)}`);
    else rules.forEach((r, i) => ruleProblems(r, `${where}: ${dir}[${i}]`, out));
  }
  return nameProblem ? undefined : (p.name as string);
}

/** Every problem of the cluster's `policies` (as written), each naming policy, rule and field. */
export function policyProblems(policies: unknown): string[] {
  if (policies === undefined) return [];
  if (!Array.isArray(policies)) return [`policies: expected a list, found ${describe(policies)}`];
  const out: string[] = [];
  const seen = new Set<string>();
  policies.forEach((p, i) => {
    const name = onePolicyProblems(p, i, out);
    if (name !== undefined) {
      if (seen.has(name)) out.push(`policy "${name}": the name is used by another policy`);
      seen.add(name);
    }
  });
  return out;
}

/**
 * The policy part of a cluster's problems: every workload's labels and the policies. Called by
 * clusterProblems, so the inventory loader and the constructs refuse the same things.
 */
export function clusterPolicyProblems(cluster: {
  nodes: readonly { name: string; workloads: readonly { name: string; labels?: unknown }[] }[];
  policies?: unknown;
}): string[] {
  const out: string[] = [];
  for (const n of cluster.nodes) {
    for (const w of n.workloads) out.push(...labelProblems(w.labels, `node "${n.name}" workload "${w.name}"`));
  }
  out.push(...policyProblems(cluster.policies));
  return out;
}
