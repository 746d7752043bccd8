/**
 * The checks declared on the calico schemas, as real terraform meets them. The provider here is
 * the schema-only fixture (test/runtime/fixture/calico-schema-main.ts): its handlers do nothing
 * but fail, so every refusal below comes from the runtime running the schema's checks.
 * - `terraform validate` reports a bad value on its attribute (nested ones too);
 * - a value terraform does not know at plan passes validate and plan, and apply refuses it once
 *   known, before the handler (which would fail with "schema-only test provider") runs.
 */
import * as path from 'path';
import { installProviderShim } from '../../providers/install';
import { compileFixture, TerraformDir } from './terraform-harness';

let fixture: ReturnType<typeof compileFixture>;
const t = new TerraformDir('rt-schema-checks-');
beforeAll(() => {
  fixture = compileFixture();
  installProviderShim({
    entry: path.join(path.dirname(fixture.entry), 'calico-schema-main.js'),
    source: { hostname: 'registry.terraform.io', namespace: 'cdktf-calico', type: 'calicochecks' },
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
      source  = "cdktf-calico/calicochecks"
      version = "0.1.0"
    }
  }
}
provider "calico" {}
`;

const node = (address: string, sshHost = '"198.18.140.1"') => `
resource "calico_node" "n1" {
  name     = "node1"
  address  = ${address}
  pod_cidr = "198.19.140.0/24"
  ssh {
    host = ${sshHost}
  }
}
`;

test('terraform validate reports a bad value on its attribute, nested ones by their path', () => {
  t.write('main.tf', header + node('"198.18.140.300"', '"h;reboot"'));
  t.expectTf(0, 'init');
  const bad = t.expectTf(1, 'validate', '-no-color');
  expect(bad.output).toMatch(
    /Error: Invalid address[\s\S]*address\s+= "198\.18\.140\.300"[\s\S]*"198\.18\.140\.300" is not an IPv4 address/,
  );
  expect(bad.output).toMatch(
    /Error: Invalid ssh\.host[\s\S]*host = "h;reboot"[\s\S]*"h;reboot" is not a host name or address/,
  );
  t.write('main.tf', header + node('"198.18.140.1"'));
  t.expectTf(0, 'validate');
});

test('a value unknown at plan passes validate and plan; apply refuses it once known, before the handler runs', () => {
  // terraform_data's output is known only after it is applied: the address is unknown until then.
  t.write(
    'main.tf',
    `${header}
resource "terraform_data" "addr" {
  input = "198.18.140.300"
}
${node('terraform_data.addr.output')}`,
  );
  t.expectTf(0, 'validate');
  t.expectTf(0, 'plan', '-no-color', '-input=false');
  const applied = t.expectTf(1, 'apply', '-auto-approve', '-no-color', '-input=false');
  expect(applied.output).toMatch(/Error: Invalid address[\s\S]*"198\.18\.140\.300" is not an IPv4 address/);
  expect(applied.output).not.toMatch(/schema-only test provider/);
});

test("a bad map entry is reported on the entry: terraform points at the key's own line, not at the map", () => {
  // routes: one good entry, one whose key has host bits set; each on a line of its own.
  const config = `${header}
resource "calico_overlay" "o1" {
  node_name      = "node1"
  encapsulation  = "vxlan"
  address        = "198.18.140.1"
  tunnel_address = "198.19.140.1"
  tunnel_mac     = "66:cc:c6:13:02:01"
  routes = {
    "198.19.141.0/24" = "198.19.141.1"
    "198.19.142.5/24" = "198.19.142.1"
  }
  ssh {
    host = "198.18.140.1"
  }
}
`;
  t.write('main.tf', config);
  const lines = config.split('\n');
  const badLine = lines.findIndex((l) => l.includes('"198.19.142.5/24"')) + 1;
  const bad = t.expectTf(1, 'validate', '-no-color');
  expect(bad.output).toMatch(/Error: Invalid routes\["198\.19\.142\.5\/24"\]/);
  expect(bad.output).toContain('"198.19.142.5/24" has host bits set; the network address is required');
  // Terraform resolved the path's ElementKeyString step to that entry in the configuration.
  expect(bad.output).toContain(`on main.tf line ${badLine}, in resource "calico_overlay" "o1":`);
  expect(bad.output).toMatch(new RegExp(`\\n\\s*${badLine}:\\s+"198\\.19\\.142\\.5/24" = "198\\.19\\.142\\.1"`));
  expect(bad.output).not.toMatch(/198\.19\.141\.0\/24"\]/);
});
