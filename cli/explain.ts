/**
 * `calico-net explain SRC DST [PROTO/PORT]`: what the cluster's policies do to a new connection
 * from SRC to DST, like Calico's calicoq. SRC and DST are workload names (`name` or
 * `node/name`) or addresses; PROTO/PORT is `tcp/5432`, `udp/53`, `sctp/9`, `icmp` (an echo
 * request unless `icmp/TYPE[/CODE]`), or a protocol number; default `icmp`.
 *
 * It reads only the inventory, compiled into the same policy model synth compiles (and
 * evaluated by the same packetVerdict): no host is asked anything.
 */
import {
  compilePolicyModel,
  DirectionVerdict,
  endpointKey,
  Packet,
  PacketVerdict,
  PolicyEndpoint,
  PolicyModel,
  packetVerdict,
} from '../constructs/policy-compile';
import { PROTOCOL_NUMBERS } from '../constructs/policy-model';
import { ipv4Problem } from '../rules/checks';
import { ClusterValidationError } from '../constructs/validation';
import { loadInventory } from '../stacks/inventory';
import { formatOption, inventoryPathFrom } from './cluster-hosts';

export interface Party {
  ip: string;
  endpoint?: PolicyEndpoint;
}

/** A workload by name (`name`, or `node/name` when several nodes have one) or an address. */
export function resolveParty(model: PolicyModel | undefined, endpoints: PolicyEndpoint[], text: string): Party {
  if (!ipv4Problem(text)) return { ip: text, endpoint: endpoints.find((e) => e.ip === text) };
  const found = endpoints.filter((e) => endpointKey(e) === text || e.workload === text);
  if (found.length === 1) return { ip: found[0].ip, endpoint: found[0] };
  if (found.length > 1)
    throw new Error(
      `"${text}" names workloads on several nodes (${found.map(endpointKey).join(', ')}): write node/name`,
    );
  throw new Error(`"${text}" is neither a workload of the inventory nor an IPv4 address`);
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
  if (protocol === PROTOCOL_NUMBERS.ICMP) {
    const icmpType = a === undefined ? 8 : num(a, 255);
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
  proto = 'icmp',
): Explanation {
  const s = resolveParty(model, endpoints, src);
  const d = resolveParty(model, endpoints, dst);
  const packet: Packet = { src: s.ip, dst: d.ip, ...parseProtoPort(proto) };
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
  const positional = argv.filter((a, i) => !a.startsWith('--') && !(i > 0 && argv[i - 1].startsWith('--')));
  if (positional.length < 2 || positional.length > 3) {
    process.stderr.write('usage: calico-net explain SRC DST [PROTO/PORT] [--inventory FILE] [--format table|json]\n');
    return 1;
  }
  try {
    const format = formatOption(argv);
    const cluster = loadInventory(inventoryPathFrom(argv));
    const model = compilePolicyModel(cluster);
    const endpoints: PolicyEndpoint[] =
      model?.endpoints ??
      cluster.nodes.flatMap((n) =>
        n.workloads.flatMap((w) =>
          w.ip === undefined ? [] : [{ node: n.name, workload: w.name, ip: w.ip, iface: '', labels: w.labels ?? {} }],
        ),
      );
    const e = explain(model, endpoints, positional[0], positional[1], positional[2]);
    process.stdout.write(format === 'json' ? `${JSON.stringify(e, null, 2)}\n` : renderExplanation(model, e));
    return 0;
  } catch (err) {
    const msg = err instanceof ClusterValidationError ? err.message : (err as Error).message;
    process.stderr.write(`calico-net explain: ${msg}\n`);
    return 1;
  }
}
