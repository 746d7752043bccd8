/**
 * The seed's shape, end to end: 3 nodes, one AS each (eBGP full mesh), one workload per node.
 * Real cdktf + terraform + our provider over SSH to real sshd, real bird, real kernel.
 * Deploy → sessions Established, routes in the kernel, every workload pings every other →
 * second deploy is a no-op → each drift case alone is planned (exit 2, resource + attribute)
 * and repaired → destroy leaves every node as before.
 */
import { describeCommand, E2eCluster, hostInterfaceOf, NodeSnapshot } from './cluster';

let cluster: E2eCluster;
const before = new Map<string, NodeSnapshot>();

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: 10, nodes: 3, asMode: 'ebgp' });
  for (const node of cluster.nodeNames) {
    // A known starting value that deploy must change (it sets 1), so destroy restoring it is
    // proven, not passed by a host that happened to forward already.
    expect((await cluster.exec(node, ['sysctl', '-w', 'net.ipv4.ip_forward=0'])).code).toBe(0);
    const snapshot = await cluster.snapshot(node);
    expect(snapshot.ipForward).toBe('0');
    before.set(node, snapshot);
  }
});

afterAll(async () => {
  await cluster?.down();
});

async function expectConverged(): Promise<void> {
  const sessions = await cluster.waitForSessions(() => 2);
  for (const node of cluster.nodeNames) {
    const rows = sessions.get(node)!;
    const others = cluster.nodeNames.filter((n) => n !== node).map((n) => cluster.address(n));
    expect(
      rows
        .filter((r) => r.established)
        .map((r) => r.peerAddress)
        .sort(),
    ).toEqual(others.sort());
    expect(rows.every((r) => r.peerType === 'node-to-node mesh')).toBe(true);
  }
  await cluster.expectRoutesConverged();
  const pings = await cluster.pingAll();
  expect(pings.length).toBe(6);
  expect(pings.filter((p) => !p.ok)).toEqual([]);
}

test('first deploy: every session Established, routes in the kernel, every workload pings every other', async () => {
  const deploy = await cluster.deploy();
  expect(deploy.code).toBe(0);
  await expectConverged();
  for (const node of cluster.nodeNames) expect((await cluster.snapshot(node)).ipForward).toBe('1');
});

test('a second deploy changes nothing and plan -detailed-exitcode exits 0', async () => {
  const again = await cluster.deploy();
  expect(again.code).toBe(0);
  expect(again.stdout + again.stderr).not.toMatch(/(\d+) to add|[1-9]\d* to change|[1-9]\d* to destroy/);
  const plan = await cluster.plan();
  expect({ code: plan.code, out: plan.stdout.slice(-2000) }).toMatchObject({ code: 0 });
});

interface DriftCase {
  name: string;
  inject: () => Promise<void>;
  resourceType: string;
  attribute: RegExp;
}

const driftCases: DriftCase[] = [
  {
    name: 'proxy_arp turned off',
    resourceType: 'calico_workload',
    attribute: /proxy_arp\s+= "0" -> "1"/,
    inject: async () => {
      const [w] = cluster.workloads().filter((x) => x.node === 'node1');
      const veth = await hostInterfaceOf(cluster, w.name);
      const r = await cluster.exec('node1', ['sysctl', '-w', `net.ipv4.conf.${veth}.proxy_arp=0`]);
      expect(r.code).toBe(0);
    },
  },
  {
    name: 'host /32 route deleted',
    resourceType: 'calico_workload',
    attribute: /host_route\s+= false -> true/,
    inject: async () => {
      const [w] = cluster.workloads().filter((x) => x.node === 'node2');
      const r = await cluster.exec('node2', ['ip', 'route', 'del', `${w.ip}/32`]);
      expect(r.code).toBe(0);
    },
  },
  {
    name: 'bird.conf edited by hand',
    resourceType: 'calico_bird_config',
    // The plan's multi-line diff of content shows the hand-added line being removed.
    attribute: /^\s+- # edited by hand 5e1f$/m,
    inject: async () => {
      const r = await cluster.sh('node3', "printf '\\n# edited by hand 5e1f\\n' >> /etc/bird/bird.conf");
      expect(r.code).toBe(0);
    },
  },
  {
    name: 'workload netns deleted',
    resourceType: 'calico_workload',
    attribute: /netns_present\s+= false -> true/,
    inject: async () => {
      const [w] = cluster.workloads().filter((x) => x.node === 'node1');
      const r = await cluster.exec('node1', ['ip', 'netns', 'del', w.name]);
      expect(r.code).toBe(0);
    },
  },
  {
    name: 'ip_forward turned off',
    resourceType: 'calico_node',
    attribute: /ip_forward\s+= "0" -> "1"/,
    inject: async () => {
      const r = await cluster.exec('node2', ['sysctl', '-w', 'net.ipv4.ip_forward=0']);
      expect(r.code).toBe(0);
    },
  },
];

describe.each(driftCases)('drift: $name', ({ inject, resourceType, attribute }) => {
  test('is planned (exit 2, naming resource and attribute), then repaired by the next deploy', async () => {
    await inject();
    const plan = await cluster.plan();
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(new RegExp(`# ${resourceType}\\.\\S+ will be updated in-place`));
    expect(plan.stdout).toMatch(attribute);

    const deploy = await cluster.deploy();
    expect(deploy.code).toBe(0);
    const after = await cluster.plan();
    if (after.code !== 0) throw new Error(`still drifting after deploy:\n${describeCommand(after)}`);
    await expectConverged();
  });
});

test('destroy leaves every node as it was before the first deploy', async () => {
  const destroy = await cluster.destroy();
  if (destroy.code !== 0) throw new Error(describeCommand(destroy));
  for (const node of cluster.nodeNames) {
    expect(await cluster.snapshot(node)).toEqual(before.get(node));
  }
});
