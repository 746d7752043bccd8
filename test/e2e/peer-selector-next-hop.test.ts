/**
 * BGPPeer `nodeSelector` (over node `labels`) and `nextHopMode`, end to end against a real FRR
 * ToR (lab/tor.ts): lab 71, two nodes with an AS each (eBGP mesh, the seed's design) on one
 * segment, FRR (AS 65000) in a namespace of its own configured for both. Real cdktf, terraform,
 * our provider, sshd, bird, zebra and bgpd.
 *
 * - a peer with `nodeSelector: rack == 'a'` is Established on node1 (rack a) only: node2 has no
 *   session to it, and FRR sees node1 Established and node2 not; a plan afterwards is empty;
 * - relabelling node2 to rack a (inventory change, redeploy) brings node2's session up too;
 * - nextHopMode: node1 passes node2's block on to FRR. Under Auto it keeps node2 as the next
 *   hop (BIRD's default between direct sessions on one segment), under Self FRR receives it with
 *   node1 as the next hop; back to Auto, node2 again;
 * - a selector that matches no node: the deploy goes through with cdktf's warning naming the
 *   peer and field, and no node keeps a session to FRR.
 */
import * as fs from 'fs';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { TorInfo, torDown, vtyshJson } from '../../lab';
import { torLab } from '../support/tor-lab';
import { describeCommand, E2eCluster } from './cluster';

jest.setTimeout(600_000);

let cluster: E2eCluster;
let tor: TorInfo;
const GLOBAL = 'Global_198_18_71_250';

interface Inventory {
  cluster: Record<string, unknown>;
  nodes: { name: string; address: string; labels?: Record<string, string> }[];
  peers: Record<string, unknown>[];
}

function inventory(): Inventory {
  return parseYaml(fs.readFileSync(cluster.lab.inventoryPath, 'utf8'));
}

async function deployWith(change: (inv: Inventory) => void): Promise<void> {
  const inv = inventory();
  change(inv);
  fs.writeFileSync(cluster.lab.inventoryPath, toYaml(inv));
  const r = await cluster.deploy();
  if (r.code !== 0) throw new Error(describeCommand(r));
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** FRR's view of each neighbor: its state. */
async function frrPeers(): Promise<Record<string, string>> {
  const s = await vtyshJson<{ ipv4Unicast?: { peers: Record<string, { state: string }> } }>(
    tor,
    'show bgp summary json',
  );
  return Object.fromEntries(Object.entries(s.ipv4Unicast?.peers ?? {}).map(([ip, p]) => [ip, p.state]));
}

interface FrrPath {
  valid?: boolean;
  peerId?: string;
  nexthops: { ip: string }[];
}

/** The next hop FRR holds for `prefix` on the path it learned from `from` (undefined: no such path). */
async function nextHopFrom(prefix: string, from: string): Promise<string | undefined> {
  const table = await vtyshJson<{ routes: Record<string, FrrPath[]> }>(tor, 'show bgp ipv4 unicast json');
  const path = (table.routes[prefix] ?? []).find((p) => p.peerId === from);
  return path?.nexthops[0]?.ip;
}

async function hasGlobal(node: string): Promise<{ present: boolean; established: boolean }> {
  const s = (await cluster.sessions(node)).find((x) => x.protocol === GLOBAL);
  return { present: s !== undefined, established: Boolean(s?.established) };
}

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: 71, nodes: 2, asMode: 'ebgp' });
  ({ tor } = await torLab(cluster.lab, {
    node: (i) => ({ labels: { rack: i === 0 ? 'a' : 'b' } }),
    peer: { nodeSelector: "rack == 'a'" },
  }));
});

afterAll(async () => {
  if (cluster) await torDown(cluster.lab.dir);
  await cluster?.down();
});

test("nodeSelector rack == 'a': node1 peers with FRR, node2 holds no session to it; FRR agrees; the plan afterwards is empty", async () => {
  const [node1, node2] = cluster.nodeNames;
  const deploy = await cluster.deploy();
  if (deploy.code !== 0) throw new Error(describeCommand(deploy));
  // node1: the mesh session to node2 and the ToR; node2: the mesh session only.
  await cluster.waitForSessions((n) => (n === node1 ? 2 : 1));
  expect(await hasGlobal(node1)).toEqual({ present: true, established: true });
  expect(await hasGlobal(node2)).toEqual({ present: false, established: false });

  const peers = await until('FRR to see node1 Established', async () => {
    const p = await frrPeers();
    return p[cluster.address(node1)] === 'Established' ? p : undefined;
  });
  // node2 is configured on FRR (it peers with every lab node) but never connects.
  expect(peers[cluster.address(node2)]).toBeDefined();
  expect(peers[cluster.address(node2)]).not.toBe('Established');

  const plan = await cluster.plan();
  expect({ code: plan.code, out: plan.code === 0 ? '' : plan.stdout + plan.stderr }).toEqual({ code: 0, out: '' });
});

test('relabelling node2 to rack a brings its session to FRR up as well', async () => {
  const [node1, node2] = cluster.nodeNames;
  await deployWith((inv) => {
    inv.nodes[1].labels = { rack: 'a' };
  });
  await cluster.waitForSessions(() => 2);
  for (const node of [node1, node2])
    expect({ node, ...(await hasGlobal(node)) }).toEqual({ node, present: true, established: true });
  await until('FRR to see both nodes Established', async () => {
    const p = await frrPeers();
    return p[cluster.address(node1)] === 'Established' && p[cluster.address(node2)] === 'Established' ? p : undefined;
  });
});

test("nextHopMode Self: FRR receives node2's block from node1 with node1 as next hop (Auto: node2's own address)", async () => {
  const [node1, node2] = cluster.nodeNames;
  const block2 = cluster.podCidr(node2);
  const [addr1, addr2] = [cluster.address(node1), cluster.address(node2)];

  // Auto (nothing set): BIRD passes the next hop on between direct sessions on one segment.
  const auto = await until("FRR to learn node2's block from node1", () => nextHopFrom(block2, addr1));
  expect({ mode: 'Auto', nextHop: auto }).toEqual({ mode: 'Auto', nextHop: addr2 });

  await deployWith((inv) => {
    inv.peers[0].nextHopMode = 'Self';
  });
  const self = await until('FRR to receive node1 as the next hop', async () =>
    (await nextHopFrom(block2, addr1)) === addr1 ? addr1 : undefined,
  );
  expect({ mode: 'Self', nextHop: self }).toEqual({ mode: 'Self', nextHop: addr1 });
  // node2's own announcement of its block is untouched: its own address either way.
  expect(await nextHopFrom(block2, addr2)).toBe(addr2);
  const plan = await cluster.plan();
  expect(plan.code).toBe(0);

  await deployWith((inv) => {
    delete inv.peers[0].nextHopMode;
  });
  const back = await until('FRR to receive node2 as the next hop again', async () =>
    (await nextHopFrom(block2, addr1)) === addr2 ? addr2 : undefined,
  );
  expect(back).toBe(addr2);
});

test('a nodeSelector that matches no node: cdktf deploy warns, naming peer and field, and both sessions to FRR go', async () => {
  const inv = inventory();
  inv.peers[0].nodeSelector = "rack == 'zz'";
  fs.writeFileSync(cluster.lab.inventoryPath, toYaml(inv));
  const r = await cluster.deploy();
  if (r.code !== 0) throw new Error(describeCommand(r));
  // cdktf prints the synth warning (a construct annotation) with the deploy's output.
  expect(r.stdout + r.stderr).toContain(`peers[0] ${tor.address}.nodeSelector: "rack == 'zz'" matches no node`);
  await cluster.waitForSessions(() => 1);
  for (const node of cluster.nodeNames)
    expect({ node, ...(await hasGlobal(node)) }).toEqual({ node, present: false, established: false });
  await until('FRR to see both nodes gone', async () => {
    const p = await frrPeers();
    return cluster.nodeNames.every((n) => p[cluster.address(n)] !== 'Established') ? p : undefined;
  });
});
