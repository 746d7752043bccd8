/** valuesEqual and isWhollyKnown at their edges: sets of lists and maps, mixed number forms. */
import { Unknown } from '../../providers/runtime/resource';
import { isWhollyKnown, valuesEqual } from '../../providers/runtime/value-walk';

test('isWhollyKnown: one unknown anywhere in an object makes it not known', () => {
  expect(isWhollyKnown({ a: 1, b: Unknown })).toBe(false);
  expect(isWhollyKnown({ a: 1, b: { c: [Unknown] } })).toBe(false);
  expect(isWhollyKnown({ a: 1, b: { c: [2] } })).toBe(true);
});

test('sets compare regardless of order, also of lists and of maps (keys in any order)', () => {
  expect(valuesEqual(['set', 'string'], ['b', 'a'], ['a', 'b'])).toBe(true);
  expect(valuesEqual(['set', 'string'], ['a', 'b'], ['b', 'a'])).toBe(true);
  expect(valuesEqual(['set', 'string'], ['a', 'a'], ['a', 'b'])).toBe(false);
  const lists = ['set', ['list', 'string']] as const;
  expect(valuesEqual(lists, [['a', 'b'], ['c']], [['c'], ['a', 'b']])).toBe(true);
  expect(valuesEqual(lists, [['a', 'b']], [['b', 'a']])).toBe(false);
  expect(valuesEqual(lists, [['a', 'b']], [['ab']])).toBe(false);
  expect(valuesEqual(['set', ['list', 'number']], [[1, 2]], [[12]])).toBe(false);
  const maps = ['set', ['map', 'string']] as const;
  expect(valuesEqual(maps, [{ a: '1', b: '2' }, { c: '3' }], [{ c: '3' }, { b: '2', a: '1' }])).toBe(true);
  expect(valuesEqual(maps, [{ a: '1' }], [{ a: '2' }])).toBe(false);
  expect(valuesEqual(maps, [{ a: '1' }], [{ b: '1' }])).toBe(false);
  expect(valuesEqual(maps, [{ a: '1', b: '2' }], [{ a: '1' }])).toBe(false);
  // Unknown elements equal only unknown elements.
  expect(valuesEqual(['set', 'string'], ['a', Unknown], [Unknown, 'a'])).toBe(true);
  expect(valuesEqual(['set', 'string'], [Unknown], ['<unknown>'])).toBe(false);
});

test('lists compare element by element; maps and null never equal', () => {
  expect(valuesEqual(['list', 'string'], ['a', 'b'], ['a', 'c'])).toBe(false);
  expect(valuesEqual(['list', 'string'], ['a', 'b'], ['a', 'b'])).toBe(true);
  expect(valuesEqual(['map', 'string'], { a: '1' }, null)).toBe(false);
  expect(valuesEqual(['map', 'string'], null, { a: '1' })).toBe(false);
  expect(valuesEqual(['map', 'string'], { a: '1' }, Unknown)).toBe(false);
});

test('numbers: a JS number and exact decimal text of the same value are equal; other types never compare as numbers', () => {
  expect(valuesEqual('number', 1, '1')).toBe(true);
  expect(valuesEqual('number', '1.0', 1)).toBe(true);
  expect(valuesEqual('number', '9007199254740993', '9007199254740993.0')).toBe(true);
  expect(valuesEqual('number', 1, '2')).toBe(false);
  expect(valuesEqual('number', NaN, NaN)).toBe(false);
  expect(valuesEqual('number', 1, 'x')).toBe(false);
  expect(valuesEqual('number', 'x', 1)).toBe(false);
  expect(valuesEqual('number', Infinity, Infinity)).toBe(true);
  expect(valuesEqual('string', '1', '1.0')).toBe(false);
  expect(valuesEqual('bool', true, false)).toBe(false);
});
