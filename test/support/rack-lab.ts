/**
 * What the sharded e2e suites (shard-moves: pg state; shard-guard: local state) do to a lab
 * cluster split by rack: edit its inventory, move a node to another rack, plan one rack's stack,
 * expect every rack's plan empty, and read what would differ had a host been touched.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { operatorExec } from '../../lab';
import { CommandResult, describeCommand, E2eCluster } from '../e2e/cluster';

export function editInventory(cluster: E2eCluster, edit: (inv: any) => void): void {
  const inv = parseYaml(fs.readFileSync(cluster.lab.inventoryPath, 'utf8'));
  edit(inv);
  fs.writeFileSync(cluster.lab.inventoryPath, toYaml(inv));
}

/** The cluster sharded by rack, each node in the rack `racks` names for it. */
export const shardByRack = (cluster: E2eCluster, racks: Record<string, string>) =>
  editInventory(cluster, (inv) => {
    inv.cluster.sharding = 'byRack';
    for (const node of inv.nodes) node.rack = racks[node.name];
  });

export const setRack = (cluster: E2eCluster, node: string, rack: string) =>
  editInventory(cluster, (inv) => (inv.nodes.find((n: any) => n.name === node).rack = rack));

/** `terraform plan -detailed-exitcode` in one rack's synthesized stack (`extra`: e.g. a lock timeout). */
export const planRack = (cluster: E2eCluster, stack: string, extra: string[] = []) =>
  operatorExec(cluster.lab, ['terraform', 'plan', '-detailed-exitcode', '-input=false', '-no-color', ...extra], {
    cwd: path.join(cluster.projectDir, 'cdktf.out', 'stacks', stack),
    env: cluster.env,
  });

/** The command's result, or an error describing it when it failed. */
export async function ok(r: Promise<CommandResult>): Promise<CommandResult> {
  const done = await r;
  if (done.code !== 0) throw new Error(describeCommand(done));
  return done;
}

export async function expectEmptyPlans(cluster: E2eCluster, stacks: string[], extra: string[] = []): Promise<void> {
  const plans = await Promise.all(stacks.map((s) => planRack(cluster, s, extra)));
  expect(
    plans.map((p, i) => ({ stack: stacks[i], code: p.code, out: p.code === 0 ? '' : p.stdout + p.stderr })),
  ).toEqual(stacks.map((stack) => ({ stack, code: 0, out: '' })));
}

/**
 * What would differ had the host been rebuilt rather than left alone: each workload netns's
 * inode (a new namespace has a new one), each cali veth's ifindex, bird.conf's inode and mtime
 * (the provider writes it by rename), and the routes.
 */
export async function hostIdentity(cluster: E2eCluster, node: string): Promise<string> {
  const r = await cluster.sh(
    node,
    [
      'for f in /run/netns/*; do [ -e "$f" ] && stat -L -c "netns %n %i" "$f"; done',
      'ip -o link show | awk -F\': \' \'$2 ~ /^cali/ {print "link " $2 " " $1}\'',
      'stat -c "bird.conf %i %Y" /etc/bird/bird.conf',
      'ip -4 route show | grep -v "proto bird" | sort',
    ].join('\n'),
  );
  if (r.code !== 0) throw new Error(describeCommand(r));
  return r.stdout;
}
