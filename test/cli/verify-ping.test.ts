/**
 * `calico-net verify` in process: pingMatrix's conversation with each node (what it sends on
 * stdin, how it reads the verdicts, what it refuses) through canned hosts, and the summary
 * report's exact layout. The lab-backed tests run the same code against real namespaces.
 */
import { pingMatrix, PingResult, renderPingSummary, WorkloadTarget } from '../../cli/verify';
import { RemoteHost, RemoteResult, RunOptions } from '../../providers/ssh/types';

interface Canned extends RemoteHost {
  calls: { script: string; stdin?: string }[];
}

/** A node that answers each "<index> <ip>" line of stdin through `verdict`. */
function node(
  label: string,
  verdict: (index: number, ip: string) => string | null,
  extra: Partial<RemoteResult> = {},
  junk: string[] = [],
): Canned {
  const calls: Canned['calls'] = [];
  return {
    label,
    calls,
    async run(script: string, options?: RunOptions) {
      calls.push({ script, stdin: options?.stdin });
      const out: string[] = [];
      for (const line of (options?.stdin ?? '').split('\n')) {
        const m = /^(\d+) (\S+)$/.exec(line);
        const v = m ? verdict(Number(m[1]), m[2]) : null;
        if (v !== null) out.push(v);
      }
      // Noise after the verdicts, so a line misread as one would overwrite a real verdict.
      return { code: 0, stdout: [...out, ...junk].join('\n') + '\n', stderr: '', ...extra };
    },
  };
}

const answerAll = (i: number, ip: string) => `${i} ${ip.endsWith('.9') ? 'fail' : 'ok'}`;

test('one script per node; stdin lists each local workload, then every other workload numbered; verdicts map back to pairs', async () => {
  const h1 = node('h1', answerAll);
  const h2 = node('h2', answerAll);
  const ws: WorkloadTarget[] = [
    { node: 'n1', name: 'a', ip: '198.19.1.2', host: h1 },
    { node: 'n1', name: 'b', ip: '198.19.1.9', host: h1 },
    { node: 'n2', name: 'c', ip: '198.19.2.2', host: h2 },
  ];
  const results = await pingMatrix(ws);
  expect(h1.calls).toHaveLength(1);
  expect(h2.calls).toHaveLength(1);
  expect(h1.calls[0].script).toContain('ip netns exec "$ns"');
  expect(h1.calls[0].stdin).toBe('W a\n0 198.19.1.9\n1 198.19.2.2\nW b\n2 198.19.1.2\n3 198.19.2.2\n');
  expect(h2.calls[0].stdin).toBe('W c\n0 198.19.1.2\n1 198.19.1.9\n');
  expect(results).toEqual<PingResult[]>([
    { from: 'n1/a', to: 'n1/b', family: 'IPv4', ok: false },
    { from: 'n1/a', to: 'n2/c', family: 'IPv4', ok: true },
    { from: 'n1/b', to: 'n1/a', family: 'IPv4', ok: true },
    { from: 'n1/b', to: 'n2/c', family: 'IPv4', ok: true },
    { from: 'n2/c', to: 'n1/a', family: 'IPv4', ok: true },
    { from: 'n2/c', to: 'n1/b', family: 'IPv4', ok: false },
  ]);
});

test('verdict lines: whole lines only, blanks around them allowed, indexes of any length', async () => {
  // 12 workloads on one node: indexes up to 131. Lines that only contain a verdict are noise.
  const junk = ['x0 fail', '11 okay', '3 fail x', 'fail', ''];
  const h = node('h', (i) => `  ${i} ${i === 11 ? 'fail' : 'ok'}  `, {}, junk);
  const ws = Array.from({ length: 12 }, (_, k): WorkloadTarget => ({
    node: 'n',
    name: `w${k}`,
    ip: `198.19.0.${k + 2}`,
    host: h,
  }));
  const results = await pingMatrix(ws);
  expect(results).toHaveLength(132);
  expect(results.filter((r) => !r.ok)).toEqual([{ from: 'n/w1', to: 'n/w0', family: 'IPv4', ok: false }]);
});

test('a node that answers for fewer pairs than asked is an error with its exit code and (cut) stderr', async () => {
  const stderr = `  ${'e'.repeat(2500)}  `;
  const h = node('n1 (198.18.0.1)', (i) => (i === 0 ? '0 ok' : null), { code: 3, stderr });
  const ws: WorkloadTarget[] = [
    { node: 'n1', name: 'a', ip: '198.19.1.2', host: h },
    { node: 'n1', name: 'b', ip: '198.19.1.3', host: h },
  ];
  await expect(pingMatrix(ws)).rejects.toThrow(
    new Error(`ping run on n1 (198.18.0.1) answered 1 of 2 pairs (exit 3): ${'e'.repeat(2000)}`),
  );
});

test('nothing to ping from a lone workload: no script runs', async () => {
  const h = node('h', answerAll);
  expect(await pingMatrix([{ node: 'n', name: 'a', ip: '198.19.0.2', host: h }])).toEqual([]);
  expect(h.calls).toEqual([]);
  expect(await pingMatrix([])).toEqual([]);
});

test('workload names and addresses are checked before anything reaches a shell', async () => {
  const h = node('h', answerAll);
  await expect(pingMatrix([{ node: 'n', name: 'a', ip: '198.19.0.2; reboot', host: h }])).rejects.toThrow(
    new Error('workload n/a: "198.19.0.2; reboot" is not an IPv4 address'),
  );
  await expect(pingMatrix([{ node: 'n', name: '$(x)', ip: '198.19.0.2', host: h }])).rejects.toThrow(
    new Error(
      'workload n/$(x): "$(x)" is not a valid workload name (letters, digits, "_", ".", "-"; starts with a letter or digit; at most 63)',
    ),
  );
  expect(h.calls).toEqual([]);
});

describe('renderPingSummary', () => {
  const host = node('unused', answerAll);
  const ws = Array.from({ length: 3 }, (_, k): WorkloadTarget => ({
    node: `n${k}`,
    name: `w${k}`,
    ip: `198.19.${k}.2`,
    host,
  }));

  it('lays out head, blank, the table of involved workloads, blank, the failing pairs', () => {
    const results: PingResult[] = [
      { from: 'n0/w0', to: 'n1/w1', family: 'IPv4', ok: false },
      { from: 'n1/w1', to: 'n0/w0', family: 'IPv4', ok: true },
      { from: 'n2/w2', to: 'n1/w1', family: 'IPv4', ok: false },
    ];
    expect(renderPingSummary(ws, results).split('\n')).toEqual([
      '3 workloads on 3 nodes: 1/3 workload pairs answered; 2 failed',
      '',
      '+----------+------------------+------------------+',
      '| workload | failed as source | failed as target |',
      '+----------+------------------+------------------+',
      '| n1/w1    | 0                | 2                |',
      '| n0/w0    | 1                | 0                |',
      '| n2/w2    | 1                | 0                |',
      '+----------+------------------+------------------+',
      '',
      'failing pairs:',
      '  n0/w0 -> n1/w1',
      '  n2/w2 -> n1/w1',
    ]);
  });

  it('lists up to 200 failing pairs; beyond that says how many more', () => {
    const fail = (n: number) =>
      Array.from({ length: n }, (): PingResult => ({ from: 'n0/w0', to: 'n1/w1', family: 'IPv4', ok: false }));
    const at = renderPingSummary(ws, fail(200)).split('\n');
    expect(at.filter((l) => l.startsWith('  n0/w0 -> '))).toHaveLength(200);
    expect(at[at.length - 1]).toBe('  n0/w0 -> n1/w1');
    const over = renderPingSummary(ws, fail(201)).split('\n');
    expect(over.filter((l) => l.startsWith('  n0/w0 -> '))).toHaveLength(200);
    expect(over[over.length - 1]).toBe('  … and 1 more (--format json lists them all)');
  });
});
