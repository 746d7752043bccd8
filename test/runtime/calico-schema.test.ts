/**
 * The calico schemas from providers/calico/schema.ts, served by the runtime, as real terraform sees them:
 * `providers schema -json` matches the source, and `validate`/`plan` check configs against it.
 */
import * as path from 'path';
import { installProviderShim } from '../../providers/install';
import { providerConfigSchema, resourceSchemas } from '../../providers/calico/schema';
import { compileFixture, TerraformDir } from './terraform-harness';

let fixture: ReturnType<typeof compileFixture>;
const t = new TerraformDir('rt-calico-schema-');
beforeAll(() => {
  fixture = compileFixture();
  installProviderShim({
    entry: path.join(path.dirname(fixture.entry), 'calico-schema-main.js'),
    // A type of its own so a real calico shim in ~/.terraform.d/plugins cannot interfere.
    source: { hostname: 'registry.terraform.io', namespace: 'cdktf-calico', type: 'calicoschema' },
    version: '0.1.0',
    pluginsDir: t.path('terraform.d', 'plugins'),
  });
});
afterAll(() => {
  t.cleanup();
  fixture.cleanup();
});

const header = `terraform {
  required_providers {
    calico = {
      source  = "cdktf-calico/calicoschema"
      version = "0.1.0"
    }
  }
}
provider "calico" {
  connect_timeout = 5
}
`;

test('terraform loads the schemas and they match providers/calico/schema.ts', () => {
  t.write('main.tf', header);
  t.expectTf(0, 'init');
  const schemas = JSON.parse(t.expectTf(0, 'providers', 'schema', '-json').stdout);
  const p = schemas.provider_schemas['registry.terraform.io/cdktf-calico/calicoschema'];
  expect(Object.keys(p.resource_schemas).sort()).toEqual(Object.keys(resourceSchemas).sort());
  expect(Object.keys(p.provider.block.attributes).sort()).toEqual(
    Object.keys(providerConfigSchema.block.attributes).sort(),
  );
  const node = p.resource_schemas.calico_node.block;
  expect(node.attributes.pod_cidr).toMatchObject({
    type: 'string',
    required: true,
    description: resourceSchemas.calico_node.block.attributes.pod_cidr.description,
  });
  expect(node.attributes.ip_forward).toMatchObject({ type: 'string', computed: true });
  expect(node.block_types.ssh).toMatchObject({ nesting_mode: 'single', min_items: 1, max_items: 1 });
  expect(node.block_types.ssh.block.attributes.sudo).toMatchObject({ type: 'bool', optional: true });
});

test('validate enforces the schema (required single block, types)', () => {
  t.write(
    'main.tf',
    `${header}
resource "calico_node" "n1" {
  name     = "node1"
  address  = "198.18.0.1"
  pod_cidr = "10.244.1.0/24"
  ssh {
    host = "198.18.0.1"
    port = 22
    sudo = true
  }
}
`,
  );
  t.expectTf(0, 'validate');
  t.write(
    'main.tf',
    `${header}
resource "calico_node" "n1" {
  name     = "node1"
  address  = "198.18.0.1"
  pod_cidr = "10.244.1.0/24"
}
`,
  );
  const missing = t.expectTf(1, 'validate');
  expect(missing.output).toMatch(/Missing ssh block[\s\S]*A block of type "ssh" is required here/);
});
