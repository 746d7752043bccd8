/**
 * The compiled policy model and its verdicts (constructs/policy-compile.ts) at the edges
 * policy.test.ts and policy-ipv6.test.ts do not reach: empty lists and absent fields (the compiled
 * rule carries exactly what was given), every bound of a port range, each field of a rule on its
 * own, ICMP type and code, Log on the way, later policies, both ends of the path, addresses in
 * numeric order per family, and one compilation per spec.
 */
import { ClusterSpec } from '../../constructs/model';
import { PolicyRule, PolicySpec } from '../../constructs/policy-model';
import {
  compiledPolicyModel,
  compilePolicyModel,
  decide,
  endpointAddresses,
  endpointByIp,
  ipVersionOf,
  Packet,
  packetVerdict,
  PolicyEndpoint,
  PolicyModel,
  ruleIpVersions,
} from '../../constructs/policy-compile';
import { threeTier } from './policy-fixture';

const FRONT = '198.19.1.2';
const DB = '198.19.1.3';
const API = '198.19.2.2';
const OTHER = '198.19.2.3';

/** The three-tier cluster with one policy "p" selecting db, with these ingress rules. */
function dbModel(ingress: PolicyRule[], more: PolicySpec[] = []): PolicyModel {
  return compilePolicyModel(
    threeTier({ policies: [{ name: 'p', order: 1, selector: "role == 'db'", ingress }, ...more] }),
  )!;
}

/** What db's ingress makes of a packet (TCP from api unless told): "Allow@p[0]", "Deny:default-deny", … */
function dbVerdict(model: PolicyModel, packet: Partial<Packet> = {}): string {
  const db = endpointByIp(model, DB)!;
  const step = decide(model, db, 'ingress', { src: API, dst: DB, protocol: 6, ...packet });
  return step.decidedBy.kind === 'rule'
    ? `${step.action}@${step.decidedBy.policy}[${step.decidedBy.rule}]`
    : `${step.action}:${step.decidedBy.kind}`;
}

// The compiled model is read in process (explain, verify, the rulesets), and every reader tests
// a field with `!== undefined`: a key present with the value undefined is the same as no key, so
// these tests compare with toEqual, which does not tell them apart either.
describe('the compiled rule carries what was given', () => {
  test('empty lists and absent fields leave no key; a rule with only empty lists matches everything', () => {
    const model = dbModel([
      {
        action: 'Allow',
        source: { nets: [], notNets: [], ports: [], notPorts: [] },
        destination: { nets: [], notNets: [], ports: [], notPorts: [] },
      },
    ]);
    expect(model.policies[0].ingress).toEqual([{ index: 0, action: 'Allow', source: {}, destination: {} }]);
    expect(dbVerdict(model, { port: 5432 })).toBe('Allow@p[0]');
    expect(dbVerdict(model, { protocol: 1, icmpType: 8, icmpCode: 0 })).toBe('Allow@p[0]');
  });

  test('every field given is compiled: protocols as numbers, ports as ranges, selectors canonical', () => {
    const model = dbModel([
      {
        action: 'Deny',
        ipVersion: 4,
        protocol: 'UDP',
        notProtocol: 'TCP',
        source: { nets: ['198.19.2.0/24'], notNets: ['198.19.2.3/32'], selector: 'has(role)', ports: [53] },
        destination: { notSelector: "role=='x'", ports: ['1000:2000', 7], notPorts: ['1500:1600'] },
      },
      { action: 'Allow', protocol: 'ICMP', icmp: { type: 8 }, notICMP: { type: 8, code: 1 } },
      { action: 'Allow', protocol: 'ICMP', icmp: { type: 3, code: 4 } },
    ]);
    expect(model.policies[0].ingress).toEqual([
      {
        index: 0,
        action: 'Deny',
        ipVersion: 4,
        protocol: 17,
        notProtocol: 6,
        source: {
          nets: ['198.19.2.0/24'],
          notNets: ['198.19.2.3/32'],
          selector: 'has(role)',
          ports: [{ from: 53, to: 53 }],
        },
        destination: {
          notSelector: "role == 'x'",
          ports: [
            { from: 1000, to: 2000 },
            { from: 7, to: 7 },
          ],
          notPorts: [{ from: 1500, to: 1600 }],
        },
      },
      {
        index: 1,
        action: 'Allow',
        protocol: 1,
        icmp: { type: 8 },
        notICMP: { type: 8, code: 1 },
        source: {},
        destination: {},
      },
      { index: 2, action: 'Allow', protocol: 1, icmp: { type: 3, code: 4 }, source: {}, destination: {} },
    ]);
  });

  test('icmp and notICMP without a type are nothing to match on, and leave no key', () => {
    const model = dbModel([{ action: 'Allow', protocol: 'ICMP', icmp: {}, notICMP: {} }]);
    expect(model.policies[0].ingress).toEqual([
      { index: 0, action: 'Allow', protocol: 1, source: {}, destination: {} },
    ]);
    expect(dbVerdict(model, { protocol: 1, icmpType: 0, icmpCode: 0 })).toBe('Allow@p[0]');
  });

  test("a policy without selector, order or rules: all(), no order key, Calico's default type", () => {
    const model = compilePolicyModel(threeTier({ policies: [{ name: 'bare' }] }))!;
    expect(model.policies).toEqual([{ name: 'bare', selector: 'all()', types: ['Ingress'], ingress: [], egress: [] }]);
    expect(model.selectors).toStrictEqual({});
    // Selected for ingress with no rule: everything to every workload is dropped; egress is open.
    expect(packetVerdict(model, { src: FRONT, dst: API, protocol: 6, port: 1 })).toMatchObject({
      action: 'Deny',
      steps: [{ decidedBy: { kind: 'no-policy' } }, { decidedBy: { kind: 'default-deny' } }],
    });
    const zero = compilePolicyModel(threeTier({ policies: [{ name: 'z', order: 0, selector: ' ' }] }))!;
    expect(zero.policies[0]).toEqual({
      name: 'z',
      order: 0,
      selector: 'all()',
      types: ['Ingress'],
      ingress: [],
      egress: [],
    });
  });

  test('rule selectors are the keys of the selector table, once each however spelled; policy selectors are not', () => {
    const model = dbModel([
      { action: 'Allow', source: { selector: "role == 'api'" } },
      { action: 'Allow', source: { notSelector: 'role=="api"' }, destination: { selector: 'has(role)' } },
      { action: 'Allow', destination: { notSelector: '!has(role)' } },
    ]);
    expect(model.selectors).toStrictEqual({
      "role == 'api'": [API],
      'has(role)': [FRONT, DB, API],
      '!has(role)': [OTHER],
    });
  });
});

describe('endpoints', () => {
  const cluster = (workloads: ClusterSpec['nodes'][0]['workloads']): ClusterSpec => ({
    name: 'lab',
    podCidr: '198.19.0.0/16',
    podCidrV6: 'fd00:198:19::/48',
    peers: [],
    nodes: [{ name: 'n1', address: '198.18.60.1', podCidr: '198.19.1.0/24', workloads }],
    policies: [{ name: 'p', ingress: [{ action: 'Allow', source: { selector: "app == 'x'" } }] }],
  });

  test('each workload with an address is one endpoint carrying what it has; one without is none', () => {
    const model = compilePolicyModel(
      cluster([
        { name: 'v4', ip: '198.19.1.2', labels: { app: 'x' } },
        { name: 'dual', ip: '198.19.1.3', ipv6: 'fd00:198:19:1::3' },
        { name: 'v6', ipv6: 'fd00:198:19:1::4', labels: { app: 'y' } },
        { name: 'none' },
      ]),
    )!;
    expect(model.endpoints.map(({ iface: _, ...e }) => e)).toEqual([
      { node: 'n1', workload: 'v4', ip: '198.19.1.2', labels: { app: 'x' } },
      { node: 'n1', workload: 'dual', ip: '198.19.1.3', ipv6: 'fd00:198:19:1::3', labels: {} },
      { node: 'n1', workload: 'v6', ip: 'fd00:198:19:1::4', ipv6: 'fd00:198:19:1::4', labels: { app: 'y' } },
    ]);
    expect(Object.keys(model.applied)).toEqual(['n1/v4', 'n1/dual', 'n1/v6']);
    expect(model.endpoints.map(endpointAddresses)).toEqual([
      ['198.19.1.2'],
      ['198.19.1.3', 'fd00:198:19:1::3'],
      ['fd00:198:19:1::4'],
    ]);
    expect(endpointByIp(model, 'fd00:198:19:1::3')?.workload).toBe('dual');
    expect(endpointByIp(model, '198.19.1.3')?.workload).toBe('dual');
    expect(endpointByIp(model, 'fd00:198:19:1::4')?.workload).toBe('v6');
    expect(endpointByIp(model, '198.19.1.9')).toBeUndefined();
  });

  test("a selector's addresses: IPv4 in numeric order, then IPv6 in numeric order, whatever the workload order", () => {
    const workloads = [
      { name: 'a', ip: '198.19.1.10', ipv6: 'fd00:198:19:1::10', labels: { app: 'x' } },
      { name: 'b', ipv6: 'fd00:198:19:1::a', labels: { app: 'x' } },
      { name: 'c', ip: '198.19.1.9', ipv6: 'fd00:198:19:1::9', labels: { app: 'x' } },
      { name: 'd', ip: '198.19.1.100', labels: { app: 'x' } },
      { name: 'e', ip: '198.19.1.11', labels: { app: 'y' } },
    ];
    const sorted = [
      '198.19.1.9',
      '198.19.1.10',
      '198.19.1.100',
      'fd00:198:19:1::9',
      'fd00:198:19:1::a',
      'fd00:198:19:1::10',
    ];
    expect(compilePolicyModel(cluster(workloads))!.selectors["app == 'x'"]).toEqual(sorted);
    expect(compilePolicyModel(cluster([...workloads].reverse()))!.selectors["app == 'x'"]).toEqual(sorted);
    expect([ipVersionOf('198.19.1.9'), ipVersionOf('fd00:198:19:1::9')]).toEqual([4, 6]);
  });

  test('applied: per direction, in policy order, only the policies whose selector matches', () => {
    const model = compilePolicyModel(
      threeTier({
        policies: [
          { name: 'late', selector: 'has(role)', types: ['Ingress', 'Egress'] },
          { name: 'early', order: 5, selector: "role in {'db', 'api'}", types: ['Egress'] },
          { name: 'first', order: 1, selector: "role == 'db'", types: ['Ingress'] },
        ],
      }),
    )!;
    expect(model.policies.map((p) => p.name)).toEqual(['first', 'early', 'late']);
    expect(model.applied).toStrictEqual({
      'node1/front': { ingress: ['late'], egress: ['late'] },
      'node1/db': { ingress: ['first', 'late'], egress: ['early', 'late'] },
      'node2/api': { ingress: ['late'], egress: ['early', 'late'] },
      'node2/other': { ingress: [], egress: [] },
    });
  });
});

describe('what a rule matches', () => {
  test('destination port ranges include both bounds and nothing beyond', () => {
    const model = dbModel([{ action: 'Allow', protocol: 'TCP', destination: { ports: ['5000:5010', 80] } }]);
    const at = (port: number) => dbVerdict(model, { port });
    expect([at(4999), at(5000), at(5005), at(5010), at(5011), at(79), at(80), at(81)]).toEqual([
      'Deny:default-deny',
      'Allow@p[0]',
      'Allow@p[0]',
      'Allow@p[0]',
      'Deny:default-deny',
      'Deny:default-deny',
      'Allow@p[0]',
      'Deny:default-deny',
    ]);
    // No port (ICMP) is in no range.
    expect(dbVerdict(model, { protocol: 6, port: undefined })).toBe('Deny:default-deny');
  });

  test('notPorts exclude both bounds and nothing beyond; a packet without a port is in none', () => {
    const model = dbModel([{ action: 'Allow', protocol: 'TCP', destination: { notPorts: ['5000:5010'] } }]);
    const at = (port: number | undefined) => dbVerdict(model, { port });
    expect([at(4999), at(5000), at(5010), at(5011), at(undefined)]).toEqual([
      'Allow@p[0]',
      'Deny:default-deny',
      'Deny:default-deny',
      'Allow@p[0]',
      'Allow@p[0]',
    ]);
  });

  test('source ports look at the source port; an unknown (ephemeral) one is in no list', () => {
    const model = dbModel([{ action: 'Allow', protocol: 'UDP', source: { ports: [53] } }]);
    expect(dbVerdict(model, { protocol: 17, port: 53, sourcePort: 53 })).toBe('Allow@p[0]');
    expect(dbVerdict(model, { protocol: 17, port: 53 })).toBe('Deny:default-deny');
    expect(dbVerdict(model, { protocol: 17, port: 53, sourcePort: 54 })).toBe('Deny:default-deny');
  });

  test('nets, notNets, selector and notSelector on each end, one at a time', () => {
    const cases: [PolicyRule, string[]][] = [
      [{ action: 'Allow', source: { nets: ['198.19.2.0/24'] } }, [API, OTHER]],
      [{ action: 'Allow', source: { notNets: ['198.19.2.0/24'] } }, [FRONT]],
      [{ action: 'Allow', source: { selector: "role == 'api'" } }, [API]],
      [{ action: 'Allow', source: { notSelector: "role == 'api'" } }, [FRONT, OTHER]],
      [{ action: 'Allow', source: { nets: ['fd00:198:19::/48'] } }, []],
      [{ action: 'Allow', source: { nets: ['198.19.1.0/24', '198.19.2.0/24'] } }, [FRONT, API, OTHER]],
      [{ action: 'Allow', destination: { nets: ['198.19.1.3/32'] } }, [FRONT, API, OTHER]],
      [{ action: 'Allow', destination: { notNets: ['198.19.1.0/24'] } }, []],
      [{ action: 'Allow', destination: { selector: "role == 'db'" } }, [FRONT, API, OTHER]],
      [{ action: 'Allow', destination: { notSelector: "role == 'db'" } }, []],
    ];
    for (const [rule, allowed] of cases) {
      const model = dbModel([rule]);
      const from = [FRONT, API, OTHER].filter((src) => dbVerdict(model, { src, port: 1 }) === 'Allow@p[0]');
      expect([rule, from]).toEqual([rule, allowed]);
    }
  });

  test('protocol and notProtocol', () => {
    const tcp = dbModel([{ action: 'Allow', protocol: 'TCP' }]);
    expect([dbVerdict(tcp, { protocol: 6 }), dbVerdict(tcp, { protocol: 17 })]).toEqual([
      'Allow@p[0]',
      'Deny:default-deny',
    ]);
    const notTcp = dbModel([{ action: 'Allow', notProtocol: 'TCP' }]);
    expect([dbVerdict(notTcp, { protocol: 6 }), dbVerdict(notTcp, { protocol: 17 })]).toEqual([
      'Deny:default-deny',
      'Allow@p[0]',
    ]);
  });

  test('icmp: the type alone takes any code; type and code take only that pair', () => {
    const model = dbModel([
      { action: 'Allow', protocol: 'ICMP', icmp: { type: 3, code: 4 } },
      { action: 'Deny', protocol: 'ICMP', icmp: { type: 8 } },
    ]);
    const icmp = (icmpType: number, icmpCode: number) => dbVerdict(model, { protocol: 1, icmpType, icmpCode });
    expect([icmp(3, 4), icmp(3, 3), icmp(4, 4), icmp(8, 0), icmp(8, 9), icmp(0, 0)]).toEqual([
      'Allow@p[0]',
      'Deny:default-deny',
      'Deny:default-deny',
      'Deny@p[1]',
      'Deny@p[1]',
      'Deny:default-deny',
    ]);
  });

  test('notICMP: the type alone excludes every code of it; type and code exclude only that pair', () => {
    const model = dbModel([
      { action: 'Deny', protocol: 'ICMP', notICMP: { type: 8 } },
      { action: 'Allow', protocol: 'ICMP', notICMP: { type: 8, code: 0 } },
    ]);
    const icmp = (icmpType: number, icmpCode: number) => dbVerdict(model, { protocol: 1, icmpType, icmpCode });
    expect([icmp(0, 0), icmp(8, 0), icmp(8, 1)]).toEqual(['Deny@p[0]', 'Deny:default-deny', 'Allow@p[1]']);
  });

  test('ipVersion, and the family of ICMP, choose the packets a rule can match', () => {
    expect(ruleIpVersions({ ipVersion: 6, protocol: 1 })).toEqual([6]);
    expect(ruleIpVersions({ ipVersion: 4 })).toEqual([4]);
    expect(ruleIpVersions({ protocol: 1 })).toEqual([4]);
    expect(ruleIpVersions({ protocol: 58 })).toEqual([6]);
    expect(ruleIpVersions({ protocol: 6 })).toEqual([4, 6]);
    expect(ruleIpVersions({})).toEqual([4, 6]);
    const six = dbModel([
      { action: 'Allow', ipVersion: 6 },
      { action: 'Deny', protocol: 'ICMPv6' },
    ]);
    expect(dbVerdict(six, { port: 1 })).toBe('Deny:default-deny');
    expect(dbVerdict(six, { protocol: 58, icmpType: 128 })).toBe('Deny:default-deny');
  });
});

describe('deciding', () => {
  test('Log rules log and go on, in order, across policies; the first Allow or Deny decides', () => {
    const model = dbModel(
      [{ action: 'Log', protocol: 'UDP' }, { action: 'Log' }, { action: 'Deny', protocol: 'UDP' }],
      [
        {
          name: 'q',
          order: 2,
          selector: "role == 'db'",
          ingress: [{ action: 'Log', protocol: 'TCP' }, { action: 'Allow', protocol: 'TCP' }, { action: 'Deny' }],
        },
      ],
    );
    const db = endpointByIp(model, DB)!;
    expect(decide(model, db, 'ingress', { src: API, dst: DB, protocol: 6, port: 1 })).toStrictEqual({
      direction: 'ingress',
      endpoint: 'node1/db',
      policies: ['p', 'q'],
      action: 'Allow',
      decidedBy: { kind: 'rule', policy: 'q', rule: 1 },
      logged: ['p/ingress[1]', 'q/ingress[0]'],
    });
    expect(decide(model, db, 'ingress', { src: API, dst: DB, protocol: 17, port: 1 })).toMatchObject({
      action: 'Deny',
      decidedBy: { kind: 'rule', policy: 'p', rule: 2 },
      logged: ['p/ingress[0]', 'p/ingress[1]'],
    });
    expect(decide(model, db, 'ingress', { src: API, dst: DB, protocol: 1, icmpType: 8 })).toMatchObject({
      action: 'Deny',
      decidedBy: { kind: 'rule', policy: 'q', rule: 2 },
      logged: ['p/ingress[1]'],
    });
  });

  test('only Log rules matching: the default drop, with what they logged', () => {
    const model = dbModel([{ action: 'Log' }]);
    const db = endpointByIp(model, DB)!;
    expect(decide(model, db, 'ingress', { src: API, dst: DB, protocol: 6, port: 1 })).toStrictEqual({
      direction: 'ingress',
      endpoint: 'node1/db',
      policies: ['p'],
      action: 'Deny',
      decidedBy: { kind: 'default-deny' },
      logged: ['p/ingress[0]'],
    });
  });

  test('egress rules decide egress, ingress rules ingress', () => {
    const model = compilePolicyModel(
      threeTier({
        policies: [
          {
            name: 'both',
            selector: "role == 'db'",
            ingress: [{ action: 'Deny', protocol: 'UDP' }, { action: 'Allow' }],
            egress: [{ action: 'Deny', protocol: 'TCP' }, { action: 'Allow' }],
          },
        ],
      }),
    )!;
    const db = endpointByIp(model, DB)!;
    expect(decide(model, db, 'egress', { src: DB, dst: API, protocol: 6, port: 1 }).action).toBe('Deny');
    expect(decide(model, db, 'egress', { src: DB, dst: API, protocol: 17, port: 1 }).action).toBe('Allow');
    expect(decide(model, db, 'ingress', { src: API, dst: DB, protocol: 6, port: 1 }).action).toBe('Allow');
    expect(decide(model, db, 'ingress', { src: API, dst: DB, protocol: 17, port: 1 }).action).toBe('Deny');
  });

  test('an endpoint the model does not know is open', () => {
    const model = dbModel([]);
    const stranger: PolicyEndpoint = { node: 'node9', workload: 'x', ip: '198.19.9.2', iface: 'calix', labels: {} };
    expect(decide(model, stranger, 'ingress', { src: API, dst: '198.19.9.2', protocol: 6, port: 1 })).toStrictEqual({
      direction: 'ingress',
      endpoint: 'node9/x',
      policies: [],
      action: 'Allow',
      decidedBy: { kind: 'no-policy' },
      logged: [],
    });
  });
});

describe('the whole path', () => {
  const model = compilePolicyModel(
    threeTier({
      policies: [
        {
          name: 'api-out',
          selector: "role == 'api'",
          egress: [{ action: 'Deny', destination: { selector: "role == 'db'" } }, { action: 'Allow' }],
        },
        { name: 'db-in', selector: "role == 'db'", ingress: [{ action: 'Allow', protocol: 'TCP' }] },
      ],
    }),
  )!;

  test('denied on the way out: the destination is never asked', () => {
    expect(packetVerdict(model, { src: API, dst: DB, protocol: 6, port: 1 })).toStrictEqual({
      action: 'Deny',
      steps: [
        {
          direction: 'egress',
          endpoint: 'node2/api',
          policies: ['api-out'],
          action: 'Deny',
          decidedBy: { kind: 'rule', policy: 'api-out', rule: 0 },
          logged: [],
        },
      ],
    });
  });

  test('allowed out, then decided in', () => {
    const v = packetVerdict(model, { src: OTHER, dst: DB, protocol: 17, port: 1 });
    expect(v.action).toBe('Deny');
    expect(v.steps.map((s) => [s.direction, s.action])).toEqual([
      ['egress', 'Allow'],
      ['ingress', 'Deny'],
    ]);
    expect(packetVerdict(model, { src: OTHER, dst: DB, protocol: 6, port: 1 }).action).toBe('Allow');
  });

  test('from or to an address no workload has: only the workload end is asked', () => {
    expect(packetVerdict(model, { src: '198.18.60.9', dst: DB, protocol: 17, port: 1 })).toMatchObject({
      action: 'Deny',
      steps: [{ direction: 'ingress', endpoint: 'node1/db' }],
    });
    expect(packetVerdict(model, { src: API, dst: '198.18.60.9', protocol: 6, port: 1 })).toMatchObject({
      action: 'Allow',
      steps: [{ direction: 'egress', endpoint: 'node2/api' }],
    });
    expect(packetVerdict(model, { src: '198.18.60.8', dst: '198.18.60.9', protocol: 6, port: 1 })).toStrictEqual({
      action: 'Allow',
      steps: [],
    });
  });
});

describe('compiled once per spec', () => {
  test('the same spec object gives the same model object; another spec its own', () => {
    const spec = threeTier();
    const first = compiledPolicyModel(spec);
    expect(first).toBeDefined();
    expect(compiledPolicyModel(spec)).toBe(first);
    const other = compiledPolicyModel(threeTier());
    expect(other).not.toBe(first);
    expect(other).toEqual(first);
    expect(compiledPolicyModel(threeTier({ policies: [] }))).toBeUndefined();
    expect(compiledPolicyModel(threeTier({ policies: undefined }))).toBeUndefined();
  });
});
