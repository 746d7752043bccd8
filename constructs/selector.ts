/**
 * Calico's label selectors: the grammar, its precedence, evaluation against a workload's labels,
 * and one canonical text per selector (what names the address set it compiles to).
 *
 * Grammar (as Calico's selector docs and libcalico-go's parser define it; lowest binding first):
 *
 *   expr    := and ( "||" and )*
 *   and     := unary ( "&&" unary )*
 *   unary   := "!" unary | primary
 *   primary := "(" expr ")" | "all()" | "has(" key ")"
 *            | key ( "==" | "!=" ) string
 *            | key ( "in" | "not in" ) "{" [ string ( "," string )* ] "}"
 *            | key ( "contains" | "starts with" | "ends with" ) string
 *   string  := '…' | "…"
 *
 * Semantics as Calico's: `k != 'v'` and `k not in {…}` also match a workload without label k;
 * `!has(k)` matches exactly those without it. The empty selector means all().
 */

export type Selector =
  | { kind: 'all' }
  | { kind: 'has'; key: string }
  | { kind: 'eq' | 'ne' | 'contains' | 'starts' | 'ends'; key: string; value: string }
  | { kind: 'in' | 'notin'; key: string; values: string[] }
  | { kind: 'not'; operand: Selector }
  | { kind: 'and' | 'or'; left: Selector; right: Selector };

export type Labels = Readonly<Record<string, string>>;

/** A selector that does not parse: what is wrong, and where (0-based character offset). */
export class SelectorError extends Error {
  constructor(
    readonly reason: string,
    readonly position: number,
  ) {
    super(`${reason} at position ${position}`);
    this.name = 'SelectorError';
  }
}

/** Calico label key characters (an optional DNS prefix and "/", then the name). */
const KEY_CHAR = /[A-Za-z0-9_./-]/;

class Parser {
  private pos = 0;
  constructor(private readonly text: string) {}

  parse(): Selector {
    this.skipSpace();
    if (this.pos === this.text.length) return { kind: 'all' };
    const sel = this.or();
    this.skipSpace();
    if (this.pos < this.text.length) throw this.error(`unexpected "${this.text[this.pos]}"`);
    return sel;
  }

  private error(reason: string, at: number = this.pos): SelectorError {
    return new SelectorError(reason, at);
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }

  /** Consumes `token` (after spaces) when it comes next. */
  private eat(token: string): boolean {
    this.skipSpace();
    if (this.text.startsWith(token, this.pos)) {
      this.pos += token.length;
      return true;
    }
    return false;
  }

  /** Consumes a keyword only when it is a whole word. */
  private eatWord(word: string): boolean {
    this.skipSpace();
    const end = this.pos + word.length;
    if (this.text.startsWith(word, this.pos) && !KEY_CHAR.test(this.text[end] ?? '')) {
      this.pos = end;
      return true;
    }
    return false;
  }

  private expect(token: string, what: string = `"${token}"`): void {
    if (!this.eat(token)) throw this.error(`expected ${what}`);
  }

  private or(): Selector {
    let left = this.and();
    while (this.eat('||')) left = { kind: 'or', left, right: this.and() };
    return left;
  }

  private and(): Selector {
    let left = this.unary();
    while (this.eat('&&')) left = { kind: 'and', left, right: this.unary() };
    return left;
  }

  private unary(): Selector {
    this.skipSpace();
    // "!" but not the start of "!=" (which can only follow a key, so never here anyway).
    if (this.text[this.pos] === '!' && this.text[this.pos + 1] !== '=') {
      this.pos++;
      return { kind: 'not', operand: this.unary() };
    }
    return this.primary();
  }

  private primary(): Selector {
    this.skipSpace();
    if (this.eat('(')) {
      const inner = this.or();
      this.expect(')');
      return inner;
    }
    const start = this.pos;
    if (this.pos >= this.text.length) throw this.error('expected a label expression');
    const key = this.key();
    if (key === 'all' && this.eat('(')) {
      this.expect(')');
      return { kind: 'all' };
    }
    if (key === 'has' && this.eat('(')) {
      this.skipSpace();
      const k = this.key();
      this.expect(')');
      return { kind: 'has', key: k };
    }
    if (this.eat('==')) return { kind: 'eq', key, value: this.string() };
    if (this.eat('!=')) return { kind: 'ne', key, value: this.string() };
    if (this.eatWord('in')) return { kind: 'in', key, values: this.set() };
    if (this.eatWord('not')) {
      if (!this.eatWord('in')) throw this.error('expected "in" after "not"');
      return { kind: 'notin', key, values: this.set() };
    }
    if (this.eatWord('contains')) return { kind: 'contains', key, value: this.string() };
    if (this.eatWord('starts')) {
      if (!this.eatWord('with')) throw this.error('expected "with" after "starts"');
      return { kind: 'starts', key, value: this.string() };
    }
    if (this.eatWord('ends')) {
      if (!this.eatWord('with')) throw this.error('expected "with" after "ends"');
      return { kind: 'ends', key, value: this.string() };
    }
    this.skipSpace();
    if (this.pos >= this.text.length) throw this.error(`expected an operator after label "${key}"`);
    throw this.error(
      `expected ==, !=, in, not in, contains, starts with or ends with after label "${key}" (which starts at position ${start})`,
    );
  }

  private key(): string {
    this.skipSpace();
    const start = this.pos;
    while (this.pos < this.text.length && KEY_CHAR.test(this.text[this.pos])) this.pos++;
    if (this.pos === start) {
      throw this.error(
        this.pos < this.text.length ? `expected a label name, found "${this.text[this.pos]}"` : 'expected a label name',
      );
    }
    return this.text.slice(start, this.pos);
  }

  private string(): string {
    this.skipSpace();
    const quote = this.text[this.pos];
    if (quote !== "'" && quote !== '"') throw this.error('expected a quoted value');
    const end = this.text.indexOf(quote, this.pos + 1);
    if (end < 0) throw this.error('unterminated string');
    const value = this.text.slice(this.pos + 1, end);
    this.pos = end + 1;
    return value;
  }

  private set(): string[] {
    this.expect('{');
    const values: string[] = [];
    if (this.eat('}')) return values;
    do values.push(this.string());
    while (this.eat(','));
    this.expect('}', '"," or "}"');
    return values;
  }
}

/** Parses a selector; throws SelectorError with the position of the problem. */
export function parseSelector(text: string): Selector {
  return new Parser(text).parse();
}

/** What is wrong with a selector (with its position), or null. */
export function selectorProblem(text: string): string | null {
  try {
    parseSelector(text);
    return null;
  } catch (err) {
    if (err instanceof SelectorError) return `selector "${text}" does not parse: ${err.message}`;
    throw err;
  }
}

export function matches(sel: Selector, labels: Labels): boolean {
  const has = (k: string) => Object.prototype.hasOwnProperty.call(labels, k);
  switch (sel.kind) {
    case 'all':
      return true;
    case 'has':
      return has(sel.key);
    case 'eq':
      return has(sel.key) && labels[sel.key] === sel.value;
    case 'ne':
      return !has(sel.key) || labels[sel.key] !== sel.value;
    case 'contains':
      return has(sel.key) && labels[sel.key].includes(sel.value);
    case 'starts':
      return has(sel.key) && labels[sel.key].startsWith(sel.value);
    case 'ends':
      return has(sel.key) && labels[sel.key].endsWith(sel.value);
    case 'in':
      return has(sel.key) && sel.values.includes(labels[sel.key]);
    case 'notin':
      return !has(sel.key) || !sel.values.includes(labels[sel.key]);
    case 'not':
      return !matches(sel.operand, labels);
    case 'and':
      return matches(sel.left, labels) && matches(sel.right, labels);
    case 'or':
      return matches(sel.left, labels) || matches(sel.right, labels);
  }
}

const quoted = (v: string) => (v.includes("'") ? `"${v}"` : `'${v}'`);

/**
 * One text per selector, fully parenthesised where precedence matters: two spellings of the same
 * expression (spaces, quotes, redundant parentheses) name the same address set.
 */
export function canonicalSelector(sel: Selector): string {
  switch (sel.kind) {
    case 'all':
      return 'all()';
    case 'has':
      return `has(${sel.key})`;
    case 'eq':
      return `${sel.key} == ${quoted(sel.value)}`;
    case 'ne':
      return `${sel.key} != ${quoted(sel.value)}`;
    case 'contains':
      return `${sel.key} contains ${quoted(sel.value)}`;
    case 'starts':
      return `${sel.key} starts with ${quoted(sel.value)}`;
    case 'ends':
      return `${sel.key} ends with ${quoted(sel.value)}`;
    case 'in':
      return `${sel.key} in {${sel.values.map(quoted).join(', ')}}`;
    case 'notin':
      return `${sel.key} not in {${sel.values.map(quoted).join(', ')}}`;
    case 'not':
      return `!${wrap(sel.operand, 'not')}`;
    case 'and':
      return `${wrap(sel.left, 'and')} && ${wrap(sel.right, 'and')}`;
    case 'or':
      return `${wrap(sel.left, 'or')} || ${wrap(sel.right, 'or')}`;
  }
}

/** Parenthesises an operand that binds more loosely than its parent operator. */
function wrap(sel: Selector, parent: 'not' | 'and' | 'or'): string {
  const text = canonicalSelector(sel);
  const loose = (sel.kind === 'or' && parent !== 'or') || (sel.kind === 'and' && parent === 'not');
  return loose ? `(${text})` : text;
}
