/**
 * The host snapshot's parsing and the facts derived from it, on iproute2 output as it prints it
 * (the lab-backed handler tests check the same facts against real hosts).
 */
import { hostInterfaceName, SNAPSHOT_SECTIONS } from '../../providers/calico';
import { birdConfigSection } from '../../providers/calico/bird-config';
import { newMarkKey, parseSnapshot, snapshotScript } from '../../providers/calico/host-snapshot';
import { hostIpSection, parseLinks, parseRoutes, routesFor } from '../../providers/calico/ip-output';
import { nodeFacts, nodeSection, plannedOwnGatewayRoute } from '../../providers/calico/node';
import { Unknown } from '../../providers/runtime/resource';
import { workloadFacts } from '../../providers/calico/workload';

const hif = hostInterfaceName('n1', 'w1');
/** The marks' key of the snapshot script these answers come from. */
const KEY = newMarkKey();
/** `ip -o link show dev lo` in a namespace calico-net created (its mark is lo's alias). */
const markedLo =
  '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\\    alias calico-net';
const birdConf = 'router id 198.18.0.1;\n# ünïcode and a trailing blank line\n\n';

/** The answer's pieces, as sections ("==> name") holding parts ("--> label"). */
interface Pieces {
  ip_forward?: string;
  gateway?: string;
  routes?: string;
  addresses?: string;
  links?: string;
  sysctls?: string;
  netns?: Record<string, { links: string; addresses: string; routes: string }>;
  bird_config?: string;
}

function answer(over: Pieces = {}): string {
  const p: Required<Pieces> = {
    ip_forward: '1',
    gateway: '169.254.1.1 via 198.18.0.254 dev eth0 src 198.18.0.1 uid 0 \\    cache ',
    routes: [
      'default via 198.18.0.254 dev eth0 ',
      'blackhole 198.19.1.0/24 proto 211 ',
      '198.19.1.2 dev ' + hif + ' proto 211 scope link ',
      '198.19.2.0/24 via 198.18.0.2 dev eth0 proto bird metric 32 ',
      // `ip -o` puts a multipath route's nexthops on its own line, after backslashes.
      '198.19.3.0/24 proto bird metric 32 \\\tnexthop via 198.18.0.3 dev eth0 weight 1 \\\tnexthop via 198.18.0.4 dev eth0 weight 1 ',
      '198.18.0.0/24 dev eth0 proto kernel scope link src 198.18.0.1 ',
    ].join('\n'),
    addresses: '2: eth0    inet 198.18.0.1/24 scope global eth0\\       valid_lft forever preferred_lft forever',
    links: [
      '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00',
      `7: ${hif}@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether ee:ee:ee:ee:ee:ee brd ff:ff:ff:ff:ff:ff link-netns w1`,
    ].join('\n'),
    sysctls: `${hif} 1 0`,
    netns: {
      w1: {
        links: `${markedLo}\n2: eth0@if7: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether 5a:1b:00:00:00:01 brd ff:ff:ff:ff:ff:ff link-netnsid 0`,
        addresses: '2: eth0    inet 198.19.1.2/32 scope global eth0\\       valid_lft forever preferred_lft forever',
        routes: 'default via 169.254.1.1 dev eth0 \n169.254.1.1 dev eth0 scope link ',
      },
    },
    bird_config: `present\n${Buffer.from(birdConf).toString('base64')}\nmtime=1700000000\nreconfigured=1700000005`,
    ...over,
  } as Required<Pieces>;
  // One `ip -batch` per namespace: links, then addresses, then routes.
  const netns = Object.entries(p.netns).flatMap(([ns, v]) => [
    `--> ${KEY} netns ${ns}`,
    v.links,
    v.addresses,
    v.routes,
  ]);
  const lines = [
    `==> ${KEY} node`,
    `--> ${KEY} ip_forward`,
    p.ip_forward,
    `--> ${KEY} gateway`,
    p.gateway,
    `==> ${KEY} host_ip`,
    p.links,
    p.addresses,
    p.routes,
    `==> ${KEY} workloads`,
    `--> ${KEY} sysctls`,
    p.sysctls,
    ...netns,
    `==> ${KEY} bird_config`,
    p.bird_config,
    `==> ${KEY} end`,
  ];
  // A chatty ~/.bashrc on the host prints before our first section.
  return `Welcome! pyenv says hi\n${lines.join('\n')}\n`;
}

const parse = (text: string) => parseSnapshot(text, SNAPSHOT_SECTIONS, 'n1', KEY);
const w1 = { ns: 'w1', ip: '198.19.1.2', hif };

test('the snapshot script holds every section once, in the order they are declared, and ends with "end"', () => {
  const script = snapshotScript(SNAPSHOT_SECTIONS, KEY);
  const sections = [...script.matchAll(/^section (\S+)$/gm)].map((m) => m[1]);
  expect(sections).toEqual([...SNAPSHOT_SECTIONS.map((s) => s.name), 'end']);
  expect(new Set(sections).size).toBe(sections.length);
});

test('iproute2 lines parse into routes, links and prefixes as the kernel means them', () => {
  const routes = parseRoutes(
    '198.19.1.2 dev cali0 proto 211 scope link \ndefault via 169.254.1.1 dev eth0 \nunreachable 10.0.0.0/8 proto bird \n',
  );
  expect(routes).toEqual([
    { type: 'unicast', prefix: '198.19.1.2/32', dev: 'cali0', proto: '211', scope: 'link' },
    { type: 'unicast', prefix: '0.0.0.0/0', via: '169.254.1.1', dev: 'eth0' },
    { type: 'unreachable', prefix: '10.0.0.0/8', proto: 'bird' },
  ]);
  expect(routesFor(routes, '198.19.1.2/32')).toHaveLength(1);
  expect(routesFor(routes, '198.19.1.2')).toHaveLength(1);
  expect(parseLinks('3: eth0@if9: <UP,LOWER_UP> mtu 1500\n4: br0: <BROADCAST> mtu 1500')).toEqual([
    { index: 3, name: 'eth0', peerIndex: 9, flags: ['UP', 'LOWER_UP'] },
    { index: 4, name: 'br0', peerIndex: undefined, flags: ['BROADCAST'] },
  ]);
});

test('a snapshot yields the node and workload facts, and the exact bird.conf bytes', () => {
  const s = parse(answer());
  expect(nodeFacts(s, '198.19.1.0/24', '198.18.0.1')).toEqual({
    ip_forward: '1',
    blackhole_route: true,
    gateway_route: true,
    own_gateway_route: false,
    address_assigned: true,
  });
  expect(nodeFacts(s, '198.19.9.0/24', '198.18.0.1').blackhole_route).toBe(false);
  expect(nodeFacts(s, '198.19.1.0/24', '198.18.0.9').address_assigned).toBe(false);
  expect(workloadFacts(s, w1)).toEqual({
    netns_present: true,
    pod_interface: true,
    pod_routes: true,
    host_route: true,
    proxy_arp: '1',
    proxy_delay: '0',
    // An IPv4-only workload: no IPv6 fact is expected or read.
    pod_interface_v6: null,
    pod_routes_v6: null,
    host_route_v6: null,
    proxy_ndp: null,
    forwarding_v6: null,
    accept_ra: null,
  });
  expect(s.get(birdConfigSection)).toEqual({ content: birdConf, loaded: true });
  // The multipath route is one route; its nexthop lines are not routes of their own.
  expect(
    s
      .get(hostIpSection)
      .routes.filter((r) => r.proto === 'bird')
      .map((r) => r.prefix),
  ).toEqual(['198.19.2.0/24', '198.19.3.0/24']);
  // A multipath route has no dev or via of its own: its nexthops' are not taken for its.
  expect(s.get(hostIpSection).routes.find((r) => r.prefix === '198.19.3.0/24')).toEqual({
    type: 'unicast',
    prefix: '198.19.3.0/24',
    proto: 'bird',
  });
});

test('each kind of workload drift shows in its own fact', () => {
  const noNetns = parse(answer({ netns: {} }));
  expect(workloadFacts(noNetns, w1)).toMatchObject({ netns_present: false, pod_interface: false, pod_routes: false });

  const ns = (over: Partial<{ links: string; addresses: string; routes: string }>) => ({
    netns: {
      w1: {
        links: `${markedLo}\n2: eth0@if7: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP`,
        addresses: '2: eth0    inet 198.19.1.2/32 scope global eth0',
        routes: 'default via 169.254.1.1 dev eth0 \n169.254.1.1 dev eth0 scope link ',
        ...over,
      },
    },
  });
  expect(workloadFacts(parse(answer(ns({}))), w1)).toMatchObject({ pod_interface: true, pod_routes: true });

  // A namespace of that name that calico-net did not create (no mark on its lo) is not ours.
  const foreign = parse(
    answer(
      ns({
        links:
          '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536\n2: eth0@if7: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP',
      }),
    ),
  );
  expect(workloadFacts(foreign, w1)).toMatchObject({ netns_present: false, pod_interface: false, pod_routes: false });

  const eth0Down = parse(answer(ns({ links: `${markedLo}\n2: eth0@if7: <BROADCAST,MULTICAST> mtu 1500 state DOWN` })));
  expect(workloadFacts(eth0Down, w1)).toMatchObject({ netns_present: true, pod_interface: false, pod_routes: true });

  // eth0 is up with the pod IP, but it is the end of some other veth, not of our host veth.
  const otherPeer = parse(
    answer(ns({ links: `${markedLo}\n3: eth0@if9: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP` })),
  );
  expect(workloadFacts(otherPeer, w1)).toMatchObject({ netns_present: true, pod_interface: false });

  const noDefault = parse(answer(ns({ routes: '169.254.1.1 dev eth0 scope link ' })));
  expect(workloadFacts(noDefault, w1).pod_routes).toBe(false);

  // A /32 to the pod that someone else added (no proto 211) is not our host route.
  const foreignRoute = parse(answer({ routes: `198.19.1.2 dev ${hif} scope link ` }));
  expect(workloadFacts(foreignRoute, w1).host_route).toBe(false);

  const noVeth = parse(answer({ links: '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536', sysctls: '' }));
  expect(workloadFacts(noVeth, w1)).toMatchObject({
    host_route: false,
    pod_interface: false,
    proxy_arp: null,
    proxy_delay: null,
  });
});

test('node facts: no route to the pod gateway, or only through a workload veth, is not a gateway route', () => {
  const none = parse(answer({ gateway: '' }));
  expect(nodeFacts(none, '198.19.1.0/24', '198.18.0.1')).toMatchObject({
    gateway_route: false,
    own_gateway_route: false,
  });
  const viaPod = parse(answer({ gateway: `169.254.1.1 dev ${hif} src 198.18.0.1 uid 0 \\    cache ` }));
  expect(nodeFacts(viaPod, '198.19.1.0/24', '198.18.0.1').gateway_route).toBe(false);
  expect(parse(answer({ ip_forward: '0' })).get(nodeSection).ipForward).toBe('0');
});

test('node facts: our own route via lo is a gateway route and reads as ours; a foreign one is not ours', () => {
  const noDefault = (extra: string) =>
    [
      extra,
      'blackhole 198.19.1.0/24 proto 211 ',
      '198.18.0.0/24 dev eth0 proto kernel scope link src 198.18.0.1 ',
    ].join('\n');
  const viaLo = '169.254.1.1 dev lo src 198.18.0.1 uid 0 \\    cache <local> ';
  const ours = parse(answer({ gateway: viaLo, routes: noDefault('169.254.1.1 dev lo proto 211 scope link ') }));
  expect(nodeFacts(ours, '198.19.1.0/24', '198.18.0.1')).toMatchObject({
    gateway_route: true,
    own_gateway_route: true,
  });
  // Someone's own `dev lo` route works for proxy ARP too, but it is not ours to own or delete.
  const foreign = parse(answer({ gateway: viaLo, routes: noDefault('169.254.1.1 dev lo scope link ') }));
  expect(nodeFacts(foreign, '198.19.1.0/24', '198.18.0.1')).toMatchObject({
    gateway_route: true,
    own_gateway_route: false,
  });
  // The host holding 169.254.1.1 answers ARP for it as its own address.
  const local = parse(answer({ gateway: 'local 169.254.1.1 dev lo src 169.254.1.1 uid 0 \\    cache <local> ' }));
  expect(nodeFacts(local, '198.19.1.0/24', '198.18.0.1').gateway_route).toBe(true);
  // A proto 211 route that is not via lo (a workload's /32 shape) is not the gateway route.
  const odd = parse(answer({ routes: noDefault(`169.254.1.1 dev ${hif} proto 211 scope link `) }));
  expect(nodeFacts(odd, '198.19.1.0/24', '198.18.0.1').own_gateway_route).toBe(false);
});

test('plan: our gateway route stays ours; a host routing 169.254.1.1 itself gets nothing; create decides at apply', () => {
  expect(plannedOwnGatewayRoute(null)).toBe(Unknown);
  expect(plannedOwnGatewayRoute({ own_gateway_route: true, gateway_route: true })).toBe(true);
  expect(plannedOwnGatewayRoute({ own_gateway_route: false, gateway_route: true })).toBe(false);
  // The host lost its default route since the last apply (drift): apply adds ours.
  expect(plannedOwnGatewayRoute({ own_gateway_route: false, gateway_route: false })).toBe(true);
  // Our route deleted by hand on a host without one of its own.
  expect(plannedOwnGatewayRoute({ own_gateway_route: true, gateway_route: false })).toBe(true);
  // A state written before this attribute existed.
  expect(plannedOwnGatewayRoute({ own_gateway_route: null, gateway_route: true })).toBe(false);
});

test('bird.conf: loaded only when BIRD runs and reconfigured since the file was written', () => {
  const file = (state: string) =>
    parse(answer({ bird_config: `present\n${Buffer.from(birdConf).toString('base64')}\n${state}` })).get(
      birdConfigSection,
    );
  expect(file('mtime=1700000000\nreconfigured=1700000000').loaded).toBe(true);
  expect(file('mtime=1700000009\nreconfigured=1700000005').loaded).toBe(false);
  // No control socket, or no answer from it: BIRD does not run what is on disk.
  expect(file('mtime=1700000000\nreconfigured=')).toEqual({ content: birdConf, loaded: false });
});

test('a missing bird.conf reads as null; a cut-short or garbled answer is an error naming the node', () => {
  expect(parse(answer({ bird_config: 'missing\n\nmtime=\nreconfigured=1700000005' })).get(birdConfigSection)).toEqual({
    content: null,
    loaded: false,
  });
  const cut = answer().replace(`==> ${KEY} end\n`, '');
  expect(() => parse(cut)).toThrow(/Incomplete answer from node n1/);
  expect(() => parse(answer({ bird_config: 'huh' }))).toThrow(/Unexpected answer from node n1/);
});

test('text a host prints cannot start a section or part: a forged namespace or end mark stays body text', () => {
  // The lo alias of a foreign namespace, set by whoever holds CAP_NET_ADMIN in it, as `ip -o`
  // prints it: raw, newlines included. It tries to replace w1's view with a healthy-looking one
  // (w1 itself has lost its pod address) and to end the answer early.
  const forgedAlias = [
    'calico-net',
    '--> netns w1',
    `${markedLo}`,
    '2: eth0@if7: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP',
    '2: eth0    inet 198.19.1.2/32 scope global eth0',
    '==> end',
  ].join('\n');
  const text = answer({
    netns: {
      w1: {
        links: `${markedLo}\n2: eth0@if7: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether 5a:1b:00:00:00:01 brd ff:ff:ff:ff:ff:ff link-netnsid 0`,
        addresses: '',
        routes: 'default via 169.254.1.1 dev eth0 \n169.254.1.1 dev eth0 scope link ',
      },
      zz: {
        links: `1: lo: <LOOPBACK> mtu 65536\\    link/loopback 00:00:00:00:00:00\\    alias ${forgedAlias}`,
        addresses: '',
        routes: '',
      },
    },
  });
  const s = parse(text);
  expect(workloadFacts(s, w1).pod_interface).toBe(false);
  // The answer's other sections are still read: the forged end mark ended nothing.
  expect(s.get(birdConfigSection)).toEqual({ content: birdConf, loaded: true });
  // Whoever knew the key could forge w1's view with that text: the key is all that stops it.
  const keyed = text.replace('\n--> netns w1\n', `\n--> ${KEY} netns w1\n`);
  expect(workloadFacts(parse(keyed), w1).pod_interface).toBe(true);
});
