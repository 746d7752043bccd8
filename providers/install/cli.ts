/**
 * `calico-net provider install [--plugins-dir DIR]`: the explicit, opt-in global install, for
 * running `terraform` from directories that are not synthesized stacks. Writes the shim (pointing
 * at this package's dist/providers/start.js) into ~/.terraform.d/plugins, or DIR. Nothing else
 * ever writes there: synthesis puts the provider into each stack directory.
 */
import * as path from 'path';
import { providerLauncher } from '../package-root';
import { installProviderShim } from './mirror';

const USAGE = 'usage: calico-net provider install [--plugins-dir DIR]';

export function providerCommand(argv: string[]): number {
  const [sub, ...rest] = argv;
  if (sub !== 'install') {
    process.stderr.write(`${USAGE}\n`);
    return 1;
  }
  let pluginsDir: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--plugins-dir' && rest[i + 1] !== undefined) pluginsDir = path.resolve(rest[++i]);
    else {
      process.stderr.write(`calico-net provider install: unexpected argument "${rest[i]}"\n${USAGE}\n`);
      return 1;
    }
  }
  const entry = providerLauncher();
  const shim = installProviderShim({ entry, pluginsDir });
  process.stdout.write(`calico provider: ${shim} -> ${entry}\n`);
  process.stdout.write('Terraform finds it there only while your CLI config has no provider_installation block.\n');
  return 0;
}
