/**
 * Typed views of handler values, derived from a schema declared `as const`: a handler reads
 * `planned.pod_cidr` as a string instead of fishing it out of an ObjectValue. The same mapping
 * from cty types to TypeScript types serves the CDKTF bindings of a provider's constructs.
 *
 * The runtime check (`knownValues`) is what makes the cast honest: at apply, read and delete
 * every input must be known and of its schema type; a value that is not (a state written by
 * hand, an import that left something out) is a ProviderError on that attribute, not a crash.
 */
import type { AttributeSchema, BlockSchema, CtyType, NestedBlockSchema } from './schema';
import { AttributePath, ObjectValue, ProviderError, Unknown, Value } from './resource';

/** The TypeScript type of a cty type. */
export type TsType<T extends CtyType> = T extends 'string'
  ? string
  : T extends 'number'
    ? number
    : T extends 'bool'
      ? boolean
      : T extends readonly ['map', infer E extends CtyType]
        ? Record<string, TsType<E>>
        : T extends readonly [string, infer E extends CtyType]
          ? TsType<E>[]
          : never;

export type Attrs<B extends BlockSchema> = B['attributes'];
export type RequiredKeys<B extends BlockSchema> = {
  [K in keyof Attrs<B>]: Attrs<B>[K] extends { required: true } ? K : never;
}[keyof Attrs<B>];
export type OptionalKeys<B extends BlockSchema> = {
  [K in keyof Attrs<B>]: Attrs<B>[K] extends { optional: true } ? K : never;
}[keyof Attrs<B>];
/** Attributes only the provider sets (ids, facts read from the remote system). */
export type ComputedOnlyKeys<B extends BlockSchema> = Exclude<keyof Attrs<B>, RequiredKeys<B> | OptionalKeys<B>>;
export type Blocks<B extends BlockSchema> = B['blocks'] extends object ? B['blocks'] : Record<never, never>;

type NestedValues<N> = N extends { block: infer Inner extends BlockSchema; required: true }
  ? BlockValues<Inner>
  : N extends { block: infer Inner extends BlockSchema }
    ? BlockValues<Inner> | null
    : never;

/** Every attribute and block of a known object (state, or an apply result). */
export type BlockValues<B extends BlockSchema> = {
  -readonly [K in RequiredKeys<B> & string]: TsType<Attrs<B>[K]['type']>;
} & {
  -readonly [K in Exclude<keyof Attrs<B>, RequiredKeys<B>> & string]: TsType<Attrs<B>[K]['type']> | null;
} & {
  -readonly [K in keyof Blocks<B> & string]: NestedValues<Blocks<B>[K]>;
};

/** What a planned object guarantees at apply: the inputs; computed-only attributes may be unknown. */
export type InputValues<B extends BlockSchema> = Omit<BlockValues<B>, ComputedOnlyKeys<B> & string>;

function typeProblem(type: CtyType, v: Value): string | null {
  if (type === 'string') return typeof v === 'string' ? null : 'must be a string';
  if (type === 'number') return typeof v === 'number' ? null : 'must be a number';
  if (type === 'bool') return typeof v === 'boolean' ? null : 'must be true or false';
  if (type[0] === 'map') return v !== null && typeof v === 'object' && !Array.isArray(v) ? null : 'must be a map';
  return Array.isArray(v) ? null : 'must be a list';
}

function checkAttribute(name: string, attr: AttributeSchema, v: Value | undefined, path: AttributePath): void {
  const at = [...path, name];
  if (v === Unknown) throw new ProviderError(`${at.join('.')} must be known at apply time`, { attribute: at });
  if (v === null || v === undefined) {
    if (attr.required) throw new ProviderError(`${at.join('.')} is required`, { attribute: at });
    return;
  }
  const problem = typeProblem(attr.type, v);
  if (problem) throw new ProviderError(`Invalid ${at.join('.')}`, { detail: problem, attribute: at });
}

function checkBlock(block: BlockSchema, obj: ObjectValue, path: AttributePath, inputsOnly: boolean): void {
  for (const [name, attr] of Object.entries(block.attributes)) {
    const computedOnly = !attr.required && !attr.optional;
    if (inputsOnly && computedOnly) continue;
    checkAttribute(name, attr, obj[name], path);
  }
  for (const [name, nested] of Object.entries(block.blocks ?? {}) as [string, NestedBlockSchema][]) {
    const at = [...path, name];
    const v = obj[name];
    if (v === Unknown) throw new ProviderError(`${at.join('.')} must be known at apply time`, { attribute: at });
    if (v === null || v === undefined) {
      if (nested.required) throw new ProviderError(`The ${at.join('.')} block is missing`, { attribute: at });
      continue;
    }
    if (typeof v !== 'object' || Array.isArray(v))
      throw new ProviderError(`Invalid ${at.join('.')}`, { detail: 'must be a block', attribute: at });
    checkBlock(nested.block, v, at, false);
  }
}

/** A state (or any wholly known object) as its typed view; throws on the first bad attribute. */
export function knownValues<B extends BlockSchema>(block: B, obj: ObjectValue): BlockValues<B> {
  checkBlock(block, obj, [], false);
  return obj as unknown as BlockValues<B>;
}

/** A planned object's inputs as their typed view; computed-only attributes are not looked at. */
export function knownInputs<B extends BlockSchema>(block: B, obj: ObjectValue): InputValues<B> {
  checkBlock(block, obj, [], true);
  return obj as unknown as InputValues<B>;
}

/** A typed view (BlockValues of some schema) back as the runtime's plain value. */
export function asObjectValue(values: object): ObjectValue {
  return values as ObjectValue;
}
