/**
 * The plugin runtime's value rules in process: the msgpack/JSON codec against a schema, value
 * comparison and walks, planning defaults and apply invariants, and diagnostics as Terraform gets
 * them. (test/runtime drives the same code through real Terraform; this file pins the edges.)
 */
import { encode as rawEncode } from '@msgpack/msgpack';
import {
  blockTypeJson,
  decodeJsonState,
  decodeMsgpack,
  decodeMsgpackRaw,
  encodeMsgpack,
  typeJson,
  ValueError,
} from '../../providers/runtime/codec';
import { diagnosticFromError, errorDiagnostic, toWire, wirePath } from '../../providers/runtime/diagnostics';
import { checkApplyResult, forceNewChanges, planDefaults, planUnverifiedFacts } from '../../providers/runtime/planning';
import { ObjectValue, ProviderError, Unknown, Value } from '../../providers/runtime/resource';
import {
  deepClone,
  forEachAttribute,
  formatPath,
  isWhollyKnown,
  setPath,
  unknownPaths,
  valuesEqual,
} from '../../providers/runtime/value-walk';
import type { BlockSchema } from '../../providers/runtime/schema';

const d = '';
const block: BlockSchema = {
  attributes: {
    id: { type: 'string', computed: true, description: d },
    name: { type: 'string', required: true, forceNew: true, description: d },
    count: { type: 'number', optional: true, description: d },
    on: { type: 'bool', optional: true, description: d },
    tags: { type: ['set', 'string'], optional: true, description: d },
    list: { type: ['list', 'number'], optional: true, description: d },
    labels: { type: ['map', 'string'], optional: true, computed: true, description: d },
    fact: { type: 'string', computed: true, description: d },
  },
  blocks: {
    conn: {
      nesting: 'single',
      block: {
        attributes: {
          host: { type: 'string', required: true, forceNew: true, description: d },
          port: { type: 'number', optional: true, computed: true, description: d },
        },
      },
    },
  },
};

const full = (over: ObjectValue = {}): ObjectValue => ({
  id: 'i',
  name: 'n',
  count: 1,
  on: true,
  tags: ['a', 'b'],
  list: [1, 2],
  labels: { k: 'v' },
  fact: 'f',
  conn: { host: 'h', port: 22 },
  ...over,
});

describe('codec', () => {
  it('round-trips every kind of value through msgpack, unknowns included', () => {
    const v = full({ id: Unknown, tags: [Unknown], labels: Unknown, conn: { host: 'h', port: Unknown } });
    expect(decodeMsgpack(block, encodeMsgpack(block, v))).toEqual(v);
    expect(decodeMsgpack(block, encodeMsgpack(block, full()))).toEqual(full());
    expect(decodeMsgpack(block, encodeMsgpack(block, full({ conn: Unknown })))!.conn).toBe(Unknown);
  });

  it('writes every schema key (null when unset) and unknown as fixext1 d4 00 00', () => {
    const raw = decodeMsgpackRaw(encodeMsgpack(block, { name: 'n' })) as Record<string, unknown>;
    expect(Object.keys(raw).sort()).toEqual(['conn', 'count', 'fact', 'id', 'labels', 'list', 'name', 'on', 'tags']);
    expect(raw.conn).toBeNull();
    expect([...encodeMsgpack({ attributes: { a: { type: 'string', description: d } } }, { a: Unknown })]).toEqual([
      0x81, 0xa1, 0x61, 0xd4, 0x00, 0x00,
    ]);
    expect(encodeMsgpack(block, null)).toEqual(Buffer.from([0xc0]));
  });

  it('decodes refined unknowns (extension 12), msgpack null, empty input, and missing keys', () => {
    // { "fact": refined unknown } as Terraform writes it: fixext/ext 12 with a small payload.
    const bytes = Buffer.from([0x81, 0xa4, ...Buffer.from('fact'), 0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc3]);
    expect(decodeMsgpack(block, bytes)!.fact).toBe(Unknown);
    expect(decodeMsgpack(block, Buffer.from([0xc0]))).toBeNull();
    expect(decodeMsgpack(block, Buffer.alloc(0))).toBeNull();
    expect(decodeMsgpack(block, undefined)).toBeNull();
    expect(decodeMsgpack(block, null)).toBeNull();
    const partial = decodeMsgpack(block, rawEncode({ name: 'x' }))!;
    expect(partial).toEqual({
      id: null,
      name: 'x',
      count: null,
      on: null,
      tags: null,
      list: null,
      labels: null,
      fact: null,
      conn: null,
    });
    // A wholly unknown object: every attribute and block unknown.
    const unknownObject = decodeMsgpack(block, Buffer.from([0xd4, 0x00, 0x00]))!;
    expect(Object.values(unknownObject).every((x) => x === Unknown)).toBe(true);
    expect(Object.keys(unknownObject).sort()).toEqual([
      'conn',
      'count',
      'fact',
      'id',
      'labels',
      'list',
      'name',
      'on',
      'tags',
    ]);
  });

  it('numbers: integers, floats, big integers and decimal strings', () => {
    expect(decodeMsgpack(block, rawEncode({ count: 2.5 }))!.count).toBe(2.5);
    // Beyond what a double holds exactly, a number stays its decimal text (runtime/resource.ts Value).
    expect(decodeMsgpack(block, rawEncode({ count: '12345678901234567890' }))!.count).toBe('12345678901234567890');
    expect(decodeMsgpack(block, rawEncode({ count: BigInt('9007199254740993') }, { useBigInt64: true }))!.count).toBe(
      '9007199254740993',
    );
    expect(() => decodeMsgpack(block, rawEncode({ count: ' ' }))).toThrow('count: expected number, got string');
    expect(() => decodeMsgpack(block, rawEncode({ count: 'abc' }))).toThrow('count: expected number, got string');
    expect(() => encodeMsgpack(block, { count: Infinity })).toThrow('count: number Infinity cannot be represented');
    expect(() => encodeMsgpack(block, { count: NaN })).toThrow('count: number NaN cannot be represented');
  });

  it('type mismatches are ValueErrors naming the path', () => {
    const fails = (raw: unknown, message: string) => {
      let error: unknown;
      try {
        decodeMsgpack(block, rawEncode(raw));
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ValueError);
      expect((error as Error).message).toBe(message);
    };
    fails({ name: 1 }, 'name: expected string, got number');
    fails({ on: 'yes' }, 'on: expected bool, got string');
    fails({ tags: 'a' }, 'tags: expected set, got string');
    fails({ list: {} }, 'list: expected list, got object');
    fails({ list: [1, 'x'] }, 'list.1: expected number, got string');
    fails({ labels: ['a'] }, 'labels: expected map, got array');
    fails({ labels: 3 }, 'labels: expected map, got number');
    fails({ labels: { k: 1 } }, 'labels.k: expected string, got number');
    fails({ conn: 'h' }, 'conn: expected object, got string');
    fails({ conn: [1] }, 'conn: expected object, got object');
    fails({ conn: { host: true } }, 'conn.host: expected string, got boolean');
    fails('x', 'expected object, got string');
    expect(new ValueError([], 'bare').message).toBe('bare');
    expect(new ValueError(['a', 0], 'm').path).toEqual(['a', 0]);
  });

  it('encode refuses values the schema does not allow', () => {
    expect(() => encodeMsgpack(block, { name: 5 })).toThrow('name: expected string, got number');
    expect(() => encodeMsgpack(block, { on: 'true' })).toThrow('on: expected bool, got string');
    expect(() => encodeMsgpack(block, { count: 'one' })).toThrow('count: expected number, got string');
    expect(() => encodeMsgpack(block, { name: ['x'] })).toThrow('name: expected string, got array');
    expect(() => encodeMsgpack(block, { tags: 'a' })).toThrow('tags: expected set, got string');
    expect(() => encodeMsgpack(block, { list: ['x'] })).toThrow('list.0: expected number, got string');
    expect(() => encodeMsgpack(block, { labels: ['x'] })).toThrow('labels: expected map, got object');
    expect(() => encodeMsgpack(block, { labels: 'x' })).toThrow('labels: expected map, got string');
    expect(() => encodeMsgpack(block, { labels: { a: 1 } })).toThrow('labels.a: expected string, got number');
    expect(() => encodeMsgpack(block, { conn: 'x' })).toThrow('conn: expected object, got string');
    expect(() => encodeMsgpack(block, { conn: ['x'] })).toThrow('conn: expected object, got object');
  });

  it('JSON state: schema keys only, scalars loosened to strings where the schema says string', () => {
    const state = decodeJsonState(
      block,
      JSON.stringify({ name: 7, on: false, fact: true, gone: 'x', conn: { host: 'h', port: 2 }, labels: { a: 'b' } }),
    );
    expect(state).toEqual({
      id: null,
      name: '7',
      count: null,
      on: false,
      tags: null,
      list: null,
      labels: { a: 'b' },
      fact: 'true',
      conn: { host: 'h', port: 2 },
    });
    expect(decodeJsonState(block, Buffer.from('null'))).toBeNull();
    expect(decodeJsonState(block, Buffer.from('{"name":"b"}'))!.name).toBe('b');
    expect(() => decodeJsonState(block, '{"on":"x"}')).toThrow('on: expected bool, got string');
    // msgpack stays strict: a number is not a string there.
    expect(() => decodeMsgpack(block, rawEncode({ fact: 1 }))).toThrow('fact: expected string, got number');
  });

  it('schema types as Terraform reads them', () => {
    expect(typeJson(['list', 'string']).toString()).toBe('["list","string"]');
    expect(typeJson('bool').toString()).toBe('"bool"');
    expect(blockTypeJson(block)).toEqual([
      'object',
      {
        id: 'string',
        name: 'string',
        count: 'number',
        on: 'bool',
        tags: ['set', 'string'],
        list: ['list', 'number'],
        labels: ['map', 'string'],
        fact: 'string',
        conn: ['object', { host: 'string', port: 'number' }],
      },
    ]);
    expect(blockTypeJson({ attributes: {} })).toEqual(['object', {}]);
  });
});

describe('values', () => {
  it('knownness and the paths of unknowns', () => {
    expect(isWhollyKnown(full())).toBe(true);
    expect(isWhollyKnown(null)).toBe(true);
    expect(isWhollyKnown(Unknown)).toBe(false);
    expect(isWhollyKnown([1, Unknown])).toBe(false);
    expect(isWhollyKnown({ a: { b: Unknown } })).toBe(false);
    expect(unknownPaths(Unknown)).toEqual([[]]);
    expect(unknownPaths({ a: [1, Unknown], b: { c: Unknown }, d: null })).toEqual([
      ['a', 1],
      ['b', 'c'],
    ]);
    expect(unknownPaths(full())).toEqual([]);
  });

  it('equality: sets ignore order, lists and maps do not, Unknown equals only itself', () => {
    expect(valuesEqual(['set', 'string'], ['a', 'b'], ['b', 'a'])).toBe(true);
    expect(valuesEqual(['set', 'string'], ['a', 'b'], ['a', 'c'])).toBe(false);
    expect(valuesEqual(['set', 'string'], ['a'], ['a', 'a'])).toBe(false);
    expect(valuesEqual(['set', 'string'], 'a' as Value, ['a'])).toBe(false);
    expect(valuesEqual(['set', ['map', 'string']], [{ x: '1', y: '2' }], [{ y: '2', x: '1' }])).toBe(true);
    expect(valuesEqual(['set', 'string'], [Unknown], [Unknown])).toBe(true);
    expect(valuesEqual(['set', 'number'], [1], ['1'])).toBe(false);
    expect(valuesEqual(['list', 'number'], [1, 2], [1, 2])).toBe(true);
    expect(valuesEqual(['list', 'number'], [1, 2], [2, 1])).toBe(false);
    expect(valuesEqual(['list', 'number'], [1], [1, 2])).toBe(false);
    expect(valuesEqual(['list', 'number'], [1], { 0: 1 })).toBe(false);
    expect(valuesEqual(['map', 'string'], { a: '1' }, { a: '1' })).toBe(true);
    expect(valuesEqual(['map', 'string'], { a: '1' }, { a: '1', b: null })).toBe(true);
    expect(valuesEqual(['map', 'string'], { a: '1' }, { a: '2' })).toBe(false);
    expect(valuesEqual(['map', 'string'], { a: '1' }, { b: '1' })).toBe(false);
    expect(valuesEqual(['map', 'string'], { a: '1' }, ['1'])).toBe(false);
    expect(valuesEqual(['map', 'string'], 'x' as Value, { a: '1' })).toBe(false);
    expect(valuesEqual('string', 'a', 'a')).toBe(true);
    expect(valuesEqual('string', 'a', 'b')).toBe(false);
    expect(valuesEqual('string', Unknown, Unknown)).toBe(true);
    expect(valuesEqual('string', Unknown, 'a')).toBe(false);
    expect(valuesEqual('string', 'a', Unknown)).toBe(false);
    expect(valuesEqual('string', null, 'a')).toBe(false);
    expect(valuesEqual('string', 'a', null)).toBe(false);
    expect(valuesEqual(['list', 'string'], null, null)).toBe(true);
  });

  it('walks every attribute, nested ones with null objects where the block is missing', () => {
    const seen: [string, Value[]][] = [];
    forEachAttribute(block, [full(), { name: 'm', conn: Unknown }, null], ({ path }, values) =>
      seen.push([formatPath(path), values]),
    );
    expect(seen.map(([p]) => p)).toEqual([
      'id',
      'name',
      'count',
      'on',
      'tags',
      'list',
      'labels',
      'fact',
      'conn.host',
      'conn.port',
    ]);
    expect(seen[1][1]).toEqual(['n', 'm', null]);
    expect(seen[2][1]).toEqual([1, null, null]);
    expect(seen[8][1]).toEqual(['h', null, null]);
  });

  it('setPath creates the objects on the way; deepClone copies; formatPath prints paths', () => {
    const o: ObjectValue = { a: null, b: Unknown, c: 'x' };
    setPath(o, ['a', 'x'], 1);
    setPath(o, ['b', 'y'], 2);
    setPath(o, ['c', 'z'], 3);
    setPath(o, ['d', 'e', 'f'], 4);
    setPath(o, ['top'], 5);
    expect(o).toEqual({ a: { x: 1 }, b: { y: 2 }, c: { z: 3 }, d: { e: { f: 4 } }, top: 5 });
    const keep: ObjectValue = { n: { m: 1 } };
    setPath(keep, ['n', 'k'], 2);
    expect(keep).toEqual({ n: { m: 1, k: 2 } });
    const src = full();
    const copy = deepClone(src);
    expect(copy).toEqual(src);
    (copy.conn as ObjectValue).host = 'other';
    (copy.tags as Value[]).push('c');
    expect(src.conn).toEqual({ host: 'h', port: 22 });
    expect(src.tags).toEqual(['a', 'b']);
    expect(deepClone(Unknown)).toBe(Unknown);
    expect(formatPath(['a', 0, 'b', 'c'])).toBe('a[0].b.c');
    expect(formatPath([0, 'a'])).toBe('[0].a');
    expect(formatPath([])).toBe('');
    // A map key is an index, quoted as HCL writes it (and escaped: it may hold anything).
    expect(formatPath(['routes', { mapKey: '198.19.1.0/24' }])).toBe('routes["198.19.1.0/24"]');
    expect(formatPath(['m', { mapKey: 'a"b\nc' }, 'x'])).toBe('m["a\\"b\\nc"].x');
    const m: ObjectValue = { labels: { k: 'v' } };
    setPath(m, ['labels', { mapKey: 'a.b' }], 'w');
    expect(m).toEqual({ labels: { k: 'v', 'a.b': 'w' } });
    setPath(m, [{ mapKey: 'n' }, { mapKey: 'o' }], 1);
    expect(m.n).toEqual({ o: 1 });
  });
});

describe('planning', () => {
  const config = (over: ObjectValue = {}): ObjectValue => ({
    id: null,
    name: 'n',
    count: null,
    on: null,
    tags: null,
    list: null,
    labels: null,
    fact: null,
    conn: { host: 'h', port: null },
    ...over,
  });

  it('create: computed attributes the config leaves null become unknown, nested ones too', () => {
    const planned = planDefaults(block, null, config(), config());
    expect(planned).toEqual({
      ...config(),
      id: Unknown,
      labels: Unknown,
      fact: Unknown,
      conn: { host: 'h', port: Unknown },
    });
    // Configured computed values stay; a missing nested block gets no unknown attributes.
    const set = planDefaults(
      block,
      null,
      config({ labels: { a: 'b' }, conn: null }),
      config({ labels: { a: 'b' }, conn: null }),
    );
    expect(set.labels).toEqual({ a: 'b' });
    expect(set.conn).toBeNull();
    // A proposed value (not null) on create is kept.
    expect(planDefaults(block, null, config({ fact: 'p' }), config()).fact).toBe('p');
  });

  it('update: computed attributes keep their prior value where the proposal has none', () => {
    const prior = full();
    const planned = planDefaults(block, prior, config(), config());
    expect(planned.id).toBe('i');
    expect(planned.fact).toBe('f');
    expect(planned.labels).toEqual({ k: 'v' });
    expect(planned.conn).toEqual({ host: 'h', port: 22 });
    expect(planned.count).toBeNull();
    // A prior null stays null (not unknown); a proposed value wins over the prior one.
    expect(planDefaults(block, full({ fact: null }), config(), config()).fact).toBeNull();
    expect(planDefaults(block, prior, config({ fact: 'new' }), config()).fact).toBe('new');
    // The planned copy is independent of the prior state.
    (planned.labels as ObjectValue).k = 'changed';
    expect(prior.labels).toEqual({ k: 'v' });
  });

  it('unverified facts: top-level computed-only attributes except id become unknown', () => {
    expect(planUnverifiedFacts(block, full())).toEqual(full({ fact: Unknown }));
  });

  it('requires_replace for changed forceNew attributes only', () => {
    expect(forceNewChanges(block, full(), full({ count: 9, fact: 'g' }))).toEqual([]);
    expect(forceNewChanges(block, full(), full({ name: 'm', conn: { host: 'h2', port: 22 } }))).toEqual([
      ['name'],
      ['conn', 'host'],
    ]);
    expect(forceNewChanges(block, null, full())).toEqual([]);
    expect(forceNewChanges(block, full(), null)).toEqual([]);
  });

  it('apply invariants: unknown leftovers, changed values and blocks that appear or vanish', () => {
    const planned = full({ id: Unknown, labels: Unknown });
    expect(checkApplyResult(block, planned, full()).violations).toEqual([]);
    const long = 'x'.repeat(200);
    const { violations, repaired } = checkApplyResult(
      block,
      full({ name: long }),
      full({ name: 'short', id: Unknown, labels: { a: Unknown } }),
    );
    expect(violations).toEqual([
      { path: ['id'], problem: 'id is still unknown after apply' },
      {
        path: ['name'],
        problem: `name was planned as ${JSON.stringify(long).slice(0, 117)}... but apply produced "short"`,
      },
      { path: ['labels'], problem: 'labels is still unknown after apply' },
    ]);
    expect(repaired).toEqual(full({ name: long }));
    const unknownPlan = checkApplyResult(block, full({ fact: Unknown }), full({ fact: Unknown }));
    expect(unknownPlan.repaired.fact).toBeNull();

    const vanished = checkApplyResult(block, full(), full({ conn: null }));
    expect(vanished.violations).toEqual([
      { path: ['conn', 'host'], problem: 'conn.host was planned as "h" but apply produced null' },
      { path: ['conn', 'port'], problem: 'conn.port was planned as 22 but apply produced null' },
      { path: ['conn'], problem: 'block conn was planned present but apply produced the opposite' },
    ]);
    expect(vanished.repaired.conn).toEqual({ host: 'h', port: 22 });
    const appeared = checkApplyResult(block, full({ conn: null }), full());
    expect(appeared.violations).toEqual([
      { path: ['conn', 'host'], problem: 'conn.host was planned as null but apply produced "h"' },
      { path: ['conn', 'port'], problem: 'conn.port was planned as null but apply produced 22' },
      { path: ['conn'], problem: 'block conn was planned absent but apply produced the opposite' },
    ]);
    expect(appeared.repaired.conn).toBeNull();
  });

  it('plan defaults leave a nested block that is wholly unknown as it is', () => {
    const unknownConn = planDefaults(
      block,
      null,
      full({ id: null, fact: null, conn: Unknown }),
      full({ id: null, fact: null, conn: Unknown }),
    );
    expect(unknownConn.conn).toBe(Unknown);
    expect(unknownConn.fact).toBe(Unknown);
  });

  it('apply invariants: values are shown whole up to 120 characters of JSON, cut beyond', () => {
    const exact = 'x'.repeat(118); // 120 characters as JSON
    expect(checkApplyResult(block, full({ name: exact }), full({ name: 'y' })).violations[0].problem).toBe(
      `name was planned as "${exact}" but apply produced "y"`,
    );
    const over = 'x'.repeat(119);
    expect(checkApplyResult(block, full({ name: over }), full({ name: 'y' })).violations[0].problem).toBe(
      `name was planned as "${over.slice(0, 116)}... but apply produced "y"`,
    );
  });

  it('apply invariants: a nested block planned wholly unknown accepts whatever apply produced', () => {
    // e.g. a block computed from another resource's output: only the result's knownness counts.
    const planned = full({ conn: Unknown });
    expect(checkApplyResult(block, planned, full()).violations).toEqual([]);
    expect(checkApplyResult(block, planned, full()).repaired).toEqual(full());
    expect(checkApplyResult(block, planned, full({ conn: null })).violations).toEqual([]);
    // Still wholly known afterwards: an unknown left inside the block is a violation.
    const left = checkApplyResult(block, planned, full({ conn: { host: 'h', port: Unknown } }));
    expect(left.violations).toEqual([{ path: ['conn', 'port'], problem: 'conn.port is still unknown after apply' }]);
    expect(left.repaired.conn).toEqual({ host: 'h', port: null });
  });
});

describe('diagnostics', () => {
  it('severity, detail and attribute path as Terraform reads them', () => {
    expect(wirePath(['ssh', 0, 'host'])).toEqual({
      steps: [{ attribute_name: 'ssh' }, { element_key_int: 0 }, { attribute_name: 'host' }],
    });
    // A map key travels as ElementKeyString, unchanged: Terraform finds the entry by it.
    expect(wirePath(['routes', { mapKey: '198.19.1.0/24\n"x"' }])).toEqual({
      steps: [{ attribute_name: 'routes' }, { element_key_string: '198.19.1.0/24\n"x"' }],
    });
    expect(toWire({ severity: 'warning', summary: 's' })).toEqual({ severity: 2, summary: 's', detail: '' });
    expect(toWire({ severity: 'error', summary: 's', detail: 'd', attribute: [] })).toEqual({
      severity: 1,
      summary: 's',
      detail: 'd',
    });
    expect(toWire({ severity: 'error', summary: 's', attribute: ['a'] })).toEqual({
      severity: 1,
      summary: 's',
      detail: '',
      attribute: { steps: [{ attribute_name: 'a' }] },
    });
    expect(errorDiagnostic('s')).toEqual({ severity: 1, summary: 's', detail: '' });
    expect(errorDiagnostic('s', 'd', ['x'])).toEqual({
      severity: 1,
      summary: 's',
      detail: 'd',
      attribute: { steps: [{ attribute_name: 'x' }] },
    });
  });

  it('errors from handlers and the codec keep what they know', () => {
    expect(diagnosticFromError(new ProviderError('Bad', { detail: 'why', attribute: ['name'] }), 'apply')).toEqual({
      severity: 1,
      summary: 'Bad',
      detail: 'why',
      attribute: { steps: [{ attribute_name: 'name' }] },
    });
    expect(diagnosticFromError(new ValueError(['a', 1], 'expected string'), 'plan')).toEqual({
      severity: 1,
      summary: 'plan: invalid value',
      detail: 'a.1: expected string',
      attribute: { steps: [{ attribute_name: 'a' }, { element_key_int: 1 }] },
    });
    expect(diagnosticFromError(new ValueError([], 'top'), 'plan')).toEqual({
      severity: 1,
      summary: 'plan: invalid value',
      detail: 'top',
    });
    expect(diagnosticFromError(new Error('boom'), 'read')).toEqual({ severity: 1, summary: 'read: boom', detail: '' });
    expect(diagnosticFromError('plain', 'read')).toEqual({ severity: 1, summary: 'read: plain', detail: '' });
  });
});
