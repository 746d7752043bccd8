/**
 * Ten network policies for the bench's 32×4 lab (issue 22: `calico-net verify` of 32 nodes × 4
 * workloads with 10 policies in ≤ 30 s, passing). Workloads get a role by their place on the
 * node (front, api, db, cache) and a zone by the node's parity; the policies mix ingress and
 * egress, Allow, Deny and Log, selectors with `&&`, `in` and `has()`, three TCP ports, one UDP
 * port and ICMP, so the truth table has allowed and denied cells of every kind.
 */
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { PolicySpec } from '../constructs/policy-model';

const ROLES = ['front', 'api', 'db', 'cache'];

export const BENCH_POLICIES: PolicySpec[] = [
  {
    name: 'api-from-front',
    order: 10,
    selector: "role == 'api'",
    ingress: [
      { action: 'Allow', protocol: 'TCP', source: { selector: "role == 'front'" }, destination: { ports: [8080] } },
    ],
  },
  {
    name: 'db-from-api',
    order: 20,
    selector: "role == 'db'",
    ingress: [
      { action: 'Log', protocol: 'TCP' },
      { action: 'Allow', protocol: 'TCP', source: { selector: "role == 'api'" }, destination: { ports: [5432] } },
    ],
  },
  {
    name: 'cache-from-backends',
    order: 30,
    selector: "role == 'cache'",
    ingress: [
      {
        action: 'Allow',
        protocol: 'TCP',
        source: { selector: "role in {'api', 'db'}" },
        destination: { ports: [6379] },
      },
    ],
  },
  { name: 'front-open', order: 40, selector: "role == 'front'", ingress: [{ action: 'Allow' }] },
  { name: 'api-icmp', order: 50, selector: "role == 'api'", ingress: [{ action: 'Allow', protocol: 'ICMP' }] },
  {
    name: 'odd-zone-no-db',
    order: 60,
    selector: "zone == 'odd'",
    types: ['Egress'],
    egress: [{ action: 'Deny', protocol: 'TCP', destination: { ports: [5432] } }, { action: 'Allow' }],
  },
  {
    name: 'even-cache-icmp',
    order: 70,
    selector: "role == 'cache' && zone == 'even'",
    ingress: [{ action: 'Allow', protocol: 'ICMP' }],
  },
  {
    name: 'dns-from-all',
    order: 80,
    selector: 'has(role)',
    ingress: [{ action: 'Allow', protocol: 'UDP', destination: { ports: [53] } }],
  },
  { name: 'db-deny-rest', order: 90, selector: "role == 'db'", ingress: [{ action: 'Deny' }] },
  {
    name: 'front-egress',
    selector: "role == 'front' && !has(quarantine)",
    types: ['Egress'],
    egress: [
      { action: 'Allow', protocol: 'TCP', destination: { ports: [8080] } },
      { action: 'Allow', protocol: 'ICMP' },
      { action: 'Allow', protocol: 'UDP' },
    ],
  },
];

interface InventoryNode {
  name: string;
  workloads?: { name: string; ip: string; labels?: Record<string, string> }[];
}

/** The lab's inventory text with the roles, zones and the ten policies added. */
export function withBenchPolicies(inventoryText: string): string {
  const inventory = parseYaml(inventoryText) as { nodes: InventoryNode[]; policies?: PolicySpec[] };
  inventory.nodes.forEach((node, n) => {
    (node.workloads ?? []).forEach((w, i) => {
      w.labels = { role: ROLES[i % ROLES.length], zone: n % 2 ? 'even' : 'odd' };
    });
  });
  inventory.policies = BENCH_POLICIES;
  return toYaml(inventory);
}
