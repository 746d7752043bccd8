/**
 * The overlay, in process: the per-node plan (constructs/overlay.ts) that both the bird.conf
 * template and the calico_overlay resource are made from, the rendered configs (parse-checked
 * by real `bird -p`, IPIP included: its data path cannot run on this kernel, its config can be
 * checked), the constructs' synthesized resources and workload MTUs, and the cluster rules.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, TerraformStack } from 'cdktf';
import { CalicoCluster, CalicoNode, Workload } from '../../constructs';
import { ClusterSpec, EncapsulationMode, NodeSpec } from '../../constructs/model';
import { clusterProblems } from '../../constructs/validation';
import { renderBirdConfig } from '../../constructs/bird-config';
import {
  defaultWorkloadMtu,
  encapsulatedBlocks,
  encapsulationOf,
  overlayInputsOf,
  overlayPlanOf,
  tunnelAddressOf,
  vtepMacOf,
} from '../../constructs/overlay';
import { birdParse } from '../stacks/synth-helpers';

/** Two nodes on 198.18.1.0/24, one on 198.18.2.0/24. */
function node(k: number, over: Partial<NodeSpec> = {}): NodeSpec {
  return {
    name: `n${k}`,
    address: `198.18.${k < 3 ? 1 : 2}.${k}`,
    prefixLength: 24,
    podCidr: `198.19.${k}.0/24`,
    workloads: [],
    ...over,
  };
}

function cluster(over: Partial<ClusterSpec> = {}): ClusterSpec {
  return { name: 'lab', podCidr: '198.19.0.0/16', nodes: [node(1), node(2), node(3)], peers: [], ...over };
}

describe('the overlay plan', () => {
  it('tunnel address: the first host address of the block; VTEP MAC: 66:cc + its octets', () => {
    expect(tunnelAddressOf('198.19.1.0/24')).toBe('198.19.1.1');
    expect(tunnelAddressOf('198.19.40.64/26')).toBe('198.19.40.65');
    expect(tunnelAddressOf('10.255.255.252/30')).toBe('10.255.255.253');
    expect(vtepMacOf('198.19.1.1')).toBe('66:cc:c6:13:01:01');
    expect(vtepMacOf('10.0.255.17')).toBe('66:cc:0a:00:ff:11');
  });

  it('no plan, and BIRD keeps every block, when both modes are Never or unset', () => {
    for (const modes of [
      {},
      { vxlanMode: 'Never' as const },
      { vxlanMode: 'Never' as const, ipipMode: 'Never' as const },
    ]) {
      expect(encapsulationOf(modes)).toBeUndefined();
      expect(overlayPlanOf(cluster(modes), 'n1')).toBeUndefined();
      expect(encapsulatedBlocks(overlayPlanOf(cluster(modes), 'n1'))).toEqual([]);
      expect(defaultWorkloadMtu(modes)).toBeUndefined();
    }
  });

  it('VXLAN Always: every other node is encapsulated', () => {
    const plan = overlayPlanOf(cluster({ vxlanMode: 'Always' }), 'n1')!;
    expect(plan).toEqual({
      kind: 'vxlan',
      mode: 'Always',
      device: 'vxlan.calico',
      mtu: 1450,
      self: {
        node: 'n1',
        address: '198.18.1.1',
        block: '198.19.1.0/24',
        tunnelAddress: '198.19.1.1',
        tunnelMac: '66:cc:c6:13:01:01',
      },
      remotes: [
        {
          node: 'n2',
          address: '198.18.1.2',
          block: '198.19.2.0/24',
          tunnelAddress: '198.19.2.1',
          tunnelMac: '66:cc:c6:13:02:01',
          encapsulate: true,
        },
        {
          node: 'n3',
          address: '198.18.2.3',
          block: '198.19.3.0/24',
          tunnelAddress: '198.19.3.1',
          tunnelMac: '66:cc:c6:13:03:01',
          encapsulate: true,
        },
      ],
    });
    expect(encapsulatedBlocks(plan)).toEqual(['198.19.2.0/24', '198.19.3.0/24']);
    expect(overlayInputsOf(plan)).toEqual({
      encapsulation: 'vxlan',
      address: '198.18.1.1',
      tunnelAddress: '198.19.1.1',
      tunnelMac: '66:cc:c6:13:01:01',
      mtu: 1450,
      neighbours: { '198.19.2.1': '66:cc:c6:13:02:01', '198.19.3.1': '66:cc:c6:13:03:01' },
      fdb: { '66:cc:c6:13:02:01': '198.18.1.2', '66:cc:c6:13:03:01': '198.18.2.3' },
      routes: { '198.19.2.0/24': '198.19.2.1', '198.19.3.0/24': '198.19.3.1' },
    });
  });

  it('CrossSubnet: only nodes outside the subnet are encapsulated, seen from either side', () => {
    const c = cluster({ vxlanMode: 'CrossSubnet' });
    expect(encapsulatedBlocks(overlayPlanOf(c, 'n1'))).toEqual(['198.19.3.0/24']);
    expect(encapsulatedBlocks(overlayPlanOf(c, 'n2'))).toEqual(['198.19.3.0/24']);
    expect(encapsulatedBlocks(overlayPlanOf(c, 'n3'))).toEqual(['198.19.1.0/24', '198.19.2.0/24']);
    expect(overlayInputsOf(overlayPlanOf(c, 'n1')!)).toMatchObject({
      neighbours: { '198.19.3.1': '66:cc:c6:13:03:01' },
      fdb: { '66:cc:c6:13:03:01': '198.18.2.3' },
      routes: { '198.19.3.0/24': '198.19.3.1' },
    });
    // A /16 on n3 holds n1 and n2, but theirs (/24) do not hold n3: not one subnet.
    const lopsided = cluster({ vxlanMode: 'CrossSubnet', nodes: [node(1), node(2), node(3, { prefixLength: 16 })] });
    expect(encapsulatedBlocks(overlayPlanOf(lopsided, 'n3'))).toEqual(['198.19.1.0/24', '198.19.2.0/24']);
    // Every node on one /16: nothing to encapsulate, but the device is still there.
    const flat = cluster({ vxlanMode: 'CrossSubnet', nodes: [1, 2, 3].map((k) => node(k, { prefixLength: 16 })) });
    expect(overlayPlanOf(flat, 'n1')!.remotes.map((r) => r.encapsulate)).toEqual([false, false]);
    expect(overlayInputsOf(overlayPlanOf(flat, 'n1')!)).toMatchObject({ neighbours: {}, fdb: {}, routes: {} });
  });

  it('IPIP: tunl0, MTU 1480, routes straight to the remote node address, no neighbours or FDB', () => {
    const plan = overlayPlanOf(cluster({ ipipMode: 'CrossSubnet' }), 'n3')!;
    expect(plan).toMatchObject({ kind: 'ipip', device: 'tunl0', mtu: 1480 });
    expect(plan.self.tunnelMac).toBeUndefined();
    expect(overlayInputsOf(plan)).toEqual({
      encapsulation: 'ipip',
      address: '198.18.2.3',
      tunnelAddress: '198.19.3.1',
      mtu: 1480,
      neighbours: {},
      fdb: {},
      routes: { '198.19.1.0/24': '198.18.1.1', '198.19.2.0/24': '198.18.1.2' },
    });
  });

  it('workload MTU default: the underlay minus the overhead (VXLAN 50, IPIP 20)', () => {
    expect(defaultWorkloadMtu({ vxlanMode: 'Always' })).toBe(1450);
    expect(defaultWorkloadMtu({ vxlanMode: 'CrossSubnet', ipipMode: 'Never' })).toBe(1450);
    expect(defaultWorkloadMtu({ ipipMode: 'Always' })).toBe(1480);
  });
});

describe('the cluster rules', () => {
  it("the modes take Calico's three values, and at most one is not Never", () => {
    for (const mode of ['Always', 'CrossSubnet', 'Never'] as EncapsulationMode[]) {
      expect(clusterProblems(cluster({ vxlanMode: mode }))).toEqual([]);
      expect(clusterProblems(cluster({ ipipMode: mode, vxlanMode: 'Never' }))).toEqual([]);
    }
    expect(clusterProblems(cluster({ vxlanMode: 'always' as EncapsulationMode }))).toEqual([
      'cluster.vxlanMode: must be one of Always, CrossSubnet, Never, not "always"',
    ]);
    expect(clusterProblems(cluster({ ipipMode: 'Off' as EncapsulationMode }))).toEqual([
      'cluster.ipipMode: must be one of Always, CrossSubnet, Never, not "Off"',
    ]);
    expect(clusterProblems(cluster({ vxlanMode: 'Always', ipipMode: 'Always' }))).toEqual([
      'cluster.ipipMode: at most one of vxlanMode and ipipMode may be other than Never (vxlanMode is Always, ipipMode Always)',
    ]);
  });

  it('CrossSubnet names every node whose prefix length is unknown; Always does not need them', () => {
    const nodes = [node(1), node(2, { prefixLength: undefined }), node(3, { prefixLength: undefined })];
    expect(clusterProblems(cluster({ ipipMode: 'CrossSubnet', nodes }))).toEqual([
      'nodes[1] "n2".address: ipipMode CrossSubnet needs every node\'s prefix length, to tell which nodes share a subnet (e.g. address: 198.18.1.2/24)',
      'nodes[2] "n3".address: ipipMode CrossSubnet needs every node\'s prefix length, to tell which nodes share a subnet (e.g. address: 198.18.2.3/24)',
    ]);
    expect(clusterProblems(cluster({ vxlanMode: 'Always', nodes }))).toEqual([]);
  });

  it("a workload on its node's tunnel address is refused only when the cluster encapsulates", () => {
    const nodes = [node(1, { workloads: [{ name: 'w', ip: '198.19.1.1' }] }), node(2)];
    expect(clusterProblems(cluster({ nodes }))).toEqual([]);
    expect(clusterProblems(cluster({ nodes, vxlanMode: 'CrossSubnet' }))).toEqual([
      'nodes[0] "n1".workloads[0] "w".ip: 198.19.1.1 is node "n1"\'s tunnel address (vxlanMode CrossSubnet: the first address of its block)',
    ]);
    // Modes that are themselves wrong are the one problem reported.
    expect(clusterProblems(cluster({ nodes, vxlanMode: 'on' as EncapsulationMode }))).toEqual([
      'cluster.vxlanMode: must be one of Always, CrossSubnet, Never, not "on"',
    ]);
    expect(clusterProblems(cluster({ nodes, vxlanMode: 'Always', ipipMode: 'Always' }))).toHaveLength(1);
  });
});

describe('bird.conf', () => {
  it('Never: BIRD programs and learns every block, as before', () => {
    const conf = renderBirdConfig(cluster(), 'n1');
    expect(conf).not.toContain('calico_encapsulated');
    expect(conf).toContain('    import all;\n');
    expect(birdParse(conf)).toEqual({ code: 0, output: '' });
  });

  it('VXLAN Always: the encapsulated blocks are neither exported to nor learned from the kernel', () => {
    const conf = renderBirdConfig(cluster({ vxlanMode: 'Always' }), 'n1');
    expect(conf).toContain('define calico_encapsulated = [ 198.19.2.0/24, 198.19.3.0/24 ];');
    expect(conf).toMatch(
      /filter calico_kernel_programming \{\n {2}if source = RTS_DEVICE then reject;\n {2}if source = RTS_STATIC then reject;\n {2}if net ~ calico_encapsulated then reject;\n {2}if net ~ \[ 198\.19\.0\.0\/16\+ \] then accept;\n {2}if source != RTS_BGP then reject;\n {2}if net = 0\.0\.0\.0\/0 then reject;\n {2}accept;\n\}/,
    );
    expect(conf).toContain('    import where net !~ calico_encapsulated;\n');
    expect(conf).not.toContain('import all;\n    export filter calico_kernel_programming');
    expect(birdParse(conf)).toEqual({ code: 0, output: '' });
  });

  it("CrossSubnet: each node leaves exactly the other subnet's blocks to the tunnel", () => {
    const c = cluster({ vxlanMode: 'CrossSubnet' });
    expect(renderBirdConfig(c, 'n1')).toContain('define calico_encapsulated = [ 198.19.3.0/24 ];');
    expect(renderBirdConfig(c, 'n3')).toContain('define calico_encapsulated = [ 198.19.1.0/24, 198.19.2.0/24 ];');
    for (const n of ['n1', 'n2', 'n3']) expect(birdParse(renderBirdConfig(c, n))).toEqual({ code: 0, output: '' });
  });

  it('IPIP renders and parses the same way (config only: this kernel cannot run IPIP)', () => {
    const c = cluster({ ipipMode: 'CrossSubnet' });
    const conf = renderBirdConfig(c, 'n3');
    expect(conf).toContain('# Blocks reached through tunl0 (ipipMode CrossSubnet):');
    expect(conf).toContain('define calico_encapsulated = [ 198.19.1.0/24, 198.19.2.0/24 ];');
    expect(birdParse(conf)).toEqual({ code: 0, output: '' });
    expect(birdParse(renderBirdConfig(cluster({ ipipMode: 'Always' }), 'n1'))).toEqual({ code: 0, output: '' });
  });

  it('nothing to encapsulate (one subnet, or one node): no empty set, which BIRD would refuse', () => {
    const flat = cluster({ vxlanMode: 'CrossSubnet', nodes: [1, 2].map((k) => node(k)) });
    const alone = cluster({ vxlanMode: 'Always', nodes: [node(1)] });
    for (const conf of [renderBirdConfig(flat, 'n1'), renderBirdConfig(alone, 'n1')]) {
      expect(conf).not.toContain('calico_encapsulated');
      expect(birdParse(conf)).toEqual({ code: 0, output: '' });
    }
  });

  it('300 nodes in Always mode: one set of 299 blocks, still a valid config', () => {
    const nodes = Array.from({ length: 300 }, (_, k) => ({
      name: `n${k}`,
      address: `198.18.${Math.floor(k / 200)}.${(k % 200) + 1}`,
      podCidr: `198.19.${k % 256}.${Math.floor(k / 256) * 128}/25`,
      workloads: [],
    }));
    const conf = renderBirdConfig(
      { name: 'big', podCidr: '198.19.0.0/16', vxlanMode: 'Always', nodes, peers: [] },
      'n0',
    );
    expect(/define calico_encapsulated = \[ ([^\]]*) \];/.exec(conf)![1].split(', ')).toHaveLength(299);
    expect(birdParse(conf)).toEqual({ code: 0, output: '' });
  });
});

describe('the constructs', () => {
  function synth(modes: { vxlanMode?: EncapsulationMode; ipipMode?: EncapsulationMode }): any {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-overlay-synth-'));
    const app = new App({ outdir });
    const stack = new TerraformStack(app, 'ov');
    const net = new CalicoCluster(stack, 'net', { name: 'ov', podCidr: '198.19.0.0/16', ...modes });
    const n1 = new CalicoNode(net, 'n1', { name: 'n1', address: '198.18.1.1/24', podCidr: '198.19.1.0/24' });
    new Workload(n1, 'web', { name: 'web', ip: '198.19.1.2' });
    new Workload(n1, 'big', { name: 'big', ip: '198.19.1.3', mtu: 9000 });
    // Added after n1: n1's overlay must still reach it (resolved at synth).
    new CalicoNode(net, 'n3', { name: 'n3', address: '198.18.2.3/24', podCidr: '198.19.3.0/24' });
    app.synth();
    const json = JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', 'ov', 'cdk.tf.json'), 'utf8'));
    fs.rmSync(outdir, { recursive: true, force: true });
    return json;
  }

  it('vxlanMode: one calico_overlay per node, from the same plan as its bird.conf; workloads without an MTU get 1450', () => {
    const json = synth({ vxlanMode: 'CrossSubnet' });
    const overlays = Object.values<any>(json.resource.calico_overlay);
    expect(overlays).toHaveLength(2);
    const n1 = overlays.find((o) => o.node_name === 'n1');
    expect(n1).toMatchObject({
      encapsulation: 'vxlan',
      address: '198.18.1.1',
      tunnel_address: '198.19.1.1',
      tunnel_mac: '66:cc:c6:13:01:01',
      mtu: 1450,
      neighbours: { '198.19.3.1': '66:cc:c6:13:03:01' },
      fdb: { '66:cc:c6:13:03:01': '198.18.2.3' },
      routes: { '198.19.3.0/24': '198.19.3.1' },
      ssh: { host: '198.18.1.1' },
    });
    expect(n1.depends_on).toEqual([expect.stringMatching(/^calico_node\./)]);
    const bird = Object.values<any>(json.resource.calico_bird_config).find((b) => b.node_name === 'n1');
    expect(bird.content).toContain('define calico_encapsulated = [ 198.19.3.0/24 ];');
    const workloads = Object.values<any>(json.resource.calico_workload);
    expect(Object.fromEntries(workloads.map((w) => [w.name, w.mtu]))).toEqual({ web: 1450, big: 9000 });
  });

  it('ipipMode: tunl0 inputs without MAC, neighbours or FDB; workloads get 1480', () => {
    const json = synth({ ipipMode: 'Always' });
    const n3 = Object.values<any>(json.resource.calico_overlay).find((o) => o.node_name === 'n3');
    expect(n3).toMatchObject({
      encapsulation: 'ipip',
      address: '198.18.2.3',
      tunnel_address: '198.19.3.1',
      mtu: 1480,
      neighbours: {},
      fdb: {},
      routes: { '198.19.1.0/24': '198.18.1.1' },
    });
    expect(n3.tunnel_mac).toBeUndefined();
    expect(Object.values<any>(json.resource.calico_workload).find((w) => w.name === 'web').mtu).toBe(1480);
  });

  it('no encapsulation: no calico_overlay, and workload MTUs are left to the provider', () => {
    const json = synth({ vxlanMode: 'Never' });
    expect(json.resource.calico_overlay).toBeUndefined();
    expect(Object.values<any>(json.resource.calico_workload).find((w) => w.name === 'web').mtu).toBeUndefined();
  });

  it('a CrossSubnet cluster with a node of unknown prefix fails synth naming the node', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-overlay-synth-'));
    const app = new App({ outdir });
    const stack = new TerraformStack(app, 'ov');
    const net = new CalicoCluster(stack, 'net', { name: 'ov', podCidr: '198.19.0.0/16', vxlanMode: 'CrossSubnet' });
    new CalicoNode(net, 'n1', { name: 'n1', address: '198.18.1.1/24', podCidr: '198.19.1.0/24' });
    new CalicoNode(net, 'n2', { name: 'n2', address: '198.18.1.2', podCidr: '198.19.2.0/24' });
    expect(() => app.synth()).toThrow(
      /nodes\[1\] "n2"\.address: vxlanMode CrossSubnet needs every node's prefix length/,
    );
    expect(fs.existsSync(path.join(outdir, 'stacks', 'ov', 'cdk.tf.json'))).toBe(false);
    fs.rmSync(outdir, { recursive: true, force: true });
  });
});
