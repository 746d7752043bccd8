/** installProviderShim and its CLI: layout, stability (lock-file hash), cleanup of strays. */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { installProviderShim, terraformPlatform } from '../../providers/install';
import { REPO } from './provider-process';

let tmp: string;
beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-install-'))));
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('writes #!/bin/sh + exec <node> <entry> at the calico mirror path', () => {
  const shim = installProviderShim({ entry: '/opt/x/dist/providers/main.js', pluginsDir: tmp });
  expect(shim).toBe(path.join(tmp, 'registry.terraform.io/cdktf-calico/calico/0.1.0', terraformPlatform(), 'terraform-provider-calico_v0.1.0'));
  const text = fs.readFileSync(shim, 'utf8');
  expect(text.startsWith('#!/bin/sh\n')).toBe(true);
  expect(text).toContain(`exec '${process.execPath}' '/opt/x/dist/providers/main.js' "$@"`);
  expect(fs.statSync(shim).mode & 0o755).toBe(0o755);
});

test('is stable: an unchanged shim is not rewritten; a changed entry is; strays are removed', () => {
  const shim = installProviderShim({ entry: '/a/main.js', pluginsDir: tmp });
  const past = new Date(Math.floor(Date.now() / 1000) * 1000 - 3600_000);
  fs.utimesSync(shim, past, past);
  const inode = fs.statSync(shim).ino;
  installProviderShim({ entry: '/a/main.js', pluginsDir: tmp });
  expect(Math.round(fs.statSync(shim).mtimeMs)).toBe(past.getTime());
  expect(fs.statSync(shim).ino).toBe(inode);

  fs.writeFileSync(path.join(path.dirname(shim), 'terraform-provider-calico.js'), '// stray');
  installProviderShim({ entry: '/b/main.js', pluginsDir: tmp });
  expect(fs.readFileSync(shim, 'utf8')).toContain("'/b/main.js'");
  expect(fs.readdirSync(path.dirname(shim))).toEqual(['terraform-provider-calico_v0.1.0']);
});

test('quotes paths with spaces and quotes for /bin/sh', () => {
  const shim = installProviderShim({ entry: "/it's here/main.js", pluginsDir: tmp, nodePath: '/n o/node' });
  const r = spawnSync('/bin/sh', ['-n', shim]);
  expect(r.status).toBe(0);
  expect(fs.readFileSync(shim, 'utf8')).toContain(`exec '/n o/node' '/it'\\''s here/main.js' "$@"`);
});

test('the CLI installs the calico shim pointing at dist/providers/main.js', () => {
  const r = spawnSync(process.execPath, [path.join(REPO, 'dist/providers/install/cli.js'), '--plugins-dir', tmp], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  const shim = path.join(tmp, 'registry.terraform.io/cdktf-calico/calico/0.1.0', terraformPlatform(), 'terraform-provider-calico_v0.1.0');
  expect(fs.readFileSync(shim, 'utf8')).toContain(`'${path.join(REPO, 'dist/providers/main.js')}'`);
});
