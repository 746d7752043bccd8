/**
 * Two runtime modules no other fast suite reaches: the legacy flatmap state reader
 * (unflattenState, which upgradeState uses on pre-0.12 state) and the typed views handlers read
 * their values through (knownValues / knownInputs and the errors they raise). Exact outputs.
 */
import { unflattenState } from '../../providers/runtime/flatmap';
import * as typed from '../../providers/runtime/typed';
import { ObjectValue, ProviderError, Unknown } from '../../providers/runtime/resource';
import type { BlockSchema } from '../../providers/runtime/schema';

const d = '';
const block: BlockSchema = {
  attributes: {
    id: { type: 'string', computed: true, description: d },
    name: { type: 'string', required: true, description: d },
    count: { type: 'number', optional: true, description: d },
    on: { type: 'bool', optional: true, description: d },
    lines: { type: ['list', 'string'], optional: true, description: d },
    tags: { type: ['set', 'string'], optional: true, description: d },
    labels: { type: ['map', 'string'], optional: true, description: d },
    grid: { type: ['list', ['list', 'number']], optional: true, description: d },
    fact: { type: 'string', computed: true, description: d },
  },
  blocks: {
    location: {
      nesting: 'single',
      block: {
        attributes: {
          dir: { type: 'string', required: true, description: d },
          depth: { type: 'number', optional: true, description: d },
        },
      },
    },
    conn: {
      nesting: 'single',
      required: true,
      block: { attributes: { host: { type: 'string', required: true, description: d } } },
    },
  },
};

describe('unflattenState (legacy flatmap state)', () => {
  it('scalars stay text, lists by "#" in order, maps by "%" with dotted keys, absent keys null', () => {
    const flat = {
      id: 'x',
      name: 'n',
      count: '3',
      on: 'true',
      'lines.#': '2',
      'lines.1': 'b',
      'lines.0': 'a',
      'labels.%': '2',
      'labels.k': 'v',
      'labels.a.b': 'dotted',
      'grid.#': '2',
      'grid.0.#': '1',
      'grid.0.0': '7',
      'grid.1.#': '0',
    };
    expect(unflattenState(block, flat)).toStrictEqual({
      id: 'x',
      name: 'n',
      count: '3',
      on: 'true',
      lines: ['a', 'b'],
      tags: null,
      labels: { k: 'v', 'a.b': 'dotted' },
      grid: [['7'], []],
      fact: null,
      location: null,
      conn: null,
    });
  });

  it('sets: one element per distinct first segment (SDK hashes or indexes), the count key skipped', () => {
    const out = unflattenState(block, {
      name: 'n',
      'tags.#': '2',
      'tags.1234': 'a',
      'tags.99': 'b',
      'tagsx.1': 'other',
    });
    expect([...(out.tags as string[])].sort()).toEqual(['a', 'b']);
    // A set with a count but no elements is empty, not null; an empty map is {}, not null.
    expect(unflattenState(block, { 'tags.#': '0', 'labels.%': '0' })).toMatchObject({ tags: [], labels: {} });
    // Without its "%" count a map is absent, whatever entries look like its keys.
    expect(unflattenState(block, { name: 'n', 'labels.k': 'v' }).labels).toBeNull();
  });

  it('map entries named like the count, or "__proto__", are data', () => {
    const out = unflattenState(block, { 'labels.%': '2', 'labels.__proto__': 'p', 'labels.#': 'hash-named' });
    expect(Object.keys(out.labels as object).sort()).toEqual(['#', '__proto__']);
    expect((out.labels as Record<string, unknown>).__proto__).toBe('p');
    expect(Object.getPrototypeOf(out.labels)).toBe(Object.prototype);
    // Plain data an upgradeState hook may edit: entries can be changed and removed.
    const labels = out.labels as Record<string, unknown>;
    labels['#'] = 'edited';
    expect(labels['#']).toBe('edited');
    expect(delete labels['#']).toBe(true);
    expect(Object.keys(labels)).toEqual(['__proto__']);
  });

  it('a list count that is not a whole number is an error naming the key', () => {
    expect(() => unflattenState(block, { 'lines.#': 'two' })).toThrow(
      new RangeError('invalid count "two" for lines in flatmap state'),
    );
    expect(() => unflattenState(block, { 'lines.#': '-1' })).toThrow(RangeError);
    expect(() => unflattenState(block, { 'lines.#': '1.5' })).toThrow(RangeError);
    expect(unflattenState(block, { 'lines.#': '0' }).lines).toStrictEqual([]);
  });

  it('single blocks: the SDK list form ("#" = 1 / 0) and the plain dotted form', () => {
    expect(
      unflattenState(block, { 'location.#': '1', 'location.0.dir': '/d', 'location.0.depth': '2' }).location,
    ).toStrictEqual({ dir: '/d', depth: '2' });
    expect(unflattenState(block, { 'location.#': '0' }).location).toBeNull();
    expect(unflattenState(block, { 'location.dir': '/e' }).location).toStrictEqual({ dir: '/e', depth: null });
    // Another attribute sharing the prefix is not the block.
    expect(unflattenState(block, { 'locationx.dir': '/f' }).location).toBeNull();
    expect(unflattenState(block, { name: 'n', 'location.dir': '/g' }).location).toStrictEqual({
      dir: '/g',
      depth: null,
    });
  });

  it('keys of attributes the schema does not have pass through flat', () => {
    const out = unflattenState(block, { name: 'n', 'old.#': '1', 'old.0': 'z', retired: 'r' });
    expect(out['old.#']).toBe('1');
    expect(out['old.0']).toBe('z');
    expect(out.retired).toBe('r');
    // Known names are not copied flat again.
    expect(Object.keys(out).filter((k) => k.startsWith('name'))).toEqual(['name']);
  });
});

// The typed views over a schema typed only as BlockSchema (their result types would be endless).
const knownValues = typed.knownValues as unknown as (b: BlockSchema, o: ObjectValue) => unknown;
const knownInputs = typed.knownInputs as unknown as (b: BlockSchema, o: ObjectValue) => unknown;
const asObjectValue = typed.asObjectValue;

describe('typed views', () => {
  const good = (over: ObjectValue = {}): ObjectValue => ({
    id: 'i',
    name: 'n',
    count: 1,
    on: true,
    lines: ['a'],
    tags: [],
    labels: { k: 'v' },
    grid: [[1]],
    fact: null,
    location: null,
    conn: { host: 'h' },
    ...over,
  });
  const problem = (f: () => unknown): { summary: string; detail?: string; attribute?: unknown } => {
    try {
      f();
    } catch (err) {
      expect(err).toBeInstanceOf(ProviderError);
      const e = err as ProviderError;
      return { summary: e.summary, detail: e.options.detail, attribute: e.options.attribute };
    }
    throw new Error('expected a ProviderError');
  };

  it('a well-typed object comes back as itself, from both views', () => {
    const v = good({ location: { dir: '/d', depth: null } });
    expect(knownValues(block, v)).toBe(v);
    expect(knownInputs(block, v)).toBe(v);
    expect(asObjectValue(v)).toBe(v);
  });

  it('each type: the attribute and what it must be', () => {
    expect(problem(() => knownValues(block, good({ name: 1 })))).toEqual({
      summary: 'Invalid name',
      detail: 'must be a string',
      attribute: ['name'],
    });
    expect(problem(() => knownValues(block, good({ count: '1' })))).toEqual({
      summary: 'Invalid count',
      detail: 'must be a number',
      attribute: ['count'],
    });
    expect(problem(() => knownValues(block, good({ on: 'true' })))).toEqual({
      summary: 'Invalid on',
      detail: 'must be true or false',
      attribute: ['on'],
    });
    expect(problem(() => knownValues(block, good({ labels: ['k'] })))).toEqual({
      summary: 'Invalid labels',
      detail: 'must be a map',
      attribute: ['labels'],
    });
    expect(problem(() => knownValues(block, good({ labels: 'k' })))).toMatchObject({ detail: 'must be a map' });
    expect(problem(() => knownValues(block, good({ lines: 'a' })))).toEqual({
      summary: 'Invalid lines',
      detail: 'must be a list',
      attribute: ['lines'],
    });
    expect(problem(() => knownValues(block, good({ tags: { a: 1 } })))).toMatchObject({
      detail: 'must be a list',
      attribute: ['tags'],
    });
  });

  it('unknown and missing values: known at apply, required present; optional nulls pass', () => {
    expect(problem(() => knownValues(block, good({ count: Unknown })))).toEqual({
      summary: 'count must be known at apply time',
      detail: undefined,
      attribute: ['count'],
    });
    expect(problem(() => knownValues(block, good({ name: null })))).toEqual({
      summary: 'name is required',
      detail: undefined,
      attribute: ['name'],
    });
    const missing = good();
    delete missing.name;
    expect(problem(() => knownValues(block, missing))).toMatchObject({ summary: 'name is required' });
    expect(() => knownValues(block, good({ count: null, on: null, lines: null, labels: null }))).not.toThrow();
  });

  it('nested blocks: unknown, missing required, not an object, and their attributes by full path', () => {
    expect(problem(() => knownValues(block, good({ conn: Unknown })))).toEqual({
      summary: 'conn must be known at apply time',
      detail: undefined,
      attribute: ['conn'],
    });
    expect(problem(() => knownValues(block, good({ conn: null })))).toEqual({
      summary: 'The conn block is missing',
      detail: undefined,
      attribute: ['conn'],
    });
    expect(problem(() => knownValues(block, good({ conn: [{ host: 'h' }] })))).toEqual({
      summary: 'Invalid conn',
      detail: 'must be a block',
      attribute: ['conn'],
    });
    expect(problem(() => knownValues(block, good({ conn: 'h' })))).toMatchObject({
      summary: 'Invalid conn',
      detail: 'must be a block',
    });
    expect(problem(() => knownValues(block, good({ conn: { host: 5 } })))).toEqual({
      summary: 'Invalid conn.host',
      detail: 'must be a string',
      attribute: ['conn', 'host'],
    });
    expect(problem(() => knownValues(block, good({ location: { depth: 1 } })))).toEqual({
      summary: 'location.dir is required',
      detail: undefined,
      attribute: ['location', 'dir'],
    });
    // An optional block may be absent.
    const noLocation = good();
    delete noLocation.location;
    expect(() => knownValues(block, noLocation)).not.toThrow();
  });

  it('blocks inside blocks: full dotted paths; their computed-only attributes are checked even by knownInputs', () => {
    const deep: BlockSchema = {
      attributes: {},
      blocks: {
        outer: {
          nesting: 'single',
          block: {
            attributes: { at: { type: 'string', computed: true, description: d } },
            blocks: {
              inner: {
                nesting: 'single',
                required: true,
                block: { attributes: { v: { type: 'string', optional: true, description: d } } },
              },
            },
          },
        },
      },
    };
    expect(problem(() => knownValues(deep, { outer: { at: 'x', inner: Unknown } }))).toEqual({
      summary: 'outer.inner must be known at apply time',
      detail: undefined,
      attribute: ['outer', 'inner'],
    });
    expect(problem(() => knownValues(deep, { outer: { at: 'x', inner: null } }))).toEqual({
      summary: 'The outer.inner block is missing',
      detail: undefined,
      attribute: ['outer', 'inner'],
    });
    expect(problem(() => knownValues(deep, { outer: { at: 'x', inner: 'v' } }))).toEqual({
      summary: 'Invalid outer.inner',
      detail: 'must be a block',
      attribute: ['outer', 'inner'],
    });
    expect(problem(() => knownInputs(deep, { outer: { at: Unknown, inner: { v: 'v' } } }))).toEqual({
      summary: 'outer.at must be known at apply time',
      detail: undefined,
      attribute: ['outer', 'at'],
    });
  });

  it('knownInputs skips computed-only attributes (unknown at plan), checks inputs and nested blocks fully', () => {
    expect(() => knownInputs(block, good({ id: Unknown, fact: 5 }))).not.toThrow();
    expect(problem(() => knownValues(block, good({ id: Unknown })))).toMatchObject({
      summary: 'id must be known at apply time',
    });
    expect(problem(() => knownInputs(block, good({ name: Unknown })))).toMatchObject({
      summary: 'name must be known at apply time',
    });
    expect(problem(() => knownInputs(block, good({ conn: { host: Unknown } })))).toMatchObject({
      summary: 'conn.host must be known at apply time',
      attribute: ['conn', 'host'],
    });
  });
});
