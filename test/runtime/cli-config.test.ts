/**
 * Terraform CLI configurations. The opt-in global install (~/.terraform.d/plugins) is found by
 * `terraform init` whether TF_CLI_CONFIG_FILE is unset, empty or missing. A CLI config with its
 * own provider_installation block hides every implied mirror: synthesis detects it and names the
 * file, and the snippet it prints really makes init find the provider. Each case also plans, so
 * the shim is really executed.
 */
import * as fs from 'fs';
import {
  compileFixture,
  FIXTURE_ENTRY,
  FIXTURE_SOURCE,
  fileResource,
  fixtureConfig,
  TerraformDir,
} from './terraform-harness';
import {
  cliConfigFiles,
  installProviderShim,
  providerInstallationAdvice,
  providerInstallationSnippet,
} from '../../providers/install';

let fixture: ReturnType<typeof compileFixture>;
beforeAll(() => (fixture = compileFixture()));
afterAll(() => fixture.cleanup());

const dirs: TerraformDir[] = [];
afterAll(() => dirs.forEach((d) => d.cleanup()));

function newDir(): TerraformDir {
  const t = new TerraformDir('rt-cliconf-');
  dirs.push(t);
  fs.mkdirSync(t.path('home'));
  t.env.HOME = t.path('home');
  fs.mkdirSync(t.path('work'));
  t.write('work/main.tf', fixtureConfig(fileResource('a', { dir: t.path('work'), file: 'a.txt', content: 'x' })));
  t.cwd = t.path('work');
  return t;
}

/** A working dir whose HOME is private, with the shim in $HOME/.terraform.d/plugins. */
function homeMirrorDir(): TerraformDir {
  const t = newDir();
  installProviderShim({
    entry: FIXTURE_ENTRY(),
    source: FIXTURE_SOURCE,
    version: '0.1.0',
    pluginsDir: t.path('home', '.terraform.d', 'plugins'),
  });
  return t; // no ./terraform.d here: only the home mirror can satisfy init
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
  initAndPlan(homeMirrorDir());
});

test('TF_CLI_CONFIG_FILE pointing at a file that does not exist', () => {
  const t = homeMirrorDir();
  t.env.TF_CLI_CONFIG_FILE = t.path('does-not-exist.tfrc');
  initAndPlan(t);
});

describe('a CLI config with its own provider_installation block', () => {
  const userBlock = (inside: string): string =>
    `plugin_cache_may_break_dependency_lock_file = true\nprovider_installation {\n${inside}\n}\n`;

  test('is found where terraform looks (TF_CLI_CONFIG_FILE, ~/.terraformrc, ~/.terraform.d/*.tfrc) and named in the advice', () => {
    const t = newDir();
    const home = t.path('home');
    fs.writeFileSync(t.path('home', '.terraformrc'), userBlock('  direct {}'));
    fs.mkdirSync(t.path('home', '.terraform.d'));
    fs.writeFileSync(t.path('home', '.terraform.d', 'extra.tfrc'), '# provider_installation { only a comment }\n');
    expect(cliConfigFiles({}, home)).toEqual([
      t.path('home', '.terraformrc'),
      t.path('home', '.terraform.d', 'extra.tfrc'),
    ]);
    const advice = providerInstallationAdvice(cliConfigFiles({}, home));
    expect(advice).toContain(`${t.path('home', '.terraformrc')} has a provider_installation block`);
    expect(advice).not.toContain('extra.tfrc');
    expect(advice).toContain(providerInstallationSnippet());

    // TF_CLI_CONFIG_FILE replaces ~/.terraformrc, as in terraform.
    t.write('empty.tfrc', '');
    expect(
      providerInstallationAdvice(cliConfigFiles({ TF_CLI_CONFIG_FILE: t.path('empty.tfrc') }, home)),
    ).toBeUndefined();
    // A block that already routes our namespace needs nothing.
    t.write('ours.tfrc', userBlock(providerInstallationSnippet()));
    expect(providerInstallationAdvice([t.path('ours.tfrc')])).toBeUndefined();
    // JSON syntax is detected too.
    t.write('json.tfrc.json', '{"provider_installation": [{"direct": [{}]}]}');
    expect(providerInstallationAdvice([t.path('json.tfrc.json')])).toContain('json.tfrc.json');
  });

  test('hides ./terraform.d/plugins from init; with the advised snippet inside it, init and plan work', () => {
    const t = newDir();
    installProviderShim({
      entry: FIXTURE_ENTRY(),
      source: FIXTURE_SOURCE,
      version: '0.1.0',
      pluginsDir: t.path('work', 'terraform.d', 'plugins'),
    });
    t.write('user.tfrc', userBlock('  direct {}'));
    t.env.TF_CLI_CONFIG_FILE = t.path('user.tfrc');
    const refused = t.tf('init', '-input=false', '-no-color');
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/cdktf-calico\/rtfixture/);

    // The advice says: add the snippet inside the existing block (its direct {} gets the exclude).
    t.write('user.tfrc', userBlock(providerInstallationSnippet()));
    initAndPlan(t);
  });
});
