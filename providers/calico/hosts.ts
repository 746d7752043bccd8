/**
 * How handlers reach a node. The provider state carries a HostResolver; in production it wraps
 * the ssh2 pool, in tests anything that runs scripts inside a node's namespaces.
 */
import { ProviderError, UnreachableError } from '../runtime/resource';
import { RemoteHost, RemoteResult, SshConnectionError, SshTarget } from '../ssh/types';
import { sshTarget } from '../../rules/ssh';
import type { HostSnapshots } from './host-snapshot';
import type { SshBlock } from './schema';

export interface HostResolver {
  /** The host described by a resource's `ssh` block; nodeName is for labels and messages. */
  hostFor(ssh: SshBlock, nodeName: string): RemoteHost;
}

/** What configure() returns and every handler receives as ctx.provider. */
export interface CalicoProviderState {
  /** For scripts that change a host; each drops that host's snapshot (see calicoState). */
  hosts: HostResolver;
  /** For scripts that only read (the snapshot does not cover them): they keep the snapshot. */
  readOnlyHosts: HostResolver;
  /** What reads use: one snapshot per host per provider process. */
  snapshots: HostSnapshots;
  /** Releases connections (the ssh2 pool); called from the provider's close(). */
  close?(): Promise<void> | void;
}

/** The `ssh` block with the documented defaults applied (rules/ssh.ts owns them). */
export function sshTargetFromBlock(ssh: SshBlock): SshTarget {
  // The runtime ran the schema's checks (proxy_jump, one key per hop) on the block, stored or
  // imported ones too; sshTarget refuses a bad jump of its own accord as well.
  return sshTarget(ssh.host, {
    proxyJump: ssh.proxy_jump ?? undefined,
    proxyJumpKeys: ssh.proxy_jump_keys ?? undefined,
    port: ssh.port ?? undefined,
    user: ssh.user ?? undefined,
    privateKeyPath: ssh.private_key_path ?? undefined,
    passphraseEnv: ssh.passphrase_env ?? undefined,
    knownHostsPath: ssh.known_hosts_path ?? undefined,
    sudo: ssh.sudo ?? undefined,
  });
}

interface RunOptions {
  stdin?: string;
  signal?: AbortSignal;
  /** What the script does, for messages: "Cannot reach node n1 (198.18.0.1) to <doing>". */
  doing: string;
}

/**
 * Runs one script on a node. A transport failure (the promise rejecting) becomes an error naming
 * the node: unreachable is never "absent". A host that could not be reached at all raises
 * UnreachableError (on refresh the runtime keeps the last state and plans a retry); a host that
 * answered but was refused (host key, login) is a plain error that stops the plan.
 */
export async function runOn(
  host: RemoteHost,
  nodeName: string,
  script: string,
  opts: RunOptions,
): Promise<RemoteResult> {
  try {
    return await host.run(script, { stdin: opts.stdin, signal: opts.signal });
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    // Behind a bastion the summary says which side failed: "... through bastion 198.18.35.1".
    const through = err instanceof SshConnectionError && err.through ? ` through bastion ${err.through.bastion}` : '';
    if (err instanceof SshConnectionError && err.kind !== 'unreachable') {
      throw new ProviderError(`Refused to work on node ${nodeName} (${host.label})${through}`, { detail });
    }
    throw new UnreachableError(`Cannot reach node ${nodeName} (${host.label})${through} to ${opts.doing}`, { detail });
  }
}

/** Runs a script that must succeed; a non-zero exit becomes an error carrying its stderr. */
export async function runChecked(
  host: RemoteHost,
  nodeName: string,
  script: string,
  opts: RunOptions,
): Promise<string> {
  const result = await runOn(host, nodeName, script, opts);
  if (result.code !== 0) {
    const detail = (result.stderr.trim() || result.stdout.trim() || `exit code ${result.code}`).slice(0, 4000);
    throw new ProviderError(`Failed to ${opts.doing} on node ${nodeName}`, { detail });
  }
  return result.stdout;
}

/**
 * Parses the `key=value` lines our apply scripts print. The last line must be `end=ok`, so a
 * script cut short (or a login banner on stdout) cannot pass for a finished one.
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
