/**
 * The policy truth table of `calico-net verify`, without hosts: which probes, the expected cells
 * (from the compiled model), the table, and the scripts' quoting.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { execFileSync } from 'child_process';
import { compilePolicyModel } from '../../constructs/policy-compile';
import {
  Cell,
  expectedCells,
  listenerScript,
  PROBER_BODY,
  probeName,
  probesOf,
  proberScript,
  renderTruthTable,
} from '../../cli/policy-verify';
import { threeTier } from '../constructs/policy-fixture';

const model = compilePolicyModel(threeTier())!;

test('probes: ICMP, then each TCP and UDP port the policies name', () => {
  expect(probesOf(model).map(probeName)).toEqual(['ICMP', 'TCP/5432', 'TCP/8080']);
  const m2 = compilePolicyModel(
    threeTier({
      policies: [
        {
          name: 'p',
          ingress: [
            { action: 'Allow', protocol: 'UDP', destination: { ports: ['53:54'], notPorts: [9] } },
            { action: 'Deny', protocol: 'SCTP', destination: { ports: [1] } },
          ],
        },
      ],
    }),
  )!;
  expect(probesOf(m2).map(probeName)).toEqual(['ICMP', 'UDP/9', 'UDP/53']);
  expect(probesOf(m2, 1).map(probeName)).toEqual(['ICMP', 'UDP/9']);
});

test('expected cells come from the compiled model', () => {
  const cells = expectedCells(model, probesOf(model));
  expect(cells).toHaveLength(4 * 3 * 3);
  const get = (src: string, dst: string, probe: string) =>
    cells.find((c) => c.src === src && c.dst === dst && c.probe === probe)!.expected;
  expect(get('front', 'api', 'TCP/8080')).toBe('allow');
  expect(get('front', 'api', 'TCP/5432')).toBe('deny');
  expect(get('front', 'api', 'ICMP')).toBe('deny');
  expect(get('api', 'db', 'TCP/5432')).toBe('allow');
  expect(get('front', 'db', 'TCP/5432')).toBe('deny');
  expect(get('db', 'other', 'ICMP')).toBe('allow');
});

test('the truth table: agreeing cells as . and X, a mismatch with both and !', () => {
  const probes = [{ protocol: 'TCP' as const, port: 5432 }];
  const cells: Cell[] = expectedCells(model, probes).map((c) => ({ ...c, observed: c.expected }));
  const ok = renderTruthTable(['front', 'db', 'api', 'other'], probes, cells);
  expect(ok).toBe(
    [
      'TCP/5432  (rows: source, columns: destination; . allowed, X denied; a mismatch shows expected/observed and !)',
      '      front db    api   other ',
      'front -     X     X     .     ',
      'db    .     -     X     .     ',
      'api   .     .     -     .     ',
      'other .     X     X     -     ',
      '',
      'all 12 cells agree',
    ].join('\n'),
  );
  cells.find((c) => c.src === 'api' && c.dst === 'db')!.observed = 'deny';
  cells.find((c) => c.src === 'db' && c.dst === 'front')!.observed = undefined;
  const bad = renderTruthTable(['front', 'db', 'api', 'other'], probes, cells);
  expect(bad).toContain('api   .     ./X!  -     .     ');
  expect(bad).toContain('db    ./?!  -     X     .     ');
  expect(bad.endsWith('2 of 12 cells disagree')).toBe(true);
});

test('scripts quote every value', () => {
  const l = listenerScript("w'1", [80, 443], [53]);
  expect(l).toContain("\nnetns='w'\\''1'\ntcp='80,443'\nudp='53'\n");
  expect(l).toContain(
    'ip netns exec "$netns" setsid perl -e "$listener" "$tcp" "$udp" </dev/null >/dev/null 2>&1 &\necho $!',
  );
  const p = proberScript('db', ['0 TCP 198.19.1.3 5432', '1 ICMP 198.19.1.3 0']);
  expect(p).toContain("\nnetns='db'\ncells='0 TCP 198.19.1.3 5432\n1 ICMP 198.19.1.3 0'\nmax='32'\n");
  expect(p).toContain(
    'export cells udp_probe max\nip netns exec "$netns" bash -c "$(declare -f probe_cells); probe_cells"',
  );
});

test('the prober keeps at most $max probes in flight and answers every cell', () => {
  // A stand-in ping on PATH (no packet leaves): it counts the probes running beside it.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prober-'));
  try {
    fs.mkdirSync(path.join(dir, 'running'));
    fs.writeFileSync(
      path.join(dir, 'ping'),
      `#!/bin/bash\ntouch "${dir}/running/$$"\nls "${dir}/running" | wc -l >> "${dir}/counts"\nsleep 0.05\nrm "${dir}/running/$$"\n`,
      { mode: 0o755 },
    );
    const cells = Array.from({ length: 40 }, (_, i) => `${i} ICMP 198.18.250.${i + 1} 0`).join('\n');
    const out = execFileSync('bash', ['-c', PROBER_BODY], {
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, cells, max: '4', udp_probe: '' },
    }).toString();
    expect(out.trim().split('\n').sort()).toEqual(Array.from({ length: 40 }, (_, i) => `${i} allow`).sort());
    const counts = fs.readFileSync(path.join(dir, 'counts'), 'utf8').trim().split('\n').map(Number);
    expect(counts).toHaveLength(40);
    expect(Math.max(...counts)).toBeLessThanOrEqual(4);
    expect(Math.max(...counts)).toBeGreaterThan(1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
