/**
 * What an OpenSSH client config (ssh_config(5)) says about a host, read with the maintained
 * `ssh-config` parser. Only the settings we map are taken (HostName, User, Port, IdentityFile,
 * ProxyJump); `Match exec` is never evaluated: reading a config must not run commands.
 */
import * as fs from 'fs';
import * as os from 'os';
import SSHConfig from 'ssh-config';

/** The ssh_config settings we use, as found for one host (absent = the file does not say). */
export interface SshConfigEntry {
  hostName?: string;
  user?: string;
  port?: number;
  identityFile?: string;
  proxyJump?: string;
}

/** ssh_config cannot be used as written (unreadable file, a value we cannot map). */
export class SshConfigError extends Error {}

const parsed = new Map<string, SSHConfig>();

function load(file: string): SSHConfig {
  let config = parsed.get(file);
  if (!config) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new SshConfigError(
        `cannot read ssh_config ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    config = SSHConfig.parse(text);
    parsed.set(file, config);
  }
  return config;
}

/**
 * Expands the tokens ssh_config allows in HostName and IdentityFile that we can know without
 * connecting (%h, %d, %%); any other token is refused rather than passed on literally.
 */
function expandTokens(value: string, host: string, setting: string, file: string): string {
  return value.replace(/%(.)/g, (_, t: string) => {
    if (t === '%') return '%';
    if (t === 'h') return host;
    if (t === 'd') return os.homedir();
    throw new SshConfigError(
      `${file}: ${setting} "${value}" uses %${t}, which is not supported here (only %h, %d, %%)`,
    );
  });
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** The settings `file` gives `host` (first value wins, as in OpenSSH). */
export function sshConfigFor(file: string, host: string): SshConfigEntry {
  const computed = load(file).compute(host, { ignoreCase: true, matchExec: false });
  const entry: SshConfigEntry = {};
  const hostName = first(computed.hostname);
  if (hostName !== undefined) entry.hostName = expandTokens(hostName, host, 'HostName', file);
  const user = first(computed.user);
  if (user !== undefined) entry.user = user;
  const port = first(computed.port);
  if (port !== undefined) {
    const n = Number(port);
    if (!/^[0-9]+$/.test(port) || n < 1 || n > 65535)
      throw new SshConfigError(`${file}: Port "${port}" for ${host} is not a port number`);
    entry.port = n;
  }
  const identity = first(computed.identityfile);
  if (identity !== undefined && identity.toLowerCase() !== 'none') {
    entry.identityFile = expandTokens(identity, host, 'IdentityFile', file);
  }
  const jump = first(computed.proxyjump);
  if (jump !== undefined) entry.proxyJump = jump;
  return entry;
}

/** Forgets parsed files (tests that rewrite a config in place). */
export function clearSshConfigCache(): void {
  parsed.clear();
}
