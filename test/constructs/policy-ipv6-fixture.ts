/** A dual-stack policy fixture: two dual-stack workloads and an IPv6-only one, on two nodes. */
import { ClusterSpec } from '../../constructs/model';
import { PolicySpec } from '../../constructs/policy-model';

/** "Deny from role == 'bad'; then Allow" on the db, and an IPv6-only workload a policy selects. */
export const DUAL_STACK_POLICIES: PolicySpec[] = [
  {
    name: 'db',
    order: 10,
    selector: "role == 'db'",
    ingress: [{ action: 'Deny', source: { selector: "role == 'bad'" } }, { action: 'Allow' }],
  },
  {
    name: 'six',
    order: 20,
    selector: "role == 'six'",
    ingress: [
      { action: 'Allow', protocol: 'TCP', source: { selector: "role == 'front'" }, destination: { ports: [8080] } },
      { action: 'Allow', protocol: 'ICMPv6', icmp: { type: 128 } },
    ],
  },
];

export function dualStack(policies: PolicySpec[] = DUAL_STACK_POLICIES): ClusterSpec {
  return {
    name: 'lab',
    podCidr: '198.19.0.0/16',
    podCidrV6: 'fd00:198:19::/48',
    peers: [],
    nodes: [
      {
        name: 'node1',
        address: '198.18.132.1',
        ipv6Address: 'fd00:198:18:84::1/64',
        podCidr: '198.19.1.0/24',
        podCidrV6: 'fd00:198:19:1::/64',
        workloads: [
          { name: 'front', ip: '198.19.1.2', ipv6: 'fd00:198:19:1::2', labels: { role: 'front' } },
          { name: 'bad', ip: '198.19.1.3', ipv6: 'fd00:198:19:1::3', labels: { role: 'bad' } },
        ],
      },
      {
        name: 'node2',
        address: '198.18.132.2',
        ipv6Address: 'fd00:198:18:84::2/64',
        podCidr: '198.19.2.0/24',
        podCidrV6: 'fd00:198:19:2::/64',
        workloads: [
          { name: 'db', ip: '198.19.2.2', ipv6: 'fd00:198:19:2::2', labels: { role: 'db' } },
          { name: 'six', ipv6: 'fd00:198:19:2::3', labels: { role: 'six' } },
        ],
      },
    ],
    policies,
  };
}
