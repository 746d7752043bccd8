/**
 * The scripts of calico_policy_ruleset (templates/scripts/policy-*.sh), `calico-net status`
 * (bird-status.sh) and the policy truth table (policy-verify-*.sh), run by bash here against
 * stand-in commands on PATH (nft, birdc, ip, ping): what each passes to the real command, which
 * exit each ends with, and what the operator then reads. No root, no host touched; the real
 * kernel's answers are test/calico/policy-transaction.test.ts's and the e2e suites'.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { birdStatusScript } from '../../cli/status';
import { listenerScript, proberScript } from '../../cli/policy-verify';
import { scriptFailure } from '../../providers/calico/exit-codes';
import { rulesetApply } from '../../providers/calico/policy-ruleset';
import { TABLE_HEADER, TABLE_MARK } from '../../providers/calico/nft-table';

/** Where this machine keeps each real command a script needs besides the stand-ins. */
const realPath = (tool: string) => spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
const REAL_TOOLS = Object.fromEntries(
  ['awk', 'mktemp', 'rm', 'cat', 'cp', 'touch', 'setsid', 'timeout', 'perl', 'sleep'].map((t) => [t, realPath(t)]),
);

let bin: string;
let log: string;
beforeEach(() => {
  bin = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-scripts-'));
  log = path.join(bin, 'calls');
  // Only what the scripts use besides the stand-ins: nothing else of this machine's is on PATH.
  for (const [tool, where] of Object.entries(REAL_TOOLS)) fs.symlinkSync(where, path.join(bin, tool));
});
afterEach(() => fs.rmSync(bin, { recursive: true, force: true }));

/** A stand-in command: logs its arguments one per line (then "--"), runs `body`. */
function standIn(name: string, body: string) {
  fs.writeFileSync(path.join(bin, name), `#!/bin/bash\nprintf '%s\\n' "${name}" "$@" -- >> '${log}'\n${body}\n`, {
    mode: 0o755,
  });
}
const calls = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '');
const run = (script: string) =>
  spawnSync('/bin/bash', ['--norc', '--noprofile', '-c', script], { encoding: 'utf8', env: { PATH: bin, HOME: bin } });

const RULESET = [TABLE_HEADER, `\t${TABLE_MARK}`, '\tchain probe { }', '}'].join('\n');
const apply = () => {
  const script = rulesetApply('n1', RULESET);
  const r = run(script.text);
  return { r, failure: scriptFailure(r.status ?? -1, r.stderr, script.exits, { node: 'n1', doing: 'load it' }) };
};

describe('policy-apply.sh', () => {
  it('no nft on the host: exit nft_missing, the script says which node and what to install', () => {
    const { r, failure } = apply();
    expect(r.status).toBe(51);
    expect([failure?.summary, failure?.options]).toEqual([
      'node n1 has no nft command (Debian package nftables); network policy cannot be enforced there: install it, then apply again',
      { attribute: undefined },
    ]);
  });

  it('a table of our name without our mark: exit policy_table_foreign, nothing loaded', () => {
    standIn(
      'nft',
      `[ "$1" = -f ] && exit 9; echo 'table inet calico-net {'; echo '  comment "someone else"'; echo '}'`,
    );
    const { r, failure } = apply();
    expect(r.status).toBe(52);
    expect(failure?.summary).toBe(
      "node n1 already has a table inet calico-net that calico-net did not create (it lacks calico-net's comment); it is left alone: remove or rename it, then apply again",
    );
    expect(calls()).not.toContain('\n-f\n');
  });

  it('nft refuses the ruleset and the table is as it was: exit nft_refused, on the ruleset attribute', () => {
    standIn('nft', `[ "$1" = -f ] && { echo 'Error: syntax error' >&2; exit 1; }; exit 0`);
    const { r, failure } = apply();
    expect(r.status).toBe(53);
    expect([failure?.summary, failure?.options.attribute]).toEqual([
      'nft refused the network policy of node n1; its table is as it was',
      ['ruleset'],
    ]);
    expect(failure?.options.detail).toBe(
      'node n1: nft refused the ruleset (the transaction was aborted; the table is as it was): Error: syntax error',
    );
    // Before: the table as it was, read terse and stateless, to compare with after the refusal.
    expect(calls()).toContain('nft\n-t\n-s\nlist\ntable\ninet\ncalico-net\n--\n');
  });

  it('nft refuses, yet the table changed: exit nft_table_changed', () => {
    standIn(
      'nft',
      `if [ "$1" = -f ]; then cp "$2" '${bin}/loaded'; touch '${bin}/changed'; exit 1; fi
       [ -e '${bin}/changed' ] && { echo 'table inet calico-net {'; echo '  ${TABLE_MARK}'; echo '}'; }; exit 0`,
    );
    const { r, failure } = apply();
    expect(r.status).toBe(54);
    expect(failure?.summary).toBe(
      'nft refused the network policy of node n1, and its table changed anyway: plan again to see it',
    );
    // The transaction nft was handed: our table created if missing, deleted, defined anew.
    expect(fs.readFileSync(path.join(bin, 'loaded'), 'utf8')).toBe(
      `table inet calico-net\ndelete table inet calico-net\n${RULESET}\n`,
    );
  });

  it('loaded: the listing follows the mark line', () => {
    standIn('nft', `[ "$1" = list ] && echo LISTED; exit 0`);
    const { r, failure } = apply();
    expect([r.status, failure, r.stdout]).toEqual([0, null, '==> calico-net listing\nLISTED\n']);
  });
});

describe('bird-status.sh', () => {
  it.each([
    ['protocols', ['show', 'protocols']],
    ['protocols-all', ['show', 'protocols', 'all']],
    ['bfd-sessions', ['show', 'bfd', 'sessions']],
  ] as const)('%s: birdc on the socket, its answer and exit code passed through', (question, words) => {
    standIn('birdc', 'echo answer; exit 3');
    const r = run(birdStatusScript("/run/bird/it's $(x).ctl", question));
    expect([r.status, r.stdout]).toEqual([3, 'answer\n']);
    expect(calls()).toBe(['birdc', '-s', "/run/bird/it's $(x).ctl", ...words, '--', ''].join('\n'));
  });
});

describe('policy-verify scripts', () => {
  it('the listener starts perl in the namespace with the ports as arguments, and prints its pid', () => {
    standIn('ip', 'exit 0');
    const r = run(listenerScript("w'1", [80, 443], [53]));
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\d+\n$/);
    for (let i = 0; i < 50 && !calls().endsWith('--\n'); i++) spawnSync('sleep', ['0.05']);
    const args = calls().split('\n');
    expect(args.slice(0, 6)).toEqual(['ip', 'netns', 'exec', "w'1", 'setsid', 'perl']);
    expect(args[6]).toBe('-e');
    expect(calls()).toContain('alarm(120);');
    expect(args.slice(-4)).toEqual(['80,443', '53', '--', '']);
  });

  it('the prober is one perl inside the namespace: one verdict per readable cell, a note for the rest', () => {
    // ip netns exec NAME CMD...: the stand-in runs CMD here. Port 1 on loopback has no listener:
    // the TCP connect is refused and the UDP datagram meets a port unreachable.
    standIn('ip', 'shift 3; exec "$@"');
    const r = run(proberScript('db', ['0 TCP 127.0.0.1 1', '1 UDP 127.0.0.1 1', '2 TCP 127.0.0.1 $(id)']));
    expect(r.stderr).toBe('db: calico-net prober: 1 cell line(s) it cannot read, left without a verdict\n');
    expect(r.stdout.trim().split('\n').sort()).toEqual(['0 deny', '1 deny']);
    expect(calls()).toMatch(/^ip\nnetns\nexec\ndb\nperl\n-e\n/);
  });
});
