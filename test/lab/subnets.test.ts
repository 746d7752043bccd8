/**
 * The two-subnet lab: nodes on two L2 segments joined by a router that forwards between them
 * but knows no pod routes; the operator reaches the second segment through the router, or not
 * at all with operatorReach 'first'.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse as parseYaml } from 'yaml';
import { labDown, labUp, nodeExec, operatorExec, LabInfo } from '../../lab';
import { run } from '../../lab/process';
import { assertE2ePrerequisites } from '../e2e/prerequisites';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) {
    await labDown(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

async function twoSubnetLab(id: number, operatorReach: 'all' | 'first'): Promise<LabInfo> {
  await assertE2ePrerequisites();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-subnets-'));
  dirs.push(dir);
  return labUp({ dir, nodes: 3, id, subnets: 2, operatorReach });
}

const ping = (lab: LabInfo, from: string, to: string) => nodeExec(lab, from, ['ping', '-c', '1', '-W', '2', to]);
const operatorPing = (lab: LabInfo, to: string) => operatorExec(lab, ['ping', '-c', '1', '-W', '2', to]);

describe('two subnets, operator reaches both', () => {
  let lab: LabInfo;
  beforeAll(async () => {
    lab = await twoSubnetLab(203, 'all');
  });

  test('nodes are split over 198.18.203.0/25 and .128/25, and the inventory carries the prefixes', () => {
    expect(lab.subnets).toEqual(['198.18.203.0/25', '198.18.203.128/25']);
    expect(lab.nodes.map((n) => [n.name, n.address, n.subnet, n.prefixLength])).toEqual([
      ['node1', '198.18.203.1', 0, 25],
      ['node2', '198.18.203.2', 0, 25],
      ['node3', '198.18.203.129', 1, 25],
    ]);
    const inventory = parseYaml(fs.readFileSync(lab.inventoryPath, 'utf8'));
    expect(inventory.nodes.map((n: { address: string }) => n.address)).toEqual([
      '198.18.203.1/25',
      '198.18.203.2/25',
      '198.18.203.129/25',
    ]);
  });

  test('a node reaches the other segment only through the router', async () => {
    const route = await nodeExec(lab, 'node3', ['ip', '-4', '-o', 'route', 'get', '198.18.203.1']);
    expect(route.stdout).toMatch(/via 198\.18\.203\.254 dev eth0/);
    expect((await ping(lab, 'node3', '198.18.203.1')).code).toBe(0);
    // The same segment is on-link.
    expect((await nodeExec(lab, 'node1', ['ip', '-4', '-o', 'route', 'get', '198.18.203.2'])).stdout).not.toMatch(
      / via /,
    );
  });

  test('the router forwards but knows no pod routes and runs no BGP', async () => {
    const routes = await run('ip', ['-n', lab.router!.netns, '-4', '-o', 'route', 'show']);
    expect(routes.stdout).not.toMatch(/198\.19\./);
    expect(routes.stdout).not.toMatch(/default/);
    const listening = await run('ip', ['netns', 'exec', lab.router!.netns, 'ss', '-Hltn']);
    expect(listening.stdout).not.toMatch(/:179\b/);
  });

  test('the operator reaches both segments', async () => {
    expect((await operatorPing(lab, '198.18.203.2')).code).toBe(0);
    expect((await operatorPing(lab, '198.18.203.129')).code).toBe(0);
  });
});

describe('two subnets, operator reaches only the first', () => {
  let lab: LabInfo;
  beforeAll(async () => {
    lab = await twoSubnetLab(204, 'first');
  });

  test("the second segment is out of the operator's reach, but not out of the first segment's", async () => {
    expect((await operatorPing(lab, '198.18.204.1')).code).toBe(0);
    const blocked = await operatorPing(lab, '198.18.204.129');
    expect(blocked.code).not.toBe(0);
    expect(blocked.stderr + blocked.stdout).toMatch(/Network is unreachable/);
    expect((await ping(lab, 'node1', '198.18.204.129')).code).toBe(0);
  });

  test('lab down removes the router and the switch too', async () => {
    await labDown(lab.dir);
    const left = (await run('ip', ['netns', 'list'])).stdout;
    expect(left).not.toMatch(/cn204-/);
  });
});
