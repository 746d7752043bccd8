/**
 * calico_overlay against a real kernel: lab nodes (network + mount namespaces, see lab/) entered
 * with nsenter. Two nodes get node settings, a workload and a VXLAN overlay towards each other
 * (no BIRD needed: the overlay's static routes are the only way between the blocks), so a ping
 * between the workloads can only cross through vxlan.calico. Drift is injected by hand on
 * each kind of fact, shown by read + plan and repaired by apply; foreign objects are refused and
 * left alone; IPIP fails on this kernel (no ipip module) naming the host; delete leaves each
 * node as it was.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { labDown, labUp, LabInfo, nodeHost } from '../../lab';
import { ObjectValue, ProviderError } from '../../providers/runtime/resource';
import { nodeHandler, overlayHandler, workloadHandler } from '../../providers/calico';
import { RemoteHost } from '../../providers/ssh/types';
import { overlayInputsOf, overlayPlanOf, tunnelAddressOf, vtepMacOf } from '../../constructs/overlay';
import { ClusterSpec } from '../../constructs/model';
import { assertE2ePrerequisites } from '../e2e/prerequisites';
import { apply, changedAttributes, contextFor, fullConfig, planOf, resolverFor } from './driver';

jest.setTimeout(120000);

interface Entry {
  config: ObjectValue;
  state: ObjectValue | null;
}

interface Site {
  name: string;
  address: string;
  block: string;
  podIp: string;
  workload: string;
  exec(script: string, allowFail?: boolean): Promise<{ code: number; stdout: string; stderr: string }>;
  node: Entry;
  wl: Entry;
  overlay: Entry;
  /** What delete must bring back: links, routes and neighbours before anything was applied. */
  before: string;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-overlay-'));
let lab: LabInfo;
const hosts = new Map<string, RemoteHost>();
let a: Site;
let b: Site;
let c: Site;

const BLOCKS = ['198.19.40.0/26', '198.19.40.64/26', '198.19.40.128/26'];

/** The cluster the overlay plan is computed from: the same code the constructs use. */
function clusterOf(mode: 'vxlanMode' | 'ipipMode', names: string[]): ClusterSpec {
  return {
    name: 'lab40',
    podCidr: '198.19.0.0/16',
    [mode]: 'Always',
    peers: [],
    nodes: lab.nodes
      .slice(0, names.length)
      .map((n, k) => ({ name: names[k], address: n.address, podCidr: BLOCKS[k], workloads: [] })),
  };
}

function overlayConfig(cluster: ClusterSpec, node: string, address: string): ObjectValue {
  const i = overlayInputsOf(overlayPlanOf(cluster, node)!);
  return fullConfig(
    overlayHandler,
    {
      node_name: node,
      encapsulation: i.encapsulation,
      address: i.address,
      tunnel_address: i.tunnelAddress,
      tunnel_mac: i.tunnelMac ?? null,
      mtu: i.mtu,
      neighbours: i.neighbours,
      fdb: i.fdb,
      routes: i.routes,
    },
    { host: address },
  );
}

const STATE_PROBE = [
  'ip -o link show | sed "s/^[0-9]*: //; s/@.*//; s/:.*//" | sort',
  'ip -4 route show table main',
  'ip neigh show nud permanent',
  'ip netns list',
].join('; echo --; ');

async function site(index: number, name: string, podIp: string, workload: string): Promise<Site> {
  const { address } = lab.nodes[index];
  const host = nodeHost(lab, lab.nodes[index].name);
  hosts.set(address, host);
  const exec = async (script: string, allowFail = false) => {
    const r = await host.run(script);
    if (r.code !== 0 && !allowFail) throw new Error(`${name}: ${script} failed (${r.code}): ${r.stderr}`);
    return r;
  };
  const ssh = { host: address };
  return {
    name,
    address,
    block: BLOCKS[index],
    podIp,
    workload,
    exec,
    node: { config: fullConfig(nodeHandler, { name, address, pod_cidr: BLOCKS[index] }, ssh), state: null },
    wl: {
      config: fullConfig(workloadHandler, { node_name: name, name: workload, ip: podIp, mtu: 1450 }, ssh),
      state: null,
    },
    overlay: { config: {}, state: null },
    before: (await exec(STATE_PROBE)).stdout,
  };
}

async function waitUntil(what: string, cond: () => Promise<boolean>, ms = 30000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A ping that must get through (or must not): `size` with DF set tests the MTU too. */
async function ping(from: Site, to: Site, size = 56): Promise<boolean> {
  const r = await from.exec(`ip netns exec ${from.workload} ping -c 2 -i 0.2 -W 2 -M do -s ${size} ${to.podIp}`, true);
  return r.code === 0;
}

/** Packets the node sent through vxlan.calico so far. */
async function vxlanTxPackets(s: Site): Promise<number> {
  const [link] = JSON.parse((await s.exec('ip -j -s link show dev vxlan.calico')).stdout);
  return Number(link.stats64.tx.packets);
}

/** A new plan (a new provider process): what read finds, and which attributes plan changes. */
async function driftOf(entry: Entry): Promise<{ read: ObjectValue; changed: string[] }> {
  const ctx = contextFor(resolverFor(hosts));
  const read = (await overlayHandler.read(entry.state!, ctx))!;
  const planned = await planOf(overlayHandler, entry.config, read, ctx);
  return { read, changed: changedAttributes(read, planned) };
}

async function repair(entry: Entry): Promise<void> {
  const ctx = contextFor(resolverFor(hosts));
  const read = (await overlayHandler.read(entry.state!, ctx))!;
  entry.state = await apply(overlayHandler, entry.config, read, ctx);
  expect((await driftOf(entry)).changed).toEqual([]);
}

beforeAll(async () => {
  await assertE2ePrerequisites();
  lab = await labUp({ dir, nodes: 3, id: 40 });
  a = await site(0, 'o-n1', '198.19.40.10', 'wa');
  b = await site(1, 'o-n2', '198.19.40.70', 'wb');
  c = await site(2, 'o-n3', '198.19.40.130', 'wc');
  const cluster = clusterOf('vxlanMode', [a.name, b.name]);
  a.overlay.config = overlayConfig(cluster, a.name, a.address);
  b.overlay.config = overlayConfig(cluster, b.name, b.address);
});

afterAll(async () => {
  if (lab) await labDown(lab.dir);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('without the overlay the blocks are unreachable; with it, pods ping each other through vxlan.calico', async () => {
  const ctx = contextFor(resolverFor(hosts));
  for (const s of [a, b]) {
    s.node.state = await apply(nodeHandler, s.node.config, null, ctx);
    s.wl.state = await apply(workloadHandler, s.wl.config, null, ctx);
  }
  expect(await ping(a, b)).toBe(false);

  for (const s of [a, b]) s.overlay.state = await apply(overlayHandler, s.overlay.config, null, ctx);
  expect(a.overlay.state).toMatchObject({
    id: 'o-n1',
    device: {
      kind: 'vxlan',
      owner: 'calico-net',
      vni: '4096',
      local: a.address,
      dstport: '4789',
      learning: 'off',
      mac: vtepMacOf(tunnelAddressOf(a.block)),
      mtu: '1450',
      state: 'up',
      addresses: `${tunnelAddressOf(a.block)}/32`,
    },
    host_neighbours: { [tunnelAddressOf(b.block)]: vtepMacOf(tunnelAddressOf(b.block)) },
    host_fdb: { [vtepMacOf(tunnelAddressOf(b.block))]: b.address },
    host_routes: { [b.block]: `via ${tunnelAddressOf(b.block)} dev vxlan.calico onlink` },
  });

  // What the kernel holds, in iproute2's words.
  expect((await a.exec(`ip -4 route show exact ${b.block}`)).stdout.trim()).toBe(
    `${b.block} via ${tunnelAddressOf(b.block)} dev vxlan.calico proto 211 onlink`,
  );
  expect((await a.exec('ip -d -o link show dev vxlan.calico')).stdout).toMatch(
    /vxlan id 4096 local 198\.18\.40\.1 .*dstport 4789 nolearning/,
  );
  expect((await a.exec('ip neigh show dev vxlan.calico')).stdout.trim()).toBe(
    `${tunnelAddressOf(b.block)} lladdr ${vtepMacOf(tunnelAddressOf(b.block))} PERMANENT`,
  );
  expect((await a.exec('bridge fdb show dev vxlan.calico')).stdout.trim()).toBe(
    `${vtepMacOf(tunnelAddressOf(b.block))} dst ${b.address} self permanent`,
  );

  const sent = await vxlanTxPackets(a);
  expect(await ping(a, b)).toBe(true);
  expect(await ping(b, a)).toBe(true);
  expect(await vxlanTxPackets(a)).toBeGreaterThanOrEqual(sent + 4);
  // A full-size pod packet (MTU 1450, DF set) still fits once wrapped; one byte more does not.
  expect(await ping(a, b, 1422)).toBe(true);
  expect(await ping(a, b, 1423)).toBe(false);
});

test('read right after create reports the desired facts; a second apply changes nothing', async () => {
  for (const s of [a, b]) expect((await driftOf(s.overlay)).changed).toEqual([]);
  const before = (await a.exec('ip -d -o link show dev vxlan.calico | cut -d: -f1')).stdout;
  await repair(a.overlay);
  // Not rebuilt: the same ifindex.
  expect((await a.exec('ip -d -o link show dev vxlan.calico | cut -d: -f1')).stdout).toBe(before);
  expect(await ping(a, b)).toBe(true);
});

interface DriftCase {
  name: string;
  inject: () => Promise<void>;
  changed: string[];
  read: (r: ObjectValue) => void;
  /** Pods cannot talk while the drift lasts. */
  breaks: boolean;
}

const vtepB = () => tunnelAddressOf(b.block);
const macB = () => vtepMacOf(vtepB());

const driftCases: DriftCase[] = [
  {
    name: 'a neighbour deleted',
    inject: async () => void (await a.exec(`ip neigh del ${vtepB()} dev vxlan.calico`)),
    changed: ['host_neighbours'],
    read: (r) => expect(r.host_neighbours).toEqual({}),
    breaks: true,
  },
  {
    name: 'a neighbour pointing at another MAC',
    inject: async () =>
      void (await a.exec(`ip neigh replace ${vtepB()} lladdr 66:cc:00:00:00:01 dev vxlan.calico nud permanent`)),
    changed: ['host_neighbours'],
    read: (r) => expect(r.host_neighbours).toEqual({ [vtepB()]: '66:cc:00:00:00:01' }),
    breaks: true,
  },
  {
    name: 'an extra neighbour added',
    inject: async () =>
      void (await a.exec('ip neigh add 198.19.40.190 lladdr 66:cc:00:00:00:02 dev vxlan.calico nud permanent')),
    changed: ['host_neighbours'],
    read: (r) => expect(r.host_neighbours).toEqual({ [vtepB()]: macB(), '198.19.40.190': '66:cc:00:00:00:02' }),
    breaks: false,
  },
  {
    name: 'an FDB entry deleted',
    inject: async () => void (await a.exec(`bridge fdb del ${macB()} dev vxlan.calico dst ${b.address} self`)),
    changed: ['host_fdb'],
    read: (r) => expect(r.host_fdb).toEqual({}),
    breaks: true,
  },
  {
    name: 'an FDB entry sending to the wrong host',
    inject: async () =>
      void (await a.exec(`bridge fdb replace ${macB()} dev vxlan.calico dst ${c.address} self permanent`)),
    changed: ['host_fdb'],
    read: (r) => expect(r.host_fdb).toEqual({ [macB()]: c.address }),
    breaks: true,
  },
  {
    name: 'the route deleted',
    inject: async () => void (await a.exec(`ip route del ${b.block} dev vxlan.calico`)),
    changed: ['host_routes'],
    read: (r) => expect(r.host_routes).toEqual({}),
    breaks: true,
  },
  {
    name: 'the device MTU changed',
    inject: async () => void (await a.exec('ip link set dev vxlan.calico mtu 1300')),
    changed: ['device'],
    read: (r) => expect(r.device).toMatchObject({ mtu: '1300' }),
    breaks: false,
  },
  {
    name: 'the device set down (the kernel drops its neighbours and routes too)',
    inject: async () => void (await a.exec('ip link set dev vxlan.calico down')),
    changed: ['device', 'host_neighbours', 'host_routes'],
    read: (r) => expect(r).toMatchObject({ device: { state: 'down' }, host_neighbours: {}, host_routes: {} }),
    breaks: true,
  },
  {
    name: 'the device MAC changed',
    inject: async () => void (await a.exec('ip link set dev vxlan.calico address 66:cc:00:00:00:03')),
    changed: ['device', 'host_neighbours'],
    read: (r) => expect(r).toMatchObject({ device: { mac: '66:cc:00:00:00:03' }, host_neighbours: {} }),
    breaks: true,
  },
  {
    name: 'the device deleted',
    inject: async () => void (await a.exec('ip link del vxlan.calico')),
    changed: ['device', 'host_fdb', 'host_neighbours', 'host_routes'],
    read: (r) => expect(r).toMatchObject({ device: {}, host_neighbours: {}, host_fdb: {}, host_routes: {} }),
    breaks: true,
  },
  {
    name: 'the device rebuilt by hand with another VNI (and our mark)',
    inject: async () =>
      void (await a.exec(
        `ip link del vxlan.calico; ip link add vxlan.calico type vxlan id 77 local ${a.address} dstport 4789 nolearning; ip link set vxlan.calico alias calico-net up`,
      )),
    changed: ['device', 'host_fdb', 'host_neighbours', 'host_routes'],
    read: (r) => expect(r.device).toMatchObject({ vni: '77', owner: 'calico-net' }),
    breaks: true,
  },
];

describe.each(driftCases)('drift on node 1: $name', ({ inject, changed, read, breaks }) => {
  test('read shows it, plan puts it back, apply repairs it', async () => {
    await inject();
    if (breaks) expect(await ping(a, b)).toBe(false);
    const drift = await driftOf(a.overlay);
    expect(drift.changed).toEqual(changed);
    read(drift.read);
    await repair(a.overlay);
    await waitUntil('pods ping again', () => ping(a, b));
    expect(await ping(b, a)).toBe(true);
  });
});

test('an apply killed while building the device (a half-built one left under its building name) converges', async () => {
  // What a kill between making the device and the rename leaves: the device, marked (one ip
  // process makes and marks it), under our building name, holding the VNI/port/source pair a
  // new device needs.
  await a.exec(
    `ip link del vxlan.calico; ip link add vxlan.calico.t type vxlan id 4096 local ${a.address} dstport 4789 nolearning; ip link set dev vxlan.calico.t alias calico-net`,
  );
  expect((await driftOf(a.overlay)).changed).toEqual(['device', 'host_fdb', 'host_neighbours', 'host_routes']);
  await repair(a.overlay);
  expect((await a.exec('ip -o link show dev vxlan.calico.t', true)).code).not.toBe(0);
  await waitUntil('pods ping again', () => ping(a, b));
});

test('a device under our building name without our mark is refused and left in place, by apply and delete', async () => {
  await c.exec('ip link add vxlan.calico.t type bridge');
  const ctx = contextFor(resolverFor(hosts));
  const config = overlayConfig(clusterOf('vxlanMode', [a.name, b.name, c.name]), c.name, c.address);
  const err = (await apply(overlayHandler, config, null, ctx).catch((e) => e)) as ProviderError;
  expect(err).toBeInstanceOf(ProviderError);
  expect(err.options.detail).toMatch(/o-n3 already has a device vxlan\.calico\.t that calico-net did not create/);
  expect((await c.exec('ip -o link show dev vxlan.calico', true)).code).not.toBe(0);
  await overlayHandler.delete({ ...(await planOf(overlayHandler, config, null, ctx)), id: 'o-n3' }, ctx);
  expect((await c.exec('ip -o link show dev vxlan.calico.t')).stdout).toContain('vxlan.calico.t');
  await c.exec('ip link del vxlan.calico.t');
});

test('a vxlan.calico that calico-net did not create is refused and left in place', async () => {
  await c.exec('ip link add vxlan.calico type vxlan id 4096 local 198.18.40.3 dstport 4789');
  const ctx = contextFor(resolverFor(hosts));
  const cluster = clusterOf('vxlanMode', [a.name, b.name, c.name]);
  const config = overlayConfig(cluster, c.name, c.address);
  const attempt = apply(overlayHandler, config, null, ctx);
  await expect(attempt).rejects.toThrow(ProviderError);
  const err = (await attempt.catch((e) => e)) as ProviderError;
  expect(err.options.detail).toMatch(/o-n3 already has a device vxlan\.calico that calico-net did not create/);
  // Read shows whose it is.
  const read = await overlayHandler.read({ ...(await planOf(overlayHandler, config, null, ctx)), id: 'o-n3' }, ctx);
  expect(read!.device).toMatchObject({ kind: 'vxlan', owner: 'not calico-net' });
  // Delete of that state leaves the foreign device alone.
  await overlayHandler.delete({ ...(await planOf(overlayHandler, config, null, ctx)), id: 'o-n3' }, ctx);
  expect((await c.exec('ip -o link show dev vxlan.calico')).stdout).toContain('vxlan.calico');
  await c.exec('ip link del vxlan.calico');
});

test('another device holding the VNI and port is named in the refusal, and left in place', async () => {
  await c.exec('ip link add other.vx type vxlan id 4096 local 198.18.40.3 dstport 4789');
  const ctx = contextFor(resolverFor(hosts));
  const config = overlayConfig(clusterOf('vxlanMode', [a.name, b.name, c.name]), c.name, c.address);
  const err = (await apply(overlayHandler, config, null, ctx).catch((e) => e)) as ProviderError;
  expect(err).toBeInstanceOf(ProviderError);
  expect(err.options.detail).toMatch(
    /^o-n3: cannot create vxlan\.calico \(VXLAN, VNI 4096, UDP port 4789, local 198\.18\.40\.3\): .*VNI/,
  );
  expect((await c.exec('ip -o link show dev other.vx')).stdout).toContain('other.vx');
  expect((await c.exec('ip -o link show dev vxlan.calico.t', true)).code).not.toBe(0);
  await c.exec('ip link del other.vx');
});

test('a route for a declared block that calico-net did not create is refused, never replaced', async () => {
  await c.exec(`ip route add ${a.block} via ${a.address} dev eth0`);
  const ctx = contextFor(resolverFor(hosts));
  const config = overlayConfig(clusterOf('vxlanMode', [a.name, b.name, c.name]), c.name, c.address);
  await expect(apply(overlayHandler, config, null, ctx)).rejects.toThrow(
    new RegExp(`o-n3 already has a route for ${a.block.replace(/\./g, '\\.')} that calico-net did not create`),
  );
  const read = await overlayHandler.read({ ...(await planOf(overlayHandler, config, null, ctx)), id: 'o-n3' }, ctx);
  expect(read!.host_routes).toEqual({ [a.block]: `not calico-net's: ${a.block} via ${a.address} dev eth0` });
  expect((await c.exec(`ip -4 route show exact ${a.block}`)).stdout.trim()).toBe(
    `${a.block} via ${a.address} dev eth0`,
  );
  await c.exec(`ip route del ${a.block} via ${a.address} dev eth0`);
});

test('IPIP: apply fails naming the host, because this kernel has no ipip module, and changes nothing', async () => {
  const ctx = contextFor(resolverFor(hosts));
  const cluster = clusterOf('ipipMode', [a.name, b.name, c.name]);
  const config = overlayConfig(cluster, c.name, c.address);
  expect(config).toMatchObject({
    encapsulation: 'ipip',
    tunnel_mac: null,
    neighbours: {},
    fdb: {},
    routes: { [a.block]: a.address, [b.block]: b.address },
  });
  const before = (await c.exec(STATE_PROBE)).stdout;
  const attempt = apply(overlayHandler, config, null, ctx);
  const err = (await attempt.catch((e) => e)) as ProviderError;
  expect(err).toBeInstanceOf(ProviderError);
  expect(err.message).toMatch(/^o-n3: this kernel has no ipip support \(modprobe ipip failed/);
  expect(err.message).toMatch(/use vxlanMode instead of ipipMode/);
  expect(err.options.attribute).toEqual(['encapsulation']);
  expect((await c.exec(STATE_PROBE)).stdout).toBe(before);
});

test('a remote that leaves the cluster loses its neighbour, FDB entry and route; what stays keeps working', async () => {
  // Node 1 also tunnels to node 3 (which has no overlay): then node 3 leaves again.
  const three = overlayConfig(clusterOf('vxlanMode', [a.name, b.name, c.name]), a.name, a.address);
  const ctx = contextFor(resolverFor(hosts));
  a.overlay.state = await apply(overlayHandler, three, a.overlay.state, ctx);
  const vtepC = tunnelAddressOf(c.block);
  expect((await a.exec(`ip -4 route show exact ${c.block}`)).stdout).toContain(
    `via ${vtepC} dev vxlan.calico proto 211 onlink`,
  );
  expect(a.overlay.state.host_neighbours).toEqual({ [vtepB()]: macB(), [vtepC]: vtepMacOf(vtepC) });

  a.overlay.state = await apply(overlayHandler, a.overlay.config, a.overlay.state, contextFor(resolverFor(hosts)));
  expect((await a.exec(`ip -4 route show exact ${c.block}`)).stdout).toBe('');
  expect((await a.exec('ip neigh show dev vxlan.calico')).stdout).not.toContain(vtepC);
  expect((await a.exec('bridge fdb show dev vxlan.calico')).stdout).not.toContain(vtepMacOf(vtepC));
  expect((await driftOf(a.overlay)).changed).toEqual([]);
  expect(await ping(a, b)).toBe(true);
});

test('import rebuilds the inputs from the host', async () => {
  const ctx = contextFor(resolverFor(hosts));
  const imported = await overlayHandler.import(`o-n2@root@${b.address}:22`, ctx);
  const { ssh: _ssh, ...config } = b.overlay.config;
  const { ssh: _stateSsh, ...state } = b.overlay.state!;
  expect(imported).toMatchObject({ ...config, ...state });
  await expect(overlayHandler.import(`o-n3@${c.address}`, ctx)).rejects.toThrow(
    /o-n3 has no vxlan\.calico or tunl0 device marked as calico-net's/,
  );
});

test('delete leaves each node as it was before', async () => {
  const ctx = contextFor(resolverFor(hosts));
  for (const s of [a, b]) {
    await overlayHandler.delete(s.overlay.state!, ctx);
    await workloadHandler.delete(s.wl.state!, ctx);
    await nodeHandler.delete(s.node.state!, ctx);
  }
  for (const s of [a, b, c]) expect((await s.exec(STATE_PROBE)).stdout).toBe(s.before);
  // Deleting again is harmless.
  await overlayHandler.delete(a.overlay.state!, ctx);
  expect((await a.exec(STATE_PROBE)).stdout).toBe(a.before);
});
