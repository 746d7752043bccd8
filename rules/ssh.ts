/**
 * How a node is reached over SSH: the settings an operator may give (cluster-wide, then per
 * node), their defaults, and the one mapping from a node to the target the SSH layer connects
 * to. The constructs, the inventory loader, the provider and the calico-net commands all use it.
 */
import * as os from 'os';
import * as path from 'path';
import type { SshJump, SshTarget } from '../providers/ssh/types';
import { hostNameProblem, userNameProblem } from './checks';
import { SshConfigError, sshConfigFor } from './ssh-config';

export interface SshSettings {
  /** @default "root" */
  readonly user?: string;
  /** @default 22 */
  readonly port?: number;
  /** Private key file on the machine running Terraform. @default ssh-agent (SSH_AUTH_SOCK) */
  readonly privateKeyPath?: string;
  /** Name of the environment variable holding the key's passphrase (never the passphrase). @default none: an unencrypted key */
  readonly passphraseEnv?: string;
  /** known_hosts for strict host key checking. @default "~/.ssh/known_hosts" */
  readonly knownHostsPath?: string;
  /** Run remote scripts through `sudo -n` (non-root users). @default false */
  readonly sudo?: boolean;
  /**
   * Jump host(s) in OpenSSH's ProxyJump form: `[user@]host[:port]`, or a comma-separated chain
   * (first hop first). Each hop is verified against the same known_hosts and logs in with the
   * same key/agent rules; a hop without a user uses this node's user. `none` disables a
   * cluster-wide setting for one node. @default direct connection
   */
  readonly proxyJump?: string;
  /**
   * The private key each proxyJump hop logs in with, first hop first: one entry per hop, "" for
   * the node's own key (or the agent). ssh_config supplies it from a hop's IdentityFile. Every
   * hop uses the node's passphraseEnv and knownHostsPath. @default every hop uses the node's key
   */
  readonly proxyJumpKeys?: readonly string[];
  /**
   * Read an OpenSSH client config: `true` for ~/.ssh/config, or a path. Host entries matching the
   * node's SSH host supply HostName, User, Port, IdentityFile and ProxyJump where these settings
   * do not say; ProxyJump hops are looked up too (HostName, User, Port, IdentityFile into
   * proxyJumpKeys, and the first hop's own ProxyJump, as OpenSSH does). @default not read
   */
  readonly sshConfig?: string | boolean;
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

/**
 * Node settings over cluster settings, key by key (an unset node key keeps the cluster's); the
 * hops' keys belong to their hops, so a node's own proxyJump does not inherit the cluster's.
 */
export function mergeSsh(cluster: SshSettings | undefined, node: SshSettings | undefined): SshSettings {
  const merged: Record<string, unknown> = { ...cluster };
  if (node?.proxyJump !== undefined) delete merged.proxyJumpKeys;
  for (const [key, value] of Object.entries(node ?? {})) if (value !== undefined) merged[key] = value;
  return merged as SshSettings;
}

/** The ProxyJump value that means "connect directly" (it overrides a cluster-wide jump). */
export const NO_PROXY_JUMP = 'none';
/** More hops than this is a mistake, not a network. */
export const MAX_JUMP_HOPS = 8;

/** One hop of a ProxyJump chain as written: user and port may be left to the defaults. */
export interface JumpHop {
  host: string;
  user?: string;
  port?: number;
}

/**
 * Parses OpenSSH's ProxyJump syntax: comma-separated `[ssh://][user@]host[:port]` hops, a host
 * in brackets when it holds a colon. Returns the hops, or what is wrong with the value.
 */
export function parseProxyJump(spec: string): JumpHop[] | string {
  if (spec.trim() === '') return 'must not be empty (use "none" for a direct connection)';
  if (spec === NO_PROXY_JUMP) return [];
  const parts = spec.split(',');
  if (parts.length > MAX_JUMP_HOPS) return `has ${parts.length} hops; at most ${MAX_JUMP_HOPS}`;
  const hops: JumpHop[] = [];
  for (const raw of parts) {
    const part = raw.startsWith('ssh://') ? raw.slice(6) : raw;
    const at = part.lastIndexOf('@');
    const user = at >= 0 ? part.slice(0, at) : undefined;
    let rest = at >= 0 ? part.slice(at + 1) : part;
    let portText: string | undefined;
    let host: string;
    const bracket = /^\[([^\]]+)\](?::(.*))?$/.exec(rest);
    if (bracket) {
      host = bracket[1];
      portText = bracket[2];
    } else {
      const colon = rest.indexOf(':');
      if (colon >= 0 && rest.indexOf(':', colon + 1) < 0) {
        portText = rest.slice(colon + 1);
        rest = rest.slice(0, colon);
      }
      host = rest;
    }
    const where = `hop "${raw}"`;
    if (user !== undefined && userNameProblem(user)) return `${where}: ${userNameProblem(user)}`;
    if (hostNameProblem(host)) return `${where}: ${hostNameProblem(host)}`;
    let port: number | undefined;
    if (portText !== undefined) {
      port = Number(portText);
      if (!/^[0-9]{1,5}$/.test(portText) || port < 1 || port > 65535)
        return `${where}: "${portText}" is not a port number (1..65535)`;
    }
    hops.push({ host, user, port });
  }
  return hops;
}

/** proxyJumpKeys must name one key (or "") per proxyJump hop; null when it does. */
export function proxyJumpKeysProblem(
  proxyJump: string | undefined,
  keys: readonly string[] | undefined,
): string | null {
  if (keys === undefined) return null;
  const hops = proxyJump === undefined ? [] : parseProxyJump(proxyJump);
  if (typeof hops === 'string') return null; // proxyJump's own problem, reported for it
  if (keys.length === hops.length) return null;
  const entries = `${keys.length} ${keys.length === 1 ? 'entry' : 'entries'}`;
  const of = hops.length === 0 ? 'no proxyJump hops' : `${hops.length} proxyJump ${hops.length === 1 ? 'hop' : 'hops'}`;
  return `has ${entries} for ${of}: give one per hop, first hop first ("" = the node's own key)`;
}

/** A Check for ProxyJump values (the form only; whether the hops answer is found on connect). */
export function proxyJumpProblem(spec: string): string | null {
  const parsed = parseProxyJump(spec);
  return typeof parsed === 'string' ? `"${spec}" is not a ProxyJump value: ${parsed}` : null;
}

/** The hops as SSH targets need them: every user and port filled in. */
function jumpsOf(spec: string | undefined, defaultUser: string, keys: readonly string[] | undefined): SshJump[] {
  const keysProblem = proxyJumpKeysProblem(spec, keys);
  if (keysProblem) throw new Error(`ssh.proxyJumpKeys ${keysProblem}`);
  if (spec === undefined) return [];
  const hops = parseProxyJump(spec);
  if (typeof hops === 'string') throw new Error(`ssh.proxyJump "${spec}": ${hops}`);
  return hops.map((h, i) => {
    const jump: SshJump = { host: h.host, user: h.user ?? defaultUser, port: h.port ?? SSH_DEFAULTS.port };
    if (keys?.[i]) jump.privateKeyPath = expandHome(keys[i]);
    return jump;
  });
}

/** A node's SSH settings after ssh_config: what it is reached at, with what, and why. */
export interface ResolvedSsh {
  /** What to connect to (ssh_config's HostName when it gives one). */
  host: string;
  /** The explicit settings with the gaps ssh_config fills; sshConfig itself is consumed. */
  settings: SshSettings;
  /** The ssh_config settings that decided something here, e.g. ["HostName", "ProxyJump"]. */
  fromSshConfig: string[];
}

/** "~/x" and relative paths in ssh_config are against the home directory, as OpenSSH reads them. */
function configPath(p: string): string {
  const expanded = expandHome(p);
  return path.isAbsolute(expanded) ? expanded : path.join(os.homedir(), '.ssh', expanded);
}

/**
 * A chain as OpenSSH walks it: ssh reaches the first hop with that hop's own settings, so the
 * first hop's ProxyJump (from ssh_config) comes before it, and so on; later hops are reached
 * through the earlier ones, whatever ssh_config says of them.
 */
function withFirstHopJumps(file: string, hops: JumpHop[]): JumpHop[] {
  let chain = hops;
  const seen = new Set<string>();
  for (;;) {
    const first = chain[0].host;
    const own = sshConfigFor(file, first).proxyJump;
    if (own === undefined || own === NO_PROXY_JUMP) return chain;
    if (seen.has(first)) throw new SshConfigError(`${file}: the ProxyJump of ${first} leads back to ${first}`);
    seen.add(first);
    const before = parseProxyJump(own);
    if (typeof before === 'string') throw new SshConfigError(`${file}: ProxyJump "${own}" for ${first}: ${before}`);
    chain = [...before, ...chain];
    if (chain.length > MAX_JUMP_HOPS)
      throw new SshConfigError(`${file}: the ProxyJump chain through ${first} has more than ${MAX_JUMP_HOPS} hops`);
  }
}

/**
 * Applies ssh_config (when the settings ask for it) to a node reached at `host`. What the
 * settings say explicitly wins; ssh_config fills the rest; the defaults come last and are
 * written out, so a plan shows everything a node is reached with. Throws SshConfigError when
 * the file cannot be read or says something we cannot map.
 */
export function resolveSsh(host: string, s: SshSettings): ResolvedSsh {
  const { sshConfig, ...explicit } = s;
  if (sshConfig === undefined || sshConfig === false) return { host, settings: explicit, fromSshConfig: [] };
  const file = sshConfig === true ? path.join(os.homedir(), '.ssh', 'config') : expandHome(sshConfig);
  const entry = sshConfigFor(file, host);
  const from = new Set<string>();
  const pick = <T>(mine: T | undefined, theirs: T | undefined, name: string): T | undefined => {
    if (mine !== undefined || theirs === undefined) return mine;
    from.add(name);
    return theirs;
  };
  const target = pick(undefined, entry.hostName, 'HostName') ?? host;
  const user = pick(explicit.user, entry.user, 'User') ?? SSH_DEFAULTS.user;
  const port = pick(explicit.port, entry.port, 'Port') ?? SSH_DEFAULTS.port;
  const identity = pick(explicit.privateKeyPath, entry.identityFile, 'IdentityFile');
  let proxyJump = pick(explicit.proxyJump, entry.proxyJump, 'ProxyJump');
  let proxyJumpKeys = explicit.proxyJumpKeys;
  if (proxyJump !== undefined && proxyJump !== NO_PROXY_JUMP) {
    const hops = parseProxyJump(proxyJump);
    // A bad value, or keys that do not match the hops, is left as written: validation names it
    // with its field and node.
    if (typeof hops !== 'string' && proxyJumpKeysProblem(proxyJump, proxyJumpKeys) === null) {
      const chain = withFirstHopJumps(file, hops);
      const added = chain.length - hops.length;
      if (added > 0) from.add('ProxyJump');
      const entries = chain.map((h) => sshConfigFor(file, h.host));
      // Each hop logs in with its own IdentityFile, as OpenSSH's ProxyJump does; explicit keys
      // (one per hop as written) win for their hops.
      const configKeys = entries.map((e) => (e.identityFile === undefined ? '' : configPath(e.identityFile)));
      const used = proxyJumpKeys === undefined ? configKeys : configKeys.slice(0, added);
      if (used.some((k) => k !== '')) from.add('IdentityFile');
      if (proxyJumpKeys !== undefined) proxyJumpKeys = [...used, ...proxyJumpKeys];
      else if (used.some((k) => k !== '')) proxyJumpKeys = used;
      const resolved = chain.map((h, i) => {
        const e = entries[i];
        const hopHost = e.hostName ?? h.host;
        const hopUser = h.user ?? e.user;
        const hopPort = h.port ?? e.port;
        if (hopHost !== h.host || (h.user === undefined && e.user) || (h.port === undefined && e.port))
          from.add('ProxyJump');
        const named = /:/.test(hopHost) ? `[${hopHost}]` : hopHost;
        return `${hopUser ? `${hopUser}@` : ''}${named}${hopPort ? `:${hopPort}` : ''}`;
      });
      proxyJump = resolved.join(',');
    }
  }
  const settings: SshSettings = {
    ...explicit,
    user,
    port,
    // An explicit path is the operator's (the inventory already resolved it); ssh_config's is
    // read the way OpenSSH reads it.
    privateKeyPath: explicit.privateKeyPath ?? (identity === undefined ? undefined : configPath(identity)),
    knownHostsPath: explicit.knownHostsPath ?? SSH_DEFAULTS.knownHostsPath,
    proxyJump,
    proxyJumpKeys,
  };
  return { host: target, settings: withoutUndefined(settings), fromSshConfig: [...from] };
}

function withoutUndefined(s: SshSettings): SshSettings {
  return Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) as SshSettings;
}

/** A node's resolved SSH settings: node over cluster, then ssh_config (see resolveSsh). */
export function resolveNodeSsh(
  node: { readonly address: string; readonly sshHost?: string; readonly ssh?: SshSettings },
  cluster: SshSettings | undefined,
): ResolvedSsh {
  return resolveSsh(sshHostOf(node), mergeSsh(cluster, node.ssh));
}

/** The SSH target for a host name or address and its settings, defaults applied. */
export function sshTarget(host: string, s: SshSettings): SshTarget {
  const user = s.user ?? SSH_DEFAULTS.user;
  return {
    host,
    port: s.port ?? SSH_DEFAULTS.port,
    user,
    privateKeyPath: s.privateKeyPath,
    passphraseEnv: s.passphraseEnv,
    knownHostsPath: expandHome(s.knownHostsPath ?? SSH_DEFAULTS.knownHostsPath),
    sudo: s.sudo ?? SSH_DEFAULTS.sudo,
    jumps: jumpsOf(s.proxyJump, user, s.proxyJumpKeys),
  };
}

/** What a node is reached at: its own SSH host when it has one, else its address. */
export function sshHostOf(node: { readonly address: string; readonly sshHost?: string }): string {
  return node.sshHost ?? node.address;
}
