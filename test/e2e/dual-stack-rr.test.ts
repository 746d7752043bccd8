/**
 * A route-reflector cluster carrying both families (lab 135): 3 nodes from `lab up --ipv6`
 * (each with an IPv4 and an IPv6 address, a dual-stack inventory), node1 the reflector, deployed
 * with `cdktf deploy` from the operator namespace. Every client holds one IPv4 and one IPv6
 * session, both to the reflector, and the reflector one of each to every client; every node's
 * kernel holds the other nodes' IPv4 and IPv6 blocks as `proto bird` routes (the clients' blocks
 * reach each other only by reflection); `calico-net status` (table and JSON) shows both families
 * Established, and `calico-net verify --format json` pings every workload pair in both families.
 */
import { describeCommand, E2eCluster } from './cluster';

const LAB = 135;
const RR = 'node1';
let cluster: E2eCluster;

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: LAB, nodes: 3, asMode: 'ibgp', routeReflectors: 1, ipv6: true });
  const deploy = await cluster.deploy();
  if (deploy.code !== 0) throw new Error(describeCommand(deploy));
});

afterAll(async () => {
  await cluster?.down();
});

const ipv6Of = (node: string) => {
  const address = cluster.lab.nodes.find((n) => n.name === node)!.ipv6Address;
  if (!address) throw new Error(`lab node ${node} has no IPv6 address: lab up --ipv6 did not give it one`);
  return address;
};
const podCidrV6 = (node: string) => cluster.lab.nodes.find((n) => n.name === node)!.podCidrV6!;
/** The peers a node must have Established in a family: the reflector all clients, a client the reflector. */
const peersOf = (node: string, addressOf: (n: string) => string) =>
  (node === RR ? cluster.nodeNames.filter((n) => n !== RR) : [RR]).map(addressOf).sort();

test("every node's IPv4 and IPv6 sessions to the reflector (the reflector's to every client) are Established", async () => {
  expect(cluster.lab.nodes.map((n) => [n.name, n.ipv6Address])).toEqual([
    ['node1', `fd00:198:18:${LAB}::1`],
    ['node2', `fd00:198:18:${LAB}::2`],
    ['node3', `fd00:198:18:${LAB}::3`],
  ]);
  const sessions = await cluster.waitForSessions((n) => (n === RR ? 4 : 2));
  for (const node of cluster.nodeNames) {
    const up = sessions.get(node)!.filter((s) => s.established);
    const of = (family: 'IPv4' | 'IPv6') =>
      up
        .filter((s) => s.family === family)
        .map((s) => s.peerAddress)
        .sort();
    expect({ node, v4: of('IPv4'), v6: of('IPv6') }).toEqual({
      node,
      v4: peersOf(node, (n) => cluster.address(n)),
      v6: peersOf(node, ipv6Of),
    });
    expect(up.every((s) => s.peerType === 'route reflector')).toBe(true);
    // Nothing else: no session in either family is down.
    expect(sessions.get(node)!.filter((s) => !s.established)).toEqual([]);
  }
});

/** A node's `proto bird` routes of one family, polled until `wanted` are all there (or 30 s). */
async function birdRoutes(node: string, flag: '-4' | '-6', wanted: RegExp[]): Promise<string[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await cluster.exec(node, ['ip', flag, 'route', 'show', 'proto', 'bird']);
    if (r.code !== 0) throw new Error(`ip route on ${node}: ${r.stderr}`);
    const routes = r.stdout.split('\n').filter(Boolean);
    if (wanted.every((re) => routes.some((l) => re.test(l))) || Date.now() > deadline) return routes;
    await new Promise((res) => setTimeout(res, 500));
  }
}

const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test("every node's kernel holds the other nodes' IPv4 and IPv6 blocks as proto bird routes, via their address of that family", async () => {
  for (const node of cluster.nodeNames) {
    const others = cluster.nodeNames.filter((n) => n !== node);
    const v4 = others.map((n) => new RegExp(`^${literal(cluster.podCidr(n))} via ${literal(cluster.address(n))} `));
    const v6 = others.map((n) => new RegExp(`^${literal(podCidrV6(n))} via ${literal(ipv6Of(n))} `));
    const routes4 = await birdRoutes(node, '-4', v4);
    const routes6 = await birdRoutes(node, '-6', v6);
    for (const re of v4)
      expect(
        routes4.some((l) => re.test(l)) ? re.source : `${re.source} missing from ${node}: ${routes4.join('; ')}`,
      ).toBe(re.source);
    for (const re of v6)
      expect(
        routes6.some((l) => re.test(l)) ? re.source : `${re.source} missing from ${node}: ${routes6.join('; ')}`,
      ).toBe(re.source);
  }
});

test('calico-net status shows both families Established, in its table and its JSON', async () => {
  const text = await cluster.calicoNet(['status', '--wait', '60']);
  if (text.code !== 0) throw new Error(describeCommand(text));
  expect(text.stdout).toMatch(
    /8\/8 BGP sessions Established on 3 nodes \(IPv4 4\/4, IPv6 4\/4\); all expected sessions up/,
  );
  for (const node of cluster.nodeNames) {
    const part = text.stdout.split(`Node ${node}:\n`)[1].split('\n\n')[0];
    expect(part).toMatch(/IPv4 BGP status[\s\S]*IPv6 BGP status/);
    for (const peer of peersOf(node, ipv6Of))
      expect(part).toMatch(new RegExp(`\\| ${literal(peer)} +\\| route reflector \\| up +\\| [^|]+\\| Established`));
  }

  const json = await cluster.calicoNet(['status', '--format', 'json']);
  if (json.code !== 0) throw new Error(describeCommand(json));
  const report = JSON.parse(json.stdout) as {
    healthy: boolean;
    nodes: {
      node: string;
      problems: string[];
      sessions: { family: string; peerAddress: string; established: boolean }[];
    }[];
  };
  expect(report.healthy).toBe(true);
  for (const status of report.nodes) {
    const established = (family: string) =>
      status.sessions
        .filter((s) => s.family === family && s.established)
        .map((s) => s.peerAddress)
        .sort();
    expect({ node: status.node, v4: established('IPv4'), v6: established('IPv6'), problems: status.problems }).toEqual({
      node: status.node,
      v4: peersOf(status.node, (n) => cluster.address(n)),
      v6: peersOf(status.node, ipv6Of),
      problems: [],
    });
  }
});

test('calico-net verify --format json pings every workload pair in both families, across the reflector, and names the family', async () => {
  const r = await cluster.calicoNet(['verify', '--format', 'json']);
  if (r.code !== 0) throw new Error(describeCommand(r));
  const report = JSON.parse(r.stdout);
  expect(report.ok).toBe(true);
  expect(report.families).toEqual([
    { family: 'IPv4', pairs: 6, failed: 0 },
    { family: 'IPv6', pairs: 6, failed: 0 },
  ]);
  expect(report.results.every((p: { ok: boolean }) => p.ok)).toBe(true);
});
