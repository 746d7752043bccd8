/**
 * The operator's reports on a deployed lab: `calico-net drift` (Markdown and JSON), `status`
 * and `verify`, run from the operator namespace exactly as a CI job would run them.
 */
import { stopBird } from '../../lab';
import { describeCommand, E2eCluster, hostInterfaceOf } from './cluster';

let cluster: E2eCluster;

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: 12, nodes: 3, asMode: 'ibgp' });
  const deploy = await cluster.deploy();
  if (deploy.code !== 0) throw new Error(describeCommand(deploy));
});

afterAll(async () => {
  await cluster?.down();
});

test('drift: none after deploy (exit 0, says so)', async () => {
  const r = await cluster.calicoNet(['drift']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/No drift/);
});

test('drift: one sysctl and one bird.conf edit are named exactly, in Markdown and JSON', async () => {
  expect((await cluster.exec('node1', ['sysctl', '-w', 'net.ipv4.ip_forward=0'])).code).toBe(0);
  expect((await cluster.sh('node2', "printf '# tuned by hand\\n' >> /etc/bird/bird.conf")).code).toBe(0);

  const md = await cluster.calicoNet(['drift', '--format', 'md']);
  expect(md.code).toBe(2);
  expect(md.stdout).toMatch(/2 resource\(s\) drifted on 2 node\(s\):\*\* node1, node2/);
  expect(md.stdout).toMatch(/### Node `node1`[\s\S]*calico_node\.[\s\S]*\| `ip_forward` \| `1` \| `0` \|/);
  expect(md.stdout).toMatch(/### Node `node2`[\s\S]*calico_bird_config\.[\s\S]*```diff[\s\S]*\+# tuned by hand/);

  const js = await cluster.calicoNet(['drift', '--format', 'json', '--skip-synth']);
  expect(js.code).toBe(2);
  const report = JSON.parse(js.stdout);
  expect(report.version).toBe(1);
  expect(report.resources.map((r: any) => [r.node, r.type, r.attributes.map((a: any) => a.path)])).toEqual([
    ['node1', 'calico_node', ['ip_forward']],
    // The edit is newer than BIRD's last reconfiguration: BIRD does not run it either.
    ['node2', 'calico_bird_config', ['content', 'loaded']],
  ]);
  expect(report.resources[1].attributes[0].diff).toContain('+# tuned by hand');

  const repair = await cluster.deploy();
  if (repair.code !== 0) throw new Error(describeCommand(repair));
  expect((await cluster.calicoNet(['drift'])).code).toBe(0);
});

test('status: every session Established after deploy; a stopped bird is named by its peers', async () => {
  const ok = await cluster.calicoNet(['status', '--wait', '60']);
  if (ok.code !== 0) throw new Error(describeCommand(ok));
  expect(ok.stdout).toMatch(/6\/6 BGP sessions Established on 3 nodes; all expected sessions up/);
  const json = JSON.parse((await cluster.calicoNet(['status', '--format', 'json'])).stdout);
  expect(json.healthy).toBe(true);

  const verify = await cluster.calicoNet(['verify']);
  expect(verify.code).toBe(0);
  expect(verify.stdout).toMatch(/6\/6 workload pairs answered/);

  // A broken host route: exactly the pairs involving that workload fail (requests towards it
  // and the replies to its own pings both need the route).
  const [w3] = cluster.workloads().filter((w) => w.node === 'node3');
  const veth = await hostInterfaceOf(cluster, w3.name);
  expect((await cluster.exec('node3', ['ip', 'route', 'del', `${w3.ip}/32`, 'dev', veth])).code).toBe(0);
  const broken = await cluster.calicoNet(['verify', '--format', 'json']);
  expect(broken.code).toBe(1);
  const failed = JSON.parse(broken.stdout)
    .results.filter((r: any) => !r.ok)
    .map((r: any) => `${r.from}->${r.to}`)
    .sort();
  expect(failed).toEqual(
    ['node1/wl1a->node3/wl3a', 'node2/wl2a->node3/wl3a', 'node3/wl3a->node1/wl1a', 'node3/wl3a->node2/wl2a'].sort(),
  );
  expect(JSON.parse(broken.stdout).results.filter((r: any) => r.ok)).toHaveLength(2);

  await stopBird(cluster.lab, 'node3');
  const down = await cluster.calicoNet(['status']);
  expect(down.code).toBe(1);
  expect(down.stdout).toMatch(/Node node3:\s+ERROR: birdc failed/);
  expect(down.stdout).toMatch(/PROBLEM: 198\.18\.12\.3 \(Mesh_198_18_12_3\): (start|down)/);
  expect(down.stdout).toMatch(/problems on: node1, node2, node3/);
});
