/**
 * What reaches cdk.tf.json: user text with Terraform template syntax escaped (so Terraform
 * yields the exact bytes), cdktf tokens untouched, and BGP passwords only in the sensitive
 * `secrets` map with a placeholder in `content`. Plus the splice/mask rules the provider applies.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, TerraformStack } from 'cdktf';
import { BgpPeer, CalicoCluster, CalicoNode } from '../../constructs';
import { templateLiteral } from '../../constructs/bindings';
import { maskSecrets, missingSecrets, secretPlaceholder, spliceSecrets, UNDECLARED_SECRET } from '../../rules/secrets';

test('templateLiteral doubles every template introducer, and nothing else', () => {
  expect(templateLiteral('ab${x}cd')).toBe('ab$${x}cd');
  expect(templateLiteral('ab$${x}cd')).toBe('ab$$${x}cd');
  expect(templateLiteral('ab%{if}cd%%{y}')).toBe('ab%%{if}cd%%%{y}');
  expect(templateLiteral('$ % {} $x %y')).toBe('$ % {} $x %y');
});

test('a password with template syntax: placeholder in content, escaped value in secrets; odd paths escaped', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-secrets-'));
  const app = new App({ outdir });
  const stack = new TerraformStack(app, 'mine');
  const cluster = new CalicoCluster(stack, 'net', { name: 'mine', podCidr: '198.19.0.0/16' });
  new CalicoNode(cluster, 'n1', {
    name: 'n1',
    address: '198.18.5.1',
    podCidr: '198.19.5.0/24',
    birdConfigPath: '/etc/bird/a${b}%{c}.conf',
  });
  new BgpPeer(cluster, 'tor', { address: '198.18.5.254', asNumber: 65100, password: 'p${w}%{d}' });
  app.synth();
  const json = JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', 'mine', 'cdk.tf.json'), 'utf8'));
  const [bird] = Object.values<any>(json.resource.calico_bird_config);
  expect(bird.content).toContain(`password "${secretPlaceholder('Global_198_18_5_254')}";`);
  expect(bird.content).not.toContain('p$');
  expect(bird.secrets).toEqual({ Global_198_18_5_254: 'p$${w}%%{d}' });
  expect(bird.config_path).toBe('/etc/bird/a$${b}%%{c}.conf');
  // References stay Terraform expressions.
  expect(JSON.stringify(bird.depends_on)).toMatch(/^\["calico_node\./);
});

test('splice refuses a placeholder without a value; mask hides declared and undeclared passwords', () => {
  const declared = `protocol bgp X {\n  password "${secretPlaceholder('X')}";\n}\n`;
  expect(missingSecrets(declared, {})).toEqual(['X']);
  expect(() => spliceSecrets(declared, null)).toThrow(/no value for secret "X"/);
  const onHost = spliceSecrets(declared, { X: 'a$1' });
  expect(onHost).toBe('protocol bgp X {\n  password "a$1";\n}\n');
  expect(maskSecrets(onHost, declared, { X: 'a$1' })).toBe(declared);
  const edited = onHost + '# by hand\n';
  expect(maskSecrets(edited, declared, { X: 'a$1' })).toBe(declared + '# by hand\n');
  const changed = onHost.replace('a$1', 'other');
  const masked = maskSecrets(changed, declared, { X: 'a$1' });
  expect(masked).not.toContain('other');
  expect(masked).toContain(`password "${UNDECLARED_SECRET}";`);
});
