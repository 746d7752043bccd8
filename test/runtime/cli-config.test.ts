/**
 * Installation paths: the shim in ~/.terraform.d/plugins (the default of installProviderShim) is
 * found by `terraform init` whether TF_CLI_CONFIG_FILE is unset, points at an empty file or at a
 * missing file, and a user CLI config with its own provider_installation block works with the
 * snippet from the README/report. Each case also plans, so the shim is really executed.
 */
import * as fs from 'fs';
import { compileFixture, FIXTURE_ENTRY, FIXTURE_SOURCE, fileResource, fixtureConfig, TerraformDir } from './terraform-harness';
import { installProviderShim } from '../../providers/install';

let fixture: ReturnType<typeof compileFixture>;
beforeAll(() => (fixture = compileFixture()));
afterAll(() => fixture.cleanup());

const dirs: TerraformDir[] = [];
afterAll(() => dirs.forEach((d) => d.cleanup()));

/** A working dir whose HOME is private, with the shim in $HOME/.terraform.d/plugins. */
function homeMirrorDir(): TerraformDir {
  const t = new TerraformDir('rt-cliconf-');
  dirs.push(t);
  fs.mkdirSync(t.path('home'));
  t.env.HOME = t.path('home');
  installProviderShim({ entry: FIXTURE_ENTRY(), source: FIXTURE_SOURCE, version: '0.1.0', pluginsDir: t.path('home', '.terraform.d', 'plugins') });
  fs.mkdirSync(t.path('work'));
  t.write('work/main.tf', fixtureConfig(fileResource('a', { dir: t.path('work'), file: 'a.txt', content: 'x' })));
  t.cwd = t.path('work'); // no ./terraform.d here: only the home mirror can satisfy init
  return t;
}

function initAndPlan(t: TerraformDir): void {
  const init = t.expectTf(0, 'init');
  expect(init.output).toMatch(/Installing cdktf-calico\/rtfixture v0\.1\.0/);
  const plan = t.expectTf(2, 'plan', '-detailed-exitcode');
  expect(plan.stdout).toMatch(/rtfixture_file\.a will be created/);
}

test('TF_CLI_CONFIG_FILE unset (and no ~/.terraformrc)', () => {
  const t = homeMirrorDir();
  delete t.env.TF_CLI_CONFIG_FILE;
  initAndPlan(t);
});

test('TF_CLI_CONFIG_FILE pointing at an empty file', () => {
  const t = homeMirrorDir();
  initAndPlan(t);
});

test('TF_CLI_CONFIG_FILE pointing at a file that does not exist', () => {
  const t = homeMirrorDir();
  t.env.TF_CLI_CONFIG_FILE = t.path('does-not-exist.tfrc');
  initAndPlan(t);
});

test('a user CLI config with its own provider_installation block + the documented snippet', () => {
  const t = homeMirrorDir();
  const mirror = t.path('home', '.terraform.d', 'plugins');
  t.write(
    'user.tfrc',
    `plugin_cache_may_break_dependency_lock_file = true
provider_installation {
  filesystem_mirror {
    path    = "${mirror}"
    include = ["registry.terraform.io/cdktf-calico/*"]
  }
  direct {
    exclude = ["registry.terraform.io/cdktf-calico/*"]
  }
}
`,
  );
  t.env.TF_CLI_CONFIG_FILE = t.path('user.tfrc');
  initAndPlan(t);
});
