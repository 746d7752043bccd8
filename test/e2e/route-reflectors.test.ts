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
    if (rrs.includes(node)) expect(up).toHaveLength(5);
    else expect(peers).toEqual(rrs.map((r) => cluster.address(r)).sort());
    expect(up.every((s) => s.peerType === 'route reflector')).toBe(true);
  }
  const pings = await cluster.pingAll();
  expect(pings).toHaveLength(30);
  expect(pings.filter((p) => !p.ok)).toEqual([]);
});

test('with one RR stopped, every client still has every route and every ping succeeds', async () => {
  const { stopBird } = await import('../../lab');
  await stopBird(cluster.lab, 'node1');
  // The clients' sessions to node1 go down; their routes via node2 must stay.
  for (const node of cluster.nodeNames.filter((n) => n !== 'node1')) {
    const wanted = cluster.nodeNames
      .filter((n) => n !== node && n !== 'node1')
      .map((n) => cluster.learnedRoute(n));
    const routes = await cluster.waitForRoutes(node, wanted);
    for (const re of wanted) expect(routes.some((r) => re.test(r))).toBe(true);
  }
  // node1's own workload is cut off with its BGP daemon; everything else must still work.
  const pings = (await cluster.pingAll()).filter((p) => !p.from.startsWith('node1/') && !p.to.startsWith('node1/'));
  expect(pings).toHaveLength(20);
  expect(pings.filter((p) => !p.ok)).toEqual([]);
});
