/**
 * Installs a provider into a Terraform implied local mirror without network or manual steps: a
 * tiny shell shim `terraform-provider-TYPE_vVERSION` that execs node on the compiled provider.
 *
 * The shim's bytes depend only on the node binary and the entry path, and it is rewritten only
 * when they change — Terraform's lock file hashes (h1:) every file of that directory, so a stable
 * shim keeps `terraform init` quiet across rebuilds.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface ProviderSource {
  hostname: string;
  namespace: string;
  type: string;
}

export interface InstallShimOptions {
  /** Absolute path of a compiled provider main .js. */
  entry: string;
  source?: ProviderSource;
  version?: string;
  /** Default ~/.terraform.d/plugins (one of Terraform's implied local mirrors). */
  pluginsDir?: string;
  /** Node binary the shim runs; default the one running the installer. */
  nodePath?: string;
}

export const CALICO_SOURCE: ProviderSource = { hostname: 'registry.terraform.io', namespace: 'cdktf-calico', type: 'calico' };
export const CALICO_VERSION = '0.1.0';

/** Terraform's OS_ARCH platform name for this machine (linux_amd64, darwin_arm64, ...). */
export function terraformPlatform(platform: string = process.platform, arch: string = process.arch): string {
  const archMap: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm' };
  return `${platform === 'win32' ? 'windows' : platform}_${archMap[arch] ?? arch}`;
}

export function defaultPluginsDir(): string {
  return path.join(os.homedir(), '.terraform.d', 'plugins');
}

/** Single-quoted for /bin/sh. */
function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function shimContent(nodePath: string, entry: string): string {
  return `#!/bin/sh\n# Installed by cdktf-calico (providers/install). Runs the provider with node.\nexec ${shellQuote(nodePath)} ${shellQuote(entry)} "$@"\n`;
}

/** Writes (or keeps) the shim; returns its path. */
export function installProviderShim(opts: InstallShimOptions): string {
  if (!path.isAbsolute(opts.entry)) throw new Error(`installProviderShim: entry must be absolute, got ${opts.entry}`);
  const source = opts.source ?? CALICO_SOURCE;
  const version = opts.version ?? CALICO_VERSION;
  const dir = path.join(opts.pluginsDir ?? defaultPluginsDir(), source.hostname, source.namespace, source.type, version, terraformPlatform());
  const shimName = `terraform-provider-${source.type}_v${version}`;
  const shimPath = path.join(dir, shimName);
  const content = shimContent(opts.nodePath ?? process.execPath, opts.entry);

  fs.mkdirSync(dir, { recursive: true });
  // Terraform runs the first file named terraform-provider-TYPE* and hashes the whole directory:
  // anything else there (an old build, a stray .js) would be run or would change the hash.
  for (const name of fs.readdirSync(dir)) {
    if (name !== shimName) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
  }
  let current: string | undefined;
  try {
    current = fs.readFileSync(shimPath, 'utf8');
  } catch {
    current = undefined;
  }
  if (current !== content) {
    const tmp = path.join(os.tmpdir(), `.${shimName}.${process.pid}.tmp`);
    fs.writeFileSync(tmp, content, { mode: 0o755 });
    try {
      fs.renameSync(tmp, shimPath);
    } catch {
      // Different filesystem: copy instead of rename.
      fs.copyFileSync(tmp, shimPath);
      fs.rmSync(tmp, { force: true });
    }
  }
  if ((fs.statSync(shimPath).mode & 0o111) === 0) fs.chmodSync(shimPath, 0o755);
  return shimPath;
}
