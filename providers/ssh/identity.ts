/**
 * What makes two SSH targets the same, for everything that is cached per host: the pool's
 * connections and shells, and the host snapshot of a provider process.
 *
 * Two keys, for two questions:
 * - reachKey: who we are and how we get there. Every setting that decides which machine answers
 *   (host, port, and the whole jump chain: the same address behind two bastions is two hosts)
 *   and what we are allowed to do there (user, key file or ssh-agent, passphrase variable,
 *   known_hosts file, each hop's own). A connection, a shell or a read made under one reachKey
 *   never answers for another: a resource that declares other credentials logs in with its own
 *   and fails or succeeds on its own.
 * - placeKey: which machine, whoever asks (host, port, and the places of the hops). A change made
 *   through one identity makes every read of that place stale, whichever identity made it.
 */
import * as os from 'os';
import * as path from 'path';
import type { SshJump, SshTarget } from './types';

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

/**
 * The last hop of a target's chain as a target of its own, reached through the hops before it.
 * A hop without a key of its own logs in as the target does, so every remaining hop gets that
 * key written out ("" = ssh-agent): from the bastion's side, its own key would be the fallback.
 */
export function bastionOf(target: SshTarget): SshTarget {
  const inherit = (j: SshJump): SshJump => ({ ...j, privateKeyPath: j.privateKeyPath ?? target.privateKeyPath ?? '' });
  const jumps = (target.jumps ?? []).map(inherit);
  const hop = jumps[jumps.length - 1];
  return {
    ...target,
    host: hop.host,
    port: hop.port,
    user: hop.user,
    privateKeyPath: hop.privateKeyPath,
    sudo: false,
    jumps: jumps.slice(0, -1),
  };
}

/** The credentials a login uses: a key file (with its passphrase variable), or the agent. */
function credentialsOf(t: SshTarget): string {
  return t.privateKeyPath
    ? `key ${expandHome(t.privateKeyPath)}${t.passphraseEnv ? ` passphrase $${t.passphraseEnv}` : ''}`
    : 'agent';
}

/**
 * One login, written so that no two different logins share a text: each field JSON-quoted (a
 * user or path cannot fake a separator), the hops before it after " via ", recursively, as the
 * pool connects them (each hop through the ones before it).
 */
export function reachKey(t: SshTarget): string {
  const own = JSON.stringify([t.user, t.host, t.port, credentialsOf(t), expandHome(t.knownHostsPath)]);
  return (t.jumps ?? []).length === 0 ? own : `${own} via ${reachKey(bastionOf(t))}`;
}

/** Which machine a target reaches: host and port, through the same places. */
export function placeKey(t: SshTarget): string {
  const own = JSON.stringify([t.host, t.port]);
  return (t.jumps ?? []).length === 0 ? own : `${own} via ${placeKey(bastionOf(t))}`;
}
