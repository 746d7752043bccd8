/**
 * Network policy through the constructs and the inventory to cdk.tf.json: no policy, no
 * calico_policy_ruleset; with one, one per node whose ruleset is the node's rendering of the one
 * compiled model; bad policies fail synth naming policy, rule and field. Also the provider's
 * pure view of nft text (nft-table.ts): which rulesets it loads and the stable listing.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, TerraformStack } from 'cdktf';
import { CalicoCluster, CalicoNode, NetworkPolicy, Workload } from '../../constructs';
import { compilePolicyModel } from '../../constructs/policy-compile';
import { renderNodeRuleset } from '../../constructs/policy-nft';
import { buildClusterStack } from '../../stacks/inventory';
import {
  isOurTable,
  normalizeListing,
  rulesetProblem,
  TABLE_HEADER,
  TABLE_MARK,
} from '../../providers/calico/nft-table';
import { listingOf, tableFacts } from '../../providers/calico/policy-ruleset';
import { threeTier } from './policy-fixture';

function synth(build: (stack: TerraformStack) => void): any {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-policy-'));
  const app = new App({ outdir });
  const stack = new TerraformStack(app, 'lab');
  build(stack);
  app.synth();
  return JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', 'lab', 'cdk.tf.json'), 'utf8'));
}

test('no policies: no calico_policy_ruleset at all', () => {
  const json = synth((stack) => CalicoCluster.fromSpec(stack, 'cluster', threeTier({ policies: undefined })));
  expect(json.resource.calico_policy_ruleset).toBeUndefined();
  expect(JSON.stringify(json)).not.toContain('calico-net network policy');
});

test('inventory policies: one ruleset per node, each the rendering of the compiled model', () => {
  const spec = threeTier();
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'calico-policy-')) });
  buildClusterStack(app, spec);
  app.synth();
  const json = JSON.parse(fs.readFileSync(path.join(app.outdir, 'stacks', 'lab', 'cdk.tf.json'), 'utf8'));
  const rulesets = Object.values<any>(json.resource.calico_policy_ruleset);
  expect(rulesets.map((r) => r.node_name).sort()).toEqual(['node1', 'node2']);
  const model = compilePolicyModel(spec)!;
  for (const r of rulesets) {
    expect(r.ruleset).toBe(renderNodeRuleset(model, r.node_name));
    expect(rulesetProblem(r.ruleset)).toBeNull();
    expect(r.ssh.host).toBe(spec.nodes.find((n) => n.name === r.node_name)!.address);
    expect(r.depends_on).toHaveLength(1);
  }
});

test('constructs: a NetworkPolicy declared before or after the nodes gives every node its ruleset', () => {
  const json = synth((stack) => {
    const cluster = new CalicoCluster(stack, 'net', { name: 'lab', podCidr: '198.19.0.0/16' });
    const n1 = new CalicoNode(cluster, 'node1', { name: 'node1', address: '198.18.60.1', podCidr: '198.19.1.0/24' });
    new Workload(n1, 'db', { name: 'db', ip: '198.19.1.3', labels: { role: 'db' } });
    new NetworkPolicy(cluster, 'db', { name: 'db', selector: "role == 'db'", ingress: [{ action: 'Deny' }] });
    const n2 = new CalicoNode(cluster, 'node2', { name: 'node2', address: '198.18.60.2', podCidr: '198.19.2.0/24' });
    new Workload(n2, 'api', { name: 'api', ip: '198.19.2.2', labels: { role: 'api' } });
  });
  const rulesets = Object.values<any>(json.resource.calico_policy_ruleset);
  expect(rulesets).toHaveLength(2);
  expect(rulesets.find((r) => r.node_name === 'node1').ruleset).toContain('\tchain pi_db {\n\t\tdrop\n\t}');
  expect(rulesets.find((r) => r.node_name === 'node2').ruleset).not.toContain('pi_db');
});

test('a bad policy fails synth, naming the policy, the rule and the field', () => {
  expect(() =>
    synth((stack) => {
      const cluster = new CalicoCluster(stack, 'net', { name: 'lab', podCidr: '198.19.0.0/16' });
      new CalicoNode(cluster, 'node1', { name: 'node1', address: '198.18.60.1', podCidr: '198.19.1.0/24' });
      new NetworkPolicy(cluster, 'db', { name: 'db', ingress: [{ action: 'Allow', destination: { ports: [80] } }] });
    }),
  ).toThrow(/policy "db": ingress\[0\]\.destination\.ports: ports need protocol TCP, UDP or SCTP/);
});

describe('nft text as the provider sees it', () => {
  const good = renderNodeRuleset(compilePolicyModel(threeTier())!, 'node1');

  test('only our one marked table is loaded', () => {
    expect(rulesetProblem(good)).toBeNull();
    expect(rulesetProblem(`${TABLE_HEADER}\n\t${TABLE_MARK}\n}`)).toBeNull();
    expect(rulesetProblem('table inet filter {\n}\n')).toBe(`the ruleset must start with "${TABLE_HEADER}"`);
    expect(rulesetProblem(`${TABLE_HEADER}\n\tchain x {\n\t}\n}\n`)).toBe(
      `the table's first statement must be its mark: ${TABLE_MARK}`,
    );
    expect(rulesetProblem(`${good}flush ruleset\n`)).toBe(
      'line 79: the table ends before the last line: nothing may follow it'.replace(
        '79',
        String(good.split('\n').length - 1),
      ),
    );
    expect(rulesetProblem(`${TABLE_HEADER}\n\t${TABLE_MARK}\n}\ntable ip x {\n}`)).toBe(
      'line 3: the table ends before the last line: nothing may follow it',
    );
    expect(rulesetProblem(`${TABLE_HEADER}\n\t${TABLE_MARK}\ninclude "/etc/x"\n}`)).toBe(
      'line 3: include is not allowed',
    );
    expect(rulesetProblem(`${TABLE_HEADER}\n\t${TABLE_MARK}\n\tchain x {\n}`)).toBe('the table is not closed');
    expect(rulesetProblem(`${TABLE_HEADER}\n\t${TABLE_MARK}\n}}\n`)).toBe('line 3: unbalanced "}"');
    expect(rulesetProblem(`${TABLE_HEADER}\n\t${TABLE_MARK}\n\tcomment "a } b"\n}`)).toBeNull();
    expect(rulesetProblem(`${TABLE_HEADER}\n\t${TABLE_MARK}\n\tcomment "a\n}`)).toBe('line 3: unterminated string');
    expect(rulesetProblem(`${TABLE_HEADER}\n\t${TABLE_MARK}\r\n}`)).toBe(
      'the ruleset contains a NUL or carriage return',
    );
  });

  test('ours is the table with our comment', () => {
    expect(isOurTable(`table inet calico-net {\n\t${TABLE_MARK}\n}`)).toBe(true);
    expect(isOurTable('table inet calico-net {\n\tcomment "someone else"\n}')).toBe(false);
    expect(tableFacts('')).toEqual({ table: '', owner: '' });
    expect(tableFacts(`table inet calico-net {\n\t${TABLE_MARK}\n}\n`).owner).toBe('calico-net');
    expect(tableFacts('table inet calico-net {\n}\n')).toEqual({
      table: 'table inet calico-net {\n}\n',
      owner: 'not calico-net',
    });
  });

  test('the listing in one stable form: elements one per line, sorted; inline sets sorted; no blank lines', () => {
    const a = [
      'table inet calico-net {',
      '\tmap fw_map {',
      '\t\ttype ifname : verdict',
      '\t\telements = { "calib" : goto fw_calib,',
      '\t\t\t     "calia" : goto fw_calia }',
      '\t}',
      '',
      '\tchain x {   ',
      '\t\ttcp dport { 443, 80 } accept',
      '\t\tct state established,related accept',
      '\t}',
      '}',
    ].join('\n');
    const expected = [
      'table inet calico-net {',
      '\tmap fw_map {',
      '\t\ttype ifname : verdict',
      '\t\telements = {',
      '\t\t\t"calia" : goto fw_calia,',
      '\t\t\t"calib" : goto fw_calib',
      '\t\t}',
      '\t}',
      '\tchain x {',
      '\t\ttcp dport { 443, 80 } accept',
      '\t\tct state established,related accept',
      '\t}',
      '}',
      '',
    ].join('\n');
    expect(normalizeListing(a)).toBe(expected);
    expect(normalizeListing(a.replace('{ 443, 80 }', '{ 80, 443 }'))).toBe(expected);
    expect(normalizeListing(expected)).toBe(expected);
    expect(normalizeListing('\tset s {\n\t\telements = { 198.19.1.3, 198.19.1.2 }\n\t}')).toBe(
      '\tset s {\n\t\telements = {\n\t\t\t198.19.1.2,\n\t\t\t198.19.1.3\n\t\t}\n\t}\n',
    );
    expect(normalizeListing('')).toBe('');
    expect(normalizeListing('\n\n')).toBe('');
  });

  test("a script's listing follows its mark; without the mark there is none", () => {
    expect(listingOf('noise\n==> calico-net listing\ntable inet calico-net {\n}\n')).toBe(
      'table inet calico-net {\n}\n',
    );
    expect(listingOf('==> calico-net listing\n')).toBe('');
    expect(listingOf('table inet calico-net {\n}\n')).toBeUndefined();
  });
});
