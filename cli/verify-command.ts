/** `calico-net verify [--inventory FILE] [--format table|json]` */
import { formatOption, openClusterHosts } from './cluster-hosts';
import { pingRun, renderPingReport, WorkloadTarget } from './verify';
import { compilePolicyModel } from '../constructs/policy-compile';
import { policyVerify } from './policy-verify';
import { shardStackOfNode } from '../constructs/shards';

export async function verifyCommand(argv: string[]): Promise<number> {
  const format = formatOption(argv);
  const hosts = openClusterHosts(argv, 'verify');
  if (!hosts) return 1;
  try {
    // With network policy, reachability is not "every pair": verify checks the truth table.
    const model = compilePolicyModel(hosts.cluster);
    if (model)
      return await policyVerify(
        model,
        (name) => hosts.hostOf(hosts.cluster.nodes.find((n) => n.name === name)!),
        format,
      );
    const targets: WorkloadTarget[] = hosts.cluster.nodes.flatMap((node) =>
      // IPv4 pairs: an IPv6-only workload has no IPv4 address to ping.
      node.workloads.flatMap((w) =>
        w.ip === undefined ? [] : [{ node: node.name, name: w.name, ip: w.ip, host: hosts.hostOf(node) }],
      ),
    );
    if (targets.length < 2) {
      process.stderr.write('calico-net verify: fewer than two workloads in the inventory, nothing to ping\n');
      return 1;
    }
    const { results, warnings } = await pingRun(targets);
    const ok = results.every((r) => r.ok);
    // A sharded cluster: one run over every shard's workloads, each node named with its stack.
    const shards = Object.fromEntries(
      hosts.cluster.nodes.flatMap((n) => {
        const stack = shardStackOfNode(hosts.cluster, n);
        return stack === undefined ? [] : [[n.name, stack]];
      }),
    );
    const sharded = Object.keys(shards).length > 0;
    for (const w of warnings) process.stderr.write(`calico-net verify: warning: ${w}\n`);
    process.stdout.write(
      format === 'json'
        ? JSON.stringify({ ok, results, warnings, ...(sharded ? { shards } : {}) }, null, 2) + '\n'
        : renderPingReport(targets, results) + (sharded ? `\nshards: ${shardLines(shards)}` : '') + '\n',
    );
    return ok ? 0 : 1;
  } finally {
    await hosts.close();
  }
}

/** "lab-r1: node1, node2; lab-r2: node3": which stack each node's resources live in. */
function shardLines(shards: Record<string, string>): string {
  const byStack = new Map<string, string[]>();
  for (const [node, stack] of Object.entries(shards)) byStack.set(stack, [...(byStack.get(stack) ?? []), node]);
  return [...byStack.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([stack, nodes]) => `${stack}: ${nodes.join(', ')}`)
    .join('; ');
}
