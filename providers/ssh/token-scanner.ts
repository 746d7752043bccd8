/**
 * Finds a framing token in one byte stream (a remote shell's stdout or stderr) and hands back
 * everything before it plus the rest of the token's line. Chunks are kept as they arrive and
 * only the seam between the old data and a new chunk is searched, so a script that prints
 * hundreds of megabytes costs one copy, not one copy per chunk.
 */

export interface TokenMatch {
  /** Every byte that came before the token. */
  before: Buffer;
  /** What followed the token up to (not including) the next newline. */
  rest: string;
}

interface Wanted {
  token: Buffer;
  resolve: (m: TokenMatch) => void;
  reject: (err: Error) => void;
  /** Absolute offset of the token once found. */
  at?: number;
}

export class TokenScanner {
  private chunks: Buffer[] = [];
  private length = 0;
  /** Bytes already searched for the current token without a match (from the start). */
  private searched = 0;
  private wanted?: Wanted;
  private failure?: Error;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
    this.scan();
  }

  /**
   * Resolves once `token` and the end of its line have arrived. Bytes before the token are
   * consumed with it; bytes after the line stay for the next call.
   */
  expect(token: string): Promise<TokenMatch> {
    if (this.wanted) throw new Error('TokenScanner: one expectation at a time');
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.wanted = { token: Buffer.from(token), resolve, reject };
      this.searched = 0;
      this.scan();
    });
  }

  /** Drops the pending expectation (its promise never settles); buffered bytes stay. */
  forget(): void {
    this.wanted = undefined;
  }

  /** Takes every buffered byte (e.g. what a shell printed before it failed to start). */
  drain(): Buffer {
    const all = Buffer.concat(this.chunks, this.length);
    this.chunks = [];
    this.length = 0;
    this.searched = 0;
    return all;
  }

  /** The stream ended or broke: the pending expectation and all later ones fail with `err`. */
  fail(err: Error): void {
    this.failure = err;
    const w = this.wanted;
    this.wanted = undefined;
    w?.reject(err);
  }

  private scan(): void {
    const w = this.wanted;
    if (!w) return;
    if (w.at === undefined) {
      // The token may straddle the seam: start token.length - 1 bytes before the unsearched part.
      const from = Math.max(0, this.searched - (w.token.length - 1));
      const window = this.sliceFrom(from);
      const i = window.indexOf(w.token);
      if (i < 0) {
        this.searched = this.length;
        return;
      }
      w.at = from + i;
      this.searched = w.at + w.token.length;
    }
    const afterToken = w.at + w.token.length;
    const tail = this.sliceFrom(Math.max(afterToken, this.searched));
    const nl = tail.indexOf(0x0a);
    if (nl < 0) {
      this.searched = this.length;
      return;
    }
    const lineEnd = Math.max(afterToken, this.searched) + nl;
    const all = Buffer.concat(this.chunks, this.length);
    const match: TokenMatch = {
      before: all.subarray(0, w.at),
      rest: all.subarray(afterToken, lineEnd).toString('utf8'),
    };
    const left = all.subarray(lineEnd + 1);
    this.chunks = left.length ? [left] : [];
    this.length = left.length;
    this.searched = 0;
    this.wanted = undefined;
    w.resolve(match);
  }

  /** The buffered bytes from offset `from` on, copying only the chunks involved. */
  private sliceFrom(from: number): Buffer {
    const parts: Buffer[] = [];
    let end = this.length;
    for (let k = this.chunks.length - 1; k >= 0 && end > from; k--) {
      const c = this.chunks[k];
      const start = end - c.length;
      parts.unshift(start >= from ? c : c.subarray(from - start));
      end = start;
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }
}
