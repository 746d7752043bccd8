/** `calico-net verify [--inventory FILE] [--format table|json]` */
import { formatOption, openClusterHosts } from './cluster-hosts';
import { pingRun, renderPingReport, WorkloadTarget } from './verify';
import { compilePolicyModel } from '../constructs/policy-compile';
import { policyVerify } from './policy-verify';

export async function verifyCommand(argv: string[]): Promise<number> {
  const format = formatOption(argv);
  const hosts = openClusterHosts(argv, 'verify');
  if (!hosts) return 1;
  try {
    // With network policy, reachability is not "every pair": verify checks the truth table.
    const model = compilePolicyModel(hosts.cluster);
    if (model) return await policyVerify(model, (name) => hosts.hostOf(hosts.cluster.nodes.find((n) => n.name === name)!), format);
    const targets: WorkloadTarget[] = hosts.cluster.nodes.flatMap((node) =>
      node.workloads.map((w) => ({ node: node.name, name: w.name, ip: w.ip, host: hosts.hostOf(node) })),
    );
    if (targets.length < 2) {
      process.stderr.write('calico-net verify: fewer than two workloads in the inventory, nothing to ping\n');
      return 1;
    }
    const { results, warnings } = await pingRun(targets);
    const ok = results.every((r) => r.ok);
    for (const w of warnings) process.stderr.write(`calico-net verify: warning: ${w}\n`);
    process.stdout.write(
      format === 'json' ? JSON.stringify({ ok, results, warnings }, null, 2) + '\n' : renderPingReport(targets, results) + '\n',
    );
    return ok ? 0 : 1;
  } finally {
    await hosts.close();
  }
}
