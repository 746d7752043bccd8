import * as fs from 'fs';
import * as path from 'path';

/**
 * The directory holding this package's package.json. Code runs both from the TypeScript sources
 * (jest) and from dist/ (terraform, cdktf), at different depths, so paths to templates, dist/
 * and node_modules are resolved from here rather than from __dirname.
 */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === 'cdktf-calico') {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the cdktf-calico package root above ${__dirname}`);
    dir = parent;
  }
}
