/**
 * Codec edges the other codec suites leave open: cty's text conversions in stored state (and only
 * there), refined unknowns, exact error paths and messages, and the raw decoder's options.
 */
import { encode as rawEncode, ExtData } from '@msgpack/msgpack';
import {
  decodeJsonState,
  decodeMsgpack,
  decodeMsgpackRaw,
  decodeRawState,
  encodeMsgpack,
  ValueError,
} from '../../providers/runtime/codec';
import { ObjectValue, Unknown } from '../../providers/runtime/resource';
import type { BlockSchema } from '../../providers/runtime/schema';

const d = '';
const block: BlockSchema = {
  attributes: {
    name: { type: 'string', optional: true, description: d },
    count: { type: 'number', optional: true, description: d },
    on: { type: 'bool', optional: true, description: d },
  },
};

function errorOf(f: () => unknown): ValueError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ValueError);
    return err as ValueError;
  }
  throw new Error('expected a ValueError');
}

describe('stored state (lenient): scalars as text convert the way cty converts them', () => {
  it('numbers and bools to strings; "true"/"false"/"1"/"0" to bools; decimal text with blanks to numbers', () => {
    expect(decodeRawState(block, { name: 5, count: ' 12 ', on: '1' })).toEqual({ name: '5', count: 12, on: true });
    expect(decodeRawState(block, { name: false, count: '0.5', on: 'false' })).toEqual({
      name: 'false',
      count: 0.5,
      on: false,
    });
    expect(decodeRawState(block, { on: '0' })).toEqual({ name: null, count: null, on: false });
    expect(decodeRawState(block, { on: 'true' })!.on).toBe(true);
  });

  it('nothing else converts: a number is no bool, a bool word no number, a list no string', () => {
    expect(errorOf(() => decodeRawState(block, { on: 1 })).message).toBe('on: expected bool, got number');
    expect(errorOf(() => decodeRawState(block, { count: 'true' })).message).toBe('count: expected number, got string');
    expect(errorOf(() => decodeRawState(block, { name: ['x'] })).message).toBe('name: expected string, got object');
    expect(errorOf(() => decodeRawState(block, { name: { a: 1 } })).path).toEqual(['name']);
    // Names an object has anyway (its prototype's) are no bool words.
    for (const word of ['toString', 'constructor', '__proto__', 'yes']) {
      expect(errorOf(() => decodeRawState(block, { on: word })).message).toBe('on: expected bool, got string');
    }
  });

  it('null state is null; a state that is not an object is an error at the top', () => {
    expect(decodeRawState(block, null)).toBeNull();
    expect(decodeRawState(block, undefined)).toBeNull();
    expect(decodeJsonState(block, 'null')).toBeNull();
    const top = errorOf(() => decodeRawState(block, 'x'));
    expect(top.path).toEqual([]);
    expect(top.message).toBe('expected object, got string');
  });
});

describe('wire values (strict): no text conversions', () => {
  it('a bool word in a bool position is an error; decode errors name the exact path', () => {
    const err = errorOf(() => decodeMsgpack(block, rawEncode({ on: 'true' })));
    expect(err.message).toBe('on: expected bool, got string');
    expect(err.path).toEqual(['on']);
    expect(errorOf(() => decodeMsgpack(block, rawEncode({ name: 5 }))).path).toEqual(['name']);
  });

  it('a refined unknown decodes as Unknown also when it is the first thing a fresh codec reads', () => {
    // The extension codec is built on first use, once per module instance: load a new one.
    jest.isolateModules(() => {
      /* eslint-disable @typescript-eslint/no-require-imports -- fresh module instances inside jest.isolateModules */
      const fresh = require('../../providers/runtime/codec') as typeof import('../../providers/runtime/codec');
      const freshUnknown = (
        require('../../providers/runtime/resource') as typeof import('../../providers/runtime/resource')
      ).Unknown;
      /* eslint-enable @typescript-eslint/no-require-imports */
      expect(fresh.decodeMsgpackRaw(rawEncode(new ExtData(12, new Uint8Array([0x0c]))))).toBe(freshUnknown);
      // The bool words of stored state come from a table built at load: check it in this instance too.
      expect(['true', 'false', '1', '0'].map((on) => fresh.decodeRawState(block, { on })!.on)).toEqual([
        true,
        false,
        true,
        false,
      ]);
    });
  });

  it('a refined unknown (extension 12, cty >= 1.13) decodes as Unknown', () => {
    const bytes = rawEncode({ name: new ExtData(12, new Uint8Array([0x0c, 0x01])) });
    expect((decodeMsgpack(block, bytes) as ObjectValue).name).toBe(Unknown);
    expect(decodeMsgpackRaw(rawEncode(new ExtData(12, new Uint8Array([0x0c]))))).toBe(Unknown);
  });
});

describe('encoding handler values', () => {
  it('a value of another type is refused, with its exact path and kind', () => {
    expect(errorOf(() => encodeMsgpack(block, { name: true } as unknown as ObjectValue)).message).toBe(
      'name: expected string, got boolean',
    );
    expect(errorOf(() => encodeMsgpack(block, { count: true } as unknown as ObjectValue)).path).toEqual(['count']);
    expect(errorOf(() => encodeMsgpack(block, { on: 'yes' } as unknown as ObjectValue)).message).toBe(
      'on: expected bool, got string',
    );
    expect(errorOf(() => encodeMsgpack(block, { count: NaN })).message).toBe('count: number NaN cannot be represented');
  });

  it('a string in a number position must be decimal text; the message shows at most 40 characters of it', () => {
    expect(errorOf(() => encodeMsgpack(block, { count: 'x'.repeat(50) })).message).toBe(
      `count: expected number, got string "${'x'.repeat(40)}"`,
    );
  });
});

describe('decodeMsgpackRaw', () => {
  it('knows our unknown extension, and returns int64 as bigint only when asked', () => {
    expect(decodeMsgpackRaw(Buffer.from([0xd4, 0x00, 0x00]))).toBe(Unknown);
    const big = rawEncode(2n ** 60n, { useBigInt64: true });
    expect(decodeMsgpackRaw(big)).toBe(2 ** 60);
    expect(typeof decodeMsgpackRaw(big)).toBe('number');
    expect(decodeMsgpackRaw(big, { useBigInt64: true })).toBe(2n ** 60n);
    expect(decodeMsgpackRaw(big, { useBigInt64: false })).toBe(2 ** 60);
  });
});
