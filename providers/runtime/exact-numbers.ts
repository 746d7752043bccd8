/**
 * cty numbers are arbitrary-precision decimals; a JS number is a float64. go-cty sends a number
 * as a msgpack int64 when it is an integer that fits, as a float64 when a float64 holds it
 * exactly, and otherwise as its decimal text. The rule here keeps every value intact: a number
 * is a JS number when a float64 holds it exactly, else its decimal text (a string). Rounding it
 * into a float64 would make Terraform see a different value than it sent (12345678901234567890
 * would come back as 12345678901234567168; 0.1 as 0.1000000000000000055…).
 */

/** JSON number grammar: what cty writes and what Terraform parses back. */
const DECIMAL = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** Past this decimal exponent no nonzero decimal equals a float64 (2^-1074 has exponent -1074). */
const MAX_EXACT_EXPONENT = 1100;

export function isDecimalText(text: string): boolean {
  return DECIMAL.test(text);
}

/** value = sign × digits × 10^exp10. */
interface Decimal {
  negative: boolean;
  digits: bigint;
  exp10: number;
}

function parseDecimal(text: string): Decimal {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) throw new RangeError(`not a decimal number: ${JSON.stringify(text)}`);
  const fraction = m[3] ?? '';
  return { negative: m[1] === '-', digits: BigInt(m[2] + fraction), exp10: Number(m[4] ?? 0) - fraction.length };
}

/** f = sign × mantissa × 2^exp2, exactly. */
function decomposeFloat(f: number): { negative: boolean; mantissa: bigint; exp2: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(f));
  const bits = view.getBigUint64(0);
  const biased = Number(bits >> 52n) & 0x7ff;
  const fraction = bits & ((1n << 52n) - 1n);
  return biased === 0
    ? { negative: f < 0 || Object.is(f, -0), mantissa: fraction, exp2: -1074 }
    : { negative: f < 0, mantissa: fraction | (1n << 52n), exp2: biased - 1075 };
}

/** Does the decimal equal the float64 exactly? */
function sameValue(d: Decimal, f: number): boolean {
  const { mantissa, exp2, negative } = decomposeFloat(f);
  if (d.digits === 0n || mantissa === 0n) return d.digits === 0n && mantissa === 0n;
  if (d.negative !== negative) return false;
  if (Math.abs(d.exp10) > MAX_EXACT_EXPONENT) return false;
  // digits × 10^exp10 = mantissa × 2^exp2, multiplied out to integers on both sides.
  const left = d.digits * 10n ** BigInt(Math.max(d.exp10, 0)) * 2n ** BigInt(Math.max(-exp2, 0));
  const right = mantissa * 2n ** BigInt(Math.max(exp2, 0)) * 10n ** BigInt(Math.max(-d.exp10, 0));
  return left === right;
}

/** The float64 that equals the decimal text exactly, if there is one. */
export function exactFloat64(text: string): number | undefined {
  const f = Number(text);
  if (!Number.isFinite(f)) return undefined;
  return sameValue(parseDecimal(text), f) ? f : undefined;
}

/**
 * A number as it arrived (float64, 64-bit integer, decimal text) → the runtime's form: a JS
 * number when that is exact, else the decimal text. Throws RangeError for text that is no number.
 */
export function exactNumber(raw: number | bigint | string): number | string {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'bigint') {
    const f = Number(raw);
    return BigInt(f) === raw ? f : raw.toString();
  }
  const text = raw.trim();
  if (!isDecimalText(text)) throw new RangeError(`not a decimal number: ${JSON.stringify(raw)}`);
  return exactFloat64(text) ?? text;
}

/** Numeric equality of two numbers in either form (0.5 equals "0.50", 1e3 equals "1000"). */
export function numbersEqual(a: number | string, b: number | string): boolean {
  if (a === b) return true;
  const da = typeof a === 'number' ? undefined : parseDecimal(a);
  const db = typeof b === 'number' ? undefined : parseDecimal(b);
  if (!da && !db) return false; // two different JS numbers
  if (da && db) {
    if (da.digits === 0n || db.digits === 0n) return da.digits === db.digits;
    if (da.negative !== db.negative) return false;
    const shift = da.exp10 - db.exp10;
    if (Math.abs(shift) > 2 * MAX_EXACT_EXPONENT) return false;
    return shift >= 0
      ? da.digits * 10n ** BigInt(shift) === db.digits
      : da.digits === db.digits * 10n ** BigInt(-shift);
  }
  return da
    ? Number.isFinite(b as number) && sameValue(da, b as number)
    : Number.isFinite(a as number) && sameValue(db!, a as number);
}

/**
 * JSON.parse, except that numbers keep their exact value by the rule above (JSON.parse would
 * round 12345678901234567890 to a float64). For raw state, which Terraform stores as JSON.
 */
export function parseJsonExact(text: string): unknown {
  let i = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`invalid JSON at offset ${i}: ${what}`);
  };
  const space = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const value = (): unknown => {
    space();
    const c = text[i];
    if (c === '{') {
      i++;
      const out: Record<string, unknown> = {};
      space();
      if (text[i] === '}') return (i++, out);
      for (;;) {
        space();
        if (text[i] !== '"') fail('expected a key');
        const key = string();
        space();
        if (text[i++] !== ':') fail('expected ":"');
        Object.defineProperty(out, key, { value: value(), enumerable: true, writable: true, configurable: true });
        space();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return (i++, out);
        else fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const out: unknown[] = [];
      space();
      if (text[i] === ']') return (i++, out);
      for (;;) {
        out.push(value());
        space();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return (i++, out);
        else fail('expected "," or "]"');
      }
    }
    if (c === '"') return string();
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, i)) return ((i += word.length), v);
    }
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 4096));
    if (!m) return fail('unexpected character');
    i += m[0].length;
    return exactNumber(m[0]);
  };
  const string = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) fail('unterminated string');
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const result = value();
  space();
  if (i !== text.length) fail('trailing characters');
  return result;
}
