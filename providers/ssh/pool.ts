/**
 * The ssh2 connection pool: one connection per host and login (identity.ts) per process,
 * shared by every resource that reaches that host the same way, strict host key checking,
 * bounded connect retries, and transparent reconnects. Scripts run in one long-lived shell per host (remote-shell.ts), one at a time: no
 * script pays for a channel, a login shell or its startup files.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Duplex } from 'stream';
import type { Client, ClientChannel, ConnectConfig, ParsedKey, PublicKeyAuthMethod } from 'ssh2';
import { bastionOf, reachKey } from './identity';
import { verifyHostKey } from './known-hosts';
import { ScriptBatcher } from './batch';
import { HostShell } from './remote-shell';
import { RemoteHost, RemoteResult, RunOptions, SshConnectionError, SshTarget } from './types';

export interface SshPoolOptions {
  connectTimeoutMs?: number;
  connectRetries?: number;
  log?: (message: string) => void;
  /**
   * Scripts arriving for one host within this many ms go as one round trip (batch.ts); 0 or
   * absent: each script is its own round trip.
   */
  batchWindowMs?: number;
}

interface Connection {
  client: Client;
  closed: boolean;
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

const hostPort = (h: { host: string; port: number }) => (h.port === 22 ? h.host : `${h.host}:${h.port}`);

export { bastionOf } from './identity';

/** What a failed bastion connection means for the target behind it, in the operator's words. */
const BASTION_FAILURE = {
  unreachable: 'the bastion is down or unreachable',
  'host-key': "the bastion's host key was refused",
  auth: 'the bastion did not accept the login',
} as const;

export class SshPool {
  private readonly connections = new Map<string, Promise<Connection>>();
  private readonly opened = new Map<string, number>();
  /** Scripts run (round trips), per user@host:port[+sudo]: the bench's count of round trips. */
  private readonly scripts = new Map<string, number>();
  /** One shell per connection (host and login) and sudo mode. */
  private readonly shells = new Map<string, { shell: HostShell; name: string }>();
  /** One batcher per shell (same keys as `shells`), when batching is on. */
  private readonly batchers = new Map<string, { batcher: ScriptBatcher; name: string }>();
  private readonly batchWindowMs: number;
  /** Opened private keys by file and passphrase variable. */
  private readonly keys = new Map<string, ParsedKey>();
  private readonly connectTimeoutMs: number;
  private readonly connectRetries: number;
  private readonly log: (message: string) => void;

  constructor(options: SshPoolOptions = {}) {
    this.connectTimeoutMs = options.connectTimeoutMs ?? 15_000;
    this.connectRetries = options.connectRetries ?? 2;
    this.log = options.log ?? (() => undefined);
    this.batchWindowMs = options.batchWindowMs ?? 0;
  }

  host(target: SshTarget, label: string): RemoteHost {
    return { label, run: (script, options) => this.run(target, label, script, options) };
  }

  /** Connections opened so far, per user@host:port (a bastion counts under its own address). */
  stats(): Record<string, number> {
    return Object.fromEntries(this.opened);
  }

  /** Remote shells started so far (first start plus restarts), per user@host:port[+sudo]. */
  shellStats(): Record<string, number> {
    const stats: Record<string, number> = {};
    for (const { shell, name } of this.shells.values()) stats[name] = (stats[name] ?? 0) + shell.started;
    return stats;
  }

  /** Scripts run so far (each one round trip on a running shell), per user@host:port[+sudo]. */
  scriptStats(): Record<string, number> {
    return Object.fromEntries(this.scripts);
  }

  /** Scripts asked for (calls of run), per user@host:port[+sudo]: scriptStats() counts their round trips. */
  callStats(): Record<string, number> {
    const stats: Record<string, number> = {};
    for (const [name, n] of this.scripts) stats[name] = n;
    for (const { batcher, name } of this.batchers.values())
      stats[name] = (stats[name] ?? 0) - batcher.counts.roundTrips + batcher.counts.calls;
    return stats;
  }

  async close(): Promise<void> {
    for (const { batcher } of this.batchers.values()) batcher.close();
    for (const { shell } of this.shells.values()) shell.close();
    this.shells.clear();
    const all = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(
      all.map((p) =>
        p.then(
          (c) => c.client.end(),
          () => undefined,
        ),
      ),
    );
  }

  /**
   * The connection's identity (identity.ts): the same host reached another way, or logged into
   * with other credentials, is another connection, so no login answers for another's.
   */
  private key(t: SshTarget): string {
    return reachKey(t);
  }

  private statsKey(t: SshTarget): string {
    return `${t.user}@${t.host}:${t.port}`;
  }

  private connection(target: SshTarget, label: string): Promise<Connection> {
    const key = this.key(target);
    const existing = this.connections.get(key);
    if (existing) {
      return existing.then((c) => {
        if (!c.closed) return c;
        if (this.connections.get(key) === existing) this.connections.delete(key);
        return this.connection(target, label);
      });
    }
    const attempt = this.connectWithRetries(target, label);
    this.connections.set(key, attempt);
    attempt.catch(() => {
      if (this.connections.get(key) === attempt) this.connections.delete(key);
    });
    return attempt;
  }

  private async connectWithRetries(target: SshTarget, label: string): Promise<Connection> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.connectOnce(target, label);
      } catch (err) {
        // A bastion that failed has had its own retries; trying again from here would square them.
        const retryable =
          err instanceof SshConnectionError && err.kind === 'unreachable' && err.through?.failed !== 'bastion';
        if (!retryable || attempt >= this.connectRetries) throw err;
        const delay = 500 * 2 ** attempt;
        this.log(`ssh ${label}: ${(err as Error).message}; retrying in ${delay} ms`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private authConfig(target: SshTarget, label: string): Partial<ConnectConfig> {
    if (target.privateKeyPath) {
      // An auth list (rather than `privateKey`, which takes only bytes) lets ssh2 use the opened key.
      const method: PublicKeyAuthMethod = {
        type: 'publickey',
        username: target.user,
        key: this.openKey(target, label),
      };
      return { authHandler: [method] };
    }
    if (process.env.SSH_AUTH_SOCK) return { agent: process.env.SSH_AUTH_SOCK };
    throw new SshConnectionError(`${label}: no private_key_path given and no ssh-agent (SSH_AUTH_SOCK unset)`, 'auth');
  }

  /**
   * Reads and opens (decrypts) a private key once per process: decrypting an OpenSSH key costs
   * ~200 ms of CPU (bcrypt), which ssh2 would otherwise pay again for every host. Opened here also
   * so a bad passphrase is a login problem in our words; no message carries the passphrase.
   */
  private openKey(target: SshTarget, label: string): ParsedKey {
    const file = expandHome(target.privateKeyPath!);
    const cacheKey = `${file}\0${target.passphraseEnv ?? ''}`;
    const cached = this.keys.get(cacheKey);
    if (cached) return cached;
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (err) {
      throw new SshConnectionError(
        `${label}: cannot read private key ${file}: ${(err as NodeJS.ErrnoException).code}`,
        'auth',
      );
    }
    let passphrase: string | undefined;
    if (target.passphraseEnv) {
      passphrase = process.env[target.passphraseEnv];
      if (passphrase === undefined) {
        throw new SshConnectionError(
          `${label}: the private key passphrase variable ${target.passphraseEnv} is not set`,
          'auth',
        );
      }
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: ssh2 loads only when a host is connected to
    const { utils } = require('ssh2') as typeof import('ssh2');
    const parsed = utils.parseKey(bytes, passphrase);
    if (parsed instanceof Error) {
      const encrypted = /encrypted|passphrase/i.test(parsed.message);
      let why = `cannot use private key ${file}: ${parsed.message}`;
      if (encrypted && !target.passphraseEnv)
        why = `private key ${file} is encrypted: set ssh.passphrase_env to the name of a variable holding its passphrase`;
      else if (encrypted) why = `cannot decrypt private key ${file} with the passphrase in ${target.passphraseEnv}`;
      throw new SshConnectionError(`${label}: ${why}`, 'auth');
    }
    // The OpenSSH format holds one key (ssh2 returns it in an array).
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    this.keys.set(cacheKey, key);
    this.log(`opened private key ${file}`);
    return key;
  }

  /**
   * A stream to the target through its bastion (one pooled connection per bastion, shared by
   * every target behind it). The bastion is verified and logged into exactly like a target, so a
   * bastion that fails stops here, before anything reaches the target.
   */
  private async tunnel(target: SshTarget, label: string): Promise<Duplex> {
    const bastion = bastionOf(target);
    const name = hostPort(bastion);
    let conn: Connection;
    try {
      conn = await this.connection(bastion, 'bastion');
    } catch (err) {
      const e = err as Error;
      const kind = err instanceof SshConnectionError ? err.kind : 'unreachable';
      throw new SshConnectionError(
        `cannot reach ${label} through bastion ${name}: ${BASTION_FAILURE[kind]}: ${e.message}`,
        kind,
        {
          bastion: name,
          failed: 'bastion',
        },
      );
    }
    return new Promise((resolve, reject) => {
      let done = false;
      const fail = (why: string) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        reject(
          new SshConnectionError(
            `cannot reach ${label} through bastion ${name}: the bastion answered, but cannot connect to ${hostPort(target)}: ${why}`,
            'unreachable',
            { bastion: name, failed: 'target' },
          ),
        );
      };
      // sshd on the bastion may wait minutes for a silent target: our connect timeout applies.
      const timer = setTimeout(() => fail(`no answer within ${this.connectTimeoutMs} ms`), this.connectTimeoutMs);
      conn.client.forwardOut(
        '127.0.0.1',
        0,
        target.host,
        target.port,
        (err: Error | undefined, stream: ClientChannel) => {
          if (done) {
            stream?.close();
            return;
          }
          if (err) return fail(err.message);
          done = true;
          clearTimeout(timer);
          resolve(stream);
        },
      );
    });
  }

  private async connectOnce(target: SshTarget, label: string): Promise<Connection> {
    const auth = this.authConfig(target, label);
    const sock = (target.jumps ?? []).length > 0 ? await this.tunnel(target, label) : undefined;
    // Loaded on first use: Terraform starts the provider often, most starts never connect.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy, for the reason above
    const { Client } = require('ssh2') as typeof import('ssh2');
    return new Promise((resolve, reject) => {
      const client = new Client();
      let hostKeyProblem: string | undefined;
      let settled = false;
      const via = sock ? ` through bastion ${hostPort(bastionOf(target))}` : '';
      const where = `${label} (${target.user}@${target.host}:${target.port})${via}`;
      client.on('ready', () => {
        settled = true;
        const key = this.statsKey(target);
        this.opened.set(key, (this.opened.get(key) ?? 0) + 1);
        this.log(`ssh ${where}: connected`);
        const conn: Connection = { client, closed: false };
        client.on('close', () => {
          conn.closed = true;
          this.log(`ssh ${where}: connection closed`);
        });
        resolve(conn);
      });
      client.on('error', (err: Error & { level?: string; code?: string }) => {
        if (settled) return;
        settled = true;
        if (hostKeyProblem) reject(new SshConnectionError(`${where}: refused: ${hostKeyProblem}`, 'host-key'));
        else if (err.level === 'client-authentication') {
          reject(new SshConnectionError(`${where}: authentication failed (the key was not accepted)`, 'auth'));
        } else {
          reject(new SshConnectionError(`${where}: cannot connect: ${err.code ?? err.message}`, 'unreachable'));
        }
      });
      client.on('close', () => {
        if (settled) return;
        settled = true;
        reject(new SshConnectionError(`${where}: connection closed during the handshake`, 'unreachable'));
      });
      client.connect({
        // Behind a bastion, the SSH session runs inside the forwarded channel.
        ...(sock ? { sock } : {}),
        host: target.host,
        port: target.port,
        username: target.user,
        readyTimeout: this.connectTimeoutMs,
        keepaliveInterval: 15_000,
        hostVerifier: (key: Buffer) => {
          const verdict = verifyHostKey(expandHome(target.knownHostsPath), target.host, target.port, key);
          if (!verdict.ok) hostKeyProblem = verdict.reason;
          return verdict.ok;
        },
        ...auth,
      });
      // Without TCP_NODELAY every script's round trip waited ~40 ms: the frame we send after
      // reading an answer sat in Nagle's buffer until the host's delayed ACK came (measured:
      // 42 ms → 0.4 ms per round trip on a lab host). Behind a bastion there is no socket here;
      // the bastion's own connection gets the option.
      client.setNoDelay(true);
    });
  }

  private shell(target: SshTarget, label: string): HostShell {
    const key = `${this.key(target)}${target.sudo ? '+sudo' : ''}`;
    let entry = this.shells.get(key);
    if (!entry) {
      const shell = new HostShell({
        label,
        sudo: target.sudo,
        exec: (command) => this.exec(target, label, command),
        log: this.log,
      });
      entry = { shell, name: `${this.statsKey(target)}${target.sudo ? '+sudo' : ''}` };
      this.shells.set(key, entry);
    }
    return entry.shell;
  }

  private run(target: SshTarget, label: string, script: string, options: RunOptions = {}): Promise<RemoteResult> {
    const name = `${this.statsKey(target)}${target.sudo ? '+sudo' : ''}`;
    const roundTrip = (text: string, opts: RunOptions) => {
      this.scripts.set(name, (this.scripts.get(name) ?? 0) + 1);
      return this.shell(target, label).run(text, opts);
    };
    if (this.batchWindowMs <= 0) return roundTrip(script, options);
    const key = `${this.key(target)}${target.sudo ? '+sudo' : ''}`;
    let entry = this.batchers.get(key);
    if (!entry) {
      entry = { batcher: new ScriptBatcher(roundTrip, this.batchWindowMs, label), name };
      this.batchers.set(key, entry);
    }
    return entry.batcher.run(script, options);
  }

  /** Opens one exec channel on the host's connection (connecting first when needed). */
  private async exec(target: SshTarget, label: string, command: string): Promise<ClientChannel> {
    const conn = await this.connection(target, label);
    return new Promise((resolve, reject) => {
      conn.client.exec(command, (err: Error | undefined, channel: ClientChannel) => {
        if (err) reject(new SshConnectionError(`${label}: cannot open a channel: ${err.message}`, 'unreachable'));
        else resolve(channel);
      });
    });
  }
}
