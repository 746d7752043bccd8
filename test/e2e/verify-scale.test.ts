/**
 * `calico-net verify` at a size the old one-argument ping script could not run: 4 nodes × 40
 * workloads is 160 workloads and 6,360 pairs per node (the old script for one node was ~760 kB,
 * far past Linux's 128 kB limit for one argument). Run from the operator namespace with the
 * inventory given by --inventory only, as for status and drift.
 *
 * At 32×4 a healthy lab used to fail thousands of pairs: every namespace of the machine shares
 * one kernel ARP table (1,024 dynamic entries), and N nodes talking to each other need N*(N-1)
 * entries. The lab now raises that shared table (lab/lab.ts NEIGHBOUR_TABLE) and nodes resolve
 * each other by ARP as hosts do; these tests check that verify reports no overflow and the node
 * entries are ordinary ARP ones, so that failure cannot come back unnoticed at a size CI affords.
 */
import { pingMatrix } from '../../cli/verify';
import { CommandResult, describeCommand, E2eCluster, hostInterfaceOf } from './cluster';

const NODES = 4;
const PER_NODE = 40;
let cluster: E2eCluster;

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: 23, nodes: NODES, asMode: 'ibgp', workloadsPerNode: PER_NODE });
  const deploy = await cluster.deploy();
  if (deploy.code !== 0) throw new Error(describeCommand(deploy));
});

afterAll(async () => {
  await cluster?.down();
});

/** With `--inventory` on every command, and a CALICO_INVENTORY that points nowhere (what this suite proves). */
function calicoNet(args: string[]): Promise<CommandResult> {
  return cluster.calicoNet([...args, '--inventory', cluster.lab.inventoryPath], {
    CALICO_INVENTORY: '/nonexistent/cluster.yaml',
  });
}

test('--inventory alone is enough for status, drift and verify', async () => {
  const status = await calicoNet(['status', '--wait', '60']);
  if (status.code !== 0) throw new Error(describeCommand(status));
  expect(status.stdout).toMatch(/12\/12 BGP sessions Established on 4 nodes/);
  const drift = await calicoNet(['drift']);
  if (drift.code !== 0) throw new Error(describeCommand(drift));
  expect(drift.stdout).toMatch(/No drift/);
});

test('every pair answers; the report is a summary, not a 160-column matrix', async () => {
  const total = NODES * PER_NODE * (NODES * PER_NODE - 1);
  const r = await calicoNet(['verify']);
  if (r.code !== 0) throw new Error(describeCommand(r));
  expect(r.stdout.trim()).toBe(
    `${NODES * PER_NODE} workloads on ${NODES} nodes: ${total}/${total} workload pairs answered`,
  );
  // No "ARP table was full" warning: the table had room.
  expect(r.stderr).not.toMatch(/neighbour|ARP/);
  // Node-to-node neighbours are ordinary ARP entries (nothing pinned), one per other lab member
  // that carried traffic.
  const subnet = cluster.lab.nodes[0].address.replace(/\.\d+$/, '.');
  for (const node of cluster.lab.nodes) {
    const neigh = await cluster.exec(node.name, ['ip', 'neigh', 'show', 'dev', 'eth0']);
    const lab = neigh.stdout.split('\n').filter((l) => l.startsWith(subnet));
    expect(lab.length).toBeGreaterThanOrEqual(NODES - 1);
    for (const l of lab) expect(l).not.toMatch(/PERMANENT/);
  }
});

test('hosts without perl: the one-ping-per-pair fallback gives the same verdicts', async () => {
  // Two workloads per node keep this to 56 pings.
  const some = [0, 1].flatMap((k) =>
    cluster.lab.nodes.map((n) => cluster.workloads().filter((w) => w.node === n.name)[k]),
  );
  const targets = some.map((w) => ({ ...w, host: cluster.hostOf(w.node) }));
  const viaPing = await pingMatrix(targets, { pinger: 'ping' });
  expect(viaPing).toHaveLength(some.length * (some.length - 1));
  expect(viaPing.filter((r) => !r.ok)).toEqual([]);
  expect(viaPing).toEqual(await pingMatrix(targets));
});

test('a workload whose host route is gone: exactly its pairs fail, and the summary points at it', async () => {
  const all = cluster.workloads();
  const victim = all.find((w) => w.node === 'node3')!;
  const veth = await hostInterfaceOf(cluster, victim.name);
  expect((await cluster.exec('node3', ['ip', 'route', 'del', `${victim.ip}/32`, 'dev', veth])).code).toBe(0);

  const json = await calicoNet(['verify', '--format', 'json']);
  if (json.code !== 1 || !json.stdout) throw new Error(describeCommand(json));
  const failed = JSON.parse(json.stdout)
    .results.filter((x: { ok: boolean }) => !x.ok)
    .map((x: { from: string; to: string }) => `${x.from}->${x.to}`)
    .sort();
  const name = `node3/${victim.name}`;
  const others = all.filter((w) => w !== victim).map((w) => `${w.node}/${w.name}`);
  expect(failed).toEqual([...others.map((o) => `${o}->${name}`), ...others.map((o) => `${name}->${o}`)].sort());

  const text = await calicoNet(['verify']);
  expect(text.code).toBe(1);
  expect(text.stdout).toMatch(new RegExp(`${failed.length} failed`));
  expect(text.stdout).toMatch(new RegExp(`\\| ${name} +\\| ${others.length} +\\| ${others.length} +\\|`));
  expect(text.stdout).toMatch(new RegExp(`… and ${failed.length - 200} more`));

  // The fallback sees the same: the victim's pairs fail, the rest answer.
  const some = [victim, ...cluster.lab.nodes.map((n) => all.find((w) => w.node === n.name && w !== victim)!)];
  const viaPing = await pingMatrix(
    some.map((w) => ({ ...w, host: cluster.hostOf(w.node) })),
    { pinger: 'ping' },
  );
  expect(
    viaPing
      .filter((x) => !x.ok)
      .map((x) => `${x.from}->${x.to}`)
      .sort(),
  ).toEqual(
    viaPing
      .filter((x) => x.from === name || x.to === name)
      .map((x) => `${x.from}->${x.to}`)
      .sort(),
  );
  expect(viaPing.filter((x) => x.from === name || x.to === name)).toHaveLength(2 * NODES);
});
