/**
 * One calico provider per stack, shared by every cluster in it. Terraform rejects two unaliased
 * configurations of one provider ("Duplicate provider configuration"), so two clusters in one
 * stack used to synthesize a stack Terraform could not load.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, TerraformStack } from 'cdktf';
import { CalicoCluster, CalicoNode, CalicoProvider } from '../../constructs';

function synthStack(build: (stack: TerraformStack) => void): any {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-one-provider-'));
  try {
    const app = new App({ outdir });
    build(new TerraformStack(app, 'two'));
    app.synth();
    return JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', 'two', 'cdk.tf.json'), 'utf8'));
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

function twoClusters(
  stack: TerraformStack,
  options: { postDeployVerify?: boolean } = {},
): [CalicoCluster, CalicoCluster] {
  const verify = options.postDeployVerify ? { postDeployVerify: { command: 'true' } } : {};
  const a = new CalicoCluster(stack, 'a', { name: 'a', podCidr: '198.19.0.0/17', ...verify });
  new CalicoNode(a, 'a1', { name: 'a1', address: '198.18.120.1', podCidr: '198.19.1.0/24' });
  const b = new CalicoCluster(stack, 'b', { name: 'b', podCidr: '198.19.128.0/17', ...verify });
  new CalicoNode(b, 'b1', { name: 'b1', address: '198.18.120.2', podCidr: '198.19.129.0/24' });
  return [a, b];
}

test('two clusters in one stack share one calico provider block', () => {
  let clusters: CalicoCluster[] = [];
  const json = synthStack((stack) => {
    clusters = twoClusters(stack);
  });
  // One configuration of the provider, unaliased: what Terraform accepts.
  expect(json.provider.calico).toHaveLength(1);
  expect(json.provider.calico[0].alias).toBeUndefined();
  expect(clusters[0].provider).toBe(clusters[1].provider);
  // Both clusters' resources are there, none of them pointing at an alias.
  const nodes = Object.values<any>(json.resource.calico_node);
  expect(nodes.map((n) => n.name).sort()).toEqual(['a1', 'b1']);
  for (const n of nodes) expect(n.provider).toBeUndefined();
});

test('the hashicorp/null provider of postDeployVerify is shared too', () => {
  const json = synthStack((stack) => twoClusters(stack, { postDeployVerify: true }));
  expect(json.provider.null).toHaveLength(1);
  expect(json.provider.calico).toHaveLength(1);
  expect(Object.keys(json.resource.null_resource)).toHaveLength(2);
});

test('connectTimeout and connectRetries set on the stack provider reach its block, for every cluster', () => {
  let provider: CalicoProvider | undefined;
  let clusters: CalicoCluster[] = [];
  const json = synthStack((stack) => {
    provider = new CalicoProvider(stack, 'calico', { connectTimeout: 40, connectRetries: 5 });
    clusters = twoClusters(stack);
  });
  expect(json.provider.calico).toEqual([{ connect_timeout: 40, connect_retries: 5 }]);
  expect(clusters[0].provider).toBe(provider);
  expect(clusters[1].provider).toBe(provider);
});

test('CalicoProvider.of finds the stack provider from anywhere inside the stack, or makes it once', () => {
  synthStack((stack) => {
    const [a] = twoClusters(stack);
    const node = a.node.findChild('a1');
    expect(CalicoProvider.of(node)).toBe(a.provider);
    expect(CalicoProvider.of(stack)).toBe(a.provider);
  });
});

test('a second unaliased calico provider in a stack is refused, naming the first', () => {
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'calico-one-provider-')) });
  const stack = new TerraformStack(app, 'two');
  twoClusters(stack);
  expect(() => new CalicoProvider(stack, 'late', { connectTimeout: 5 })).toThrow(
    /stack "two" already has the calico provider \(two\/calico-provider\).*before the first CalicoCluster.*alias/,
  );
});

test('an aliased provider is a second configuration Terraform accepts, and clusters keep the default one', () => {
  const json = synthStack((stack) => {
    new CalicoProvider(stack, 'slow', { alias: 'slow', connectTimeout: 120 });
    twoClusters(stack);
  });
  expect(json.provider.calico).toHaveLength(2);
  expect(json.provider.calico).toContainEqual({ alias: 'slow', connect_timeout: 120 });
  expect(json.provider.calico).toContainEqual({});
});

test('connectTimeout and connectRetries out of range are refused at construction, by field', () => {
  const stack = new TerraformStack(
    new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'calico-one-provider-')) }),
    'st',
  );
  expect(() => new CalicoProvider(stack, 'p1', { connectTimeout: 0 })).toThrow(
    'calico provider "p1": connectTimeout must be a number of seconds above 0 and at most 3600, not 0',
  );
  expect(() => new CalicoProvider(stack, 'p2', { connectTimeout: -5, connectRetries: 1.5 })).toThrow(
    'calico provider "p2": connectTimeout must be a number of seconds above 0 and at most 3600, not -5; connectRetries must be a whole number from 0 to 100, not 1.5',
  );
  expect(() => new CalicoProvider(stack, 'p3', { connectTimeout: NaN })).toThrow(/connectTimeout .* not NaN/);
  expect(() => new CalicoProvider(stack, 'p4', { connectRetries: -1 })).toThrow(
    /connectRetries must be a whole number from 0 to 100, not -1/,
  );
  // The edges are accepted; nothing was added by the refused ones.
  expect(() => new CalicoProvider(stack, 'ok', { connectTimeout: 3600, connectRetries: 0 })).not.toThrow();
  expect(
    () => new CalicoProvider(stack, 'ok2', { alias: 'b', connectTimeout: 0.5, connectRetries: 100 }),
  ).not.toThrow();
  expect(stack.node.children.map((c) => c.node.id)).toEqual(['ok', 'ok2']);
});
