/**
 * Policy input checks (constructs/policy-validation.ts) at the edges policy.test.ts does not
 * reach: every bound (names of 63, ports 0 and 65535, protocols 1 and 255, ICMP 254/255), every
 * wrong type with how it is described, label keys with prefixes, and which protocols may have
 * ports. Each case names the exact message an operator reads.
 */
import {
  clusterPolicyProblems,
  labelKeyProblem,
  labelProblems,
  labelValueProblem,
  policyNameProblem,
  policyProblems,
} from '../../constructs/policy-validation';

/** The problems of one policy named "p" holding one ingress rule. */
const ruleProblems = (rule: unknown) => policyProblems([{ name: 'p', ingress: [rule] }]);

describe('names and labels', () => {
  test('policy names: lower case, digits, "-" and "." inside, 1 to 63 characters', () => {
    for (const good of ['a', '0', 'a-b.c', 'a'.repeat(63), `a${'-'.repeat(61)}b`])
      expect(policyNameProblem(good)).toBeNull();
    for (const bad of ['', 'A', '-a', 'a-', '.a', 'a.', 'a_b', 'a b', 'a'.repeat(64), 'a\nb'])
      expect([bad, policyNameProblem(bad)]).toEqual([
        bad,
        `"${bad}" is not a policy name (lower-case letters, digits, "-", "."; starts and ends with a letter or digit; at most 63)`,
      ]);
    expect(policyNameProblem(5)).toBe('expected a string, found number 5');
    expect(policyNameProblem(null)).toBe('expected a string, found null');
    expect(policyNameProblem(['a'])).toBe('expected a string, found a list');
    expect(policyNameProblem({ a: 1 })).toBe('expected a string, found a mapping');
    expect(policyNameProblem(true)).toBe('expected a string, found boolean true');
  });

  test('label keys: [DNS prefix/]name', () => {
    for (const good of ['a', 'A_b-c.d', 'example.com/a', 'a-b.c-d/x', `${'a'.repeat(253)}/x`, 'a'.repeat(63)])
      expect([good, labelKeyProblem(good)]).toEqual([good, null]);
    for (const bad of ['Example.com/a', '/a', '-a.com/a', 'a..b/a', 'a./a', `${'a'.repeat(254)}/x`])
      expect([bad, labelKeyProblem(bad)]).toEqual([bad, `label key "${bad}": the prefix is not a DNS subdomain`]);
    for (const bad of ['a.com/', 'a.com/-x', '', '_a', 'a_', 'a'.repeat(64), 'a.com/c!'])
      expect([bad, labelKeyProblem(bad)]).toEqual([
        bad,
        `label key "${bad}" is not valid (letters, digits, "-", "_", "."; starts and ends with a letter or digit; at most 63)`,
      ]);
  });

  test('label values: empty, or like a label name', () => {
    for (const good of ['', 'a', 'A-b_c.9', 'a'.repeat(63)]) expect(labelValueProblem(good)).toBeNull();
    for (const bad of ['-a', 'a ', 'a'.repeat(64), 'a/b'])
      expect([bad, labelValueProblem(bad)]).toEqual([
        bad,
        `"${bad}" is not a label value (letters, digits, "-", "_", "."; starts and ends with a letter or digit; at most 63)`,
      ]);
    expect(labelValueProblem(1)).toBe('expected a string, found number 1');
  });

  test('labels: absent is fine; anything but a mapping is refused; each entry reported once', () => {
    expect(labelProblems(undefined, 'w')).toEqual([]);
    expect(labelProblems({}, 'w')).toEqual([]);
    expect(labelProblems(null, 'w')).toEqual(['w.labels: expected a mapping, found null']);
    expect(labelProblems('a=b', 'w')).toEqual(['w.labels: expected a mapping, found string "a=b"']);
    expect(labelProblems({ '-k': 'bad value', k: 5 }, 'w')).toEqual([
      'w.labels: label key "-k" is not valid (letters, digits, "-", "_", "."; starts and ends with a letter or digit; at most 63)',
      'w.labels: expected a string, found number 5',
    ]);
    expect(
      clusterPolicyProblems({
        nodes: [
          { name: 'n1', workloads: [{ name: 'a' }, { name: 'b', labels: { k: '-' } }] },
          { name: 'n2', workloads: [{ name: 'c', labels: 5 }] },
        ],
        policies: [{ name: 'p', order: 'x' }],
      }),
    ).toEqual([
      'node "n1" workload "b".labels: "-" is not a label value (letters, digits, "-", "_", "."; starts and ends with a letter or digit; at most 63)',
      'node "n2" workload "c".labels: expected a mapping, found number 5',
      'policy "p": order: expected a number, found string "x"',
    ]);
    expect(clusterPolicyProblems({ nodes: [] })).toEqual([]);
  });
});

describe('policies', () => {
  test('each policy must be a mapping; names are checked before they name the policy', () => {
    expect(policyProblems([null, 5, []])).toEqual([
      'policies[0]: expected a mapping, found null',
      'policies[1]: expected a mapping, found number 5',
      'policies[2]: expected a mapping, found a list',
    ]);
    expect(policyProblems([{ name: 7, selector: 5 }])).toEqual([
      'policies[0]: name: expected a string, found number 7',
      'policies[0]: selector: expected a selector string, found number 5',
    ]);
    expect(policyProblems('p')).toEqual(['policies: expected a list, found string "p"']);
    // Two unnamed or badly named policies are not "the same name".
    expect(policyProblems([{}, {}])).toEqual(['policies[0]: name: required', 'policies[1]: name: required']);
    expect(policyProblems([{ name: 'a' }, { name: 'b' }, { name: 'a' }, { name: 'a' }])).toEqual([
      'policy "a": the name is used by another policy',
      'policy "a": the name is used by another policy',
    ]);
  });

  test('order: any finite number', () => {
    for (const order of [0, -1, 2.5, 1e9]) expect(policyProblems([{ name: 'p', order }])).toEqual([]);
    for (const [order, said] of [
      [null, 'null'],
      ['1', 'string "1"'],
    ] as const)
      expect(policyProblems([{ name: 'p', order }])).toEqual([`policy "p": order: expected a number, found ${said}`]);
    // Not finite: refused, and said as written (YAML's .inf and .nan), not as JSON's "null".
    for (const [order, said] of [
      [Infinity, 'Infinity'],
      [-Infinity, '-Infinity'],
      [NaN, 'NaN'],
    ] as const)
      expect(policyProblems([{ name: 'p', order }])).toEqual([
        `policy "p": order: expected a number, found number ${said}`,
      ]);
  });

  test('selector and types', () => {
    expect(policyProblems([{ name: 'p', selector: '' }])).toEqual([]);
    expect(policyProblems([{ name: 'p', types: 'Ingress' }])).toEqual([
      'policy "p": types: expected a list (Ingress, Egress), found string "Ingress"',
    ]);
    expect(policyProblems([{ name: 'p', types: [], ingress: [], egress: [] }])).toEqual([]);
    expect(
      policyProblems([{ name: 'p', types: ['Egress', 'ingress', 'Egress'], ingress: [{ action: 'Allow' }] }]),
    ).toEqual([
      'policy "p": types[1]: "ingress" is not Ingress or Egress',
      'policy "p": types[2]: Egress is listed twice',
      'policy "p": ingress: rules given, but types does not include Ingress, so they would never apply',
    ]);
    expect(
      policyProblems([
        { name: 'p', types: ['Ingress', 'Egress'], ingress: [{ action: 'Allow' }], egress: [{ action: 'Deny' }] },
      ]),
    ).toEqual([]);
    expect(policyProblems([{ name: 'p', egress: 'all' }])).toEqual([
      'policy "p": egress: expected a list of rules, found string "all"',
    ]);
  });
});

describe('rules', () => {
  test('actions', () => {
    for (const action of ['Allow', 'Deny', 'Log']) expect(ruleProblems({ action })).toEqual([]);
    expect(ruleProblems({ action: 5 })).toEqual(['policy "p": ingress[0].action: unknown action 5 (Allow, Deny, Log)']);
    expect(ruleProblems({ action: 'allow' })).toEqual([
      'policy "p": ingress[0].action: unknown action "allow" (Allow, Deny, Log)',
    ]);
    expect(ruleProblems({ action: 'Allow', then: 1 })).toEqual([
      'policy "p": ingress[0]: unknown key "then" (known: action, ipVersion, protocol, notProtocol, icmp, notICMP, source, destination)',
    ]);
    expect(ruleProblems(null)).toEqual(['policy "p": ingress[0]: expected a mapping, found null']);
  });

  test('protocols: the names as Calico spells them, or 1..255', () => {
    for (const protocol of ['TCP', 'UDP', 'ICMP', 'SCTP', 'UDPLite', 1, 255])
      expect([protocol, ruleProblems({ action: 'Allow', protocol })]).toEqual([protocol, []]);
    expect(ruleProblems({ action: 'Allow', protocol: 'tcp', notProtocol: 0 })).toEqual([
      'policy "p": ingress[0].protocol: unknown protocol "tcp" (TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite, or a number 1..255)',
      'policy "p": ingress[0].notProtocol: 0 is not a protocol number (1..255)',
    ]);
    expect(ruleProblems({ action: 'Allow', protocol: 256, notProtocol: 6.5 })).toEqual([
      'policy "p": ingress[0].protocol: 256 is not a protocol number (1..255)',
      'policy "p": ingress[0].notProtocol: 6.5 is not a protocol number (1..255)',
    ]);
    expect(ruleProblems({ action: 'Allow', protocol: ['TCP'] })).toEqual([
      'policy "p": ingress[0].protocol: expected a protocol name or number, found a list',
    ]);
  });

  test('ports: only with TCP, UDP or SCTP (by name or number); a bad protocol is reported once', () => {
    for (const protocol of ['TCP', 'UDP', 'SCTP', 6, 17, 132])
      expect([protocol, ruleProblems({ action: 'Allow', protocol, destination: { ports: [80] } })]).toEqual([
        protocol,
        [],
      ]);
    for (const protocol of ['ICMP', 'UDPLite', 1, 47])
      expect([protocol, ruleProblems({ action: 'Allow', protocol, source: { notPorts: [80] } })]).toEqual([
        protocol,
        ['policy "p": ingress[0].source.notPorts: ports need protocol TCP, UDP or SCTP'],
      ]);
    expect(ruleProblems({ action: 'Allow', protocol: 'TPC', destination: { ports: [80] } })).toEqual([
      'policy "p": ingress[0].protocol: unknown protocol "TPC" (TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite, or a number 1..255)',
    ]);
    expect(ruleProblems({ action: 'Allow', protocol: 300, destination: { ports: ['1:2x'] } })).toEqual([
      'policy "p": ingress[0].protocol: 300 is not a protocol number (1..255)',
      'policy "p": ingress[0].destination.ports[0]: "1:2x" is not a port or from:to range (named ports are not supported)',
    ]);
    // notProtocol is no protocol: ports still need one.
    expect(ruleProblems({ action: 'Allow', notProtocol: 'TCP', destination: { ports: [80] } })).toEqual([
      'policy "p": ingress[0].destination.ports: ports need protocol TCP, UDP or SCTP',
    ]);
  });

  test('port bounds and spellings', () => {
    const ports = (list: unknown) => ruleProblems({ action: 'Allow', protocol: 'TCP', destination: { ports: list } });
    expect(ports([0, 65535, '0:65535', '80:80', '1:2'])).toEqual([]);
    expect(ports([-1, 65536, 1.5, '65536:65536', '2:1', '1:65536', '1:', ':1', '123456:1', true])).toEqual([
      'policy "p": ingress[0].destination.ports[0]: -1 is not a port (0..65535)',
      'policy "p": ingress[0].destination.ports[1]: 65536 is not a port (0..65535)',
      'policy "p": ingress[0].destination.ports[2]: 1.5 is not a port (0..65535)',
      'policy "p": ingress[0].destination.ports[3]: "65536:65536" is not a port range (from:to, 0 <= from <= to <= 65535)',
      'policy "p": ingress[0].destination.ports[4]: "2:1" is not a port range (from:to, 0 <= from <= to <= 65535)',
      'policy "p": ingress[0].destination.ports[5]: "1:65536" is not a port range (from:to, 0 <= from <= to <= 65535)',
      'policy "p": ingress[0].destination.ports[6]: "1:" is not a port or from:to range (named ports are not supported)',
      'policy "p": ingress[0].destination.ports[7]: ":1" is not a port or from:to range (named ports are not supported)',
      'policy "p": ingress[0].destination.ports[8]: "123456:1" is not a port or from:to range (named ports are not supported)',
      'policy "p": ingress[0].destination.ports[9]: expected a port number or "from:to", found boolean true',
    ]);
    expect(ports(80)).toEqual(['policy "p": ingress[0].destination.ports: expected a list of ports, found number 80']);
  });

  test('ICMP type 0..254 and code 0..255, integers only; code needs type', () => {
    const icmp = (value: unknown) => ruleProblems({ action: 'Allow', protocol: 'ICMP', icmp: value });
    expect(icmp({ type: 0, code: 0 })).toEqual([]);
    expect(icmp({ type: 254, code: 255 })).toEqual([]);
    expect(icmp({})).toEqual([]);
    expect(icmp({ type: 1.5, code: 256 })).toEqual([
      'policy "p": ingress[0].icmp.type: 1.5 is not an ICMP type (0..254)',
      'policy "p": ingress[0].icmp.code: 256 is not an ICMP code (0..255)',
    ]);
    expect(icmp({ type: -1, code: '3' })).toEqual([
      'policy "p": ingress[0].icmp.type: -1 is not an ICMP type (0..254)',
      'policy "p": ingress[0].icmp.code: "3" is not an ICMP code (0..255)',
    ]);
    expect(icmp({ type: 8, kind: 1 })).toEqual(['policy "p": ingress[0].icmp: unknown key "kind" (known: type, code)']);
    expect(icmp(8)).toEqual(['policy "p": ingress[0].icmp: expected a mapping, found number 8']);
    expect(ruleProblems({ action: 'Allow', protocol: 1, icmp: { type: 8 } })).toEqual([]);
    expect(ruleProblems({ action: 'Allow', icmp: { type: 8 } })).toEqual([
      'policy "p": ingress[0].icmp: needs protocol ICMP or ICMPv6',
    ]);
  });

  test('source and destination: a mapping of known keys; nets are CIDRs, selectors parse', () => {
    expect(ruleProblems({ action: 'Allow', source: [] })).toEqual([
      'policy "p": ingress[0].source: expected a mapping, found a list',
    ]);
    expect(
      ruleProblems({
        action: 'Allow',
        destination: { nets: '198.19.0.0/16', notNets: [5, '198.19.0.0/16'], selector: 5, notSelector: 'has(' },
      }),
    ).toEqual([
      'policy "p": ingress[0].destination.nets: expected a list of CIDRs, found string "198.19.0.0/16"',
      'policy "p": ingress[0].destination.notNets[0]: expected a CIDR, found number 5',
      'policy "p": ingress[0].destination.selector: expected a selector string, found number 5',
      'policy "p": ingress[0].destination.notSelector: selector "has(" does not parse: expected a label name at position 4',
    ]);
    expect(
      ruleProblems({ action: 'Allow', source: { nets: ['198.19.0.0/16'], selector: "a == 'b'", notSelector: '' } }),
    ).toEqual([]);
  });
});
