/**
 * IPv4-only policy models whose rulesets were rendered (and models compiled, `*.model.golden`: JSON kept out of the formatter) before policy learned IPv6 (commit
 * 272f5d8) and stored in test/constructs/golden/: policy-ipv4-unchanged.test.ts proves an
 * IPv4-only cluster renders exactly that text still (no plan change for existing users).
 */
import { ClusterSpec } from '../../constructs/model';
import { threeTier } from './policy-fixture';

export const IPV4_FIXTURES: Record<string, ClusterSpec> = {
  'three-tier': threeTier(),
  'every-field': threeTier({
    policies: [
      {
        name: 'everything',
        order: 1,
        selector: "has(role) && role != 'api'",
        types: ['Ingress', 'Egress'],
        ingress: [
          { action: 'Log' },
          {
            action: 'Allow',
            protocol: 'ICMP',
            icmp: { type: 8, code: 0 },
            source: { selector: "role in {'front','api'}" },
          },
          { action: 'Deny', protocol: 'ICMP', icmp: { type: 13 } },
          { action: 'Deny', source: { notSelector: "role == 'front'", notNets: ['198.18.0.0/15'] } },
          {
            action: 'Allow',
            protocol: 'UDP',
            source: { nets: ['198.19.1.0/24', '198.19.2.0/24'], ports: ['1000:2000'] },
            destination: { ports: [53, '5000:5010'], notPorts: [5005] },
          },
          { action: 'Allow', notProtocol: 'TCP', destination: { selector: 'all()' } },
          { action: 'Allow', protocol: 132, destination: { notSelector: '!has(role)' } },
        ],
        egress: [
          { action: 'Deny', protocol: 'TCP', destination: { nets: ['198.18.60.0/24'], ports: [22] } },
          { action: 'Allow', protocol: 47 },
          { action: 'Allow', destination: { selector: "role == 'db'" } },
        ],
      },
      { name: 'open-db', selector: "role == 'db'", ingress: [{ action: 'Allow' }] },
    ],
  }),
};
