/**
 * `calico-net verify`'s truth table on a dual-stack cluster, without hosts: IPv6 cells planned
 * beside the IPv4 ones (ICMPv6 echo for ICMP), their expected verdicts from the compiled model
 * (ipVersion, ICMPv6 rules, IPv6 nets), the prober lines they become, and the report's parts per
 * family; a cluster without IPv6 plans none and reads as before.
 */
import { createHash } from 'crypto';
import { compilePolicyModel, PolicyModel } from '../../constructs/policy-compile';
import { PolicySpec } from '../../constructs/policy-model';
import {
  Cell,
  expectedCells,
  observeCells,
  passDetailLines,
  policyVerify,
  proberLine,
  proberStats,
  probesOf,
  renderTruthTables,
  tableFamilies,
  truthTableEndpoints,
  truthTableJson,
} from '../../cli/policy-verify';
import { IPV4, IPV6 } from '../../rules/address-family';
import { RemoteHost, RemoteResult } from '../../providers/ssh/types';
import { dualStack } from '../constructs/policy-ipv6-fixture';
import { threeTier } from '../constructs/policy-fixture';

const model = compilePolicyModel(dualStack())!;
const withPolicies = (policies: PolicySpec[]) => compilePolicyModel(dualStack(policies))!;

/** The expected verdict of one cell, by source, destination, probe and family. */
function expectedOf(cells: Cell[], src: string, dst: string, probe: string, family: 'IPv4' | 'IPv6') {
  const c = cells.filter((x) => x.src === src && x.dst === dst && x.probe === probe && x.family === family);
  if (c.length !== 1) throw new Error(`${c.length} cells ${src}->${dst} ${probe} ${family}`);
  return c[0].expected;
}

describe('planning per family', () => {
  test('a dual-stack cluster has an IPv6 part: its rows are the workloads with an IPv6 address', () => {
    expect(tableFamilies(model)).toEqual([IPV4, IPV6]);
    expect(truthTableEndpoints(model).map((e) => e.workload)).toEqual(['front', 'bad', 'db']);
    expect(truthTableEndpoints(model, IPV6).map((e) => e.workload)).toEqual(['front', 'bad', 'db', 'six']);
  });

  test('IPv4 cells first, then IPv6 ones; every cell carries its family; ICMP is ICMPv6 over IPv6', () => {
    const cells = expectedCells(model, probesOf(model));
    // 3 IPv4 workloads (6 ordered pairs), 4 IPv6 ones (12), two probes each (ICMP, TCP/8080).
    expect(cells).toHaveLength(6 * 2 + 12 * 2);
    expect(cells.slice(0, 12).every((c) => c.family === 'IPv4')).toBe(true);
    expect(cells.slice(12).every((c) => c.family === 'IPv6')).toBe(true);
    expect(new Set(cells.slice(12).map((c) => c.probe))).toEqual(new Set(['ICMPv6', 'TCP/8080']));
    expect(new Set(cells.slice(0, 12).map((c) => c.probe))).toEqual(new Set(['ICMP', 'TCP/8080']));
    // The IPv6-only workload is a row of IPv6's part only.
    expect(cells.filter((c) => c.src === 'six' || c.dst === 'six').every((c) => c.family === 'IPv6')).toBe(true);
  });

  test('expected verdicts of the fixture: Deny from a selector in both families, six per its IPv6 rules', () => {
    const cells = expectedCells(model, probesOf(model));
    expect(expectedOf(cells, 'bad', 'db', 'TCP/8080', 'IPv4')).toBe('deny');
    expect(expectedOf(cells, 'bad', 'db', 'TCP/8080', 'IPv6')).toBe('deny');
    expect(expectedOf(cells, 'front', 'db', 'TCP/8080', 'IPv6')).toBe('allow');
    expect(expectedOf(cells, 'front', 'six', 'TCP/8080', 'IPv6')).toBe('allow');
    expect(expectedOf(cells, 'bad', 'six', 'TCP/8080', 'IPv6')).toBe('deny');
    // six allows ICMPv6 type 128 from anyone: the ICMPv6 cell is an echo request.
    expect(expectedOf(cells, 'bad', 'six', 'ICMPv6', 'IPv6')).toBe('allow');
    expect(expectedOf(cells, 'six', 'front', 'ICMPv6', 'IPv6')).toBe('allow');
  });

  test('an ipVersion: 6 rule allows the IPv6 cell only', () => {
    const m = withPolicies([
      {
        name: 'db6',
        selector: "role == 'db'",
        ingress: [{ action: 'Allow', ipVersion: 6, protocol: 'TCP', destination: { ports: [5432] } }],
      },
    ]);
    const cells = expectedCells(m, probesOf(m));
    expect(expectedOf(cells, 'front', 'db', 'TCP/5432', 'IPv6')).toBe('allow');
    expect(expectedOf(cells, 'front', 'db', 'TCP/5432', 'IPv4')).toBe('deny');
    expect(expectedOf(cells, 'front', 'db', 'ICMPv6', 'IPv6')).toBe('deny');
  });

  test('ICMPv6 type 128 is the echo the cell sends; an ICMP (IPv4) rule or ICMPv6 type 129 does not allow it', () => {
    const cellsOf = (rule: PolicySpec['ingress']) => {
      const m = withPolicies([{ name: 'db', selector: "role == 'db'", ingress: rule }]);
      return expectedCells(m, probesOf(m));
    };
    const echo6 = cellsOf([{ action: 'Allow', protocol: 'ICMPv6', icmp: { type: 128, code: 0 } }]);
    expect(expectedOf(echo6, 'front', 'db', 'ICMPv6', 'IPv6')).toBe('allow');
    expect(expectedOf(echo6, 'front', 'db', 'ICMP', 'IPv4')).toBe('deny');
    const reply6 = cellsOf([{ action: 'Allow', protocol: 'ICMPv6', icmp: { type: 129 } }]);
    expect(expectedOf(reply6, 'front', 'db', 'ICMPv6', 'IPv6')).toBe('deny');
    const echo4 = cellsOf([{ action: 'Allow', protocol: 'ICMP', icmp: { type: 8 } }]);
    expect(expectedOf(echo4, 'front', 'db', 'ICMP', 'IPv4')).toBe('allow');
    expect(expectedOf(echo4, 'front', 'db', 'ICMPv6', 'IPv6')).toBe('deny');
    const notEcho6 = cellsOf([{ action: 'Allow', protocol: 'ICMPv6', notICMP: { type: 128 } }]);
    expect(expectedOf(notEcho6, 'front', 'db', 'ICMPv6', 'IPv6')).toBe('deny');
  });

  test('a rule with IPv6 nets matches the IPv6 cells of those addresses only', () => {
    const m = withPolicies([
      {
        name: 'db',
        selector: "role == 'db'",
        ingress: [{ action: 'Allow', source: { nets: ['fd00:198:19:1::2/128'] } }],
      },
    ]);
    const cells = expectedCells(m, probesOf(m));
    expect(expectedOf(cells, 'front', 'db', 'ICMPv6', 'IPv6')).toBe('allow');
    expect(expectedOf(cells, 'bad', 'db', 'ICMPv6', 'IPv6')).toBe('deny');
    // The same source over IPv4 is not in an IPv6 net.
    expect(expectedOf(cells, 'front', 'db', 'ICMP', 'IPv4')).toBe('deny');
  });

  test('a cluster with no IPv6 address plans no IPv6 cell', () => {
    const v4 = compilePolicyModel(threeTier())!;
    expect(tableFamilies(v4)).toEqual([IPV4]);
    expect(truthTableEndpoints(v4, IPV6)).toEqual([]);
    const cells = expectedCells(v4, probesOf(v4));
    expect(cells).toHaveLength(36);
    expect(cells.every((c) => c.family === 'IPv4' && c.probe !== 'ICMPv6')).toBe(true);
  });

  test("a cell's prober line: the destination's address in the cell's family, ICMPv6 sent as ICMP to an IPv6 address", () => {
    const cells = expectedCells(model, probesOf(model));
    const db = model.endpoints.find((e) => e.workload === 'db')!;
    const six = model.endpoints.find((e) => e.workload === 'six')!;
    const i4 = cells.findIndex((c) => c.dst === 'db' && c.probe === 'ICMP' && c.family === 'IPv4');
    const i6 = cells.findIndex((c) => c.dst === 'db' && c.probe === 'ICMPv6');
    const t6 = cells.findIndex((c) => c.dst === 'six' && c.probe === 'TCP/8080');
    expect(proberLine(i4, cells[i4], db)).toBe(`${i4} ICMP 198.19.2.2 0`);
    expect(proberLine(i6, cells[i6], db)).toBe(`${i6} ICMP fd00:198:19:2::2 0`);
    expect(proberLine(t6, cells[t6], six)).toBe(`${t6} TCP fd00:198:19:2::3 8080`);
  });
});

/** Stand-in hosts (as in policy-verify-observe.test.ts) that answer each prober line by `answer`. */
function standIns(answer: (line: string) => 'allow' | 'deny' | undefined, seen: string[] = []) {
  const vars = (script: string) => {
    const out: Record<string, string> = {};
    for (const m of script.matchAll(/^([a-z_]+)='([^']*)'$/gm)) out[m[1]] = m[2];
    return out;
  };
  // One host per node, as the CLI's hostOf gives (a node's sources share its scripts).
  const hosts = new Map<string, RemoteHost>();
  return (node: string): RemoteHost => hosts.get(node) ?? hosts.set(node, standIn(node)).get(node)!;
  function standIn(node: string): RemoteHost {
    return {
      label: node,
      async run(script: string): Promise<RemoteResult> {
        const v = vars(script);
        if (v.pids !== undefined) return { code: 0, stdout: '', stderr: '' };
        if (v.cells !== undefined) {
          const lines = v.cells.split('\n').map((l) => l.slice(l.indexOf(' ') + 1));
          seen.push(...lines);
          const stdout = lines
            .map((l) => [l.split(' ')[0], answer(l)])
            .filter(([, a]) => a !== undefined)
            .map(([i, a]) => `${i} ${a}\n`)
            .join('');
          return { code: 0, stdout: `${stdout}# stats tcp_allow=1 late=0 oversleep_ms=5\n`, stderr: '' };
        }
        return {
          code: 0,
          stdout: v.sources
            .split(' ')
            .map((_, k) => `${900 + k}\n`)
            .join(''),
          stderr: '',
        };
      },
    };
  }
}

/** Hosts that observe what the model expects, except the cells `flip` names (by prober line). */
function faithful(m: PolicyModel, flip: (line: string) => boolean = () => false, seen: string[] = []) {
  const cells = expectedCells(m, probesOf(m));
  return standIns((line) => {
    const v = cells[Number(line.split(' ')[0])].expected;
    return flip(line) ? (v === 'allow' ? 'deny' : 'allow') : v;
  }, seen);
}

describe('the run and its report', () => {
  let written: string;
  beforeEach(() => {
    written = '';
    jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      written += String(s);
      return true;
    });
  });
  afterEach(() => jest.restoreAllMocks());

  test('every IPv6 cell is probed at its IPv6 address, from every workload with one (the IPv6-only one too)', async () => {
    const seen: string[] = [];
    expect(
      await policyVerify(
        model,
        faithful(model, () => false, seen),
        'json',
      ),
    ).toBe(0);
    const cells = expectedCells(model, probesOf(model));
    expect(seen).toHaveLength(cells.length);
    expect(seen).toContain(
      `${cells.findIndex((c) => c.src === 'six' && c.dst === 'front' && c.probe === 'ICMPv6')} ICMP fd00:198:19:1::2 0`,
    );
    expect(seen.filter((l) => l.includes(':')).length).toBe(cells.filter((c) => c.family === 'IPv6').length);
  });

  test('text: one part per family, headed by its name; an IPv6 mismatch is marked in its part and fails the run', async () => {
    const code = await policyVerify(
      model,
      faithful(model, (line) => / TCP fd00:198:19:2::3 8080$/.test(line)),
      'table',
    );
    expect(code).toBe(1);
    const [v4, v6] = written.split('\n\nIPv6:\n');
    expect(v4.startsWith('IPv4:\nICMP  (rows: source')).toBe(true);
    expect(v4).toContain('all 12 cells agree');
    expect(v4).not.toContain('six');
    expect(v6.startsWith('ICMPv6  (rows: source')).toBe(true);
    // front -> six on TCP/8080 expected allowed, seen denied; bad's and db's expected denied, seen allowed.
    expect(v6).toContain('front -     .     .     ./X!  ');
    expect(v6).toContain('bad   .     -     X     X/.!  ');
    expect(v6.endsWith('3 of 24 cells disagree\n')).toBe(true);
  });

  test('JSON: a tally per family, each cell with its family', async () => {
    expect(
      await policyVerify(
        model,
        faithful(model, (line) => / ICMP fd00:198:19:2::3 0$/.test(line)),
        'json',
      ),
    ).toBe(1);
    const report = JSON.parse(written);
    expect(report.ok).toBe(false);
    expect(report.probes).toEqual(['ICMP', 'TCP/8080']);
    expect(report.families).toEqual([
      { family: 'IPv4', probes: ['ICMP', 'TCP/8080'], cells: 12, disagree: 0 },
      { family: 'IPv6', probes: ['ICMPv6', 'TCP/8080'], cells: 24, disagree: 3 },
    ]);
    expect(report.cells).toContainEqual({
      src: 'front',
      dst: 'six',
      probe: 'ICMPv6',
      expected: 'allow',
      observed: 'deny',
      family: 'IPv6',
    });
  });

  test('an IPv6 cell no prober answered (a host that could not be read) fails the run', async () => {
    const cells = expectedCells(model, probesOf(model));
    const answer = (line: string) => (line.includes(':') ? undefined : cells[Number(line.split(' ')[0])].expected);
    expect(await policyVerify(model, standIns(answer), 'table')).toBe(1);
    expect(written).toContain('all 12 cells agree');
    expect(written.endsWith('24 of 24 cells disagree\n')).toBe(true);
    expect(written).toContain('./?!');
  });
});

describe('a cluster without IPv6 reads exactly as before', () => {
  const v4 = compilePolicyModel(threeTier())!;
  const agreeing = () => expectedCells(v4, probesOf(v4)).map((c) => ({ ...c, observed: c.expected }));

  test('JSON: ok, probes and cells, the cells without a family', () => {
    const json = truthTableJson(v4, probesOf(v4), agreeing()) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(['ok', 'probes', 'cells']);
    expect((json.cells as object[])[0]).toEqual({
      src: 'front',
      dst: 'db',
      probe: 'ICMP',
      expected: 'deny',
      observed: 'deny',
    });
  });

  test('text: no family heading', () => {
    const text = renderTruthTables(v4, probesOf(v4), agreeing());
    expect(text.startsWith('ICMP  (rows: source, columns: destination;')).toBe(true);
    expect(text).not.toMatch(/IPv[46]:/);
    expect(text.endsWith('all 36 cells agree')).toBe(true);
  });
});

describe('with CALICO_VERIFY_TIMING: what became of each pass', () => {
  test("the probers' stats lines are summed; oversleep is the longest", () => {
    const into = proberStats('0 allow\n# stats tcp_allow=3 late=1 k.Udp.RcvbufErrors=2 oversleep_ms=40\n');
    proberStats('# stats tcp_allow=4 late=0 k.Udp.RcvbufErrors=5 oversleep_ms=900\n1 deny\n', into);
    expect(into).toEqual({ tcp_allow: 7, late: 1, 'k.Udp.RcvbufErrors': 7, oversleep_ms: 900 });
    expect(proberStats('0 allow\n1 deny\n# stat x=1\n')).toEqual({});
  });

  test('a pass line counts the expected-allow cells that did not answer, by probe kind and by source node', async () => {
    const cells = expectedCells(model, probesOf(model));
    // Every IPv6 TCP cell from node1 is silent on every pass.
    const hosts = standIns((line) => {
      const c = cells[Number(line.split(' ')[0])];
      return c.family === 'IPv6' && c.probe === 'TCP/8080' && ['front', 'bad'].includes(c.src) ? 'deny' : c.expected;
    });
    const targets = model.endpoints.map((e) => ({ ...e, host: hosts(e.node) }));
    const phases = await observeCells(targets, probesOf(model), cells, { stats: true });
    const lines = passDetailLines(phases);
    // front -> bad, db, six and bad -> front are expected allowed (bad -> db, six are denied anyway).
    expect(lines[0]).toBe(
      'verify pass 1: 4 expected-allow cells missed (TCP IPv6 4; most from node1 4); probers: tcp_allow=2 late=0 oversleep_ms=5',
    );
    expect(lines[1]).toMatch(
      /^verify pass 2: 4 expected-allow cells missed .*; probers: tcp_allow=1 late=0 oversleep_ms=5$/,
    );
    expect(lines).toHaveLength(3);
    expect(passDetailLines({ passes: [{ cells: 1, ms: 1 }] })).toEqual([]);
  });
});

describe('an IPv4-only run prints what the code before IPv6 cells printed, byte for byte', () => {
  // threeTier, every cell as expected but api -> db TCP/5432 seen denied (so the mismatch is
  // pinned too). TABLE and JSON_SHA256 were printed by cli/policy-verify.ts as of 1a1af0f (the
  // last commit before IPv6 cells) for this same run.
  const v4 = compilePolicyModel(threeTier())!;
  const cells = expectedCells(v4, probesOf(v4));
  const hosts = standIns((line) => {
    const c = cells[Number(line.split(' ')[0])];
    return c.src === 'api' && c.dst === 'db' && c.probe === 'TCP/5432' ? 'deny' : c.expected;
  });
  const TABLE = [
    'ICMP  (rows: source, columns: destination; . allowed, X denied; a mismatch shows expected/observed and !)',
    '      front db    api   other ',
    'front -     X     X     .     ',
    'db    .     -     X     .     ',
    'api   .     X     -     .     ',
    'other .     X     X     -     ',
    '',
    'TCP/5432  (rows: source, columns: destination; . allowed, X denied; a mismatch shows expected/observed and !)',
    '      front db    api   other ',
    'front -     X     X     .     ',
    'db    .     -     X     .     ',
    'api   .     ./X!  -     .     ',
    'other .     X     X     -     ',
    '',
    'TCP/8080  (rows: source, columns: destination; . allowed, X denied; a mismatch shows expected/observed and !)',
    '      front db    api   other ',
    'front -     X     .     .     ',
    'db    .     -     X     .     ',
    'api   .     X     -     .     ',
    'other .     X     X     -     ',
    '',
    '1 of 36 cells disagree',
    '',
  ].join('\n');
  const JSON_SHA256 = '651a2271df1c73416bba5b05149eff6d1b99f8f0d62e066914e560e0282142b2';

  let written: string;
  beforeEach(() => {
    written = '';
    jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      written += String(s);
      return true;
    });
  });
  afterEach(() => jest.restoreAllMocks());

  test('table', async () => {
    expect(await policyVerify(v4, hosts, 'table')).toBe(1);
    expect(written).toBe(TABLE);
  });

  test('JSON', async () => {
    expect(await policyVerify(v4, hosts, 'json')).toBe(1);
    expect(createHash('sha256').update(written).digest('hex')).toBe(JSON_SHA256);
  });
});
