/**
 * `calico-net lab up --ipv6` without building a lab: the IPv6 addressing of a lab id (inside
 * fd00:198:18::/48, one /64 per lab) and the dual-stack inventory it writes, which must pass every
 * check synth runs. The plain lab's inventory stays as it was. No root, no namespaces.
 */
import { inventoryYaml, labIpv6Addressing, LabInfo, LabNode } from '../../lab/lab';
import { clusterProblems } from '../../constructs/validation';
import { parseInventory } from '../../stacks/inventory';
import { parse as parseYaml } from 'yaml';
import { cidrContainsCidr, cidrContainsIp, parseCidr } from '../../rules/address-family';

function lab(id: number, nodes: number, ipv6: boolean, rrs = 0): LabInfo {
  const v6 = labIpv6Addressing(id);
  return {
    id,
    dir: '/nonexistent',
    switchNetns: `cn${id}-sw`,
    operator: { netns: `cn${id}-op`, address: `198.18.${id}.254`, ...(ipv6 ? { ipv6Address: v6.operator } : {}) },
    ...(ipv6 ? { ipv6Subnet: v6.subnet } : {}),
    subnets: [`198.18.${id}.0/24`],
    nodes: Array.from({ length: nodes }, (_, k): LabNode => ({
      name: `node${k + 1}`,
      address: `198.18.${id}.${k + 1}`,
      podCidr: `198.19.${k + 1}.0/24`,
      ...(ipv6 ? { ipv6Address: v6.node(k + 1), podCidrV6: v6.podCidrV6(k + 1) } : {}),
      routeReflector: k < rrs,
      subnet: 0,
      prefixLength: 24,
      netns: `cn${id}-node${k + 1}`,
      holderPid: 0,
      sshdPid: 0,
      birdPid: 0,
    })),
    clientKeyPath: '/nonexistent/id_ed25519',
    knownHostsPath: '/nonexistent/known_hosts',
    inventoryPath: '/nonexistent/cluster.yaml',
  };
}

test("a lab's IPv6 addresses mirror its IPv4 ones, in canonical spelling, inside fd00:198:18::/48", () => {
  const a = labIpv6Addressing(135);
  expect([a.subnet, a.node(1), a.node(12), a.operator, a.podCidrV6(3), a.workload(3, 0)]).toEqual([
    'fd00:198:18:135::/64',
    'fd00:198:18:135::1',
    'fd00:198:18:135::12',
    'fd00:198:18:135::254',
    'fd00:198:19:3::/64',
    'fd00:198:19:3::2',
  ]);
  // Lab 0 (the demo): the zero group is folded, as ip and BIRD print it.
  expect([labIpv6Addressing(0).subnet, labIpv6Addressing(0).node(1)]).toEqual(['fd00:198:18::/64', 'fd00:198:18::1']);
  const allowed = parseCidr('fd00:198:18::/48');
  const ids = [0, 9, 10, 99, 135, 255];
  for (const id of ids) {
    const s = labIpv6Addressing(id);
    expect(cidrContainsCidr(allowed, parseCidr(s.subnet))).toBe(true);
    for (const k of [1, 200]) expect(cidrContainsIp(parseCidr(s.subnet), s.node(k))).toBe(true);
  }
  // One /64 per lab id: no two ids share one.
  expect(new Set(Array.from({ length: 256 }, (_, id) => labIpv6Addressing(id).subnet)).size).toBe(256);
});

test('the --ipv6 inventory is dual-stack and passes every synth check; the plain one has no IPv6 at all', () => {
  const text = inventoryYaml(lab(136, 3, true, 1), 2, 'ibgp');
  const cluster = parseInventory(text, '/nonexistent/cluster.yaml');
  expect(clusterProblems(cluster)).toEqual([]);
  expect(cluster.podCidrV6).toBe('fd00:198:19::/48');
  expect(cluster.nodes.map((n) => [n.name, n.ipv6Address, n.podCidrV6, n.routeReflector ?? false])).toEqual([
    ['node1', 'fd00:198:18:136::1/64', 'fd00:198:19:1::/64', true],
    ['node2', 'fd00:198:18:136::2/64', 'fd00:198:19:2::/64', false],
    ['node3', 'fd00:198:18:136::3/64', 'fd00:198:19:3::/64', false],
  ]);
  expect(cluster.nodes.flatMap((n) => n.workloads.map((w) => w.ipv6))).toEqual(Array(6).fill(undefined));

  const plain = inventoryYaml(lab(136, 3, false, 1), 2, 'ibgp');
  expect(plain).not.toMatch(/ipv6|V6|fd00/i);
  expect(clusterProblems(parseInventory(plain, '/nonexistent/cluster.yaml'))).toEqual([]);
});

test("with workloads' IPv6 switched on, each workload's ipv6 lies in its node's block and synth accepts the inventory", () => {
  const text = inventoryYaml(lab(137, 2, true), 2, 'ibgp', true);
  const raw = parseYaml(text) as { nodes: { workloads: { name: string; ip: string; ipv6?: string }[] }[] };
  expect(raw.nodes.map((n) => n.workloads.map((w) => [w.name, w.ip, w.ipv6]))).toEqual([
    [
      ['wl1a', '198.19.1.2', 'fd00:198:19:1::2'],
      ['wl1b', '198.19.1.3', 'fd00:198:19:1::3'],
    ],
    [
      ['wl2a', '198.19.2.2', 'fd00:198:19:2::2'],
      ['wl2b', '198.19.2.3', 'fd00:198:19:2::3'],
    ],
  ]);
  // Synth accepts it: every check (block, pool, duplicates) passes.
  expect(clusterProblems(parseInventory(text, '/nonexistent/cluster.yaml'))).toEqual([]);
});
