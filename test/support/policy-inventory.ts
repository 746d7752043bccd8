/**
 * The inventory edits and the deploy both policy suites (policy.test.ts, policy-udp-nft.test.ts)
 * make: the suite's workloads (with their labels) on their nodes and its policies (or none), then
 * a deploy that must leave an empty plan behind (a policy change applied in one run).
 */
import * as fs from 'fs';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import type { E2eCluster } from '../e2e/cluster';
import { describeCommand } from '../e2e/cluster';

export interface PolicyWorkload {
  node: string;
  name: string;
  ip: string;
  labels?: Record<string, string>;
}

/** Every node's workloads become the suite's; `policies` replace the inventory's (undefined: none). */
export function writePolicyInventory(
  cluster: E2eCluster,
  workloads: readonly PolicyWorkload[],
  policies: unknown[] | undefined,
): void {
  const inventory = parseYaml(fs.readFileSync(cluster.lab.inventoryPath, 'utf8'));
  for (const n of inventory.nodes) {
    n.workloads = workloads
      .filter((w) => w.node === n.name)
      .map((w) => ({ name: w.name, ip: w.ip, ...(w.labels ? { labels: w.labels } : {}) }));
  }
  if (policies) inventory.policies = policies;
  else delete inventory.policies;
  fs.writeFileSync(cluster.lab.inventoryPath, toYaml(inventory));
}

/** `cdktf deploy`, then `terraform plan -detailed-exitcode` must exit 0; throws with the output otherwise. */
export async function deployToEmptyPlan(cluster: E2eCluster): Promise<void> {
  const r = await cluster.deploy();
  if (r.code !== 0) throw new Error(describeCommand(r));
  const plan = await cluster.plan();
  if (plan.code !== 0) throw new Error(`deploy left a plan behind:\n${describeCommand(plan)}`);
}
