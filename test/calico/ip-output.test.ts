/**
 * The iproute2 output parsers on the exact shapes `ip -o link`, `ip -o -4 addr` and `ip -4 route`
 * print (iproute2 6.x on this kernel), edge cases included.
 */
import { spawnSync } from 'child_process';
import {
  canonicalPrefix,
  parseAddresses,
  parseIpBatch,
  parseLinks,
  parseRoutes,
} from '../../providers/calico/ip-output';
import { remoteScript } from '../../providers/calico/script';

test('canonicalPrefix: host routes get /32, default is 0.0.0.0/0, prefixes stay', () => {
  expect(canonicalPrefix('198.19.1.2')).toBe('198.19.1.2/32');
  expect(canonicalPrefix('default')).toBe('0.0.0.0/0');
  expect(canonicalPrefix('198.19.1.0/24')).toBe('198.19.1.0/24');
});

test('parseLinks: index, name, veth peer index and flags; other lines are skipped', () => {
  const text = [
    '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00',
    '7: cali1234567890a@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT',
    '12: eth0@p1: <BROADCAST> mtu 1500',
    '13: noflags: <> mtu 1500',
    '    continuation line',
    'garbage',
    '',
  ].join('\n');
  expect(parseLinks(text)).toEqual([
    { index: 1, name: 'lo', peerIndex: undefined, flags: ['LOOPBACK', 'UP', 'LOWER_UP'] },
    { index: 7, name: 'cali1234567890a', peerIndex: 2, flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'] },
    { index: 12, name: 'eth0', peerIndex: undefined, flags: ['BROADCAST'] },
    { index: 13, name: 'noflags', peerIndex: undefined, flags: [] },
  ]);
});

test('parseAddresses: device, address and prefix length of each inet line', () => {
  const text = [
    '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
    '2: eth0    inet 198.18.0.1/24 brd 198.18.0.255 scope global eth0\\       valid_lft forever preferred_lft forever',
    '2: eth0    inet6 fe80::1/64 scope link',
    '3: x    inet 10.0.0.1/32',
    'no address here',
  ].join('\n');
  expect(parseAddresses(text)).toEqual([
    { dev: 'lo', address: '127.0.0.1', prefixLength: 8 },
    { dev: 'eth0', address: '198.18.0.1', prefixLength: 24 },
  ]);
});

test('parseRoutes: types, host and default prefixes, keys with values; multipath continuations skipped', () => {
  const text = [
    'default via 198.18.0.254 dev eth0 ',
    'blackhole 198.19.1.0/24 proto 211 ',
    'unreachable 198.19.9.0/24 ',
    '198.19.1.2 dev cali1234567890a proto 211 scope link ',
    '198.19.3.0/24 proto bird metric 32 ',
    '\tnexthop via 198.18.0.3 dev eth0 weight 1 ',
    '198.18.0.0/24 dev eth0 proto kernel scope link src 198.18.0.1 ',
    'local 198.18.0.1 dev eth0 table local proto kernel scope host src 198.18.0.1',
    '198.19.4.0/24 via 198.18.0.4 dev',
    'throw',
    '',
  ].join('\n');
  // Strict: a key at the end of a line must not appear at all (not even as undefined).
  expect(parseRoutes(text)).toStrictEqual([
    { type: 'unicast', prefix: '0.0.0.0/0', via: '198.18.0.254', dev: 'eth0' },
    { type: 'blackhole', prefix: '198.19.1.0/24', proto: '211' },
    { type: 'unreachable', prefix: '198.19.9.0/24' },
    { type: 'unicast', prefix: '198.19.1.2/32', dev: 'cali1234567890a', proto: '211', scope: 'link' },
    { type: 'unicast', prefix: '198.19.3.0/24', proto: 'bird' },
    { type: 'unicast', prefix: '198.18.0.0/24', dev: 'eth0', proto: 'kernel', scope: 'link', src: '198.18.0.1' },
    { type: 'local', prefix: '198.18.0.1/32', dev: 'eth0', proto: 'kernel', scope: 'host', src: '198.18.0.1' },
    // A key at the end of the line has no value and is ignored.
    { type: 'unicast', prefix: '198.19.4.0/24', via: '198.18.0.4' },
  ]);
});

test('parseRoutes: runs of blanks separate words, and a trailing key stays ignored with blanks after it', () => {
  expect(parseRoutes('198.19.5.0/24  via  198.18.0.5   dev eth1\n198.19.6.0/24 via 198.18.0.6 dev   \n')).toStrictEqual(
    [
      { type: 'unicast', prefix: '198.19.5.0/24', via: '198.18.0.5', dev: 'eth1' },
      { type: 'unicast', prefix: '198.19.6.0/24', via: '198.18.0.6' },
    ],
  );
});

test('parseLinks: peer index only from a whole "ifN", multi-digit; link-netns and alias; a header must start the line', () => {
  const text = [
    '8: cali00000000001@if12: <BROADCAST,UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether 02:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff link-netns wl-web-1',
    '1: lo: <LOOPBACK,UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\\    alias calico-net web-1 ',
    '9: veth1@xif3: <UP> mtu 1500',
    '10: veth2@if3x: <UP> mtu 1500',
    'junk 11: fake: <UP> mtu 1500',
    '14: cali00000000002@if2: <UP> mtu 1500 qdisc noqueue state UP\\    link/ether ee:ee:ee:ee:ee:ee brd ff:ff:ff:ff:ff:ff link-netns wl2\\    alias calico-net',
  ].join('\n');
  expect(parseLinks(text)).toStrictEqual([
    { index: 8, name: 'cali00000000001', peerIndex: 12, flags: ['BROADCAST', 'UP'], peerNetns: 'wl-web-1' },
    { index: 1, name: 'lo', peerIndex: undefined, flags: ['LOOPBACK', 'UP'], alias: 'calico-net web-1' },
    { index: 9, name: 'veth1', peerIndex: undefined, flags: ['UP'] },
    { index: 10, name: 'veth2', peerIndex: undefined, flags: ['UP'] },
    // link-netns followed by more fields (an alias): the name ends before the "\\".
    { index: 14, name: 'cali00000000002', peerIndex: 2, flags: ['UP'], peerNetns: 'wl2', alias: 'calico-net' },
  ]);
});

test('parseAddresses: blanks of any width between fields, multi-digit indexes; a line must start with the index', () => {
  const text = [
    '12:  eth1  inet  198.18.0.12/24 brd 198.18.0.255 scope global eth1',
    'x 13: eth2    inet 198.18.0.13/24 scope global eth2',
  ].join('\n');
  expect(parseAddresses(text)).toStrictEqual([{ dev: 'eth1', address: '198.18.0.12', prefixLength: 24 }]);
});

test('parseIpBatch: one `ip -4 -o -batch` answer (links, addresses, main table) splits by line shape', () => {
  // Printed by iproute2 6.1 for a namespace with a veth pair and a multipath route.
  const text = [
    '1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\\    alias calico-net',
    '2: vb@va: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether 86:e7:25:32:4a:c0 brd ff:ff:ff:ff:ff:ff',
    '3: va@vb: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether 62:cd:0a:f4:e5:df brd ff:ff:ff:ff:ff:ff',
    '3: va    inet 198.18.250.1/24 scope global va\\       valid_lft forever preferred_lft forever',
    '198.18.250.0/24 dev va proto kernel scope link src 198.18.250.1 ',
    '198.19.250.0/24 proto 211 \\\tnexthop via 198.18.250.2 dev va weight 1 \\\tnexthop via 198.18.250.3 dev va weight 1 ',
    'blackhole 198.19.251.0/24 proto 211 ',
    '',
  ].join('\n');
  const view = parseIpBatch(text);
  expect(view.links.map((l) => [l.name, l.alias])).toEqual([
    ['lo', 'calico-net'],
    ['vb', undefined],
    ['va', undefined],
  ]);
  expect(view.addresses).toEqual([{ dev: 'va', address: '198.18.250.1', prefixLength: 24 }]);
  expect(view.routes).toStrictEqual([
    { type: 'unicast', prefix: '198.18.250.0/24', dev: 'va', proto: 'kernel', scope: 'link', src: '198.18.250.1' },
    // The nexthops after the backslashes are not the route's own dev and via.
    { type: 'unicast', prefix: '198.19.250.0/24', proto: '211' },
    { type: 'blackhole', prefix: '198.19.251.0/24', proto: '211' },
  ]);
  expect(view.routeLines).toHaveLength(3);
  // Nothing is taken twice: a link or address line is never a route, nor any other "N:" line
  // (ifindex past 9, an address family the read did not ask for).
  expect(parseIpBatch(text.split('\n').slice(0, 4).join('\n')).routes).toEqual([]);
  expect(parseIpBatch('12: lo    inet6 ::1/128 scope host\n  continued\n').routeLines).toEqual([]);
  // A line is cut at its first backslash, wherever it is.
  expect(parseRoutes('\\tnexthop via 198.18.0.3 dev eth0\n')).toEqual([]);
});

test('ip_batch_read (lib/ip-read.sh): one ip process reads all three, in the host or a named namespace', () => {
  // A stand-in `ip` prints its arguments and what it was fed: no network is read.
  const fake = { text: 'ip() { printf \'ip %s\\n\' "$*"; cat; }\nip_batch_read host\nip_batch_read netns "$ns"' };
  const r = spawnSync(
    'bash',
    ['--norc', '--noprofile', '-c', remoteScript(['lib/ip-read', fake], { ns: 'web 1' }).text],
    { encoding: 'utf8' },
  );
  expect(r.stderr).toBe('');
  const batch = 'link show\naddr show\nroute show table main\n';
  expect(r.stdout).toBe(`ip -4 -o -batch -\n${batch}ip -n web 1 -4 -o -batch -\n${batch}`);
});
