/**
 * One round trip per host for the scripts that arrive at the same time (issue 29).
 *
 * Terraform applies up to 10 resources at once, and often several of one host (a node's four
 * workloads become ready together). Each used to be its own script: its own frame on the host's
 * shell, its own wait for the answer, one after the other. Here the scripts that arrive for one
 * shell within a short window (WINDOW below) go as ONE script, which runs them in arrival order
 * (the order the shell's queue ran them in before), each as its own `bash --norc --noprofile`
 * process, as before: its own `$$`, `exit`, `set -e` and traps, its own stdout, stderr and exit
 * status in files. One part's failure, `exit` or death ends that part only.
 *
 * The answer is length-framed, so a part's output may contain anything (our own markers too):
 *
 *   calico-batch <n>\n
 *   <exit status> <stdout bytes> <stderr bytes>\n     n times, in part order
 *   <base64 of every part's stdout then stderr, concatenated>\n
 *
 * Base64 keeps the byte counts exact through the shell's UTF-8 decoding (a part printing
 * invalid UTF-8 cannot shift the parts after it).
 *
 * Scripts reach the batch as quoted shell variables (shQuote), written to files by the shell's
 * builtin printf; a part's standard input (e.g. bird.conf with its secrets) travels in the
 * batch's own standard input, read back with `head -c` exactly as many bytes as it has, so it
 * never appears in the script text.
 *
 * While a batch runs, new scripts gather and go as the next batch when it ends (group commit),
 * so the window only ever delays the first script of an idle host. A script alone goes as it
 * is, with no wrapper. Interrupting any part's run interrupts the batch (the driver kills its
 * process group): the provider has one stop signal for all of them, and a batch's parts are
 * then all "interrupted", outcome unknown, never reported as done.
 */
import * as fs from 'fs';
import * as path from 'path';
import { packageRoot } from '../package-root';
import { shQuote } from './quote';
import { RemoteResult, RunOptions, SshConnectionError } from './types';

/** One script and its input. */
export interface BatchPart {
  script: string;
  stdin?: string;
}

/**
 * How long the first script of an idle host waits for others, ms. Why 5: Terraform's calls for
 * resources that became ready together reach the provider within about a millisecond of each
 * other, and the handlers before the script (decoding, planning checks) take a few ms of CPU
 * each on a loaded 2-core machine; later arrivals join the next batch anyway. Against a round
 * trip (0.4 ms on a lab host, tens of ms across a WAN) and a script's own run (10-100 ms), 5 ms
 * on the first script only is small. CALICO_BATCH_WINDOW_MS overrides it; 0 turns batching off.
 */
export const DEFAULT_BATCH_WINDOW_MS = 5;

/** The window from the environment (CALICO_BATCH_WINDOW_MS), or the default; 0 = off. */
export function batchWindowFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.CALICO_BATCH_WINDOW_MS;
  if (raw === undefined || raw.trim() === '') return DEFAULT_BATCH_WINDOW_MS;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 10_000)
    throw new Error(
      `CALICO_BATCH_WINDOW_MS must be a number of milliseconds from 0 to 10000, not ${JSON.stringify(raw)}`,
    );
  return n;
}

/**
 * The runner's bash (templates/scripts/ssh-batch.sh, under shellcheck with the other scripts),
 * read once, its whole-line comments left home like the resource scripts'.
 */
let batchBody: string | undefined;
function batchRunner(): string {
  batchBody ??= fs
    .readFileSync(path.join(packageRoot(), 'templates', 'scripts', 'ssh-batch.sh'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !/^\s*#/.test(l))
    .join('\n');
  return batchBody;
}

/** The one script (and its standard input) that runs `parts` in order. */
export function batchScript(parts: readonly BatchPart[]): { script: string; stdin: string } {
  const lines = ['set -u', `calico_batch_count=${parts.length}`];
  parts.forEach((p, i) => {
    lines.push(`calico_part_${i}=${shQuote(p.script)}`);
    lines.push(`calico_in_${i}=${Buffer.byteLength(p.stdin ?? '', 'utf8')}`);
  });
  return { script: `${lines.join('\n')}\n${batchRunner()}\n`, stdin: parts.map((p) => p.stdin ?? '').join('') };
}

/**
 * Each part's result from the batch's answer, or a problem saying why the answer is not a whole
 * batch (the batch itself failed or was cut short: no part's outcome is known).
 */
export function parseBatchAnswer(batch: RemoteResult, count: number): RemoteResult[] | string {
  const fail = (why: string) =>
    `${why} (batch exit status ${batch.code}${batch.stderr.trim() ? `: ${batch.stderr.trim().slice(0, 500)}` : ''})`;
  const lines = batch.stdout.split('\n');
  // Anything a login shell printed first is not ours: the answer starts at its header.
  const start = lines.indexOf(`calico-batch ${count}`);
  if (start < 0) return fail(`the batch of ${count} scripts gave no answer`);
  if (lines.length < start + count + 2) return fail(`the batch of ${count} scripts answered only in part`);
  const sizes: [number, number, number][] = [];
  for (let i = 0; i < count; i++) {
    const m = /^(\d+) (\d+) (\d+)$/.exec(lines[start + 1 + i]);
    if (!m) return fail(`the batch's status line for script ${i + 1} is malformed`);
    sizes.push([Number(m[1]), Number(m[2]), Number(m[3])]);
  }
  const blob = lines[start + 1 + count];
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(blob)) return fail("the batch's output block is malformed");
  const bytes = Buffer.from(blob, 'base64');
  const total = sizes.reduce((sum, [, o, e]) => sum + o + e, 0);
  if (bytes.length !== total) return fail(`the batch's output block holds ${bytes.length} bytes, not ${total}`);
  let at = 0;
  const take = (n: number) => bytes.subarray(at, (at += n)).toString('utf8');
  return sizes.map(([code, out, err]) => ({ code, stdout: take(out), stderr: take(err) }));
}

interface Waiting {
  part: BatchPart;
  signal?: AbortSignal;
  resolve(r: RemoteResult): void;
  reject(e: Error): void;
  /** Drops the abort listener that answers a script still waiting for its batch. */
  detach(): void;
}

/** What a batcher needs of its host: run one script (one round trip). */
export type RunScript = (script: string, options: RunOptions) => Promise<RemoteResult>;

/** Counts, for the bench: calls answered and batches (round trips) sent. */
export interface BatchCounts {
  calls: number;
  roundTrips: number;
  /** The largest batch sent. */
  largest: number;
}

/** Gathers one host shell's scripts into batches (see the file comment). */
export class ScriptBatcher {
  private waiting: Waiting[] = [];
  private timer?: NodeJS.Timeout;
  private inFlight = false;
  private closed = false;
  readonly counts: BatchCounts = { calls: 0, roundTrips: 0, largest: 0 };

  constructor(
    private readonly runScript: RunScript,
    private readonly windowMs: number,
    private readonly label: string,
  ) {}

  run(script: string, options: RunOptions = {}): Promise<RemoteResult> {
    this.counts.calls++;
    return new Promise<RemoteResult>((resolve, reject) => {
      const signal = options.signal;
      const onAbort = () => {
        // Still waiting: it never reached the host.
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new Error(`${this.label}: interrupted`));
      };
      const entry: Waiting = {
        part: { script, stdin: options.stdin },
        signal,
        resolve,
        reject,
        detach: () => signal?.removeEventListener('abort', onAbort),
      };
      if (this.closed)
        return reject(new SshConnectionError(`${this.label}: the connection pool is closed`, 'unreachable'));
      if (signal?.aborted) return reject(new Error(`${this.label}: interrupted`));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
      if (!this.inFlight && !this.timer) this.timer = setTimeout(() => this.flush(), this.windowMs);
    });
  }

  /**
   * Answers the scripts still waiting (the pool is closing: they never reached the host) and
   * takes no more; a batch already sent finishes or fails on its shell as any script does.
   */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.waiting.splice(0)) {
      w.detach();
      w.reject(new SshConnectionError(`${this.label}: the connection pool is closed`, 'unreachable'));
    }
  }

  private flush(): void {
    this.timer = undefined;
    if (this.inFlight || this.waiting.length === 0) return;
    const batch = this.waiting.splice(0);
    for (const w of batch) w.detach();
    this.inFlight = true;
    this.counts.roundTrips++;
    this.counts.largest = Math.max(this.counts.largest, batch.length);
    void this.send(batch).finally(() => {
      this.inFlight = false;
      // Whatever gathered meanwhile has waited long enough: it goes now.
      if (this.waiting.length > 0) this.flush();
    });
  }

  private async send(batch: Waiting[]): Promise<void> {
    const signals = batch.map((w) => w.signal).filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length === 0 ? undefined : signals.length === 1 ? signals[0] : AbortSignal.any(signals);
    if (batch.length === 1) {
      const [only] = batch;
      try {
        only.resolve(await this.runScript(only.part.script, { stdin: only.part.stdin, signal }));
      } catch (err) {
        only.reject(err as Error);
      }
      return;
    }
    const { script, stdin } = batchScript(batch.map((w) => w.part));
    let answer: RemoteResult;
    try {
      answer = await this.runScript(script, { stdin, signal });
    } catch (err) {
      // The transport failed (or the batch was interrupted): every part's outcome is unknown.
      for (const w of batch) w.reject(err as Error);
      return;
    }
    const results = parseBatchAnswer(answer, batch.length);
    if (typeof results === 'string') {
      // The host answered but the batch did not finish its answer: no part may pass for done.
      const stderr = `${this.label}: ${results}; this script's outcome is unknown`;
      for (const w of batch) w.resolve({ code: 255, stdout: '', stderr });
      return;
    }
    batch.forEach((w, i) => w.resolve(results[i]));
  }
}
