/**
 * Constructs at the edges the other suites leave open: bird reload settings and route-reflector
 * AS checks, escaping inside map values, the provider block's error label, per-node bird.conf
 * rendering, when a cluster is (not) validated again, and the provider files written at synth.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Testing, TerraformStack } from 'cdktf';
import { CalicoCluster, CalicoNode, CalicoProvider } from '../../constructs';
import { synthesizeBlock } from '../../constructs/bindings';
import { renderBirdConfig } from '../../constructs/bird-config';
import { ClusterSpec, NodeSpec } from '../../constructs/model';
import { clusterProblems } from '../../constructs/validation';
import type { BlockSchema } from '../../providers/runtime/schema';

// Every scratch directory goes away after the file (Stryker runs these tests many times over).
const scratch: string[] = [];
const tmp = (prefix: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  scratch.push(dir);
  return dir;
};
afterAll(() => scratch.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function node(k: number, over: Partial<NodeSpec> = {}): NodeSpec {
  return { name: `n${k}`, address: `198.18.0.${k}`, podCidr: `198.19.${k}.0/24`, workloads: [], ...over };
}
function cluster(over: Partial<ClusterSpec> = {}): ClusterSpec {
  return { name: 'lab', podCidr: '198.19.0.0/16', nodes: [node(1), node(2)], peers: [], ...over };
}

describe('cluster checks', () => {
  it('birdReload: sessionWait 0..3600; revertAfter whole seconds above the wait (default 30), at most a day', () => {
    expect(clusterProblems(cluster({ birdReload: { sessionWait: 0, revertAfter: 1 } }))).toEqual([]);
    expect(clusterProblems(cluster({ birdReload: { sessionWait: 3600, revertAfter: 86400 } }))).toEqual([]);
    expect(clusterProblems(cluster({ birdReload: { revertAfter: 31 } }))).toEqual([]);
    expect(clusterProblems(cluster({ birdReload: {} }))).toEqual([]);
    expect(clusterProblems(cluster({ birdReload: { sessionWait: 3601 } }))).toEqual([
      'cluster.birdReload.sessionWait: 3601 is not an integer in 0..3600',
    ]);
    expect(clusterProblems(cluster({ birdReload: { sessionWait: -1 } }))).toEqual([
      'cluster.birdReload.sessionWait: -1 is not an integer in 0..3600',
    ]);
    const revert = (r: number, w = 30) =>
      `cluster.birdReload.revertAfter: ${r} must be whole seconds above sessionWait (${w}), at most 86400`;
    expect(clusterProblems(cluster({ birdReload: { revertAfter: 30 } }))).toEqual([revert(30)]);
    expect(clusterProblems(cluster({ birdReload: { sessionWait: 10, revertAfter: 10 } }))).toEqual([revert(10, 10)]);
    expect(clusterProblems(cluster({ birdReload: { sessionWait: 10, revertAfter: 11 } }))).toEqual([]);
    expect(clusterProblems(cluster({ birdReload: { revertAfter: 86401 } }))).toEqual([revert(86401)]);
    expect(clusterProblems(cluster({ birdReload: { revertAfter: 40.5 } }))).toEqual([revert(40.5)]);
  });

  it('route-reflector topology without a reflector: that one problem, no AS complaints on top', () => {
    expect(
      clusterProblems(cluster({ topology: 'route-reflector', nodes: [node(1, { asNumber: 65001 }), node(2)] })),
    ).toEqual(['cluster.topology: route-reflector needs at least one node with routeReflector: true']);
  });
});

describe('bindings', () => {
  const schema: BlockSchema = { attributes: { labels: { type: ['map', 'string'], optional: true, description: '' } } };

  it('escapes Terraform template syntax inside map values too; null passes as null', () => {
    expect(synthesizeBlock(schema, { labels: { a: '${x}', b: '%{y}', c: 'plain' } }, 'here')).toEqual({
      labels: { a: '$${x}', b: '%%{y}', c: 'plain' },
    });
    expect(synthesizeBlock(schema, { labels: null }, 'here')).toEqual({ labels: null });
  });

  it('a bad provider setting is reported against "calico provider"', () => {
    const stack = new TerraformStack(Testing.app(), 'p');
    new CalicoProvider(stack, 'p', { connectTimout: 5 } as never);
    expect(() => Testing.synth(stack)).toThrow(/^calico provider: unknown property "connectTimout"$/);
  });
});

describe('bird.conf rendering', () => {
  it('renders the named node (not the first): its own sessions; a password only where one is set', () => {
    const c = cluster({
      nodes: [node(1), node(2), node(3)],
      peers: [{ address: '198.18.0.200', asNumber: 65100, password: 's3cret' }],
    });
    const conf = renderBirdConfig(c, 'n2');
    expect(conf).toContain('router id 198.18.0.2;');
    expect(conf).toContain('neighbor 198.18.0.1 as');
    expect(conf).toContain('neighbor 198.18.0.3 as');
    expect(conf).not.toContain('neighbor 198.18.0.2 as');
    expect(conf.match(/password "/g)).toHaveLength(1);
    expect(conf).not.toContain('s3cret');
  });

  it("route-reflector clients carry the cluster id, the first reflector's address", () => {
    const c = cluster({ topology: 'route-reflector', nodes: [node(1), node(2, { routeReflector: true }), node(3)] });
    const conf = renderBirdConfig(c, 'n2');
    expect(conf.match(/rr cluster id 198\.18\.0\.2;/g)).toHaveLength(2);
  });
});

describe('when a cluster is validated at synth', () => {
  function newApp() {
    return new App({ outdir: tmp('calico-edges-') });
  }

  it('a cluster built by hand with a single bad node is checked (nothing trusted before validation)', () => {
    const app = newApp();
    const c = new CalicoCluster(new TerraformStack(app, 'hand'), 'net', { name: 'hand', podCidr: '198.19.0.0/16' });
    new CalicoNode(c, 'n1', { name: 'n1', address: '198.18.0.1', podCidr: '10.1.0.0/24' });
    expect(() => app.synth()).toThrow(/nodes\[0\] "n1"\.podCidr/);
  });

  it('a spec that validateCluster never accepted is checked at synth; its peers are part of the cluster', () => {
    const app = newApp();
    const bad = cluster({
      nodes: [node(1, { podCidr: '10.1.0.0/24' })],
      peers: [{ address: '198.18.0.200', asNumber: 65100 }],
    });
    const c = CalicoCluster.fromSpec(new TerraformStack(app, 'spec'), 'net', bad);
    expect(c.spec().peers).toEqual([{ address: '198.18.0.200', asNumber: 65100 }]);
    expect(() => app.synth()).toThrow(/nodes\[0\] "n1"\.podCidr/);
  });
});

describe('provider files at synth', () => {
  function synthInto(outdir: string): void {
    const app = new App({ outdir });
    new CalicoProvider(new TerraformStack(app, 'st'), 'calico');
    app.synth();
  }

  it('every stack gets the provider shim and a lock file; a directory without cdktf.json gets no project copy', () => {
    const base = tmp('calico-files-');
    synthInto(path.join(base, 'out'));
    const stackDir = path.join(base, 'out', 'stacks', 'st');
    expect(fs.readFileSync(path.join(stackDir, '.terraform.lock.hcl'), 'utf8')).toContain('provider "');
    const shims = fs.readdirSync(path.join(stackDir, 'terraform.d', 'plugins'), { recursive: true }) as string[];
    const shim = shims
      .map((f) => path.join(stackDir, 'terraform.d', 'plugins', f))
      .find((f) => fs.statSync(f).isFile());
    expect(fs.readFileSync(shim!, 'utf8')).toContain(path.join('dist', 'providers', 'start.js'));
    expect(fs.existsSync(path.join(base, 'terraform.d'))).toBe(false);
  });

  it('an output directory inside a cdktf project also gives the project its copy', () => {
    const project = tmp('calico-project-');
    fs.writeFileSync(path.join(project, 'cdktf.json'), '{}');
    synthInto(path.join(project, 'cdktf.out'));
    expect(fs.existsSync(path.join(project, 'cdktf.out', 'stacks', 'st', 'terraform.d', 'plugins'))).toBe(true);
    expect(fs.existsSync(path.join(project, 'terraform.d', 'plugins'))).toBe(true);
  });
});
