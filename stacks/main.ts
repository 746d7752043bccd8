/**
 * The default app: one stack (or, with `sharding`, one per shard) from the inventory named by CALICO_INVENTORY (default
 * ./cluster.yaml). A bad inventory exits 1 with its problems and synthesizes nothing.
 */
import * as path from 'path';
import { cdk } from '../constructs/cdk';
import { ClusterValidationError } from '../constructs/validation';
import { loadInventory } from './inventory';
import { buildClusterStacks } from './shards';
import { guardShardMoves, ShardGuardError } from './shard-guard';
import { recoverKilledLocalStates, StateRecoveryError } from './state-recovery';

async function main(): Promise<number> {
  const file = path.resolve(process.env.CALICO_INVENTORY ?? 'cluster.yaml');
  try {
    const cluster = loadInventory(file);
    const app = new cdk.App();
    buildClusterStacks(app, cluster);
    app.synth();
    // Before terraform reads them: a state file a killed run left empty is not "nothing deployed".
    // On stdout: cdktf shows an app's stdout, and its stderr only when the app fails.
    recoverKilledLocalStates(app.outdir, (message) => process.stdout.write(`calico-net: ${message}\n`));
    // A node whose rack changed must have its state entries moved before any stack runs.
    await guardShardMoves(cluster, app.outdir, process.cwd());
    return 0;
  } catch (err) {
    if (err instanceof StateRecoveryError || err instanceof ShardGuardError) {
      process.stderr.write(`calico-net: ${err.message}\n`);
      return 1;
    }
    if (err instanceof ClusterValidationError) {
      process.stderr.write(`invalid inventory ${file}:\n  ${err.problems.join('\n  ')}\n`);
      return 1;
    }
    throw err;
  }
}

void main().then((code) => (process.exitCode = code));
