/**
 * Makes one synthesized stack directory self-sufficient: our provider's shim in the stack's own
 * implied local mirror (`terraform.d/plugins`, which Terraform searches relative to its current
 * directory, where cdktf runs it) and a `.terraform.lock.hcl` that already names it, so cdktf
 * sees a complete lock file and never runs `terraform providers lock`.
 *
 * `terraform -chdir=cdktf.out/stacks/<name> …` keeps searching `terraform.d/plugins` relative to
 * the directory it was started in (hashicorp/terraform#31442), so the same shim also goes into the
 * project directory's `terraform.d/plugins`: from the project root both routes find the same bytes,
 * hence the same h1: hash the lock file records.
 *
 * Everything written lies inside the user's project; nothing goes to HOME.
 */
import * as fs from 'fs';
import * as path from 'path';
import { PROVIDER_VERSION } from '../calico/schema';
import { CALICO_SOURCE, installProviderShim, packageDirIn, sourceAddress, writeIfChanged } from './mirror';
import { hash1, lockFileWithProvider, providerLockBlock } from './lock-file';

export interface StackProviderFiles {
  /** The shim inside the stack directory. */
  stackShim: string;
  /** The shim in the project directory's mirror (for -chdir), when a project directory was given. */
  projectShim?: string;
  lockFile: string;
  hash: string;
}

export function writeStackProvider(opts: {
  stackDir: string;
  /** The cdktf project root (where cdktf.json lives); receives a copy for `terraform -chdir`. */
  projectDir?: string;
  entry: string;
  nodePath?: string;
}): StackProviderFiles {
  const version = PROVIDER_VERSION;
  const shim = (pluginsDir: string): string =>
    installProviderShim({ entry: opts.entry, nodePath: opts.nodePath, pluginsDir, source: CALICO_SOURCE, version });
  const stackShim = shim(path.join(opts.stackDir, 'terraform.d', 'plugins'));
  const projectShim = opts.projectDir ? shim(path.join(opts.projectDir, 'terraform.d', 'plugins')) : undefined;

  const hash = hash1(packageDirIn(path.join(opts.stackDir, 'terraform.d', 'plugins'), CALICO_SOURCE, version));
  const address = sourceAddress(CALICO_SOURCE);
  const lockFile = path.join(opts.stackDir, '.terraform.lock.hcl');
  let existing: string | undefined;
  try {
    existing = fs.readFileSync(lockFile, 'utf8');
  } catch {
    existing = undefined;
  }
  const block = providerLockBlock(address, version, version, [hash]);
  // Unchanged bytes leave the file (and its mtime) alone.
  if (!existing?.includes(block)) writeIfChanged(lockFile, lockFileWithProvider(existing, address, block));
  return { stackShim, projectShim, lockFile, hash };
}
