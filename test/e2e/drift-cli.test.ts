/**
 * `calico-net drift` as CI runs it, on a deployed lab: `--out` writes the report to the file and
 * nothing to stdout (Markdown and JSON), and an error — the hosts cannot be refreshed, the
 * inventory is broken, a bad option — exits 1 with the reason on stderr and writes no report.
 */
import * as fs from 'fs';
import * as path from 'path';
import { replaceHostKey } from '../../lab';
import { describeCommand, E2eCluster } from './cluster';

let cluster: E2eCluster;

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: 18, nodes: 2, asMode: 'ibgp' });
  const deploy = await cluster.deploy();
  if (deploy.code !== 0) throw new Error(describeCommand(deploy));
});

afterAll(async () => {
  await cluster?.down();
});

test('--out writes the report to the file, not to stdout, keeping the exit code', async () => {
  const clean = path.join(cluster.root, 'clean.md');
  const none = await cluster.calicoNet(['drift', '--out', clean]);
  expect({ code: none.code, stdout: none.stdout }).toEqual({ code: 0, stdout: '' });
  expect(fs.readFileSync(clean, 'utf8')).toMatch(/^## Drift report: stack `lab18`\n\nNo drift/);

  expect((await cluster.exec('node2', ['sysctl', '-w', 'net.ipv4.ip_forward=0'])).code).toBe(0);
  const md = path.join(cluster.root, 'drift.md');
  const drifted = await cluster.calicoNet(['drift', '--out', md]);
  expect({ code: drifted.code, stdout: drifted.stdout }).toEqual({ code: 2, stdout: '' });
  expect(fs.readFileSync(md, 'utf8')).toMatch(/### Node `node2`[\s\S]*\| `ip_forward` \| `1` \| `0` \|/);

  const json = path.join(cluster.root, 'drift.json');
  const asJson = await cluster.calicoNet(['drift', '--format', 'json', '--skip-synth', '--out', json]);
  expect({ code: asJson.code, stdout: asJson.stdout }).toEqual({ code: 2, stdout: '' });
  const report = JSON.parse(fs.readFileSync(json, 'utf8'));
  expect(report.resources.map((r: { node: string; type: string }) => [r.node, r.type])).toEqual([
    ['node2', 'calico_node'],
  ]);

  const repair = await cluster.deploy();
  if (repair.code !== 0) throw new Error(describeCommand(repair));
});

test('a bad option or a broken inventory exits 1 with the reason, and writes no report', async () => {
  const out = path.join(cluster.root, 'never.md');
  const badFormat = await cluster.calicoNet(['drift', '--format', 'xml', '--out', out]);
  expect(badFormat.code).toBe(1);
  expect(badFormat.stderr).toMatch(/--format must be md or json, not "xml"/);

  const broken = path.join(cluster.root, 'broken.yaml');
  fs.writeFileSync(
    broken,
    fs.readFileSync(cluster.lab.inventoryPath, 'utf8').replace(/podCidr: 198\.19\.1\.0\/24/, 'podCidr: 198.19.1.0/33'),
  );
  const badInventory = await cluster.calicoNet(['drift', '--out', out], { CALICO_INVENTORY: broken });
  expect(badInventory.code).toBe(1);
  expect(badInventory.stderr).toMatch(/^calico-net drift: /m);
  expect(badInventory.stderr).toMatch(/198\.19\.1\.0\/33" is not an IPv4 CIDR/);
  expect(fs.existsSync(out)).toBe(false);
});

test('hosts that refuse the refresh (a changed host key) exit 1 naming the node, not 0 or 2', async () => {
  await replaceHostKey(cluster.lab, 'node1');
  const out = path.join(cluster.root, 'refused.md');
  const r = await cluster.calicoNet(['drift', '--out', out]);
  expect(r.code).toBe(1);
  const err = r.stderr.replace(/[ \t]*\r?\n[│╷╵ \t]*/g, ' ');
  expect(err).toMatch(/calico-net drift: refresh-only plan failed:/);
  expect(err).toMatch(/Refused to work on node node1 \(198\.18\.\d+\.1\)/);
  expect(err).toMatch(/host key for 198\.18\.18\.1 has CHANGED/);
  expect(r.stdout).toBe('');
  expect(fs.existsSync(out)).toBe(false);
});
