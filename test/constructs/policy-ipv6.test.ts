/**
 * Network policy on IPv6: every workload address is an endpoint address (IPv6-only workloads
 * too), selectors resolve into a set per family, a rule that matches addresses or ICMP is
 * rendered once per family it applies to, and the checks of ipVersion, ICMPv6 and IPv6 nets.
 */
import { compilePolicyModel, endpointByIp, packetVerdict, PolicyModel } from '../../constructs/policy-compile';
import { renderNodeRuleset, selectorSet } from '../../constructs/policy-nft';
import { PolicyRule, PolicySpec } from '../../constructs/policy-model';
import { policyProblems } from '../../constructs/policy-validation';
import { hostInterfaceName } from '../../providers/calico/names';
import { explain, renderExplanation } from '../../cli/explain';
import { expectedCells, truthTableEndpoints } from '../../cli/policy-verify';
import { dualStack, DUAL_STACK_POLICIES } from './policy-ipv6-fixture';

const model = compilePolicyModel(dualStack())!;
const n1 = renderNodeRuleset(model, 'node1');
const n2 = renderNodeRuleset(model, 'node2');
const BAD = "role == 'bad'";
const FRONT = "role == 'front'";

/** The lines of one chain of a ruleset. */
function chain(text: string, name: string): string[] {
  const start = text.indexOf(`\tchain ${name} {\n`);
  if (start < 0) throw new Error(`no chain ${name} in:\n${text}`);
  const body = text.slice(start).split('\n');
  return body.slice(1, body.indexOf('\t}')).map((l) => l.trim());
}

const verdict = (m: PolicyModel, src: string, dst: string, packet: Record<string, number>) =>
  packetVerdict(m, { src, dst, protocol: 6, ...packet }).action;

describe('endpoints of both families', () => {
  test('a dual-stack workload is one endpoint with both addresses; an IPv6-only one is an endpoint too', () => {
    expect(model.endpoints.map((e) => [e.workload, e.ip, e.ipv6])).toEqual([
      ['front', '198.19.1.2', 'fd00:198:19:1::2'],
      ['bad', '198.19.1.3', 'fd00:198:19:1::3'],
      ['db', '198.19.2.2', 'fd00:198:19:2::2'],
      ['six', 'fd00:198:19:2::3', 'fd00:198:19:2::3'],
    ]);
    expect(model.applied['node2/six']).toEqual({ ingress: ['six'], egress: [] });
    expect(endpointByIp(model, 'fd00:198:19:1::3')?.workload).toBe('bad');
    expect(endpointByIp(model, '198.19.1.3')?.workload).toBe('bad');
  });

  test('a selector resolves to the addresses of both families, IPv4 first', () => {
    expect(model.selectors[BAD]).toEqual(['198.19.1.3', 'fd00:198:19:1::3']);
    expect(model.selectors[FRONT]).toEqual(['198.19.1.2', 'fd00:198:19:1::2']);
  });

  test('addresses sort numerically within each family (not as text)', () => {
    const m = compilePolicyModel(
      dualStack([{ name: 'p', ingress: [{ action: 'Allow', source: { selector: 'all()' } }] }]),
    )!;
    expect(m.selectors['all()']).toEqual([
      '198.19.1.2',
      '198.19.1.3',
      '198.19.2.2',
      'fd00:198:19:1::2',
      'fd00:198:19:1::3',
      'fd00:198:19:2::2',
      'fd00:198:19:2::3',
    ]);
  });
});

describe('the ruleset of a dual-stack node', () => {
  test('each selector has an ipv4_addr set and an ipv6_addr set, each with its family of addresses', () => {
    expect(n2).toContain(
      [
        `\tset ${selectorSet(BAD)} {`,
        '\t\ttype ipv4_addr',
        '\t\tflags interval',
        `\t\tcomment "${BAD}"`,
        '\t\telements = { 198.19.1.3 }',
        '\t}',
      ].join('\n'),
    );
    expect(selectorSet(BAD, 6)).toBe(selectorSet(BAD).replace(/^s_/, 's6_'));
    expect(n2).toContain(
      [
        `\tset ${selectorSet(BAD, 6)} {`,
        '\t\ttype ipv6_addr',
        '\t\tflags interval',
        `\t\tcomment "${BAD}"`,
        '\t\telements = { fd00:198:19:1::3 }',
        '\t}',
      ].join('\n'),
    );
  });

  test('"Deny from a selector, then Allow": the Deny is a line per family, the Allow one line for both', () => {
    expect(chain(n2, 'pi_db')).toEqual([
      `ip saddr @${selectorSet(BAD)} drop`,
      `ip6 saddr @${selectorSet(BAD, 6)} drop`,
      'accept',
    ]);
  });

  test('an IPv6-only workload is in the verdict map and its policy is rendered', () => {
    const six = hostInterfaceName('node2', 'six');
    expect(n2).toMatch(new RegExp(`"${six}" : goto tw_[0-9a-f]{12}`));
    expect(chain(n2, 'pi_six')).toEqual([
      `meta l4proto 6 ip saddr @${selectorSet(FRONT)} th dport 8080 accept`,
      `meta l4proto 6 ip6 saddr @${selectorSet(FRONT, 6)} th dport 8080 accept`,
      'meta l4proto 58 icmpv6 type 128 accept',
    ]);
  });

  test('neighbour discovery between a workload and its host is accepted before conntrack and policy', () => {
    const ndp = 'icmpv6 type { 130, 131, 132, 133, 134, 135, 136 } accept';
    for (const c of ['input', 'output']) {
      const lines = chain(n1, c);
      expect(lines.indexOf(ndp)).toBe(2);
      expect(lines[3]).toBe('ct state established,related accept');
    }
    expect(chain(n1, 'forward')).not.toContain(ndp);
  });

  test('an IPv4-only cluster gets no IPv6 line, set or NDP rule', () => {
    const v4 = compilePolicyModel({
      ...dualStack([DUAL_STACK_POLICIES[0]]),
      podCidrV6: undefined,
      nodes: dualStack().nodes.map((n) => ({
        ...n,
        ipv6Address: undefined,
        podCidrV6: undefined,
        workloads: n.workloads.filter((w) => w.ip).map(({ ipv6: _, ...w }) => w),
      })),
    })!;
    const text = renderNodeRuleset(v4, 'node2');
    expect(text).not.toMatch(/ip6|icmpv6|ipv6_addr|s6_/);
    expect(chain(text, 'pi_db')).toEqual([`ip saddr @${selectorSet(BAD)} drop`, 'accept']);
  });
});

/** One node's ruleset of a single-policy cluster selecting front, with these ingress rules. */
function rendered(ingress: PolicyRule[]): { model: PolicyModel; lines: string[] } {
  const m = compilePolicyModel(dualStack([{ name: 'p', selector: FRONT, ingress }]))!;
  return { model: m, lines: chain(renderNodeRuleset(m, 'node1'), 'pi_p') };
}

describe('rules per family', () => {
  test('ipVersion restricts a rule to its family: meta nfproto without addresses, one family with them', () => {
    const { model: m, lines } = rendered([
      { action: 'Allow', ipVersion: 6, protocol: 'TCP', destination: { ports: [80] } },
      { action: 'Deny', ipVersion: 4, source: { selector: BAD } },
    ]);
    expect(lines).toEqual([
      'meta nfproto ipv6 meta l4proto 6 th dport 80 accept',
      `ip saddr @${selectorSet(BAD)} drop`,
    ]);
    expect(verdict(m, 'fd00:198:19:2::2', 'fd00:198:19:1::2', { port: 80 })).toBe('Allow');
    expect(verdict(m, '198.19.2.2', '198.19.1.2', { port: 80 })).toBe('Deny');
  });

  test('ICMPv6 rules are IPv6 lines with icmpv6 matches, ICMP rules IPv4 lines; notICMP of both', () => {
    const { model: m, lines } = rendered([
      { action: 'Allow', protocol: 'ICMPv6', icmp: { type: 128, code: 0 }, source: { selector: FRONT } },
      { action: 'Deny', protocol: 'ICMPv6', notICMP: { type: 135 } },
      { action: 'Allow', protocol: 'ICMP', notICMP: { type: 8, code: 0 } },
      { action: 'Allow', protocol: 'ICMP', source: { selector: 'all()' } },
    ]);
    expect(lines).toEqual([
      `meta l4proto 58 icmpv6 type 128 icmpv6 code 0 ip6 saddr @${selectorSet(FRONT, 6)} accept`,
      'meta l4proto 58 icmpv6 type != 135 drop',
      'meta l4proto 1 icmp type . icmp code != { 8 . 0 } accept',
      `meta l4proto 1 ip saddr @${selectorSet('all()')} accept`,
    ]);
    const icmp6 = (src: string, type: number) =>
      packetVerdict(m, { src, dst: 'fd00:198:19:1::2', protocol: 58, icmpType: type, icmpCode: 0 }).action;
    expect(icmp6('fd00:198:19:1::2', 128)).toBe('Allow');
    expect(icmp6('fd00:198:19:2::2', 128)).toBe('Deny'); // not front, then notICMP 135 denies
    expect(icmp6('fd00:198:19:2::2', 135)).toBe('Deny'); // no rule: default deny
    const icmp4 = (type: number) =>
      packetVerdict(m, { src: '198.19.2.2', dst: '198.19.1.2', protocol: 1, icmpType: type, icmpCode: 0 }).action;
    expect(icmp4(8)).toBe('Allow'); // by the all() rule
    expect(icmp4(13)).toBe('Allow'); // by notICMP
  });

  test('nets of both families: each family keeps its own, and a side left with none skips the rule there', () => {
    const { model: m, lines } = rendered([
      { action: 'Deny', source: { nets: ['fd00:198:19:2::/64'] } },
      { action: 'Deny', source: { nets: ['198.19.2.0/24', 'fd00:198:19:1::/64'], notNets: ['198.19.2.3/32'] } },
      { action: 'Allow', source: { notNets: ['fd00:198:19::/48'] } },
    ]);
    expect(lines).toEqual([
      'ip6 saddr fd00:198:19:2::/64 drop',
      'ip saddr 198.19.2.0/24 ip saddr != 198.19.2.3/32 drop',
      'ip6 saddr fd00:198:19:1::/64 drop',
      // Its IPv4 line has no match left: it must still be IPv4's only.
      'meta nfproto ipv4 accept',
      'ip6 saddr != fd00:198:19::/48 accept',
    ]);
    expect(verdict(m, 'fd00:198:19:2::2', 'fd00:198:19:1::2', { port: 1 })).toBe('Deny');
    expect(verdict(m, '198.19.2.2', '198.19.1.2', { port: 1 })).toBe('Deny');
    expect(verdict(m, '198.19.2.3', '198.19.1.2', { port: 1 })).toBe('Allow');
  });
});

describe('semantics on both families', () => {
  test('"Deny from role == bad, then Allow" denies bad over IPv6 as over IPv4, and allows the others', () => {
    expect(verdict(model, '198.19.1.3', '198.19.2.2', { port: 5432 })).toBe('Deny');
    expect(verdict(model, 'fd00:198:19:1::3', 'fd00:198:19:2::2', { port: 5432 })).toBe('Deny');
    expect(verdict(model, '198.19.1.2', '198.19.2.2', { port: 5432 })).toBe('Allow');
    expect(verdict(model, 'fd00:198:19:1::2', 'fd00:198:19:2::2', { port: 5432 })).toBe('Allow');
  });

  test('an IPv6-only workload selected by a policy is enforced', () => {
    expect(verdict(model, 'fd00:198:19:1::2', 'fd00:198:19:2::3', { port: 8080 })).toBe('Allow');
    expect(verdict(model, 'fd00:198:19:1::3', 'fd00:198:19:2::3', { port: 8080 })).toBe('Deny');
    expect(verdict(model, 'fd00:198:19:1::2', 'fd00:198:19:2::3', { port: 9090 })).toBe('Deny');
  });
});

describe('checks of IPv6 rules name the policy, the rule and the field', () => {
  const problems = (rule: Record<string, unknown>) =>
    policyProblems([{ name: 'p', ingress: [rule] } as unknown as PolicySpec]);

  test('IPv6 nets are accepted, in canonical form, with the network address', () => {
    expect(problems({ action: 'Allow', source: { nets: ['fd00:198:19::/48', '198.19.0.0/16'] } })).toEqual([]);
    expect(problems({ action: 'Allow', source: { nets: ['fd00:198:19::1/48'] } })).toEqual([
      'policy "p": ingress[0].source.nets[0]: "fd00:198:19::1/48" has host bits set; the network address is required',
    ]);
    expect(problems({ action: 'Allow', destination: { notNets: ['FD00::/8', 'fd00::/129', 'x:y::/8'] } })).toEqual([
      'policy "p": ingress[0].destination.notNets[0]: "FD00::" is not in canonical form (RFC 5952, as ip and BIRD print it): write fd00::',
      'policy "p": ingress[0].destination.notNets[1]: "fd00::/129" is not an IPv4 or IPv6 CIDR (address/len)',
      'policy "p": ingress[0].destination.notNets[2]: "x:y::/8" is not an IPv4 or IPv6 CIDR (address/len)',
    ]);
  });

  test('ipVersion: 4 or 6, and nets and ICMP of the other family are refused as Calico refuses them', () => {
    expect(problems({ action: 'Allow', ipVersion: 5 })).toEqual([
      'policy "p": ingress[0].ipVersion: 5 is not an IP version (4 or 6)',
    ]);
    expect(problems({ action: 'Allow', ipVersion: 4, source: { nets: ['fd00::/8'] } })).toEqual([
      'policy "p": ingress[0].source.nets[0]: fd00::/8 is an IPv6 CIDR, but the rule\'s ipVersion is 4',
    ]);
    expect(problems({ action: 'Allow', ipVersion: 6, destination: { notNets: ['10.0.0.0/8'] } })).toEqual([
      'policy "p": ingress[0].destination.notNets[0]: 10.0.0.0/8 is an IPv4 CIDR, but the rule\'s ipVersion is 6',
    ]);
    expect(problems({ action: 'Allow', ipVersion: 6, protocol: 'ICMP' })).toEqual([
      'policy "p": ingress[0].ipVersion: protocol ICMP needs ipVersion 4 (or none)',
    ]);
    expect(problems({ action: 'Allow', ipVersion: 4, protocol: 'ICMPv6' })).toEqual([
      'policy "p": ingress[0].ipVersion: protocol ICMPv6 needs ipVersion 6 (or none)',
    ]);
    expect(problems({ action: 'Allow', ipVersion: 6, protocol: 'ICMPv6', icmp: { type: 128 } })).toEqual([]);
  });

  test('icmp and notICMP need ICMP or ICMPv6, and a code needs a type', () => {
    expect(problems({ action: 'Allow', protocol: 'TCP', notICMP: { type: 1 } })).toEqual([
      'policy "p": ingress[0].notICMP: needs protocol ICMP or ICMPv6',
    ]);
    expect(problems({ action: 'Allow', protocol: 'ICMPv6', notICMP: { code: 1, kind: 2 } })).toEqual([
      'policy "p": ingress[0].notICMP: unknown key "kind" (known: type, code)',
      'policy "p": ingress[0].notICMP.code: needs notICMP.type',
    ]);
    expect(problems({ action: 'Allow', protocol: 'ICMPv6', icmp: { type: 255 } })).toEqual([
      'policy "p": ingress[0].icmp.type: 255 is not an ICMP type (0..254)',
    ]);
  });
});

describe('explain on IPv6', () => {
  const text = (src: string, dst: string, proto?: string, ipv6 = false) =>
    renderExplanation(model, explain(model, model.endpoints, src, dst, proto, ipv6));

  test('an IPv6 address, or --ipv6 with names, explains the IPv6 decision', () => {
    expect(text('fd00:198:19:1:0:0:0:3', 'db', 'tcp/5432')).toBe(
      [
        'bad (node1, fd00:198:19:1::3) -> db (node2, fd00:198:19:2::2)  TCP/5432: Deny',
        '  egress of node1/bad: no policy selects it',
        '    open: Allow (no policy selects it for egress)',
        '  ingress of node2/db: policies db (order 10)',
        '    decided by db ingress[0]: Deny',
        '',
      ].join('\n'),
    );
    expect(text('bad', 'db', 'tcp/5432', true)).toContain(
      'bad (node1, fd00:198:19:1::3) -> db (node2, fd00:198:19:2::2)',
    );
    expect(text('bad', 'db', 'tcp/5432')).toContain(
      'bad (node1, 198.19.1.3) -> db (node2, 198.19.2.2)  TCP/5432: Deny',
    );
  });

  test('an IPv6-only workload makes the pair IPv6; the default probe is then an ICMPv6 echo request', () => {
    expect(text('front', 'six')).toBe(
      [
        'front (node1, fd00:198:19:1::2) -> six (node2, fd00:198:19:2::3)  ICMPv6 type 128 code 0: Allow',
        '  egress of node1/front: no policy selects it',
        '    open: Allow (no policy selects it for egress)',
        '  ingress of node2/six: policies six (order 20)',
        '    decided by six ingress[1]: Allow',
        '',
      ].join('\n'),
    );
    expect(text('bad', 'six', 'tcp/8080')).toContain('TCP/8080: Deny');
  });

  test('mixed families and the wrong ICMP are refused, saying why', () => {
    expect(() => text('198.19.1.2', 'six')).toThrow('are of different IP versions');
    expect(() => text('front', 'six', 'icmp')).toThrow('icmp is not the ICMP of an IPv6 pair: use icmpv6');
    expect(() => text('front', 'db', 'icmpv6')).toThrow('icmpv6 is not the ICMP of an IPv4 pair: use icmp');
    expect(() => text('198.19.1.2', 'db', 'tcp/1', true)).toThrow('--ipv6 was given');
  });
});

describe('calico-net verify on a dual-stack cluster', () => {
  test('IPv4 part: the workloads with IPv4; IPv6 part: those with IPv6 (the IPv6-only one too), each pair over its family', () => {
    expect(truthTableEndpoints(model).map((e) => e.workload)).toEqual(['front', 'bad', 'db']);
    const cells = expectedCells(model, [{ protocol: 'TCP', port: 5432 }]);
    expect(cells.map((c) => `${c.family} ${c.src}->${c.dst}:${c.expected}`)).toEqual([
      'IPv4 front->bad:allow',
      'IPv4 front->db:allow',
      'IPv4 bad->front:allow',
      'IPv4 bad->db:deny',
      'IPv4 db->front:allow',
      'IPv4 db->bad:allow',
      'IPv6 front->bad:allow',
      'IPv6 front->db:allow',
      'IPv6 front->six:deny',
      'IPv6 bad->front:allow',
      'IPv6 bad->db:deny',
      'IPv6 bad->six:deny',
      'IPv6 db->front:allow',
      'IPv6 db->bad:allow',
      'IPv6 db->six:deny',
      'IPv6 six->front:allow',
      'IPv6 six->bad:allow',
      'IPv6 six->db:allow',
    ]);
  });
});
