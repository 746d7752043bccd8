/**
 * cty values ↔ handler values, driven by the schema.
 *
 * Wire formats (Terraform's object-wire-format.md): msgpack for every DynamicValue; JSON only in
 * UpgradeResourceState's raw state. Objects carry exactly every attribute and block of the schema;
 * unknown is msgpack extension 0; refined unknowns (extension 12) decode as plain Unknown.
 */
import type { ExtensionCodec as ExtensionCodecType } from '@msgpack/msgpack';
import type { BlockSchema, CtyType } from './schema';
import { exactFloat64, exactNumber, isDecimalText, parseJsonExact } from './exact-numbers';
import { Unknown, Value, ObjectValue } from './resource';

/** msgpack extension type of an unknown value. */
export const UNKNOWN_EXT = 0;
/** msgpack extension type of an unknown value with refinements (cty ≥ 1.13). */
export const REFINED_UNKNOWN_EXT = 12;

type Msgpack = typeof import('@msgpack/msgpack');
let msgpack: Msgpack | undefined;
let extensionCodec: ExtensionCodecType | undefined;

/** Loaded on first use: nothing before the handshake needs it. */
function lib(): { m: Msgpack; ext: ExtensionCodecType } {
  if (!msgpack || !extensionCodec) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: nothing before the handshake needs msgpack
    msgpack = require('@msgpack/msgpack') as Msgpack;
    extensionCodec = new msgpack.ExtensionCodec();
    extensionCodec.register({
      type: UNKNOWN_EXT,
      // fixext1 `d4 00 00`, the encoding go-cty itself writes.
      encode: (v: unknown) => (v === Unknown ? new Uint8Array([0]) : null),
      decode: () => Unknown,
    });
    extensionCodec.register({
      type: REFINED_UNKNOWN_EXT,
      encode: () => null,
      decode: () => Unknown,
    });
  }
  return { m: msgpack, ext: extensionCodec };
}

/** A codec error names the attribute path it happened at. */
export class ValueError extends Error {
  constructor(
    public readonly path: (string | number)[],
    message: string,
  ) {
    super(path.length ? `${path.join('.')}: ${message}` : message);
  }
}

const BOOL_TEXT: Record<string, boolean> = { true: true, false: false, '1': true, '0': false };

// ---------------------------------------------------------------------------------------------
// Conversion of plain decoded data (msgpack or JSON) into typed handler values, and back.

function convert(type: CtyType, raw: unknown, path: (string | number)[], strict: boolean): Value {
  if (raw === null || raw === undefined) return null;
  if (raw === Unknown) return Unknown;
  if (typeof type === 'string') {
    switch (type) {
      case 'string':
        if (typeof raw === 'string') return raw;
        break;
      case 'bool':
        if (typeof raw === 'boolean') return raw;
        break;
      case 'number':
        // int64 past 2^53 arrives as a bigint; numbers no int64/float64 holds as decimal text.
        if (typeof raw === 'number' || typeof raw === 'bigint') return exactNumber(raw);
        if (typeof raw === 'string' && isDecimalText(raw.trim())) return exactNumber(raw);
        break;
    }
    // Stored state may hold scalars as text (flatmap holds nothing else): convert as cty would.
    if (!strict && type === 'string' && (typeof raw === 'number' || typeof raw === 'boolean')) return String(raw);
    if (!strict && type === 'bool' && typeof raw === 'string' && Object.hasOwn(BOOL_TEXT, raw)) return BOOL_TEXT[raw];
    throw new ValueError(path, `expected ${type}, got ${typeof raw}`);
  }
  const [kind, element] = type;
  if (kind === 'list' || kind === 'set') {
    if (!Array.isArray(raw)) throw new ValueError(path, `expected ${kind}, got ${typeof raw}`);
    return raw.map((item, i) => convert(element, item, [...path, i], strict));
  }
  if (typeof raw !== 'object' || Array.isArray(raw) || raw instanceof Uint8Array) {
    throw new ValueError(path, `expected map, got ${Array.isArray(raw) ? 'array' : typeof raw}`);
  }
  const out: ObjectValue = {};
  for (const [k, v] of mapEntries(raw)) out[k] = convert(element, v, [...path, k], strict);
  return out;
}

function mapEntries(raw: object): [string, unknown][] {
  return raw instanceof Map ? [...raw.entries()].map(([k, v]) => [String(k), v]) : Object.entries(raw);
}

function convertBlock(block: BlockSchema, raw: unknown, path: (string | number)[], strict: boolean): ObjectValue {
  const out: ObjectValue = {};
  if (raw === Unknown) {
    // A wholly unknown object (e.g. a provider config that depends on a resource): every key is.
    for (const name of Object.keys(block.attributes)) out[name] = Unknown;
    for (const name of Object.keys(block.blocks ?? {})) out[name] = Unknown;
    return out;
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ValueError(path, `expected object, got ${raw === null ? 'null' : typeof raw}`);
  }
  const fields = new Map(mapEntries(raw));
  for (const [name, attr] of Object.entries(block.attributes)) {
    out[name] = convert(attr.type, fields.get(name), [...path, name], strict);
  }
  for (const [name, nested] of Object.entries(block.blocks ?? {})) {
    const v = fields.get(name);
    out[name] =
      v === null || v === undefined
        ? null
        : v === Unknown
          ? Unknown
          : convertBlock(nested.block, v, [...path, name], strict);
  }
  return out;
}

/** Handler value → plain data with every schema key present, typed as the schema says. */
function prepare(type: CtyType, v: Value | undefined, path: (string | number)[]): unknown {
  if (v === null || v === undefined) return null;
  if (v === Unknown) return Unknown;
  if (typeof type === 'string') {
    if (type === 'string' && typeof v === 'string') return v;
    if (type === 'bool' && typeof v === 'boolean') return v;
    if (type === 'number' && typeof v === 'number') {
      if (!Number.isFinite(v)) throw new ValueError(path, `number ${v} cannot be represented`);
      return v;
    }
    if (type === 'number' && typeof v === 'string') {
      // Exact decimal text: go-cty parses a msgpack string in a number position at full precision.
      if (!isDecimalText(v))
        throw new ValueError(path, `expected number, got string ${JSON.stringify(v.slice(0, 40))}`);
      return exactFloat64(v) ?? v;
    }
    throw new ValueError(path, `expected ${type}, got ${Array.isArray(v) ? 'array' : typeof v}`);
  }
  const [kind, element] = type;
  if (kind === 'list' || kind === 'set') {
    if (!Array.isArray(v)) throw new ValueError(path, `expected ${kind}, got ${typeof v}`);
    return v.map((item, i) => prepare(element, item, [...path, i]));
  }
  if (typeof v !== 'object' || Array.isArray(v)) throw new ValueError(path, `expected map, got ${typeof v}`);
  const out: Record<string, unknown> = {};
  for (const [k, item] of Object.entries(v)) out[k] = prepare(element, item, [...path, k]);
  return out;
}

function prepareBlock(block: BlockSchema, v: Value | undefined, path: (string | number)[]): unknown {
  if (v === null || v === undefined) return null;
  if (v === Unknown) return Unknown;
  if (typeof v !== 'object' || Array.isArray(v)) throw new ValueError(path, `expected object, got ${typeof v}`);
  const out: Record<string, unknown> = {};
  for (const [name, attr] of Object.entries(block.attributes)) out[name] = prepare(attr.type, v[name], [...path, name]);
  for (const [name, nested] of Object.entries(block.blocks ?? {})) {
    out[name] = prepareBlock(nested.block, v[name], [...path, name]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Public codec API.

/** msgpack DynamicValue → object (null when the value is null or absent). */
export function decodeMsgpack(block: BlockSchema, bytes: Uint8Array | undefined | null): ObjectValue | null {
  if (!bytes || bytes.length === 0) return null;
  const { m, ext } = lib();
  // 64-bit integers as bigint: a float64 would round those past 2^53.
  const raw = m.decode(bytes, { extensionCodec: ext, useBigInt64: true });
  if (raw === null) return null;
  return convertBlock(block, raw, [], true);
}

/** object (or null) → msgpack DynamicValue bytes. Throws ValueError on a type mismatch. */
export function encodeMsgpack(block: BlockSchema, value: ObjectValue | null): Buffer {
  const { m, ext } = lib();
  const data = prepareBlock(block, value, []);
  const bytes = m.encode(data, { extensionCodec: ext, ignoreUndefined: false });
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** JSON state (UpgradeResourceState raw_state.json) → plain data, numbers kept exact. */
export function parseJsonState(json: Uint8Array | string): unknown {
  return parseJsonExact(typeof json === 'string' ? json : Buffer.from(json).toString('utf8'));
}

/**
 * Raw stored state (parsed JSON, or unflattened flatmap) → object of the current schema: keys the
 * schema lacks are dropped, missing ones are null, and scalars stored as text (flatmap) are
 * converted to the attribute's type.
 */
export function decodeRawState(block: BlockSchema, raw: unknown): ObjectValue | null {
  if (raw === null || raw === undefined) return null;
  return convertBlock(block, raw, [], false);
}

/** JSON state (UpgradeResourceState raw_state.json) → object; keys the schema lacks are dropped. */
export function decodeJsonState(block: BlockSchema, json: Uint8Array | string): ObjectValue | null {
  return decodeRawState(block, parseJsonState(json));
}

/** cty type JSON, as Schema.Attribute.type wants it (`"string"`, `["list","string"]`). */
export function typeJson(type: CtyType): Buffer {
  return Buffer.from(JSON.stringify(type), 'utf8');
}

/** The cty object type of a block, as JSON (`["object",{...}]`); nested single blocks are objects. */
export function blockTypeJson(block: BlockSchema): unknown {
  const attrs: Record<string, unknown> = {};
  for (const [name, attr] of Object.entries(block.attributes)) attrs[name] = attr.type;
  for (const [name, nested] of Object.entries(block.blocks ?? {})) attrs[name] = blockTypeJson(nested.block);
  return ['object', attrs];
}

/** Raw msgpack decode without a schema (tests, debugging): unknowns come back as Unknown. */
export function decodeMsgpackRaw(bytes: Uint8Array, options: { useBigInt64?: boolean } = {}): unknown {
  const { m, ext } = lib();
  return m.decode(bytes, { extensionCodec: ext, useBigInt64: options.useBigInt64 ?? false });
}
