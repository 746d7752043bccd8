/**
 * The contract between the SSH layer (providers/ssh) and its users (the Calico resources, the
 * status/verify commands). Implementations: the ssh2 pool; in tests, anything that runs a bash
 * script on a real host (e.g. inside a lab node's namespaces).
 */

/** One jump host on the way to a target (ProxyJump), first hop first. */
export interface SshJump {
  host: string;
  port: number;
  user: string;
  /** The hop's own private key; when absent, the target's key (or ssh-agent). */
  privateKeyPath?: string;
}

export interface SshTarget {
  /** Address or name to connect to. */
  host: string;
  port: number;
  user: string;
  /** Private key file; when absent, ssh-agent via SSH_AUTH_SOCK. */
  privateKeyPath?: string;
  /** Name of the environment variable holding the key's passphrase. */
  passphraseEnv?: string;
  /** known_hosts used for strict host key checking. */
  knownHostsPath: string;
  /** Wrap every script in `sudo -n` (non-root users). */
  sudo: boolean;
  /**
   * Jump hosts, first hop first; empty or absent = a direct connection. Every hop uses this
   * target's passphrase variable and known_hosts, and its key unless the hop names its own.
   */
  jumps?: readonly SshJump[];
}

export interface RemoteResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to the script's standard input (the script itself travels separately). */
  stdin?: string;
  signal?: AbortSignal;
}

/** A host we can run scripts on. One script = one round trip. */
export interface RemoteHost {
  /** Human name for messages, e.g. "node1 (198.18.0.1)". */
  readonly label: string;
  /** Runs a bash script (as root: through sudo when configured). Never rejects on a non-zero exit. */
  run(script: string, options?: RunOptions): Promise<RemoteResult>;
}

/**
 * Why a connection failed. `unreachable` (refused, timed out, reset, no route) may be transient
 * and means "state unknown"; `host-key` and `auth` mean the host answered and we must not
 * proceed: those are never retried and never treated as unreachable.
 */
export type SshFailureKind = 'unreachable' | 'host-key' | 'auth';

export class SshConnectionError extends Error {
  constructor(
    message: string,
    public readonly kind: SshFailureKind,
    /**
     * Set when the target sits behind a jump host: the hop ("198.18.35.1", with ":port" when not
     * 22) and which side failed: the bastion itself (down, refused, changed key), or the target
     * behind a bastion that answered.
     */
    public readonly through?: { bastion: string; failed: 'bastion' | 'target' },
  ) {
    super(message);
    this.name = 'SshConnectionError';
  }
}
