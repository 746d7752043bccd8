/**
 * The inventory's `provider:` section: the calico provider's settings (connectTimeout,
 * connectRetries) for the cluster's stack, or every shard stack, in the one provider block of
 * each; checked with the rest of the file, every problem by path.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import { parseInventory } from '../../stacks/inventory';
import { buildClusterStacks } from '../../stacks/shards';
import { ClusterValidationError } from '../../constructs/validation';

const inventory = (extra: string, cluster = 'cluster: { name: lab, podCidr: 198.19.0.0/16 }') => `
${cluster}
${extra}
nodes:
  - { name: node1, address: 198.18.0.1, podCidr: 198.19.1.0/24, rack: r1 }
  - { name: node2, address: 198.18.0.2, podCidr: 198.19.2.0/24, rack: r2 }
`;

function providerBlocks(text: string): Record<string, unknown[]> {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-inv-provider-'));
  try {
    const app = new App({ outdir });
    buildClusterStacks(app, parseInventory(text, '/inv/cluster.yaml'));
    app.synth();
    const dir = path.join(outdir, 'stacks');
    return Object.fromEntries(
      fs
        .readdirSync(dir)
        .sort()
        .map((s) => [s, JSON.parse(fs.readFileSync(path.join(dir, s, 'cdk.tf.json'), 'utf8')).provider.calico]),
    );
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

function problemsOf(text: string): string[] {
  try {
    parseInventory(text, '/inv/cluster.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ClusterValidationError);
    return (err as ClusterValidationError).problems;
  }
  throw new Error('parseInventory accepted the inventory');
}

test('provider settings reach the one provider block of the stack', () => {
  expect(providerBlocks(inventory('provider: { connectTimeout: 40, connectRetries: 0 }'))).toEqual({
    lab: [{ connect_timeout: 40, connect_retries: 0 }],
  });
  // Without the section the block is empty, as before.
  expect(providerBlocks(inventory(''))).toEqual({ lab: [{}] });
  expect(parseInventory(inventory(''), '/inv/cluster.yaml').provider).toBeUndefined();
});

test('every shard stack gets them', () => {
  const blocks = providerBlocks(
    inventory('provider: { connectTimeout: 25 }', 'cluster: { name: lab, podCidr: 198.19.0.0/16, sharding: byRack }'),
  );
  expect(Object.keys(blocks)).toEqual(['lab-r1', 'lab-r2']);
  for (const block of Object.values(blocks)) expect(block).toEqual([{ connect_timeout: 25 }]);
});

test('a wrong key, type or value in provider is a problem with its path', () => {
  expect(problemsOf(inventory('provider: { connectTimeOut: 5 }'))).toEqual([
    expect.stringMatching(/^provider: unknown key "connectTimeOut".*connectTimeout/),
  ]);
  expect(problemsOf(inventory('provider: { connectTimeout: soon }'))).toEqual([
    expect.stringMatching(/^provider\.connectTimeout: /),
  ]);
  expect(problemsOf(inventory('provider: { connectTimeout: 0, connectRetries: -1 }'))).toEqual([
    'provider.connectTimeout: must be a number of seconds above 0 and at most 3600, not 0',
    'provider.connectRetries: must be a whole number from 0 to 100, not -1',
  ]);
});
