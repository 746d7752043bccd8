/**
 * A line-based unified diff (LCS over lines), for showing how a long text attribute such as
 * bird.conf drifted. Files here are a few hundred lines, so the quadratic table is fine.
 */

type Op = { kind: ' ' | '-' | '+'; line: string; a: number; b: number };

function diffOps(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  // lcs[i][j] = length of the longest common subsequence of a[i..] and b[j..]
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    // Past the end of either side the index reads undefined, which equals no line.
    if (a[i] === b[j]) {
      ops.push({ kind: ' ', line: a[i], a: i++, b: j++ });
    } else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      // On a tie, removals come before additions, as diff(1) prints them.
      ops.push({ kind: '-', line: a[i], a: i++, b: j });
    } else {
      ops.push({ kind: '+', line: b[j], a: i, b: j++ });
    }
  }
  return ops;
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Unified diff of two texts with `context` lines around each change; '' when equal. */
export function unifiedDiff(
  before: string,
  after: string,
  labels: { before: string; after: string },
  context = 3,
): string {
  const ops = diffOps(splitLines(before), splitLines(after));
  const changed = ops.map((op, k) => (op.kind !== ' ' ? k : -1)).filter((k) => k >= 0);
  if (changed.length === 0) return '';

  // Group changes whose context windows touch into hunks.
  const hunks: [number, number][] = [];
  for (const k of changed) {
    const start = Math.max(0, k - context);
    const end = k + context; // may run past the last op: slice() below stops there
    const last = hunks[hunks.length - 1];
    if (last && start <= last[1] + 1) last[1] = end;
    else hunks.push([start, end]);
  }

  const out = [`--- ${labels.before}`, `+++ ${labels.after}`];
  for (const [start, end] of hunks) {
    const slice = ops.slice(start, end + 1);
    const aLines = slice.filter((o) => o.kind !== '+').length;
    const bLines = slice.filter((o) => o.kind !== '-').length;
    // An op's a (b) is the index of the next line of a (b), so the first op gives both starts;
    // an empty range starts at the line before it, as diff(1) numbers it.
    const aStart = slice[0].a + (aLines ? 1 : 0);
    const bStart = slice[0].b + (bLines ? 1 : 0);
    out.push(`@@ -${aStart},${aLines} +${bStart},${bLines} @@`);
    for (const op of slice) out.push(`${op.kind}${op.line}`);
  }
  return out.join('\n') + '\n';
}
