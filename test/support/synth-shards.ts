/**
 * A sharded cluster synthesized in process, for the shard guard's suites: each stack's declared
 * resource addresses, as the guard reads them from the stacks' cdk.tf.json.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App } from 'cdktf';
import { ClusterSpec } from '../../constructs/model';
import { buildClusterStacks } from '../../stacks/shards';

/** Synthesizes the cluster into outdir (emptied first); returns each stack's declared addresses. */
export function synthesizeShards(cluster: ClusterSpec, outdir: string): Map<string, string[]> {
  fs.rmSync(outdir, { recursive: true, force: true });
  const app = new App({ outdir });
  buildClusterStacks(app, cluster);
  app.synth();
  const out = new Map<string, string[]>();
  for (const stack of fs.readdirSync(path.join(outdir, 'stacks'))) {
    const json = JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', stack, 'cdk.tf.json'), 'utf8'));
    out.set(
      stack,
      Object.entries<Record<string, unknown>>(json.resource).flatMap(([type, byName]) =>
        Object.keys(byName).map((name) => `${type}.${name}`),
      ),
    );
  }
  return out;
}
