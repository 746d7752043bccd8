/**
 * Progress for long commands: step lines on a terminal, nothing in CI or when stderr is piped,
 * so the report on stdout stays parseable. CALICO_PROGRESS=1 forces it on, =0 off.
 */
export class Progress {
  private readonly enabled: boolean;
  private readonly started = Date.now();

  constructor(
    private readonly command: string,
    stream: NodeJS.WriteStream = process.stderr,
  ) {
    const forced = process.env.CALICO_PROGRESS;
    this.enabled = forced !== undefined ? forced === '1' : Boolean(stream.isTTY) && !process.env.CI;
    this.stream = stream;
  }

  private readonly stream: NodeJS.WriteStream;

  private elapsed(): string {
    return `${((Date.now() - this.started) / 1000).toFixed(1)}s`;
  }

  step(message: string): void {
    if (this.enabled) this.stream.write(`[${this.command} ${this.elapsed()}] ${message}\n`);
  }

  /** Raw lines from a child process (e.g. terraform's "Refreshing state..."), indented. */
  detail(chunk: string): void {
    if (!this.enabled) return;
    for (const line of chunk.split('\n')) if (line.trim()) this.stream.write(`    ${line.trim()}\n`);
  }

  done(message: string): void {
    this.step(`done: ${message}`);
  }
}
