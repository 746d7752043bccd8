/**
 * A node's nftables ruleset (constructs/policy-nft.ts) at the edges policy.test.ts,
 * policy-ipv6.test.ts and the IPv4 golden files do not reach: comments at nft's length limit and
 * with characters nft cannot take, each field of a rule alone on a dual-stack node, what makes a
 * table render IPv6 at all, and one text whatever order the workloads come in.
 */
import { ClusterSpec } from '../../constructs/model';
import { PolicyRule, PolicySpec } from '../../constructs/policy-model';
import { compilePolicyModel } from '../../constructs/policy-compile';
import { modelIpVersions, policyChain, renderNodeRuleset, selectorSet } from '../../constructs/policy-nft';
import { threeTier } from './policy-fixture';
import { dualStack } from './policy-ipv6-fixture';

const BAD = "role == 'bad'";
const NDP = 'icmpv6 type { 130, 131, 132, 133, 134, 135, 136 } accept';

/** The lines of one chain of a ruleset. */
function chain(text: string, name: string): string[] {
  const start = text.indexOf(`\tchain ${name} {\n`);
  if (start < 0) throw new Error(`no chain ${name} in:\n${text}`);
  const body = text.slice(start).split('\n');
  return body.slice(1, body.indexOf('\t}')).map((l) => l.trim());
}

const rulesetOf = (spec: ClusterSpec, node: string) => renderNodeRuleset(compilePolicyModel(spec)!, node);

/** node1's lines of policy p (selecting front on the dual-stack fixture), with these ingress rules. */
const dualStackLines = (ingress: PolicyRule[]) =>
  chain(rulesetOf(dualStack([{ name: 'p', selector: "role == 'front'", ingress }]), 'node1'), 'pi_p');

/** The three-tier (IPv4-only) cluster with one policy "p" selecting db. */
const v4Only = (p: Omit<PolicySpec, 'name' | 'selector'>, overrides: Partial<ClusterSpec> = {}) =>
  threeTier({ policies: [{ name: 'p', selector: "role == 'db'", ...p }], ...overrides });

describe('comments', () => {
  const twoPolicies = (second: string) =>
    rulesetOf(
      threeTier({
        policies: [
          { name: 'a'.repeat(55), order: 1, selector: "role == 'db'", ingress: [{ action: 'Allow' }] },
          { name: second, order: 2, selector: "role == 'db'", ingress: [{ action: 'Allow' }] },
        ],
      }),
      'node1',
    );

  test('a comment of 120 characters is kept whole; one of 121 is cut to 117 and "..."', () => {
    const exact = `ingress: ${'a'.repeat(55)} ${'b'.repeat(55)}`;
    expect(exact).toHaveLength(120);
    expect(twoPolicies('b'.repeat(55))).toContain(`\t\tcomment "${exact}"\n`);
    const over = `ingress: ${'a'.repeat(55)} ${'b'.repeat(56)}`;
    expect(twoPolicies('b'.repeat(56))).toContain(`\t\tcomment "${over.slice(0, 117)}..."\n`);
  });

  test('what nft takes inside a quoted string is kept; anything else becomes "?"', () => {
    const safe = "k == 'AZaz09 _.,:/()!=&|{}<>@+[]-'";
    const unsafe = `k in {"it's", 'a"b;c$d\\e#f%g*h~i\`j\tk^l?m\u00e9n'}`;
    const text = rulesetOf(
      v4Only({
        ingress: [
          { action: 'Allow', source: { selector: safe } },
          { action: 'Deny', source: { selector: unsafe } },
        ],
      }),
      'node1',
    );
    expect(text).toContain(`\t\tcomment "${safe}"\n`);
    expect(text).toContain(`\t\tcomment "k in {?it's?, 'a?b?c?d?e?f?g?h?i?j?k?l?m?n'}"\n`);
  });

  test('log prefixes name the policy, the direction and the rule', () => {
    const text = rulesetOf(
      threeTier({
        policies: [{ name: 'p.q-1', selector: "role == 'db'", egress: [{ action: 'Deny' }, { action: 'Log' }] }],
      }),
      'node1',
    );
    expect(chain(text, 'po_p.q-1')).toEqual(['drop', 'log prefix "calico-net p.q-1 egress[1]: "']);
  });
});

describe('rules on a dual-stack node: a line per family when they match addresses or ICMP', () => {
  const s4 = selectorSet(BAD);
  const s6 = selectorSet(BAD, 6);

  test('each address field alone, on either end', () => {
    const cases: [PolicyRule, string[]][] = [
      [{ action: 'Allow', source: { notSelector: BAD } }, [`ip saddr != @${s4} accept`, `ip6 saddr != @${s6} accept`]],
      [{ action: 'Allow', destination: { selector: BAD } }, [`ip daddr @${s4} accept`, `ip6 daddr @${s6} accept`]],
      [
        { action: 'Allow', destination: { notSelector: BAD } },
        [`ip daddr != @${s4} accept`, `ip6 daddr != @${s6} accept`],
      ],
      [
        { action: 'Deny', destination: { nets: ['198.19.2.0/24', 'fd00:198:19:2::/64'] } },
        ['ip daddr 198.19.2.0/24 drop', 'ip6 daddr fd00:198:19:2::/64 drop'],
      ],
      [
        { action: 'Deny', destination: { notNets: ['198.19.2.0/24', 'fd00:198:19:2::/64'] } },
        ['ip daddr != 198.19.2.0/24 drop', 'ip6 daddr != fd00:198:19:2::/64 drop'],
      ],
      [
        { action: 'Deny', source: { nets: ['198.19.2.0/24', '198.19.3.0/24', 'fd00:198:19:2::/64'] } },
        ['ip saddr { 198.19.2.0/24, 198.19.3.0/24 } drop', 'ip6 saddr fd00:198:19:2::/64 drop'],
      ],
    ];
    // An end whose nets are all of the other family: the rule has no line in this family.
    cases.push(
      [{ action: 'Deny', source: { nets: ['fd00:198:19:2::/64'] } }, ['ip6 saddr fd00:198:19:2::/64 drop']],
      [{ action: 'Deny', destination: { nets: ['198.19.2.0/24'] } }, ['ip daddr 198.19.2.0/24 drop']],
    );
    for (const [rule, lines] of cases) expect([rule, dualStackLines([rule])]).toEqual([rule, lines]);
  });

  test('ICMP fields alone are per family (the family of the ICMP); ports alone are one line for both', () => {
    expect(dualStackLines([{ action: 'Allow', protocol: 'ICMP', icmp: { type: 8 } }])).toEqual([
      'meta l4proto 1 icmp type 8 accept',
    ]);
    expect(dualStackLines([{ action: 'Allow', protocol: 'ICMP', notICMP: { type: 8, code: 0 } }])).toEqual([
      'meta l4proto 1 icmp type . icmp code != { 8 . 0 } accept',
    ]);
    expect(dualStackLines([{ action: 'Allow', protocol: 'ICMPv6', notICMP: { type: 135 } }])).toEqual([
      'meta l4proto 58 icmpv6 type != 135 accept',
    ]);
    expect(
      dualStackLines([
        { action: 'Allow', protocol: 'TCP', source: { ports: ['1000:1001'] }, destination: { notPorts: [22, 23] } },
      ]),
    ).toEqual(['meta l4proto 6 th sport 1000-1001 th dport != { 22, 23 } accept']);
    expect(dualStackLines([{ action: 'Allow', ipVersion: 4, protocol: 'UDP', destination: { ports: [53] } }])).toEqual([
      'meta nfproto ipv4 meta l4proto 17 th dport 53 accept',
    ]);
    expect(dualStackLines([{ action: 'Allow', ipVersion: 6, source: { selector: BAD } }])).toEqual([
      `ip6 saddr @${s6} accept`,
    ]);
  });

  test('a line whose only address match is of the other family is kept to its own family', () => {
    expect(
      dualStackLines([
        { action: 'Allow', protocol: 'TCP', notProtocol: 'UDP', source: { notNets: ['fd00:198:19::/48'] } },
      ]),
    ).toEqual([
      'meta nfproto ipv4 meta l4proto 6 meta l4proto != 17 accept',
      'meta l4proto 6 meta l4proto != 17 ip6 saddr != fd00:198:19::/48 accept',
    ]);
    expect(dualStackLines([{ action: 'Allow', destination: { notNets: ['198.19.0.0/16'] } }])).toEqual([
      'ip daddr != 198.19.0.0/16 accept',
      'meta nfproto ipv6 accept',
    ]);
  });
});

describe('empty lists', () => {
  test('nets, notNets, ports and notPorts given empty match nothing extra: the bare verdict', () => {
    const empty = { nets: [], notNets: [], ports: [], notPorts: [] };
    const text = rulesetOf(v4Only({ ingress: [{ action: 'Allow', source: empty, destination: empty }] }), 'node1');
    expect(chain(text, 'pi_p')).toEqual(['accept']);
  });
});

describe('what makes a table render IPv6', () => {
  const hasIpv6 = (spec: ClusterSpec) => {
    const text = rulesetOf(spec, 'node1');
    const versions = modelIpVersions(compilePolicyModel(spec)!);
    expect(chain(text, 'input').includes(NDP)).toBe(versions.includes(6));
    return versions;
  };

  test('an IPv4-only cluster with IPv4 rules: IPv4 alone', () => {
    expect(
      hasIpv6(v4Only({ ingress: [{ action: 'Allow', protocol: 'ICMP', source: { nets: ['198.19.0.0/16'] } }] })),
    ).toEqual([4]);
  });

  test('any one IPv6 thing: a workload address, an ipVersion 6 rule, ICMPv6, an IPv6 net or notNet on either end', () => {
    const withDbIpv6 = threeTier();
    withDbIpv6.nodes[0].workloads[1] = { ...withDbIpv6.nodes[0].workloads[1], ipv6: 'fd00:198:19:1::3' };
    expect(hasIpv6(withDbIpv6)).toEqual([4, 6]);
    const rules: PolicyRule[] = [
      { action: 'Allow', ipVersion: 6 },
      { action: 'Allow', protocol: 'ICMPv6' },
      { action: 'Allow', source: { nets: ['fd00:198:19::/48'] } },
      { action: 'Allow', destination: { nets: ['fd00:198:19::/48'] } },
      { action: 'Allow', source: { notNets: ['fd00:198:19::/48'] } },
      { action: 'Allow', destination: { notNets: ['fd00:198:19::/48'] } },
    ];
    for (const rule of rules) expect([rule, hasIpv6(v4Only({ ingress: [rule] }))]).toEqual([rule, [4, 6]]);
    expect(hasIpv6(v4Only({ egress: [{ action: 'Allow', ipVersion: 6 }] }))).toEqual([4, 6]);
  });

  test('one IPv6 net among IPv4 ones, in one rule among others, of one policy among others, is enough', () => {
    const spec = threeTier({
      policies: [
        { name: 'a', selector: "role == 'db'", ingress: [{ action: 'Allow', protocol: 'TCP' }] },
        {
          name: 'b',
          selector: "role == 'db'",
          ingress: [
            { action: 'Deny', protocol: 'UDP' },
            { action: 'Deny', source: { nets: ['198.19.9.0/24', 'fd00:198:19:9::/64'] } },
          ],
        },
      ],
    });
    expect(hasIpv6(spec)).toEqual([4, 6]);
    expect(chain(rulesetOf(spec, 'node1'), 'pi_b')).toEqual([
      'meta l4proto 17 drop',
      'ip saddr 198.19.9.0/24 drop',
      'ip6 saddr fd00:198:19:9::/64 drop',
    ]);
  });

  test('an IPv6 rule on an IPv4-only cluster: an ip6 line against an empty IPv6 set', () => {
    const text = rulesetOf(
      v4Only({
        ingress: [
          { action: 'Allow', source: { selector: "role == 'api'" } },
          { action: 'Allow', ipVersion: 6 },
        ],
      }),
      'node1',
    );
    const api = "role == 'api'";
    expect(chain(text, 'pi_p')).toEqual([
      `ip saddr @${selectorSet(api)} accept`,
      `ip6 saddr @${selectorSet(api, 6)} accept`,
      'meta nfproto ipv6 accept',
    ]);
    expect(text).toContain(
      `\tset ${selectorSet(api, 6)} {\n\t\ttype ipv6_addr\n\t\tflags interval\n\t\tcomment "${api}"\n\t}\n`,
    );
  });
});

describe('one text whatever the order of the input', () => {
  const spec = (reverse: boolean): ClusterSpec => {
    const base = threeTier({
      policies: [
        {
          name: 'db',
          selector: "role == 'db'",
          ingress: [
            { action: 'Allow', source: { selector: "role == 'front'" } },
            { action: 'Allow', source: { selector: "role == 'api'" } },
          ],
        },
        { name: 'fr', selector: "role == 'front'", ingress: [{ action: 'Allow', source: { selector: 'all()' } }] },
        { name: 'out', selector: 'has(role)', egress: [{ action: 'Allow' }] },
      ],
    });
    if (!reverse) return base;
    return {
      ...base,
      nodes: [...base.nodes].reverse().map((n) => ({ ...n, workloads: [...n.workloads].reverse() })),
      policies: [...base.policies!].reverse(),
    };
  };

  test('workloads, nodes and policies in another order render the same ruleset', () => {
    for (const node of ['node1', 'node2']) expect(rulesetOf(spec(true), node)).toBe(rulesetOf(spec(false), node));
  });

  test('sets, workload chains and map entries come in name order', () => {
    const text = rulesetOf(spec(false), 'node1');
    const names = (re: RegExp) => [...text.matchAll(re)].map((m) => m[1]);
    const setComments = names(
      /\tset s_[0-9a-f]{12} \{\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\tcomment "([^"]*)"/g,
    );
    expect(setComments).toEqual(['all()', "role == 'api'", "role == 'front'"]);
    const chains = names(/\tchain ((?:fw|tw)_[0-9a-f]{12}) \{/g);
    expect(chains).toHaveLength(3);
    expect(chains).toEqual([...chains].sort());
    const entries = names(/"(cali[0-9a-f]+)" : goto/g);
    expect(entries).toHaveLength(4);
    const fw = entries.slice(0, 2);
    const tw = entries.slice(2);
    expect([fw, tw]).toEqual([[...fw].sort(), [...tw].sort()]);
    expect(fw).toEqual(tw);
    expect(chain(text, policyChain('fr', 'ingress'))).toEqual([`ip saddr @${selectorSet('all()')} accept`]);
  });
});
