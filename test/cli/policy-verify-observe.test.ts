/**
 * The driving half of `calico-net verify`'s truth table, with stand-in hosts (no SSH, no lab):
 * which listeners start where and stop again, which cells each source probes, the second pass
 * over the cells that did not answer, and what policyVerify prints and returns. What the probes
 * see on a real wire is the e2e suites' part (policy.test.ts, policy-udp-nft.test.ts).
 */
import { compilePolicyModel } from '../../constructs/policy-compile';
import {
  Cell,
  expectedCells,
  hostListenerScript,
  listenerScript,
  observeCells,
  phasesLine,
  policyVerify,
  probesOf,
  renderTruthTable,
  VerifyTarget,
} from '../../cli/policy-verify';
import { RemoteHost, RemoteResult } from '../../providers/ssh/types';
import { threeTier } from '../constructs/policy-fixture';

const model = compilePolicyModel(threeTier())!;

/** What a stand-in host was asked to do. */
interface Calls {
  listeners: string[];
  probes: string[][];
  /** The host of each prober script (one per host and pass). */
  proberRuns: string[];
  kills: string[];
}

/**
 * A host that answers the three scripts observeCells runs: a listener start (prints a pid), a
 * prober (answers each "i proto ip port" line with the verdict `answer` gives it) and a kill.
 */
function standIn(
  label: string,
  calls: Calls,
  answer: (line: string, pass: number) => 'allow' | 'deny' | undefined,
  listener?: (script: string) => RemoteResult,
): RemoteHost {
  // Passes are counted per source namespace (one host serves several sources).
  const passes = new Map<string, number>();
  return {
    label,
    async run(script: string): Promise<RemoteResult> {
      // The scripts are templates/scripts/policy-verify-*.sh with their values as quoted variables.
      const v = scriptVars(script);
      if (v.pids !== undefined) {
        calls.kills.push(`${label}:kill ${v.pids}`);
        return { code: 0, stdout: '', stderr: '' };
      }
      if (v.cells !== undefined) {
        // One script per host and pass: "k i proto ip port" lines, k the source's place in $sources.
        calls.proberRuns.push(label);
        const sources = v.sources.split(' ');
        const bySource = new Map<string, string[]>();
        for (const l of v.cells.split('\n')) {
          const at = l.indexOf(' ');
          const source = sources[Number(l.slice(0, at))];
          bySource.set(source, [...(bySource.get(source) ?? []), l.slice(at + 1)]);
        }
        let stdout = '';
        for (const [source, lines] of bySource) {
          const pass = passes.get(source) ?? 0;
          passes.set(source, pass + 1);
          calls.probes.push(lines);
          const out = lines.map((l) => [l.split(' ')[0], answer(l, pass)]).filter(([, val]) => val !== undefined);
          stdout += out.map(([i, val]) => `${i} ${val}\n`).join('');
        }
        return { code: 0, stdout, stderr: '' };
      }
      // One listener script per host: a pid per namespace of $sources, in order.
      const pids = v.sources.split(' ').map((source) => {
        calls.listeners.push(`${label}:${source} tcp=${v.tcp} udp=${v.udp}`);
        return `${4000 + calls.listeners.length}\n`;
      });
      return listener ? listener(script) : { code: 0, stdout: pids.join(''), stderr: '' };
    },
  };
}

/** The `name='value'` lines a loaded script starts with (the values here hold no quote). */
function scriptVars(script: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of script.matchAll(/^([a-z_]+)='([^']*)'$/gm)) out[m[1]] = m[2];
  return out;
}

const newCalls = (): Calls => ({ listeners: [], probes: [], proberRuns: [], kills: [] });

function targetsWith(hostOf: (node: string) => RemoteHost): VerifyTarget[] {
  return model.endpoints.map((e) => ({ ...e, host: hostOf(e.node) }));
}

test('listeners on every destination for the named ports, every cell probed from its source, listeners stopped', async () => {
  const calls = newCalls();
  const hosts = new Map(['node1', 'node2'].map((n) => [n, standIn(n, calls, () => 'allow')]));
  const probes = probesOf(model);
  const cells = expectedCells(model, probes);
  await observeCells(
    targetsWith((n) => hosts.get(n)!),
    probes,
    cells,
  );
  // One listener per workload, each in its own namespace, on TCP 5432 and 8080, no UDP.
  expect(calls.listeners).toHaveLength(4);
  expect(calls.listeners[0]).toBe('node1:front tcp=5432,8080 udp=');
  expect(calls.listeners.map((l) => /:(\w+) tcp=/.exec(l)![1])).toEqual(['front', 'db', 'api', 'other']);
  // Everything answered on the first pass: no second one. Each host's sources went in one script.
  expect(calls.probes).toHaveLength(4);
  expect(calls.proberRuns.sort()).toEqual(['node1', 'node2']);
  // Each source probes its own cells: 3 destinations x 3 probes, by index into the cell list.
  for (const lines of calls.probes) expect(lines).toHaveLength(9);
  const all = calls.probes.flat();
  expect(all).toContain(
    `${cells.findIndex((c) => c.src === 'front' && c.dst === 'api' && c.probe === 'TCP/8080')} TCP 198.19.2.2 8080`,
  );
  expect(all).toContain(
    `${cells.findIndex((c) => c.src === 'db' && c.dst === 'other' && c.probe === 'ICMP')} ICMP 198.19.2.3 0`,
  );
  expect(new Set(all.map((l) => Number(l.split(' ')[0])))).toEqual(new Set(cells.map((_, i) => i)));
  expect(cells.every((c) => c.observed === 'allow')).toBe(true);
  // Every listener stopped by the pid it printed, on its own host: one script per host.
  expect(calls.kills.sort()).toEqual(['node1:kill 4001 4002', 'node2:kill 4003 4004']);
});

test('a cell expected allowed that did not answer is probed up to twice more, and only those cells', async () => {
  const calls = newCalls();
  // to other, ICMP: silent on the first pass, answered on the second (a missed window);
  // to db, TCP/5432: silent both times; to other, TCP/8080: a line the prober never answered.
  const answer = (line: string, pass: number) => {
    const [, proto, ip, port] = line.split(' ');
    if (ip === '198.19.2.3' && proto === 'ICMP') return pass === 0 ? 'deny' : 'allow';
    if (ip === '198.19.1.3' && port === '5432') return 'deny';
    if (ip === '198.19.2.3' && port === '8080') return undefined;
    return 'allow';
  };
  const hosts = new Map(['node1', 'node2'].map((n) => [n, standIn(n, calls, answer)]));
  const probes = probesOf(model);
  const cells: Cell[] = expectedCells(model, probes);
  const phases = await observeCells(
    targetsWith((n) => hosts.get(n)!),
    probes,
    cells,
  );
  const get = (src: string, dst: string, probe: string) =>
    cells.find((c) => c.src === src && c.dst === dst && c.probe === probe)!.observed;
  expect(get('db', 'other', 'ICMP')).toBe('allow');
  expect(get('api', 'db', 'TCP/5432')).toBe('deny');
  expect(get('front', 'db', 'TCP/5432')).toBe('deny');
  expect(get('front', 'other', 'TCP/8080')).toBeUndefined();
  expect(get('front', 'db', 'TCP/8080')).toBe('allow');
  // First pass: 4 sources x 9 cells. Second pass: only the cells expected allowed and not seen
  // so; third: those still not seen (the ICMP ones answered on the second).
  expect(phases.passes.map((p) => p.cells)).toEqual([36, 7, 4]);
  expect(calls.probes.slice(0, 4).flat()).toHaveLength(36);
  const third = calls.probes.slice(-3).flat();
  expect(third.map((l) => l.replace(/^\d+ /, '')).sort()).toEqual(
    ['TCP 198.19.1.3 5432', 'TCP 198.19.2.3 8080', 'TCP 198.19.2.3 8080', 'TCP 198.19.2.3 8080'].sort(),
  );
  const second = calls.probes.slice(4, -3).flat();
  expect(second.map((l) => l.replace(/^\d+ /, '')).sort()).toEqual(
    [
      'ICMP 198.19.2.3 0', // front, db and api to other
      'ICMP 198.19.2.3 0',
      'ICMP 198.19.2.3 0',
      'TCP 198.19.1.3 5432', // api to db only: front's and other's are expected denied
      'TCP 198.19.2.3 8080', // front, db and api to other: never answered
      'TCP 198.19.2.3 8080',
      'TCP 198.19.2.3 8080',
    ].sort(),
  );
});

test('without TCP or UDP probes no listener starts; ICMP alone is probed', async () => {
  const calls = newCalls();
  const open = compilePolicyModel(threeTier({ policies: [{ name: 'p', selector: "role == 'db'", ingress: [] }] }))!;
  const probes = probesOf(open);
  expect(probes).toEqual([{ protocol: 'ICMP' }]);
  const cells = expectedCells(open, probes);
  const host = standIn('h', calls, () => 'deny');
  await observeCells(
    open.endpoints.map((e) => ({ ...e, host })),
    probes,
    cells,
  );
  expect(calls.listeners).toEqual([]);
  expect(calls.kills).toEqual([]);
  expect(cells.every((c) => c.observed === 'deny')).toBe(true);
});

test('listeners that cannot start stop the run, naming node and workloads; the ones started are stopped', async () => {
  const calls = newCalls();
  let started = 0;
  // node1's script starts both of its listeners; node2's starts one and then fails.
  const listener = (): RemoteResult =>
    ++started < 2 ? { code: 0, stdout: '701\n702\n', stderr: '' } : { code: 1, stdout: '703\n', stderr: ' no perl \n' };
  const hosts = new Map(['node1', 'node2'].map((n) => [n, standIn(n, calls, () => 'allow', listener)]));
  const probes = probesOf(model);
  await expect(
    observeCells(
      targetsWith((n) => hosts.get(n)!),
      probes,
      expectedCells(model, probes),
    ),
  ).rejects.toThrow(/^cannot start the listeners on node2 \(api, other\): no perl$/);
  expect(calls.probes).toEqual([]);
  expect(calls.kills.sort()).toEqual(['node1:kill 701 702', 'node2:kill 703']);
});

test('a listener pid that is not a number is never passed to kill', async () => {
  const calls = newCalls();
  const host = standIn(
    'h',
    calls,
    () => 'allow',
    () => ({ code: 0, stdout: '12; rm -rf /\n', stderr: '' }),
  );
  const probes = probesOf(model);
  await observeCells(
    model.endpoints.map((e) => ({ ...e, host })),
    probes,
    expectedCells(model, probes),
  );
  expect(calls.listeners).toHaveLength(4);
  expect(calls.kills).toEqual([]);
});

describe('policyVerify', () => {
  let written: string;
  beforeEach(() => {
    written = '';
    jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      written += String(s);
      return true;
    });
  });
  afterEach(() => jest.restoreAllMocks());

  /** Hosts that observe exactly what the model expects, except the cells `flip` names. */
  function faithful(flip: (src: string, line: string) => boolean = () => false) {
    const calls = newCalls();
    const cells = expectedCells(model, probesOf(model));
    const ipOf = new Map(model.endpoints.map((e) => [e.ip, e.workload]));
    const verdict = (line: string) => {
      const c = cells[Number(line.split(' ')[0])];
      expect(ipOf.get(line.split(' ')[2])).toBe(c.dst);
      const v = c.expected;
      return flip(c.src, line) ? (v === 'allow' ? 'deny' : 'allow') : v;
    };
    return (node: string) => standIn(node, calls, verdict);
  }

  test('JSON: every cell agrees, exit 0', async () => {
    expect(await policyVerify(model, faithful(), 'json')).toBe(0);
    const report = JSON.parse(written);
    expect(report.ok).toBe(true);
    expect(report.probes).toEqual(['ICMP', 'TCP/5432', 'TCP/8080']);
    expect(report.cells).toHaveLength(36);
    expect(report.cells[0]).toEqual({ src: 'front', dst: 'db', probe: 'ICMP', expected: 'deny', observed: 'deny' });
    expect(written.endsWith('}\n')).toBe(true);
  });

  test('table: one cell that disagrees fails the run and is marked', async () => {
    const code = await policyVerify(
      model,
      faithful((src, line) => src === 'api' && / TCP 198\.19\.1\.3 5432$/.test(line)),
      'table',
    );
    expect(code).toBe(1);
    expect(written.startsWith('ICMP  (rows: source')).toBe(true);
    expect(written).toContain('api   .     ./X!  -     .     ');
    expect(written.endsWith('1 of 36 cells disagree\n')).toBe(true);
  });

  test('JSON of a failed run says so', async () => {
    expect(
      await policyVerify(
        model,
        faithful((src) => src === 'other'),
        'json',
      ),
    ).toBe(1);
    const report = JSON.parse(written);
    expect(report.ok).toBe(false);
  });
});

describe('the parts the truth table is built from', () => {
  test('the ICMP cell is an echo request: type 8, code 0', () => {
    const echoOnly = compilePolicyModel(
      threeTier({
        policies: [
          {
            name: 'db-echo',
            selector: "role == 'db'",
            ingress: [{ action: 'Allow', protocol: 'ICMP', icmp: { type: 8, code: 0 } }],
          },
          {
            name: 'api-unreachable-only',
            selector: "role == 'api'",
            ingress: [{ action: 'Allow', protocol: 'ICMP', icmp: { type: 3 } }],
          },
        ],
      }),
    )!;
    const cells = expectedCells(echoOnly, [{ protocol: 'ICMP' }, { protocol: 'UDP', port: 53 }]);
    const get = (dst: string, probe: string) =>
      cells.find((c) => c.src === 'front' && c.dst === dst && c.probe === probe)!.expected;
    expect(get('db', 'ICMP')).toBe('allow');
    expect(get('api', 'ICMP')).toBe('deny');
    expect(get('db', 'UDP/53')).toBe('deny');
    expect(get('other', 'UDP/53')).toBe('allow');
  });

  test('the listener gets every UDP port, comma-separated', () => {
    expect(listenerScript('w', [], [53, 5353])).toMatch(/^tcp=''\nudp='53,5353'$/m);
    expect(hostListenerScript(['w', 'x'], [80], [])).toMatch(/^sources='w x'\ntcp='80'\nudp=''$/m);
  });

  test('each probe has its own matrix', () => {
    const probes = [{ protocol: 'ICMP' as const }, { protocol: 'TCP' as const, port: 8080 }];
    const cells = expectedCells(model, probes).map((c) => ({ ...c, observed: c.expected }));
    const table = renderTruthTable(['front', 'api'], probes, cells);
    // front -> api: ICMP denied (api only takes TCP 8080 from front), TCP/8080 allowed.
    expect(table.split('\n').filter((l) => l.startsWith('front '))).toEqual([
      'front -     X     ',
      'front -     .     ',
    ]);
  });
});

test('the phases line says where the time went', () => {
  expect(
    phasesLine({
      listeners: 1234,
      passes: [
        { cells: 81280, ms: 20_050 },
        { cells: 12, ms: 2_000 },
      ],
      stop: 40,
    }),
  ).toBe('verify phases: listeners 1.2 s, pass 1 20.1 s (81280 cells), pass 2 2.0 s (12 cells), stop 0.0 s');
});

test('CALICO_VERIFY_TIMING=1: policyVerify writes the phases line to stderr, and only then', async () => {
  const calls = newCalls();
  let err = '';
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    err += String(s);
    return true;
  });
  try {
    await policyVerify(model, (n) => standIn(n, calls, () => 'deny'), 'json');
    expect(err).toBe('');
    process.env.CALICO_VERIFY_TIMING = '1';
    await policyVerify(model, (n) => standIn(n, calls, () => 'deny'), 'json');
    expect(err).toMatch(
      /^verify phases: listeners \d+\.\d s, pass 1 \d+\.\d s \(36 cells\), pass 2 \d+\.\d s \(20 cells\), pass 3 \d+\.\d s \(20 cells\), stop \d+\.\d s\n/,
    );
    // Then a line per pass: the expected-allow cells it missed (every one: this host denies all).
    expect(err.split('\n').slice(1)).toEqual([
      'verify pass 1: 20 expected-allow cells missed (TCP 14, ICMP 6; most from node1 10, node2 10); probers: ',
      expect.stringMatching(/^verify pass 2: 20 expected-allow cells missed /),
      expect.stringMatching(/^verify pass 3: 20 expected-allow cells missed /),
      '',
    ]);
  } finally {
    delete process.env.CALICO_VERIFY_TIMING;
    jest.restoreAllMocks();
  }
});
