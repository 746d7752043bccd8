/**
 * `calico-net explain SRC DST [PROTO/PORT]`: what the cluster's policies do to a new connection
 * from SRC to DST, like Calico's calicoq. SRC and DST are workload names (`name` or
 * `node/name`) or addresses, IPv4 or IPv6; PROTO/PORT is `tcp/5432`, `udp/53`, `sctp/9`, `icmp`
 * (an echo request unless `icmp/TYPE[/CODE]`), `icmpv6` (likewise, echo request 128), or a
 * protocol number; default the echo request of the pair's family.
 *
 * The pair's IP version: IPv6 when either end is an IPv6 address or an IPv6-only workload, or
 * with `--ipv6` (a dual-stack workload named then stands for its IPv6 address); else IPv4.
 *
 * It reads only the inventory, compiled into the same policy model synth compiles (and
 * evaluated by the same packetVerdict): no host is asked anything.
 */
import {
  compilePolicyModel,
  DirectionVerdict,
  endpointKey,
  ipVersionOf,
  Packet,
  PacketVerdict,
  PolicyEndpoint,
  PolicyModel,
  packetVerdict,
} from '../constructs/policy-compile';
import { IpVersion, PROTOCOL_NUMBERS } from '../constructs/policy-model';
import { canonicalIpv6, isIpv4Text, isIpv6Text } from '../rules/address-family';
import { ClusterValidationError } from '../constructs/validation';
import { loadInventory } from '../stacks/inventory';
import { formatOption, inventoryPathFrom } from './cluster-hosts';

export interface Party {
  ip: string;
  endpoint?: PolicyEndpoint;
}

/** An address as the model spells it (IPv6 in RFC 5952 form), or undefined when it is none. */
function addressOf(text: string): string | undefined {
  if (isIpv4Text(text)) return text;
  return isIpv6Text(text) ? canonicalIpv6(text) : undefined;
}

function endpointNamed(endpoints: PolicyEndpoint[], text: string): PolicyEndpoint {
  const found = endpoints.filter((e) => endpointKey(e) === text || e.workload === text);
  if (found.length === 1) return found[0];
  if (found.length > 1)
    throw new Error(
      `"${text}" names workloads on several nodes (${found.map(endpointKey).join(', ')}): write node/name`,
    );
  throw new Error(`"${text}" is neither a workload of the inventory nor an IPv4 or IPv6 address`);
}

/**
 * A workload by name (`name`, or `node/name` when several nodes have one) or an address. A
 * workload stands for its address of `version` (its first address when none is asked).
 */
export function resolveParty(
  model: PolicyModel | undefined,
  endpoints: PolicyEndpoint[],
  text: string,
  version?: IpVersion,
): Party {
  const address = addressOf(text);
  if (address !== undefined)
    return { ip: address, endpoint: endpoints.find((e) => e.ip === address || e.ipv6 === address) };
  const e = endpointNamed(endpoints, text);
  if (version === 6) {
    if (e.ipv6 === undefined) throw new Error(`workload ${endpointKey(e)} has no IPv6 address`);
    return { ip: e.ipv6, endpoint: e };
  }
  if (version === 4 && !isIpv4Text(e.ip)) throw new Error(`workload ${endpointKey(e)} has no IPv4 address`);
  return { ip: e.ip, endpoint: e };
}

/** The pair's IP version: an address given decides, then an IPv6-only workload, then `--ipv6`. */
function pairVersion(endpoints: PolicyEndpoint[], texts: string[], ipv6: boolean): IpVersion {
  const versions = texts.map((t) => {
    const a = addressOf(t);
    if (a !== undefined) return ipVersionOf(a);
    const e = endpointNamed(endpoints, t);
    return isIpv4Text(e.ip) ? undefined : 6;
  });
  if (versions.includes(4) && versions.includes(6))
    throw new Error(`${texts[0]} and ${texts[1]} are of different IP versions: give two IPv4 or two IPv6 ends`);
  if (versions.includes(6) || ipv6) {
    if (versions.includes(4)) throw new Error(`--ipv6 was given, but ${texts.join(' ')} names an IPv4 address`);
    return 6;
  }
  return 4;
}

/** `tcp/5432`, `udp/53`, `icmp`, `icmp/8/0`, `17/53`, … as the packet's protocol fields. */
export function parseProtoPort(text: string): Omit<Packet, 'src' | 'dst'> {
  const [proto, a, b, ...rest] = text.split('/');
  const name = Object.keys(PROTOCOL_NUMBERS).find((n) => n.toLowerCase() === proto.toLowerCase()) as
    keyof typeof PROTOCOL_NUMBERS | undefined;
  const protocol = name
    ? PROTOCOL_NUMBERS[name]
    : /^\d{1,3}$/.test(proto) && Number(proto) >= 1 && Number(proto) <= 255
      ? Number(proto)
      : undefined;
  const num = (v: string | undefined, max: number) =>
    v !== undefined && /^\d+$/.test(v) && Number(v) <= max ? Number(v) : undefined;
  const bad = () =>
    new Error(`"${text}" is not PROTO/PORT (tcp/5432, udp/53, sctp/9, icmp, icmp/TYPE/CODE, or a protocol number)`);
  if (protocol === undefined || rest.length > 0) throw bad();
  if (protocol === PROTOCOL_NUMBERS.ICMP || protocol === PROTOCOL_NUMBERS.ICMPv6) {
    const echoRequest = protocol === PROTOCOL_NUMBERS.ICMP ? 8 : 128;
    const icmpType = a === undefined ? echoRequest : num(a, 255);
    const icmpCode = b === undefined ? (a === undefined ? 0 : undefined) : num(b, 255);
    if (icmpType === undefined || (b !== undefined && icmpCode === undefined)) throw bad();
    return { protocol, icmpType, ...(icmpCode === undefined ? {} : { icmpCode }) };
  }
  if (b !== undefined) throw bad();
  if ([6, 17, 132].includes(protocol)) {
    const port = num(a, 65535);
    if (port === undefined) throw bad();
    return { protocol, port };
  }
  if (a !== undefined) throw bad();
  return { protocol };
}

export interface Explanation {
  src: Party;
  dst: Party;
  packet: Packet;
  verdict: PacketVerdict;
}

export function explain(
  model: PolicyModel | undefined,
  endpoints: PolicyEndpoint[],
  src: string,
  dst: string,
  proto?: string,
  ipv6 = false,
): Explanation {
  const version = pairVersion(endpoints, [src, dst], ipv6);
  const s = resolveParty(model, endpoints, src, version);
  const d = resolveParty(model, endpoints, dst, version);
  const fields = parseProtoPort(proto ?? (version === 6 ? 'icmpv6' : 'icmp'));
  const wrongIcmp = version === 6 ? PROTOCOL_NUMBERS.ICMP : PROTOCOL_NUMBERS.ICMPv6;
  if (fields.protocol === wrongIcmp)
    throw new Error(`${proto} is not the ICMP of an IPv${version} pair: use ${version === 6 ? 'icmpv6' : 'icmp'}`);
  const packet: Packet = { src: s.ip, dst: d.ip, ...fields };
  const verdict: PacketVerdict = model ? packetVerdict(model, packet) : { action: 'Allow', steps: [] };
  return { src: s, dst: d, packet, verdict };
}

function partyText(p: Party): string {
  return p.endpoint ? `${p.endpoint.workload} (${p.endpoint.node}, ${p.ip})` : `${p.ip} (not a workload)`;
}

function packetText(p: Packet): string {
  const name = Object.entries(PROTOCOL_NUMBERS).find(([, n]) => n === p.protocol)?.[0] ?? `protocol ${p.protocol}`;
  if (p.port !== undefined) return `${name}/${p.port}`;
  if (p.icmpType !== undefined)
    return `${name} type ${p.icmpType}${p.icmpCode === undefined ? '' : ` code ${p.icmpCode}`}`;
  return name;
}

function stepText(model: PolicyModel | undefined, s: DirectionVerdict): string[] {
  const order = (name: string) => {
    const o = model?.policies.find((p) => p.name === name)?.order;
    return o === undefined ? `${name} (no order)` : `${name} (order ${o})`;
  };
  const lines = [
    `  ${s.direction} of ${s.endpoint}: ${s.policies.length ? `policies ${s.policies.map(order).join(', ')}` : 'no policy selects it'}`,
  ];
  for (const l of s.logged) lines.push(`    logged by ${l}`);
  const by = s.decidedBy;
  if (by.kind === 'rule') lines.push(`    decided by ${by.policy} ${s.direction}[${by.rule}]: ${s.action}`);
  else if (by.kind === 'default-deny')
    lines.push(`    no rule matched: Deny (a policy selects it for ${s.direction}, so what no rule allows is dropped)`);
  else lines.push(`    open: Allow (no policy selects it for ${s.direction})`);
  return lines;
}

export function renderExplanation(model: PolicyModel | undefined, e: Explanation): string {
  const head = `${partyText(e.src)} -> ${partyText(e.dst)}  ${packetText(e.packet)}: ${e.verdict.action}`;
  if (!model) return `${head}\n  no policies are declared: every workload is open\n`;
  const lines = [head, ...e.verdict.steps.flatMap((s) => stepText(model, s))];
  if (e.verdict.steps.length === 0) lines.push('  neither end is a workload: no policy applies');
  return `${lines.join('\n')}\n`;
}

export async function explainCommand(argv: string[]): Promise<number> {
  const ipv6 = argv.includes('--ipv6');
  const rest = argv.filter((a) => a !== '--ipv6');
  const positional = rest.filter((a, i) => !a.startsWith('--') && !(i > 0 && rest[i - 1].startsWith('--')));
  if (positional.length < 2 || positional.length > 3) {
    process.stderr.write(
      'usage: calico-net explain SRC DST [PROTO/PORT] [--ipv6] [--inventory FILE] [--format table|json]\n',
    );
    return 1;
  }
  try {
    const format = formatOption(rest);
    const cluster = loadInventory(inventoryPathFrom(rest));
    const model = compilePolicyModel(cluster);
    const endpoints: PolicyEndpoint[] =
      model?.endpoints ??
      cluster.nodes.flatMap((n) =>
        n.workloads.flatMap((w) => {
          const ip = w.ip ?? w.ipv6;
          if (ip === undefined) return [];
          const v6 = w.ipv6 === undefined ? {} : { ipv6: w.ipv6 };
          return [{ node: n.name, workload: w.name, ip, ...v6, iface: '', labels: w.labels ?? {} }];
        }),
      );
    const e = explain(model, endpoints, positional[0], positional[1], positional[2], ipv6);
    process.stdout.write(format === 'json' ? `${JSON.stringify(e, null, 2)}\n` : renderExplanation(model, e));
    return 0;
  } catch (err) {
    const msg = err instanceof ClusterValidationError ? err.message : (err as Error).message;
    process.stderr.write(`calico-net explain: ${msg}\n`);
    return 1;
  }
}
