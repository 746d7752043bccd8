/**
 * The shared input checks (rules/checks.ts), the address families and CIDR maths (rules/address-family.ts) and SSH settings
 * (rules/ssh.ts) directly, at the edges of every pattern and range, with their exact wording.
 */
import * as os from 'os';
import * as path from 'path';
import {
  inRange,
  absolutePathProblem,
  envVarNameProblem,
  hostNameProblem,
  ipv4Problem,
  ipv4CidrProblem,
  mtuProblem,
  nodeNameProblem,
  nonEmptyProblem,
  podIpProblem,
  portProblem,
  usableHostAddressProblem,
  userNameProblem,
  workloadNameProblem,
} from '../../rules/checks';
import { addressValue, cidrContainsCidr, cidrsOverlap, IPV4, parseCidr } from '../../rules/address-family';
import { expandHome, mergeSsh, SSH_DEFAULTS, sshHostOf, sshTarget } from '../../rules/ssh';

const ok = (check: (v: string) => string | null, values: string[]) => values.filter((v) => check(v) !== null);
const bad = (check: (v: string) => string | null, values: string[]) => values.filter((v) => check(v) === null);

test('ipv4Problem: every octet range at its edges; four octets exactly; nothing around them', () => {
  expect(
    ok(ipv4Problem, [
      '0.0.0.0',
      '255.255.255.255',
      '250.251.252.253',
      '249.240.200.209',
      '199.190.100.109',
      '99.90.10.19',
      '9.8.1.0',
      '198.18.0.1',
    ]),
  ).toEqual([]);
  expect(
    bad(ipv4Problem, [
      '256.0.0.1',
      '260.0.0.1',
      '300.0.0.1',
      '1.2.3.256',
      '01.2.3.4',
      '1.2.3.04',
      '001.2.3.4',
      '1.2.3',
      '1.2.3.4.5',
      ' 1.2.3.4',
      '1.2.3.4 ',
      'x1.2.3.4',
      '1.2.3.4x',
      'a.b.c.d',
      '1..2.3',
      '',
      '1.2.3.-1',
      '1:2:3:4',
      '1.2.3.4/24',
    ]),
  ).toEqual([]);
  expect(ipv4Problem('1.2.3')).toBe('"1.2.3" is not an IPv4 address');
  expect(ipv4Problem('1.2.3.4')).toBeNull();
});

test("podIpProblem: an IPv4 address that is not the pods' gateway, 0.0.0.0 or the broadcast address", () => {
  expect(podIpProblem('198.19.1.5')).toBeNull();
  expect(podIpProblem('169.254.1.1')).toBe("169.254.1.1 is the pods' gateway and cannot be a pod IP");
  expect(podIpProblem('0.0.0.0')).toBe('"0.0.0.0" cannot be a pod IP');
  expect(podIpProblem('255.255.255.255')).toBe('"255.255.255.255" cannot be a pod IP');
  expect(podIpProblem('1.2.3')).toBe('"1.2.3" is not an IPv4 address');
});

test('ipv4CidrProblem: a network address with a length of one or two digits up to 32', () => {
  expect(
    ok(ipv4CidrProblem, [
      '198.19.0.0/16',
      '198.19.1.0/24',
      '198.19.1.5/32',
      '0.0.0.0/0',
      '198.19.1.4/30',
      '198.19.1.0/9'.replace('198.19.1.0', '198.0.0.0'),
    ]),
  ).toEqual([]);
  const shape = (v: string) => `"${v}" is not an IPv4 CIDR (a.b.c.d/len)`;
  for (const v of [
    '198.19.0.0/33',
    '198.19.0.0/024',
    '198.19.0.0/',
    '/24',
    '198.19.0.0',
    '198.19.0.0/24x',
    'x198.19.0.0/24',
    '198.19.0/24',
    '198.19.0.0/2a',
    '198.19.0.0//24',
    '198.19.0.0/24/24',
    'x/198.19.0.0/24',
  ]) {
    expect(ipv4CidrProblem(v)).toBe(shape(v));
  }
  expect(ipv4CidrProblem('198.19.1.1/24')).toBe('"198.19.1.1/24" has host bits set; the network address is required');
  expect(ipv4CidrProblem('198.19.1.128/24')).toBe(
    '"198.19.1.128/24" has host bits set; the network address is required',
  );
  expect(ipv4CidrProblem('1.0.0.0/0')).toBe('"1.0.0.0/0" has host bits set; the network address is required');
  expect(ipv4CidrProblem('198.19.1.2/31')).toBeNull();
  expect(ipv4CidrProblem('198.19.1.3/31')).toBe('"198.19.1.3/31" has host bits set; the network address is required');
});

test('node and workload names: a letter or digit first, then letters, digits, "_", ".", "-", 63 at most', () => {
  const good = ['a', 'Z', '0', '9', 'z9', 'A0', 'node1', 'a_b.c-d', 'web-1', 'x'.repeat(63), `9${'Z'.repeat(62)}`];
  const wrong = ['', '-a', '_a', '.a', 'x'.repeat(64), 'a b', 'a/b', 'a:b', 'a@b', 'a;b', 'é', ' a', 'a ', 'a\n'];
  for (const check of [nodeNameProblem, workloadNameProblem]) {
    expect(ok(check, good)).toEqual([]);
    expect(bad(check, wrong)).toEqual([]);
  }
  expect(nodeNameProblem('-a')).toBe(
    '"-a" is not a valid node name (letters, digits, "_", ".", "-"; starts with a letter or digit; at most 63)',
  );
  expect(workloadNameProblem('-a')).toBe(
    '"-a" is not a valid workload name (letters, digits, "_", ".", "-"; starts with a letter or digit; at most 63)',
  );
});

test('absolutePathProblem: absolute, no control characters, no "." or ".." segments, not a directory', () => {
  expect(ok(absolutePathProblem, ['/etc/bird/bird.conf', '/a', '/a/.hidden', '/a/..b', '/a/b..'])).toEqual([]);
  expect(absolutePathProblem('etc/bird.conf')).toBe('"etc/bird.conf" is not an absolute path');
  expect(absolutePathProblem('./a')).toBe('"./a" is not an absolute path');
  for (const v of ['/a\nb', '/a\rb', '/a\0b'])
    expect(absolutePathProblem(v)).toBe('the path contains a control character');
  for (const v of ['/a/../b', '/a/./b', '/..', '/a/..'])
    expect(absolutePathProblem(v)).toBe(`"${v}" contains "." or ".." segments`);
  expect(absolutePathProblem('/a/')).toBe('"/a/" names a directory');
  expect(absolutePathProblem('/')).toBe('"/" names a directory');
});

test('hostNameProblem: a letter or digit first, then letters, digits, ".", ":", "_", "-", 253 at most', () => {
  expect(
    ok(hostNameProblem, [
      'h',
      'Z',
      '0',
      'n1.example.test',
      '2001:db8::1',
      'a_b-c',
      `a${'z'.repeat(252)}`,
      `9${'Z9.:_-'.repeat(42)}`,
    ]),
  ).toEqual([]);
  expect(
    bad(hostNameProblem, [
      '',
      '-h',
      '.h',
      ':h',
      '_h',
      `a${'z'.repeat(253)}`,
      'h;x',
      'h x',
      'h/x',
      'h@x',
      '[::1]',
      'h\n',
    ]),
  ).toEqual([]);
  expect(hostNameProblem('h;x')).toBe('"h;x" is not a host name or address');
});

test('userNameProblem: a letter or "_" first, then letters, digits, "_", ".", "-", 32 at most', () => {
  expect(
    ok(userNameProblem, [
      'a',
      'Z',
      '_',
      '_a',
      'ops',
      'a.b-c_9',
      `a${'z'.repeat(31)}`,
      `Z${'09Az_.-'.repeat(4)}`.slice(0, 32),
    ]),
  ).toEqual([]);
  expect(bad(userNameProblem, ['', '0a', '9', '-a', '.a', `a${'z'.repeat(32)}`, 'a b', 'a;b', 'a$', 'a\n'])).toEqual(
    [],
  );
  expect(userNameProblem('a b')).toBe('"a b" is not a valid user name');
});

test('envVarNameProblem: a letter or "_" first, then letters, digits, "_"', () => {
  expect(ok(envVarNameProblem, ['A', 'z', '_', 'KEY_PASS', 'a_1', 'Z9', `_${'aZ09_'.repeat(20)}`])).toEqual([]);
  expect(bad(envVarNameProblem, ['', '1A', 'A-B', 'A B', 'A.B', '$A', 'A\n', 'A='])).toEqual([]);
  expect(envVarNameProblem('A-B')).toBe('"A-B" is not an environment variable name');
});

test('nonEmptyProblem: something, and no NUL', () => {
  expect(nonEmptyProblem('a')).toBeNull();
  expect(nonEmptyProblem('')).toBe('must not be empty');
  expect(nonEmptyProblem('a\0')).toBe('must not be empty');
});

test('inRange, mtuProblem, portProblem: integers within both ends', () => {
  const r = inRange(1, 5);
  expect([1, 3, 5].map(r)).toEqual([null, null, null]);
  expect(r(0)).toBe('0 is not an integer in 1..5');
  expect(r(6)).toBe('6 is not an integer in 1..5');
  expect(r(1.5)).toBe('1.5 is not an integer in 1..5');
  expect([576, 1500, 65535].map(mtuProblem)).toEqual([null, null, null]);
  expect(mtuProblem(575)).toBe('575 is not an MTU in 576..65535');
  expect(mtuProblem(65536)).toBe('65536 is not an MTU in 576..65535');
  expect(mtuProblem(1500.5)).toBe('1500.5 is not an MTU in 576..65535');
  expect([1, 22, 65535].map(portProblem)).toEqual([null, null, null]);
  expect(portProblem(0)).toBe('0 is not a port number (1..65535)');
  expect(portProblem(65536)).toBe('65536 is not a port number (1..65535)');
  expect(portProblem(22.5)).toBe('22.5 is not a port number (1..65535)');
});

test('usableHostAddressProblem: each special block at its edges, and the subnet ends for a known length', () => {
  const fine = [
    '1.0.0.0',
    '126.255.255.255',
    '128.0.0.0',
    '169.253.255.255',
    '169.255.0.0',
    '223.255.255.255',
    '198.18.0.1',
  ];
  expect(fine.filter((v) => usableHostAddressProblem(v) !== null)).toEqual([]);
  expect(usableHostAddressProblem('1.2.3')).toBe('"1.2.3" is not an IPv4 address');
  expect(usableHostAddressProblem('0.0.0.0')).toBe('0.0.0.0 is the unspecified address');
  expect(usableHostAddressProblem('255.255.255.255')).toBe('255.255.255.255 is the limited broadcast address');
  expect(usableHostAddressProblem('0.0.0.1')).toBe('0.0.0.1 lies in 0.0.0.0/8 ("this network"), which no host can use');
  expect(usableHostAddressProblem('0.255.255.255')).toBe(
    '0.255.255.255 lies in 0.0.0.0/8 ("this network"), which no host can use',
  );
  expect(usableHostAddressProblem('127.0.0.1')).toBe('127.0.0.1 is a loopback address (127.0.0.0/8)');
  expect(usableHostAddressProblem('127.255.255.255')).toBe('127.255.255.255 is a loopback address (127.0.0.0/8)');
  expect(usableHostAddressProblem('224.0.0.0')).toBe('224.0.0.0 is a multicast address (224.0.0.0/4)');
  expect(usableHostAddressProblem('239.255.255.255')).toBe('239.255.255.255 is a multicast address (224.0.0.0/4)');
  expect(usableHostAddressProblem('240.0.0.0')).toBe('240.0.0.0 lies in the reserved block 240.0.0.0/4');
  expect(usableHostAddressProblem('255.255.255.254')).toBe('255.255.255.254 lies in the reserved block 240.0.0.0/4');
  expect(usableHostAddressProblem('169.254.0.0')).toBe('169.254.0.0 is a link-local address (169.254.0.0/16)');
  expect(usableHostAddressProblem('169.254.255.255')).toBe('169.254.255.255 is a link-local address (169.254.0.0/16)');
  expect(usableHostAddressProblem('198.18.0.255', 24)).toBe('198.18.0.255 is the broadcast address of its /24 subnet');
  expect(usableHostAddressProblem('198.18.0.0', 24)).toBe('198.18.0.0 is the network address of its /24 subnet');
  expect(usableHostAddressProblem('198.18.0.3', 30)).toBe('198.18.0.3 is the broadcast address of its /30 subnet');
  expect(usableHostAddressProblem('198.18.0.4', 30)).toBe('198.18.0.4 is the network address of its /30 subnet');
  expect([
    usableHostAddressProblem('198.18.0.1', 24),
    usableHostAddressProblem('198.18.0.254', 24),
    usableHostAddressProblem('198.18.0.0', 31),
    usableHostAddressProblem('198.18.0.1', 31),
    usableHostAddressProblem('198.18.0.1', 32),
  ]).toEqual([null, null, null, null, null]);
  expect(usableHostAddressProblem('198.18.0.255')).toBeNull();
  expect(usableHostAddressProblem('198.18.0.0')).toBeNull();
});

test('addressValue and parseCidr on IPv4', () => {
  expect(addressValue('1.2.3.4')).toBe(0x01020304n);
  expect(addressValue('255.255.255.255')).toBe(2n ** 32n - 1n);
  expect(parseCidr('198.19.1.0/24')).toEqual({
    text: '198.19.1.0/24',
    family: IPV4,
    network: addressValue('198.19.1.0'),
    length: 24,
    last: addressValue('198.19.1.255'),
  });
  expect(parseCidr('0.0.0.0/0').last).toBe(2n ** 32n - 1n);
  expect(parseCidr('198.19.1.5/32').last).toBe(addressValue('198.19.1.5'));
  // Containment needs both ends inside; overlap is symmetric.
  expect(cidrContainsCidr(parseCidr('198.19.0.0/24'), parseCidr('198.19.0.0/23'))).toBe(false);
  expect(cidrContainsCidr(parseCidr('198.19.0.0/23'), parseCidr('198.19.1.0/24'))).toBe(true);
  expect(cidrsOverlap(parseCidr('198.19.2.0/24'), parseCidr('198.19.1.0/24'))).toBe(false);
  expect(cidrsOverlap(parseCidr('198.19.1.0/24'), parseCidr('198.19.2.0/24'))).toBe(false);
  expect(cidrsOverlap(parseCidr('198.19.1.0/24'), parseCidr('198.19.0.0/16'))).toBe(true);
});

test('ssh settings: home expansion, node over cluster key by key, defaults, the host a node is reached at', () => {
  expect(expandHome('~')).toBe(os.homedir());
  expect(expandHome('~/.ssh/kh')).toBe(path.join(os.homedir(), '.ssh/kh'));
  expect(expandHome('~other/kh')).toBe('~other/kh');
  expect(expandHome('/etc/kh')).toBe('/etc/kh');
  expect(expandHome('a~/b')).toBe('a~/b');
  expect(mergeSsh(undefined, undefined)).toEqual({});
  expect(mergeSsh({ user: 'ops', port: 2222 }, { port: 22, user: undefined, sudo: true })).toEqual({
    user: 'ops',
    port: 22,
    sudo: true,
  });
  expect(mergeSsh(undefined, { user: 'n' })).toEqual({ user: 'n' });
  expect(sshTarget('h', {})).toEqual({
    host: 'h',
    port: 22,
    user: 'root',
    privateKeyPath: undefined,
    passphraseEnv: undefined,
    knownHostsPath: path.join(os.homedir(), '.ssh/known_hosts'),
    sudo: false,
    jumps: [],
  });
  expect(SSH_DEFAULTS).toEqual({ user: 'root', port: 22, knownHostsPath: '~/.ssh/known_hosts', sudo: false });
  expect(
    sshTarget('h', { user: 'u', port: 2, privateKeyPath: '/k', passphraseEnv: 'P', knownHostsPath: '/kh', sudo: true }),
  ).toEqual({
    host: 'h',
    port: 2,
    user: 'u',
    privateKeyPath: '/k',
    passphraseEnv: 'P',
    knownHostsPath: '/kh',
    sudo: true,
    jumps: [],
  });
  expect(sshHostOf({ address: '198.18.0.1' })).toBe('198.18.0.1');
  expect(sshHostOf({ address: '198.18.0.1', sshHost: 'n1.example.test' })).toBe('n1.example.test');
});
