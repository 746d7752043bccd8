/**
 * The address-family seam (rules/address-family.ts) at the edges test/constructs/address-family.test.ts
 * does not reach: the IPv6 link-local address a MAC gives (and what is no MAC), every octet range
 * of a dotted quad, blocks that overlap by exactly one address from either side, blocks that
 * share one end only, and splits past the family's width.
 *
 * Equivalent mutants (Stryker, address-family.ts):
 * - isIpv6Text: `text.includes(':')` made `text.includes('')` (always true): ipaddr.js's
 *   IPv6.isValid refuses any text without a colon itself (its first check), so no text changes
 *   its answer.
 * - addressText: `value < 0n` made `false`: a negative value shifted right by the family's width
 *   stays negative, so `value >> bits !== 0n` refuses it all the same.
 * - addressText: `address.kind() === 'ipv6'` made `false`, or its 'ipv6' made "": ipaddr.js's
 *   IPv6 toString() is toRFC5952String(), so an IPv6 value prints the same either way.
 */
import {
  addressText,
  cidrContainsCidr,
  cidrsOverlap,
  eui64LinkLocal,
  familyOf,
  IPV4,
  IPV6,
  isIpv6Text,
  parseCidr,
  splitCidr,
} from '../../rules/address-family';

test('a MAC gives its modified EUI-64 link-local address: ff:fe in the middle, the universal/local bit flipped', () => {
  expect(eui64LinkLocal('ee:ee:ee:ee:ee:ee')).toBe('fe80::ecee:eeff:feee:eeee');
  expect(eui64LinkLocal('02:00:00:00:00:01')).toBe('fe80::ff:fe00:1');
  expect(eui64LinkLocal('00:11:22:33:44:55')).toBe('fe80::211:22ff:fe33:4455');
  // Upper or mixed case spells the same MAC.
  expect(eui64LinkLocal('AA:BB:cc:DD:ee:9F')).toBe('fe80::a8bb:ccff:fedd:ee9f');
  expect(eui64LinkLocal('9a:b0:00:00:00:00')).toBe('fe80::98b0:ff:fe00:0');
});

test('what is no MAC is refused by name', () => {
  for (const bad of [
    '',
    'ee:ee:ee:ee:ee',
    'ee:ee:ee:ee:ee:ee:ee',
    'e:ee:ee:ee:ee:ee',
    'eee:ee:ee:ee:ee:ee',
    'ee:ee:ee:ee:ee:e',
    'ee:ee:ee:ee:ee:eee',
    'ee-ee-ee-ee-ee-ee',
    'eeee.eeee.eeee',
    'gg:ee:ee:ee:ee:ee',
    'ee:ee:ee:ee:ee:eg',
    ' ee:ee:ee:ee:ee:ee',
    'ee:ee:ee:ee:ee:ee ',
    'xee:ee:ee:ee:ee:ee',
    'ee:ee:ee:ee:ee:eex',
    'ee:ee:ee:ee:ee:ee\n',
  ])
    expect(() => eui64LinkLocal(bad)).toThrow(`"${bad}" is not a MAC address`);
});

test('a dotted quad: every octet from 0 to 255, written without leading zeros', () => {
  for (const good of ['0.9.10.99', '100.199.200.249', '250.255.1.0', '255.255.255.255'])
    expect([good, familyOf(good)]).toEqual([good, IPV4]);
  for (const bad of [
    '256.0.0.0',
    '0.0.0.260',
    '300.1.1.1',
    '1000.1.1.1',
    '00.1.1.1',
    '1.1.1.09',
    '-1.1.1.1',
    '1.1.1.a',
    '1.1.1',
    '1.1.1.1.',
    '.1.1.1.1',
    '1..1.1',
    'x1.1.1.1',
    '1.1.1.1x',
  ])
    expect([bad, familyOf(bad)]).toEqual([bad, undefined]);
});

test('IPv6 text: hex digits, colons and an embedded dotted quad, nothing else', () => {
  for (const good of ['::', 'ABCD:ef01::9', '::ffff:198.18.0.1', '0:0:0:0:0:0:0:1'])
    expect([good, isIpv6Text(good)]).toEqual([good, true]);
  for (const bad of ['fe80::1%eth0', 'fe80::1%1', '[::1]', '::1 ', 'x::1', '::1/128', '198.18.0.1'])
    expect([bad, isIpv6Text(bad)]).toEqual([bad, false]);
});

test('blocks that share exactly one address overlap, whichever is named first', () => {
  const block = parseCidr('198.19.1.0/24');
  const first = parseCidr('198.19.1.0/32');
  const last = parseCidr('198.19.1.255/32');
  for (const [a, b] of [
    [block, first],
    [first, block],
    [block, last],
    [last, block],
  ])
    expect(cidrsOverlap(a, b)).toBe(true);
  const after = parseCidr('198.19.2.0/32');
  const before = parseCidr('198.19.0.255/32');
  for (const [a, b] of [
    [block, after],
    [after, block],
    [block, before],
    [before, block],
  ])
    expect(cidrsOverlap(a, b)).toBe(false);
});

test('the first and last value of each family print; one past either end is refused', () => {
  expect(addressText(0n, IPV4)).toBe('0.0.0.0');
  expect(addressText(2n ** 32n - 1n, IPV4)).toBe('255.255.255.255');
  expect(addressText(0n, IPV6)).toBe('::');
  expect(addressText(2n ** 128n - 1n, IPV6)).toBe('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
  expect(() => addressText(-1n, IPV6)).toThrow('-1 is outside the IPv6 address space');
  expect(() => addressText(2n ** 32n, IPV4)).toThrow('4294967296 is outside the IPv4 address space');
});

test('a block holds another only from its first to its last address: a larger block from the same start, or one ending at the same place, is not held', () => {
  const block = parseCidr('198.19.1.0/24');
  expect(cidrContainsCidr(block, parseCidr('198.19.0.0/23'))).toBe(false);
  expect(cidrContainsCidr(parseCidr('198.19.0.0/24'), parseCidr('198.19.0.0/23'))).toBe(false);
  expect(cidrContainsCidr(parseCidr('198.19.0.0/23'), block)).toBe(true);
  expect(cidrContainsCidr(parseCidr('fd00:198:19:1::/64'), parseCidr('fd00:198:19::/63'))).toBe(false);
});

test('a split into blocks longer than the family allows is refused by name, in both families', () => {
  expect(() => splitCidr(parseCidr('198.19.0.0/24'), 33, 1)).toThrow('198.19.0.0/24 cannot split into /33 blocks');
  expect(() => splitCidr(parseCidr('fd00::/64'), 129, 1)).toThrow('fd00::/64 cannot split into /129 blocks');
});
