/**
 * `scope: Construct`, as CDK's own constructs take it: each construct finds the parent it needs
 * (a stack, a cluster, a node) at or above its scope, so your own grouping constructs may sit in
 * between; anywhere else, construction fails naming the construct, its id and the scope.
 */
import { App, Testing, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { BgpPeer, CalicoCluster, CalicoNode, NetworkPolicy, Workload } from '../../constructs';

function newStack(): TerraformStack {
  return new TerraformStack(Testing.app(), 'st');
}

test('grouping constructs between stack, cluster, node and workload are fine', () => {
  const stack = newStack();
  const cluster = new CalicoCluster(new Construct(stack, 'site'), 'net', { name: 'net', podCidr: '198.19.0.0/16' });
  const rack = new Construct(cluster, 'rack-a');
  const node = new CalicoNode(rack, 'n1', { name: 'n1', address: '198.18.120.1', podCidr: '198.19.1.0/24' });
  new Workload(new Construct(node, 'apps'), 'web', { name: 'web', ip: '198.19.1.2' });
  new BgpPeer(rack, 'tor', { address: '198.18.120.254', asNumber: 65100 });
  new NetworkPolicy(rack, 'deny', { name: 'deny', selector: 'all()', types: ['Ingress'] });
  expect(node.cluster).toBe(cluster);
  const json = JSON.parse(Testing.synth(stack));
  expect(Object.values<any>(json.resource.calico_workload).map((w) => [w.node_name, w.name])).toEqual([['n1', 'web']]);
  expect(Object.values<any>(json.resource.calico_node)[0].workloads).toEqual(['web']);
  expect(Object.values<any>(json.resource.calico_bird_config)[0].content).toContain('198.18.120.254');
  expect(Object.keys(json.resource.calico_policy_ruleset)).toHaveLength(1);
  expect(cluster.spec().peers.map((p) => p.address)).toEqual(['198.18.120.254']);
});

test('a CalicoCluster outside any TerraformStack is refused', () => {
  const app = new App({ outdir: Testing.app().outdir });
  expect(() => new CalicoCluster(app, 'net', { name: 'net', podCidr: '198.19.0.0/16' })).toThrow(
    'CalicoCluster "net" must be created inside a TerraformStack (or a construct within one), not in the app itself',
  );
  expect(
    () => new CalicoCluster(new Construct(app, 'loose'), 'net', { name: 'net', podCidr: '198.19.0.0/16' }),
  ).toThrow('CalicoCluster "net" must be created inside a TerraformStack (or a construct within one), not in "loose"');
});

test('nodes, peers and policies outside a cluster, and workloads outside a node, are refused by name', () => {
  const stack = newStack();
  const cluster = new CalicoCluster(stack, 'net', { name: 'net', podCidr: '198.19.0.0/16' });
  expect(() => new CalicoNode(stack, 'n1', { name: 'n1', address: '198.18.120.1', podCidr: '198.19.1.0/24' })).toThrow(
    'CalicoNode "n1" must be created inside a CalicoCluster (or a construct within one), not in "st"',
  );
  expect(() => new Workload(cluster, 'web', { name: 'web', ip: '198.19.1.2' })).toThrow(
    'Workload "web" must be created inside a CalicoNode (or a construct within one), not in "st/net"',
  );
  expect(() => new BgpPeer(stack, 'tor', { address: '198.18.120.254', asNumber: 65100 })).toThrow(
    'BgpPeer "tor" must be created inside a CalicoCluster (or a construct within one), not in "st"',
  );
  expect(() => new NetworkPolicy(stack, 'p', { name: 'p' })).toThrow(
    'NetworkPolicy "p" must be created inside a CalicoCluster (or a construct within one), not in "st"',
  );
  // Nothing was half-added: the cluster is still empty.
  expect(cluster.spec()).toMatchObject({ nodes: [], peers: [] });
  expect(cluster.spec().policies).toBeUndefined();
});
