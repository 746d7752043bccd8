/**
 * The cluster rules in process, at their boundaries: clusterProblems (every check and its exact
 * wording), the BGP session model, and the camelCase → schema attribute mapping of the bindings.
 */
import { ClusterSpec, NodeSpec } from '../../constructs/model';
import {
  asNumberProblem,
  clusterProblems,
  ClusterValidationError,
  passwordProblem,
  validateCluster,
} from '../../constructs/validation';
import { bgpSessionsOf, protocolName, rrClusterId } from '../../constructs/bgp-sessions';
import { birdParse } from '../stacks/synth-helpers';
import { camelCase, synthesizeBlock } from '../../constructs/bindings';
import { cidrContainsCidr, cidrContainsIp, cidrsOverlap, IPV4, parseCidr } from '../../rules/address-family';
import { prefixLengthProblem, sameSubnet, withSplitAddress } from '../../rules/subnets';
import { renderBirdConfig } from '../../constructs/bird-config';
import type { BlockSchema } from '../../providers/runtime/schema';

function node(k: number, over: Partial<NodeSpec> = {}): NodeSpec {
  return { name: `n${k}`, address: `198.18.0.${k}`, podCidr: `198.19.${k}.0/24`, workloads: [], ...over };
}

function cluster(over: Partial<ClusterSpec> = {}): ClusterSpec {
  return { name: 'lab', podCidr: '198.19.0.0/16', nodes: [node(1), node(2)], peers: [], ...over };
}

describe('clusterProblems', () => {
  it('a good cluster has none, and validateCluster passes it', () => {
    expect(clusterProblems(cluster())).toEqual([]);
    expect(() => validateCluster(cluster())).not.toThrow();
  });

  it('validateCluster throws every problem at once', () => {
    let error: unknown;
    try {
      validateCluster(cluster({ name: '-x', nodes: [] }));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ClusterValidationError);
    expect((error as ClusterValidationError).problems).toHaveLength(2);
  });

  it('AS numbers: 1..4294967295 except AS_TRANS, integers only', () => {
    expect(asNumberProblem(1)).toBeNull();
    expect(asNumberProblem(4294967295)).toBeNull();
    expect(asNumberProblem(0)).toBe('0 is not an AS number (1..4294967295)');
    expect(asNumberProblem(4294967296)).toBe('4294967296 is not an AS number (1..4294967295)');
    expect(asNumberProblem(1.5)).toBe('1.5 is not an AS number (1..4294967295)');
    expect(asNumberProblem(23456)).toBe('23456 is AS_TRANS, reserved for 4-byte AS translation');
    expect(asNumberProblem(23455)).toBeNull();
    expect(clusterProblems(cluster({ asNumber: 23456 }))).toEqual([
      'cluster.asNumber: 23456 is AS_TRANS, reserved for 4-byte AS translation',
    ]);
    expect(clusterProblems(cluster({ asNumber: 64512 }))).toEqual([]);
    expect(clusterProblems(cluster({ nodes: [node(1, { asNumber: 0 }), node(2, { asNumber: 65001 })] }))).toEqual([
      'nodes[0] "n1".asNumber: 0 is not an AS number (1..4294967295)',
    ]);
  });

  it('peer nodes: each must name a node of the cluster, once; hostile names are reported, not run', () => {
    const peer = (nodes: string[]) => cluster({ peers: [{ address: '198.18.0.100', asNumber: 65100, nodes }] });
    expect(clusterProblems(peer(['n2']))).toEqual([]);
    expect(clusterProblems(peer(['n1', 'n1', '${path.module}', "a'b"]))).toEqual([
      'peers[0] 198.18.0.100.nodes: "n1" is listed twice',
      'peers[0] 198.18.0.100.nodes: no node named "${path.module}"',
      'peers[0] 198.18.0.100.nodes: no node named "a\'b"',
    ]);
    // 300 names of real nodes: fine, and each node gets the session exactly once.
    const many = cluster({
      nodes: Array.from({ length: 300 }, (_, k) => ({
        ...node(k + 1),
        address: `198.18.${Math.floor((k + 1) / 250)}.${((k + 1) % 250) + 1}`,
        podCidr: `198.19.${Math.floor(k / 16)}.${(k % 16) * 16}/28`,
      })),
    });
    const wide = {
      ...many,
      podCidr: '198.19.0.0/16',
      peers: [{ address: '198.20.0.1', asNumber: 65100, nodes: many.nodes.map((n) => n.name) }],
    };
    expect(clusterProblems(wide)).toEqual([]);
    expect(bgpSessionsOf(wide, 'n300').filter((s) => s.kind === 'global')).toHaveLength(1);
  });

  it('passwords: 1..80 printable characters without space, quote or backslash', () => {
    expect(passwordProblem('a')).toBeNull();
    expect(passwordProblem('!~'.repeat(40))).toBeNull();
    expect(passwordProblem('x'.repeat(81))).toBe('must be 1..80 characters (TCP-MD5 key)');
    expect(passwordProblem('')).toBe('must be 1..80 characters (TCP-MD5 key)');
    for (const bad of ['a b', 'a"b', 'a\\b', 'é', 'a\tb', 'a\x7fb']) {
      expect(passwordProblem(bad)).toBe('may use printable ASCII except spaces, double quotes and backslashes');
    }
    expect(
      clusterProblems(cluster({ peers: [{ address: '198.18.0.100', asNumber: 65000, password: 'ok!' }] })),
    ).toEqual([]);
    expect(clusterProblems(cluster({ peers: [{ address: '198.18.0.100', asNumber: 65000, password: '' }] }))).toEqual([
      'peers[0] 198.18.0.100.password: must be 1..80 characters (TCP-MD5 key)',
    ]);
  });

  it('ssh settings, cluster-wide and per node', () => {
    const ok = {
      user: 'ops',
      port: 1,
      passphraseEnv: 'KEY_PASS',
      privateKeyPath: '/k',
      knownHostsPath: '/kh',
      sudo: true,
    };
    expect(clusterProblems(cluster({ ssh: ok }))).toEqual([]);
    expect(clusterProblems(cluster({ ssh: { port: 65535 } }))).toEqual([]);
    expect(clusterProblems(cluster({ ssh: { port: 0 } }))).toEqual(['ssh.port: 0 is not a port number (1..65535)']);
    expect(clusterProblems(cluster({ ssh: { port: 65536 } }))).toEqual([
      'ssh.port: 65536 is not a port number (1..65535)',
    ]);
    expect(clusterProblems(cluster({ ssh: { port: 22.5 } }))).toEqual([
      'ssh.port: 22.5 is not a port number (1..65535)',
    ]);
    const bad = clusterProblems(
      cluster({
        nodes: [
          node(1, { ssh: { user: 'a b', passphraseEnv: 'A-B', privateKeyPath: 'rel', knownHostsPath: '/x/../y' } }),
          node(2),
        ],
      }),
    );
    expect(bad).toEqual([
      expect.stringMatching(/^nodes\[0\] "n1"\.ssh\.user: /),
      expect.stringMatching(/^nodes\[0\] "n1"\.ssh\.passphraseEnv: /),
      'nodes[0] "n1".ssh.privateKeyPath: "rel" is not an absolute path',
      'nodes[0] "n1".ssh.knownHostsPath: "/x/../y" contains "." or ".." segments',
    ]);
  });

  it('node fields: name, address, sshHost, paths', () => {
    expect(
      clusterProblems(
        cluster({
          nodes: [
            node(1, { sshHost: 'n1.example.test', birdConfigPath: '/etc/bird/b.conf', birdSocketPath: '/run/b.ctl' }),
          ],
        }),
      ),
    ).toEqual([]);
    expect(
      clusterProblems(
        cluster({
          nodes: [
            node(1, {
              name: 'a b',
              address: '1.2.3',
              sshHost: '-x',
              birdConfigPath: 'b.conf',
              birdSocketPath: '/run/',
            }),
          ],
        }),
      ),
    ).toEqual([
      'nodes[0].name: "a b" is not a valid node name (letters, digits, "_", ".", "-"; starts with a letter or digit; at most 63)',
      'nodes[0] "a b".address: "1.2.3" is not an IPv4 address',
      'nodes[0] "a b".sshHost: "-x" is not a host name or address',
      'nodes[0] "a b".birdConfigPath: "b.conf" is not an absolute path',
      'nodes[0] "a b".birdSocketPath: "/run/" names a directory',
    ]);
  });

  it('names, addresses and blocks must be unique and fit the pool', () => {
    expect(
      clusterProblems(
        cluster({ nodes: [node(1), node(2, { name: 'n1', address: '198.18.0.1', podCidr: '198.19.1.0/25' })] }),
      ),
    ).toEqual([
      'nodes[1] "n1": duplicate node name (also nodes[0])',
      'nodes[1] "n1".address: 198.18.0.1 is already the address of node "n1"',
      'nodes[1] "n1".podCidr: 198.19.1.0/25 overlaps node "n1" (198.19.1.0/24)',
    ]);
    expect(clusterProblems(cluster({ nodes: [node(1, { address: '198.19.255.255' })] }))).toEqual([
      'nodes[0] "n1".address: 198.19.255.255 lies inside the pod pool 198.19.0.0/16',
    ]);
    expect(clusterProblems(cluster({ nodes: [node(1, { address: '198.20.0.0' })] }))).toEqual([]);
    expect(clusterProblems(cluster({ nodes: [node(1, { podCidr: '198.18.0.0/15' })] }))).toEqual([
      'nodes[0] "n1".podCidr: 198.18.0.0/15 is outside the pod pool 198.19.0.0/16',
    ]);
    expect(clusterProblems(cluster({ nodes: [node(1, { podCidr: '198.19.0.0/16' })] }))).toEqual([]);
    expect(clusterProblems(cluster({ nodes: [node(1, { podCidr: '198.19.1.0/30' })] }))).toEqual([]);
    expect(clusterProblems(cluster({ nodes: [node(1, { podCidr: '198.19.1.0/31' })] }))).toEqual([
      'nodes[0] "n1".podCidr: 198.19.1.0/31 is too small to hold a workload (at most /30)',
    ]);
    expect(clusterProblems(cluster({ nodes: [node(1, { podCidr: 'x' })] }))).toEqual([
      'nodes[0] "n1".podCidr: "x" is not an IPv4 CIDR (a.b.c.d/len)',
    ]);
    // With a bad pool, blocks are still checked among themselves, not against the pool.
    expect(
      clusterProblems(cluster({ podCidr: '198.19.0.1/16', nodes: [node(1), node(2, { podCidr: '198.19.1.0/24' })] })),
    ).toEqual([
      'cluster.podCidr: "198.19.0.1/16" has host bits set; the network address is required',
      'nodes[1] "n2".podCidr: 198.19.1.0/24 overlaps node "n1" (198.19.1.0/24)',
    ]);
    expect(clusterProblems(cluster({ nodes: [] }))).toEqual(['nodes: a cluster needs at least one node']);
  });

  it('workloads: name, IP inside the block but not its network or broadcast, MTU 576..65535', () => {
    const w = (name: string, ip: string, mtu?: number) => ({ name, ip, mtu });
    const ok = [w('a', '198.19.1.1', 576), w('b', '198.19.1.254', 9000)];
    expect(clusterProblems(cluster({ nodes: [node(1, { workloads: ok })] }))).toEqual([]);
    expect(
      clusterProblems(
        cluster({
          nodes: [
            node(1, {
              workloads: [
                w('-a', '198.19.1.2', 575),
                w('b', '198.19.1.2', 65536),
                w('b', '198.19.1.0', 1500.5),
                w('c', '198.19.1.255'),
                w('d', '198.19.2.1'),
                w('e', '169.254.1.1'),
                w('f', '198.19.1.3'),
              ],
            }),
          ],
        }),
      ),
    ).toEqual([
      'nodes[0] "n1".workloads[0].name: "-a" is not a valid workload name (letters, digits, "_", ".", "-"; starts with a letter or digit; at most 63)',
      'nodes[0] "n1".workloads[0] "-a".mtu: 575 is not an MTU in 576..65535',
      'nodes[0] "n1".workloads[1] "b".mtu: 65536 is not an MTU in 576..65535',
      'nodes[0] "n1".workloads[1] "b".ip: 198.19.1.2 is already the IP of workload "-a"',
      'nodes[0] "n1".workloads[2] "b": duplicate workload name on node "n1"',
      'nodes[0] "n1".workloads[2] "b".mtu: 1500.5 is not an MTU in 576..65535',
      'nodes[0] "n1".workloads[2] "b".ip: 198.19.1.0 is the network address of 198.19.1.0/24',
      'nodes[0] "n1".workloads[3] "c".ip: 198.19.1.255 is the broadcast address of 198.19.1.0/24',
      'nodes[0] "n1".workloads[4] "d".ip: 198.19.2.1 is outside node "n1"\'s block 198.19.1.0/24',
      'nodes[0] "n1".workloads[5] "e".ip: 169.254.1.1 is the pods\' gateway and cannot be a pod IP',
    ]);
    // The same workload name or IP on two different nodes is fine.
    expect(
      clusterProblems(
        cluster({
          nodes: [node(1, { workloads: [w('a', '198.19.1.2')] }), node(2, { workloads: [w('a', '198.19.2.2')] })],
        }),
      ),
    ).toEqual([]);
  });

  it('external peers: a valid address that is not a node, a valid AS', () => {
    expect(
      clusterProblems(
        cluster({
          peers: [
            { address: '198.18.0.1', asNumber: 65000 },
            { address: '1.2.3.300', asNumber: 4294967296 },
          ],
        }),
      ),
    ).toEqual([
      'peers[0] 198.18.0.1: is the address of node "n1"; external peers are other routers',
      'peers[1].address: "1.2.3.300" is not an IPv4 address',
      'peers[1] 1.2.3.300.asNumber: 4294967296 is not an AS number (1..4294967295)',
    ]);
  });

  it('topology: RR needs an RR and one AS; full mesh refuses RR flags', () => {
    expect(
      clusterProblems(cluster({ topology: 'route-reflector', nodes: [node(1, { routeReflector: true }), node(2)] })),
    ).toEqual([]);
    expect(clusterProblems(cluster({ topology: 'route-reflector' }))).toEqual([
      'cluster.topology: route-reflector needs at least one node with routeReflector: true',
    ]);
    expect(
      clusterProblems(
        cluster({
          topology: 'route-reflector',
          asNumber: 65000,
          nodes: [node(1, { routeReflector: true, asNumber: 65000 }), node(2, { asNumber: 64512 })],
        }),
      ),
    ).toEqual([
      'nodes[1] "n2".asNumber: 64512 differs from the cluster AS 65000; route-reflector sessions must be iBGP',
    ]);
    expect(
      clusterProblems(cluster({ nodes: [node(1, { routeReflector: true }), node(2, { routeReflector: false })] })),
    ).toEqual(['nodes[0] "n1".routeReflector: set, but cluster.topology is full-mesh (use topology: route-reflector)']);
    expect(
      clusterProblems(cluster({ topology: 'full-mesh', nodes: [node(1, { routeReflector: true })] })),
    ).toHaveLength(1);
  });
});

describe('ipv4 blocks', () => {
  it('contain, nest and overlap at their exact edges', () => {
    const b = parseCidr('198.19.1.0/24');
    expect(b).toEqual({ text: '198.19.1.0/24', family: IPV4, network: 3323134208n, length: 24, last: 3323134463n });
    expect(cidrContainsIp(b, '198.19.1.0')).toBe(true);
    expect(cidrContainsIp(b, '198.19.1.255')).toBe(true);
    expect(cidrContainsIp(b, '198.19.0.255')).toBe(false);
    expect(cidrContainsIp(b, '198.19.2.0')).toBe(false);
    expect(cidrContainsCidr(b, parseCidr('198.19.1.0/24'))).toBe(true);
    expect(cidrContainsCidr(b, parseCidr('198.19.1.252/30'))).toBe(true);
    expect(cidrContainsCidr(b, parseCidr('198.19.0.0/23'))).toBe(false);
    expect(cidrContainsCidr(parseCidr('198.19.0.0/23'), parseCidr('198.19.1.0/24'))).toBe(true);
    expect(cidrsOverlap(b, parseCidr('198.19.1.255/32'))).toBe(true);
    expect(cidrsOverlap(parseCidr('198.19.1.255/32'), b)).toBe(true);
    expect(cidrsOverlap(b, parseCidr('198.19.2.0/24'))).toBe(false);
    expect(cidrsOverlap(parseCidr('198.19.0.0/24'), b)).toBe(false);
  });
});

describe('node subnets', () => {
  it('splits "address/len" and keeps a bare address as it is', () => {
    expect(withSplitAddress({ address: '198.18.1.7/24', name: 'n' })).toEqual({
      address: '198.18.1.7',
      prefixLength: 24,
      name: 'n',
    });
    expect(withSplitAddress({ address: '198.18.1.7', prefixLength: 25 })).toEqual({
      address: '198.18.1.7',
      prefixLength: 25,
    });
    expect(withSplitAddress({ address: '198.18.1.7/' }).prefixLength).toBeNaN();
    expect(withSplitAddress({ address: '198.18.1.7/024' }).prefixLength).toBeNaN();
    expect(prefixLengthProblem(32)).toBeNull();
    expect(prefixLengthProblem(0)).toMatch(/from 1 to 32/);
    expect(prefixLengthProblem(NaN)).toMatch(/from 1 to 32/);
  });

  it('puts two nodes on one subnet only when each network holds the other address', () => {
    const a = { address: '198.18.1.1', prefixLength: 25 };
    expect(sameSubnet(a, { address: '198.18.1.126', prefixLength: 25 })).toBe(true);
    expect(sameSubnet(a, { address: '198.18.1.129', prefixLength: 25 })).toBe(false);
    // A /24 holds the /25 node's address, but the /25 does not hold .200: not one subnet.
    expect(sameSubnet({ address: '198.18.1.200', prefixLength: 24 }, a)).toBe(false);
    expect(sameSubnet({ address: '198.18.1.100', prefixLength: 24 }, a)).toBe(true);
    expect(sameSubnet(a, { address: '198.18.1.2' })).toBeUndefined();
    expect(sameSubnet(a, { address: '198.18.1.2', prefixLength: NaN })).toBeUndefined();
  });
});

describe('bgpSessionsOf', () => {
  it('full mesh: one session per other node, passive towards higher addresses (numerically)', () => {
    const c = cluster({ nodes: [node(9), node(10), node(2, { asNumber: 65002 })] });
    expect(bgpSessionsOf(c, 'n9')).toEqual([
      {
        protocol: 'Mesh_198_18_0_10',
        kind: 'mesh',
        neighbor: '198.18.0.10',
        asNumber: 64512,
        rrClient: false,
        passive: true,
        multihop: false,
      },
      // eBGP with no prefix known on either side: multihop (see needsMultihop).
      {
        protocol: 'Mesh_198_18_0_2',
        kind: 'mesh',
        neighbor: '198.18.0.2',
        asNumber: 65002,
        rrClient: false,
        passive: false,
        multihop: true,
      },
    ]);
    expect(bgpSessionsOf(c, 'n10').map((s) => s.passive)).toEqual([false, false]);
  });

  it('route reflectors: RRs peer with all (clients marked), clients only with RRs', () => {
    const c = cluster({
      topology: 'route-reflector',
      asNumber: 65000,
      nodes: [node(1, { routeReflector: true }), node(2, { routeReflector: true }), node(3), node(4)],
    });
    expect(rrClusterId(c)).toBe('198.18.0.1');
    expect(bgpSessionsOf(c, 'n1').map((s) => [s.protocol, s.rrClient, s.passive, s.asNumber, s.kind])).toEqual([
      ['Node_198_18_0_2', false, false, 65000, 'route-reflector'],
      ['Node_198_18_0_3', true, false, 65000, 'route-reflector'],
      ['Node_198_18_0_4', true, false, 65000, 'route-reflector'],
    ]);
    expect(bgpSessionsOf(c, 'n3').map((s) => [s.neighbor, s.rrClient])).toEqual([
      ['198.18.0.1', false],
      ['198.18.0.2', false],
    ]);
    expect(rrClusterId(cluster())).toBeUndefined();
  });

  it('external peers on every node, with their password; an unknown node is an error', () => {
    const c = cluster({ peers: [{ address: '198.18.0.100', asNumber: 65100, password: 'pw' }] });
    expect(bgpSessionsOf(c, 'n1').pop()).toEqual({
      protocol: 'Global_198_18_0_100',
      kind: 'global',
      neighbor: '198.18.0.100',
      asNumber: 65100,
      rrClient: false,
      passive: false,
      multihop: true,
      password: 'pw',
    });
    expect(() => bgpSessionsOf(c, 'n9')).toThrow('no node named "n9" in cluster "lab"');
    expect(() => renderBirdConfig(c, 'n9')).toThrow('no node named "n9" in cluster "lab"');
    expect(protocolName('global', '10.0.0.1')).toBe('Global_10_0_0_1');
  });

  it('a peer with nodes is a session on those nodes only (same Global_ name); without, on every node', () => {
    const c = cluster({
      nodes: [node(1), node(2), node(3)],
      peers: [
        { address: '198.18.0.100', asNumber: 65100, nodes: ['n1', 'n3'] },
        { address: '198.18.0.101', asNumber: 65101 },
      ],
    });
    const globals = (n: string) =>
      bgpSessionsOf(c, n)
        .filter((s) => s.kind === 'global')
        .map((s) => s.protocol);
    expect(globals('n1')).toEqual(['Global_198_18_0_100', 'Global_198_18_0_101']);
    expect(globals('n2')).toEqual(['Global_198_18_0_101']);
    expect(globals('n3')).toEqual(['Global_198_18_0_100', 'Global_198_18_0_101']);
    expect(renderBirdConfig(c, 'n2')).not.toContain('198.18.0.100');
    expect(renderBirdConfig(c, 'n3')).toMatch(
      /^protocol bgp Global_198_18_0_100 from bgp_template \{ neighbor 198\.18\.0\.100 as 65100; multihop; ipv4 \{ gateway recursive; \}; \}$/m,
    );
  });

  it("multihop: eBGP off this node's subnet or on an unknown one; never for iBGP or a neighbor on the subnet", () => {
    // Two /25s of 198.18.0.0/24: n1, n2 on the first, n3 on the second; n4 without a prefix.
    const c = cluster({
      nodes: [
        node(1, { asNumber: 65001, prefixLength: 25 }),
        node(2, { asNumber: 65002, prefixLength: 25 }),
        { ...node(3, { prefixLength: 25 }), address: '198.18.0.130' },
        node(4, { asNumber: 65004 }),
      ],
      peers: [
        { address: '198.18.0.100', asNumber: 65100 },
        { address: '198.18.0.200', asNumber: 65200 },
        { address: '198.18.0.201', asNumber: 64512 },
      ],
    });
    const hops = (n: string) => Object.fromEntries(bgpSessionsOf(c, n).map((s) => [s.neighbor, s.multihop]));
    expect(hops('n1')).toEqual({
      '198.18.0.2': false, // eBGP, same /25
      '198.18.0.130': true, // eBGP (64512 vs 65001), the other /25
      '198.18.0.4': true, // eBGP, n4's prefix unknown
      '198.18.0.100': false, // external, inside n1's /25
      '198.18.0.200': true, // external, outside n1's /25
      '198.18.0.201': true, // eBGP from n1's AS 65001
    });
    // n3 is in the cluster AS: its iBGP peer 198.18.0.201 needs nothing (BIRD: multihop by default).
    expect(hops('n3')['198.18.0.201']).toBe(false);
    expect(hops('n3')['198.18.0.200']).toBe(false);
    expect(hops('n3')['198.18.0.100']).toBe(true);
    // n4 knows no prefix: every eBGP neighbor is multihop.
    expect(Object.values(hops('n4')).every(Boolean)).toBe(true);

    const conf = renderBirdConfig(c, 'n1');
    expect(conf).toMatch(
      /^protocol bgp Mesh_198_18_0_130 from bgp_template \{ neighbor 198\.18\.0\.130 as 64512;[^\n]* multihop; ipv4 \{ gateway recursive; \}; \}$/m,
    );
    expect(conf).toMatch(
      /^protocol bgp Mesh_198_18_0_2 from bgp_template \{ neighbor 198\.18\.0\.2 as 65002; passive on; \}$/m,
    );
    const parsed = birdParse(conf);
    if (parsed.code !== 0) throw new Error(`bird -p rejected the config:\n${parsed.output}\n${conf}`);
  });

  it('the rendered bird.conf carries the node, its AS, its block and each session', () => {
    const c = cluster({
      nodes: [node(1, { asNumber: 65001 }), node(2)],
      peers: [{ address: '198.18.0.100', asNumber: 65100, password: 'pw' }],
    });
    const conf = renderBirdConfig(c, 'n1');
    expect(conf).toMatch(/router id 198\.18\.0\.1;/);
    expect(conf).toMatch(/local 198\.18\.0\.1 as 65001;/);
    expect(conf).toMatch(/route 198\.19\.1\.0\/24 blackhole;/);
    expect(conf).toMatch(/protocol bgp Mesh_198_18_0_2 from bgp_template \{[^}]*neighbor 198\.18\.0\.2 as 64512;/);
    expect(conf).toMatch(/protocol bgp Global_198_18_0_100 [^]*password "<<calico-secret:Global_198_18_0_100>>";/);
    expect(conf).toContain('198.19.0.0/16');
  });
});

describe('synthesizeBlock', () => {
  const schema: BlockSchema = {
    attributes: {
      node_name: { type: 'string', required: true },
      mtu: { type: 'number', optional: true },
      host_interface: { type: 'string', computed: true },
      id: { type: 'string', optional: true, computed: true },
    },
    blocks: {
      ssh_conn: {
        nesting: 'single',
        required: true,
        block: {
          attributes: {
            host: { type: 'string', required: true },
            known_hosts_path: { type: 'string', optional: true },
          },
        },
      },
      extra: { nesting: 'single', block: { attributes: { x: { type: 'string', optional: true } } } },
    },
  } as unknown as BlockSchema;

  it('maps camelCase properties to the schema names, leaving unset optionals out', () => {
    expect(camelCase('known_hosts_path')).toBe('knownHostsPath');
    expect(camelCase('a_1b')).toBe('a1b');
    expect(camelCase('plain')).toBe('plain');
    expect(
      synthesizeBlock(schema, { nodeName: 'n', id: 'x', sshConn: { host: 'h', knownHostsPath: '/k' } }, 'w'),
    ).toEqual({
      node_name: 'n',
      id: 'x',
      ssh_conn: { host: 'h', known_hosts_path: '/k' },
    });
    expect(synthesizeBlock(schema, { nodeName: 'n', mtu: 0, sshConn: { host: 'h' }, extra: {} }, 'w')).toEqual({
      node_name: 'n',
      mtu: 0,
      ssh_conn: { host: 'h' },
      extra: {},
    });
  });

  it('refuses unknown, read-only and missing required properties, naming where', () => {
    expect(() => synthesizeBlock(schema, { nodeName: 'n', sshConn: { host: 'h' }, nodename: 1 }, 'stack/w')).toThrow(
      'stack/w: unknown property "nodename"',
    );
    expect(() =>
      synthesizeBlock(schema, { nodeName: 'n', sshConn: { host: 'h' }, hostInterface: 'x' }, 'stack/w'),
    ).toThrow('stack/w: "hostInterface" is read-only');
    expect(() => synthesizeBlock(schema, { sshConn: { host: 'h' } }, 'stack/w')).toThrow(
      'stack/w: "nodeName" is required',
    );
    expect(() => synthesizeBlock(schema, { nodeName: 'n' }, 'stack/w')).toThrow('stack/w: block "sshConn" is required');
    expect(() => synthesizeBlock(schema, { nodeName: 'n', sshConn: {} }, 'stack/w')).toThrow(
      'stack/w.sshConn: "host" is required',
    );
  });
});
