/**
 * The Calico handlers against a real kernel and real BIRD: lab nodes (network + mount
 * namespaces, see lab/) entered with nsenter, BGP between two of them, a workload on each,
 * drift injected by hand. The third node has no default route (calico_node routes the pods'
 * gateway via lo there).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { labDown, labUp, LabInfo, nodeHost } from '../../lab';
import { ObjectValue, ProviderError } from '../../providers/runtime/resource';
import { birdConfigHandler, hostInterfaceName, nodeHandler, workloadHandler } from '../../providers/calico';
import { RemoteHost } from '../../providers/ssh/types';
import { assertE2ePrerequisites } from '../e2e/prerequisites';
import { apply, changedAttributes, contextFor, fullConfig, planOf, resolverFor } from './driver';

jest.setTimeout(120000);

/** What an operator would render for a node: iBGP to the other node, kernel export of BGP routes. */
function managedBird(self: string, peer: string, block: string): string {
  return `router id ${self};
protocol device { scan time 2; }
protocol kernel {
  ipv4 { import none; export where source = RTS_BGP; };
  persist;
  scan time 2;
}
protocol static {
  ipv4;
  route ${block} blackhole;
}
protocol bgp Mesh_${peer.replace(/\./g, '_')} {
  local ${self} as 64512;
  neighbor ${peer} as 64512;
  direct;
  connect delay time 1;
  connect retry time 2;
  error wait time 1, 5;
  ipv4 { import all; export where source = RTS_STATIC; next hop self; gateway direct; };
}
`;
}

interface Site {
  lab: LabNode;
  name: string;
  block: string;
  podIp: string;
  workload: string;
  node: { config: ObjectValue; state: ObjectValue | null };
  bird: { config: ObjectValue; state: ObjectValue | null };
  wl: { config: ObjectValue; state: ObjectValue | null };
}

/** A lab node under the name the resources give it (t4-n1, …), with a checked exec. */
interface LabNode {
  name: string;
  address: string;
  /** The bird.conf the lab started with: what destroy must bring back. */
  originalBird: string;
  exec(script: string, allowFail?: boolean): Promise<{ code: number; stdout: string; stderr: string }>;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-handlers-'));
let lab: LabInfo;
const hosts = new Map<string, RemoteHost>();
const ctx = contextFor(resolverFor(hosts));
let a: Site;
let b: Site;
let n3: LabNode;

async function waitUntil(what: string, cond: () => Promise<boolean>, ms = 30000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function site(node: LabNode, peer: string, block: string, podIp: string, workload: string): Site {
  const ssh = { host: node.address };
  return {
    lab: node,
    name: node.name,
    block,
    podIp,
    workload,
    node: {
      config: fullConfig(nodeHandler, { name: node.name, address: node.address, pod_cidr: block }, ssh),
      state: null,
    },
    bird: {
      config: fullConfig(
        birdConfigHandler,
        { node_name: node.name, content: managedBird(node.address, peer, block) },
        ssh,
      ),
      state: null,
    },
    wl: { config: fullConfig(workloadHandler, { node_name: node.name, name: workload, ip: podIp }, ssh), state: null },
  };
}

async function ping(from: Site, to: Site): Promise<boolean> {
  const r = await from.lab.exec(`ip netns exec ${from.workload} ping -c 2 -i 0.2 -W 2 ${to.podIp}`, true);
  return r.code === 0;
}

async function sessionEstablished(s: Site): Promise<boolean> {
  const r = await s.lab.exec('birdc -s /run/bird/bird.ctl show protocols', true);
  return /^Mesh_\S+\s+BGP\s+.*\bEstablished\b/m.test(r.stdout);
}

async function routeViaPeer(s: Site, peerBlock: string, peerAddress: string): Promise<boolean> {
  const r = await s.lab.exec(`ip -4 route show exact ${peerBlock}`, true);
  return r.stdout.includes(`via ${peerAddress}`) && r.stdout.includes('proto bird');
}

/** What plan announces now (facts = desired), compared with what read finds. */
async function driftOf(
  handler: typeof nodeHandler,
  entry: { config: ObjectValue; state: ObjectValue | null },
): Promise<{ read: ObjectValue; changed: string[] }> {
  const plan = contextFor(resolverFor(hosts)); // a new plan: a new provider process
  const read = (await handler.read(entry.state!, plan))!;
  const planned = await planOf(handler, entry.config, read, plan);
  return { read, changed: changedAttributes(read, planned) };
}

async function repair(
  handler: typeof nodeHandler,
  entry: { config: ObjectValue; state: ObjectValue | null },
): Promise<void> {
  const deploy = contextFor(resolverFor(hosts));
  const read = (await handler.read(entry.state!, deploy))!;
  entry.state = await apply(handler, entry.config, read, deploy);
  const after = await driftOf(handler, entry);
  expect(after.changed).toEqual([]);
}

async function labNode(index: number, name: string): Promise<LabNode> {
  const { name: labName, address } = lab.nodes[index];
  const host = nodeHost(lab, labName);
  hosts.set(address, host);
  const exec = async (script: string, allowFail = false) => {
    const r = await host.run(script);
    if (r.code !== 0 && !allowFail) throw new Error(`${name}: ${script} failed (${r.code}): ${r.stderr}`);
    return r;
  };
  // A fresh namespace may inherit ip_forward=1; the tests check that destroy restores a 0.
  await exec('echo 0 > /proc/sys/net/ipv4/ip_forward');
  return { name, address, exec, originalBird: (await exec('cat /etc/bird/bird.conf')).stdout };
}

beforeAll(async () => {
  await assertE2ePrerequisites();
  lab = await labUp({ dir, nodes: 3, id: 210 });
  const n1 = await labNode(0, 't4-n1');
  const n2 = await labNode(1, 't4-n2');
  n3 = await labNode(2, 't4-n3');
  await n3.exec('ip route del default');
  a = site(n1, n2.address, '198.19.210.0/26', '198.19.210.1', 'w1');
  b = site(n2, n1.address, '198.19.210.64/26', '198.19.210.65', 'w2');
});

afterAll(async () => {
  if (lab) await labDown(lab.dir);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('create: node, bird config and workload on both nodes give BGP, routes and pod-to-pod ping', async () => {
  for (const s of [a, b]) {
    s.node.state = await apply(nodeHandler, s.node.config, null, ctx);
    s.bird.state = await apply(birdConfigHandler, s.bird.config, null, ctx);
    s.wl.state = await apply(workloadHandler, s.wl.config, null, ctx);
  }
  expect(a.node.state!.original_ip_forward).toBe('0');
  expect(a.bird.state!.backup_path).toBe('/etc/bird/bird.conf.calico-net.orig');
  expect(a.wl.state!.host_interface).toBe(hostInterfaceName('t4-n1', 'w1'));
  expect(a.wl.state!.host_interface).toMatch(/^cali[0-9a-f]{11}$/);

  await waitUntil(
    'BGP Established on both nodes',
    async () => (await sessionEstablished(a)) && (await sessionEstablished(b)),
  );
  await waitUntil(
    'routes via the peer',
    async () => (await routeViaPeer(a, b.block, b.lab.address)) && (await routeViaPeer(b, a.block, a.lab.address)),
  );
  // Our blackhole is there and marked as ours.
  expect((await a.lab.exec(`ip -4 route show exact ${a.block} type blackhole proto 211`)).stdout).toContain(
    'blackhole',
  );
  expect((await a.lab.exec(`ip -4 route show exact ${a.podIp}/32`)).stdout).toContain(
    `dev ${String(a.wl.state!.host_interface)}`,
  );
  expect(await ping(a, b)).toBe(true);
  expect(await ping(b, a)).toBe(true);
});

test('read right after create reports the desired facts (no diff)', async () => {
  for (const s of [a, b]) {
    expect((await driftOf(nodeHandler, s.node)).changed).toEqual([]);
    expect((await driftOf(birdConfigHandler, s.bird)).changed).toEqual([]);
    expect((await driftOf(workloadHandler, s.wl)).changed).toEqual([]);
  }
  const read = (await workloadHandler.read(a.wl.state!, ctx))!;
  expect(read).toMatchObject({
    netns_present: true,
    pod_interface: true,
    pod_routes: true,
    proxy_arp: '1',
    proxy_delay: '0',
    host_route: true,
  });
});

test('one provider process reads a host once for all its resources; a change through the provider drops that read', async () => {
  const runs: string[] = [];
  const counting = new Map<string, RemoteHost>();
  for (const [address, host] of hosts) {
    counting.set(address, {
      label: host.label,
      run: (script, options) => (runs.push(address), host.run(script, options)),
    });
  }
  const plan = contextFor(resolverFor(counting));
  const [node, bird, wl] = await Promise.all([
    nodeHandler.read(a.node.state!, plan),
    birdConfigHandler.read(a.bird.state!, plan),
    workloadHandler.read(a.wl.state!, plan),
  ]);
  expect(node).toMatchObject({ ip_forward: '1', blackhole_route: true, gateway_route: true });
  expect(bird!.content).toBe(a.bird.config.content);
  expect(wl).toMatchObject({ netns_present: true, pod_interface: true, host_route: true });
  await nodeHandler.read(a.node.state!, plan);
  expect(runs).toEqual([a.lab.address]);

  await apply(nodeHandler, a.node.config, a.node.state, plan);
  await nodeHandler.read(a.node.state!, plan);
  expect(runs).toEqual([a.lab.address, a.lab.address, a.lab.address]); // read, apply, read again
});

test('drift: proxy_arp turned off is reported and repaired', async () => {
  const hif = a.wl.state!.host_interface as string;
  await a.lab.exec(`echo 0 > /proc/sys/net/ipv4/conf/${hif}/proxy_arp`);
  const { read, changed } = await driftOf(workloadHandler, a.wl);
  expect(changed).toEqual(['proxy_arp']);
  expect(read.proxy_arp).toBe('0');
  await repair(workloadHandler, a.wl);
  expect((await a.lab.exec(`cat /proc/sys/net/ipv4/conf/${hif}/proxy_arp`)).stdout.trim()).toBe('1');
  expect(await ping(a, b)).toBe(true);
});

test('drift: host /32 route deleted is reported and repaired', async () => {
  await b.lab.exec(`ip route del ${b.podIp}/32`);
  expect(await ping(a, b)).toBe(false);
  const { changed } = await driftOf(workloadHandler, b.wl);
  expect(changed).toEqual(['host_route']);
  await repair(workloadHandler, b.wl);
  expect(await ping(a, b)).toBe(true);
});

test('drift: bird.conf edited by hand shows as a content diff and is rewritten', async () => {
  await a.lab.exec(`printf '# hand edit\\n' >> /etc/bird/bird.conf`);
  const { read, changed } = await driftOf(birdConfigHandler, a.bird);
  // The file is newer than BIRD's last reconfiguration: BIRD does not run what is on disk.
  expect(changed).toEqual(['content', 'loaded']);
  expect(read.content).toBe(`${String(a.bird.config.content)}# hand edit\n`);
  expect(read.loaded).toBe(false);
  await repair(birdConfigHandler, a.bird);
  expect((await a.lab.exec('cat /etc/bird/bird.conf')).stdout).toBe(a.bird.config.content);
  await waitUntil('BGP Established again', async () => sessionEstablished(a));
  expect(await ping(a, b)).toBe(true);
});

test('drift: workload netns deleted is reported (not gone) and rebuilt', async () => {
  const hif = a.wl.state!.host_interface as string;
  await a.lab.exec(`ip netns del ${a.workload}`);
  // The kernel frees the namespace (and with it the veth) asynchronously.
  await waitUntil('veth gone', async () => (await a.lab.exec(`ip link show dev ${hif}`, true)).code !== 0, 10000);
  const { read, changed } = await driftOf(workloadHandler, a.wl);
  expect(read).not.toBeNull();
  expect(changed).toEqual(['host_route', 'netns_present', 'pod_interface', 'pod_routes', 'proxy_arp', 'proxy_delay']);
  expect(read).toMatchObject({
    netns_present: false,
    pod_interface: false,
    pod_routes: false,
    proxy_arp: null,
    proxy_delay: null,
    host_route: false,
  });
  await repair(workloadHandler, a.wl);
  expect(await ping(a, b)).toBe(true);
  expect(await ping(b, a)).toBe(true);
});

test('drift: ip_forward=0 is reported and repaired; the original value is kept', async () => {
  await b.lab.exec('echo 0 > /proc/sys/net/ipv4/ip_forward');
  expect(await ping(a, b)).toBe(false);
  const { read, changed } = await driftOf(nodeHandler, b.node);
  expect(changed).toEqual(['ip_forward']);
  expect(read.ip_forward).toBe('0');
  await repair(nodeHandler, b.node);
  expect(b.node.state!.original_ip_forward).toBe('0');
  expect(await ping(a, b)).toBe(true);
});

test("a bird config that fails `bird -p` leaves the old file untouched and shows bird's message", async () => {
  const before = (await a.lab.exec('cat /etc/bird/bird.conf; ls /etc/bird')).stdout;
  const broken = {
    ...a.bird.config,
    content: 'router id 198.18.210.1;\nprotocol bgp broken {\n  neighbor nonsense;\n',
  };
  const attempt = apply(birdConfigHandler, broken, a.bird.state, ctx);
  await expect(attempt).rejects.toThrow(ProviderError);
  const err = (await attempt.catch((e) => e)) as ProviderError;
  expect(err.message).toContain('left untouched');
  // bird's own words, with the line number of the new content.
  expect(err.options.detail).toMatch(/bird\.conf \(new content\):\d+:\d+/);
  expect(err.options.attribute).toEqual(['content']);
  expect((await a.lab.exec('cat /etc/bird/bird.conf; ls /etc/bird')).stdout).toBe(before);
  expect(await sessionEstablished(a)).toBe(true);
});

test("a node without a default route gets our own route to 169.254.1.1 via lo; it survives the host's changes, drift shows it, destroy removes it", async () => {
  const gatewayRoutes = async () => (await n3.exec('ip -4 route show table main exact 169.254.1.1/32')).stdout.trim();
  const entry = {
    config: fullConfig(
      nodeHandler,
      { name: 't4-n3', address: n3.address, pod_cidr: '198.19.210.128/26' },
      { host: n3.address },
    ),
    state: null as ObjectValue | null,
  };
  expect((await n3.exec('ip -4 route show default')).stdout).toBe('');

  // A route to 169.254.1.1 proxy ARP cannot use, which someone else made: refused, nothing changed.
  await n3.exec('ip route add unreachable 169.254.1.1/32');
  const refused = (await apply(nodeHandler, entry.config, null, ctx).catch((e) => e)) as ProviderError;
  expect(refused).toBeInstanceOf(ProviderError);
  expect(refused.message).toMatch(
    /t4-n3 has a route to 169\.254\.1\.1 that calico-net did not create \(unreachable 169\.254\.1\.1/,
  );
  expect((await n3.exec('cat /proc/sys/net/ipv4/ip_forward')).stdout.trim()).toBe('0');
  expect((await n3.exec('ip -4 route show type blackhole')).stdout).toBe('');
  await n3.exec('ip route del unreachable 169.254.1.1/32');

  entry.state = await apply(nodeHandler, entry.config, null, ctx);
  expect(entry.state).toMatchObject({ gateway_route: true, own_gateway_route: true, blackhole_route: true });
  expect(await gatewayRoutes()).toBe('169.254.1.1 dev lo proto 211 scope link');
  expect((await driftOf(nodeHandler, entry)).changed).toEqual([]);

  // The host's own changes: its uplink down and up, a default route added, then removed.
  await n3.exec(`ip link set eth0 down; ip link set eth0 up; ip route add default via ${lab.operator.address}`);
  expect((await driftOf(nodeHandler, entry)).changed).toEqual([]);
  await n3.exec('ip route del default');
  expect(await gatewayRoutes()).toBe('169.254.1.1 dev lo proto 211 scope link');
  expect((await driftOf(nodeHandler, entry)).changed).toEqual([]);

  // Deleted by hand: read shows both facts false, plan puts them back, apply repairs.
  await n3.exec('ip route del 169.254.1.1/32 dev lo proto 211');
  const drift = await driftOf(nodeHandler, entry);
  expect(drift.read).toMatchObject({ gateway_route: false, own_gateway_route: false });
  expect(drift.changed).toEqual(['gateway_route', 'own_gateway_route']);
  await repair(nodeHandler, entry);
  expect(await gatewayRoutes()).toBe('169.254.1.1 dev lo proto 211 scope link');

  await nodeHandler.delete(entry.state!, ctx);
  expect(await gatewayRoutes()).toBe('');
  expect((await n3.exec('cat /proc/sys/net/ipv4/ip_forward')).stdout.trim()).toBe('0');
  expect((await n3.exec('ip -4 route show type blackhole')).stdout).toBe('');
});

test('a host that routes 169.254.1.1 itself gets no route of ours, and destroy never deletes its route', async () => {
  expect(a.node.state).toMatchObject({ gateway_route: true, own_gateway_route: false });
  expect((await a.lab.exec('ip -4 route show table main exact 169.254.1.1/32')).stdout).toBe('');
  // A route of the host's own for exactly 169.254.1.1 through the uplink, on a fresh node resource.
  await n3.exec(`ip route add 169.254.1.1/32 via ${lab.operator.address} dev eth0`);
  const config = fullConfig(
    nodeHandler,
    { name: 't4-n3', address: n3.address, pod_cidr: '198.19.210.128/26' },
    { host: n3.address },
  );
  const state = await apply(nodeHandler, config, null, ctx);
  expect(state).toMatchObject({ gateway_route: true, own_gateway_route: false });
  await nodeHandler.delete(state, ctx);
  expect((await n3.exec('ip -4 route show table main exact 169.254.1.1/32')).stdout.trim()).toBe(
    `169.254.1.1 via ${lab.operator.address} dev eth0 `.trim(),
  );
  await n3.exec(`ip route del 169.254.1.1/32 via ${lab.operator.address} dev eth0`);
});

test('a node declared with an address its host does not hold is refused on that attribute and changes nothing', async () => {
  // n1's address is right; the inventory says the node is 198.18.210.77, which no interface holds.
  const wrong = fullConfig(
    nodeHandler,
    { name: 't4-n1', address: '198.18.210.77', pod_cidr: a.block },
    { host: a.lab.address },
  );
  const blackholesBefore = (await a.lab.exec('ip -4 route show type blackhole')).stdout;
  const attempt = apply(nodeHandler, wrong, a.node.state, ctx);
  const err = (await attempt.catch((e) => e)) as ProviderError;
  expect(err).toBeInstanceOf(ProviderError);
  expect(err.message).toMatch(/t4-n1 does not hold its address 198\.18\.210\.77 on any interface/);
  expect(err.options.attribute).toEqual(['address']);
  expect((await a.lab.exec('ip -4 route show type blackhole')).stdout).toBe(blackholesBefore);
  // A read with that address shows the fact false, so a plan shows the update it needs.
  const read = await nodeHandler.read({ ...a.node.state!, address: '198.18.210.77' }, contextFor(resolverFor(hosts)));
  expect(read).toMatchObject({ address_assigned: false, blackhole_route: true });
  expect((await nodeHandler.read(a.node.state!, contextFor(resolverFor(hosts))))!.address_assigned).toBe(true);
});

test('an unreachable node is an error naming the node, never a missing resource', async () => {
  const dead: RemoteHost = {
    label: 't4-gone (198.18.210.9)',
    run: () => Promise.reject(new Error('connect ECONNREFUSED 198.18.210.9:22')),
  };
  const deadCtx = contextFor(resolverFor(new Map([[a.lab.address, dead]])));
  await expect(workloadHandler.read(a.wl.state!, deadCtx)).rejects.toThrow(/Cannot reach node t4-n1/);
  await expect(nodeHandler.read(a.node.state!, deadCtx)).rejects.toThrow(/Cannot reach node t4-n1/);
  await expect(birdConfigHandler.read(a.bird.state!, deadCtx)).rejects.toThrow(/Cannot reach node t4-n1/);
});

test('import rebuilds inputs from the host', async () => {
  const ctx = contextFor(resolverFor(hosts)); // earlier tests changed the hosts behind the shared context
  const wl = await workloadHandler.import(`t4-n1/w1@root@${a.lab.address}:22`, ctx);
  expect(wl).toMatchObject({
    id: 't4-n1/w1',
    node_name: 't4-n1',
    name: 'w1',
    ip: a.podIp,
    host_interface: a.wl.state!.host_interface,
    host_route: true,
    proxy_arp: '1',
  });
  expect(wl.ssh).toMatchObject({ host: a.lab.address, user: 'root', port: 22 });
  const node = await nodeHandler.import(`t4-n2@${b.lab.address}`, ctx);
  expect(node).toMatchObject({
    name: 't4-n2',
    address: b.lab.address,
    pod_cidr: b.block,
    ip_forward: '1',
    blackhole_route: true,
    gateway_route: true,
  });
  const bird = await birdConfigHandler.import(`t4-n1:/etc/bird/bird.conf@${a.lab.address}`, ctx);
  expect(bird).toMatchObject({
    node_name: 't4-n1',
    config_path: null,
    content: a.bird.config.content,
    backup_path: '/etc/bird/bird.conf.calico-net.orig',
  });
  await expect(workloadHandler.import(`t4-n1/nope@${a.lab.address}`, ctx)).rejects.toThrow(/no network namespace nope/);
  await expect(nodeHandler.import('t4-n1', ctx)).rejects.toThrow(/Invalid import id/);
});

test('a route we did not create is never taken over (and so never deleted by our teardown)', async () => {
  await a.lab.exec('ip route add blackhole 198.19.210.192/26');
  const config = fullConfig(
    nodeHandler,
    { name: 't4-n1', address: a.lab.address, pod_cidr: '198.19.210.192/26' },
    { host: a.lab.address },
  );
  await expect(apply(nodeHandler, config, null, ctx)).rejects.toThrow(
    /t4-n1 already has a route for 198\.19\.210\.192\/26 that calico-net did not create/,
  );
  const wl = fullConfig(
    workloadHandler,
    { node_name: 't4-n1', name: 'w9', ip: '198.19.210.200' },
    { host: a.lab.address },
  );
  await a.lab.exec('ip route add 198.19.210.200/32 dev eth0');
  await expect(apply(workloadHandler, wl, null, ctx)).rejects.toThrow(
    /t4-n1 already routes 198\.19\.210\.200\/32 elsewhere/,
  );
  expect((await a.lab.exec('ip netns list')).stdout).not.toContain('w9');
  // A delete of a node state for that block leaves the foreign blackhole alone.
  await nodeHandler.delete(
    { ...(await planOf(nodeHandler, config, null, ctx)), own_gateway_route: false, original_ip_forward: null },
    ctx,
  );
  expect((await a.lab.exec('ip -4 route show exact 198.19.210.192/26')).stdout).toContain('blackhole');
  await a.lab.exec('ip route del blackhole 198.19.210.192/26; ip route del 198.19.210.200/32 dev eth0');
});

test('delete leaves each node as it was before', async () => {
  // A process inside b's namespace keeps it alive after `ip netns del`, and with it the veth
  // pair: delete must then remove the pair by name.
  await b.lab.exec(`setsid ip netns exec ${b.workload} sleep 120 </dev/null >/dev/null 2>&1 &`);
  for (const s of [a, b]) {
    await workloadHandler.delete(s.wl.state!, ctx);
    await birdConfigHandler.delete(s.bird.state!, ctx);
    await nodeHandler.delete(s.node.state!, ctx);
  }
  for (const s of [a, b]) {
    const r = await s.lab.exec(
      'ip netns list; echo --; ip -o link show | grep -c " cali" || true; echo --; ip -4 route show root 198.19.0.0/16; echo --; ip -4 route show proto bird; echo --; cat /proc/sys/net/ipv4/ip_forward; echo --; ls /etc/bird',
    );
    expect(r.stdout).toBe('--\n0\n--\n--\n--\n0\n--\nbird.conf\n');
    expect((await s.lab.exec('cat /etc/bird/bird.conf')).stdout).toBe(s.lab.originalBird);
    // BIRD runs the original config again.
    const protocols = (await s.lab.exec('birdc -s /run/bird/bird.ctl show protocols')).stdout;
    expect(protocols).toContain('device1');
    expect(protocols).not.toContain('Mesh_');
  }
  await b.lab.exec(`pkill -f '^sleep 120$' || true`);
  // Deleting again is harmless (idempotent teardown).
  await workloadHandler.delete(a.wl.state!, ctx);
  await nodeHandler.delete(a.node.state!, ctx);
});
