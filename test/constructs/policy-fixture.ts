/** Policy fixtures shared by the policy suites. */
import { ClusterSpec } from '../../constructs/model';

/** The three-tier app the e2e test deploys, on two nodes. */
export function threeTier(overrides: Partial<ClusterSpec> = {}): ClusterSpec {
  return {
    name: 'lab',
    podCidr: '198.19.0.0/16',
    peers: [],
    nodes: [
      {
        name: 'node1',
        address: '198.18.60.1',
        podCidr: '198.19.1.0/24',
        workloads: [
          { name: 'front', ip: '198.19.1.2', labels: { role: 'front' } },
          { name: 'db', ip: '198.19.1.3', labels: { role: 'db' } },
        ],
      },
      {
        name: 'node2',
        address: '198.18.60.2',
        podCidr: '198.19.2.0/24',
        workloads: [
          { name: 'api', ip: '198.19.2.2', labels: { role: 'api' } },
          { name: 'other', ip: '198.19.2.3' },
        ],
      },
    ],
    policies: [
      {
        name: 'api',
        selector: "role == 'api'",
        ingress: [
          { action: 'Allow', protocol: 'TCP', source: { selector: "role == 'front'" }, destination: { ports: [8080] } },
        ],
      },
      {
        name: 'db',
        order: 10,
        selector: "role == 'db'",
        ingress: [
          { action: 'Log', protocol: 'TCP' },
          { action: 'Allow', protocol: 'TCP', source: { selector: "role == 'api'" }, destination: { ports: [5432] } },
        ],
      },
      {
        name: 'no-lab-net',
        order: 20,
        selector: "role == 'front'",
        egress: [{ action: 'Deny', destination: { nets: ['198.18.60.0/24'] } }, { action: 'Allow' }],
      },
    ],
    ...overrides,
  };
}
