/**
 * Peering with the fabric, end to end, against a real FRR ToR (lab/tor.ts): lab 70, two iBGP
 * nodes (AS 64512) on one segment, FRR 8 in a namespace of its own (AS 65000) peering with both,
 * and a host behind FRR on 198.18.70.224/28 that only the ToR can reach. Real cdktf, terraform,
 * our provider, sshd, bird, zebra, bgpd and bfdd.
 *
 * One lab, several cases in order, each deploying a changed inventory:
 * - both directions, from FRR's side (vtysh json) and the nodes' (kernel routes): the host behind
 *   FRR reaches a pod on each node and back, and `calico-net drift` calls BIRD's routes no drift;
 * - a default route from the ToR stays out of the kernel until acceptDefaultRoute;
 * - a BGPFilter that rejects node2's block towards the ToR is honoured, and a community shows on FRR;
 * - with the node-to-node mesh off, pods still reach each other, through FRR;
 * - graceful restart: FRR keeps node1's block, and traffic flows, while node1's BIRD restarts;
 * - BFD takes the session down within a second of FRR's bfdd dying.
 */
import * as fs from 'fs';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { frrInstalled, startBird, startDaemon, stopDaemon, TorInfo, torDown, vtysh, vtyshJson } from '../../lab';
import { run } from '../../lab/process';
import { torLab } from '../support/tor-lab';
import { describeCommand, E2eCluster } from './cluster';

jest.setTimeout(600_000);

let cluster: E2eCluster;
let tor: TorInfo;
const GLOBAL = 'Global_198_18_70_250';
const dots = (s: string) => s.replace(/\./g, '\\.');

interface Inventory {
  cluster: Record<string, unknown>;
  nodes: { name: string; address: string }[];
  peers: Record<string, unknown>[];
  filters?: unknown[];
}

function inventory(): Inventory {
  return parseYaml(fs.readFileSync(cluster.lab.inventoryPath, 'utf8'));
}

/** Rewrites the inventory and deploys it; the deploy must succeed. */
async function deployWith(change: (inv: Inventory) => void): Promise<void> {
  const inv = inventory();
  change(inv);
  fs.writeFileSync(cluster.lab.inventoryPath, toYaml(inv));
  const r = await cluster.deploy();
  if (r.code !== 0) throw new Error(describeCommand(r));
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** A ping from the host behind FRR (or, with `from`, from a workload on a node). */
async function ping(target: string, from?: { node: string; workload: string }): Promise<boolean> {
  const argv = ['ping', '-c', '1', '-W', '1', target];
  const r = from
    ? await cluster.exec(from.node, ['ip', 'netns', 'exec', from.workload, ...argv])
    : await run('ip', ['netns', 'exec', tor.host.netns, ...argv]);
  return r.code === 0;
}

interface FrrRoutes {
  routes: Record<string, { valid?: boolean; nexthops: { ip: string }[] }[]>;
}

/** FRR's BGP table: prefix → next hops of its valid paths. */
async function frrRoutes(): Promise<Map<string, string[]>> {
  const table = await vtyshJson<FrrRoutes>(tor, 'show bgp ipv4 unicast json');
  return new Map(
    Object.entries(table.routes).map(([prefix, paths]) => [
      prefix,
      paths.filter((p) => p.valid).flatMap((p) => p.nexthops.map((n) => n.ip)),
    ]),
  );
}

async function birdc(node: string, ...args: string[]): Promise<string> {
  const r = await cluster.exec(node, ['birdc', '-s', '/run/bird/bird.ctl', ...args]);
  if (r.code !== 0) throw new Error(`birdc ${args.join(' ')} on ${node}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

async function globalEstablished(node: string): Promise<boolean> {
  return (await cluster.sessions(node)).some((s) => s.protocol === GLOBAL && s.established);
}

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: 70, nodes: 2, asMode: 'ibgp' });
  ({ tor } = await torLab(cluster.lab));
});

afterAll(async () => {
  if (cluster) await torDown(cluster.lab.dir);
  await cluster?.down();
});

test('deploy: both nodes peer with FRR; FRR learns each block from its node, each node programs the ToR network via FRR', async () => {
  const deploy = await cluster.deploy();
  if (deploy.code !== 0) throw new Error(describeCommand(deploy));
  await cluster.waitForSessions(() => 2);
  for (const node of cluster.nodeNames) expect({ node, up: await globalEstablished(node) }).toEqual({ node, up: true });

  const summary = await until('FRR to see both nodes Established', async () => {
    const s = await vtyshJson<{ ipv4Unicast: { peers: Record<string, { state: string; pfxRcd: number }> } }>(
      tor,
      'show bgp summary json',
    );
    const peers = s.ipv4Unicast?.peers ?? {};
    return cluster.nodeNames.every(
      (n) => peers[cluster.address(n)]?.state === 'Established' && peers[cluster.address(n)]?.pfxRcd >= 1,
    )
      ? peers
      : undefined;
  });
  expect(Object.keys(summary).sort()).toEqual(cluster.nodeNames.map((n) => cluster.address(n)).sort());

  const routes = await until('FRR to hold both blocks', async () => {
    const r = await frrRoutes();
    return cluster.nodeNames.every((n) => r.has(cluster.podCidr(n))) ? r : undefined;
  });
  // From its own node (the other node passes it on too, with itself as next hop, as Calico's nodes do).
  for (const node of cluster.nodeNames)
    expect({ node, via: routes.get(cluster.podCidr(node)) }).toEqual({
      node,
      via: expect.arrayContaining([cluster.address(node)]),
    });

  for (const node of cluster.nodeNames) {
    const want = new RegExp(`^${dots(tor.host.network)} via ${dots(tor.address)} dev eth0 proto bird metric 32`);
    const kernel = await cluster.waitForRoutes(node, [want]);
    expect({ node, route: kernel.find((r) => want.test(r)) }).toEqual({ node, route: expect.stringMatching(want) });
  }
});

test('the host behind FRR reaches a pod on each node, and each pod reaches it', async () => {
  for (const w of cluster.workloads()) {
    expect({ to: w.ip, ok: await ping(w.ip) }).toEqual({ to: w.ip, ok: true });
    expect({ from: w.name, ok: await ping(tor.host.address, { node: w.node, workload: w.name }) }).toEqual({
      from: w.name,
      ok: true,
    });
  }
});

test('calico-net drift: the routes BIRD programmed are not drift', async () => {
  const r = await cluster.calicoNet(['drift', '--format', 'json']);
  expect({ code: r.code, stderr: r.stderr.slice(-2000) }).toMatchObject({ code: 0 });
  expect(JSON.parse(r.stdout)).toMatchObject({ unreadable: [] });
});

test("a default route from the ToR stays out of the kernel until the peer's acceptDefaultRoute", async () => {
  await vtysh(
    tor,
    'configure terminal',
    `router bgp ${tor.asNumber}`,
    'address-family ipv4 unicast',
    ...cluster.nodeNames.map((n) => `neighbor ${cluster.address(n)} default-originate`),
  );
  // BIRD has it (so the kernel filter, not its absence, keeps it out) …
  await until('node1 BIRD to learn 0.0.0.0/0 from the ToR', async () =>
    (await birdc('node1', 'show', 'route', '0.0.0.0/0', 'protocol', GLOBAL)).includes(`via ${tor.address}`)
      ? true
      : undefined,
  );
  await new Promise((r) => setTimeout(r, 3000)); // two kernel scans
  const before = (await cluster.exec('node1', ['ip', '-4', 'route', 'show', 'default'])).stdout;
  expect(before).not.toContain('proto bird');
  expect(before).toContain(`default via ${cluster.lab.operator.address} dev eth0`);

  // One deploy for this case and the next (deploys are the slow part): the filter and community too.
  await deployWith((inv) => {
    inv.peers[0].acceptDefaultRoute = true;
    inv.filters = [
      { name: 'hide-node2', exportV4: [{ cidr: cluster.podCidr('node2'), matchOperator: 'Equal', action: 'Reject' }] },
    ];
    inv.peers[0].filters = ['hide-node2'];
    inv.cluster.communities = [{ name: 'rack70', value: '64512:70' }];
    inv.cluster.prefixAdvertisements = [{ cidr: '198.19.0.0/16', communities: ['rack70'] }];
  });
  const after = await until('the default route via the ToR in node1', async () => {
    const out = (await cluster.exec('node1', ['ip', '-4', 'route', 'show', 'default'])).stdout;
    return out.includes(`default via ${tor.address} dev eth0 proto bird metric 32`) ? out : undefined;
  });
  // The host's own default route (metric 0) is still there and still preferred.
  expect(after.split('\n')[0].trim()).toBe(`default via ${cluster.lab.operator.address} dev eth0`);

  await vtysh(
    tor,
    'configure terminal',
    `router bgp ${tor.asNumber}`,
    'address-family ipv4 unicast',
    ...cluster.nodeNames.map((n) => `no neighbor ${cluster.address(n)} default-originate`),
  );
  await until('the default route via the ToR to go', async () =>
    !(await cluster.exec('node1', ['ip', '-4', 'route', 'show', 'default'])).stdout.includes('proto bird')
      ? true
      : undefined,
  );
});

test("a BGPFilter that rejects node2's block towards the ToR is honoured; a community on the blocks shows on FRR (deployed with the previous case)", async () => {
  expect(inventory().peers[0].filters).toEqual(['hide-node2']);
  const routes = await until('FRR to drop node2 block', async () => {
    const r = await frrRoutes();
    return !r.has(cluster.podCidr('node2')) && r.has(cluster.podCidr('node1')) ? r : undefined;
  });
  expect(routes.get(cluster.podCidr('node1'))).toContain(cluster.address('node1'));
  const detail = await until('the community on every path of node1 block', async () => {
    const d = await vtyshJson<{ paths: { community?: { string: string } }[] }>(
      tor,
      `show bgp ipv4 unicast ${cluster.podCidr('node1')} json`,
    );
    return d.paths.length > 0 && d.paths.every((p) => p.community?.string === '64512:70') ? d : undefined;
  });
  expect(detail.paths.map((p) => p.community?.string)).toContain('64512:70');
  // The data path follows: the host behind FRR reaches node1's pod, not node2's.
  expect(await ping('198.19.1.2')).toBe(true);
  expect(await ping('198.19.2.2')).toBe(false);
});

test('node-to-node mesh off: the nodes learn each other’s blocks from FRR, and pods still reach each other', async () => {
  await deployWith((inv) => {
    delete inv.filters;
    delete inv.peers[0].filters;
    inv.cluster.nodeToNodeMeshEnabled = false;
    // Both nodes are AS 64512: a block coming back from FRR carries our own AS in its path.
    inv.peers[0].numAllowedLocalASNumbers = 1;
  });
  for (const node of cluster.nodeNames) {
    const protocols = await birdc(node, 'show', 'protocols');
    expect({ node, mesh: /Mesh_/.test(protocols) }).toEqual({ node, mesh: false });
  }
  for (const [node, other] of [
    ['node1', 'node2'],
    ['node2', 'node1'],
  ]) {
    const route = await until(`${node} to learn ${other}'s block from the ToR`, async () => {
      const out = await birdc(node, 'show', 'route', cluster.podCidr(other), 'all');
      return out.includes(GLOBAL) ? out : undefined;
    });
    expect(route).toContain('BGP.as_path: 65000 64512');
    await cluster.waitForRoutes(node, [new RegExp(`^${dots(cluster.podCidr(other))} via .* proto bird`)]);
  }
  expect(await ping('198.19.2.2', { node: 'node1', workload: 'wl1a' })).toBe(true);
  expect(await ping('198.19.1.2', { node: 'node2', workload: 'wl2a' })).toBe(true);
  expect(await ping('198.19.2.2')).toBe(true);
});

test("graceful restart: while node1's BIRD restarts, FRR keeps its block and traffic still flows", async () => {
  const node1 = cluster.lab.nodes[0];
  process.kill(node1.birdPid, 'SIGKILL');
  await until('FRR to notice the session went down', async () => {
    const s = await vtyshJson<{ ipv4Unicast: { peers: Record<string, { state: string }> } }>(
      tor,
      'show bgp summary json',
    );
    return s.ipv4Unicast.peers[node1.address].state !== 'Established' ? true : undefined;
  });
  const stale = await vtyshJson<{ paths: { stale?: boolean; valid?: boolean }[] }>(
    tor,
    `show bgp ipv4 unicast ${node1.podCidr} json`,
  );
  expect(stale.paths).toEqual([expect.objectContaining({ stale: true, valid: true })]);
  expect(await ping('198.19.1.2')).toBe(true);

  await startBird(cluster.lab, 'node1');
  await until('node1 to peer with FRR again', async () => ((await globalEstablished('node1')) ? true : undefined));
  await until('FRR to refresh node1 block', async () => {
    const r = await vtyshJson<{ paths: { stale?: boolean; valid?: boolean }[] }>(
      tor,
      `show bgp ipv4 unicast ${node1.podCidr} json`,
    );
    return r.paths.length === 1 && !r.paths[0].stale && r.paths[0].valid ? true : undefined;
  });
  // A BIRD started afresh (not `bird -R`) prunes the kernel routes it has not learned yet, the
  // route back to the host among them, until FRR sends it again: wait for it, then ping.
  await cluster.waitForRoutes('node1', [
    new RegExp(`^${dots(tor.host.network)} via ${dots(tor.address)} .*proto bird`),
  ]);
  expect(
    await until(
      'a ping from the host behind FRR to node1 pod',
      async () => ((await ping('198.19.1.2')) ? true : undefined),
      10_000,
    ),
  ).toBe(true);
});

test('BFD: the session goes down within a second of FRR’s bfdd dying', async () => {
  expect(frrInstalled('bfdd')).toBe(true);
  expect(tor.pids.bfdd).toBeGreaterThan(0);
  const frrBfd = () =>
    vtysh(
      tor,
      'configure terminal',
      'bfd',
      'profile calico',
      'transmit-interval 100',
      'receive-interval 100',
      'detect-multiplier 3',
      'exit',
      'exit',
      `router bgp ${tor.asNumber}`,
      ...cluster.nodeNames.map((n) => `neighbor ${cluster.address(n)} bfd profile calico`),
    );
  await frrBfd();
  await deployWith((inv) => {
    inv.peers[0].bfd = { interval: 100, multiplier: 3 };
  });
  await until('BIRD on node1 to see the BFD session Up', async () =>
    (await birdc('node1', 'show', 'bfd', 'sessions')).match(new RegExp(`${dots(tor.address)}\\s+\\S+\\s+Up`))
      ? true
      : undefined,
  );
  expect(await globalEstablished('node1')).toBe(true);

  // calico-net status: the external peer with its prefix counts and BFD state, per node.
  const status = await cluster.calicoNet(['status', '--format', 'json', '--wait', '30']);
  expect({ code: status.code, stderr: status.stderr.slice(-1500) }).toMatchObject({ code: 0 });
  const nodes: {
    node: string;
    peers?: { address: string; state: string; imported?: number; exported?: number; bfd?: string }[];
  }[] = JSON.parse(status.stdout).nodes;
  for (const n of nodes) {
    const peer = n.peers?.find((p) => p.address === tor.address);
    expect({ node: n.node, peer }).toEqual({
      node: n.node,
      peer: expect.objectContaining({ state: 'Established', bfd: 'Up' }),
    });
    // Mesh off: each node imports at least the ToR network and the other node's block, and exports its own block.
    expect({ node: n.node, imported: peer!.imported! >= 2, exported: peer!.exported! >= 1 }).toEqual({
      node: n.node,
      imported: true,
      exported: true,
    });
  }
  const table = await cluster.calicoNet(['status']);
  expect(table.stdout).toMatch(
    /External peers:[\s\S]*\| 198\.18\.70\.250 \| 65000 \| Established \| \d+ +\| \d+ +\| Up +\|/,
  );

  await stopDaemon(tor, 'bfdd', 'SIGKILL');
  const killed = Date.now();
  await until(
    'the session to leave Established',
    async () => (!(await globalEstablished('node1')) ? true : undefined),
    10_000,
  );
  const tookMs = Date.now() - killed;
  console.log(`BFD: ${GLOBAL} on node1 left Established ${tookMs} ms after bfdd was killed (interval 100 ms x 3)`);
  expect(tookMs).toBeLessThan(1000);
  expect(await birdc('node1', 'show', 'protocols', 'all', GLOBAL)).toMatch(/BFD session down/);

  // Back: bfdd restarted with the profile again, the session returns.
  await startDaemon(tor, 'bfdd');
  await frrBfd();
  await until('the session to come back', async () => ((await globalEstablished('node1')) ? true : undefined), 60_000);
});

test("destroy: BIRD's routes from the ToR leave the kernel with the rest; the host's own default route stays", async () => {
  const destroy = await cluster.destroy();
  if (destroy.code !== 0) throw new Error(describeCommand(destroy));
  for (const node of cluster.nodeNames) {
    const routes = await cluster.routes(node);
    expect({ node, bird: routes.filter((r) => /proto bird/.test(r)) }).toEqual({ node, bird: [] });
    expect(routes).toContain(`default via ${cluster.lab.operator.address} dev eth0`);
  }
});
