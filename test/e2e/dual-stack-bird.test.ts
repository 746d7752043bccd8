/**
 * A dual-stack inventory's bird.conf on real BIRD 2 (lab id 130): two network namespaces joined by
 * a veth, each with its node's IPv4 and IPv6 address, each running bird with the config rendered
 * for it. Both families' sessions must reach Established and each node's kernel must route the
 * other's IPv4 and IPv6 blocks via the other's address of that family. No terraform, sshd or
 * host programming here (IPv6 on the host is not built yet): this proves the BIRD part only.
 * Needs root, iproute2 and bird2; a missing one fails the suite.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { renderBirdConfig } from '../../constructs/bird-config';
import { parseInventory } from '../../stacks/inventory';

const LAB = 130;
const NS = [`cn${LAB}-n1`, `cn${LAB}-n2`];
const INVENTORY = `
cluster:
  name: ds${LAB}
  podCidr: 198.19.0.0/16
  podCidrV6: fd00:198:19::/48
nodes:
  - name: n1
    address: 198.18.${LAB}.1/24
    podCidr: 198.19.${LAB}.0/26
    ipv6Address: fd00:198:18:${LAB.toString(16)}::1/64
    podCidrV6: fd00:198:19:${LAB.toString(16)}::/64
  - name: n2
    address: 198.18.${LAB}.2/24
    podCidr: 198.19.${LAB}.64/26
    ipv6Address: fd00:198:18:${LAB.toString(16)}::2/64
    podCidrV6: fd00:198:19:${(LAB + 1).toString(16)}::/64
`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), `calico-ds${LAB}-`));
const created: string[] = [];
const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8' });
const birdc = (node: string, ...args: string[]) =>
  execFileSync('birdc', ['-s', path.join(dir, `${node}.ctl`), ...args], { encoding: 'utf8' });

beforeAll(() => {
  for (const tool of ['ip', 'bird', 'birdc']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      throw new Error(`${tool} is missing (apt-get install -y iproute2 bird2)`);
  }
  const existing = ip('netns', 'list');
  for (const ns of NS) {
    if (existing.split('\n').some((l) => l.split(' ')[0] === ns))
      throw new Error(
        `netns ${ns} exists already: another run of lab ${LAB} is going on (or left it); not touching it`,
      );
  }
  const cluster = parseInventory(INVENTORY, path.join(dir, 'cluster.yaml'));
  ip('link', 'add', `cn${LAB}a`, 'type', 'veth', 'peer', 'name', `cn${LAB}b`);
  cluster.nodes.forEach((node, i) => {
    const ns = NS[i];
    ip('netns', 'add', ns);
    created.push(ns);
    ip('link', 'set', `cn${LAB}${'ab'[i]}`, 'netns', ns);
    ip('-n', ns, 'link', 'set', `cn${LAB}${'ab'[i]}`, 'name', 'eth0');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'addr', 'add', `${node.address}/${node.prefixLength}`, 'dev', 'eth0');
    ip('-n', ns, 'addr', 'add', node.ipv6Address!, 'dev', 'eth0', 'nodad');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
    const conf = path.join(dir, `${node.name}.conf`);
    fs.writeFileSync(conf, renderBirdConfig(cluster, node.name));
    execFileSync('ip', [
      'netns',
      'exec',
      ns,
      'bird',
      '-c',
      conf,
      '-s',
      path.join(dir, `${node.name}.ctl`),
      '-P',
      path.join(dir, `${node.name}.pid`),
    ]);
  });
}, 60000);

afterAll(() => {
  for (const node of ['n1', 'n2']) {
    const pidFile = path.join(dir, `${node}.pid`);
    if (fs.existsSync(pidFile)) {
      try {
        process.kill(Number(fs.readFileSync(pidFile, 'utf8').trim()));
      } catch {
        // already gone
      }
    }
  }
  // Only what this run made (deleting a namespace also removes its end of the veth pair).
  for (const ns of created) spawnSync('ip', ['netns', 'del', ns]);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Polls until every named session of the node is Established (BIRD connects within seconds). */
async function established(node: string, protocols: string[]): Promise<string> {
  let out = '';
  for (let i = 0; i < 60; i++) {
    out = birdc(node, 'show', 'protocols');
    if (protocols.every((p) => new RegExp(`^${p}\\s+BGP\\s+\\S+\\s+up\\s+.*Established`, 'm').test(out))) return out;
    await new Promise((r) => setTimeout(r, 500));
  }
  return out;
}

test('the IPv4 and the IPv6 sessions are Established on both nodes', async () => {
  const n1 = await established('n1', ['Mesh_198_18_130_2', 'Mesh_fd00_198_18_82__2']);
  expect(n1).toMatch(/^Mesh_198_18_130_2\s+BGP\s+\S+\s+up\s+.*Established/m);
  expect(n1).toMatch(/^Mesh_fd00_198_18_82__2\s+BGP\s+\S+\s+up\s+.*Established/m);
  const n2 = await established('n2', ['Mesh_198_18_130_1', 'Mesh_fd00_198_18_82__1']);
  expect(n2).toMatch(/^Mesh_fd00_198_18_82__1\s+BGP\s+\S+\s+up\s+.*Established/m);
  // Both families on the node's own protocols too.
  expect(n1).toMatch(/^calico_blocks_v6\s+Static\s+master6\s+up/m);
  expect(n1).toMatch(/^kernel_v6\s+Kernel\s+master6\s+up/m);
});

test("each node's kernel routes the other's IPv4 and IPv6 blocks via the other's address of that family", async () => {
  let v6 = '';
  for (let i = 0; i < 20 && !v6.includes('fd00:198:19:83::/64'); i++) {
    v6 = ip('-n', NS[0], '-6', 'route', 'show', 'proto', 'bird');
    if (!v6.includes('fd00:198:19:83::/64')) await new Promise((r) => setTimeout(r, 500));
  }
  expect(v6.trim().split('\n')).toEqual([
    expect.stringMatching(/^fd00:198:19:83::\/64 via fd00:198:18:82::2 dev eth0 /),
  ]);
  expect(ip('-n', NS[0], '-4', 'route', 'show', 'proto', 'bird').trim()).toMatch(
    /^198\.19\.130\.64\/26 via 198\.18\.130\.2 dev eth0/,
  );
  expect(ip('-n', NS[1], '-6', 'route', 'show', 'proto', 'bird').trim()).toMatch(
    /^fd00:198:19:82::\/64 via fd00:198:18:82::1 dev eth0/,
  );
  // Peers learn the IPv6 block as a whole: BIRD holds the own block only as the static blackhole.
  expect(birdc('n2', 'show', 'route', 'protocol', 'Mesh_fd00_198_18_82__1')).toMatch(/fd00:198:19:82::\/64/);
});
