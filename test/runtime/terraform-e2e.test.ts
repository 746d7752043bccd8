/**
 * Real terraform 1.11 driving the runtime through the rtfixture provider (compiled fixture in
 * test/runtime/fixture, installed as a shim in the working dir's implied mirror, offline): the
 * resource lifecycle, handler warnings as terraform prints them, and state files written under
 * the fixture's older schema version (JSON and legacy flatmap) upgraded by plan and apply.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { compileFixture, fileResource, fixtureConfig, TerraformDir } from './terraform-harness';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

let fixture: ReturnType<typeof compileFixture>;
beforeAll(() => (fixture = compileFixture()));
afterAll(() => fixture.cleanup());

describe('lifecycle against real terraform', () => {
  const t = new TerraformDir();
  const dir = t.dir;
  const file = (n: string) => path.join(dir, n);
  const config = (...resources: string[]) => t.write('main.tf', fixtureConfig(resources.join('\n')));
  const a = (o: Partial<Parameters<typeof fileResource>[1]> = {}) =>
    fileResource('a', { dir, file: 'a.txt', content: 'hello', lines: ['l1'], ...o });
  const resourceA = () => t.state().values?.root_module?.resources?.find((r: any) => r.address === 'rtfixture_file.a');

  beforeAll(() => {
    t.installFixture();
    config(a());
  });
  afterAll(() => {
    t.tf('destroy', '-auto-approve');
    t.cleanup();
  });

  test('init installs the provider offline from ./terraform.d/plugins', () => {
    const r = t.expectTf(0, 'init');
    expect(r.output).toMatch(/Installing cdktf-calico\/rtfixture v0\.1\.0/);
    expect(fs.readFileSync(t.path('.terraform.lock.hcl'), 'utf8')).toMatch(
      /provider "registry.terraform.io\/cdktf-calico\/rtfixture"[\s\S]*h1:/,
    );
  });

  test('validate passes, and a validate() diagnostic names the nested attribute', () => {
    t.expectTf(0, 'validate');
    config(a({ file: 'sub/a.txt' }));
    const bad = t.expectTf(1, 'validate');
    expect(bad.output).toMatch(/name must not contain "\/"/);
    expect(bad.output).toMatch(/name = "sub\/a.txt"/);
    config(a());
  });

  test('plan shows the create with the fact the plan hook predicts', () => {
    const r = t.expectTf(2, 'plan', '-detailed-exitcode');
    expect(r.stdout).toMatch(/rtfixture_file\.a will be created/);
    expect(r.stdout).toMatch(/id\s+= \(known after apply\)/);
    expect(r.stdout).toContain(sha('hello\nl1'));
    expect(r.stdout).toMatch(/1 to add, 0 to change, 0 to destroy/);
  });

  test('apply creates the file; state holds computed values', () => {
    t.expectTf(0, 'apply', '-auto-approve');
    expect(fs.readFileSync(file('a.txt'), 'utf8')).toBe('hello\nl1');
    const v = resourceA().values;
    expect(v).toMatchObject({
      id: file('a.txt'),
      content: 'hello',
      lines: ['l1'],
      sha256: sha('hello\nl1'),
      location: { dir, name: 'a.txt' },
    });
  });

  test('a second plan is empty (read returns exactly the state)', () => {
    t.expectTf(0, 'plan', '-detailed-exitcode');
  });

  test('an out-of-band edit is drift: refresh-only reports it, plan proposes the repair, apply repairs', () => {
    fs.writeFileSync(file('a.txt'), 'tampered\nl1');
    const refresh = t.expectTf(2, 'plan', '-refresh-only', '-detailed-exitcode');
    expect(refresh.stdout).toMatch(/changed outside of Terraform/);
    expect(refresh.stdout).toMatch(/content\s+= "hello" -> "tampered"/);

    const plan = t.expectTf(2, 'plan', '-detailed-exitcode');
    expect(plan.stdout).toMatch(/content\s+= "tampered" -> "hello"/);
    expect(plan.stdout).toMatch(/0 to add, 1 to change, 0 to destroy/);

    t.expectTf(0, 'apply', '-auto-approve');
    expect(fs.readFileSync(file('a.txt'), 'utf8')).toBe('hello\nl1');
    t.expectTf(0, 'plan', '-detailed-exitcode');
  });

  test('an unreachable host is not absent: the state is kept, a retry is planned and fails at apply', () => {
    fs.writeFileSync(file('UNREACHABLE'), '');
    try {
      const plan = t.expectTf(2, 'plan', '-detailed-exitcode');
      expect(plan.stdout + plan.stderr).toMatch(/Warning: Cannot reach .*: state not refreshed/);
      expect(plan.stdout).toMatch(/rtfixture_file\.a will be updated in-place/);
      expect(plan.stdout).toMatch(/sha256\s+= "[0-9a-f]{64}" -> \(known after apply\)/);
      expect(plan.stdout).not.toMatch(/will be (created|destroyed)/);
      const apply = t.tf('apply', '-auto-approve');
      expect(apply.code).not.toBe(0);
      expect(apply.stdout + apply.stderr).toMatch(/Cannot reach/);
    } finally {
      fs.rmSync(file('UNREACHABLE'));
    }
    // Reachable again: the first apply verifies it and the plan after is empty.
    t.expectTf(0, 'apply', '-auto-approve');
    t.expectTf(0, 'plan', '-detailed-exitcode');
  });

  test('a deleted file is re-created (read → null)', () => {
    fs.rmSync(file('a.txt'));
    const plan = t.expectTf(2, 'plan', '-detailed-exitcode');
    expect(plan.stdout).toMatch(/rtfixture_file\.a will be created/);
    t.expectTf(0, 'apply', '-auto-approve');
    expect(fs.existsSync(file('a.txt'))).toBe(true);
  });

  test('changing a nested forceNew attribute replaces the resource', () => {
    config(a({ file: 'b.txt' }));
    const plan = t.expectTf(2, 'plan', '-detailed-exitcode');
    expect(plan.stdout).toMatch(/rtfixture_file\.a must be replaced/);
    expect(plan.stdout).toMatch(/name = "a\.txt" -> "b\.txt" # forces replacement/);
    expect(plan.stdout).toMatch(/1 to add, 0 to change, 1 to destroy/);
    t.expectTf(0, 'apply', '-auto-approve');
    expect(fs.existsSync(file('a.txt'))).toBe(false);
    expect(fs.readFileSync(file('b.txt'), 'utf8')).toBe('hello\nl1');
  });

  test('updating a list attribute in place', () => {
    config(a({ file: 'b.txt', lines: ['l1', 'l2'] }));
    const plan = t.expectTf(2, 'plan', '-detailed-exitcode');
    expect(plan.stdout).toMatch(/0 to add, 1 to change, 0 to destroy/);
    t.expectTf(0, 'apply', '-auto-approve');
    expect(fs.readFileSync(file('b.txt'), 'utf8')).toBe('hello\nl1\nl2');
    config(a({ file: 'b.txt', lines: undefined }));
    t.expectTf(0, 'apply', '-auto-approve');
    t.expectTf(0, 'plan', '-detailed-exitcode');
  });

  test('import adopts an existing file (ImportResourceState, then ReadResource)', () => {
    t.expectTf(0, 'state', 'rm', 'rtfixture_file.a');
    expect(fs.existsSync(file('b.txt'))).toBe(true);
    const r = t.expectTf(0, 'import', 'rtfixture_file.a', file('b.txt'));
    expect(r.stdout).toMatch(/Import successful/);
    expect(resourceA().values).toMatchObject({ id: file('b.txt'), content: 'hello', sha256: sha('hello') });
    t.expectTf(0, 'plan', '-detailed-exitcode');
  });

  test('a provider error surfaces as a terraform error naming the attribute', () => {
    config(a({ file: 'b.txt', lines: undefined }), fileResource('bad', { dir, file: 'bad.txt', content: 'FORBIDDEN' }));
    const r = t.expectTf(1, 'apply', '-auto-approve');
    expect(r.stderr).toMatch(/Error: content rejected/);
    expect(r.stderr).toMatch(/The fixture refuses content containing the word FORBIDDEN/);
    expect(r.stderr).toMatch(/with rtfixture_file\.bad/);
    expect(r.stderr).toMatch(/content = "FORBIDDEN"/); // the source line of the attribute
    expect(fs.existsSync(file('bad.txt'))).toBe(false);
    expect(t.expectTf(0, 'state', 'list').stdout).not.toMatch(/rtfixture_file\.bad/);
  });

  test('a handler that breaks its own plan gets the runtime diagnostic, not "inconsistent result"', () => {
    config(a({ file: 'b.txt', lines: undefined }), fileResource('buggy', { dir, file: 'buggy.txt', content: 'BUGGY' }));
    const r = t.expectTf(1, 'apply', '-auto-approve');
    expect(r.stderr).toMatch(/Provider produced a result that differs from its plan: content/);
    expect(r.stderr).toMatch(/content was planned as "BUGGY" but apply produced "BUGGY\s+\(reformatted\)"/);
    expect(r.stderr).not.toMatch(/inconsistent result/);
    expect(r.stderr).toMatch(/with rtfixture_file\.buggy/);
    config(a({ file: 'b.txt', lines: undefined }));
    t.expectTf(0, 'apply', '-auto-approve');
    expect(fs.existsSync(file('buggy.txt'))).toBe(false);
  });

  test('values unknown at plan time (refined unknowns from a template) flow through plan and apply', () => {
    const c = fileResource('c', { dir, file: 'c.txt', content: 'first' });
    const d = `resource "rtfixture_file" "d" {
  content = "from-\${rtfixture_file.c.id}"
  location {
    dir  = ${JSON.stringify(dir)}
    name = "d.txt"
  }
}
`;
    config(a({ file: 'b.txt', lines: undefined }), c, d);
    const plan = t.expectTf(2, 'plan', '-detailed-exitcode');
    expect(plan.stdout).toMatch(/content\s+= \(known after apply\)/);
    expect(plan.stdout).toMatch(/2 to add, 0 to change, 0 to destroy/);
    t.expectTf(0, 'apply', '-auto-approve');
    expect(fs.readFileSync(file('d.txt'), 'utf8')).toBe(`from-${file('c.txt')}`);
    t.expectTf(0, 'plan', '-detailed-exitcode');
  });

  test('destroy removes everything', () => {
    t.expectTf(0, 'destroy', '-auto-approve');
    for (const f of ['b.txt', 'c.txt', 'd.txt']) expect(fs.existsSync(file(f))).toBe(false);
    expect(t.expectTf(0, 'state', 'list').stdout.trim()).toBe('');
  });
});

describe('handler warnings reach the terraform user', () => {
  const t = new TerraformDir('rt-warn-');
  const dir = t.dir;
  beforeAll(() => {
    t.installFixture();
    t.write('main.tf', fixtureConfig(fileResource('w', { dir, file: 'w.txt', content: 'WARN me' })));
    t.expectTf(0, 'init');
  });
  afterAll(() => {
    t.tf('destroy', '-auto-approve');
    t.cleanup();
  });

  test('a warning from apply (ApplyResourceChange) is printed, and the apply succeeds', () => {
    const r = t.expectTf(0, 'apply', '-auto-approve');
    expect(r.output).toMatch(/Warning: content mentions WARN/);
    expect(r.output).toContain(`written to ${path.join(dir, 'w.txt')} all the same`);
    expect(r.output).toMatch(/with rtfixture_file\.w/);
    expect(fs.readFileSync(path.join(dir, 'w.txt'), 'utf8')).toBe('WARN me');
  });

  test('a warning from read (ReadResource during refresh) is printed; nothing else changes', () => {
    fs.writeFileSync(path.join(dir, 'READ_WARNING'), 'marker text from the test');
    try {
      const r = t.expectTf(0, 'plan', '-detailed-exitcode');
      expect(r.output).toMatch(/Warning: read of w\.txt has a warning/);
      expect(r.output).toContain('marker text from the test');
      expect(r.stdout).toMatch(/No changes/);
    } finally {
      fs.rmSync(path.join(dir, 'READ_WARNING'));
    }
    expect(t.expectTf(0, 'plan', '-detailed-exitcode').output).not.toMatch(/Warning/);
  });
});

describe('state stored under an older schema version is upgraded (UpgradeResourceState)', () => {
  const t = new TerraformDir('rt-upgrade-');
  const dir = t.dir;
  const PROVIDER = 'provider["registry.terraform.io/cdktf-calico/rtfixture"]';
  // Schema version 0 of rtfixture_file had `text` (now `content`) and top-level dir/name.
  const v0 = (name: string, text: string) => ({
    id: path.join(dir, name),
    text,
    sha256: 'stale',
    tag: null,
    lines: ['l1'],
    dir,
    name,
  });
  const instance = (name: string, stored: object) => ({
    mode: 'managed',
    type: 'rtfixture_file',
    name,
    provider: PROVIDER,
    instances: [{ schema_version: 0, ...stored, sensitive_attributes: [] }],
  });

  beforeAll(() => {
    t.installFixture();
    t.write(
      'main.tf',
      fixtureConfig(
        [
          fileResource('json', { dir, file: 'json.txt', content: 'from json', lines: ['l1'] }),
          fileResource('flat', { dir, file: 'flat.txt', content: 'from flatmap', lines: ['l1'] }),
        ].join('\n'),
      ),
    );
    fs.writeFileSync(path.join(dir, 'json.txt'), 'from json\nl1');
    fs.writeFileSync(path.join(dir, 'flat.txt'), 'from flatmap\nl1');
    const flat = v0('flat.txt', 'from flatmap');
    t.write(
      'terraform.tfstate',
      JSON.stringify(
        {
          version: 4,
          terraform_version: '1.11.4',
          serial: 1,
          lineage: '5f0c5b8e-1b7a-4c57-9d0e-3a1f2b4c6d7e',
          outputs: {},
          resources: [
            instance('json', { attributes: v0('json.txt', 'from json') }),
            // Terraform's legacy flatmap form: every value a string, lists as "#" count + indexes.
            instance('flat', {
              attributes_flat: {
                id: flat.id,
                text: flat.text,
                sha256: flat.sha256,
                dir,
                name: flat.name,
                'lines.#': '1',
                'lines.0': 'l1',
              },
            }),
          ],
          check_results: null,
        },
        null,
        2,
      ),
    );
    t.expectTf(0, 'init');
  });
  afterAll(() => {
    t.tf('destroy', '-auto-approve');
    t.cleanup();
  });

  test('plan upgrades both (JSON and flatmap) and finds the objects unchanged', () => {
    const r = t.expectTf(0, 'plan', '-detailed-exitcode');
    expect(r.stdout).toMatch(/No changes/);
    // One warning per upgraded object; terraform prints the first and counts the similar ones.
    expect(r.output).toMatch(/Warning: rtfixture_file state upgraded from schema version 0/);
    expect(r.output).toMatch(/\(and one more similar warning elsewhere\)/);
  });

  test('apply stores the upgraded state under the current schema version', () => {
    t.expectTf(0, 'apply', '-auto-approve');
    const stored = JSON.parse(fs.readFileSync(t.path('terraform.tfstate'), 'utf8'));
    const byName = Object.fromEntries(stored.resources.map((r: any) => [r.name, r.instances[0]]));
    for (const [name, content] of [
      ['json', 'from json'],
      ['flat', 'from flatmap'],
    ]) {
      expect(byName[name].schema_version).toBe(1);
      expect(byName[name].attributes_flat).toBeUndefined();
      expect(byName[name].attributes).toEqual({
        id: path.join(dir, `${name}.txt`),
        content,
        sha256: sha(`${content}\nl1`),
        tag: null,
        lines: ['l1'],
        location: { dir, name: `${name}.txt` },
      });
    }
    t.expectTf(0, 'plan', '-detailed-exitcode');
  });
});
