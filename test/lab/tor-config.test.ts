/**
 * The lab ToR's FRR configuration (lab/tor.ts), as text: no root or FRR needed. The FRR daemons
 * themselves run in test/e2e/fabric-peering.test.ts.
 */
import { torConfig } from '../../lab/tor';

const tor = {
  lab: 70,
  address: '198.18.70.250',
  asNumber: 65000,
  dir: '/tmp/calico-lab70-tor-x',
  host: { netns: 'cn70-torhost', address: '198.18.70.226', gateway: '198.18.70.225', network: '198.18.70.224/28' },
  neighbors: ['198.18.70.1', '198.18.70.2'],
};

test('eBGP to every node (any AS but its own), the network behind it announced, no policy required', () => {
  expect(torConfig(tor)).toBe(
    [
      'frr defaults datacenter',
      'hostname tor70',
      'log file /tmp/calico-lab70-tor-x/frr.log',
      '!',
      'router bgp 65000',
      ' bgp router-id 198.18.70.250',
      ' no bgp ebgp-requires-policy',
      ' neighbor 198.18.70.1 remote-as external',
      ' neighbor 198.18.70.1 timers connect 2',
      ' neighbor 198.18.70.2 remote-as external',
      ' neighbor 198.18.70.2 timers connect 2',
      ' address-family ipv4 unicast',
      '  network 198.18.70.224/28',
      ' exit-address-family',
      'exit',
      '!',
      '',
    ].join('\n'),
  );
});

test('defaultOriginate: a default route to every node', () => {
  expect(torConfig(tor, { defaultOriginate: true })).toContain(
    '  network 198.18.70.224/28\n  neighbor 198.18.70.1 default-originate\n  neighbor 198.18.70.2 default-originate\n exit-address-family',
  );
});
