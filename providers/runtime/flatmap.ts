/**
 * Terraform's legacy state form (before 0.12, and what `attributes_flat` in a state file still
 * holds): one flat map of strings, e.g.
 *   { "id": "x", "lines.#": "2", "lines.0": "a", "lines.1": "b", "labels.%": "1", "labels.k": "v",
 *     "location.dir": "/d" }            (a single block stored as a list: "location.#": "1", "location.0.dir")
 * Lists and sets carry a "#" count, maps a "%" count; an absent key is null. The schema says how to
 * read the keys (a map key may itself contain dots), so this unflattens by the current schema;
 * scalars stay text, which the codec converts by attribute type. Keys of attributes the current
 * schema does not have are passed on unchanged (flat), so an upgradeState hook can still use them.
 */
import type { BlockSchema, CtyType } from './schema';

export type FlatState = { [key: string]: string };

/** Sets a key even when it is "__proto__" (state is data, never a prototype). */
function put(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function valueAt(flat: FlatState, key: string, type: CtyType): unknown {
  if (typeof type === 'string') return key in flat ? flat[key] : null;
  const [kind, element] = type;
  const prefix = `${key}.`;
  if (kind === 'map') {
    if (!(`${prefix}%` in flat)) return null;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(flat)) {
      // Flatmap maps hold only scalars, so the rest of the key (dots and all) is the map key.
      if (k.startsWith(prefix) && k !== `${prefix}%`) put(out, k.slice(prefix.length), valueAt(flat, k, element));
    }
    return out;
  }
  const count = flat[`${prefix}#`];
  if (count === undefined) return null;
  if (kind === 'list') {
    const n = Number(count);
    if (!Number.isInteger(n) || n < 0)
      throw new RangeError(`invalid count ${JSON.stringify(count)} for ${key} in flatmap state`);
    return Array.from({ length: n }, (_, i) => valueAt(flat, `${prefix}${i}`, element));
  }
  // Set: element keys are hashes (SDK) or indexes; each distinct first segment is one element.
  const seen = new Set<string>();
  for (const k of Object.keys(flat)) {
    if (!k.startsWith(prefix) || k === `${prefix}#`) continue;
    seen.add(k.slice(prefix.length).split('.')[0]);
  }
  return [...seen].map((id) => valueAt(flat, prefix + id, element));
}

function blockAt(flat: FlatState, prefix: string, block: BlockSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, attr] of Object.entries(block.attributes)) out[name] = valueAt(flat, prefix + name, attr.type);
  for (const [name, nested] of Object.entries(block.blocks ?? {})) {
    const key = prefix + name;
    const count = flat[`${key}.#`];
    if (count !== undefined) {
      // The SDK stored single blocks as lists of at most one element.
      out[name] = Number(count) > 0 ? blockAt(flat, `${key}.0.`, nested.block) : null;
    } else {
      out[name] = Object.keys(flat).some((k) => k.startsWith(`${key}.`))
        ? blockAt(flat, `${key}.`, nested.block)
        : null;
    }
  }
  return out;
}

/** Flatmap state → nested raw state shaped by the schema (see the module comment). */
export function unflattenState(block: BlockSchema, flat: FlatState): Record<string, unknown> {
  const out = blockAt(flat, '', block);
  const known = new Set([...Object.keys(block.attributes), ...Object.keys(block.blocks ?? {})]);
  for (const [k, v] of Object.entries(flat)) {
    if (!known.has(k.split('.')[0])) put(out, k, v);
  }
  return out;
}
