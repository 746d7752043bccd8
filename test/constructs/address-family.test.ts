/**
 * The address-family seam (rules/address-family.ts): each family's names, and CIDR maths on both
 * families at the exact edges (first and last address, /0, host prefixes, the 2**32 and 2**128
 * boundaries), so the IPv4 callers keep their behaviour and IPv6 gets the same answers.
 */
import {
  ADDRESS_FAMILIES,
  addressText,
  addressValue,
  canonicalIpv6,
  cidrContainsCidr,
  cidrContainsIp,
  cidrsOverlap,
  familyOf,
  hostRoute,
  IPV4,
  IPV6,
  isIpv4Text,
  isIpv6Text,
  lastAddress,
  networkAddress,
  networkCidrOf,
  networkOf,
  nthAddress,
  parseCidr,
  splitCidr,
} from '../../rules/address-family';

describe('the two families', () => {
  it('own the ip flag, host prefix, sysctl directory, BIRD channel and default route', () => {
    expect(IPV4).toEqual({
      version: 4,
      name: 'IPv4',
      bits: 32,
      ipFlag: '-4',
      hostPrefix: 32,
      sysctlDir: '/proc/sys/net/ipv4',
      forwardingSysctl: 'ip_forward',
      birdChannel: 'ipv4',
      defaultRoute: '0.0.0.0/0',
      neighbourTable: 'arp_cache',
      neighbourProtocol: 'ARP',
      defaultRouteMetric: 0,
    });
    expect(IPV6).toEqual({
      version: 6,
      name: 'IPv6',
      bits: 128,
      ipFlag: '-6',
      hostPrefix: 128,
      sysctlDir: '/proc/sys/net/ipv6',
      forwardingSysctl: 'conf/all/forwarding',
      birdChannel: 'ipv6',
      defaultRoute: '::/0',
      neighbourTable: 'ndisc_cache',
      neighbourProtocol: 'NDP',
      defaultRouteMetric: 1024,
    });
    expect(ADDRESS_FAMILIES).toEqual([IPV4, IPV6]);
  });

  it('tell an address family by its text, strictly', () => {
    expect(familyOf('198.18.1.1')).toBe(IPV4);
    expect(familyOf('0.0.0.0')).toBe(IPV4);
    expect(familyOf('255.255.255.255')).toBe(IPV4);
    expect(familyOf('fd00:198:18::1')).toBe(IPV6);
    expect(familyOf('::')).toBe(IPV6);
    expect(familyOf('::ffff:198.18.1.1')).toBe(IPV6);
    expect(familyOf('FD00::1')).toBe(IPV6);
    for (const bad of [
      '',
      '198.18.1',
      '198.18.1.1.1',
      '256.1.1.1',
      '01.1.1.1',
      '1.1.1.1 ',
      ' ::1',
      'fe80::1%eth0',
      'fd00::1/64',
      ':::',
      'fd00::1::2',
      'g::1',
      '1.1.1.1/32',
      '0x7f.0.0.1',
      '12345::',
      'localhost',
    ]) {
      expect([bad, familyOf(bad)]).toEqual([bad, undefined]);
    }
    expect(isIpv4Text('10.0.0.255')).toBe(true);
    expect(isIpv4Text('10.0.0.256')).toBe(false);
    expect(isIpv6Text('1.2.3.4')).toBe(false);
    expect(isIpv6Text('2001:db8::')).toBe(true);
  });

  it('print IPv6 in the one canonical spelling iproute2 and BIRD use', () => {
    expect(canonicalIpv6('FD00:0198:0018:0000:0000:0000:0000:0001')).toBe('fd00:198:18::1');
    expect(canonicalIpv6('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(canonicalIpv6('::')).toBe('::');
    expect(canonicalIpv6('fd00:198:18:0::')).toBe('fd00:198:18::');
  });
});

describe('address values', () => {
  it('round-trip at both ends of each family', () => {
    expect(addressValue('0.0.0.0')).toBe(0n);
    expect(addressValue('0.0.0.1')).toBe(1n);
    expect(addressValue('198.19.1.0')).toBe(3323134208n);
    expect(addressValue('255.255.255.255')).toBe(2n ** 32n - 1n);
    expect(addressValue('::')).toBe(0n);
    expect(addressValue('::1')).toBe(1n);
    expect(addressValue('::ffff:ffff')).toBe(2n ** 32n - 1n);
    expect(addressValue('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toBe(2n ** 128n - 1n);
    expect(addressValue('fd00:198:18::1')).toBe((0xfd00n << 112n) | (0x198n << 96n) | (0x18n << 80n) | 1n);
    for (const a of ['0.0.0.0', '10.1.2.3', '255.255.255.255']) expect(addressText(addressValue(a), IPV4)).toBe(a);
    for (const a of [
      '::',
      '::1',
      'fd00:198:18::1',
      'fe80::ecee:eeff:feee:eeee',
      'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    ])
      expect(addressText(addressValue(a), IPV6)).toBe(a);
    // The same number prints per family: an IPv4 value is never an IPv6 text by accident.
    expect(addressText(1n, IPV4)).toBe('0.0.0.1');
    expect(addressText(1n, IPV6)).toBe('::1');
  });

  it('refuse values outside the family and text no family accepts', () => {
    expect(() => addressText(2n ** 32n, IPV4)).toThrow('outside the IPv4 address space');
    expect(() => addressText(-1n, IPV4)).toThrow(RangeError);
    expect(() => addressText(2n ** 128n, IPV6)).toThrow('outside the IPv6 address space');
    expect(() => addressValue('198.18.1')).toThrow('"198.18.1" is neither an IPv4 nor an IPv6 address');
    expect(() => addressValue('fe80::1%eth0')).toThrow('neither');
  });

  it('make host routes with the family host prefix', () => {
    expect(hostRoute('198.18.1.2')).toBe('198.18.1.2/32');
    expect(hostRoute('fd00:198:18::2')).toBe('fd00:198:18::2/128');
    expect(() => hostRoute('nope')).toThrow('neither');
  });
});

describe('CIDR blocks', () => {
  it('parse into first and last address in either family', () => {
    expect(parseCidr('198.19.1.0/24')).toEqual({
      text: '198.19.1.0/24',
      family: IPV4,
      network: 3323134208n,
      length: 24,
      last: 3323134463n,
    });
    expect(parseCidr('0.0.0.0/0')).toMatchObject({ network: 0n, length: 0, last: 2n ** 32n - 1n });
    expect(parseCidr('10.0.0.7/32')).toMatchObject({
      network: addressValue('10.0.0.7'),
      last: addressValue('10.0.0.7'),
    });
    const v6 = parseCidr('fd00:198:19:1::/64');
    expect(v6).toMatchObject({
      family: IPV6,
      length: 64,
      network: addressValue('fd00:198:19:1::'),
      last: addressValue('fd00:198:19:1:ffff:ffff:ffff:ffff'),
    });
    expect(parseCidr('::/0')).toMatchObject({ network: 0n, last: 2n ** 128n - 1n });
    expect(parseCidr('fd00::1/128')).toMatchObject({ network: 1n + (0xfd00n << 112n), last: 1n + (0xfd00n << 112n) });
  });

  it('refuse a prefix length the family cannot have', () => {
    expect(() => parseCidr('10.0.0.0/33')).toThrow('"10.0.0.0/33" has no valid IPv4 prefix length');
    expect(() => parseCidr('fd00::/129')).toThrow('no valid IPv6 prefix length');
    expect(() => parseCidr('10.0.0.0/-1')).toThrow(RangeError);
    expect(() => parseCidr('10.0.0.0/x')).toThrow(RangeError);
    expect(() => parseCidr('10.0.0.0/2.5')).toThrow(RangeError);
    expect(() => parseCidr('nothing/8')).toThrow('neither');
  });

  it('contain, nest and overlap at their exact edges, never across families', () => {
    const b = parseCidr('fd00:198:19:1::/64');
    expect(cidrContainsIp(b, 'fd00:198:19:1::')).toBe(true);
    expect(cidrContainsIp(b, 'fd00:198:19:1:ffff:ffff:ffff:ffff')).toBe(true);
    expect(cidrContainsIp(b, 'fd00:198:19:0:ffff:ffff:ffff:ffff')).toBe(false);
    expect(cidrContainsIp(b, 'fd00:198:19:2::')).toBe(false);
    expect(cidrContainsIp(b, 'not an address')).toBe(false);
    expect(cidrContainsCidr(parseCidr('fd00:198:19::/48'), b)).toBe(true);
    expect(cidrContainsCidr(b, parseCidr('fd00:198:19::/48'))).toBe(false);
    expect(cidrContainsCidr(b, b)).toBe(true);
    expect(cidrsOverlap(b, parseCidr('fd00:198:19:1:ffff:ffff:ffff:ffff/128'))).toBe(true);
    expect(cidrsOverlap(parseCidr('fd00:198:19:1::/128'), b)).toBe(true);
    expect(cidrsOverlap(b, parseCidr('fd00:198:19:2::/64'))).toBe(false);
    expect(cidrsOverlap(parseCidr('fd00:198:19::/64'), b)).toBe(false);
    // ::/0 and 0.0.0.0/0 hold numerically equal values, yet nothing of the other family.
    const all4 = parseCidr('0.0.0.0/0');
    const all6 = parseCidr('::/0');
    expect(cidrContainsIp(all4, '::1')).toBe(false);
    expect(cidrContainsIp(all6, '0.0.0.1')).toBe(false);
    expect(cidrContainsIp(all4, '0.0.0.1')).toBe(true);
    expect(cidrContainsIp(all6, '::1')).toBe(true);
    expect(cidrContainsCidr(all6, parseCidr('0.0.0.0/8'))).toBe(false);
    expect(cidrContainsCidr(all4, parseCidr('0.0.0.0/8'))).toBe(true);
    expect(cidrsOverlap(all6, parseCidr('0.0.0.0/8'))).toBe(false);
    expect(cidrsOverlap(parseCidr('::/96'), all4)).toBe(false);
  });

  it('give the nth, first and last address', () => {
    const v4 = parseCidr('198.19.1.0/24');
    expect(nthAddress(v4, 0)).toBe('198.19.1.0');
    expect(nthAddress(v4, 1)).toBe('198.19.1.1');
    expect(nthAddress(v4, 255n)).toBe('198.19.1.255');
    expect(() => nthAddress(v4, 256)).toThrow('198.19.1.0/24 has no address number 256');
    expect(() => nthAddress(v4, -1)).toThrow(RangeError);
    expect(networkAddress(v4)).toBe('198.19.1.0');
    expect(lastAddress(v4)).toBe('198.19.1.255');
    const v6 = parseCidr('fd00:198:19:1::/64');
    expect(nthAddress(v6, 1)).toBe('fd00:198:19:1::1');
    expect(nthAddress(v6, 2n ** 64n - 1n)).toBe('fd00:198:19:1:ffff:ffff:ffff:ffff');
    expect(() => nthAddress(v6, 2n ** 64n)).toThrow(RangeError);
    expect(networkAddress(v6)).toBe('fd00:198:19:1::');
    expect(lastAddress(v6)).toBe('fd00:198:19:1:ffff:ffff:ffff:ffff');
  });

  it('split a pool into blocks, in order, as many as asked and as fit', () => {
    expect(splitCidr(parseCidr('198.19.0.0/22'), 24, 10)).toEqual([
      '198.19.0.0/24',
      '198.19.1.0/24',
      '198.19.2.0/24',
      '198.19.3.0/24',
    ]);
    expect(splitCidr(parseCidr('198.19.0.0/22'), 24, 2)).toEqual(['198.19.0.0/24', '198.19.1.0/24']);
    expect(splitCidr(parseCidr('198.19.0.0/24'), 24, 5)).toEqual(['198.19.0.0/24']);
    expect(splitCidr(parseCidr('198.19.0.0/24'), 24, 0)).toEqual([]);
    expect(splitCidr(parseCidr('fd00:198:19::/48'), 64, 3)).toEqual([
      'fd00:198:19::/64',
      'fd00:198:19:1::/64',
      'fd00:198:19:2::/64',
    ]);
    // 2**80 blocks of /128 in a /48: the count bounds the work.
    expect(splitCidr(parseCidr('fd00:198:19::/48'), 128, 2)).toEqual(['fd00:198:19::/128', 'fd00:198:19::1/128']);
    expect(() => splitCidr(parseCidr('198.19.0.0/24'), 23, 1)).toThrow('198.19.0.0/24 cannot split into /23 blocks');
    expect(() => splitCidr(parseCidr('198.19.0.0/24'), 33, 1)).toThrow(RangeError);
    expect(() => splitCidr(parseCidr('fd00::/64'), 129, 1)).toThrow(RangeError);
    expect(() => splitCidr(parseCidr('fd00::/64'), 64.5, 1)).toThrow(RangeError);
  });

  it('find the network an address lies in', () => {
    expect(networkCidrOf('198.18.1.7', 24)).toBe('198.18.1.0/24');
    expect(networkCidrOf('198.18.1.7', 32)).toBe('198.18.1.7/32');
    expect(networkCidrOf('198.18.1.7', 0)).toBe('0.0.0.0/0');
    expect(networkCidrOf('fd00:198:18:5::7', 64)).toBe('fd00:198:18:5::/64');
    expect(networkOf('198.18.1.7', 30)).toEqual({
      family: IPV4,
      network: addressValue('198.18.1.4'),
      last: addressValue('198.18.1.7'),
    });
    expect(networkOf('fd00::5', 126)).toEqual({
      family: IPV6,
      network: addressValue('fd00::4'),
      last: addressValue('fd00::7'),
    });
  });
});
