import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { terraformHome } from './global-teardown';

/**
 * Compiles the project once per jest run: terraform, cdktf and the provider shim run the
 * compiled JavaScript in dist/, never the TypeScript sources the tests import. A type error
 * stops the run: suites must never run against a stale dist/.
 */
export default function globalSetup(): void {
  // For global-teardown.ts: whether Terraform's home directory was there before the run.
  (globalThis as { terraformHomeBefore?: boolean }).terraformHomeBefore = fs.existsSync(terraformHome());
  const root = path.resolve(__dirname, '..');
  const tsc = require.resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new Error(`TypeScript build failed:\n${result.stdout}${result.stderr}`);
  }
  // The one-file provider Terraform's shim starts (scripts/bundle-provider.js), from this dist/.
  const bundle = spawnSync(process.execPath, [path.join(root, 'scripts', 'bundle-provider.js')], {
    cwd: root,
    encoding: 'utf8',
  });
  if (bundle.status !== 0) throw new Error(`provider bundle failed:\n${bundle.stdout}${bundle.stderr}`);
}
