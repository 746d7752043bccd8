/**
 * The host snapshot's parsing and the facts derived from it, on iproute2 output as it prints it
 * (the lab-backed handler tests check the same facts against real hosts).
 */
import { hostInterfaceName } from '../../providers/calico';
import { parseSnapshot, routesFor } from '../../providers/calico/host-snapshot';
import { parseLinks, parseRoutes } from '../../providers/calico/ip-output';
import { nodeFacts } from '../../providers/calico/node';
import { workloadFacts } from '../../providers/calico/workload';

const hif = hostInterfaceName('n1', 'w1');
const birdConf = 'router id 198.18.0.1;\n# ünïcode and a trailing blank line\n\n';

function answer(over: Partial<Record<string, string>> = {}): string {
  const sections: Record<string, string> = {
    ip_forward: '1',
    gateway: '169.254.1.1 via 198.18.0.254 dev eth0 src 198.18.0.1 uid 0 \\    cache ',
    routes: [
      'default via 198.18.0.254 dev eth0 ',
      'blackhole 198.19.1.0/24 proto 211 ',
      '198.19.1.2 dev ' + hif + ' proto 211 scope link ',
      '198.19.2.0/24 via 198.18.0.2 dev eth0 proto bird metric 32 ',
      '198.19.3.0/24 proto bird metric 32 ',
      '\tnexthop via 198.18.0.3 dev eth0 weight 1 ',
      '\tnexthop via 198.18.0.4 dev eth0 weight 1 ',
      '198.18.0.0/24 dev eth0 proto kernel scope link src 198.18.0.1 ',
    ].join('\n'),
    addresses: '2: eth0    inet 198.18.0.1/24 scope global eth0\\       valid_lft forever preferred_lft forever',
    links: [
      '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00',
      `7: ${hif}@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether ee:ee:ee:ee:ee:ee brd ff:ff:ff:ff:ff:ff link-netns w1`,
    ].join('\n'),
    sysctls: `${hif} 1 0`,
    'netns-links w1': '2: eth0@if7: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether 5a:1b:00:00:00:01 brd ff:ff:ff:ff:ff:ff link-netnsid 0',
    'netns-addresses w1': '2: eth0    inet 198.19.1.2/32 scope global eth0\\       valid_lft forever preferred_lft forever',
    'netns-routes w1': 'default via 169.254.1.1 dev eth0 \n169.254.1.1 dev eth0 scope link ',
    bird_config: `present\n${Buffer.from(birdConf).toString('base64')}`,
    ...over,
  };
  const body = Object.entries(sections)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `==> ${k}\n${v}`)
    .join('\n');
  // A chatty ~/.bashrc on the host prints before our first section.
  return `Welcome! pyenv says hi\n${body}\n==> end\n`;
}

test('iproute2 lines parse into routes, links and prefixes as the kernel means them', () => {
  const routes = parseRoutes('198.19.1.2 dev cali0 proto 211 scope link \ndefault via 169.254.1.1 dev eth0 \nunreachable 10.0.0.0/8 proto bird \n');
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
  const s = parseSnapshot(answer(), 'n1');
  expect(nodeFacts(s, '198.19.1.0/24')).toEqual({ ip_forward: '1', blackhole_route: true, gateway_route: true });
  expect(nodeFacts(s, '198.19.9.0/24').blackhole_route).toBe(false);
  expect(workloadFacts(s, { ns: 'w1', ip: '198.19.1.2', hif })).toEqual({
    netns_present: true,
    pod_interface: true,
    pod_routes: true,
    host_route: true,
    proxy_arp: '1',
    proxy_delay: '0',
  });
  expect(s.birdConfig).toBe(birdConf);
  // The multipath route is one route; its nexthop lines are not routes of their own.
  expect(s.routes.filter((r) => r.proto === 'bird').map((r) => r.prefix)).toEqual(['198.19.2.0/24', '198.19.3.0/24']);
});

test('each kind of workload drift shows in its own fact', () => {
  const noNetns = parseSnapshot(answer({ 'netns-links w1': undefined, 'netns-addresses w1': undefined, 'netns-routes w1': undefined }), 'n1');
  expect(workloadFacts(noNetns, { ns: 'w1', ip: '198.19.1.2', hif })).toMatchObject({ netns_present: false, pod_interface: false, pod_routes: false });

  const eth0Down = parseSnapshot(answer({ 'netns-links w1': '2: eth0@if7: <BROADCAST,MULTICAST> mtu 1500 state DOWN' }), 'n1');
  expect(workloadFacts(eth0Down, { ns: 'w1', ip: '198.19.1.2', hif })).toMatchObject({ netns_present: true, pod_interface: false, pod_routes: true });

  const noDefault = parseSnapshot(answer({ 'netns-routes w1': '169.254.1.1 dev eth0 scope link ' }), 'n1');
  expect(workloadFacts(noDefault, { ns: 'w1', ip: '198.19.1.2', hif }).pod_routes).toBe(false);

  // A /32 to the pod that someone else added (no proto 211) is not our host route.
  const foreignRoute = parseSnapshot(answer({ routes: `198.19.1.2 dev ${hif} scope link ` }), 'n1');
  expect(workloadFacts(foreignRoute, { ns: 'w1', ip: '198.19.1.2', hif }).host_route).toBe(false);

  const noVeth = parseSnapshot(answer({ links: '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536', sysctls: '' }), 'n1');
  expect(workloadFacts(noVeth, { ns: 'w1', ip: '198.19.1.2', hif })).toMatchObject({ host_route: false, proxy_arp: null, proxy_delay: null });
});

test('node facts: no route to the pod gateway, or only through a workload veth, is not a gateway route', () => {
  const none = parseSnapshot(answer({ gateway: '' }), 'n1');
  expect(nodeFacts(none, '198.19.1.0/24').gateway_route).toBe(false);
  const viaPod = parseSnapshot(answer({ gateway: `169.254.1.1 dev ${hif} src 198.18.0.1 uid 0 \\    cache ` }), 'n1');
  expect(nodeFacts(viaPod, '198.19.1.0/24').gateway_route).toBe(false);
  expect(parseSnapshot(answer({ ip_forward: '0' }), 'n1').ipForward).toBe('0');
});

test('a missing bird.conf reads as null; a cut-short or garbled answer is an error naming the node', () => {
  expect(parseSnapshot(answer({ bird_config: 'missing' }), 'n1').birdConfig).toBeNull();
  const cut = answer().replace('==> end\n', '');
  expect(() => parseSnapshot(cut, 'n1')).toThrow(/Incomplete answer from node n1/);
  expect(() => parseSnapshot(answer({ bird_config: 'huh' }), 'n1')).toThrow(/Unexpected answer from node n1/);
});
