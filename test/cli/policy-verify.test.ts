/**
 * The policy truth table of `calico-net verify`, without hosts: which probes, the expected cells
 * (from the compiled model), the table, and the scripts' quoting.
 */
import { compilePolicyModel } from '../../constructs/policy-compile';
import {
  Cell,
  expectedCells,
  listenerScript,
  probeName,
  probesOf,
  proberScript,
  hostProberScript,
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
  expect(l).toContain("\nsources='w'\\''1'\ntcp='80,443'\nudp='53'\n");
  expect(l).toContain(
    '  ip netns exec "$netns" setsid perl -e "$listener" "$tcp" "$udp" </dev/null >/dev/null 2>&1 &\n  echo $!',
  );
  const p = proberScript('db', ['0 TCP 198.19.1.3 5432', '1 ICMP 198.19.1.3 0']);
  expect(p).toContain(
    "\nsources='db'\ncells='0 0 TCP 198.19.1.3 5432\n0 1 ICMP 198.19.1.3 0'\nwindow='1000'\nwait='2'\n",
  );
  expect(p).toContain('export window wait prober\n');
  expect(p).toContain('ip netns exec "${namespaces[k]}" perl -e "$prober" < "$dir/c$k" > "$dir/o$k" 2> "$dir/e$k" &');
  // A host's sources go in one script, each cell line led by its source's place in the list.
  const h = hostProberScript([
    { netns: 'db', lines: ['0 TCP 198.19.1.3 5432'] },
    { netns: 'api', lines: ['7 UDP 198.19.1.4 53', '8 ICMP 198.19.1.4 0'] },
  ]);
  expect(h).toContain(
    "\nsources='db api'\ncells='0 0 TCP 198.19.1.3 5432\n1 7 UDP 198.19.1.4 53\n1 8 ICMP 198.19.1.4 0'\n",
  );
  // A hostile workload name stays one quoted value.
  expect(proberScript("x'; rm -rf / #", [])).toContain("\nsources='x'\\''; rm -rf / #'\n");
});
