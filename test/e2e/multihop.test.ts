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
 *
 * An external peer for node1 only (`nodes: [node1]`), a real BIRD standing on the other segment
 * like a ToR of another rack: its session from node1 is multihop and comes up across the router,
 * no other node peers with it, `calico-net status` expects exactly that, and the block it
 * announces lands in node1's kernel via the router.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { BgpSessionRow } from '../../cli/bird-protocols';
import { operatorExec } from '../../lab';
import { packageRoot } from '../../providers/package-root';
import { describeCommand, E2eCluster, NodeSnapshot } from './cluster';

let cluster: E2eCluster;
const before = new Map<string, NodeSnapshot>();
const cli = path.join(packageRoot(), 'bin', 'calico-net.js');

/** The external peer: its own namespace on the second segment, running BIRD. */
const tor = { netns: 'cn46-tor', address: '198.18.46.200', asNumber: 65200, block: '198.19.250.0/24', pid: 0, dir: '' };

function must(argv: string[]): string {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr || r.error}`);
  return r.stdout;
}

function startTor(): void {
  const node1 = cluster.lab.nodes[0];
  tor.dir = fs.mkdtempSync(path.join(cluster.root, 'tor-'));
  spawnSync('ip', ['netns', 'del', tor.netns]);
  must(['ip', 'netns', 'add', tor.netns]);
  must(['ip', '-n', tor.netns, 'link', 'set', 'lo', 'up']);
  must([
    'ip',
    '-n',
    cluster.lab.switchNetns,
    'link',
    'add',
    'ptor',
    'type',
    'veth',
    'peer',
    'name',
    'eth0',
    'netns',
    tor.netns,
  ]);
  must(['ip', '-n', cluster.lab.switchNetns, 'link', 'set', 'ptor', 'master', 'br1', 'up']);
  must(['ip', '-n', tor.netns, 'addr', 'add', `${tor.address}/25`, 'dev', 'eth0']);
  must(['ip', '-n', tor.netns, 'link', 'set', 'eth0', 'up']);
  must(['ip', '-n', tor.netns, 'route', 'add', 'default', 'via', cluster.lab.router!.addresses[1]]);
  const conf = path.join(tor.dir, 'bird.conf');
  fs.writeFileSync(
    conf,
    `router id ${tor.address};
protocol device { scan time 2; }
protocol static { ipv4; route ${tor.block} blackhole; }
protocol bgp node1 {
  local ${tor.address} as ${tor.asNumber};
  neighbor ${node1.address} as ${node1.asNumber};
  multihop;
  connect delay time 1;
  connect retry time 2;
  error wait time 1, 5;
  ipv4 { import all; export all; };
}
`,
  );
  // In the foreground: `ip netns exec` execs bird, so the child's pid is bird's, to stop it by.
  const child = spawn(
    'ip',
    ['netns', 'exec', tor.netns, 'bird', '-f', '-c', conf, '-s', path.join(tor.dir, 'bird.ctl')],
    { detached: true, stdio: 'ignore' },
  );
  child.unref();
  if (!child.pid) throw new Error('cannot start the ToR bird');
  tor.pid = child.pid;
}

function stopTor(): void {
  if (tor.pid > 0) {
    try {
      process.kill(tor.pid);
    } catch {
      // already gone
    }
  }
  spawnSync('ip', ['netns', 'del', tor.netns]);
}

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: 46, nodes: 4, asMode: 'ebgp', subnets: 2 });
  for (const node of cluster.nodeNames) before.set(node, await cluster.snapshot(node));
  startTor();
  const inventory = parseYaml(fs.readFileSync(cluster.lab.inventoryPath, 'utf8'));
  inventory.peers = [{ address: tor.address, asNumber: tor.asNumber, nodes: ['node1'] }];
  fs.writeFileSync(cluster.lab.inventoryPath, toYaml(inventory));
});

afterAll(async () => {
  stopTor();
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
  expect(cluster.lab.switchNetns).toBe('cn46-sw');
  const deploy = await cluster.deploy();
  if (deploy.code !== 0) throw new Error(describeCommand(deploy));

  for (const node of cluster.nodeNames) {
    const conf = (await cluster.exec(node, ['cat', '/etc/bird/bird.conf'])).stdout;
    for (const other of cluster.nodeNames.filter((n) => n !== node)) {
      const session = new RegExp(
        `^protocol bgp Mesh_${cluster.address(other).replace(/\./g, '_')} from bgp_template \\{ [^\\n]*?( multihop; ipv4 \\{ gateway recursive; \\};)? \\}$`,
        'm',
      );
      const m = session.exec(conf);
      expect(m).not.toBeNull();
      expect({ node, other, multihop: Boolean(m![1]) }).toEqual({
        node,
        other,
        multihop: subnetOf(node) !== subnetOf(other),
      });
    }
  }

  // node1 alone peers with the ToR, across the router: multihop.
  expect((await cluster.exec('node1', ['cat', '/etc/bird/bird.conf'])).stdout).toMatch(
    /^protocol bgp Global_198_18_46_200 from bgp_template \{ neighbor 198\.18\.46\.200 as 65200; multihop; ipv4 \{ gateway recursive; \}; \}$/m,
  );
  for (const node of ['node2', 'node3', 'node4'])
    expect((await cluster.exec(node, ['cat', '/etc/bird/bird.conf'])).stdout).not.toContain('198.18.46.200');

  const sessions = await cluster.waitForSessions((n) => (n === 'node1' ? 4 : 3));
  const rows = (node: string): BgpSessionRow[] => sessions.get(node)!;
  for (const node of cluster.nodeNames) {
    expect({
      node,
      established: rows(node)
        .filter((r) => r.established)
        .map((r) => r.peerAddress)
        .sort(),
    }).toEqual({
      node,
      established: [
        ...cluster.nodeNames.filter((n) => n !== node).map((n) => cluster.address(n)),
        ...(node === 'node1' ? [tor.address] : []),
      ].sort(),
    });
  }
});

test('calico-net status expects the ToR session on node1 only, and finds every expected session up', async () => {
  const r = await operatorExec(cluster.lab, [process.execPath, cli, 'status', '--format', 'json', '--wait', '30'], {
    cwd: cluster.projectDir,
    env: cluster.env,
  });
  expect({ code: r.code, stderr: r.stderr.slice(-1500) }).toMatchObject({ code: 0 });
  const report = JSON.parse(r.stdout);
  expect(report.healthy).toBe(true);
  // Among the BGP sessions (the ToR is also listed once more under node1's external peers).
  const text = JSON.stringify(report.nodes.map((n: { sessions: unknown }) => n.sessions));
  expect(text.match(/Global_198_18_46_200/g)).toHaveLength(1);
  expect(
    report.nodes.filter((n: { peers?: unknown[] }) => n.peers?.length).map((n: { node: string }) => n.node),
  ).toEqual(['node1']);
});

test("the ToR's block lands in node1's kernel via the router (gateway recursive)", async () => {
  const want = new RegExp(`^${dots(tor.block)} via ${dots(router('node1'))} dev eth0 proto bird`);
  const routes = await cluster.waitForRoutes('node1', [want]);
  expect(routes.find((r) => want.test(r)) ?? routes).toEqual(expect.stringMatching(want));
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
    for (const re of wanted)
      expect({ node, route: routes.find((r) => re.test(r)) ?? routes }).toEqual({
        node,
        route: expect.stringMatching(re),
      });
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
