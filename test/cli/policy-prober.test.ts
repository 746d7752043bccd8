/**
 * The policy truth table's prober and listener (templates/scripts/policy-verify-*.sh) run for
 * real on this machine's loopback, IPv4 and IPv6, with a stand-in `ip` that drops the
 * `netns exec NAME` (no root, no namespace): what one prober process reports for a listener, a
 * refused port and a port that never answers, what it does with lines it cannot read, and that it
 * keeps its sockets within the window. ICMP (a raw socket, root) and policy drops are
 * test/e2e/policy-prober.test.ts's, in namespaces of its own.
 */
import { spawnSync } from 'child_process';
import * as dgram from 'dgram';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { hostProberScript, listenerScript, proberScript, proberStats, proberVerdicts } from '../../cli/policy-verify';

let bin: string;
beforeAll(() => {
  bin = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-prober-'));
  fs.writeFileSync(path.join(bin, 'ip'), '#!/bin/bash\nshift 3\nexec "$@"\n', { mode: 0o755 });
});
afterAll(() => fs.rmSync(bin, { recursive: true, force: true }));

const env = () => ({ ...process.env, PATH: `${bin}:${process.env.PATH}` });
/**
 * Runs a loaded script with bash, from stdin as the host's shell does (a script of 6,000 cells is
 * longer than one argument may be); `prefix` goes before it (e.g. a lower open-file limit).
 */
const bash = (script: string, prefix = '') =>
  spawnSync('bash', ['--norc', '--noprofile', '-s'], { encoding: 'utf8', env: env(), input: `${prefix}${script}` });

/** Ports of our own on loopback for this run (another run of this suite picks others). */
const BASE = 42000 + Math.floor(Math.random() * 2000) * 4;
const [LISTEN, CLOSED, SILENT] = [BASE, BASE + 1, BASE + 2];

let listenerPid: string;
/** A UDP socket on SILENT that takes datagrams and never answers: a dropped probe's stand-in. */
let silent4: dgram.Socket;
let silent6: dgram.Socket;

beforeAll(async () => {
  const r = bash(listenerScript('db', [LISTEN], [LISTEN]));
  expect(r.status).toBe(0);
  listenerPid = r.stdout.trim();
  expect(listenerPid).toMatch(/^\d+$/);
  silent4 = dgram.createSocket('udp4');
  silent6 = dgram.createSocket({ type: 'udp6', ipv6Only: true });
  await Promise.all([
    new Promise<void>((ok) => silent4.bind(SILENT, '127.0.0.1', ok)),
    new Promise<void>((ok) => silent6.bind(SILENT, '::1', ok)),
  ]);
  // The listener is up when it answers a TCP connect on IPv4 and IPv6.
  for (let i = 0; i < 50; i++) {
    const v = proberVerdicts(probe([`0 TCP 127.0.0.1 ${LISTEN}`, `1 TCP ::1 ${LISTEN}`]).stdout);
    if (v.get(0) === 'allow' && v.get(1) === 'allow') return;
    spawnSync('sleep', ['0.1']);
  }
  throw new Error('the listener never answered');
});
afterAll(() => {
  if (listenerPid) process.kill(Number(listenerPid));
  silent4?.close();
  silent6?.close();
});

function probe(lines: string[], prefix = '') {
  const r = bash(proberScript('db', lines), prefix);
  return { ...r, verdicts: proberVerdicts(r.stdout) };
}

test('one prober: a listener is allow; a refused port, an unreachable UDP port and silence are deny, IPv4 and IPv6', () => {
  const lines = ['127.0.0.1', '::1'].flatMap((ip, f) => [
    `${f * 10} TCP ${ip} ${LISTEN}`,
    `${f * 10 + 1} TCP ${ip} ${CLOSED}`, // refused (RST)
    `${f * 10 + 2} UDP ${ip} ${LISTEN}`, // echoed
    `${f * 10 + 3} UDP ${ip} ${CLOSED}`, // ICMP port unreachable: a deny, never an allow
    `${f * 10 + 4} UDP ${ip} ${SILENT}`, // taken and never answered
  ]);
  const started = Date.now();
  const r = probe(lines);
  const elapsed = Date.now() - started;
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(Object.fromEntries(r.verdicts)).toEqual({
    0: 'allow',
    1: 'deny',
    2: 'allow',
    3: 'deny',
    4: 'deny',
    10: 'allow',
    11: 'deny',
    12: 'allow',
    13: 'deny',
    14: 'deny',
  });
  // The silent cells waited their 2 s, together (one wait, not one each).
  expect(elapsed).toBeGreaterThanOrEqual(2000);
});

test('300 cells in one process, each answered once; a line it cannot read gets no verdict and a note', () => {
  const good = Array.from({ length: 300 }, (_, i) => `${i} ${i % 2 ? 'UDP' : 'TCP'} 127.0.0.1 ${LISTEN}`);
  const hostile = [
    `900 TCP 127.0.0.1 ${LISTEN}; touch ${bin}/pwned`,
    `901 TCP $(touch ${bin}/pwned) ${LISTEN}`,
    `902 TCP 127.0.0.1 99999`,
    `903 SCTP 127.0.0.1 ${LISTEN}`,
    `x TCP 127.0.0.1 ${LISTEN}`,
    `904 TCP 127.0.0.1`,
    `905 TCP 1.2.3.4.5 ${LISTEN}`,
    `906 TCP 127.0.0.1 ${LISTEN} extra`,
    `907 TCP 127.0.0.1 ${LISTEN}\r`,
    `'`,
    '', // not a cell at all: skipped without a note
  ];
  const r = probe([...good.slice(0, 150), ...hostile, ...good.slice(150)]);
  expect(r.stderr).toBe('db: calico-net prober: 10 cell line(s) it cannot read, left without a verdict\n');
  expect(r.stdout.trim().split('\n')).toHaveLength(300);
  expect([...r.verdicts.keys()].sort((a, b) => a - b)).toEqual(good.map((_, i) => i));
  expect([...r.verdicts.values()].every((v) => v === 'allow')).toBe(true);
  expect(fs.existsSync(path.join(bin, 'pwned'))).toBe(false);
});

test('6,000 cells (150 KB of lines, more than one environment variable may hold) in one process', () => {
  const lines = Array.from({ length: 6000 }, (_, i) => `${i} TCP 127.0.0.1 ${LISTEN}`);
  expect(lines.join('\n').length).toBeGreaterThan(128 * 1024);
  const r = probe(lines);
  expect(r.stderr).toBe('');
  expect(r.verdicts.size).toBe(6000);
  expect([...r.verdicts.values()].every((v) => v === 'allow')).toBe(true);
});

test('answers that came while the prober was busy count: 500 connects that outlast a 1 ms wait are all allow', () => {
  // Starting 500 cells takes far longer than 1 ms, so every deadline but the first few has passed
  // before the prober first looks (as on a host whose cores a whole pass saturates). Answers
  // already there are read before any deadline is called a deny; with stats=1 the prober says
  // how many it read after their deadline ("late") in its "# stats" line.
  const lines = Array.from({ length: 500 }, (_, i) => `${i} TCP 127.0.0.1 ${LISTEN}`);
  const r = bash(hostProberScript([{ netns: 'db', lines }], 0.001, true));
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const v = proberVerdicts(r.stdout);
  expect(v.size).toBe(500);
  expect([...v.values()].filter((x) => x !== 'allow')).toEqual([]);
  const stats = proberStats(r.stdout);
  expect(stats.tcp_allow).toBe(500);
  expect(stats.late).toBeGreaterThan(250);
  expect(stats.tcp_timeout).toBeUndefined();
  // The namespace's kernel counters ride along (read from /proc/net; deltas over the prober's life).
  expect(Object.keys(stats)).toEqual(
    expect.arrayContaining(['k.Udp.RcvbufErrors', 'k.TcpExt.ListenOverflows', 'rawdrops', 'cpu_ms']),
  );
  // Without stats=1, no such line.
  expect(bash(hostProberScript([{ netns: 'db', lines: lines.slice(0, 3) }])).stdout).not.toContain('#');
});

test('the open-file limit bounds the sockets: 20 silent cells under a limit of 70 (window 6) take 4 waits', () => {
  // 70 descriptors less the 64 kept for perl itself leave 6 sockets: 20 cells in 4 rounds of 2 s.
  // Only a lower bound is checked (a loaded machine is slower, never faster).
  const lines = Array.from({ length: 20 }, (_, i) => `${i} UDP 127.0.0.1 ${SILENT}`);
  const started = Date.now();
  const r = probe(lines, 'ulimit -n 70; ');
  const elapsed = Date.now() - started;
  expect(r.stderr).toBe('');
  expect(r.verdicts.size).toBe(20);
  expect([...r.verdicts.values()].every((v) => v === 'deny')).toBe(true);
  expect(elapsed).toBeGreaterThanOrEqual(4 * 2000);
});

describe('proberVerdicts', () => {
  test('reads "index allow|deny" lines and nothing else', () => {
    const v = proberVerdicts('0 allow\n 1 deny \n2 maybe\n3 allow extra\n-4 deny\n5 ALLOW\n\n1234567890 allow\n6 deny');
    expect(Object.fromEntries(v)).toEqual({ 0: 'allow', 1: 'deny', 6: 'deny' });
  });
  test('a later line for the same index wins (a prober answers each cell once)', () => {
    expect(proberVerdicts('7 deny\n7 allow').get(7)).toBe('allow');
  });
});

test("one script per host: each source's prober runs at once, every cell answered once, a failing one named", () => {
  // Two sources (the stand-in `ip` ignores the namespace): their passes overlap, so the script
  // takes about one probe wait (2 s for the silent cells), not one per source.
  const started = Date.now();
  const r = bash(
    hostProberScript([
      { netns: 'db', lines: [`0 TCP 127.0.0.1 ${LISTEN}`, `1 UDP 127.0.0.1 ${SILENT}`] },
      { netns: 'api', lines: [`2 TCP ::1 ${CLOSED}`, `3 UDP ::1 ${SILENT}`] },
    ]),
  );
  const took = Date.now() - started;
  expect(r.status).toBe(0);
  expect(r.stderr).toBe('');
  expect(r.stdout.trim().split('\n')).toHaveLength(4);
  expect(proberVerdicts(r.stdout)).toEqual(
    new Map([
      [0, 'allow'],
      [1, 'deny'],
      [2, 'deny'],
      [3, 'deny'],
    ]),
  );
  expect(took).toBeLessThan(2 * 2000 + 1500);
  // A line naming no source is not probed and says so; a prober that fails is named and fails the script.
  const stray = bash(
    hostProberScript([{ netns: 'db', lines: [`0 TCP 127.0.0.1 ${LISTEN}`] }]).replace(
      "cells='0 0 TCP",
      `cells='7 1 TCP 127.0.0.1 ${LISTEN}\n0 0 TCP`,
    ),
  );
  expect(stray.stderr).toBe('calico-net prober: 1 cell line(s) naming no namespace, left without a verdict\n');
  expect(proberVerdicts(stray.stdout)).toEqual(new Map([[0, 'allow']]));
  const failing = bash(
    hostProberScript([{ netns: 'db', lines: [`0 TCP 127.0.0.1 ${LISTEN}`] }]),
    'ip() { return 3; }\n',
  );
  expect(failing.status).toBe(1);
  expect(failing.stderr).toBe('db: the prober failed\n');
});
