/**
 * IPv6 on the host, the pure parts (issue 24 item 2): the pods' IPv6 gateway from the host veth's
 * MAC, `ip -6` output as the snapshot reads it, the IPv6 facts of workloads and nodes (a hand
 * change reads as drift; an IPv4-only object keeps null IPv6 facts, so its plan is as before),
 * and the scripts' IPv6 parameters. The lab suite test/e2e/dual-stack.test.ts proves the same
 * on real hosts.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { hostInterfaceName, SNAPSHOT_SECTIONS } from '../../providers/calico';
import { newMarkKey, parseSnapshot } from '../../providers/calico/host-snapshot';
import { parseIpBatch } from '../../providers/calico/ip-output';
import { HOST_VETH_MAC, POD_GATEWAY_V6 } from '../../providers/calico/names';
import { desiredV6Facts, givenUpV6, nodeV6Facts } from '../../providers/calico/node';
import { ipv6ScriptVars, remoteScript } from '../../providers/calico/script';
import { desiredWorkloadFacts, workloadFacts } from '../../providers/calico/workload';
import { eui64LinkLocal, IPV6 } from '../../rules/address-family';

const KEY = newMarkKey();
const hif = hostInterfaceName('n1', 'w1');
const markedLo =
  '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\\    alias calico-net';
const eth0 =
  '2: eth0@if7: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether 5a:1b:00:00:00:01 brd ff:ff:ff:ff:ff:ff link-netnsid 0';
const hostVeth = `7: ${hif}@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether ee:ee:ee:ee:ee:ee brd ff:ff:ff:ff:ff:ff link-netns w1`;

/** What `ip -o -6` printed on this kernel for a dual-stack node and its workload (lines as seen). */
interface V6Pieces {
  hostAddresses: string[];
  hostRoutes: string[];
  ipv6Forwarding: string;
  sysctlsV6: string;
  /** The namespace's IPv6 read; undefined: not read (the host routes no IPv6 of ours). */
  netns6?: { addresses: string[]; routes: string[] };
  /** The namespace's IPv4 read. */
  netns4: { addresses: string[]; routes: string[] };
}

const DUAL: V6Pieces = {
  hostAddresses: [
    '2: eth0    inet6 fd00:198:18:83::1/64 scope global nodad \\       valid_lft forever preferred_lft forever',
    `7: ${hif}    inet6 fe80::ecee:eeff:feee:eeee/64 scope link \\       valid_lft forever preferred_lft forever`,
  ],
  hostRoutes: [
    'fd00:198:18:83::/64 dev eth0 proto kernel metric 256 pref medium',
    `fd00:198:19:1::2 dev ${hif} proto 211 metric 1024 pref medium`,
    'blackhole fd00:198:19:1::/64 dev lo proto 211 metric 1024 pref medium',
    'fd00:198:19:2::/64 via fd00:198:18:83::2 dev eth0 proto bird metric 32 pref medium',
    `fe80::/64 dev ${hif} proto kernel metric 256 pref medium`,
  ],
  ipv6Forwarding: '1',
  sysctlsV6: `${hif} 1 1 0`,
  netns6: {
    addresses: [
      '2: eth0    inet6 fd00:198:19:1::2/128 scope global nodad \\       valid_lft forever preferred_lft forever',
      '2: eth0    inet6 fe80::581b:ff:fe00:1/64 scope link \\       valid_lft forever preferred_lft forever',
    ],
    routes: [
      'fd00:198:19:1::2 dev eth0 proto kernel metric 256 pref medium',
      'fe80::/64 dev eth0 proto kernel metric 256 pref medium',
      'default via fe80::ecee:eeff:feee:eeee dev eth0 metric 1024 pref medium',
    ],
  },
  netns4: {
    addresses: ['2: eth0    inet 198.19.1.2/32 scope global eth0\\       valid_lft forever preferred_lft forever'],
    routes: ['default via 169.254.1.1 dev eth0 ', '169.254.1.1 dev eth0 scope link '],
  },
};

function answer(p: V6Pieces): string {
  const lines = [
    `==> ${KEY} node`,
    `--> ${KEY} ip_forward`,
    '1',
    `--> ${KEY} ipv6_forwarding`,
    p.ipv6Forwarding,
    `--> ${KEY} gateway`,
    '169.254.1.1 via 198.18.0.254 dev eth0 src 198.18.0.1 uid 0 \\    cache ',
    `==> ${KEY} host_ip`,
    hostVeth,
    'blackhole 198.19.1.0/24 proto 211 ',
    `198.19.1.2 dev ${hif} proto 211 scope link `,
    `==> ${KEY} host_ip6`,
    hostVeth,
    ...p.hostAddresses,
    ...p.hostRoutes,
    `==> ${KEY} workloads`,
    `--> ${KEY} sysctls`,
    `${hif} 1 0`,
    `--> ${KEY} sysctls_v6`,
    p.sysctlsV6,
    `--> ${KEY} netns w1`,
    markedLo,
    eth0,
    ...p.netns4.addresses,
    ...p.netns4.routes,
    ...(p.netns6 ? [`--> ${KEY} netns6 w1`, markedLo, eth0, ...p.netns6.addresses, ...p.netns6.routes] : []),
    `==> ${KEY} bird_config`,
    'missing',
    `==> ${KEY} end`,
  ];
  return `${lines.join('\n')}\n`;
}

const parse = (p: V6Pieces) => parseSnapshot(answer(p), SNAPSHOT_SECTIONS, 'n1', KEY);
const dual = { ns: 'w1', ip: '198.19.1.2', ipv6: 'fd00:198:19:1::2', hif };

test("the pods' IPv6 gateway is the link-local address the host veth takes from Calico's MAC", () => {
  expect(eui64LinkLocal(HOST_VETH_MAC)).toBe('fe80::ecee:eeff:feee:eeee');
  expect(POD_GATEWAY_V6).toBe('fe80::ecee:eeff:feee:eeee');
  // The universal/local bit flips; ff:fe goes in the middle.
  expect(eui64LinkLocal('02:00:00:00:00:01')).toBe('fe80::ff:fe00:1');
  expect(() => eui64LinkLocal('ee:ee:ee:ee:ee')).toThrow(/not a MAC address/);
});

test('`ip -o -6` output parses as the kernel means it: default is ::/0, host routes /128, inet6 addresses', () => {
  const view = parseIpBatch([...DUAL.netns6!.addresses, ...DUAL.netns6!.routes].join('\n'), IPV6);
  expect(view.addresses).toEqual([
    { dev: 'eth0', address: 'fd00:198:19:1::2', prefixLength: 128 },
    { dev: 'eth0', address: 'fe80::581b:ff:fe00:1', prefixLength: 64 },
  ]);
  expect(view.routes.map((r) => [r.type, r.prefix, r.via ?? '', r.proto ?? ''])).toEqual([
    ['unicast', 'fd00:198:19:1::2/128', '', 'kernel'],
    ['unicast', 'fe80::/64', '', 'kernel'],
    ['unicast', '::/0', 'fe80::ecee:eeff:feee:eeee', ''],
  ]);
  const host = parseIpBatch(DUAL.hostRoutes.join('\n'), IPV6);
  expect(host.routes.find((r) => r.type === 'blackhole')).toEqual({
    type: 'blackhole',
    prefix: 'fd00:198:19:1::/64',
    dev: 'lo',
    proto: '211',
  });
});

test('a dual-stack workload reads every IPv4 and IPv6 fact as applied', () => {
  expect(workloadFacts(parse(DUAL), dual)).toEqual(desiredWorkloadFacts(dual.ip, dual.ipv6));
  expect(desiredWorkloadFacts(dual.ip, dual.ipv6)).toMatchObject({
    pod_interface_v6: true,
    pod_routes_v6: true,
    host_route_v6: true,
    proxy_ndp: '1',
    forwarding_v6: '1',
    accept_ra: '0',
  });
});

test('each hand change to IPv6 on the host reads as drift of its own fact', () => {
  const facts = (p: Partial<V6Pieces>) => workloadFacts(parse({ ...DUAL, ...p }), dual);
  // The host /128 deleted (or moved to another device, or not ours).
  expect(facts({ hostRoutes: DUAL.hostRoutes.filter((r) => !r.startsWith('fd00:198:19:1::2 ')) }).host_route_v6).toBe(
    false,
  );
  expect(
    facts({ hostRoutes: DUAL.hostRoutes.map((r) => r.replace(`${hif} proto 211`, `${hif} proto static`)) })
      .host_route_v6,
  ).toBe(false);
  // The gateway gone from the host veth (disable_ipv6=1 there), or the pod's default route gone.
  expect(facts({ hostAddresses: DUAL.hostAddresses.slice(0, 1) }).pod_routes_v6).toBe(false);
  expect(facts({ netns6: { ...DUAL.netns6!, routes: DUAL.netns6!.routes.slice(0, 2) } }).pod_routes_v6).toBe(false);
  // The pod address gone; the namespace not read for IPv6 at all.
  expect(facts({ netns6: { ...DUAL.netns6!, addresses: DUAL.netns6!.addresses.slice(1) } }).pod_interface_v6).toBe(
    false,
  );
  expect(facts({ netns6: undefined })).toMatchObject({ pod_interface_v6: false, pod_routes_v6: false });
  // Sysctls flipped on the veth.
  expect(facts({ sysctlsV6: `${hif} 0 0 1` })).toMatchObject({ proxy_ndp: '0', forwarding_v6: '0', accept_ra: '1' });
  // IPv4's facts do not move with IPv6's.
  expect(facts({ netns6: undefined })).toMatchObject({ pod_interface: true, pod_routes: true, host_route: true });
});

test('an IPv6-only workload expects and reads no IPv4 fact; an IPv4-only one no IPv6 fact', () => {
  const only6 = { ...dual, ip: null };
  const v4Nulls = { pod_interface: null, pod_routes: null, proxy_arp: null, proxy_delay: null, host_route: null };
  expect(desiredWorkloadFacts(null, dual.ipv6)).toMatchObject({ netns_present: true, ...v4Nulls });
  expect(workloadFacts(parse(DUAL), only6)).toEqual(desiredWorkloadFacts(null, dual.ipv6));
  const v6Nulls = {
    pod_interface_v6: null,
    pod_routes_v6: null,
    host_route_v6: null,
    proxy_ndp: null,
    forwarding_v6: null,
    accept_ra: null,
  };
  expect(workloadFacts(parse(DUAL), { ...dual, ipv6: null })).toMatchObject(v6Nulls);
  expect(desiredWorkloadFacts(dual.ip, null)).toMatchObject(v6Nulls);
});

test("a dual-stack node reads IPv6 forwarding and its IPv6 blackhole; an IPv4-only node's IPv6 facts stay null", () => {
  expect(nodeV6Facts(parse(DUAL), 'fd00:198:19:1::/64')).toEqual(desiredV6Facts('fd00:198:19:1::/64'));
  expect(nodeV6Facts(parse({ ...DUAL, ipv6Forwarding: '0' }), 'fd00:198:19:1::/64').ipv6_forwarding).toBe('0');
  const noBlackhole = { ...DUAL, hostRoutes: DUAL.hostRoutes.filter((r) => !r.startsWith('blackhole')) };
  expect(nodeV6Facts(parse(noBlackhole), 'fd00:198:19:1::/64').blackhole_route_v6).toBe(false);
  expect(nodeV6Facts(parse(DUAL), null)).toEqual({ ipv6_forwarding: null, blackhole_route_v6: null });
  expect(desiredV6Facts(null)).toEqual({ ipv6_forwarding: null, blackhole_route_v6: null });
});

const bash = (script: string) => spawnSync('bash', ['--norc', '--noprofile', '-c', script], { encoding: 'utf8' });

test("the scripts take IPv6's values from the address family, under V6_ names", () => {
  expect(ipv6ScriptVars()).toEqual({
    V6_IP_FAMILY_FLAG: '-6',
    V6_HOST_PREFIX: '128',
    V6_SYSCTL_DIR: '/proc/sys/net/ipv6',
    V6_IP_FORWARD: 'conf/all/forwarding',
    V6_DEFAULT_METRIC: '1024',
    V6_POD_GATEWAY: 'fe80::ecee:eeff:feee:eeee',
    V6_DEFAULT_ROUTE: '::/0',
  });
  // A workload's own values stay lower-case and quoted; either address may be empty.
  const text = remoteScript(['workload-apply'], {
    node: 'n1',
    ns: 'w1',
    ip: '',
    ipv6: 'fd00:198:19:1::2',
    hif,
    mtu: '1500',
    registry: '/run/calico-net/objects',
  }).text;
  expect(text).toContain("\nipv6='fd00:198:19:1::2'\n");
  expect(text).toContain("\nip=''\n");
});

test('foreign_routes_v6 counts an IPv6 route at the default metric 1024 that is not ours, as `ip route replace` would take it', () => {
  // A fake `ip` printing what `ip -6 route show table main exact PREFIX` prints, and the flags it got.
  const run = (lines: string[]) =>
    bash(
      remoteScript(['lib/routes', { text: 'foreign_routes_v6 fd00:198:19:1::2/128 calitest' }], {}).text.replace(
        'set -euo pipefail',
        `set -euo pipefail\nip() { echo "flags: $1" >&2; printf '%s\\n' ${lines.map((l) => `'${l}'`).join(' ')}; }`,
      ),
    );
  const foreign = 'fd00:198:19:1::2 dev eth9 proto static metric 1024 pref medium';
  const r = run([foreign]);
  expect(r.stderr).toBe('flags: -6\n');
  expect(r.stdout.trim()).toBe(foreign);
  // Ours (proto 211), through the workload's own veth, or at another metric: none of them blocks.
  expect(run(['fd00:198:19:1::2 dev eth9 proto 211 metric 1024 pref medium']).stdout).toBe('');
  expect(run(['fd00:198:19:1::2 dev calitest proto static metric 1024 pref medium']).stdout).toBe('');
  expect(run(['fd00:198:19:1::2 dev eth9 proto static metric 100 pref medium']).stdout).toBe('');
});

test('foreign_routes keeps its IPv4 rule: a route printed without a metric (0) is the one replace would take', () => {
  const run = (line: string) =>
    bash(
      remoteScript(['lib/routes', { text: 'foreign_routes 198.19.1.2/32 calitest' }], {}).text.replace(
        'set -euo pipefail',
        `set -euo pipefail\nip() { printf '%s\\n' '${line}'; }`,
      ),
    ).stdout.trim();
  expect(run('198.19.1.2 dev eth9 proto static scope link')).toBe('198.19.1.2 dev eth9 proto static scope link');
  expect(run('198.19.1.2 dev eth9 proto static scope link metric 5')).toBe('');
  expect(run('198.19.1.2 dev eth9 proto 211 scope link')).toBe('');
});

test('pod_cidr_v6 changes in place: an update gives up the block the state held, never on create or with the block unchanged', () => {
  const dual = { pod_cidr_v6: 'fd00:198:19:1::/64', original_ipv6_forwarding: '0' };
  expect(givenUpV6(null, 'fd00:198:19:1::/64')).toEqual({ prev_cidr6: '', prev_orig6: '' });
  expect(givenUpV6(dual, 'fd00:198:19:1::/64')).toEqual({ prev_cidr6: '', prev_orig6: '' });
  expect(givenUpV6({ pod_cidr_v6: null, original_ipv6_forwarding: null }, 'fd00:198:19:1::/64')).toEqual({
    prev_cidr6: '',
    prev_orig6: '',
  });
  expect(givenUpV6(dual, null)).toEqual({ prev_cidr6: 'fd00:198:19:1::/64', prev_orig6: '0' });
  expect(givenUpV6(dual, 'fd00:198:19:7::/64')).toEqual({ prev_cidr6: 'fd00:198:19:1::/64', prev_orig6: '0' });
  expect(givenUpV6({ ...dual, original_ipv6_forwarding: null }, null)).toEqual({
    prev_cidr6: 'fd00:198:19:1::/64',
    prev_orig6: '',
  });
});

test('remove_block_v6 deletes only our IPv6 blackhole for the block and sets IPv6 forwarding back only to 0 or 1', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'v6block-'));
  try {
    fs.mkdirSync(path.join(dir, 'conf/all'), { recursive: true });
    const forwarding = path.join(dir, 'conf/all/forwarding');
    // A fake `ip`: `route show … type blackhole` prints ours when asked; every call is logged. Both
    // are set after the script's own names, so nothing reaches this machine's /proc or routes.
    const run = (ours: boolean, orig: string) => {
      fs.writeFileSync(forwarding, '1\n');
      const fakeIp =
        'ip() { echo "ip $*" >&2; case "$*" in *"type blackhole"*) ' +
        (ours ? "echo 'blackhole fd00:198:19:1::/64 dev lo proto 211 metric 1024 pref medium'" : ':') +
        ' ;; esac; }';
      const text = [`V6_SYSCTL_DIR='${dir}'`, fakeIp, `remove_block_v6 fd00:198:19:1::/64 '${orig}'`].join('\n');
      const script = remoteScript(['lib/routes', { text }], {}).text;
      expect(script.indexOf(`V6_SYSCTL_DIR='${dir}'`)).toBeGreaterThan(script.indexOf("V6_SYSCTL_DIR='/proc"));
      return bash(script);
    };
    const r = run(true, '0');
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('ip route del blackhole fd00:198:19:1::/64 table main proto 211');
    expect(r.stderr).toContain('ip -6 route show table main root fd00:198:19:1::/64 proto bird');
    expect(fs.readFileSync(forwarding, 'utf8')).toBe('0\n');
    // Not ours (someone else's blackhole, or none): nothing deleted; an empty value leaves forwarding.
    const none = run(false, '');
    expect(none.status).toBe(0);
    expect(none.stderr).not.toContain('route del');
    expect(fs.readFileSync(forwarding, 'utf8')).toBe('1\n');
    expect(run(false, '1; rm -rf /').status).toBe(0);
    expect(fs.readFileSync(forwarding, 'utf8')).toBe('1\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
