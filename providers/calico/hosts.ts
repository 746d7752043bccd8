/**
 * How handlers reach a node. The provider state carries a HostResolver; in production it wraps
 * the ssh2 pool, in tests anything that runs scripts inside a node's namespaces.
 */
import * as os from 'os';
import * as path from 'path';
import { UnreachableError, ObjectValue, ProviderError, Unknown, Value } from '../runtime/resource';
import { RemoteHost, RemoteResult, SshConnectionError, SshTarget } from '../ssh/types';
import type { HostSnapshots } from './host-snapshot';

export interface HostResolver {
  /** The host described by a resource's `ssh` block; nodeName is for labels and messages. */
  hostFor(ssh: ObjectValue, nodeName: string): RemoteHost;
}

/** What configure() returns and every handler receives as ctx.provider. */
export interface CalicoProviderState {
  /** For scripts that change a host; each drops that host's snapshot (see calicoState). */
  hosts: HostResolver;
  /** What reads use: one snapshot per host per provider process. */
  snapshots: HostSnapshots;
  /** Releases connections (the ssh2 pool); called from the provider's close(). */
  close?(): Promise<void> | void;
}

/** The `ssh` block with the schema's documented defaults applied. */
export function sshTargetFromBlock(ssh: ObjectValue): SshTarget {
  const str = (v: Value | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
  const host = str(ssh.host);
  if (!host) throw new ProviderError('ssh.host is not known', { attribute: ['ssh', 'host'] });
  return {
    host,
    port: typeof ssh.port === 'number' ? ssh.port : 22,
    user: str(ssh.user) ?? 'root',
    privateKeyPath: str(ssh.private_key_path),
    passphraseEnv: str(ssh.passphrase_env),
    knownHostsPath: str(ssh.known_hosts_path) ?? path.join(os.homedir(), '.ssh', 'known_hosts'),
    sudo: ssh.sudo === true,
  };
}

/** The resource's ssh block; missing or unknown is a programming error by then. */
export function sshBlockOf(obj: ObjectValue): ObjectValue {
  const ssh = obj.ssh;
  if (!ssh || ssh === Unknown || typeof ssh !== 'object' || Array.isArray(ssh)) {
    throw new ProviderError('The ssh block is missing', { attribute: ['ssh'] });
  }
  return ssh as ObjectValue;
}

/**
 * Runs one script on a node. A transport failure (the promise rejecting) becomes an error naming
 * the node: unreachable is never "absent". A host that could not be reached at all raises
 * UnreachableError (on refresh the runtime keeps the last state and plans a retry); a host
 * that answered but was refused (host key, login) is a plain error that stops the plan.
 */
export async function runOn(
  host: RemoteHost,
  nodeName: string,
  script: string,
  opts: { stdin?: string; signal?: AbortSignal; doing: string },
): Promise<RemoteResult> {
  try {
    return await host.run(script, { stdin: opts.stdin, signal: opts.signal });
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    if (err instanceof SshConnectionError && err.kind !== 'unreachable') {
      throw new ProviderError(`Refused to work on node ${nodeName} (${host.label})`, { detail });
    }
    throw new UnreachableError(`Cannot reach node ${nodeName} (${host.label}) to ${opts.doing}`, { detail });
  }
}

/** Runs a script that must succeed; a non-zero exit becomes an error carrying its stderr. */
export async function runChecked(
  host: RemoteHost,
  nodeName: string,
  script: string,
  opts: { stdin?: string; signal?: AbortSignal; doing: string },
): Promise<string> {
  const result = await runOn(host, nodeName, script, opts);
  if (result.code !== 0) {
    const detail = (result.stderr.trim() || result.stdout.trim() || `exit code ${result.code}`).slice(0, 4000);
    throw new ProviderError(`Failed to ${opts.doing} on node ${nodeName}`, { detail });
  }
  return result.stdout;
}

/**
 * Parses the `key=value` lines our read scripts print. The last line must be `end=ok`, so a
 * script cut short (or a login banner on stdout) cannot pass for a host without our objects.
 */
export function parseFacts(stdout: string, nodeName: string): Map<string, string> {
  const facts = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) facts.set(line.slice(0, eq), line.slice(eq + 1));
  }
  if (facts.get('end') !== 'ok') {
    throw new ProviderError(`Incomplete answer from node ${nodeName}`, { detail: stdout.slice(0, 2000) });
  }
  return facts;
}
