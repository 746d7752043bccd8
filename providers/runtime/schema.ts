/**
 * Terraform schema types as the runtime serves them (GetProviderSchema) and as codec and planning
 * read them. Provider authors declare their schemas `as const satisfies ResourceSchema`, which
 * lets the same literal drive both the wire schema and the types derived from it.
 */

import type { AttributeValidator, BlockCheck } from './validation';

/** cty type in Terraform's JSON notation. */
export type CtyType =
  'string' | 'number' | 'bool' | readonly ['list', CtyType] | readonly ['set', CtyType] | readonly ['map', CtyType];

export interface AttributeSchema {
  readonly type: CtyType;
  readonly description: string;
  readonly required?: boolean;
  readonly optional?: boolean;
  readonly computed?: boolean;
  readonly sensitive?: boolean;
  /** A change to this attribute replaces the resource instead of updating it in place. */
  readonly forceNew?: boolean;
  /**
   * Checks of the attribute's value (validation.ts), run by the runtime at validate (unknowns
   * skipped) and again at apply, read, delete and import on known values.
   */
  readonly validators?: readonly AttributeValidator[];
}

export interface NestedBlockSchema {
  readonly nesting: 'single';
  readonly block: BlockSchema;
  /** A single block that must be present. */
  readonly required?: boolean;
}

export interface BlockSchema {
  readonly attributes: { readonly [name: string]: AttributeSchema };
  readonly blocks?: { readonly [name: string]: NestedBlockSchema };
  /** Checks that read several attributes of this block, each reporting on one (validation.ts). */
  readonly checks?: readonly BlockCheck[];
}

export interface ResourceSchema {
  readonly version: number;
  readonly description: string;
  readonly block: BlockSchema;
}
