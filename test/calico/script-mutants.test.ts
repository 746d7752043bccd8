/**
 * The script loader (providers/calico/script.ts) at the edges scripts.test.ts does not reach:
 * which variable and file names it takes, how it finds the `fail NAME` exits in a body, each
 * library once however it is asked for, the shared values every script gets, and text that
 * would source a library the loader cannot inline. test/calico/script-files.test.ts gives the
 * loader script files of its own (comments, here-documents, libraries).
 *
 * Equivalent mutants (Stryker, script.ts): the two caches are only speed, so a run that skips
 * them reads the same files and builds the same body: `if (text === undefined)` made `true` in
 * readScriptFile (every call reads the file again), and `if (cached)` made `false` in scriptBody
 * (every call builds the body again).
 */
import { spawnSync } from 'child_process';
import {
  ipv6ScriptVars,
  remoteScript,
  scriptBody,
  scriptConstants,
  scriptFamilyOf,
  scriptWithVars,
} from '../../providers/calico/script';
import { IPV4 } from '../../rules/address-family';

const bash = (script: string) => spawnSync('bash', ['--norc', '--noprofile', '-c', script], { encoding: 'utf8' });

test('scriptWithVars: strict mode, then each value quoted, then the body', () => {
  expect(scriptWithVars({ a: "it's", _B1: '' }, 'echo "$a"')).toBe(
    "set -euo pipefail\na='it'\\''s'\n_B1=''\necho \"$a\"",
  );
  for (const bad of ['1a', 'a b', 'a-b', '', 'a\nb', 'a;b', 'ä', '$a'])
    expect(() => scriptWithVars({ [bad]: 'x' }, '')).toThrow(`bad shell variable name ${bad}`);
});

test('script file names: a name or lib/name, lower case, nothing that leaves templates/scripts', () => {
  for (const bad of [
    'Node-apply',
    'lib/lib/registry',
    'lib/',
    '',
    'node-apply.sh',
    'x/node-apply',
    'node apply',
    'lib\n',
  ])
    expect(() => scriptBody([bad])).toThrow(`bad script name ${bad}`);
  expect(scriptBody(['lib/exit-codes']).body).toMatch(/^fail\(\) \{/m);
});

test('the exits of a body: `fail NAME` as a command, wherever a command can start', () => {
  const exits = (text: string) => [...scriptBody([{ text }]).exits].sort();
  expect(exits('fail refused "x"')).toEqual(['refused']);
  expect(
    exits(
      'x || fail nft_missing y\n{ fail no_ipip; }\n(fail bird_missing)\ny&&fail nft_refused\n;fail gateway_blocked',
    ),
  ).toEqual(['bird_missing', 'gateway_blocked', 'nft_missing', 'nft_refused', 'no_ipip']);
  expect(exits('a|fail refused\n\tfail address_missing')).toEqual(['address_missing', 'refused']);
  // Not the command fail: part of another word, or no name after it.
  expect(exits('nofail refused\nfailed refused\necho fail-refused\nfail "$name"\nfail')).toEqual([]);
  expect(() => scriptBody([{ text: 'true && fail not_a_name x' }])).toThrow(
    'script [{"text":"true && fail not_a_name x"}] fails with not_a_name, which exit-codes.ts does not know',
  );
  // A bare word after `fail` is an exit name: one the table lacks is refused in any spelling,
  // never read as a known name it begins with.
  for (const [text, name] of [
    ['fail Refused x', 'Refused'],
    ['x || fail refused2', 'refused2'],
    ['fail NFT_MISSING', 'NFT_MISSING'],
  ])
    expect(() => scriptBody([{ text }])).toThrow(`fails with ${name}, which exit-codes.ts does not know`);
});

test('each library once per script, however many pieces ask for it', () => {
  const once = scriptBody(['lib/exit-codes']).body;
  expect(scriptBody(['lib/exit-codes', 'lib/exit-codes']).body).toBe(once);
  const fails = (body: string) => body.match(/^fail\(\) \{/gm)?.length ?? 0;
  // A script that sources the library after the library was given as a piece, and the reverse.
  expect(fails(scriptBody(['lib/exit-codes', 'node-apply']).body)).toBe(1);
  expect(fails(scriptBody(['node-apply', 'lib/exit-codes']).body)).toBe(1);
  expect(fails(scriptBody(['node-apply', 'node-delete']).body)).toBe(1);
  // The same pieces give the same body on a second call.
  expect(scriptBody(['node-apply', { text: 'x' }])).toEqual(scriptBody(['node-apply', { text: 'x' }]));
});

test('text that would source a library the loader cannot inline is refused', () => {
  for (const text of ['. "$LIB/exit-codes.sh"', 'source "$LIB/x.sh"', '. "${LIB}/routes.sh"', 'cat "${LIB:-/x}/a"'])
    expect(() => scriptBody([{ text }])).toThrow(/sources a library in a form the loader does not inline/);
  // A name that only starts with LIB is no reference to it.
  expect(() => scriptBody([{ text: 'echo "$LIBRARY ${LIBS}"' }])).not.toThrow();
});

test('the values every script shares: constants, IPv6 beside the family, and no resource value may take their names', () => {
  expect(scriptConstants()).toEqual({
    CALICO_MARK: 'calico-net',
    ROUTE_PROTO: '211',
    POD_GATEWAY: '169.254.1.1',
    OWN_GATEWAY_DEV: 'lo',
    HOST_VETH_MAC: 'ee:ee:ee:ee:ee:ee',
    V6_IP_FAMILY_FLAG: '-6',
    V6_HOST_PREFIX: '128',
    V6_SYSCTL_DIR: '/proc/sys/net/ipv6',
    V6_IP_FORWARD: 'conf/all/forwarding',
    V6_DEFAULT_METRIC: '1024',
    V6_POD_GATEWAY: 'fe80::ecee:eeff:feee:eeee',
    V6_DEFAULT_ROUTE: '::/0',
    OVERLAY_DEVICES: 'vxlan.calico tunl0 vxlan.calico.t',
    ENCAPSULATION_DEVICES: 'vxlan.calico tunl0',
  });
  expect(Object.keys(ipv6ScriptVars()).every((k) => k.startsWith('V6_'))).toBe(true);
  expect(scriptFamilyOf(IPV4)).toEqual({
    IP_FAMILY_FLAG: '-4',
    HOST_PREFIX: '32',
    SYSCTL_DIR: '/proc/sys/net/ipv4',
    IP_FORWARD: 'ip_forward',
    DEFAULT_METRIC: '0',
  });
  for (const name of ['LIB', 'CALICO_MARK', 'V6_POD_GATEWAY', 'IP_FAMILY_FLAG', 'DEFAULT_METRIC'])
    expect(() => remoteScript([{ text: 'true' }], { [name]: 'x' })).toThrow(
      `script variable ${name} is one of the shared names`,
    );
  // Lower-case names are the resource's own, and reach the body beside the shared ones.
  const r = bash(
    remoteScript([{ text: 'printf %s "$lib|$ENCAPSULATION_DEVICES|$V6_DEFAULT_ROUTE"' }], { lib: 'l' }).text,
  );
  expect([r.status, r.stdout]).toEqual([0, 'l|vxlan.calico tunl0|::/0']);
  expect(remoteScript([{ text: 'fail refused x' }], {}).exits).toEqual(new Set(['refused']));
});
