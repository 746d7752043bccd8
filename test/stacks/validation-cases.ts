/** Bad inventories and the message each must produce (shared by the synth and in-process tests). */
const base = {
  cluster: `cluster: { name: lab, podCidr: 198.19.0.0/16 }`,
  node1: `  - name: node1
    address: 198.18.0.1
    podCidr: 198.19.1.0/24
    workloads:
      - { name: web1, ip: 198.19.1.2 }`,
  node2: `  - name: node2
    address: 198.18.0.2
    podCidr: 198.19.2.0/24`,
};

function inventory(parts: { cluster?: string; nodes?: string[]; extra?: string }): string {
  return (
    [parts.cluster ?? base.cluster, 'nodes:', ...(parts.nodes ?? [base.node1, base.node2]), parts.extra ?? ''].join(
      '\n',
    ) + '\n'
  );
}

export const cases: [string, string, RegExp][] = [
  [
    'malformed node address',
    inventory({ nodes: [base.node1.replace('198.18.0.1', '198.18.0.300')] }),
    /nodes\[0\] "node1"\.address: "198\.18\.0\.300" is not an IPv4 address/,
  ],
  [
    'malformed pod CIDR',
    inventory({ nodes: [base.node1.replace('198.19.1.0/24', '198.19.1.0/33')] }),
    /nodes\[0\] "node1"\.podCidr: "198\.19\.1\.0\/33" is not an IPv4 CIDR/,
  ],
  [
    'CIDR with host bits set',
    inventory({ nodes: [base.node1.replace('198.19.1.0/24', '198.19.1.5/24')] }),
    /nodes\[0\] "node1"\.podCidr: "198\.19\.1\.5\/24" has host bits set/,
  ],
  [
    'malformed pool',
    inventory({ cluster: 'cluster: { name: lab, podCidr: 198.19.0.0 }' }),
    /cluster\.podCidr: "198\.19\.0\.0" is not an IPv4 CIDR/,
  ],
  [
    'pod block outside the pool',
    inventory({ nodes: [base.node1, base.node2.replace('198.19.2.0/24', '198.18.200.0/24')] }),
    /nodes\[1\] "node2"\.podCidr: 198\.18\.200\.0\/24 is outside the pod pool 198\.19\.0\.0\/16/,
  ],
  [
    'overlapping pod blocks',
    inventory({ nodes: [base.node1, base.node2.replace('198.19.2.0/24', '198.19.1.128/25')] }),
    /nodes\[1\] "node2"\.podCidr: 198\.19\.1\.128\/25 overlaps node "node1" \(198\.19\.1\.0\/24\)/,
  ],
  [
    'duplicate node name',
    inventory({ nodes: [base.node1, base.node2.replace('name: node2', 'name: node1')] }),
    /nodes\[1\] "node1": duplicate node name \(also nodes\[0\]\)/,
  ],
  [
    'duplicate node address',
    inventory({ nodes: [base.node1, base.node2.replace('198.18.0.2', '198.18.0.1')] }),
    /nodes\[1\] "node2"\.address: 198\.18\.0\.1 is already the address of node "node1"/,
  ],
  [
    'node address inside the pool',
    inventory({ nodes: [base.node1, base.node2.replace('198.18.0.2', '198.19.200.1')] }),
    /nodes\[1\] "node2"\.address: 198\.19\.200\.1 lies inside the pod pool/,
  ],
  [
    'workload outside its block',
    inventory({ nodes: [base.node1.replace('198.19.1.2', '198.19.2.9'), base.node2] }),
    /nodes\[0\] "node1"\.workloads\[0\] "web1"\.ip: 198\.19\.2\.9 is outside node "node1"'s block 198\.19\.1\.0\/24/,
  ],
  [
    'workload on the network address',
    inventory({ nodes: [base.node1.replace('198.19.1.2', '198.19.1.0'), base.node2] }),
    /workloads\[0\] "web1"\.ip: 198\.19\.1\.0 is the network address of 198\.19\.1\.0\/24/,
  ],
  [
    'workload on the broadcast address',
    inventory({ nodes: [base.node1.replace('198.19.1.2', '198.19.1.255'), base.node2] }),
    /workloads\[0\] "web1"\.ip: 198\.19\.1\.255 is the broadcast address of 198\.19\.1\.0\/24/,
  ],
  [
    'duplicate workload IP on a node',
    inventory({ nodes: [base.node1 + '\n      - { name: web9, ip: 198.19.1.2 }', base.node2] }),
    /workloads\[1\] "web9"\.ip: 198\.19\.1\.2 is already the IP of workload "web1"/,
  ],
  [
    'duplicate workload name on a node',
    inventory({ nodes: [base.node1 + '\n      - { name: web1, ip: 198.19.1.3 }', base.node2] }),
    /nodes\[0\] "node1"\.workloads\[1\] "web1": duplicate workload name on node "node1"/,
  ],
  [
    'AS number out of range',
    inventory({ nodes: [base.node1 + '\n    asNumber: 4294967296', base.node2] }),
    /nodes\[0\] "node1"\.asNumber: 4294967296 is not an AS number/,
  ],
  [
    'AS number zero',
    inventory({ cluster: 'cluster: { name: lab, podCidr: 198.19.0.0/16, asNumber: 0 }' }),
    /cluster\.asNumber: 0 is not an AS number/,
  ],
  ['AS_TRANS', inventory({ nodes: [base.node1 + '\n    asNumber: 23456', base.node2] }), /asNumber: 23456 is AS_TRANS/],
  [
    'route-reflector topology without an RR',
    inventory({ cluster: 'cluster: { name: lab, podCidr: 198.19.0.0/16, topology: route-reflector }' }),
    /cluster\.topology: route-reflector needs at least one node with routeReflector: true/,
  ],
  [
    'RR sessions that are not iBGP',
    inventory({
      cluster: 'cluster: { name: lab, podCidr: 198.19.0.0/16, topology: route-reflector }',
      nodes: [base.node1 + '\n    routeReflector: true', base.node2 + '\n    asNumber: 64999'],
    }),
    /nodes\[1\] "node2"\.asNumber: 64999 differs from the cluster AS 64512; route-reflector sessions must be iBGP/,
  ],
  [
    'unsafe workload name',
    inventory({ nodes: [base.node1.replace('name: web1', 'name: "web;rm"'), base.node2] }),
    /nodes\[0\] "node1"\.workloads\[0\]\.name: "web;rm" is not a valid workload name/,
  ],
  [
    'unsafe node name',
    inventory({ nodes: [base.node1.replace('name: node1', 'name: "../x"'), base.node2] }),
    /nodes\[0\]\.name: "\.\.\/x" is not a valid node name/,
  ],
  [
    'unknown key (typo) with a suggestion',
    inventory({ nodes: [base.node1.replace('ip: 198.19.1.2', 'ipp: 198.19.1.2'), base.node2] }),
    /nodes\[0\]\.workloads\[0\]: unknown key "ipp" \(did you mean "ip"\?\)/,
  ],
  [
    'unknown top-level key',
    inventory({ extra: 'peer: []' }),
    /inventory: unknown key "peer" \(did you mean "peers"\?\)/,
  ],
  [
    'wrong type',
    inventory({ nodes: [base.node1 + '\n    routeReflector: yes-please', base.node2] }),
    /nodes\[0\]\.routeReflector: expected true or false, found string "yes-please"/,
  ],
  [
    'missing required field',
    inventory({ nodes: [base.node1.replace('    podCidr: 198.19.1.0/24\n', ''), base.node2] }),
    /nodes\[0\]\.podCidr: required/,
  ],
  [
    'unknown topology',
    inventory({ cluster: 'cluster: { name: lab, podCidr: 198.19.0.0/16, topology: star }' }),
    /cluster\.topology: must be one of full-mesh, route-reflector, not "star"/,
  ],
  [
    'loopback node address',
    inventory({ nodes: [base.node1.replace('198.18.0.1', '127.0.0.1'), base.node2] }),
    /nodes\[0\] "node1"\.address: 127\.0\.0\.1 is a loopback address/,
  ],
  [
    'unspecified node address',
    inventory({ nodes: [base.node1, base.node2.replace('198.18.0.2', '0.0.0.0')] }),
    /nodes\[1\] "node2"\.address: 0\.0\.0\.0 is the unspecified address/,
  ],
  [
    'node address with a prefix length out of range',
    inventory({ nodes: [base.node1.replace('198.18.0.1', '198.18.0.1/33'), base.node2] }),
    /nodes\[0\] "node1"\.address: the prefix length after "\/" must be a whole number from 1 to 32/,
  ],
  [
    'node address with a malformed prefix length',
    inventory({ nodes: [base.node1, base.node2.replace('198.18.0.2', '198.18.0.2/2x')] }),
    /nodes\[1\] "node2"\.address: the prefix length after "\/" must be a whole number from 1 to 32/,
  ],
  [
    "node address that is its subnet's broadcast",
    inventory({ nodes: [base.node1.replace('198.18.0.1', '198.18.0.127/25'), base.node2] }),
    /nodes\[0\] "node1"\.address: 198\.18\.0\.127 is the broadcast address of its \/25 subnet/,
  ],
  [
    'multicast node address',
    inventory({ nodes: [base.node1.replace('198.18.0.1', '239.1.2.3'), base.node2] }),
    /nodes\[0\] "node1"\.address: 239\.1\.2\.3 is a multicast address/,
  ],
  [
    'link-local node address',
    inventory({ nodes: [base.node1.replace('198.18.0.1', '169.254.1.1'), base.node2] }),
    /nodes\[0\] "node1"\.address: 169\.254\.1\.1 is a link-local address/,
  ],
  [
    'broadcast node address',
    inventory({ nodes: [base.node1.replace('198.18.0.1', '255.255.255.255'), base.node2] }),
    /nodes\[0\] "node1"\.address: 255\.255\.255\.255 is the limited broadcast address/,
  ],
  [
    'loopback peer address',
    inventory({ extra: 'peers:\n  - { address: 127.0.0.53, asNumber: 65000 }' }),
    /peers\[0\]\.address: 127\.0\.0\.53 is a loopback address/,
  ],
  [
    'external peer on a node address',
    inventory({ extra: 'peers:\n  - { address: 198.18.0.2, asNumber: 65000 }' }),
    /peers\[0\] 198\.18\.0\.2: is the address of node "node2"/,
  ],
  [
    'peer password that would break out of bird.conf',
    inventory({ extra: "peers:\n  - { address: 198.18.0.100, asNumber: 65000, password: 'a\"; }' }" }),
    /peers\[0\] 198\.18\.0\.100\.password: may use printable ASCII except spaces, double quotes and backslashes/,
  ],
  [
    'peer for a node that does not exist',
    inventory({ extra: 'peers:\n  - { address: 198.18.0.100, asNumber: 65000, nodes: [node1, node9] }' }),
    /peers\[0\] 198\.18\.0\.100\.nodes: no node named "node9"/,
  ],
  [
    'peer for no node at all',
    inventory({ extra: 'peers:\n  - { address: 198.18.0.100, asNumber: 65000, nodes: [] }' }),
    /peers\[0\] 198\.18\.0\.100\.nodes: names no node \(leave nodes out for a peer of every node\)/,
  ],
  [
    'peer nodes not a list',
    inventory({ extra: 'peers:\n  - { address: 198.18.0.100, asNumber: 65000, nodes: node1 }' }),
    /peers\[0\]\.nodes: expected a list of names, found string "node1"/,
  ],
  [
    'peer nodes holding a number',
    inventory({ extra: 'peers:\n  - { address: 198.18.0.100, asNumber: 65000, nodes: [node1, 7] }' }),
    /peers\[0\]\.nodes\[1\]: expected a string, found number 7/,
  ],
  [
    'unknown state backend',
    inventory({ extra: 'state: { backend: s3 }' }),
    /state\.backend: must be one of local, pg, not "s3"/,
  ],
  [
    'pg-only state option on a local backend',
    inventory({ extra: 'state: { backend: local, schemaName: x }' }),
    /state\.schemaName: only for backend pg/,
  ],
  ['not YAML', 'cluster: [unclosed\n', /not valid YAML/],
  [
    'unknown vxlanMode (Calico spells it Always)',
    inventory({ cluster: 'cluster: { name: lab, podCidr: 198.19.0.0/16, vxlanMode: always }' }),
    /cluster\.vxlanMode: must be one of Always, CrossSubnet, Never, not "always"/,
  ],
  [
    'VXLAN and IPIP at once',
    inventory({ cluster: 'cluster: { name: lab, podCidr: 198.19.0.0/16, vxlanMode: Always, ipipMode: CrossSubnet }' }),
    /cluster\.ipipMode: at most one of vxlanMode and ipipMode may be other than Never \(vxlanMode is Always, ipipMode CrossSubnet\)/,
  ],
  [
    'CrossSubnet with a node whose prefix is unknown',
    inventory({
      cluster: 'cluster: { name: lab, podCidr: 198.19.0.0/16, vxlanMode: CrossSubnet }',
      nodes: [base.node1.replace('198.18.0.1', '198.18.0.1/24'), base.node2],
    }),
    /nodes\[1\] "node2"\.address: vxlanMode CrossSubnet needs every node's prefix length, to tell which nodes share a subnet \(e\.g\. address: 198\.18\.0\.2\/24\)/,
  ],
  [
    'workload on the tunnel address',
    inventory({
      cluster: 'cluster: { name: lab, podCidr: 198.19.0.0/16, ipipMode: Always }',
      nodes: [base.node1.replace('198.19.1.2', '198.19.1.1'), base.node2],
    }),
    /nodes\[0\] "node1"\.workloads\[0\] "web1"\.ip: 198\.19\.1\.1 is node "node1"'s tunnel address \(ipipMode Always: the first address of its block\)/,
  ],
];
