/**
 * What Terraform's shim runs (providers/install): the provider, started as fast as this Node
 * allows. Terraform starts a provider about three times per command, so its start-up is paid
 * three times per plan.
 *
 * - Node's module compile cache (module.enableCompileCache, Node >= 22.1; Node 20 has none) keeps
 *   V8's compiled code between starts, in Node's default cache directory under the OS temp dir.
 * - The one-file bundle (dist/providers/provider.js, scripts/bundle-provider.js) loads one file
 *   instead of some 200 modules. It is used only when it is at least as new as main.js: a build
 *   with tsc alone never runs a bundle of older code; it runs main.js.
 */
import * as fs from 'fs';
import * as path from 'path';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- enableCompileCache is missing from @types/node 20: typed here as optional
const cacheable = require('module') as { enableCompileCache?: () => unknown };
try {
  cacheable.enableCompileCache?.();
} catch {
  // A cache that cannot be opened (read-only temp dir) costs speed, never the start.
}

/** The file to run: the bundle when it is current, else the compiled entry. */
export function providerEntry(dir: string = __dirname): string {
  const main = path.join(dir, 'main.js');
  const bundle = path.join(dir, 'provider.js');
  try {
    if (fs.statSync(bundle).mtimeMs >= fs.statSync(main).mtimeMs) return bundle;
  } catch {
    // No bundle (or no main.js beside it): the compiled entry.
  }
  return main;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the entry is chosen at run time (bundle or main.js)
if (require.main === module) require(providerEntry());
