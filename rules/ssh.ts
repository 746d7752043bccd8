/**
 * How a node is reached over SSH: the settings an operator may give (cluster-wide, then per
 * node), their defaults, and the one mapping from a node to the target the SSH layer connects
 * to. The constructs, the inventory loader, the provider and the calico-net commands all use it.
 */
import * as os from 'os';
import * as path from 'path';
import type { SshTarget } from '../providers/ssh/types';

export interface SshSettings {
  /** @default "root" */
  readonly user?: string;
  /** @default 22 */
  readonly port?: number;
  /** Private key file on the machine running Terraform. @default ssh-agent (SSH_AUTH_SOCK) */
  readonly privateKeyPath?: string;
  /** Name of the environment variable holding the key's passphrase (never the passphrase). */
  readonly passphraseEnv?: string;
  /** known_hosts for strict host key checking. @default "~/.ssh/known_hosts" */
  readonly knownHostsPath?: string;
  /** Run remote scripts through `sudo -n` (non-root users). @default false */
  readonly sudo?: boolean;
}

export const SSH_DEFAULTS = {
  user: 'root',
  port: 22,
  knownHostsPath: '~/.ssh/known_hosts',
  sudo: false,
} as const;

/** "~" and "~/x" against the home directory of the machine running the tool. */
export function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

/** Node settings over cluster settings, key by key (an unset node key keeps the cluster's). */
export function mergeSsh(cluster: SshSettings | undefined, node: SshSettings | undefined): SshSettings {
  const merged: Record<string, unknown> = { ...cluster };
  for (const [key, value] of Object.entries(node ?? {})) if (value !== undefined) merged[key] = value;
  return merged as SshSettings;
}

/** The SSH target for a host name or address and its settings, defaults applied. */
export function sshTarget(host: string, s: SshSettings): SshTarget {
  return {
    host,
    port: s.port ?? SSH_DEFAULTS.port,
    user: s.user ?? SSH_DEFAULTS.user,
    privateKeyPath: s.privateKeyPath,
    passphraseEnv: s.passphraseEnv,
    knownHostsPath: expandHome(s.knownHostsPath ?? SSH_DEFAULTS.knownHostsPath),
    sudo: s.sudo ?? SSH_DEFAULTS.sudo,
  };
}

/** What a node is reached at: its own SSH host when it has one, else its address. */
export function sshHostOf(node: { readonly address: string; readonly sshHost?: string }): string {
  return node.sshHost ?? node.address;
}
