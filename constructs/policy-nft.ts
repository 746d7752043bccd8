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
 * - rule selectors are named sets of workload addresses, one per family (`s_<hash>` of IPv4,
 *   `s6_<hash>` of IPv6), resolved at synth.
 *
 * Both families go through the same chains (an `inet` table). A rule that matches addresses
 * (selectors, nets) or ICMP fields is rendered once per IP version it applies to, with `ip` or
 * `ip6` matches, the way Felix renders a rule into its iptables and ip6tables chains; a rule
 * without them is one line for both (restricted by `meta nfproto` when it has an ipVersion).
 * IPv6 lines (and the `s6_` sets) appear only when the model has an IPv6 address in it, so an
 * IPv4-only cluster's table is the text it always was. Where any IPv6 is in play, neighbour
 * discovery between a workload and its host is accepted before policy (IPv4 needs no rule for
 * ARP, which nft never sees): without it a workload a policy selects could not resolve its
 * gateway or be resolved.
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
  ipVersionOf,
  PolicyModel,
  PortRange,
  ruleIpVersions,
} from './policy-compile';
import { IcmpMatch, IpVersion } from './policy-model';

const POLICY_CHAIN_PREFIX: Record<Direction, string> = { ingress: 'pi_', egress: 'po_' };

export const policyChain = (name: string, dir: Direction) => `${POLICY_CHAIN_PREFIX[dir]}${name}`;
const SET_PREFIX: Record<IpVersion, string> = { 4: 's_', 6: 's6_' };
export const selectorSet = (selector: string, version: IpVersion = 4) =>
  `${SET_PREFIX[version]}${createHash('sha1').update(selector).digest('hex').slice(0, 12)}`;

/** What differs per family in a rendered rule: nft's address, ICMP and nfproto keywords, the set type. */
const NFT_FAMILY = {
  4: { addr: 'ip', icmp: 'icmp', nfproto: 'ipv4', setType: 'ipv4_addr' },
  6: { addr: 'ip6', icmp: 'icmpv6', nfproto: 'ipv6', setType: 'ipv6_addr' },
} as const;

/** The ICMPv6 types of neighbour discovery and MLD (130-136), accepted between a workload and its host. */
const ICMPV6_LINK_TYPES = '{ 130, 131, 132, 133, 134, 135, 136 }';

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

/** The CIDRs of one family (Felix's filterNets). */
const netsOf = (nets: string[] | undefined, v: IpVersion) => nets?.filter((n) => ipVersionOf(n.split('/')[0]) === v);

/** Whether a rule needs a line per family: it matches addresses or ICMP fields, which are per family. */
function isPerFamily(r: CompiledRule): boolean {
  const addresses = (e: CompiledEntity) =>
    e.nets !== undefined || e.notNets !== undefined || e.selector !== undefined || e.notSelector !== undefined;
  return addresses(r.source) || addresses(r.destination) || r.icmp !== undefined || r.notICMP !== undefined;
}

/** An end's matches in one family; undefined when it names nets, none of them of this family. */
function entityMatch(
  e: CompiledEntity,
  v: IpVersion,
  addr: 'saddr' | 'daddr',
  port: 'sport' | 'dport',
): string[] | undefined {
  const out: string[] = [];
  const ip = NFT_FAMILY[v].addr;
  const nets = netsOf(e.nets, v);
  const notNets = netsOf(e.notNets, v);
  if (nets?.length === 0) return undefined;
  if (nets) out.push(`${ip} ${addr} ${netsText(nets)}`);
  if (notNets?.length) out.push(`${ip} ${addr} != ${netsText(notNets)}`);
  if (e.selector !== undefined) out.push(`${ip} ${addr} @${selectorSet(e.selector, v)}`);
  if (e.notSelector !== undefined) out.push(`${ip} ${addr} != @${selectorSet(e.notSelector, v)}`);
  if (e.ports) out.push(`th ${port} ${portsText(e.ports)}`);
  if (e.notPorts) out.push(`th ${port} != ${portsText(e.notPorts)}`);
  return out;
}

function icmpMatch(icmp: IcmpMatch | undefined, notIcmp: IcmpMatch | undefined, v: IpVersion): string[] {
  const kw = NFT_FAMILY[v].icmp;
  const out: string[] = [];
  if (icmp?.type !== undefined) out.push(`${kw} type ${icmp.type}`);
  if (icmp?.code !== undefined) out.push(`${kw} code ${icmp.code}`);
  if (notIcmp?.type !== undefined)
    out.push(
      notIcmp.code === undefined
        ? `${kw} type != ${notIcmp.type}`
        : `${kw} type . ${kw} code != { ${notIcmp.type} . ${notIcmp.code} }`,
    );
  return out;
}

/**
 * The rule's matches in family `v` (undefined: the rule cannot match there), or, with `v`
 * undefined, its one line for both families.
 */
function ruleMatchText(r: CompiledRule, v: IpVersion | undefined): string[] | undefined {
  const m: string[] = [];
  if (r.protocol !== undefined) m.push(`meta l4proto ${r.protocol}`);
  if (r.notProtocol !== undefined) m.push(`meta l4proto != ${r.notProtocol}`);
  if (v === undefined) {
    if (r.ipVersion !== undefined) m.unshift(`meta nfproto ${NFT_FAMILY[r.ipVersion].nfproto}`);
    m.push(...entityMatch(r.source, 4, 'saddr', 'sport')!, ...entityMatch(r.destination, 4, 'daddr', 'dport')!);
    return m;
  }
  m.push(...icmpMatch(r.icmp, r.notICMP, v));
  const source = entityMatch(r.source, v, 'saddr', 'sport');
  const destination = entityMatch(r.destination, v, 'daddr', 'dport');
  if (!source || !destination) return undefined;
  m.push(...source, ...destination);
  // A line left with no match of its family (only other-family notNets) would match both.
  const familyWords = ['ip ', 'ip6 ', 'icmp ', 'icmpv6 '];
  if (!m.some((x) => familyWords.some((w) => x.startsWith(w)))) m.unshift(`meta nfproto ${NFT_FAMILY[v].nfproto}`);
  return m;
}

function verdictText(policy: string, dir: Direction, r: CompiledRule): string {
  if (r.action === 'Deny') return 'drop';
  if (r.action === 'Log') return `log prefix "${nftText(`calico-net ${policy} ${dir}[${r.index}]: `)}"`;
  return dir === 'ingress' ? 'accept' : 'goto tw_dispatch';
}

/** A rule's lines: one per family it applies to (of the model's `versions`), or one for both. */
function ruleLines(policy: string, dir: Direction, r: CompiledRule, versions: IpVersion[]): string[] {
  const verdict = verdictText(policy, dir, r);
  if (!isPerFamily(r)) return [[...ruleMatchText(r, undefined)!, verdict].join(' ')];
  return ruleIpVersions(r)
    .filter((v) => versions.includes(v))
    .flatMap((v) => {
      const m = ruleMatchText(r, v);
      return m ? [[...m, verdict].join(' ')] : [];
    });
}

function policyChainText(p: CompiledPolicy, dir: Direction, versions: IpVersion[]): string[] {
  return [
    `\tchain ${policyChain(p.name, dir)} {`,
    ...p[dir].flatMap((r) => ruleLines(p.name, dir, r, versions).map((l) => `\t\t${l}`)),
    '\t}',
  ];
}

/**
 * The IP versions the table renders per-family rules for: IPv4 always (as it always has), IPv6
 * when any workload has an IPv6 address or a rule is IPv6's (ipVersion 6, ICMPv6, IPv6 nets).
 */
export function modelIpVersions(model: PolicyModel): IpVersion[] {
  const v6Rule = (r: CompiledRule) =>
    r.ipVersion === 6 ||
    r.protocol === 58 ||
    [r.source, r.destination].some((e) => [...(e.nets ?? []), ...(e.notNets ?? [])].some((n) => n.includes(':')));
  const v6 =
    model.endpoints.some((e) => e.ipv6 !== undefined) ||
    model.policies.some((p) => [...p.ingress, ...p.egress].some(v6Rule));
  return v6 ? [4, 6] : [4];
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
  const versions = modelIpVersions(model);
  const sets = versions.flatMap((v) =>
    selectorsOf(policies, used).flatMap((sel) => {
      const ips = (model.selectors[sel] ?? []).filter((ip) => ipVersionOf(ip) === v);
      return [
        `\tset ${selectorSet(sel, v)} {`,
        `\t\ttype ${NFT_FAMILY[v].setType}`,
        '\t\tflags interval',
        `\t\tcomment "${nftComment(sel)}"`,
        ...(ips.length ? [`\t\telements = { ${ips.join(', ')} }`] : []),
        '\t}',
      ];
    }),
  );
  const conntrack = ['\t\tct state established,related accept', '\t\tct state invalid drop'];
  // Neighbour discovery between a workload and its host, before conntrack (which does not track it).
  const ndp = versions.includes(6) ? [`\t\ticmpv6 type ${ICMPV6_LINK_TYPES} accept`] : [];
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
    ...ndp,
    ...conntrack,
    '\t\tiifname vmap @fw_map',
    '\t}',
    '\tchain output {',
    '\t\ttype filter hook output priority filter; policy accept;',
    '\t\toifname != "cali*" accept',
    ...ndp,
    ...conntrack,
    '\t\tgoto tw_dispatch',
    '\t}',
    '\tchain tw_dispatch {',
    '\t\toifname vmap @tw_map',
    '\t\taccept',
    '\t}',
    ...endpointChains,
    ...policies.flatMap((p) => [
      ...(used.get(p.name)!.has('ingress') ? policyChainText(p, 'ingress', versions) : []),
      ...(used.get(p.name)!.has('egress') ? policyChainText(p, 'egress', versions) : []),
    ]),
    '}',
  ];
  return `${lines.join('\n')}\n`;
}
