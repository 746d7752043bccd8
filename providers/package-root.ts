import * as fs from 'fs';
import * as path from 'path';

interface Manifest {
  name: string;
  version: string;
}

let found: { dir: string; manifest: Manifest } | undefined;

function locate(): { dir: string; manifest: Manifest } {
  if (found) return found;
  let dir = __dirname;
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest;
      if (manifest.name === 'cdktf-calico') return (found = { dir, manifest });
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the cdktf-calico package root above ${__dirname}`);
    dir = parent;
  }
}

/**
 * The directory holding this package's package.json. Code runs both from the TypeScript sources
 * (jest) and from dist/ (terraform, cdktf), at different depths, so paths to templates, dist/
 * and node_modules are resolved from here rather than from __dirname.
 */
export function packageRoot(): string {
  return locate().dir;
}

/**
 * What Terraform's shim runs: the launcher (providers/start.ts), which starts the one-file bundle
 * when it is current and dist/providers/main.js otherwise.
 */
export function providerLauncher(): string {
  return path.join(packageRoot(), 'dist', 'providers', 'start.js');
}

/** The package's version: package.json is its one owner (the provider's version is this one). */
export function packageVersion(): string {
  return locate().manifest.version;
}
