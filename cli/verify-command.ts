/** `calico-net verify [--inventory FILE] [--format table|json]` */
import { ClusterValidationError } from '../constructs/validation';
import { clusterHosts, inventoryPathFrom, optionValue } from './cluster-hosts';
import { pingMatrix, renderPingMatrix, WorkloadTarget } from './verify';

export async function verifyCommand(argv: string[]): Promise<number> {
  const format = optionValue(argv, '--format') ?? 'table';
  if (format !== 'table' && format !== 'json') throw new Error(`--format must be table or json, not "${format}"`);
  let hosts;
  try {
    hosts = clusterHosts(inventoryPathFrom(argv));
  } catch (err) {
    if (err instanceof ClusterValidationError) {
      process.stderr.write(`calico-net verify: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  try {
    const targets: WorkloadTarget[] = hosts.cluster.nodes.flatMap((node) =>
      node.workloads.map((w) => ({ node: node.name, name: w.name, ip: w.ip, host: hosts.hostOf(node) })),
    );
    if (targets.length < 2) {
      process.stderr.write('calico-net verify: fewer than two workloads in the inventory, nothing to ping\n');
      return 1;
    }
    const results = await pingMatrix(targets);
    const ok = results.every((r) => r.ok);
    process.stdout.write(
      format === 'json' ? JSON.stringify({ ok, results }, null, 2) + '\n' : renderPingMatrix(targets, results) + '\n',
    );
    return ok ? 0 : 1;
  } finally {
    await hosts.close();
  }
}
