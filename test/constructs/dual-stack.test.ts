/**
 * Dual-stack model and validation (constructs/dual-stack.ts, rules/checks.ts IPv6 twins): each
 * IPv4 addressing check has its IPv6 twin, refused naming node, workload and field; the YAML
 * inventory and the constructs carry the same fields; an IPv4-only cluster is untouched.
 */
import { ClusterSpec, NodeSpec } from '../../constructs/model';
import { clusterProblems } from '../../constructs/validation';
import { isDualStack, nodeIpv6Of, routerIdOf } from '../../constructs/dual-stack';
import { ipv6CidrProblem, ipv6PrefixLengthProblem, ipv6Problem, usableIpv6Problem } from '../../rules/checks';
import { parseInventory } from '../../stacks/inventory';
import { ClusterValidationError } from '../../constructs/validation';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, TerraformStack } from 'cdktf';
import { CalicoCluster, CalicoNode } from '../../constructs';
import { birdSecretsOf, renderBirdConfig } from '../../constructs/bird-config';
import { bgpSessionsOf } from '../../constructs/bgp-sessions';
import { secretPlaceholder } from '../../rules/secrets';
import { birdParse } from '../stacks/synth-helpers';

function node(k: number, over: Partial<NodeSpec> = {}): NodeSpec {
  return {
    name: `n${k}`,
    address: `198.18.0.${k}`,
    podCidr: `198.19.${k}.0/24`,
    ipv6Address: `fd00:198:18::${k}/64`,
    podCidrV6: `fd00:198:19:${k}::/64`,
    workloads: [],
    ...over,
  };
}

function cluster(over: Partial<ClusterSpec> = {}): ClusterSpec {
  return {
    name: 'lab',
    podCidr: '198.19.0.0/16',
    podCidrV6: 'fd00:198:19::/48',
    nodes: [node(1), node(2)],
    peers: [],
    ...over,
  };
}

describe('IPv6 address checks', () => {
  it('accept the canonical spelling only, and say which one to write', () => {
    expect(ipv6Problem('fd00:198:18::1')).toBeNull();
    expect(ipv6Problem('FD00:198:18::1')).toBe(
      '"FD00:198:18::1" is not in canonical form (RFC 5952, as ip and BIRD print it): write fd00:198:18::1',
    );
    expect(ipv6Problem('fd00:198:18:0:0:0:0:1')).toMatch(/write fd00:198:18::1$/);
    expect(ipv6Problem('198.18.0.1')).toBe('"198.18.0.1" is not an IPv6 address');
    expect(ipv6Problem('fe80::1%eth0')).toBe('"fe80::1%eth0" is not an IPv6 address');
    expect(ipv6Problem('fd00::1\n')).toBe('"fd00::1\n" is not an IPv6 address');
    expect(ipv6Problem('${x}')).toBe('"${x}" is not an IPv6 address');
  });

  it('CIDRs: address/len, len up to 128, no host bits', () => {
    expect(ipv6CidrProblem('fd00:198:19::/48')).toBeNull();
    expect(ipv6CidrProblem('::/0')).toBeNull();
    expect(ipv6CidrProblem('fd00::1/128')).toBeNull();
    expect(ipv6CidrProblem('fd00::/129')).toBe('"fd00::/129" is not an IPv6 CIDR (address/len)');
    expect(ipv6CidrProblem('fd00::')).toBe('"fd00::" is not an IPv6 CIDR (address/len)');
    expect(ipv6CidrProblem('198.19.0.0/16')).toBe('"198.19.0.0/16" is not an IPv6 CIDR (address/len)');
    expect(ipv6CidrProblem('fd00::/1234')).toBe('"fd00::/1234" is not an IPv6 CIDR (address/len)');
    expect(ipv6CidrProblem('fd00:198:19::1/48')).toBe(
      '"fd00:198:19::1/48" has host bits set; the network address is required',
    );
    expect(ipv6CidrProblem('FD00::/48')).toMatch(/not in canonical form.*write fd00::$/);
  });

  it('usable addresses: no unspecified, loopback, IPv4-mapped, reserved, link-local, site-local or multicast', () => {
    expect(usableIpv6Problem('fd00:198:18::1')).toBeNull();
    expect(usableIpv6Problem('2001:db8::1')).toBeNull();
    expect(usableIpv6Problem('::')).toBe(':: is the unspecified address');
    expect(usableIpv6Problem('::1')).toBe('::1 is the loopback address');
    expect(usableIpv6Problem('::ffff:198.18.0.1')).toBe(
      '::ffff:198.18.0.1 is an IPv4-mapped address (::ffff:0:0/96); use the IPv4 address itself',
    );
    expect(usableIpv6Problem('FE80::1')).toBe('FE80::1 is a link-local address (fe80::/10)');
    expect(usableIpv6Problem('FD00::1')).toMatch(/not in canonical form.*write fd00::1$/);
    expect(usableIpv6Problem('::2')).toBe('::2 lies in the reserved block ::/8');
    expect(usableIpv6Problem('fe80::1')).toBe('fe80::1 is a link-local address (fe80::/10)');
    expect(usableIpv6Problem('febf:ffff::1')).toBe('febf:ffff::1 is a link-local address (fe80::/10)');
    expect(usableIpv6Problem('fec0::1')).toBe('fec0::1 is a deprecated site-local address (fec0::/10)');
    expect(usableIpv6Problem('ff02::1')).toBe('ff02::1 is a multicast address (ff00::/8)');
    expect(usableIpv6Problem('100::1')).toBeNull();
    expect(usableIpv6Problem('nope')).toBe('"nope" is not an IPv6 address');
  });

  it('prefix lengths 1..128', () => {
    expect(ipv6PrefixLengthProblem(1)).toBeNull();
    expect(ipv6PrefixLengthProblem(128)).toBeNull();
    for (const bad of [0, 129, 64.5, NaN])
      expect(ipv6PrefixLengthProblem(bad)).toBe('the prefix length after "/" must be a whole number from 1 to 128');
  });
});

describe('the dual-stack model', () => {
  it('splits a node IPv6 address from its prefix and picks the router id', () => {
    expect(nodeIpv6Of({ ipv6Address: 'fd00:198:18::1/64' })).toEqual({ address: 'fd00:198:18::1', prefixLength: 64 });
    expect(nodeIpv6Of({ ipv6Address: 'fd00:198:18::1' })).toEqual({ address: 'fd00:198:18::1' });
    expect(nodeIpv6Of({ ipv6Address: 'fd00:198:18::1/x' })).toEqual({ address: 'fd00:198:18::1', prefixLength: NaN });
    expect(nodeIpv6Of({})).toBeUndefined();
    expect(routerIdOf({ address: '198.18.0.1' })).toBe('198.18.0.1');
    expect(routerIdOf({ address: '198.18.0.1', routerID: '10.255.0.1' })).toBe('10.255.0.1');
    expect(isDualStack(cluster())).toBe(true);
    expect(isDualStack({})).toBe(false);
  });

  it('a good dual-stack cluster has no problems; an IPv4-only one neither', () => {
    expect(clusterProblems(cluster())).toEqual([]);
    expect(clusterProblems(cluster({ nodes: [node(1, { ipv6Address: 'fd00:198:18::1' })] }))).toEqual([]);
    const v4 = cluster({ podCidrV6: undefined, nodes: [node(1, { ipv6Address: undefined, podCidrV6: undefined })] });
    expect(clusterProblems(v4)).toEqual([]);
  });
});

describe('dual-stack validation names node, workload and field', () => {
  const problems = (over: Partial<ClusterSpec>) => clusterProblems(cluster(over));

  it('the pool', () => {
    expect(problems({ podCidrV6: 'fd00:198:19::1/48' })).toEqual([
      'cluster.podCidrV6: "fd00:198:19::1/48" has host bits set; the network address is required',
    ]);
    expect(problems({ podCidrV6: '198.19.0.0/16' })[0]).toBe(
      'cluster.podCidrV6: "198.19.0.0/16" is not an IPv6 CIDR (address/len)',
    );
  });

  it('VXLAN is refused on a dual-stack cluster, IPIP is not', () => {
    expect(problems({ vxlanMode: 'Always' })).toEqual([
      'cluster.vxlanMode: Always is not supported on a dual-stack cluster yet (VXLAN for the IPv6 pool, vxlan-v6.calico, is not built); use Never, or ipipMode (IPv4 only, IPv6 then routed natively)',
    ]);
    expect(problems({ vxlanMode: 'Never' })).toEqual([]);
    expect(problems({ ipipMode: 'Always' })).toEqual([]);
  });

  it('IPv6 fields without the IPv6 pool', () => {
    const n = node(1, { workloads: [{ name: 'w', ip: '198.19.1.5', ipv6: 'fd00:198:19:1::5' }] });
    expect(clusterProblems(cluster({ podCidrV6: undefined, nodes: [n] }))).toEqual([
      'nodes[0] "n1".ipv6Address: set, but the cluster has no podCidrV6 (its IPv6 pool)',
      'nodes[0] "n1".podCidrV6: set, but the cluster has no podCidrV6 (its IPv6 pool)',
      'nodes[0] "n1".workloads[0] "w".ipv6: set, but the cluster has no podCidrV6 (its IPv6 pool)',
    ]);
  });

  it('every node needs its IPv6 address and block', () => {
    expect(problems({ nodes: [node(1), node(2, { ipv6Address: undefined, podCidrV6: undefined })] })).toEqual([
      'nodes[1] "n2".ipv6Address: the cluster is dual-stack (podCidrV6 fd00:198:19::/48): every node needs its IPv6 address (e.g. fd00:198:18::1/64)',
      'nodes[1] "n2".podCidrV6: the cluster is dual-stack (podCidrV6 fd00:198:19::/48): every node needs its IPv6 block inside it',
    ]);
  });

  it('node IPv6 addresses: usable, prefix in range, no duplicates, outside the pool', () => {
    expect(problems({ nodes: [node(1, { ipv6Address: 'fe80::1/64' })] })).toEqual([
      'nodes[0] "n1".ipv6Address: fe80::1 is a link-local address (fe80::/10)',
    ]);
    expect(problems({ nodes: [node(1, { ipv6Address: 'fd00:198:18::1/129' })] })).toEqual([
      'nodes[0] "n1".ipv6Address: the prefix length after "/" must be a whole number from 1 to 128',
    ]);
    expect(problems({ nodes: [node(1, { ipv6Address: 'fd00:198:18::1/' })] })).toEqual([
      'nodes[0] "n1".ipv6Address: the prefix length after "/" must be a whole number from 1 to 128',
    ]);
    expect(problems({ nodes: [node(1), node(2, { ipv6Address: 'fd00:198:18::1/64' })] })).toEqual([
      'nodes[1] "n2".ipv6Address: fd00:198:18::1 is already the IPv6 address of node "n1"',
    ]);
    expect(problems({ nodes: [node(1, { ipv6Address: 'fd00:198:19:9::1/64' })] })).toEqual([
      'nodes[0] "n1".ipv6Address: fd00:198:19:9::1 lies inside the IPv6 pod pool fd00:198:19::/48',
    ]);
    expect(problems({ nodes: [node(1, { ipv6Address: 'FD00:198:18::1/64' })] })).toEqual([
      'nodes[0] "n1".ipv6Address: "FD00:198:18::1" is not in canonical form (RFC 5952, as ip and BIRD print it): write fd00:198:18::1',
    ]);
  });

  it('node IPv6 blocks: a CIDR, inside the pool, big enough, no overlap', () => {
    expect(problems({ nodes: [node(1, { podCidrV6: 'fd00:198:20::/64' })] })).toEqual([
      'nodes[0] "n1".podCidrV6: fd00:198:20::/64 is outside the IPv6 pod pool fd00:198:19::/48',
    ]);
    expect(problems({ nodes: [node(1, { podCidrV6: 'fd00:198:19:1::/128' })] })).toEqual([
      'nodes[0] "n1".podCidrV6: fd00:198:19:1::/128 is too small to hold a workload (at most /127)',
    ]);
    expect(problems({ nodes: [node(1, { podCidrV6: 'fd00:198:19:1::/127' })] })).toEqual([]);
    expect(
      problems({ nodes: [node(1, { podCidrV6: 'fd00:198:19::/56' }), node(2, { podCidrV6: 'fd00:198:19:1::/64' })] }),
    ).toEqual(['nodes[1] "n2".podCidrV6: fd00:198:19:1::/64 overlaps node "n1" (fd00:198:19::/56)']);
    expect(problems({ nodes: [node(1, { podCidrV6: 'fd00:198:19:1::1/64' })] })).toEqual([
      'nodes[0] "n1".podCidrV6: "fd00:198:19:1::1/64" has host bits set; the network address is required',
    ]);
  });

  it('workload IPv6 addresses: usable, in the node block, not its first address, no duplicates', () => {
    const w = (ipv6: string, name = 'w') => ({ name, ip: '198.19.1.5', ipv6 });
    const with1 = (...workloads: { name: string; ip?: string; ipv6?: string }[]) =>
      problems({ nodes: [node(1, { workloads })] });
    expect(with1(w('fd00:198:19:2::5'))).toEqual([
      'nodes[0] "n1".workloads[0] "w".ipv6: fd00:198:19:2::5 is outside node "n1"\'s IPv6 block fd00:198:19:1::/64',
    ]);
    expect(with1(w('fd00:198:19:1::'))).toEqual([
      'nodes[0] "n1".workloads[0] "w".ipv6: fd00:198:19:1:: is the Subnet-Router anycast address (the first address) of fd00:198:19:1::/64',
    ]);
    expect(with1(w('ff02::1'))).toEqual([
      'nodes[0] "n1".workloads[0] "w".ipv6: ff02::1 is a multicast address (ff00::/8)',
    ]);
    expect(with1(w('::1'))).toEqual(['nodes[0] "n1".workloads[0] "w".ipv6: ::1 is the loopback address']);
    expect(with1(w('fd00:198:19:1::5'), { name: 'v', ip: '198.19.1.6', ipv6: 'fd00:198:19:1::5' })).toEqual([
      'nodes[0] "n1".workloads[1] "v".ipv6: fd00:198:19:1::5 is already the IPv6 address of workload "w"',
    ]);
    // Dual-stack and IPv6-only workloads side by side: programmed on the host, nothing refused.
    expect(with1(w('fd00:198:19:1::5'), { name: 'only6', ipv6: 'fd00:198:19:1::6' })).toEqual([]);
    // Neither address: refused, naming the field.
    expect(with1({ name: 'none' })).toEqual([
      'nodes[0] "n1".workloads[0] "none".ip: a workload needs ip, or ipv6 on a dual-stack cluster',
    ]);
    // A node whose block is wrong: its workloads are checked for themselves only.
    expect(problems({ nodes: [node(1, { podCidrV6: 'bad', workloads: [w('fe80::1')] })] })).toEqual([
      'nodes[0] "n1".podCidrV6: "bad" is not an IPv6 CIDR (address/len)',
      'nodes[0] "n1".workloads[0] "w".ipv6: fe80::1 is a link-local address (fe80::/10)',
    ]);
  });

  it('router ids: an IPv4 address, not 0.0.0.0, one per node', () => {
    expect(problems({ nodes: [node(1, { routerID: '10.255.0.1' }), node(2)] })).toEqual([]);
    expect(problems({ nodes: [node(1, { routerID: 'fd00::1' })] })).toEqual([
      'nodes[0] "n1".routerID: "fd00::1" is not an IPv4 address',
    ]);
    expect(problems({ nodes: [node(1, { routerID: '0.0.0.0' })] })).toEqual([
      'nodes[0] "n1".routerID: 0.0.0.0 is not a router id',
    ]);
    expect(problems({ nodes: [node(1, { routerID: '198.18.0.2' }), node(2)] })).toEqual([
      'nodes[0] "n1".routerID: 198.18.0.2 is also the router id of node "n2"; BGP needs one per node',
    ]);
    expect(problems({ nodes: [node(1, { routerID: '10.0.0.9' }), node(2, { routerID: '10.0.0.9' })] })).toEqual([
      'nodes[0] "n1".routerID: 10.0.0.9 is also the router id of node "n2"; BGP needs one per node',
      'nodes[1] "n2".routerID: 10.0.0.9 is also the router id of node "n1"; BGP needs one per node',
    ]);
    // An IPv4-only cluster checks the router id too.
    expect(
      clusterProblems(
        cluster({
          podCidrV6: undefined,
          nodes: [node(1, { ipv6Address: undefined, podCidrV6: undefined, routerID: 'x' })],
        }),
      ),
    ).toEqual(['nodes[0] "n1".routerID: "x" is not an IPv4 address']);
  });
});

describe('the YAML inventory carries the dual-stack fields', () => {
  const yaml = (extra: { cluster?: string; node?: string; workload?: string } = {}) => `
cluster:
  name: lab
  podCidr: 198.19.0.0/16
${extra.cluster ?? '  podCidrV6: fd00:198:19::/48'}
nodes:
  - name: n1
    address: 198.18.0.1/24
    podCidr: 198.19.1.0/24
${extra.node ?? '    ipv6Address: fd00:198:18::1/64\n    podCidrV6: fd00:198:19:1::/64\n    routerID: 10.255.0.1'}
    workloads:
      - name: w1
        ip: 198.19.1.5
${extra.workload ?? ''}
`;

  it('into the model', () => {
    const c = parseInventory(yaml(), '/inventories/cluster.yaml');
    expect(c.podCidrV6).toBe('fd00:198:19::/48');
    expect(c.nodes[0]).toMatchObject({
      ipv6Address: 'fd00:198:18::1/64',
      podCidrV6: 'fd00:198:19:1::/64',
      routerID: '10.255.0.1',
      address: '198.18.0.1',
      prefixLength: 24,
    });
  });

  it('an IPv4-only inventory gets no dual-stack keys at all', () => {
    const c = parseInventory(yaml({ cluster: '', node: '' }), '/inventories/cluster.yaml');
    expect('podCidrV6' in c).toBe(false);
    expect(Object.keys(c.nodes[0]).filter((k) => /ipv6|V6|routerID/.test(k))).toEqual([]);
  });

  it('refuses with the field named, and checks the types', () => {
    const refused = (text: string) => {
      try {
        parseInventory(text, '/inventories/cluster.yaml');
      } catch (err) {
        expect(err).toBeInstanceOf(ClusterValidationError);
        return (err as ClusterValidationError).problems;
      }
      throw new Error('accepted');
    };
    expect(refused(yaml({ workload: '        ipv6: fd00:198:19:2::5' }))).toEqual([
      'nodes[0] "n1".workloads[0] "w1".ipv6: fd00:198:19:2::5 is outside node "n1"\'s IPv6 block fd00:198:19:1::/64',
    ]);
    expect(refused(yaml({ cluster: '  podCidrV6: 48' })).join('\n')).toMatch(/cluster\.podCidrV6/);
    expect(refused(yaml({ node: '    ipv6Address: [1]' })).join('\n')).toMatch(/nodes\[0\]\.ipv6Address/);
  });
});

describe('bird.conf of a dual-stack node (Calico bird6 beside the IPv4 part)', () => {
  const three = (over: Partial<ClusterSpec> = {}) => cluster({ nodes: [node(1), node(2), node(3)], ...over });
  const sessionLines = (conf: string) => conf.split('\n').filter((l) => /^protocol bgp /.test(l));

  it('an IPv4-only cluster renders no IPv6 line', () => {
    const conf = renderBirdConfig(
      cluster({
        podCidrV6: undefined,
        nodes: [
          node(1, { ipv6Address: undefined, podCidrV6: undefined }),
          node(2, { ipv6Address: undefined, podCidrV6: undefined }),
        ],
      }),
      'n1',
    );
    expect(conf).not.toMatch(/ipv6|_v6|fd00/);
    expect(conf).toMatch(/^router id 198\.18\.0\.1;$/m);
  });

  it('full mesh: IPv6 block, kernel and direct protocols, filter twins, sessions between the IPv6 addresses; bird -p clean on every node', () => {
    const c = three();
    for (const n of ['n1', 'n2', 'n3']) expect(birdParse(renderBirdConfig(c, n))).toEqual({ code: 0, output: '' });
    const conf = renderBirdConfig(c, 'n2');
    expect(conf).toContain('protocol static calico_blocks_v6 {\n  ipv6;\n  route fd00:198:19:2::/64 blackhole;\n}');
    expect(conf).toContain('protocol kernel kernel_v6 {');
    expect(conf).toContain('export filter calico_kernel_programming_v6;');
    expect(conf).toContain('protocol direct direct_v6 {\n  ipv6;');
    expect(conf).toContain('if ( net = fd00:198:19:2::/64 ) then { accept; }');
    expect(conf).toContain('if ( net ~ [ fd00:198:19::/48+ ] ) then { accept; }');
    expect(conf).toContain('if net = ::/0 then reject;');
    expect(conf).toContain('local fd00:198:18::2 as 64512;');
    expect(sessionLines(conf)).toEqual([
      'protocol bgp Mesh_198_18_0_1 from bgp_template { neighbor 198.18.0.1 as 64512; }',
      'protocol bgp Mesh_198_18_0_3 from bgp_template { neighbor 198.18.0.3 as 64512; passive on; }',
      'protocol bgp Mesh_fd00_198_18__1 from bgp_template_v6 { neighbor fd00:198:18::1 as 64512; }',
      'protocol bgp Mesh_fd00_198_18__3 from bgp_template_v6 { neighbor fd00:198:18::3 as 64512; passive on; }',
    ]);
    // The IPv4 part is the IPv4-only rendering, unchanged: the IPv6 part only follows it.
    const v4only = cluster({
      podCidrV6: undefined,
      nodes: [1, 2, 3].map((k) => node(k, { ipv6Address: undefined, podCidrV6: undefined })),
    });
    expect(conf.startsWith(renderBirdConfig(v4only, 'n2'))).toBe(true);
  });

  it('route reflectors carry both families; the RR reflects IPv6 to its clients', () => {
    const c = three({ topology: 'route-reflector', nodes: [node(1, { routeReflector: true }), node(2), node(3)] });
    for (const n of ['n1', 'n2', 'n3']) expect(birdParse(renderBirdConfig(c, n))).toEqual({ code: 0, output: '' });
    expect(sessionLines(renderBirdConfig(c, 'n1')).filter((l) => l.includes('_v6'))).toEqual([
      'protocol bgp Node_fd00_198_18__2 from bgp_template_v6 { neighbor fd00:198:18::2 as 64512; rr client; rr cluster id 198.18.0.1; }',
      'protocol bgp Node_fd00_198_18__3 from bgp_template_v6 { neighbor fd00:198:18::3 as 64512; rr client; rr cluster id 198.18.0.1; }',
    ]);
    expect(sessionLines(renderBirdConfig(c, 'n3')).filter((l) => l.includes('_v6'))).toEqual([
      'protocol bgp Node_fd00_198_18__1 from bgp_template_v6 { neighbor fd00:198:18::1 as 64512; }',
    ]);
  });

  it('external IPv6 peers: their own sessions, options, password as a secret, multihop off the node network', () => {
    const c = cluster({
      peers: [
        {
          address: 'fd00:198:18::fe',
          asNumber: 65100,
          password: 'tor-v6-secret',
          holdTime: 30,
          keepOriginalNextHop: true,
        },
        { address: 'fd00:198:20::1', asNumber: 65200, nodes: ['n2'] },
        { address: '198.18.0.254', asNumber: 65100 },
      ],
    });
    expect(clusterProblems(c)).toEqual([]);
    for (const n of ['n1', 'n2']) expect(birdParse(renderBirdConfig(c, n))).toEqual({ code: 0, output: '' });
    const lines = sessionLines(renderBirdConfig(c, 'n2'));
    expect(lines).toContain(
      'protocol bgp Global_fd00_198_18__fe from bgp_template_v6 { neighbor fd00:198:18::fe as 65100; password "@@CALICO_SECRET:Global_fd00_198_18__fe@@"; hold time 30; ipv6 { next hop keep; }; }'.replace(
        '@@CALICO_SECRET:Global_fd00_198_18__fe@@',
        secretPlaceholder('Global_fd00_198_18__fe'),
      ),
    );
    expect(lines).toContain(
      'protocol bgp Global_fd00_198_20__1 from bgp_template_v6 { neighbor fd00:198:20::1 as 65200; multihop; ipv6 { gateway recursive; }; }',
    );
    expect(lines).toContain(
      'protocol bgp Global_198_18_0_254 from bgp_template { neighbor 198.18.0.254 as 65100; multihop; ipv4 { gateway recursive; }; }',
    );
    expect(sessionLines(renderBirdConfig(c, 'n1')).some((l) => l.includes('fd00:198:20::1'))).toBe(false);
    expect(birdSecretsOf(c, 'n1')).toEqual({ Global_fd00_198_18__fe: 'tor-v6-secret' });
    // The IPv4 sessions never list an IPv6 peer.
    expect(bgpSessionsOf(c, 'n2').map((s) => s.neighbor)).toEqual(['198.18.0.1', '198.18.0.254']);
  });

  it('external IPv6 peers: refused without the IPv6 pool, on a node address, or with knobs not rendered yet', () => {
    const peer = { address: 'fd00:198:18::fe', asNumber: 65100 };
    expect(
      clusterProblems(
        cluster({
          podCidrV6: undefined,
          nodes: [node(1, { ipv6Address: undefined, podCidrV6: undefined })],
          peers: [peer],
        }),
      ),
    ).toEqual(['peers[0].address: an IPv6 peer needs a dual-stack cluster (cluster.podCidrV6)']);
    expect(clusterProblems(cluster({ peers: [{ ...peer, address: 'fd00:198:18::2' }] }))).toEqual([
      'peers[0] fd00:198:18::2: is the IPv6 address of node "n2"; external peers are other routers',
    ]);
    expect(clusterProblems(cluster({ peers: [{ ...peer, address: 'fe80::1' }] }))).toEqual([
      'peers[0].address: fe80::1 is a link-local address (fe80::/10)',
    ]);
    expect(
      clusterProblems(cluster({ peers: [{ ...peer, acceptDefaultRoute: true, sourceAddress: 'None', bfd: {} }] })),
    ).toEqual([
      'peers[0] fd00:198:18::fe.acceptDefaultRoute: not supported on an IPv6 peer yet (its sessions render without it)',
      'peers[0] fd00:198:18::fe.sourceAddress: not supported on an IPv6 peer yet (its sessions render without it)',
      'peers[0] fd00:198:18::fe.bfd: not supported on an IPv6 peer yet (its sessions render without it)',
    ]);
  });

  it('eBGP between nodes, a listen port, IPIP for IPv4 and a router id: all parse', () => {
    const c = cluster({
      listenPort: 1790,
      ipipMode: 'Always',
      nodes: [
        node(1, { asNumber: 65001, routerID: '10.255.0.1' }),
        node(2, { asNumber: 65002, ipv6Address: 'fd00:198:18:1::2/64' }),
      ],
    });
    expect(clusterProblems(c)).toEqual([]);
    for (const n of ['n1', 'n2']) expect(birdParse(renderBirdConfig(c, n))).toEqual({ code: 0, output: '' });
    const conf = renderBirdConfig(c, 'n1');
    expect(conf).toMatch(/^router id 10\.255\.0\.1;$/m);
    expect(conf).toContain('local fd00:198:18::1 port 1790 as 65001;');
    // Different /64s: eBGP across a router, as for IPv4 without a shared subnet.
    expect(sessionLines(conf)).toContain(
      'protocol bgp Mesh_fd00_198_18_1__2 from bgp_template_v6 { neighbor fd00:198:18:1::2 port 1790 as 65002; passive on; multihop; ipv6 { gateway recursive; }; }',
    );
    expect(sessionLines(renderBirdConfig(c, 'n2'))).toContain(
      'protocol bgp Mesh_fd00_198_18__1 from bgp_template_v6 { neighbor fd00:198:18::1 port 1790 as 65001; multihop; ipv6 { gateway recursive; }; }',
    );
  });

  it('the constructs take the same fields and render them at synth', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-dual-stack-'));
    const app = new App({ outdir });
    const stack = new TerraformStack(app, 'ds');
    const c = new CalicoCluster(stack, 'net', { name: 'ds', podCidr: '198.19.0.0/16', podCidrV6: 'fd00:198:19::/48' });
    new CalicoNode(c, 'n1', {
      name: 'n1',
      address: '198.18.0.1',
      podCidr: '198.19.1.0/24',
      ipv6Address: 'fd00:198:18::1/64',
      podCidrV6: 'fd00:198:19:1::/64',
    });
    new CalicoNode(c, 'n2', {
      name: 'n2',
      address: '198.18.0.2',
      podCidr: '198.19.2.0/24',
      ipv6Address: 'fd00:198:18::2/64',
      podCidrV6: 'fd00:198:19:2::/64',
    });
    app.synth();
    const json = JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', 'ds', 'cdk.tf.json'), 'utf8'));
    const n1 = Object.values<any>(json.resource.calico_bird_config).find((r) => r.node_name === 'n1');
    expect(n1.content).toContain(
      'protocol bgp Mesh_fd00_198_18__2 from bgp_template_v6 { neighbor fd00:198:18::2 as 64512; passive on; }',
    );

    const bad = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'calico-dual-stack-')) });
    const c2 = new CalicoCluster(new TerraformStack(bad, 'ds'), 'net', {
      name: 'ds',
      podCidr: '198.19.0.0/16',
      podCidrV6: 'fd00:198:19::/48',
    });
    new CalicoNode(c2, 'n1', {
      name: 'n1',
      address: '198.18.0.1',
      podCidr: '198.19.1.0/24',
      ipv6Address: 'fd00:198:18::1/64',
      podCidrV6: 'fd00:198:20::/64',
    });
    expect(() => bad.synth()).toThrow(
      /nodes\[0\] "n1"\.podCidrV6: fd00:198:20::\/64 is outside the IPv6 pod pool fd00:198:19::\/48/,
    );
  });
});
