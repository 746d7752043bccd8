/**
 * calico_overlay without a host: the parsers on the exact text iproute2 6.1 prints on this
 * kernel (the IPIP device line is iproute2's documented shape: this kernel has no ipip module),
 * the facts derived from a snapshot, validate() and plan().
 */
import { Unknown } from '../../providers/runtime/resource';
import { overlayHandler } from '../../providers/calico';
import { deviceSettings, hostRoutes, overlaySection } from '../../providers/calico/overlay';
import { parseFdb, parseNeighbours } from '../../providers/calico/ip-output';
import { scriptBody } from '../../providers/calico/script';
import { unicastMacProblem } from '../../rules/checks';
import { validationProblems } from '../../providers/runtime/validation';
import { contextFor, fullConfig, planOf, proposedFrom, resolverFor } from './driver';

const VXLAN_LINE =
  '4: vxlan.calico: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/ether 66:cc:c6:13:01:01 brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 \\    vxlan id 4096 local 198.18.44.1 srcport 0 0 dstport 4789 nolearning ttl auto ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 65536 tso_max_segs 65535 gro_max_size 65536 \\    alias calico-net';

describe('parsers', () => {
  it('the VXLAN device: every setting the fact shows', () => {
    expect(deviceSettings(VXLAN_LINE, ['198.19.1.1/32'])).toEqual({
      kind: 'vxlan',
      owner: 'calico-net',
      vni: '4096',
      local: '198.18.44.1',
      dstport: '4789',
      learning: 'off',
      mac: '66:cc:c6:13:01:01',
      mtu: '1450',
      state: 'up',
      addresses: '198.19.1.1/32',
    });
  });

  it('a device without our mark, down, learning, on another port', () => {
    const line = VXLAN_LINE.replace(' \\    alias calico-net', '')
      .replace('UP,LOWER_UP', 'NOARP')
      .replace(' nolearning', '')
      .replace('dstport 4789', 'dstport 8472');
    expect(deviceSettings(line, [])).toMatchObject({
      owner: 'not calico-net',
      state: 'down',
      learning: 'on',
      dstport: '8472',
      addresses: '',
    });
    expect(deviceSettings(VXLAN_LINE.replace('alias calico-net', 'alias someone-else'), [])).toMatchObject({
      owner: 'not calico-net',
    });
  });

  it('an IPIP device, another kind of device, and none', () => {
    const ipip =
      '5: tunl0@NONE: <NOARP,UP,LOWER_UP> mtu 1480 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/ipip 0.0.0.0 brd 0.0.0.0 promiscuity 0 minmtu 0 maxmtu 0 \\    ipip ipip remote any local any ttl inherit nopmtudisc addrgenmode eui64 numtxqueues 1 \\    alias calico-net';
    expect(deviceSettings(ipip, ['198.19.3.1/32'])).toEqual({
      kind: 'ipip',
      owner: 'calico-net',
      remote: 'any',
      mtu: '1480',
      state: 'up',
      addresses: '198.19.3.1/32',
    });
    const dummy =
      '6: vxlan.calico: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\\    link/ether 2a:1b:00:00:00:01 brd ff:ff:ff:ff:ff:ff promiscuity 0 \\    dummy addrgenmode eui64 numtxqueues 1';
    expect(deviceSettings(dummy, [])).toMatchObject({ kind: 'dummy', owner: 'not calico-net', state: 'down' });
    expect(deviceSettings('', [])).toEqual({});
  });

  it('permanent neighbours and FDB entries', () => {
    expect(
      parseNeighbours(
        '198.19.2.1 lladdr 66:cc:c6:13:02:01 PERMANENT \n198.19.3.1 lladdr 66:cc:c6:13:03:01 PERMANENT\n\n',
      ),
    ).toEqual({
      '198.19.2.1': '66:cc:c6:13:02:01',
      '198.19.3.1': '66:cc:c6:13:03:01',
    });
    expect(
      parseFdb(
        '66:cc:c6:13:02:01 dst 198.18.45.2 self permanent\n66:cc:c6:13:02:01 dst 198.18.45.9 self permanent\n33:33:00:00:00:01 self permanent\n',
      ),
    ).toEqual({
      '66:cc:c6:13:02:01': '198.18.45.2,198.18.45.9',
    });
  });

  it('host routes: ours through the device, and whatever else holds a declared block at metric 0', () => {
    const routes = [
      'default via 198.18.44.254 dev eth0 ',
      '198.19.2.0/24 via 198.19.2.1 dev vxlan.calico proto 211 onlink ',
      '198.19.3.0/24 via 198.18.44.3 dev eth0 proto bird metric 32 ',
      '198.19.4.0/24 via 198.18.44.4 dev eth0 ',
      '198.19.5.0/24 via 198.19.5.1 dev vxlan.calico proto 211 onlink ',
      'blackhole 198.19.1.0/24 proto 211 ',
      // `ip -o`: a nexthop's onlink is not the route's, nor is its dev.
      '198.19.6.0/24 proto static \\\tnexthop via 198.19.6.1 dev vxlan.calico weight 1 onlink ',
    ];
    expect(hostRoutes(routes, 'vxlan.calico', ['198.19.2.0/24', '198.19.3.0/24', '198.19.4.0/24'])).toEqual({
      '198.19.2.0/24': 'via 198.19.2.1 dev vxlan.calico onlink',
      '198.19.4.0/24': "not calico-net's: 198.19.4.0/24 via 198.18.44.4 dev eth0",
      // Ours, though no longer declared: apply removes it.
      '198.19.5.0/24': 'via 198.19.5.1 dev vxlan.calico onlink',
    });
    expect(hostRoutes(routes, 'vxlan.calico', ['198.19.6.0/24'])['198.19.6.0/24']).toBe(
      "not calico-net's: 198.19.6.0/24 proto static",
    );
  });

  it('the snapshot section splits devices, neighbours and FDB; a device that is not there has no parts', () => {
    const body = [
      '--> device vxlan.calico',
      VXLAN_LINE,
      '--> neighbours vxlan.calico',
      '198.19.2.1 lladdr 66:cc:c6:13:02:01 PERMANENT',
      '--> fdb vxlan.calico',
      '66:cc:c6:13:02:01 dst 198.18.44.2 self permanent',
    ].join('\n');
    const view = overlaySection.parse(body, 'n1');
    expect(view.devices.get('vxlan.calico')).toEqual({
      details: VXLAN_LINE,
      neighbours: { '198.19.2.1': '66:cc:c6:13:02:01' },
      fdb: { '66:cc:c6:13:02:01': '198.18.44.2' },
    });
    expect(view.devices.get('tunl0')).toBeUndefined();
    const script = scriptBody([overlaySection.scriptFile]).body;
    expect(script).toContain('link_exists() { [ -e "$SYSCTL_DIR/conf/$1" ]; }');
    expect(script).toContain('link_exists "$d" || continue');
  });

  it('MACs: six lower-case pairs, unicast, not all zero', () => {
    expect(unicastMacProblem('66:cc:c6:13:01:01')).toBeNull();
    expect(unicastMacProblem('66:CC:C6:13:01:01')).toMatch(/is not a MAC address/);
    expect(unicastMacProblem('66:cc:c6:13:01')).toMatch(/is not a MAC address/);
    expect(unicastMacProblem('66:cc:c6:13:01:01; reboot')).toMatch(/is not a MAC address/);
    expect(unicastMacProblem('67:cc:c6:13:01:01')).toBe('"67:cc:c6:13:01:01" is a multicast MAC address');
    expect(unicastMacProblem('00:00:00:00:00:00')).toBe('"00:00:00:00:00:00" is the all-zero MAC address');
  });
});

const ssh = { host: '198.18.44.1' };
const vxlan = {
  node_name: 'n1',
  encapsulation: 'vxlan',
  address: '198.18.44.1',
  tunnel_address: '198.19.1.1',
  tunnel_mac: '66:cc:c6:13:01:01',
  neighbours: { '198.19.2.1': '66:cc:c6:13:02:01' },
  fdb: { '66:cc:c6:13:02:01': '198.18.44.2' },
  routes: { '198.19.2.0/24': '198.19.2.1' },
};

describe('validate', () => {
  const problems = (values: object) =>
    validationProblems(overlayHandler.schema.block, fullConfig(overlayHandler, values as never, ssh), 'config').map(
      (d) => [d.attribute, d.detail],
    );

  it('a good VXLAN config has none; Unknown values are left for apply', () => {
    expect(problems(vxlan)).toEqual([]);
    expect(problems({ ...vxlan, routes: Unknown, tunnel_mac: Unknown })).toEqual([]);
  });

  it('every value that would reach a shell or an ip -batch line is checked, naming the entry', () => {
    expect(problems({ ...vxlan, encapsulation: 'gre' })).toEqual([
      [['encapsulation'], '"gre" is not one of vxlan, ipip'],
    ]);
    expect(problems({ ...vxlan, routes: { '198.19.2.0/24': '198.19.2.1\nroute del default' } })).toEqual([
      [['routes', { mapKey: '198.19.2.0/24' }], '"198.19.2.1\nroute del default" is not an IPv4 address'],
    ]);
    expect(problems({ ...vxlan, neighbours: { 'x y': '66:cc:c6:13:02:01' } })).toEqual([
      [['neighbours', { mapKey: 'x y' }], '"x y" is not an IPv4 address'],
    ]);
    expect(problems({ ...vxlan, fdb: { '66:cc:c6:13:02:01': '${x}' } })).toEqual([
      [['fdb', { mapKey: '66:cc:c6:13:02:01' }], '"${x}" is not an IPv4 address'],
    ]);
    expect(problems({ ...vxlan, routes: { '198.19.2.5/24': '198.19.2.1' } })).toEqual([
      [['routes', { mapKey: '198.19.2.5/24' }], '"198.19.2.5/24" has host bits set; the network address is required'],
    ]);
    expect(problems({ ...vxlan, mtu: 40 })).toEqual([[['mtu'], '40 is not an MTU in 576..65535']]);
  });

  it('VXLAN needs its MAC; IPIP has no MAC, neighbours or FDB', () => {
    expect(problems({ ...vxlan, tunnel_mac: null })).toEqual([[['tunnel_mac'], 'VXLAN needs the device MAC']]);
    expect(problems({ ...vxlan, encapsulation: 'ipip' })).toEqual([
      [['tunnel_mac'], 'IPIP devices have no MAC'],
      [['neighbours'], 'IPIP has no neighbour or FDB entries'],
      [['fdb'], 'IPIP has no neighbour or FDB entries'],
    ]);
    expect(
      problems({
        node_name: 'n1',
        encapsulation: 'ipip',
        address: '198.18.44.1',
        tunnel_address: '198.19.1.1',
        routes: { '198.19.2.0/24': '198.18.44.2' },
      }),
    ).toEqual([]);
  });
});

describe('plan', () => {
  const ctx = contextFor(resolverFor(new Map()));

  it('sets every fact to what apply establishes (the default MTU when none is set)', async () => {
    const planned = await planOf(overlayHandler, fullConfig(overlayHandler, vxlan, ssh), null, ctx);
    expect(planned).toMatchObject({
      id: 'n1',
      mtu: null,
      device: {
        kind: 'vxlan',
        owner: 'calico-net',
        vni: '4096',
        local: '198.18.44.1',
        dstport: '4789',
        learning: 'off',
        mac: '66:cc:c6:13:01:01',
        mtu: '1450',
        state: 'up',
        addresses: '198.19.1.1/32',
      },
      host_neighbours: vxlan.neighbours,
      host_fdb: vxlan.fdb,
      host_routes: { '198.19.2.0/24': 'via 198.19.2.1 dev vxlan.calico onlink' },
    });
    const ipip = await planOf(
      overlayHandler,
      fullConfig(
        overlayHandler,
        {
          node_name: 'n1',
          encapsulation: 'ipip',
          address: '198.18.44.1',
          tunnel_address: '198.19.1.1',
          mtu: 1400,
          routes: { '198.19.2.0/24': '198.18.44.2' },
        },
        ssh,
      ),
      null,
      ctx,
    );
    expect(ipip).toMatchObject({
      device: {
        kind: 'ipip',
        owner: 'calico-net',
        remote: 'any',
        mtu: '1400',
        state: 'up',
        addresses: '198.19.1.1/32',
      },
      host_neighbours: {},
      host_fdb: {},
      host_routes: { '198.19.2.0/24': 'via 198.18.44.2 dev tunl0 onlink' },
    });
  });

  it('a fact whose inputs are not known yet is unknown, not guessed', async () => {
    const config = fullConfig(overlayHandler, { ...vxlan, address: Unknown, fdb: Unknown }, ssh);
    const planned = (
      await overlayHandler.plan!({ prior: null, proposed: proposedFrom(overlayHandler, config, null), config }, ctx)
    ).planned;
    expect(planned.device).toBe(Unknown);
    expect(planned.host_fdb).toBe(Unknown);
    expect(planned.host_routes).toEqual({ '198.19.2.0/24': 'via 198.19.2.1 dev vxlan.calico onlink' });
  });
});
