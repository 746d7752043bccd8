/**
 * One long-lived shell on one host (see shell-protocol.ts for the wire format): scripts queue
 * and run one at a time; a shell that dies is restarted once, and after a second death the host
 * counts as unreachable for the rest of the process; an abort kills the running script's process
 * group on the host and leaves the shell usable.
 */
import type { ClientChannel } from 'ssh2';
import { TokenScanner } from './token-scanner';
import {
  abortFrame,
  ABORT_GRACE_SECONDS,
  endToken,
  newFrameId,
  readyToken,
  runFrame,
  shellCommand,
  startToken,
} from './shell-protocol';
import { RemoteResult, RunOptions, SshConnectionError } from './types';

export interface HostShellOptions {
  /** Human name for messages. */
  label: string;
  sudo: boolean;
  /** Opens an exec channel on the host's (shared) connection. */
  exec(command: string): Promise<ClientChannel>;
  log(message: string): void;
}

/** How long an aborted script may take to report back before the shell is closed instead. */
const ABORT_REPORT_MS = (ABORT_GRACE_SECONDS + 5) * 1000;

/** Deaths after which the host counts as unreachable: the first one is forgiven (restart). */
const DEATHS_ALLOWED = 1;

class ShellSession {
  readonly out = new TokenScanner();
  readonly err = new TokenScanner();
  closed = false;
  /** Answered the ready handshake: from then on, an unexpected end counts as a death. */
  ready = false;
  /** We closed it (abort that did not finish, pool close): not a death. */
  deliberate = false;
  exitCode: number | null = null;
  private readonly closeWaiters: (() => void)[] = [];

  constructor(
    private readonly channel: ClientChannel,
    onDeath: (session: ShellSession) => void,
  ) {
    channel.on('data', (d: Buffer) => this.out.push(d));
    channel.stderr.on('data', (d: Buffer) => this.err.push(d));
    channel.on('exit', (code: number | null, signal?: string) => {
      this.exitCode = code ?? (signal ? 128 : null);
    });
    channel.on('close', () => {
      this.closed = true;
      const err = new Error('the remote shell ended');
      this.out.fail(err);
      this.err.fail(err);
      if (this.ready && !this.deliberate) onDeath(this);
      for (const w of this.closeWaiters.splice(0)) w();
    });
    // A write after the far end closed is reported through 'close'; do not let it throw.
    channel.on('error', () => undefined);
  }

  write(bytes: Buffer): void {
    if (!this.closed) this.channel.write(bytes);
  }

  whenClosed(): Promise<void> {
    return this.closed ? Promise.resolve() : new Promise((r) => this.closeWaiters.push(r));
  }

  /** Ends the shell: EOF on its stdin (it finishes the running script and exits), or at once. */
  close(now: boolean): void {
    this.deliberate = true;
    if (this.closed) return;
    if (now) this.channel.close();
    else this.channel.end();
  }
}

/** A shell that exited before it was ready (e.g. `sudo -n` refused): its exit code and output. */
interface StartFailure {
  failed: RemoteResult;
}

const interrupted = (label: string) => new Error(`${label}: interrupted`);

export class HostShell {
  private queue: Promise<void> = Promise.resolve();
  private session?: ShellSession;
  private deaths = 0;
  private closing = false;

  /** Shells started so far. */
  started = 0;

  constructor(private readonly options: HostShellOptions) {}

  run(script: string, options: RunOptions = {}): Promise<RemoteResult> {
    const { label } = this.options;
    return new Promise<RemoteResult>((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        options.signal?.removeEventListener('abort', onQueuedAbort);
        fn();
      };
      // Aborted while still queued: answer now; the queued turn then returns at once.
      const onQueuedAbort = () => settle(() => reject(interrupted(label)));
      options.signal?.addEventListener('abort', onQueuedAbort, { once: true });
      const turn = async () => {
        if (settled) return;
        options.signal?.removeEventListener('abort', onQueuedAbort);
        if (options.signal?.aborted) return settle(() => reject(interrupted(label)));
        await this.runNow(script, options, {
          resolve: (r) => settle(() => resolve(r)),
          reject: (e) => settle(() => reject(e)),
        });
      };
      this.queue = this.queue.then(turn, turn).catch((err) => settle(() => reject(err)));
    });
  }

  /** Ends the shell after the running script; nothing new is started. */
  close(): void {
    this.closing = true;
    this.session?.close(false);
  }

  private unreachable(): SshConnectionError {
    return new SshConnectionError(
      `${this.options.label}: the remote shell died ${this.deaths} times; the host counts as unreachable for the rest of this run`,
      'unreachable',
    );
  }

  /** One script's turn; returns when the shell is free for the next one. */
  private async runNow(
    script: string,
    options: RunOptions,
    answer: { resolve(r: RemoteResult): void; reject(e: Error): void },
  ): Promise<void> {
    const { label } = this.options;
    for (;;) {
      if (this.closing)
        return answer.reject(new SshConnectionError(`${label}: the connection pool is closed`, 'unreachable'));
      if (this.deaths > DEATHS_ALLOWED) return answer.reject(this.unreachable());
      let session: ShellSession | StartFailure;
      try {
        session = await this.ensureSession(options.signal);
      } catch (err) {
        return answer.reject(err as Error);
      }
      if (!(session instanceof ShellSession)) return answer.resolve(session.failed);
      const outcome = await this.execute(session, script, options, answer);
      if (outcome !== 'not-started') return;
      // The shell died before it took the script: nothing ran, so it is safe to go again.
    }
  }

  private async ensureSession(signal?: AbortSignal): Promise<ShellSession | StartFailure> {
    if (this.session && !this.session.closed) return this.session;
    const { label } = this.options;
    const name = newFrameId();
    const channel = await this.options.exec(shellCommand(name, this.options.sudo));
    const session = new ShellSession(channel, () => {
      this.deaths++;
      this.options.log(`ssh ${label}: the remote shell died (${this.deaths} time(s))`);
    });
    this.started++;
    const onAbort = () => session.close(true);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await Promise.all([session.out.expect(readyToken(name)), session.err.expect(readyToken(name))]);
    } catch {
      if (signal?.aborted) throw interrupted(label);
      // It ended before it was up: the shell itself could not start (sudo refused, no bash).
      // That is the host answering, not a shell dying, so it is not counted as a death.
      if (session.exitCode === null) {
        throw new SshConnectionError(`${label}: the connection dropped while starting the remote shell`, 'unreachable');
      }
      return {
        failed: {
          code: session.exitCode || 1,
          stdout: session.out.drain().toString('utf8'),
          stderr: session.err.drain().toString('utf8'),
        },
      };
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    session.ready = true;
    if (this.started > 1) this.options.log(`ssh ${label}: remote shell restarted`);
    this.session = session;
    return session;
  }

  private async execute(
    session: ShellSession,
    script: string,
    options: RunOptions,
    answer: { resolve(r: RemoteResult): void; reject(e: Error): void },
  ): Promise<'done' | 'not-started'> {
    const { label } = this.options;
    const id = newFrameId();
    let started = false;
    const stdout = session.out.expect(startToken(id)).then(() => {
      started = true;
      return session.out.expect(endToken(id));
    });
    const stderr = session.err.expect(endToken(id));
    const finished = Promise.all([stdout, stderr]);
    finished.catch(() => undefined);

    let abortTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      // The driver kills the script's process group (TERM, then KILL) and reports its end as
      // usual; a shell that does not answer in time is closed rather than trusted.
      session.write(abortFrame(id));
      answer.reject(interrupted(label));
      abortTimer = setTimeout(() => session.close(true), ABORT_REPORT_MS);
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    session.write(runFrame(id, script, options.stdin));
    try {
      const [out, err] = await finished;
      const code = /^\d+$/.test(out.rest) ? Number(out.rest) : 255;
      answer.resolve({ code, stdout: out.before.toString('utf8'), stderr: err.before.toString('utf8') });
      return 'done';
    } catch {
      if (options.signal?.aborted) return 'done';
      if (!started && !session.deliberate) return 'not-started';
      answer.reject(
        new SshConnectionError(
          session.deliberate
            ? `${label}: the connection pool was closed while a script was running`
            : `${label}: the remote shell ended while a script was running (the connection dropped or the shell was killed); its outcome is unknown`,
          'unreachable',
        ),
      );
      return 'done';
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      if (abortTimer) clearTimeout(abortTimer);
    }
  }
}
