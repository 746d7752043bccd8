/**
 * Puts a provider where Terraform finds it without network or manual steps: a tiny shell shim
 * `terraform-provider-TYPE_vVERSION` that execs node on the compiled provider, laid out as an
 * "unpacked" filesystem mirror (HOST/NAMESPACE/TYPE/VERSION/OS_ARCH/).
 *
 * The shim's bytes depend only on the node binary and the entry path, and it is rewritten only
 * when they change — Terraform's lock file hashes (h1:) every file of that directory, so a stable
 * shim keeps the lock file valid across rebuilds.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PROVIDER_SOURCE, PROVIDER_VERSION } from '../calico/schema';
import { shQuote } from '../ssh/quote';

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

/** "registry.terraform.io/ns/type" → its parts. */
export function parseProviderSource(source: string): ProviderSource {
  const parts = source.split('/');
  if (parts.length !== 3 || parts.some((p) => p === ''))
    throw new Error(`not a full provider source address: ${source}`);
  return { hostname: parts[0], namespace: parts[1], type: parts[2] };
}

export const CALICO_SOURCE: ProviderSource = parseProviderSource(PROVIDER_SOURCE);
export const CALICO_VERSION = PROVIDER_VERSION;

export function sourceAddress(source: ProviderSource): string {
  return `${source.hostname}/${source.namespace}/${source.type}`;
}

/** Terraform's OS_ARCH platform name for this machine (linux_amd64, darwin_arm64, ...). */
export function terraformPlatform(platform: string = process.platform, arch: string = process.arch): string {
  const archMap: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm' };
  return `${platform === 'win32' ? 'windows' : platform}_${archMap[arch] ?? arch}`;
}

export function defaultPluginsDir(): string {
  return path.join(os.homedir(), '.terraform.d', 'plugins');
}

/** The directory of one provider package inside a mirror (what the h1: hash covers). */
export function packageDirIn(
  pluginsDir: string,
  source: ProviderSource = CALICO_SOURCE,
  version: string = CALICO_VERSION,
): string {
  return path.join(pluginsDir, source.hostname, source.namespace, source.type, version, terraformPlatform());
}

export function shimName(source: ProviderSource = CALICO_SOURCE, version: string = CALICO_VERSION): string {
  return `terraform-provider-${source.type}_v${version}`;
}

export function shimContent(nodePath: string, entry: string): string {
  return `#!/bin/sh\n# Installed by cdktf-calico (providers/install). Runs the provider with node.\nexec ${shQuote(nodePath)} ${shQuote(entry)} "$@"\n`;
}

/**
 * Writes `content` to `file` unless it already holds exactly that. Atomic: a temporary file in
 * `tmpDir` (same filesystem; default the file's directory) renamed over the target.
 */
export function writeIfChanged(
  file: string,
  content: string,
  mode?: number,
  tmpDir: string = path.dirname(file),
): boolean {
  let current: string | undefined;
  try {
    current = fs.readFileSync(file, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === content) {
    if (mode !== undefined && (fs.statSync(file).mode & 0o777) !== mode) fs.chmodSync(file, mode);
    return false;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // pid-unique so two synths at once never write into each other's temporary file.
  const tmp = path.join(tmpDir, `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, content, { mode: mode ?? 0o644 });
  if (mode !== undefined) fs.chmodSync(tmp, mode); // the umask may have narrowed it
  fs.renameSync(tmp, file);
  return true;
}

/** Writes (or keeps) the shim; returns its path. */
export function installProviderShim(opts: InstallShimOptions): string {
  if (!path.isAbsolute(opts.entry)) throw new Error(`installProviderShim: entry must be absolute, got ${opts.entry}`);
  const source = opts.source ?? CALICO_SOURCE;
  const version = opts.version ?? CALICO_VERSION;
  const dir = packageDirIn(opts.pluginsDir ?? defaultPluginsDir(), source, version);
  const name = shimName(source, version);
  const shimPath = path.join(dir, name);
  fs.mkdirSync(dir, { recursive: true });
  // Terraform runs the first file named terraform-provider-TYPE* and hashes the whole directory:
  // anything else there (an old build, a stray .js) would be run or would change the hash.
  for (const entry of fs.readdirSync(dir)) {
    if (entry !== name) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
  }
  // The temporary file goes one level up, outside the hashed directory: a write killed half-way
  // must not leave a file there that changes the package's hash.
  writeIfChanged(shimPath, shimContent(opts.nodePath ?? process.execPath, opts.entry), 0o755, path.dirname(dir));
  return shimPath;
}
