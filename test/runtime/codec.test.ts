/** The cty codec: msgpack DynamicValues both ways, JSON raw state, schema type JSON. */
import { encode, ExtData } from '@msgpack/msgpack';
import {
  blockTypeJson,
  decodeJsonState,
  decodeMsgpack,
  decodeMsgpackRaw,
  encodeMsgpack,
  typeJson,
  ValueError,
} from '../../providers/runtime/codec';
import { ObjectValue, Unknown } from '../../providers/runtime/resource';
import type { BlockSchema } from '../../providers/runtime/schema';
import { resourceSchemas } from '../../providers/calico/schema';
import { valuesEqual } from '../../providers/runtime/value-walk';

const block = {
  attributes: {
    name: { type: 'string', required: true, description: '' },
    count: { type: 'number', optional: true, description: '' },
    enabled: { type: 'bool', optional: true, description: '' },
    tags: { type: ['list', 'string'], optional: true, description: '' },
    ports: { type: ['set', 'number'], optional: true, description: '' },
    labels: { type: ['map', 'string'], optional: true, description: '' },
    nested: { type: ['list', ['map', 'bool']], optional: true, description: '' },
  },
  blocks: {
    ssh: {
      nesting: 'single',
      block: {
        attributes: {
          host: { type: 'string', required: true, description: '' },
          port: { type: 'number', optional: true, description: '' },
        },
        blocks: {
          inner: {
            nesting: 'single',
            block: { attributes: { flag: { type: 'bool', optional: true, description: '' } } },
          },
        },
      },
    },
  },
} as const satisfies BlockSchema;

const full: ObjectValue = {
  name: 'n1',
  count: 3,
  enabled: true,
  tags: ['a', 'b'],
  ports: [179, 22],
  labels: { role: 'edge', zone: 'z1' },
  nested: [{ x: true }, {}],
  ssh: { host: '10.0.0.1', port: 2.5, inner: { flag: false } },
};

describe('msgpack DynamicValue', () => {
  test('round-trips nested blocks and every collection type', () => {
    const bytes = encodeMsgpack(block, full);
    expect(decodeMsgpack(block, bytes)).toEqual(full);
  });

  test('encodes every schema key, filling absent ones with null (nested blocks too)', () => {
    const raw = decodeMsgpackRaw(encodeMsgpack(block, { name: 'x', ssh: { host: 'h' } })) as Record<string, unknown>;
    expect(Object.keys(raw).sort()).toEqual(['count', 'enabled', 'labels', 'name', 'nested', 'ports', 'ssh', 'tags']);
    expect(raw.ssh).toEqual({ host: 'h', port: null, inner: null });
    expect(raw.tags).toBeNull();
  });

  test('null object, null attributes and a null single block', () => {
    expect(decodeMsgpack(block, Buffer.from([0xc0]))).toBeNull();
    expect(decodeMsgpack(block, Buffer.alloc(0))).toBeNull();
    expect(encodeMsgpack(block, null)).toEqual(Buffer.from([0xc0]));
    const v = decodeMsgpack(block, encodeMsgpack(block, { name: null, ssh: null }))!;
    expect(v.name).toBeNull();
    expect(v.ssh).toBeNull();
  });

  test('unknown is msgpack extension 0 as fixext1 (d4 00 00), both ways', () => {
    const bytes = encodeMsgpack(block, { name: Unknown, tags: ['a', Unknown], ssh: { host: Unknown } });
    expect(bytes.includes(Buffer.from([0xd4, 0x00, 0x00]))).toBe(true);
    const v = decodeMsgpack(block, bytes)!;
    expect(v.name).toBe(Unknown);
    expect(v.tags).toEqual(['a', Unknown]);
    expect((v.ssh as Record<string, unknown>).host).toBe(Unknown);
  });

  test('refined unknown (extension 12, as Terraform sends it) decodes as Unknown', () => {
    // cty refinement payload: a map of refinement codes (1 = not null, 2 = string prefix).
    const refinement = encode(
      new Map<number, unknown>([
        [1, true],
        [2, 'ca'],
      ]),
    );
    const wire = encode({
      name: new ExtData(12, refinement),
      count: null,
      enabled: null,
      tags: new ExtData(12, encode(new Map([[1, true]]))),
      ports: null,
      labels: null,
      nested: null,
      ssh: { host: new ExtData(0, new Uint8Array([0])), port: 22, inner: null },
    });
    const v = decodeMsgpack(block, wire)!;
    expect(v.name).toBe(Unknown);
    expect(v.tags).toBe(Unknown);
    expect(v.ssh).toEqual({ host: Unknown, port: 22, inner: null });
  });

  test('a wholly unknown object (e.g. provider config depending on a resource)', () => {
    const v = decodeMsgpack(block, Buffer.from([0xd4, 0x00, 0x00]))!;
    expect(v.name).toBe(Unknown);
    expect(v.ssh).toBe(Unknown);
  });

  test('numbers: small ints as msgpack ints, fractions as float64', () => {
    const v = decodeMsgpack(block, encode({ name: 'x', count: 7, ssh: { host: 'h', port: 1.5 } }))!;
    expect(v.count).toBe(7);
    expect((v.ssh as Record<string, unknown>).port).toBe(1.5);
    const raw = encodeMsgpack(block, { name: 'x', count: 7 });
    expect(raw.includes(Buffer.from([0xa5, ...Buffer.from('count'), 0x07]))).toBe(true);
  });

  // What go-cty sends for numbers a float64 cannot hold: an int64 past 2^53 as msgpack int64
  // (0xd3), a uint64 past int64 and any inexact decimal as decimal text.
  const BIG_INT64 = 9007199254740993n; // 2^53 + 1: Number() would make it ...992
  const BIG_UINT64 = '18446744073709551617'; // past int64: cty sends the text
  const EXACT_DECIMAL = '0.1'; // cty keeps 0.1 exact; float64 0.1 is 0.1000000000000000055...

  test('big numbers survive decode: int64 past 2^53 and decimal text stay exact', () => {
    const wire = encode(
      { name: 'x', count: BIG_INT64, ports: [BIG_UINT64, EXACT_DECIMAL, 2], ssh: null },
      { useBigInt64: true },
    );
    // Really a 64-bit integer on the wire (uint64 0xcf or int64 0xd3), not a float64 or text.
    const payload = [0x00, 0x20, 0, 0, 0, 0, 0, 0x01];
    expect([0xcf, 0xd3].some((code) => Buffer.from(wire).includes(Buffer.from([code, ...payload])))).toBe(true);
    const v = decodeMsgpack(block, wire)!;
    expect(v.count).toBe('9007199254740993');
    expect(v.ports).toEqual(['18446744073709551617', '0.1', 2]);
  });

  test('big numbers survive the round trip to the wire unchanged', () => {
    const wire = encode(
      { name: 'x', count: BIG_INT64, ports: [BIG_UINT64, EXACT_DECIMAL], ssh: null },
      { useBigInt64: true },
    );
    const back = decodeMsgpackRaw(encodeMsgpack(block, decodeMsgpack(block, wire)!), { useBigInt64: true }) as Record<
      string,
      unknown
    >;
    // Exact text goes back as text, which go-cty parses at full precision (never a rounded float64).
    expect(back.count).toBe('9007199254740993');
    expect(back.ports).toEqual(['18446744073709551617', '0.1']);
  });

  test('numbers a float64 holds exactly stay JS numbers, in whatever form they arrive', () => {
    const wire = encode(
      { name: 'x', count: 2n ** 60n, ports: ['0.5', '1e3', '-0.25'], ssh: null },
      { useBigInt64: true },
    );
    const v = decodeMsgpack(block, wire)!;
    expect(v.count).toBe(2 ** 60);
    expect(v.ports).toEqual([0.5, 1000, -0.25]);
    expect(() => decodeMsgpack(block, encode({ name: 'x', count: '12abc' }))).toThrow(/count: expected number/);
    expect(() => encodeMsgpack(block, { name: 'x', count: '1e5; rm -rf /' })).toThrow(/count: expected number/);
  });
  test('type mismatches are errors that name the attribute path', () => {
    expect(() => encodeMsgpack(block, { name: 5 as unknown as string })).toThrow(ValueError);
    expect(() => encodeMsgpack(block, { ssh: { host: 'h', port: 'x' } })).toThrow(/ssh\.port: expected number/);
    expect(() => decodeMsgpack(block, encode({ name: 'x', tags: 'nope' }))).toThrow(/tags: expected list/);
  });
});

describe('JSON raw state (UpgradeResourceState)', () => {
  test('big numbers in stored JSON survive (JSON.parse would round them)', () => {
    const json = '{"name":"n","count":12345678901234567890,"ports":[0.1,2.5,1e400],"ssh":null}';
    expect(decodeJsonState(block, json)).toMatchObject({ count: '12345678901234567890', ports: ['0.1', 2.5, '1e400'] });
  });

  test('maps stored JSON onto the current schema: unknown keys dropped, missing ones null', () => {
    const json = JSON.stringify({ name: 'n', count: 2, removed_attr: 'x', ssh: { host: 'h', inner: { flag: true } } });
    expect(decodeJsonState(block, json)).toEqual({
      name: 'n',
      count: 2,
      enabled: null,
      tags: null,
      ports: null,
      labels: null,
      nested: null,
      ssh: { host: 'h', port: null, inner: { flag: true } },
    });
    expect(decodeJsonState(block, 'null')).toBeNull();
  });
});

describe('schema type JSON', () => {
  test('attribute types and block object types', () => {
    expect(typeJson(['map', 'string']).toString()).toBe('["map","string"]');
    expect(typeJson('bool').toString()).toBe('"bool"');
    expect(blockTypeJson(block.blocks.ssh.block)).toEqual([
      'object',
      { host: 'string', port: 'number', inner: ['object', { flag: 'bool' }] },
    ]);
  });

  test('every calico resource schema round-trips a state through the codec', () => {
    for (const schema of Object.values(resourceSchemas)) {
      const state: Record<string, unknown> = {};
      for (const [name, a] of Object.entries(schema.block.attributes)) {
        state[name] = a.type === 'string' ? 'v' : a.type === 'number' ? 1 : a.type === 'bool' ? true : null;
      }
      state.ssh = {
        host: 'h',
        port: 22,
        user: null,
        private_key_path: null,
        passphrase_env: null,
        known_hosts_path: null,
        sudo: false,
        proxy_jump: 'b1,b2',
        proxy_jump_keys: ['', '/k'],
        from_ssh_config: null,
      };
      expect(decodeMsgpack(schema.block, encodeMsgpack(schema.block, state as never))).toEqual(state);
    }
  });
});

describe('number equality (plan comparisons)', () => {
  test('compares values, not forms, and never rounds', () => {
    expect(valuesEqual('number', 0.5, '0.50')).toBe(true);
    expect(valuesEqual('number', 1000, '1e3')).toBe(true);
    expect(valuesEqual('number', '9007199254740993', 9007199254740992)).toBe(false);
    expect(valuesEqual('number', '0.1', 0.1)).toBe(false); // float64 0.1 is not decimal 0.1
    expect(valuesEqual('number', '12345678901234567890', '1.234567890123456789e19')).toBe(true);
    expect(valuesEqual('number', '-0.1', '0.1')).toBe(false);
  });
});
