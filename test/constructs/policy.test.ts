/**
 * Network policy at synth: Calico's selector grammar (precedence, semantics, errors with
 * positions), the policy checks (naming policy, rule and field), Calico's defaults (types,
 * order), the compiled model and its verdicts, and the nftables ruleset rendered from it.
 */
import { canonicalSelector, matches, parseSelector, SelectorError, selectorProblem } from '../../constructs/selector';
import { clusterPolicyProblems, policyProblems } from '../../constructs/policy-validation';
import { comparePolicies, PolicySpec, policyTypesOf } from '../../constructs/policy-model';
import { compilePolicyModel, decide, packetVerdict, PolicyModel } from '../../constructs/policy-compile';
import { renderNodeRuleset, selectorSet } from '../../constructs/policy-nft';
import { threeTier } from './policy-fixture';
import { hostInterfaceName } from '../../providers/calico/names';
import { createHash } from 'crypto';
import { parseInventory } from '../../stacks/inventory';
import { ClusterValidationError } from '../../constructs/validation';

const sel = (s: string) => canonicalSelector(parseSelector(s));
const m = (s: string, labels: Record<string, string>) => matches(parseSelector(s), labels);

function positionOf(text: string): { reason: string; position: number } {
  try {
    parseSelector(text);
  } catch (err) {
    expect(err).toBeInstanceOf(SelectorError);
    return { reason: (err as SelectorError).reason, position: (err as SelectorError).position };
  }
  throw new Error(`"${text}" parsed`);
}

describe('selector grammar', () => {
  test('primitives', () => {
    expect(sel("role == 'db'")).toBe("role == 'db'");
    expect(sel('role=="db"')).toBe("role == 'db'");
    expect(sel("role != 'db'")).toBe("role != 'db'");
    expect(sel('has(role)')).toBe('has(role)');
    expect(sel(' ! has( role ) ')).toBe('!has(role)');
    expect(sel("tier in {'a','b'}")).toBe("tier in {'a', 'b'}");
    expect(sel("tier not in { 'a' }")).toBe("tier not in {'a'}");
    expect(sel('tier in {}')).toBe('tier in {}');
    expect(sel('all()')).toBe('all()');
    expect(sel('')).toBe('all()');
    expect(sel('   ')).toBe('all()');
    expect(sel("app.kubernetes.io/name == 'x'")).toBe("app.kubernetes.io/name == 'x'");
    expect(sel("n contains 'a'")).toBe("n contains 'a'");
    expect(sel("n starts with 'a'")).toBe("n starts with 'a'");
    expect(sel("n ends with 'a'")).toBe("n ends with 'a'");
    expect(sel(`v == "it's"`)).toBe(`v == "it's"`);
  });

  test('precedence: ! binds tightest, then &&, then ||; parentheses override', () => {
    expect(parseSelector("a == 'x' || b == 'y' && c == 'z'")).toEqual({
      kind: 'or',
      left: { kind: 'eq', key: 'a', value: 'x' },
      right: { kind: 'and', left: { kind: 'eq', key: 'b', value: 'y' }, right: { kind: 'eq', key: 'c', value: 'z' } },
    });
    expect(sel("(a == 'x' || b == 'y') && c == 'z'")).toBe("(a == 'x' || b == 'y') && c == 'z'");
    expect(sel('!has(a) && has(b)')).toBe('!has(a) && has(b)');
    expect(sel('!(has(a) && has(b))')).toBe('!(has(a) && has(b))');
    expect(sel('((has(a)))')).toBe('has(a)');
    // Left-associative chains print without parentheses.
    expect(sel('has(a) || has(b) || has(c)')).toBe('has(a) || has(b) || has(c)');
    expect(sel('has(a) && has(b) && has(c)')).toBe('has(a) && has(b) && has(c)');
    // Evaluation follows the same precedence.
    expect(m("a == 'x' || b == 'y' && c == 'z'", { a: 'x' })).toBe(true);
    expect(m("(a == 'x' || b == 'y') && c == 'z'", { a: 'x' })).toBe(false);
    expect(m('!has(a) && has(b)', { b: '1' })).toBe(true);
    expect(m('!(has(a) && has(b))', { a: '1', b: '1' })).toBe(false);
    // A keyword as a label name.
    expect(m("has == 'x'", { has: 'x' })).toBe(true);
    expect(m("in in {'in'}", { in: 'in' })).toBe(true);
  });

  test("semantics as Calico's: != and not in also match a workload without the label", () => {
    expect(m("role == 'db'", { role: 'db' })).toBe(true);
    expect(m("role == 'db'", {})).toBe(false);
    expect(m("role != 'db'", {})).toBe(true);
    expect(m("role != 'db'", { role: 'db' })).toBe(false);
    expect(m("role != 'db'", { role: 'api' })).toBe(true);
    expect(m("role in {'a','b'}", { role: 'b' })).toBe(true);
    expect(m("role in {'a','b'}", {})).toBe(false);
    expect(m("role not in {'a','b'}", {})).toBe(true);
    expect(m("role not in {'a','b'}", { role: 'a' })).toBe(false);
    expect(m("role not in {'a','b'}", { role: 'c' })).toBe(true);
    expect(m('has(role)', { role: '' })).toBe(true);
    expect(m('!has(role)', { role: '' })).toBe(false);
    expect(m('all()', {})).toBe(true);
    expect(m("n contains 'ab'", { n: 'xaby' })).toBe(true);
    expect(m("n contains 'ab'", { n: 'xy' })).toBe(false);
    expect(m("n contains 'ab'", {})).toBe(false);
    expect(m("n starts with 'ab'", { n: 'abc' })).toBe(true);
    expect(m("n starts with 'ab'", { n: 'cab' })).toBe(false);
    expect(m("n ends with 'ab'", { n: 'cab' })).toBe(true);
    expect(m("n ends with 'ab'", { n: 'abc' })).toBe(false);
    expect(m('has(toString)', {})).toBe(false);
  });

  test('errors say what and where', () => {
    expect(positionOf('role == ')).toEqual({ reason: 'expected a quoted value', position: 8 });
    expect(positionOf("role = 'db'")).toEqual({ reason: expect.stringContaining('expected ==, !=, in'), position: 5 });
    expect(positionOf("role == 'db")).toEqual({ reason: 'unterminated string', position: 8 });
    expect(positionOf('(has(a)')).toEqual({ reason: 'expected ")"', position: 7 });
    expect(positionOf('has(a) &&')).toEqual({ reason: 'expected a label expression', position: 9 });
    expect(positionOf('has(a) has(b)')).toEqual({ reason: 'unexpected "h"', position: 7 });
    expect(positionOf("a in {'x' 'y'}")).toEqual({ reason: 'expected "," or "}"', position: 10 });
    expect(positionOf("a not {'x'}")).toEqual({ reason: 'expected "in" after "not"', position: 6 });
    expect(positionOf("a starts 'x'")).toEqual({ reason: 'expected "with" after "starts"', position: 9 });
    expect(positionOf("a ends 'x'")).toEqual({ reason: 'expected "with" after "ends"', position: 7 });
    expect(positionOf('has()')).toEqual({ reason: 'expected a label name, found ")"', position: 4 });
    expect(positionOf('role')).toEqual({ reason: 'expected an operator after label "role"', position: 4 });
    expect(positionOf('a == x')).toEqual({ reason: 'expected a quoted value', position: 5 });
    expect(positionOf("a in 'x'")).toEqual({ reason: 'expected "{"', position: 5 });
    expect(selectorProblem("role = 'db'")).toMatch(
      /^selector "role = 'db'" does not parse: expected .* at position 5$/,
    );
    expect(selectorProblem('has(a)')).toBeNull();
  });
});

describe('Calico defaults', () => {
  test('types: Ingress without egress rules, Egress with egress rules only, both with both', () => {
    const allow = [{ action: 'Allow' as const }];
    expect(policyTypesOf({ name: 'a' })).toEqual(['Ingress']);
    expect(policyTypesOf({ name: 'a', ingress: allow })).toEqual(['Ingress']);
    expect(policyTypesOf({ name: 'a', egress: allow })).toEqual(['Egress']);
    expect(policyTypesOf({ name: 'a', ingress: allow, egress: allow })).toEqual(['Ingress', 'Egress']);
    expect(policyTypesOf({ name: 'a', types: ['Egress'] })).toEqual(['Egress']);
    expect(policyTypesOf({ name: 'a', egress: [] })).toEqual(['Ingress']);
  });

  test('order: lower first, unnumbered last, ties by name', () => {
    const ps: PolicySpec[] = [
      { name: 'z' },
      { name: 'b', order: 10 },
      { name: 'a', order: 10 },
      { name: 'c', order: 1.5 },
      { name: 'y' },
      { name: 'd', order: -1 },
    ];
    expect([...ps].sort(comparePolicies).map((p) => p.name)).toEqual(['d', 'c', 'a', 'b', 'y', 'z']);
    expect(comparePolicies({ name: 'a' }, { name: 'a' })).toBe(0);
  });
});

describe('policy checks name the policy, the rule and the field', () => {
  test('a good policy has no problems', () => {
    expect(
      policyProblems([
        {
          name: 'db',
          order: 10,
          selector: "role == 'db'",
          types: ['Ingress', 'Egress'],
          ingress: [
            {
              action: 'Allow',
              protocol: 'TCP',
              source: { selector: "role == 'api'", notNets: ['198.19.9.0/24'] },
              destination: { ports: [5432, '6000:6010'] },
            },
          ],
          egress: [
            { action: 'Deny', protocol: 1, icmp: { type: 8, code: 0 } },
            { action: 'Log' },
            { action: 'Allow', notProtocol: 'UDP' },
          ],
        },
      ]),
    ).toEqual([]);
    expect(policyProblems(undefined)).toEqual([]);
  });

  test('each kind of bad input', () => {
    const problems = policyProblems([
      {
        name: 'db',
        selector: "role = 'db'",
        typo: 1,
        types: ['Ingress', 'Sideways', 'Ingress'],
        ingress: [
          { action: 'Permit' },
          { action: 'Allow', protocol: 'TPC' },
          { action: 'Allow', destination: { ports: [80] } },
          { action: 'Allow', protocol: 'TCP', destination: { ports: ['80-90', 70000, '9:1', 'http'] } },
          { action: 'Allow', source: { nets: ['198.19.1.1/24', 'x'], notSelector: '&&' } },
          { action: 'Allow', protocol: 'TCP', icmp: { type: 8 } },
          { action: 'Allow', protocol: 'ICMP', icmp: { code: 3 } },
          { protocol: 300 },
          { action: 'Pass' },
          { action: 'Allow', source: { port: [1] } },
          'Allow',
        ],
        egress: [{ action: 'Allow' }],
      },
      { name: 'Bad_Name' },
      { name: 'db' },
      { order: 'first' },
    ]);
    expect(problems).toEqual([
      'policy "db": unknown key "typo" (known: name, order, selector, types, ingress, egress)',
      `policy "db": selector: selector "role = 'db'" does not parse: expected ==, !=, in, not in, contains, starts with or ends with after label "role" (which starts at position 0) at position 5`,
      'policy "db": types[1]: "Sideways" is not Ingress or Egress',
      'policy "db": types[2]: Ingress is listed twice',
      'policy "db": egress: rules given, but types does not include Egress, so they would never apply',
      'policy "db": ingress[0].action: unknown action "Permit" (Allow, Deny, Log)',
      'policy "db": ingress[1].protocol: unknown protocol "TPC" (TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite, or a number 1..255)',
      'policy "db": ingress[2].destination.ports: ports need protocol TCP, UDP or SCTP',
      'policy "db": ingress[3].destination.ports[0]: "80-90" is not a port or from:to range (named ports are not supported)',
      'policy "db": ingress[3].destination.ports[1]: 70000 is not a port (0..65535)',
      'policy "db": ingress[3].destination.ports[2]: "9:1" is not a port range (from:to, 0 <= from <= to <= 65535)',
      'policy "db": ingress[3].destination.ports[3]: "http" is not a port or from:to range (named ports are not supported)',
      'policy "db": ingress[4].source.nets[0]: "198.19.1.1/24" has host bits set; the network address is required',
      'policy "db": ingress[4].source.nets[1]: "x" is not an IPv4 CIDR (a.b.c.d/len)',
      'policy "db": ingress[4].source.notSelector: selector "&&" does not parse: expected a label name, found "&" at position 0',
      'policy "db": ingress[5].icmp: needs protocol ICMP or ICMPv6',
      'policy "db": ingress[6].icmp.code: needs icmp.type',
      'policy "db": ingress[7].action: required (Allow, Deny, Log)',
      'policy "db": ingress[7].protocol: 300 is not a protocol number (1..255)',
      'policy "db": ingress[8].action: Pass is not supported (there are no tiers to pass to)',
      'policy "db": ingress[9].source: unknown key "port" (known: nets, notNets, selector, notSelector, ports, notPorts)',
      'policy "db": ingress[10]: expected a mapping, found string "Allow"',
      'policies[1]: name: "Bad_Name" is not a policy name (lower-case letters, digits, "-", "."; starts and ends with a letter or digit; at most 63)',
      'policy "db": the name is used by another policy',
      'policies[3]: name: required',
      'policies[3]: order: expected a number, found string "first"',
    ]);
    expect(policyProblems({})).toEqual(['policies: expected a list, found a mapping']);
    expect(policyProblems([{ name: 'a', ingress: {} }])).toEqual([
      'policy "a": ingress: expected a list of rules, found a mapping',
    ]);
    expect(
      policyProblems([{ name: 'a', ingress: [{ action: 'Allow', protocol: 'ICMP', icmp: { type: 255, code: -1 } }] }]),
    ).toEqual([
      'policy "a": ingress[0].icmp.type: 255 is not an ICMP type (0..254)',
      'policy "a": ingress[0].icmp.code: -1 is not an ICMP code (0..255)',
    ]);
  });

  test('labels', () => {
    const cluster = {
      nodes: [
        {
          name: 'n1',
          workloads: [
            { name: 'w', labels: { role: 'db', 'app.io/tier': 'back', '-bad': 'x', ok: 'bad value', e: '' } },
            { name: 'v', labels: ['x'] },
          ],
        },
      ],
    };
    expect(clusterPolicyProblems(cluster)).toEqual([
      'node "n1" workload "w".labels: label key "-bad" is not valid (letters, digits, "-", "_", "."; starts and ends with a letter or digit; at most 63)',
      'node "n1" workload "w".labels: "bad value" is not a label value (letters, digits, "-", "_", "."; starts and ends with a letter or digit; at most 63)',
      'node "n1" workload "v".labels: expected a mapping, found a list',
    ]);
  });
});

describe('the compiled model', () => {
  let model: PolicyModel;
  beforeAll(() => {
    model = compilePolicyModel(threeTier())!;
  });

  test('no policies: no model', () => {
    expect(compilePolicyModel(threeTier({ policies: [] }))).toBeUndefined();
    expect(compilePolicyModel(threeTier({ policies: undefined }))).toBeUndefined();
  });

  test('policies in order, selectors resolved to addresses, applied per workload and direction', () => {
    expect(model.policies.map((p) => p.name)).toEqual(['db', 'no-lab-net', 'api']);
    expect(model.policies[0]).toEqual({
      name: 'db',
      order: 10,
      selector: "role == 'db'",
      types: ['Ingress'],
      ingress: [
        { index: 0, action: 'Log', protocol: 6, source: {}, destination: {} },
        {
          index: 1,
          action: 'Allow',
          protocol: 6,
          source: { selector: "role == 'api'" },
          destination: { ports: [{ from: 5432, to: 5432 }] },
        },
      ],
      egress: [],
    });
    expect(model.selectors).toEqual({ "role == 'api'": ['198.19.2.2'], "role == 'front'": ['198.19.1.2'] });
    expect(model.applied).toEqual({
      'node1/front': { ingress: [], egress: ['no-lab-net'] },
      'node1/db': { ingress: ['db'], egress: [] },
      'node2/api': { ingress: ['api'], egress: [] },
      'node2/other': { ingress: [], egress: [] },
    });
    expect(model.endpoints.find((e) => e.workload === 'db')).toEqual({
      node: 'node1',
      workload: 'db',
      ip: '198.19.1.3',
      iface: hostInterfaceName('node1', 'db'),
      labels: { role: 'db' },
    });
  });

  test('verdicts: the first matching rule decides, Log goes on, a selected workload drops the rest, others are open', () => {
    const tcp = (src: string, dst: string, port: number) => packetVerdict(model, { src, dst, protocol: 6, port });
    const front = '198.19.1.2';
    const db = '198.19.1.3';
    const api = '198.19.2.2';
    const other = '198.19.2.3';
    expect(tcp(front, api, 8080).action).toBe('Allow');
    expect(tcp(front, api, 8081).action).toBe('Deny');
    expect(tcp(other, api, 8080).action).toBe('Deny');
    expect(tcp(api, db, 5432)).toEqual({
      action: 'Allow',
      steps: [
        {
          direction: 'egress',
          endpoint: 'node2/api',
          policies: [],
          action: 'Allow',
          decidedBy: { kind: 'no-policy' },
          logged: [],
        },
        {
          direction: 'ingress',
          endpoint: 'node1/db',
          policies: ['db'],
          action: 'Allow',
          decidedBy: { kind: 'rule', policy: 'db', rule: 1 },
          logged: ['db/ingress[0]'],
        },
      ],
    });
    expect(tcp(front, db, 5432).steps[1]).toMatchObject({
      action: 'Deny',
      decidedBy: { kind: 'default-deny' },
      logged: ['db/ingress[0]'],
    });
    expect(packetVerdict(model, { src: api, dst: db, protocol: 1, icmpType: 8 }).steps[1]).toMatchObject({
      action: 'Deny',
      logged: [],
    });
    expect(tcp(api, other, 1).action).toBe('Allow');
    // front's egress deny to the lab's node network, before its Allow.
    expect(tcp(front, '198.18.60.2', 22).steps).toEqual([
      {
        direction: 'egress',
        endpoint: 'node1/front',
        policies: ['no-lab-net'],
        action: 'Deny',
        decidedBy: { kind: 'rule', policy: 'no-lab-net', rule: 0 },
        logged: [],
      },
    ]);
    expect(tcp(front, other, 22).action).toBe('Allow');
    expect(
      decide(model, model.endpoints[3], 'ingress', { src: front, dst: other, protocol: 17, port: 53 }).decidedBy,
    ).toEqual({ kind: 'no-policy' });
  });

  test('rule fields: notProtocol, icmp, notNets, notSelector, source ports, notPorts, ranges', () => {
    const c = threeTier({
      policies: [
        {
          name: 'p',
          selector: "role == 'db'",
          ingress: [
            { action: 'Deny', notProtocol: 'TCP' },
            { action: 'Deny', protocol: 'TCP', destination: { notPorts: ['5000:5999'] } },
            { action: 'Deny', protocol: 'TCP', source: { notSelector: "role == 'api'" } },
            { action: 'Deny', protocol: 'TCP', source: { notNets: ['198.19.2.0/24'] } },
            { action: 'Allow', protocol: 'TCP', source: { ports: [1000] } },
          ],
        },
        {
          name: 'q',
          selector: "role == 'api'",
          ingress: [{ action: 'Allow', protocol: 'ICMP', icmp: { type: 8, code: 0 } }],
        },
      ],
    });
    const mm = compilePolicyModel(c)!;
    const v = (p: Parameters<typeof packetVerdict>[1]) => {
      const s = packetVerdict(mm, p).steps.at(-1)!;
      return s.decidedBy.kind === 'rule' ? `${s.action}@${s.decidedBy.rule}` : `${s.action}:${s.decidedBy.kind}`;
    };
    const db = '198.19.1.3';
    expect(v({ src: '198.19.2.2', dst: db, protocol: 17, port: 5432 })).toBe('Deny@0');
    expect(v({ src: '198.19.2.2', dst: db, protocol: 6, port: 6000 })).toBe('Deny@1');
    expect(v({ src: '198.19.2.3', dst: db, protocol: 6, port: 5432 })).toBe('Deny@2');
    expect(v({ src: '198.19.2.2', dst: db, protocol: 6, port: 5432 })).toBe('Deny:default-deny');
    expect(v({ src: '198.19.2.2', dst: db, protocol: 6, port: 5000, sourcePort: 1000 })).toBe('Allow@4');
    expect(v({ src: '198.19.2.2', dst: db, protocol: 6, port: 5000, sourcePort: 1001 })).toBe('Deny:default-deny');
    expect(v({ src: '198.19.2.2', dst: '198.19.2.2', protocol: 1, icmpType: 8, icmpCode: 0 })).toBe('Allow@0');
    expect(v({ src: '198.19.2.2', dst: '198.19.2.2', protocol: 1, icmpType: 8, icmpCode: 1 })).toBe(
      'Deny:default-deny',
    );
    expect(v({ src: '198.19.2.2', dst: '198.19.2.2', protocol: 1, icmpType: 0, icmpCode: 0 })).toBe(
      'Deny:default-deny',
    );
    // notNets: an address outside 198.19.2.0/24 that the selector rule let through.
    const c2 = threeTier({
      policies: [
        {
          name: 'p',
          selector: "role == 'db'",
          ingress: [
            { action: 'Deny', protocol: 'TCP', source: { notNets: ['198.19.2.0/24'] } },
            { action: 'Allow', protocol: 'TCP', source: { ports: ['1000:1001'] } },
          ],
        },
      ],
    });
    const m2 = compilePolicyModel(c2)!;
    expect(packetVerdict(m2, { src: '198.19.1.2', dst: db, protocol: 6, port: 1 }).steps.at(-1)!.decidedBy).toEqual({
      kind: 'rule',
      policy: 'p',
      rule: 0,
    });
    expect(
      packetVerdict(m2, { src: '198.19.2.2', dst: db, protocol: 6, port: 1, sourcePort: 1001 }).steps.at(-1)!.decidedBy,
    ).toEqual({ kind: 'rule', policy: 'p', rule: 1 });
    expect(packetVerdict(m2, { src: '198.19.2.2', dst: db, protocol: 6, port: 1, sourcePort: 1002 }).action).toBe(
      'Deny',
    );
  });
});

describe('the nftables ruleset of a node', () => {
  const model = compilePolicyModel(threeTier())!;
  const n1 = renderNodeRuleset(model, 'node1');
  const n2 = renderNodeRuleset(model, 'node2');
  const front = hostInterfaceName('node1', 'front');
  const db = hostInterfaceName('node1', 'db');
  const api = hostInterfaceName('node2', 'api');

  test('one table of ours, marked, with conntrack first and only cali* traffic looked at', () => {
    expect(
      n1.startsWith(
        'table inet calico-net {\n\tcomment "calico-net network policy; managed by calico-net deploy, hand edits are reverted"\n',
      ),
    ).toBe(true);
    expect(n1.endsWith('\n}\n')).toBe(true);
    expect(n1).toContain(
      [
        '\tchain forward {',
        '\t\ttype filter hook forward priority filter; policy accept;',
        '\t\tiifname != "cali*" oifname != "cali*" accept',
        '\t\tct state established,related accept',
        '\t\tct state invalid drop',
        '\t\tiifname vmap @fw_map',
        '\t\tgoto tw_dispatch',
        '\t}',
      ].join('\n'),
    );
    expect(n1).toContain(
      '\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t\tiifname != "cali*" accept\n',
    );
    expect(n1).toContain(
      '\tchain output {\n\t\ttype filter hook output priority filter; policy accept;\n\t\toifname != "cali*" accept\n',
    );
  });

  test('verdict maps keyed on the veth reach each selected workload, whose chain runs its policies in order then drops', () => {
    const chainOf = (prefix: string, names: string[]) =>
      `${prefix}${createHash('sha1').update(names.join('\n')).digest('hex').slice(0, 12)}`;
    expect(n1).toContain(
      `\tmap fw_map {\n\t\ttype ifname : verdict\n\t\telements = { "${front}" : goto ${chainOf('fw_', ['no-lab-net'])} }\n\t}`,
    );
    expect(n1).toContain(
      `\tmap tw_map {\n\t\ttype ifname : verdict\n\t\telements = { "${db}" : goto ${chainOf('tw_', ['db'])} }\n\t}`,
    );
    expect(n1).toContain(
      `\tchain ${chainOf('tw_', ['db'])} {\n\t\tcomment "ingress: db"\n\t\tjump pi_db\n\t\tdrop\n\t}`,
    );
    expect(n1).toContain(
      `\tchain ${chainOf('fw_', ['no-lab-net'])} {\n\t\tcomment "egress: no-lab-net"\n\t\tjump po_no-lab-net\n\t\tdrop\n\t}`,
    );
    // Only the policies and sets this node's workloads use.
    expect(n1).not.toContain('pi_api');
    expect(n2).toContain(
      `\tchain pi_api {\n\t\tmeta l4proto 6 ip saddr @${selectorSet("role == 'front'")} th dport 8080 accept\n\t}`,
    );
    expect(n2).toContain(`"${api}" : goto ${chainOf('tw_', ['api'])}`);
    expect(n2).toContain(`\tmap fw_map {\n\t\ttype ifname : verdict\n\t}`);
    expect(n2).not.toContain('po_no-lab-net');
  });

  test('rules: Deny drops, Allow accepts (ingress) or goes on to ingress (egress), Log logs and goes on', () => {
    expect(n1).toContain('\tchain pi_db {\n\t\tmeta l4proto 6 log prefix "calico-net db ingress[0]: "\n');
    expect(n1).toContain(`\t\tmeta l4proto 6 ip saddr @${selectorSet("role == 'api'")} th dport 5432 accept\n`);
    expect(n1).toContain('\tchain po_no-lab-net {\n\t\tip daddr 198.18.60.0/24 drop\n\t\tgoto tw_dispatch\n\t}');
    expect(n1).toContain(
      `\tset ${selectorSet("role == 'api'")} {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\tcomment "role == 'api'"\n\t\telements = { 198.19.2.2 }\n\t}`,
    );
  });

  test('every field renders', () => {
    const c = threeTier({
      policies: [
        {
          name: 'p',
          selector: 'has(role)',
          ingress: [
            {
              action: 'Deny',
              notProtocol: 'UDP',
              source: {
                nets: ['198.19.0.0/24', '198.19.3.0/24'],
                notNets: ['198.19.0.0/28'],
                notSelector: "role == 'nobody'",
              },
            },
            { action: 'Allow', protocol: 'ICMP', icmp: { type: 8, code: 0 } },
            { action: 'Allow', protocol: 'UDP', source: { ports: [53, '1000:2000'] }, destination: { notPorts: [9] } },
          ],
        },
      ],
    });
    const text = renderNodeRuleset(compilePolicyModel(c)!, 'node1');
    const none = selectorSet("role == 'nobody'");
    expect(text).toContain(
      `\t\tmeta l4proto != 17 ip saddr { 198.19.0.0/24, 198.19.3.0/24 } ip saddr != 198.19.0.0/28 ip saddr != @${none} drop\n`,
    );
    expect(text).toContain('\t\tmeta l4proto 1 icmp type 8 icmp code 0 accept\n');
    expect(text).toContain('\t\tmeta l4proto 17 th sport { 53, 1000-2000 } th dport != 9 accept\n');
    // A selector matching nothing is an empty set (the rule never matches; its negation always does).
    expect(text).toContain(
      `\tset ${none} {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\tcomment "role == 'nobody'"\n\t}`,
    );
  });

  test('workloads with the same policies share one chain; comments are cut to what nft takes (128)', () => {
    const many = Array.from({ length: 30 }, (_, i) => ({
      name: `policy-number-${i}`,
      order: i,
      selector: 'all()',
      ingress: [{ action: 'Deny' as const }],
    }));
    const text = renderNodeRuleset(compilePolicyModel(threeTier({ policies: many }))!, 'node1');
    expect(text.match(/\tchain tw_[0-9a-f]{12} \{/g)).toHaveLength(1);
    expect(text).toMatch(new RegExp(`"${front}" : goto (tw_[0-9a-f]{12}),\\n\\t+ +"${db}" : goto \\1 \\}`));
    expect(text).toContain(`comment "${`ingress: ${many.map((p) => p.name).join(' ')}`.slice(0, 117)}..."`);
    expect(text.match(/\t\tjump pi_/g)).toHaveLength(30);
    const long = `role in {${Array.from({ length: 40 }, (_, i) => `'v${i}'`).join(', ')}}`;
    const t2 = renderNodeRuleset(
      compilePolicyModel(
        threeTier({ policies: [{ name: 'p', ingress: [{ action: 'Allow', source: { selector: long } }] }] }),
      )!,
      'node1',
    );
    const comment = /comment "(role in[^"]*)"/.exec(t2)![1];
    expect(comment).toHaveLength(120);
    expect(comment.endsWith("'v16',...")).toBe(true);
  });

  test('the same cluster renders the same text; a node without workloads gets the bare table', () => {
    expect(renderNodeRuleset(compilePolicyModel(threeTier())!, 'node1')).toBe(n1);
    const empty = renderNodeRuleset(model, 'node9');
    expect(empty).not.toContain('chain pi_');
    expect(empty).toContain('\tchain tw_dispatch {\n\t\toifname vmap @tw_map\n\t\taccept\n\t}');
  });
});

describe('the inventory', () => {
  const yaml = `
cluster: { name: lab, podCidr: 198.19.0.0/16 }
nodes:
  - name: node1
    address: 198.18.60.1
    podCidr: 198.19.1.0/24
    workloads:
      - { name: db, ip: 198.19.1.3, labels: { role: db } }
policies:
  - name: db
    selector: role == 'db'
    ingress:
      - { action: Allow, protocol: TCP, source: { selector: "role == 'api'" }, destination: { ports: [5432] } }
`;
  test('labels and policies load', () => {
    const c = parseInventory(yaml, '/inv/cluster.yaml');
    expect(c.nodes[0].workloads[0].labels).toEqual({ role: 'db' });
    expect(c.policies).toEqual([
      {
        name: 'db',
        selector: "role == 'db'",
        ingress: [
          { action: 'Allow', protocol: 'TCP', source: { selector: "role == 'api'" }, destination: { ports: [5432] } },
        ],
      },
    ]);
    expect(parseInventory(yaml.replace(/policies:[\s\S]*/, ''), '/inv/cluster.yaml').policies).toBeUndefined();
  });

  test('bad policies and labels are refused, naming policy, rule and field', () => {
    const bad = (text: string) => {
      try {
        parseInventory(text, '/inv/cluster.yaml');
      } catch (err) {
        return (err as ClusterValidationError).problems;
      }
      throw new Error('accepted');
    };
    expect(bad(yaml.replace('protocol: TCP', 'protocol: TPC'))).toEqual([
      'policy "db": ingress[0].protocol: unknown protocol "TPC" (TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite, or a number 1..255)',
    ]);
    expect(bad(yaml.replace('labels: { role: db }', 'labels: { role: [db] }'))).toEqual([
      'nodes[0].workloads[0].labels.role: expected a string, found a list',
    ]);
    expect(bad(yaml.replace('labels: { role: db }', 'labels: [db]'))).toEqual([
      'nodes[0].workloads[0].labels: expected a mapping of names to strings, found a list',
    ]);
    expect(bad(yaml.replace('labels: { role: db }', 'labels: { role: "a b" }'))).toEqual([
      'node "node1" workload "db".labels: "a b" is not a label value (letters, digits, "-", "_", "."; starts and ends with a letter or digit; at most 63)',
    ]);
    expect(bad(yaml.replace("selector: role == 'db'", "selector: role == 'db' &&"))).toEqual([
      `policy "db": selector: selector "role == 'db' &&" does not parse: expected a label expression at position 15`,
    ]);
  });
});
