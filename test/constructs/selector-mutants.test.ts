/**
 * Calico selectors (constructs/selector.ts) at the edges policy.test.ts does not reach: keywords
 * only as whole words, "!" against "!=", any white space, labels named like keywords, every error
 * position, and the one canonical text for every nesting of !, && and ||.
 */
import { canonicalSelector, matches, parseSelector, SelectorError, selectorProblem } from '../../constructs/selector';

const sel = (s: string) => canonicalSelector(parseSelector(s));
const m = (s: string, labels: Record<string, string>) => matches(parseSelector(s), labels);

function errorOf(text: string): { reason: string; position: number } {
  try {
    parseSelector(text);
  } catch (err) {
    if (!(err instanceof SelectorError)) throw err;
    return { reason: err.reason, position: err.position };
  }
  throw new Error(`"${text}" parsed`);
}

describe('tokens', () => {
  test('any white space separates tokens: tabs, newlines, none at all', () => {
    expect(sel("\thas(a)\n&&\r\nb\t==\t'x'  ")).toBe("has(a) && b == 'x'");
    expect(sel("a=='x'&&!has(b)||c!='y'")).toBe("a == 'x' && !has(b) || c != 'y'");
    expect(sel("a in{'x','y'}")).toBe("a in {'x', 'y'}");
    expect(sel("a not in {'x' , 'y'}")).toBe("a not in {'x', 'y'}");
    expect(sel('\n')).toBe('all()');
  });

  test('keywords are whole words: a longer word is an unknown operator, not the keyword', () => {
    for (const text of ["a inside {'x'}", "a notin {'x'}", "a contains_ 'x'", "a startswith 'x'", "a endswith 'x'"])
      expect([text, errorOf(text)]).toEqual([
        text,
        {
          reason: `expected ==, !=, in, not in, contains, starts with or ends with after label "a" (which starts at position 0)`,
          position: 2,
        },
      ]);
    expect(errorOf("a not inx {'x'}")).toEqual({ reason: 'expected "in" after "not"', position: 6 });
    expect(errorOf("a starts within 'x'")).toEqual({ reason: 'expected "with" after "starts"', position: 9 });
    expect(errorOf("a ends withx 'x'")).toEqual({ reason: 'expected "with" after "ends"', position: 7 });
    // A keyword that ends the text is still the keyword.
    expect(errorOf('a in')).toEqual({ reason: 'expected "{"', position: 4 });
    expect(errorOf('a not in')).toEqual({ reason: 'expected "{"', position: 8 });
    expect(errorOf('a contains')).toEqual({ reason: 'expected a quoted value', position: 10 });
  });

  test('labels may be called all, has, in, not, contains, starts or ends', () => {
    expect(m("all == 'x'", { all: 'x' })).toBe(true);
    expect(m("all == 'x'", {})).toBe(false);
    expect(m("has != 'x'", { has: 'y' })).toBe(true);
    expect(m("not in {'x'}", { not: 'x' })).toBe(true);
    expect(m("contains contains 'x'", { contains: 'axb' })).toBe(true);
    expect(m("starts starts with 'x'", { starts: 'xa' })).toBe(true);
    expect(m("ends ends with 'x'", { ends: 'ax' })).toBe(true);
    expect(sel('has(all)')).toBe('has(all)');
    expect(sel('has(has)')).toBe('has(has)');
  });

  test('"!" negates; "!=" cannot start an expression', () => {
    expect(m('!has(a)', {})).toBe(true);
    expect(m('!!has(a)', {})).toBe(false);
    expect(sel('!!has(a)')).toBe('!!has(a)');
    expect(sel('! ! has(a)')).toBe('!!has(a)');
    expect(errorOf("!= 'x'")).toEqual({ reason: 'expected a label name, found "!"', position: 0 });
    expect(errorOf('!')).toEqual({ reason: 'expected a label expression', position: 1 });
  });

  test('quoted values: either quote, the other inside, empty, spaces kept', () => {
    expect(m("a == ''", { a: '' })).toBe(true);
    expect(m("a == ''", { a: 'x' })).toBe(false);
    expect(m(`a == "x y"`, { a: 'x y' })).toBe(true);
    expect(m(`a == 'say "hi"'`, { a: 'say "hi"' })).toBe(true);
    expect(sel(`a == 'say "hi"'`)).toBe(`a == 'say "hi"'`);
    expect(sel(`a in {"it's", ''}`)).toBe(`a in {"it's", ''}`);
    expect(errorOf(`a == "x'`)).toEqual({ reason: 'unterminated string', position: 5 });
  });
});

describe('errors and their positions', () => {
  test('where the text runs out', () => {
    expect(errorOf('has(')).toEqual({ reason: 'expected a label name', position: 4 });
    expect(errorOf('has(a')).toEqual({ reason: 'expected ")"', position: 5 });
    expect(errorOf('all(')).toEqual({ reason: 'expected ")"', position: 4 });
    expect(errorOf('(')).toEqual({ reason: 'expected a label expression', position: 1 });
    expect(errorOf('role  ')).toEqual({ reason: 'expected an operator after label "role"', position: 6 });
    expect(errorOf("a in {'x',")).toEqual({ reason: 'expected a quoted value', position: 10 });
    expect(errorOf("a in {'x'")).toEqual({ reason: 'expected "," or "}"', position: 9 });
    expect(errorOf('has(a) ||')).toEqual({ reason: 'expected a label expression', position: 9 });
  });

  test('what is found instead', () => {
    expect(errorOf('  ) ')).toEqual({ reason: 'expected a label name, found ")"', position: 2 });
    expect(errorOf("b == 'x' )")).toEqual({ reason: 'unexpected ")"', position: 9 });
    expect(errorOf("  x = 'y'")).toEqual({
      reason:
        'expected ==, !=, in, not in, contains, starts with or ends with after label "x" (which starts at position 2)',
      position: 4,
    });
    expect(errorOf('has(a) & has(b)')).toEqual({ reason: 'unexpected "&"', position: 7 });
    // Only has( and all( are calls: any other label before "(" wants an operator.
    expect(errorOf('foo(a)')).toEqual({
      reason:
        'expected ==, !=, in, not in, contains, starts with or ends with after label "foo" (which starts at position 0)',
      position: 3,
    });
  });

  test('selectorProblem quotes the selector and the position', () => {
    expect(selectorProblem('has(')).toBe('selector "has(" does not parse: expected a label name at position 4');
    expect(selectorProblem('')).toBeNull();
    const err = errorOf('x');
    expect(new SelectorError(err.reason, err.position).message).toBe(
      'expected an operator after label "x" at position 1',
    );
    expect(new SelectorError('r', 3).name).toBe('SelectorError');
    // Only a selector that does not parse is a problem to report; a caller's bug is not disguised as one.
    expect(() => selectorProblem(5 as unknown as string)).toThrow(TypeError);
  });
});

describe('one canonical text', () => {
  test('parentheses only where precedence needs them', () => {
    const cases: [string, string][] = [
      ['has(a) && has(b) || has(c)', 'has(a) && has(b) || has(c)'],
      ['has(c) || has(a) && has(b)', 'has(c) || has(a) && has(b)'],
      ['(has(a) && has(b)) || has(c)', 'has(a) && has(b) || has(c)'],
      ['has(a) || (has(b) || has(c))', 'has(a) || has(b) || has(c)'],
      ['(has(a) || has(b)) || has(c)', 'has(a) || has(b) || has(c)'],
      ['has(a) && (has(b) && has(c))', 'has(a) && has(b) && has(c)'],
      ['!(has(a) || has(b))', '!(has(a) || has(b))'],
      ['!(has(a) && has(b))', '!(has(a) && has(b))'],
      ['(has(a) || has(b)) && (has(c) || has(d))', '(has(a) || has(b)) && (has(c) || has(d))'],
      ['has(a) && !(has(b) || has(c))', 'has(a) && !(has(b) || has(c))'],
      ['!has(a) || !has(b)', '!has(a) || !has(b)'],
      ['!(!has(a))', '!!has(a)'],
      ["!(a == 'x')", "!a == 'x'"],
      ["a not in {'x', 'y', 'z'}", "a not in {'x', 'y', 'z'}"],
      ["!(a in {'x'})", "!a in {'x'}"],
    ];
    for (const [text, canonical] of cases) expect([text, sel(text)]).toEqual([text, canonical]);
  });

  test('the canonical text parses back to the same selector', () => {
    for (const text of [
      "(a == 'x' || b != \"it's\") && !(c in {'p', 'q'} || has(d))",
      "!(a not in {} && b contains 'z') || c starts with 's' && d ends with 'e' || all()",
    ]) {
      const once = parseSelector(text);
      expect(parseSelector(canonicalSelector(once))).toEqual(once);
    }
  });
});

describe('evaluation', () => {
  test('&& needs both, || either, whatever the order', () => {
    const l = { a: '1' };
    expect([m('has(a) && has(b)', l), m('has(b) && has(a)', l), m('has(a) && has(a)', l)]).toEqual([
      false,
      false,
      true,
    ]);
    expect([m('has(a) || has(b)', l), m('has(b) || has(a)', l), m('has(b) || has(c)', l)]).toEqual([true, true, false]);
  });

  test('all(), !=, in and not in against a label that is absent, equal, or different', () => {
    const cases: [string, [boolean, boolean, boolean]][] = [
      ['all()', [true, true, true]],
      ["a != 'x'", [true, false, true]],
      ["a in {'x', 'z'}", [false, true, false]],
      ["a not in {'x', 'z'}", [true, false, true]],
    ];
    for (const [text, expected] of cases)
      expect([text, [m(text, {}), m(text, { a: 'x' }), m(text, { a: 'y' })]]).toEqual([text, expected]);
  });

  test('labels inherited from Object.prototype are not labels', () => {
    for (const text of [
      'has(constructor)',
      "constructor == 'x'",
      "constructor contains 'f'",
      "constructor starts with 'f'",
      "constructor ends with '}'",
      "constructor in {'x'}",
    ])
      expect([text, m(text, {})]).toEqual([text, false]);
    expect(m("constructor != 'x'", {})).toBe(true);
    expect(m("constructor not in {'x'}", {})).toBe(true);
  });
});
