/**
 * eBGP across subnets, end to end: 4 nodes, one AS each, on two L2 segments joined by a router
 * that forwards but knows no pod routes and runs no BGP (`subnets: 2`; the inventory carries
 * each node's prefix). Real cdktf + terraform + our provider, real sshd, bird and kernel.
 *
 * Sessions to the other segment are rendered with `multihop` and come up Established across the
 * router; the blocks learned over them land in the kernel via the router (the recursive gateway),
 * those from the same segment via the node itself. Without encapsulation the pod data path across
 * the router still fails (the router drops pod addresses), while pods on one segment reach each
 * other: that is what the overlay modes are for.
 */
import { BgpSessionRow } from '../../cli/bird-protocols';
import { describeCommand, E2eCluster, NodeSnapshot } from './cluster';

let cluster: E2eCluster;
const before = new Map<string, NodeSnapshot>();

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: 46, nodes: 4, asMode: 'ebgp', subnets: 2 });
  for (const node of cluster.nodeNames) before.set(node, await cluster.snapshot(node));
});

afterAll(async () => {
  await cluster?.down();
});

const subnetOf = (node: string) => cluster.lab.nodes.find((n) => n.name === node)!.subnet;
const router = (node: string) => cluster.lab.router!.addresses[subnetOf(node)];
const dots = (s: string) => s.replace(/\./g, '\\.');

test('the lab is what the test needs: two segments, a router, prefixes in the inventory', () => {
  expect(cluster.lab.subnets).toHaveLength(2);
  expect(cluster.nodeNames.map(subnetOf)).toEqual([0, 0, 1, 1]);
  expect(cluster.lab.router?.addresses).toHaveLength(2);
});

test('deploy: every eBGP session, across the router too, is Established; the configs say multihop only across it', async () => {
  const deploy = await cluster.deploy();
  if (deploy.code !== 0) throw new Error(describeCommand(deploy));

  for (const node of cluster.nodeNames) {
    const conf = (await cluster.exec(node, ['cat', '/etc/bird/bird.conf'])).stdout;
    for (const other of cluster.nodeNames.filter((n) => n !== node)) {
      const session = new RegExp(`protocol bgp Mesh_${cluster.address(other).replace(/\./g, '_')} from bgp_template \\{[^}]*?(multihop;)?\\n(?:  ipv4 \\{ gateway recursive; \\};\\n)?\\}`);
      const m = session.exec(conf);
      expect(m).not.toBeNull();
      expect({ node, other, multihop: Boolean(m![1]) }).toEqual({ node, other, multihop: subnetOf(node) !== subnetOf(other) });
    }
  }

  const sessions = await cluster.waitForSessions(() => 3);
  const rows = (node: string): BgpSessionRow[] => sessions.get(node)!;
  for (const node of cluster.nodeNames) {
    expect({ node, established: rows(node).filter((r) => r.established).map((r) => r.peerAddress).sort() }).toEqual({
      node,
      established: cluster.nodeNames.filter((n) => n !== node).map((n) => cluster.address(n)).sort(),
    });
  }
});

test('learned blocks land in the kernel via the neighbor on the segment, via the router across it', async () => {
  for (const node of cluster.nodeNames) {
    const wanted = cluster.nodeNames
      .filter((n) => n !== node)
      .map((other) => {
        const gateway = subnetOf(other) === subnetOf(node) ? cluster.address(other) : router(node);
        return new RegExp(`^${dots(cluster.podCidr(other))} via ${dots(gateway)} dev eth0 proto bird`);
      });
    const routes = await cluster.waitForRoutes(node, wanted);
    for (const re of wanted) expect({ node, route: routes.find((r) => re.test(r)) ?? routes }).toEqual({ node, route: expect.stringMatching(re) });
  }
});

test('without encapsulation pods reach pods on their own segment only: the router has no pod routes', async () => {
  const pings = await cluster.pingAll();
  expect(pings).toHaveLength(12);
  // Pairs are labelled node/workload.
  const nodeOf = (label: string) => label.split('/')[0];
  for (const p of pings) {
    const same = subnetOf(nodeOf(p.from)) === subnetOf(nodeOf(p.to));
    expect({ ...p, same }).toEqual({ ...p, same, ok: same });
  }
});

test('destroy leaves every node as it was before', async () => {
  const destroy = await cluster.destroy();
  if (destroy.code !== 0) throw new Error(describeCommand(destroy));
  for (const node of cluster.nodeNames) expect(await cluster.snapshot(node)).toEqual(before.get(node));
});
