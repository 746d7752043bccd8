/**
 * What calico_policy_ruleset knows about nft text, without a host: which rulesets it accepts to
 * load (exactly our one table, marked), whether a listed table is ours, and the listing in one
 * stable form (the `table` fact), so a plan compares like with like and shows a readable diff.
 */
import { POLICY_TABLE_COMMENT, POLICY_TABLE_FAMILY, POLICY_TABLE_NAME } from '../../rules/policy-table';

export const TABLE_HEADER = `table ${POLICY_TABLE_FAMILY} ${POLICY_TABLE_NAME} {`;
/** The mark line, as `nft list table` prints it (indentation aside). */
export const TABLE_MARK = `comment "${POLICY_TABLE_COMMENT}"`;

/**
 * What is wrong with a ruleset to load, or null. It reaches `nft -f` on the host, so it must be
 * exactly one `table inet calico-net { … }` block carrying our mark: no other table, no command
 * (flush, delete, add …) after it, no include of files.
 */
export function rulesetProblem(text: string): string | null {
  const lines = text.replace(/\n+$/, '').split('\n');
  if (lines[0] !== TABLE_HEADER) return `the ruleset must start with "${TABLE_HEADER}"`;
  if (lines[1]?.trim() !== TABLE_MARK) return `the table's first statement must be its mark: ${TABLE_MARK}`;
  if (/[\0\r]/.test(text)) return 'the ruleset contains a NUL or carriage return';
  let depth = 0;
  for (const [i, line] of lines.entries()) {
    if (/^\s*include\b/.test(line)) return `line ${i + 1}: include is not allowed`;
    // Braces inside double-quoted strings (comments, log prefixes) do not count.
    const code = line.replace(/"[^"]*"/g, 'S');
    if (code.includes('"')) return `line ${i + 1}: unterminated string`;
    for (const ch of code) {
      if (ch === '{') depth++;
      else if (ch === '}') depth--;
      if (depth < 0) return `line ${i + 1}: unbalanced "}"`;
    }
    if (depth === 0 && i < lines.length - 1)
      return `line ${i + 1}: the table ends before the last line: nothing may follow it`;
  }
  return depth === 0 ? null : 'the table is not closed';
}

/** Whether a listed table carries our mark. */
export function isOurTable(listing: string): boolean {
  return listing.split('\n').some((l) => l.trim() === TABLE_MARK);
}

/** Splits "a, b, c" at commas outside quotes and braces. */
function splitItems(text: string): string[] {
  const items: string[] = [];
  let cur = '';
  let depth = 0;
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '{') depth++;
    else if (!quoted && ch === '}') depth--;
    if (ch === ',' && !quoted && depth === 0) {
      items.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) items.push(cur.trim());
  return items;
}

/**
 * `nft list table` in one stable form: set and map elements one per line and sorted, the items
 * of inline sets sorted, trailing spaces and blank lines dropped. The kernel keeps hash sets in
 * no particular order, so two listings of the same table may order elements differently.
 */
export function normalizeListing(listing: string): string {
  const out: string[] = [];
  const lines = listing.replace(/\r/g, '').split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i].replace(/\s+$/, '');
    if (line.trim() === '') continue;
    const m = /^(\s*)elements = \{(.*)$/.exec(line);
    if (m) {
      // Gather up to the closing brace (elements may span lines).
      let body = m[2];
      while (!/\}\s*$/.test(body) && i + 1 < lines.length) body += ` ${lines[++i].trim()}`;
      body = body.replace(/\}\s*$/, '');
      const items = splitItems(body).sort();
      out.push(
        `${m[1]}elements = {`,
        ...items.map((it, j) => `${m[1]}\t${it}${j < items.length - 1 ? ',' : ''}`),
        `${m[1]}}`,
      );
      continue;
    }
    line = line.replace(/\{ ([^{}"]+) \}/g, (_, inner: string) => `{ ${splitItems(inner).sort().join(', ')} }`);
    out.push(line);
  }
  return out.length ? `${out.join('\n')}\n` : '';
}
