/**
 * Secrets (BGP passwords) never appear in a rendered bird.conf as planned: the content carries
 * a placeholder per secret, the values travel in the sensitive `secrets` map of
 * calico_bird_config, the provider splices them in at apply and masks them again when it reads
 * the file back. Synthesis, the provider and the drift report agree on these forms here.
 */

/** Stands where a secret's value goes. No rendered value can contain "<<" (all are validated). */
export function secretPlaceholder(name: string): string {
  return `<<calico-secret:${name}>>`;
}

const PLACEHOLDER = /<<calico-secret:([A-Za-z0-9_.:-]+)>>/g;

/** What a `password "…"` not matching any declared secret reads back as: changed, never shown. */
export const UNDECLARED_SECRET = '<<calico-secret:hidden, not a declared value>>';

/** The placeholders a content uses that have no value in `secrets`. */
export function missingSecrets(content: string, secrets: Record<string, string> | null | undefined): string[] {
  const missing = new Set<string>();
  for (const m of content.matchAll(PLACEHOLDER)) if (secrets?.[m[1]] === undefined) missing.add(m[1]);
  return [...missing];
}

/** The content with every placeholder replaced by its value, in one pass (values are not rescanned). */
export function spliceSecrets(content: string, secrets: Record<string, string> | null | undefined): string {
  const missing = missingSecrets(content, secrets);
  if (missing.length > 0) throw new Error(`no value for secret ${missing.map((n) => `"${n}"`).join(', ')}`);
  return content.replace(PLACEHOLDER, (_, name: string) => secrets![name]);
}

/**
 * The host's file as the state should show it. Unchanged (the declared content with the declared
 * values) reads back as the declared placeholder content. Otherwise every password BIRD would
 * read, in whatever form BIRD reads it (see maskBirdPasswords), shows the placeholder of the
 * declared secret it equals, or UNDECLARED_SECRET: a password changed by hand is a visible change
 * whose value is never shown.
 */
export function maskSecrets(
  hostContent: string,
  declaredContent: string,
  secrets: Record<string, string> | null | undefined,
): string {
  if (
    missingSecrets(declaredContent, secrets).length === 0 &&
    spliceSecrets(declaredContent, secrets) === hostContent
  ) {
    return declaredContent;
  }
  return maskBirdPasswords(hostContent, secrets);
}

/** One lexical token of a BIRD config, as BIRD's lexer (cf-lex.l) splits it. */
interface Token {
  kind: 'space' | 'comment' | 'string' | 'word' | 'other';
  start: number;
  end: number;
  /** A string's text without its quotes (to the end of the line when it is not closed). */
  value?: string;
  /** A string that ends at the end of its line without a closing quote. */
  open?: boolean;
}

/**
 * BIRD's tokens, as far as passwords need them (checked with `bird -p` on BIRD 2.0.12): blanks
 * are space, tab and newline; comments run from `#` to the end of the line, or from slash-star
 * to the first star-slash (no nesting); a string is `"` up to the next `"` on the same line, with no
 * escapes; a symbol is a word or a name in single quotes. Keywords are case-sensitive in BIRD;
 * here `password` matches in any case, which can only mask more.
 */
function birdTokens(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const start = i;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
      tokens.push({ kind: 'space', start, end: i });
    } else if (c === '#') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl;
      tokens.push({ kind: 'comment', start, end: i });
    } else if (c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      i = close < 0 ? text.length : close + 2;
      tokens.push({ kind: 'comment', start, end: i });
    } else if (c === '"') {
      const close = text.indexOf('"', i + 1);
      const nl = text.indexOf('\n', i + 1);
      const open = close < 0 || (nl >= 0 && nl < close);
      const stop = open ? (nl < 0 ? text.length : nl) : close;
      tokens.push({ kind: 'string', start, end: open ? stop : stop + 1, value: text.slice(i + 1, stop), open });
      i = open ? stop : stop + 1;
    } else if (c === "'") {
      const close = text.indexOf("'", i + 1);
      const nl = text.indexOf('\n', i + 1);
      i = close < 0 || (nl >= 0 && nl < close) ? (nl < 0 ? text.length : nl) : close + 1;
      tokens.push({ kind: 'word', start, end: i });
    } else if (/[A-Za-z0-9_]/.test(c)) {
      while (i < text.length && /[A-Za-z0-9_.:]/.test(text[i])) i++;
      tokens.push({ kind: 'word', start, end: i });
    } else {
      i++;
      tokens.push({ kind: 'other', start, end: i });
    }
  }
  return tokens;
}

/**
 * Every password in a BIRD config text masked, found by meaning rather than by spacing: the
 * string after the keyword `password` whatever blanks or comments stand between them
 * (`password"x"`, a tab, a newline, a comment; in a protocol, a template or, though BIRD refuses
 * it there, a channel block), and a symbol after `password` followed through its `define`s to the
 * string it stands for. A string equal to a declared value shows that secret's placeholder, any
 * other UNDECLARED_SECRET. Declared values are also masked wherever else they appear in strings
 * and comments, and a commented-out `password "…"` is masked as well: the file is shown as text,
 * so a value BIRD would not read is still not ours to print.
 */
export function maskBirdPasswords(text: string, secrets: Record<string, string> | null | undefined): string {
  const tokens = birdTokens(text);
  const significant = tokens.filter((t) => t.kind !== 'space' && t.kind !== 'comment');
  const word = (t: Token | undefined) => (t && t.kind === 'word' ? text.slice(t.start, t.end) : undefined);
  const strip = (name: string) => (name.startsWith("'") ? name.replace(/^'|'$/g, '') : name);

  // define NAME = "text" | define NAME = OTHER: what each symbol stands for.
  const defines = new Map<string, Token>();
  significant.forEach((t, k) => {
    const name = word(significant[k + 1]);
    if (
      word(t) === 'define' &&
      name !== undefined &&
      text.slice(significant[k + 2]?.start ?? 0, significant[k + 2]?.end ?? 0) === '=' &&
      significant[k + 3]
    ) {
      defines.set(strip(name), significant[k + 3]);
    }
  });
  const resolve = (t: Token | undefined): Token | undefined => {
    const seen = new Set<string>();
    while (t && t.kind === 'word') {
      const name = strip(word(t)!);
      if (seen.has(name)) return undefined;
      seen.add(name);
      t = defines.get(name);
    }
    return t && t.kind === 'string' ? t : undefined;
  };

  const secret = new Set<Token>();
  significant.forEach((t, k) => {
    if (t.kind === 'word' && word(t)!.toLowerCase() === 'password') {
      const target = resolve(significant[k + 1]);
      if (target) secret.add(target);
    }
  });

  const values = Object.entries(secrets ?? {}).filter(([, v]) => v !== '');
  const placeholderOf = (value: string) => {
    const declared = values.find(([, v]) => v === value);
    return declared ? secretPlaceholder(declared[0]) : UNDECLARED_SECRET;
  };
  // One pass, longest first: a value containing another is replaced whole, and no placeholder
  // put in is searched again.
  const escape = (v: string) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const alternatives = values
    .map(([, v]) => v)
    .sort((a, b) => b.length - a.length)
    .map(escape);
  const declaredValue = alternatives.length > 0 ? alternatives.join('|') : '(?!)';
  const inString = new RegExp(declaredValue, 'g');
  // In a comment, also `password "…"` as it would read were the comment removed.
  const inComment = new RegExp(`([Pp][Aa][Ss][Ss][Ww][Oo][Rr][Dd][ \\t\\n]*")([^"\\n]*)("?)|${declaredValue}`, 'g');
  const maskDeclared = (s: string) => s.replace(inString, (v) => placeholderOf(v));

  let out = '';
  for (const t of tokens) {
    const raw = text.slice(t.start, t.end);
    if (t.kind === 'string' && secret.has(t)) {
      out += `"${placeholderOf(t.value!)}${t.open ? '' : '"'}`;
    } else if (t.kind === 'string') {
      out += `"${maskDeclared(t.value!)}${t.open ? '' : '"'}`;
    } else if (t.kind === 'comment') {
      out += raw.replace(inComment, (match: string, open?: string, value?: string, close?: string) =>
        open === undefined ? placeholderOf(match) : `${open}${placeholderOf(value!)}${close}`,
      );
    } else {
      out += raw;
    }
  }
  return out;
}
