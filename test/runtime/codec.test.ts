/** The cty codec: msgpack DynamicValues both ways, JSON raw state, schema type JSON. */
import { encode, ExtData } from '@msgpack/msgpack';
import { blockTypeJson, decodeJsonState, decodeMsgpack, decodeMsgpackRaw, encodeMsgpack, typeJson, ValueError } from '../../providers/runtime/codec';
import { ObjectValue, Unknown } from '../../providers/runtime/resource';
import type { BlockSchema } from '../../providers/runtime/schema';
import { resourceSchemas } from '../../providers/calico/schema';

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
          inner: { nesting: 'single', block: { attributes: { flag: { type: 'bool', optional: true, description: '' } } } },
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
    const refinement = encode(new Map<number, unknown>([[1, true], [2, 'ca']]));
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

  test('numbers: integers, floats, big decimals sent as strings', () => {
    const wire = encode({ name: 'x', count: '12345678901234567890', ssh: { host: 'h', port: 1.5 } });
    const v = decodeMsgpack(block, wire)!;
    expect(v.count).toBe(12345678901234567890);
    expect((v.ssh as Record<string, unknown>).port).toBe(1.5);
    // ints are written as msgpack ints, fractions as float64
    const raw = encodeMsgpack(block, { name: 'x', count: 7 });
    expect(raw.includes(Buffer.from([0xa5, ...Buffer.from('count'), 0x07]))).toBe(true);
  });

  test('type mismatches are errors that name the attribute path', () => {
    expect(() => encodeMsgpack(block, { name: 5 as unknown as string })).toThrow(ValueError);
    expect(() => encodeMsgpack(block, { ssh: { host: 'h', port: 'x' } })).toThrow(/ssh\.port: expected number/);
    expect(() => decodeMsgpack(block, encode({ name: 'x', tags: 'nope' }))).toThrow(/tags: expected list/);
  });
});

describe('JSON raw state (UpgradeResourceState)', () => {
  test('maps stored JSON onto the current schema: unknown keys dropped, missing ones null', () => {
    const json = JSON.stringify({ name: 'n', count: 2, removed_attr: 'x', ssh: { host: 'h', inner: { flag: true } } });
    expect(decodeJsonState(block, json)).toEqual({
      name: 'n', count: 2, enabled: null, tags: null, ports: null, labels: null, nested: null,
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
      state.ssh = { host: 'h', port: 22, user: null, private_key_path: null, passphrase_env: null, known_hosts_path: null, sudo: false };
      expect(decodeMsgpack(schema.block, encodeMsgpack(schema.block, state as never))).toEqual(state);
    }
  });
});
