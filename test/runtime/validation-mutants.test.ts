/**
 * The validator helpers of providers/runtime/validation.ts on their own, at the edges the
 * runtime's own suite (validation.test.ts) does not reach through Terraform's wire: values of the
 * wrong type (a state written by hand, an older provider), decimal text that is not a number,
 * null and unknown entries, helpers given only one of their checks, and nested blocks that are
 * absent, unknown or not an object.
 */
import { ObjectValue, Unknown, Value } from '../../providers/runtime/resource';
import type { BlockSchema } from '../../providers/runtime/schema';
import {
  eachElement,
  mapEntries,
  numberValue,
  stringValue,
  validationProblems,
} from '../../providers/runtime/validation';

/** A check that shows what it was given: its type and value. */
const echo = (v: unknown) => `got ${typeof v} ${String(v)}`;
const noSpace = (v: string) => (/\s/.test(v) ? `"${v}" contains a space` : null);
const upper = (v: string) => (v === v.toUpperCase() ? null : `"${v}" is not upper case`);

describe('numberValue: a number, or exact decimal text of one, reaches the check as a number', () => {
  const problems = (v: Value) => numberValue(echo).problems(v);

  it('numbers and decimal text', () => {
    expect(problems(7)).toEqual(['got number 7']);
    expect(problems('12')).toEqual(['got number 12']);
    expect(problems(' 2.5 ')).toEqual(['got number 2.5']);
    expect(problems('0')).toEqual(['got number 0']);
  });

  it('anything else is "must be a number", and the check never sees it', () => {
    for (const v of ['', ' ', '\n', 'abc', '12abc', 'Infinity', 'NaN', true, ['1'], { n: 1 }] as Value[])
      expect([v, problems(v)]).toEqual([v, ['must be a number']]);
  });

  it('a check that passes gives no problem', () => {
    expect(numberValue(() => null).problems('3')).toEqual([]);
  });
});

describe('stringValue', () => {
  it('a string reaches the check; anything else is "must be a string"', () => {
    expect(stringValue(echo).problems('a b')).toEqual(['got string a b']);
    expect(stringValue(noSpace).problems('ab')).toEqual([]);
    for (const v of [5, true, ['a'], { a: 'b' }] as Value[])
      expect([v, stringValue(echo).problems(v)]).toEqual([v, ['must be a string']]);
  });
});

describe('eachElement', () => {
  const problems = (v: Value) => eachElement(noSpace).problems(v);

  it('checks each string element, skips null and unknown ones, refuses other elements', () => {
    expect(problems(['a', 'b c', 'd e'])).toEqual(['"b c" contains a space', '"d e" contains a space']);
    expect(problems([null, Unknown, 'a'])).toEqual([]);
    expect(problems([5, 'a', false])).toEqual(['must be a string', 'must be a string']);
    expect(eachElement(echo).problems([3])).toEqual(['must be a string']);
  });

  it('a value that is not a list is "must be a list"', () => {
    for (const v of ['a b', 5, { a: 'b' }] as Value[]) expect([v, problems(v)]).toEqual([v, ['must be a list']]);
  });
});

describe('mapEntries', () => {
  const both = mapEntries({ keys: upper, values: noSpace });

  it('a value that is not a map is "must be a map"', () => {
    for (const v of [null, 'a', 5, true, ['A'], []] as Value[])
      expect([v, both.problems(v)]).toEqual([v, ['must be a map']]);
  });

  it("one problem per entry, on the entry's key: the key's own first, then the value's", () => {
    expect(both.problems({ A: 'x', b: 'y z', C: 'y z', d: 'ok' })).toEqual([
      { key: 'b', problem: '"b" is not upper case' },
      { key: 'C', problem: '"y z" contains a space' },
      { key: 'd', problem: '"d" is not upper case' },
    ]);
  });

  it('null and unknown values are skipped (their keys still checked); other values are "must be a string"', () => {
    expect(both.problems({ A: null, B: Unknown })).toEqual([]);
    expect(both.problems({ a: null })).toEqual([{ key: 'a', problem: '"a" is not upper case' }]);
    expect(both.problems({ A: 5, B: ['x'] })).toEqual([
      { key: 'A', problem: 'must be a string' },
      { key: 'B', problem: 'must be a string' },
    ]);
    expect(mapEntries({ values: echo }).problems({ k: 5 })).toEqual([{ key: 'k', problem: 'must be a string' }]);
  });

  it('given only a key check, or only a value check, checks just that', () => {
    expect(mapEntries({ keys: upper }).problems({ A: 'a b', b: 'c' })).toEqual([
      { key: 'b', problem: '"b" is not upper case' },
    ]);
    expect(mapEntries({ values: noSpace }).problems({ a: 'a b', B: 'c' })).toEqual([
      { key: 'a', problem: '"a b" contains a space' },
    ]);
    expect(mapEntries({}).problems({ a: 'a b' })).toEqual([]);
  });
});

describe('validationProblems', () => {
  /** A nested block whose own check always reports: it must run only on a known object. */
  const block: BlockSchema = {
    attributes: { name: { type: 'string', optional: true, description: '', validators: [stringValue(noSpace)] } },
    blocks: {
      conn: {
        nesting: 'single',
        block: {
          attributes: { host: { type: 'string', optional: true, description: '' } },
          checks: [{ reads: [], problems: () => [{ attribute: 'host', problem: 'checked' }] }],
        },
      },
    },
  };
  const details = (obj: ObjectValue | null) => validationProblems(block, obj, 'config').map((d) => d.detail);

  it('no object (a resource that does not exist): no problems', () => {
    expect(validationProblems(block, null, 'config')).toEqual([]);
    expect(validationProblems(block, null, 'apply')).toEqual([]);
  });

  it("a nested block's checks run on a nested object only: not when it is absent, unknown or not an object", () => {
    expect(details({ name: 'a', conn: { host: 'h' } })).toEqual(['checked']);
    expect(validationProblems(block, { name: 'a', conn: { host: 'h' } }, 'config')[0].attribute).toEqual([
      'conn',
      'host',
    ]);
    for (const conn of [null, Unknown, 'h', 5, [], [{ host: 'h' }]] as Value[])
      expect([conn, details({ name: 'a', conn })]).toEqual([conn, []]);
    expect(details({ name: 'a b' })).toEqual(['"a b" contains a space']);
  });
});
