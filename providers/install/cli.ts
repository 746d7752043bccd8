#!/usr/bin/env node
/**
 * `node dist/providers/install/cli.js [--plugins-dir DIR]` — installs the calico provider shim
 * (pointing at <repo>/dist/providers/main.js) into Terraform's implied local mirror. Run from
 * package.json postinstall/prepare; never fails the npm install (prints a warning instead).
 */
import * as path from 'path';
import { installProviderShim } from './index';

function main(argv: string[]): number {
  const i = argv.indexOf('--plugins-dir');
  const pluginsDir = i >= 0 ? argv[i + 1] : undefined;
  // dist/providers/install/cli.js → dist/providers/main.js
  const entry = path.resolve(__dirname, '..', 'main.js');
  try {
    const shim = installProviderShim({ entry, pluginsDir: pluginsDir ? path.resolve(pluginsDir) : undefined });
    process.stdout.write(`calico provider shim: ${shim} -> ${entry}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`warning: could not install the calico provider shim: ${err instanceof Error ? err.message : String(err)}\n`);
    return argv.includes('--strict') ? 1 : 0;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
