/**
 * Schema-aware comparisons of handler values: equality (sets ignore order), knownness, and
 * walks over attributes including nested single blocks.
 */
import type { AttributeSchema, BlockSchema, CtyType } from './schema';
import { isDecimalText, numbersEqual } from './exact-numbers';
import { AttributePath, ObjectValue, Unknown, Value } from './resource';

const isDecimalOrFinite = (v: number | string) => (typeof v === 'number' ? Number.isFinite(v) : isDecimalText(v));

export function isWhollyKnown(v: Value): boolean {
  if (v === Unknown) return false;
  if (Array.isArray(v)) return v.every(isWhollyKnown);
  if (v !== null && typeof v === 'object') return Object.values(v).every(isWhollyKnown);
  return true;
}

/** Paths of every unknown inside v (the empty path when v itself is unknown). */
export function unknownPaths(v: Value, path: AttributePath = []): AttributePath[] {
  if (v === Unknown) return [path];
  if (Array.isArray(v)) return v.flatMap((item, i) => unknownPaths(item, [...path, i]));
  if (v !== null && typeof v === 'object') {
    return Object.entries(v).flatMap(([k, item]) => unknownPaths(item, [...path, k]));
  }
  return [];
}

function canonical(v: Value): string {
  if (v === Unknown) return '<unknown>';
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Equality as Terraform sees it: sets compare regardless of order; Unknown equals only Unknown. */
export function valuesEqual(type: CtyType, a: Value, b: Value): boolean {
  if (a === b) return true;
  // (Unknown, a symbol, matches none of the branches below: it equals only itself, above.)
  if (a === null || b === null) return false;
  if (
    type === 'number' &&
    (typeof a === 'number' || typeof a === 'string') &&
    (typeof b === 'number' || typeof b === 'string')
  ) {
    // A number may be a JS number or exact decimal text (see Value): compare the values.
    return isDecimalOrFinite(a) && isDecimalOrFinite(b) && numbersEqual(a, b);
  }
  if (typeof type === 'string') return false;
  const [kind, element] = type;
  if (kind === 'set') {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    const left = a.map(canonical).sort();
    const right = b.map(canonical).sort();
    return left.every((x, i) => x === right[i]);
  }
  if (kind === 'list') {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => valuesEqual(element, x, b[i]));
  }
  if (typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) || Array.isArray(b)) return false;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if (!valuesEqual(element, a[k] ?? null, b[k] ?? null)) return false;
  return true;
}

export interface AttributeVisit {
  path: AttributePath;
  schema: AttributeSchema;
}

/**
 * Calls fn for every attribute of block, descending into nested single blocks. `objects` are
 * values of that block (missing/null/unknown nested blocks are visited with all-null objects so
 * callers see every attribute).
 */
export function forEachAttribute(
  block: BlockSchema,
  objects: (ObjectValue | null)[],
  fn: (visit: AttributeVisit, values: Value[]) => void,
  path: AttributePath = [],
): void {
  for (const [name, schema] of Object.entries(block.attributes)) {
    fn(
      { path: [...path, name], schema },
      objects.map((o) => (o ? (o[name] ?? null) : null)),
    );
  }
  for (const [name, nested] of Object.entries(block.blocks ?? {})) {
    const children = objects.map((o) => {
      const child = o ? o[name] : null;
      return child && typeof child === 'object' && !Array.isArray(child) ? (child as ObjectValue) : null;
    });
    forEachAttribute(nested.block, children, fn, [...path, name]);
  }
}

/** A step as the property it names: a map key and an attribute name index a JS object alike. */
const propertyOf = (step: AttributePath[number]): string | number => (typeof step === 'object' ? step.mapKey : step);

/** Sets a value at path inside obj, creating nested objects as needed (mutates obj). */
export function setPath(obj: ObjectValue, path: AttributePath, value: Value): void {
  // Steps index objects by name and lists by position; both are plain JS property access.
  let cur = obj as Record<string | number, Value>;
  for (const step of path.slice(0, -1).map(propertyOf)) {
    const next = cur[step];
    // (null and anything not an object, Unknown and undefined included, become a new object.)
    if (next === null || typeof next !== 'object') cur[step] = {};
    cur = cur[step] as Record<string | number, Value>;
  }
  cur[propertyOf(path[path.length - 1])] = value;
}

export function deepClone<T extends Value>(v: T): T {
  if (Array.isArray(v)) return v.map(deepClone) as T;
  if (v !== null && typeof v === 'object') {
    const out: ObjectValue = {};
    for (const [k, item] of Object.entries(v)) out[k] = deepClone(item);
    return out as T;
  }
  return v;
}

/** A path as HCL reads it: `conn.host`, `hops[0]`, `routes["198.19.1.0/24"]`. */
export function formatPath(path: AttributePath): string {
  return path
    .map((s, i) =>
      typeof s === 'number'
        ? `[${s}]`
        : typeof s === 'object'
          ? `[${JSON.stringify(s.mapKey)}]`
          : i === 0
            ? s
            : `.${s}`,
    )
    .join('');
}
