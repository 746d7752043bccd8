/**
 * The policy truth table's prober on a real wire (lab id 161: two namespaces of this suite's own,
 * cn161-src and cn161-dst, joined by a veth, IPv4 198.18.161.0/24 and IPv6 fd00:198:18:161::/64):
 * one prober process in the source against the listener verify starts in the destination, with
 * an nft table in the destination that drops and rejects some of it. For TCP, UDP and ICMP, on
 * IPv4 and IPv6: a listener (or an address that answers) is allow; a refused port, a dropped
 * packet, a rejected one and nobody there are deny. Needs root, ip, nft and perl; fails (never
 * skips) without them.
 */
import { spawnSync } from 'child_process';
import { listenerScript, proberScript, proberVerdicts } from '../../cli/policy-verify';

const SRC = 'cn161-src';
const DST = 'cn161-dst';
const V4 = { src: '198.18.161.1', dst: '198.18.161.2', dropped: '198.18.161.3', nobody: '198.18.161.9' };
const V6 = {
  src: 'fd00:198:18:161::1',
  dst: 'fd00:198:18:161::2',
  dropped: 'fd00:198:18:161::3',
  nobody: 'fd00:198:18:161::9',
};
/** The listener's ports; DROPPED's packets are dropped and REJECTED's rejected by the nft table. */
const [OPEN, DROPPED, NO_LISTENER, REJECTED] = [7001, 7002, 7003, 7004];

const sh = (script: string) => spawnSync('bash', ['-c', script], { encoding: 'utf8' });
function must(script: string): string {
  const r = sh(script);
  if (r.status !== 0) throw new Error(`${script}\nexited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

const RULES = `table inet cn161 {
  chain input {
    type filter hook input priority 0;
    tcp dport ${DROPPED} drop
    udp dport ${DROPPED} drop
    tcp dport ${REJECTED} reject with tcp reset
    udp dport ${REJECTED} reject
    ip daddr ${V4.dropped} icmp type echo-request drop
    ip6 daddr ${V6.dropped} icmpv6 type echo-request drop
  }
}`;

let made = false;
let listener = '';
beforeAll(() => {
  const missing = ['ip', 'nft', 'perl'].filter((t) => sh(`command -v ${t}`).status !== 0);
  if (missing.length > 0)
    throw new Error(`policy prober e2e needs ${missing.join(', ')} (Debian iproute2, nftables, perl)`);
  if (process.getuid?.() !== 0) throw new Error('policy prober e2e needs root (network namespaces, a raw ICMP socket)');
  // Ours from here on: created in this run (a leftover of another run makes this fail, not vanish).
  must(`ip netns add ${SRC} && ip netns add ${DST}`);
  made = true;
  must(
    [
      `ip link add cn161-s netns ${SRC} type veth peer name cn161-d netns ${DST}`,
      `ip -n ${SRC} addr add ${V4.src}/24 dev cn161-s`,
      `ip -n ${SRC} addr add ${V6.src}/64 dev cn161-s nodad`,
      ...[V4.dst, V4.dropped].map((a) => `ip -n ${DST} addr add ${a}/24 dev cn161-d`),
      ...[V6.dst, V6.dropped].map((a) => `ip -n ${DST} addr add ${a}/64 dev cn161-d nodad`),
      ...[
        [SRC, 'cn161-s'],
        [DST, 'cn161-d'],
      ].map(([ns, dev]) => `ip -n ${ns} link set lo up && ip -n ${ns} link set ${dev} up`),
    ].join(' && '),
  );
  const nft = spawnSync('ip', ['netns', 'exec', DST, 'nft', '-f', '-'], { input: RULES, encoding: 'utf8' });
  if (nft.status !== 0) throw new Error(`nft: ${nft.stderr}`);
  listener = must(listenerScript(DST, [OPEN, DROPPED, REJECTED], [OPEN, DROPPED, REJECTED])).trim();
  expect(listener).toMatch(/^\d+$/);
  // Up when it answers on both families.
  for (let i = 0; i < 50; i++) {
    const v = probe([`0 TCP ${V4.dst} ${OPEN}`, `1 TCP ${V6.dst} ${OPEN}`]).verdicts;
    if (v.get(0) === 'allow' && v.get(1) === 'allow') return;
    sh('sleep 0.1');
  }
  throw new Error('the listener never answered');
});

afterAll(() => {
  if (/^\d+$/.test(listener)) sh(`kill ${listener}`);
  if (made) sh(`ip netns del ${SRC}; ip netns del ${DST}`);
});

function probe(lines: string[]) {
  const r = sh(proberScript(SRC, lines));
  return { ...r, verdicts: proberVerdicts(r.stdout) };
}

test('one prober, IPv4 and IPv6: allow for a listener; deny when refused, dropped, rejected or nobody is there', () => {
  const cases: [string, 'allow' | 'deny'][] = [V4, V6].flatMap((f) => [
    [`TCP ${f.dst} ${OPEN}`, 'allow'],
    [`TCP ${f.dst} ${NO_LISTENER}`, 'deny'], // refused: RST
    [`TCP ${f.dst} ${DROPPED}`, 'deny'], // SYN dropped: no answer by the deadline
    [`TCP ${f.dst} ${REJECTED}`, 'deny'], // reset by the policy
    [`TCP ${f.nobody} ${OPEN}`, 'deny'], // no host: no neighbour, no answer
    [`UDP ${f.dst} ${OPEN}`, 'allow'], // echoed
    [`UDP ${f.dst} ${NO_LISTENER}`, 'deny'], // port unreachable: never an allow
    [`UDP ${f.dst} ${DROPPED}`, 'deny'],
    [`UDP ${f.dst} ${REJECTED}`, 'deny'],
    [`UDP ${f.nobody} ${OPEN}`, 'deny'],
    [`ICMP ${f.dst} 0`, 'allow'],
    [`ICMP ${f.dropped} 0`, 'deny'], // the echo request dropped
    [`ICMP ${f.nobody} 0`, 'deny'],
  ]);
  const r = probe(cases.map(([cell], i) => `${i} ${cell}`));
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const seen = cases.map(([cell], i) => `${cell} ${r.verdicts.get(i)}`);
  expect(seen).toEqual(cases.map(([cell, v]) => `${cell} ${v}`));
});

test('300 cells from one source, half to a dropped port: each answered once, all in one process', () => {
  const lines = Array.from({ length: 300 }, (_, i) => {
    const f = i % 4 < 2 ? V4 : V6;
    const proto = ['TCP', 'UDP', 'ICMP'][i % 3];
    return `${i} ${proto} ${i % 2 ? f.dst : f.dropped} ${i % 2 ? OPEN : DROPPED}`;
  });
  // Odd cells: the listener (allow). Even: the dropped port or, for ICMP, the dropped address.
  const r = probe(lines);
  expect(r.stderr).toBe('');
  expect(r.stdout.trim().split('\n')).toHaveLength(300);
  const wrong = lines.filter((l, i) => r.verdicts.get(i) !== (i % 2 ? 'allow' : 'deny'));
  expect(wrong).toEqual([]);
});

test('a reply is matched to its own cell: the same address probed twice, and an address that never answers', () => {
  // Two ICMP cells to the one address both see their own reply; the dropped address beside them
  // borrows none (replies carry our id, the sequence and the cell in the payload).
  const r = probe([`5 ICMP ${V4.dst} 0`, `6 ICMP ${V4.dropped} 0`, `7 ICMP ${V4.dst} 0`, `8 ICMP ${V6.dropped} 0`]);
  expect(Object.fromEntries(r.verdicts)).toEqual({ 5: 'allow', 6: 'deny', 7: 'allow', 8: 'deny' });
});
