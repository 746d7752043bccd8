/**
 * One node's nftables ruleset, rendered from the compiled policy model (policy-compile.ts):
 * one table of our own (`inet calico-net`, marked by its comment), in which
 *
 * - base chains on forward, input and output look only at packets through a workload veth
 *   (`cali*`); anything else (SSH, BGP, the node's own traffic) is accepted at once;
 * - conntrack comes first: established/related accepted, invalid dropped;
 * - verdict maps keyed on the veth name (`fw_map` for traffic from a workload, `tw_map` to it)
 *   reach each selected workload's chain, so the cost per packet does not grow with the number
 *   of workloads on the host;
 * - a workload's chain jumps to its policies' chains in order and drops what none decided
 *   (workloads with the same policies share one such chain);
 * - in a policy chain the first matching rule decides: Deny drops; Allow accepts (ingress) or
 *   goes on to the destination's ingress check (egress: `goto tw_dispatch`); Log logs and goes on;
 * - rule selectors are named sets of workload addresses (`s_<hash>`), resolved at synth.
 *
 * Egress is enforced where the packet leaves the workload (forward, or input when it is for
 * the node itself); ingress where it enters one (forward, or output when the node sends it).
 */
import { createHash } from 'crypto';
import { POLICY_TABLE_COMMENT, POLICY_TABLE_FAMILY, POLICY_TABLE_NAME } from '../rules/policy-table';
import {
  CompiledEntity,
  CompiledPolicy,
  CompiledRule,
  Direction,
  endpointKey,
  PolicyModel,
  PortRange,
} from './policy-compile';

const POLICY_CHAIN_PREFIX: Record<Direction, string> = { ingress: 'pi_', egress: 'po_' };

export const policyChain = (name: string, dir: Direction) => `${POLICY_CHAIN_PREFIX[dir]}${name}`;
export const selectorSet = (selector: string) => `s_${createHash('sha1').update(selector).digest('hex').slice(0, 12)}`;

/** nft refuses comments over 128 characters: longer ones are cut, and say so. */
const COMMENT_MAX = 120;

function nftComment(s: string): string {
  const text = nftText(s);
  return text.length > COMMENT_MAX ? `${text.slice(0, COMMENT_MAX - 3)}...` : text;
}

/** Text safe inside an nft double-quoted string (comments, log prefixes). */
function nftText(s: string): string {
  return s.replace(/[^A-Za-z0-9 _.,:/()!=&|{}'<>@+[\]-]/g, '?');
}

function portsText(ranges: PortRange[]): string {
  const items = ranges.map((r) => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`));
  return items.length === 1 ? items[0] : `{ ${items.join(', ')} }`;
}

function netsText(nets: string[]): string {
  return nets.length === 1 ? nets[0] : `{ ${nets.join(', ')} }`;
}

function entityMatch(e: CompiledEntity, addr: 'saddr' | 'daddr', port: 'sport' | 'dport'): string[] {
  const out: string[] = [];
  if (e.nets) out.push(`ip ${addr} ${netsText(e.nets)}`);
  if (e.notNets) out.push(`ip ${addr} != ${netsText(e.notNets)}`);
  if (e.selector !== undefined) out.push(`ip ${addr} @${selectorSet(e.selector)}`);
  if (e.notSelector !== undefined) out.push(`ip ${addr} != @${selectorSet(e.notSelector)}`);
  if (e.ports) out.push(`th ${port} ${portsText(e.ports)}`);
  if (e.notPorts) out.push(`th ${port} != ${portsText(e.notPorts)}`);
  return out;
}

function ruleLine(policy: string, dir: Direction, r: CompiledRule): string {
  const m: string[] = [];
  if (r.protocol !== undefined) m.push(`meta l4proto ${r.protocol}`);
  if (r.notProtocol !== undefined) m.push(`meta l4proto != ${r.notProtocol}`);
  if (r.icmp?.type !== undefined) m.push(`icmp type ${r.icmp.type}`);
  if (r.icmp?.code !== undefined) m.push(`icmp code ${r.icmp.code}`);
  m.push(...entityMatch(r.source, 'saddr', 'sport'), ...entityMatch(r.destination, 'daddr', 'dport'));
  let verdict: string;
  if (r.action === 'Deny') verdict = 'drop';
  else if (r.action === 'Log') verdict = `log prefix "${nftText(`calico-net ${policy} ${dir}[${r.index}]: `)}"`;
  else verdict = dir === 'ingress' ? 'accept' : 'goto tw_dispatch';
  return [...m, verdict].join(' ');
}

function policyChainText(p: CompiledPolicy, dir: Direction): string[] {
  return [`\tchain ${policyChain(p.name, dir)} {`, ...p[dir].map((r) => `\t\t${ruleLine(p.name, dir, r)}`), '\t}'];
}

/** Every selector the given policies' rules name. */
function selectorsOf(policies: CompiledPolicy[], dirs: Map<string, Set<Direction>>): string[] {
  const out = new Set<string>();
  for (const p of policies) {
    for (const dir of dirs.get(p.name) ?? []) {
      for (const r of p[dir]) {
        for (const e of [r.source, r.destination]) {
          if (e.selector !== undefined) out.add(e.selector);
          if (e.notSelector !== undefined) out.add(e.notSelector);
        }
      }
    }
  }
  return [...out].sort();
}

function mapText(name: string, entries: [string, string][]): string[] {
  const elements =
    entries.length === 0
      ? []
      : [`\t\telements = { ${entries.map(([k, v]) => `"${k}" : goto ${v}`).join(',\n\t\t\t     ')} }`];
  return [`\tmap ${name} {`, '\t\ttype ifname : verdict', ...elements, '\t}'];
}

/** The nft script that defines this node's table (without the add/delete that replace it). */
export function renderNodeRuleset(model: PolicyModel, nodeName: string): string {
  const endpoints = model.endpoints.filter((e) => e.node === nodeName).sort((a, b) => (a.iface < b.iface ? -1 : 1));
  // Which policies (and directions) any workload of this node uses: only those are rendered.
  const used = new Map<string, Set<Direction>>();
  const fw: [string, string][] = [];
  const tw: [string, string][] = [];
  // Workloads with the same policies in a direction share one chain (named after the list):
  // 250 workloads under the same 100 policies load one chain of 100 jumps, not 250.
  const chains = new Map<string, string[]>();
  for (const e of endpoints) {
    const applied = model.applied[endpointKey(e)];
    for (const [dir, map, prefix] of [
      ['egress', fw, 'fw_'],
      ['ingress', tw, 'tw_'],
    ] as const) {
      const names = applied[dir];
      if (names.length === 0) continue;
      const chain = `${prefix}${createHash('sha1').update(names.join('\n')).digest('hex').slice(0, 12)}`;
      map.push([e.iface, chain]);
      for (const n of names) used.set(n, (used.get(n) ?? new Set()).add(dir));
      if (!chains.has(chain)) {
        chains.set(chain, [
          `\tchain ${chain} {`,
          `\t\tcomment "${nftComment(`${dir}: ${names.join(' ')}`)}"`,
          ...names.map((n) => `\t\tjump ${policyChain(n, dir)}`),
          '\t\tdrop',
          '\t}',
        ]);
      }
    }
  }
  const endpointChains = [...chains.keys()].sort().flatMap((c) => chains.get(c)!);
  const policies = model.policies.filter((p) => used.has(p.name));
  const sets = selectorsOf(policies, used).flatMap((sel) => {
    const ips = model.selectors[sel] ?? [];
    return [
      `\tset ${selectorSet(sel)} {`,
      '\t\ttype ipv4_addr',
      '\t\tflags interval',
      `\t\tcomment "${nftComment(sel)}"`,
      ...(ips.length ? [`\t\telements = { ${ips.join(', ')} }`] : []),
      '\t}',
    ];
  });
  const conntrack = ['\t\tct state established,related accept', '\t\tct state invalid drop'];
  const lines = [
    `table ${POLICY_TABLE_FAMILY} ${POLICY_TABLE_NAME} {`,
    `\tcomment "${POLICY_TABLE_COMMENT}"`,
    ...sets,
    ...mapText('fw_map', fw),
    ...mapText('tw_map', tw),
    '\tchain forward {',
    '\t\ttype filter hook forward priority filter; policy accept;',
    '\t\tiifname != "cali*" oifname != "cali*" accept',
    ...conntrack,
    '\t\tiifname vmap @fw_map',
    '\t\tgoto tw_dispatch',
    '\t}',
    '\tchain input {',
    '\t\ttype filter hook input priority filter; policy accept;',
    '\t\tiifname != "cali*" accept',
    ...conntrack,
    '\t\tiifname vmap @fw_map',
    '\t}',
    '\tchain output {',
    '\t\ttype filter hook output priority filter; policy accept;',
    '\t\toifname != "cali*" accept',
    ...conntrack,
    '\t\tgoto tw_dispatch',
    '\t}',
    '\tchain tw_dispatch {',
    '\t\toifname vmap @tw_map',
    '\t\taccept',
    '\t}',
    ...endpointChains,
    ...policies.flatMap((p) => [
      ...(used.get(p.name)!.has('ingress') ? policyChainText(p, 'ingress') : []),
      ...(used.get(p.name)!.has('egress') ? policyChainText(p, 'egress') : []),
    ]),
    '}',
  ];
  return `${lines.join('\n')}\n`;
}
