/**
 * The remote scripts as files (templates/scripts) and their one loader (providers/calico/script.ts):
 * shellcheck finds nothing; the exit-code table is the same in shell and TypeScript; every script
 * the provider can send puts its libraries in place, parses, and reads no shared variable the
 * loader does not supply. Runs shellcheck and `bash -n` locally: no root, no host touched.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { EXIT_CODES, ExitName, scriptFailure } from '../../providers/calico/exit-codes';
import {
  remoteScript,
  scriptBody,
  scriptConstants,
  scriptFamilyOf,
  scriptsDir,
  IPV4_SCRIPT_FAMILY,
  scriptWithVars,
} from '../../providers/calico/script';
import { IPV6 } from '../../rules/address-family';
import { newMarkKey, parseSnapshot, snapshotScript } from '../../providers/calico/host-snapshot';
import { SNAPSHOT_SECTIONS } from '../../providers/calico';

function scriptFiles(dir = scriptsDir(), rel = ''): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.isDirectory()) return scriptFiles(path.join(dir, e.name), `${rel}${e.name}/`);
    return e.name.endsWith('.sh') ? [`${rel}${e.name.slice(0, -3)}`] : [];
  });
}

const bash = (script: string, stdin = '') =>
  spawnSync('bash', ['--norc', '--noprofile', '-c', script], { encoding: 'utf8', input: stdin });

/** Every script a handler sends, as the handlers compose them. */
const SENT: string[][] = [
  ['node-apply'],
  ['node-delete'],
  ['workload-apply'],
  ['workload-delete'],
  ['bird-config-write'],
  ['bird-config-delete'],
  ['bird-config-read'],
  ['overlay-vxlan', 'overlay-apply'],
  ['overlay-vxlan', 'overlay-delete'],
  ['overlay-ipip', 'overlay-apply'],
  ['overlay-ipip', 'overlay-delete'],
  ['verify-ping'],
  ['policy-apply'],
  ['policy-read'],
  ['policy-delete'],
  ['bird-status'],
  ['policy-verify-listener'],
  ['policy-verify-prober'],
  ['policy-verify-stop'],
];

test('shellcheck finds nothing in templates/scripts (it follows the libraries each script sources)', () => {
  const files = scriptFiles().map((f) => `${f}.sh`);
  expect(files.length).toBeGreaterThan(15);
  const r = spawnSync('shellcheck', ['--external-sources', '--source-path=SCRIPTDIR', '--format=gcc', ...files], {
    cwd: scriptsDir(),
    encoding: 'utf8',
  });
  if (r.error)
    throw new Error(`shellcheck could not run (Debian package shellcheck; npm test installs it): ${r.error.message}`);
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
});

test('the exit codes: lib/exit-codes.sh and exit-codes.ts hold the same names and codes, each code once', () => {
  const text = fs.readFileSync(path.join(scriptsDir(), 'lib', 'exit-codes.sh'), 'utf8');
  const shell = Object.fromEntries(
    [...text.matchAll(/^\s+([a-z_]+)\) code=(\d+) ;;$/gm)].map((m) => [m[1], Number(m[2])]),
  );
  const ts = Object.fromEntries(Object.entries(EXIT_CODES).map(([name, m]) => [name, m.code]));
  expect(shell).toEqual(ts);
  const codes = Object.values(ts);
  expect(new Set(codes).size).toBe(codes.length);
  // No code of ours is one bash gives a meaning of its own (126+: not executable, not found, signals).
  for (const code of codes) expect(code).toBeLessThan(126);
});

test('fail NAME MESSAGE exits with the code of NAME and says MESSAGE on stderr', () => {
  for (const [name, { code }] of Object.entries(EXIT_CODES)) {
    const r = bash(
      remoteScript(['lib/exit-codes', { text: `fail ${name} "it's \\$node: $node"` }], { node: 'n1' }).text,
    );
    expect([r.status, r.stderr]).toEqual([code, "it's $node: n1\n"]);
  }
  // A name the table lacks: the loader refuses the script; one it cannot see still fails, with 70.
  expect(() => remoteScript(['lib/exit-codes', { text: 'fail no_such_name x' }], {})).toThrow(
    /exit-codes.ts does not know/,
  );
  expect(bash(remoteScript(['lib/exit-codes', { text: 'name=no_such_name; fail "$name" x' }], {}).text).status).toBe(
    70,
  );
});

test('an exit code means what the table says only for a script that can end with it', () => {
  const ctx = { node: 'n1', doing: 'write bird.conf', file: '/etc/bird/bird.conf' };
  const exits = new Set<ExitName>(['address_missing', 'bird_rejected']);
  const own = scriptFailure(44, 'n1 does not hold its address\n', exits, ctx);
  expect([own?.summary, own?.options]).toEqual(['n1 does not hold its address', { attribute: ['address'] }]);
  const table = scriptFailure(43, 'syntax error\n', exits, ctx);
  expect([table?.summary, table?.options]).toEqual([
    'BIRD rejected the new configuration for node n1; /etc/bird/bird.conf was left untouched',
    { detail: 'syntax error', attribute: ['content'] },
  ]);
  // 45 is bird_rolled_back, but this script never says so: a plain failure.
  const other = scriptFailure(45, '', exits, ctx);
  expect([other?.summary, other?.options]).toEqual([
    'Failed to write bird.conf on node n1',
    { detail: 'exit code 45' },
  ]);
  expect(scriptFailure(0, '', exits, ctx)).toBeNull();
});

test.each(SENT.map((pieces) => [pieces.join(' + '), pieces]))(
  '%s: libraries in place once, parses, uses only supplied shared variables',
  (_name, pieces) => {
    const { body, exits } = scriptBody(pieces);
    expect(body).not.toContain('$LIB');
    expect(body).not.toMatch(/^# shellcheck /m);
    // Each function is defined once, however many pieces source its library.
    const defs = [...body.matchAll(/^([a-z_]+)\(\) \{/gm)].map((m) => m[1]);
    expect(new Set(defs).size).toBe(defs.length);
    const text = remoteScript(pieces, {}).text;
    const r = spawnSync('bash', ['-n'], { input: text, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const supplied = new Set([...Object.keys(scriptConstants()), ...Object.keys(IPV4_SCRIPT_FAMILY)]);
    const bashOwn = new Set(['BASH_REMATCH', 'SECONDS', 'PATH', 'IFS']);
    const used = new Set([...body.matchAll(/\$\{?([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]));
    for (const name of used)
      expect(bashOwn.has(name) || supplied.has(name) ? name : `${name} (not supplied)`).toBe(name);
    for (const name of exits) expect(EXIT_CODES[name]).toBeDefined();
  },
);

test('the exits a script can end with are read from its text', () => {
  expect([...scriptBody(['node-apply']).exits].sort()).toEqual(['address_missing', 'gateway_blocked', 'refused']);
  expect([...scriptBody(['overlay-ipip', 'overlay-apply']).exits].sort()).toEqual([
    'address_missing',
    'no_ipip',
    'refused',
  ]);
  expect([...scriptBody(['policy-apply']).exits].sort()).toEqual([
    'nft_missing',
    'nft_refused',
    'nft_table_changed',
    'policy_table_foreign',
  ]);
  expect([...scriptBody(['bird-config-write']).exits].sort()).toEqual([
    'bird_missing',
    'bird_not_running',
    'bird_rejected',
    'bird_rolled_back',
    'refused',
  ]);
});

test('a script missing one of its own variables stops before doing anything', () => {
  const r = bash(
    remoteScript(['node-delete'], { node: 'n1', registry: '/nonexistent/objects', rec: '/nonexistent/rec', orig: '' })
      .text,
  );
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(/cidr: parameter null or not set/);
});

test('values reach the script as quoted variables, never as code; shared names cannot be overridden', () => {
  const nasty = `'; touch /tmp/x; echo "\${IFS}$(id)\`id\`\n`;
  const r = bash(remoteScript([{ text: 'printf %s "$node|$HOST_PREFIX|$CALICO_MARK"' }], { node: nasty }).text);
  expect(r.stdout).toBe(`${nasty}|32|calico-net`);
  expect(() => remoteScript(['node-apply'], { HOST_PREFIX: '0' })).toThrow(/shared names/);
  expect(() => remoteScript(['../etc/passwd'], {})).toThrow(/bad script name/);
  expect(() => scriptWithVars({ 'a-b': 'x' }, '')).toThrow(/bad shell variable name/);
});

test('the address family reaches the scripts from one place: an IPv6 family changes the values, not the scripts', () => {
  const ipv6 = scriptFamilyOf(IPV6);
  const show = { text: 'printf "%s %s %s %s" "$IP_FAMILY_FLAG" "$HOST_PREFIX" "$SYSCTL_DIR" "$IP_FORWARD"' };
  expect(bash(remoteScript([show], {}).text).stdout).toBe('-4 32 /proc/sys/net/ipv4 ip_forward');
  expect(bash(remoteScript([show], {}, ipv6).text).stdout).toBe('-6 128 /proc/sys/net/ipv6 conf/all/forwarding');
  // No script names a family itself, but for the one IPv6 sysctl every workload veth gets (accept_ra).
  for (const file of scriptFiles()) {
    const text = fs.readFileSync(path.join(scriptsDir(), `${file}.sh`), 'utf8').replace(/^\s*#.*$/gm, '');
    const family = text
      .split('\n')
      .filter(
        (l) => /ip -4|ip -6|\/32\b|net\/ipv4|\/ip_forward/.test(l) && !/net\/ipv6\/conf\/\$hif\/accept_ra/.test(l),
      );
    expect([file, family]).toEqual([file, []]);
  }
});

test('the snapshot script, run here, frames every section so the parser finds them all', () => {
  const key = newMarkKey();
  const script = snapshotScript(SNAPSHOT_SECTIONS, key);
  expect(spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' }).stderr).toBe('');
  // Read-only: links, routes and files of this machine, printed.
  const r = bash(script);
  expect(r.stderr).toBe('');
  const snapshot = parseSnapshot(`banner\n${r.stdout}`, SNAPSHOT_SECTIONS, 'local', key);
  for (const section of SNAPSHOT_SECTIONS) expect(() => snapshot.get(section)).not.toThrow();
});

test('comment and blank lines stay home, here-documents travel whole', () => {
  const { body } = scriptBody(['workload-apply']);
  expect(body).not.toMatch(/^\s*#/m);
  expect(body).not.toMatch(/^\s*$/m);
  expect(body).toContain('ip -n "$ns" -batch - <<BATCH\nlink set dev eth0 mtu $mtu\n');
  const { body: read } = scriptBody(['lib/ip-read', { text: 'x' }]);
  expect(read).toContain("<<'IP_BATCH'\nlink show\naddr show\nroute show table main\nIP_BATCH\n}\nx");
  const fake = { text: 'ip() { cat; }\nip_batch_read host' };
  expect(bash(remoteScript(['lib/ip-read', fake], {}).text).stdout).toBe(
    'link show\naddr show\nroute show table main\n',
  );
});
