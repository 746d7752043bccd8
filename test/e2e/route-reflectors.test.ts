/**
 * Route reflectors end to end: 6 nodes, 2 RRs and 4 clients in one AS. Clients hold sessions
 * only to the RRs, every workload reaches every other, and with one RR's bird stopped every
 * route survives through the other.
 */
import { describeCommand, E2eCluster } from './cluster';

let cluster: E2eCluster;
const rrs = ['node1', 'node2'];

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: 13, nodes: 6, asMode: 'ibgp', routeReflectors: 2 });
});

afterAll(async () => {
  await cluster?.down();
});

test('clients peer only with the RRs, RRs with everyone; every workload pings every other', async () => {
  const deploy = await cluster.deploy();
  if (deploy.code !== 0) throw new Error(describeCommand(deploy));
  const sessions = await cluster.waitForSessions((n) => (rrs.includes(n) ? 5 : 2));
  for (const node of cluster.nodeNames) {
    const up = sessions.get(node)!.filter((s) => s.established);
    const peers = up.map((s) => s.peerAddress).sort();
    // An RR peers with every other node; a client with the RRs only.
    const expected = rrs.includes(node) ? cluster.nodeNames.filter((n) => n !== node) : rrs;
    expect(peers).toEqual(expected.map((n) => cluster.address(n)).sort());
    expect(up.every((s) => s.peerType === 'route reflector')).toBe(true);
  }
  const pings = await cluster.pingAll();
  expect(pings).toHaveLength(30);
  expect(pings.filter((p) => !p.ok)).toEqual([]);
});

/** The BGP neighbours (BIRD's `from` address) a node holds `prefix` from, as `show route all` lists them. */
async function learnedFrom(node: string, prefix: string): Promise<string[]> {
  const r = await cluster.exec(node, ['birdc', '-s', '/run/bird/bird.ctl', 'show', 'route', prefix, 'all']);
  if (r.code !== 0) throw new Error(`birdc on ${node}: ${r.stderr || r.stdout}`);
  return [...r.stdout.matchAll(/ from (\d+\.\d+\.\d+\.\d+)\]/g)].map((m) => m[1]).sort();
}

test('with one RR stopped, every client still has every route, learned through the other RR, and pings succeed', async () => {
  const { stopBird } = await import('../../lab');
  const clients = cluster.nodeNames.filter((n) => !rrs.includes(n));
  const [stopped, other] = rrs.map((n) => cluster.address(n));
  // Before: each client learns every other client's block from both RRs.
  for (const node of clients) {
    for (const peer of clients.filter((n) => n !== node)) {
      expect(await learnedFrom(node, cluster.podCidr(peer))).toEqual([stopped, other].sort());
    }
  }
  await stopBird(cluster.lab, 'node1');
  // Failover has happened only once no client holds an Established session to node1 any more.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const up = await Promise.all(
      clients.map(async (n) => (await cluster.sessions(n)).some((s) => s.peerAddress === stopped && s.established)),
    );
    if (!up.some(Boolean)) break;
    if (Date.now() > deadline) throw new Error(`clients still Established with the stopped RR ${stopped}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  for (const node of clients) {
    const others = clients.filter((n) => n !== node);
    const routes = await cluster.waitForRoutes(
      node,
      others.map((n) => cluster.learnedRoute(n)),
    );
    for (const peer of others) {
      expect(routes.some((r) => cluster.learnedRoute(peer).test(r))).toBe(true);
      // BIRD holds the route from node2 now; node1's copy (if graceful restart keeps it a while) is stale.
      expect(await learnedFrom(node, cluster.podCidr(peer))).toContain(other);
    }
  }
  // node1's own workload is cut off with its BGP daemon; everything else must still work.
  const pings = (await cluster.pingAll()).filter((p) => !p.from.startsWith('node1/') && !p.to.startsWith('node1/'));
  expect(pings).toHaveLength(20);
  expect(pings.filter((p) => !p.ok)).toEqual([]);
});
