/**
 * Checks declared once, on the schema, and run by the runtime: the way terraform-plugin-framework
 * runs an attribute's Validators and a resource's ConfigValidators.
 *
 * - Per attribute, `validators` (AttributeSchema): built with the helpers below from a check that
 *   returns what is wrong with a value, or null.
 * - Per block, `checks` (BlockSchema): rules that read several attributes of the block and report
 *   on the one that has to change.
 *
 * The runtime runs them on the configuration at ValidateResourceConfig, where a value Terraform
 * does not know yet is skipped; and again wherever values arrive that validate() never saw, now
 * known: the planned values at apply, the prior state at delete, the state a refresh starts from
 * and the state an import builds (a state written by hand, an import id, an older provider). So a
 * handler can trust every checked input without listing the checks a second time.
 *
 * A problem becomes an error diagnostic `Invalid <path>` with the problem as its detail, on the
 * attribute's path (nested blocks included; a map entry's problem on the entry's own path, its key
 * a step of that path, so Terraform points at the entry in the configuration).
 */
import type { BlockSchema } from './schema';
import { AttributePath, Diagnostic, ObjectValue, Unknown, Value } from './resource';
import { formatPath, isWhollyKnown } from './value-walk';

/** What is wrong with a value, or null. */
export type ValueCheck<T> = (value: T) => string | null;

/**
 * Where values come from when checks run:
 * - `config`: the configuration at ValidateResourceConfig (unknown values are skipped);
 * - `apply`: the planned values at apply (known by then);
 * - `state`: a state that read, delete or import works from (built by Terraform or by an import).
 */
export type ValidationStage = 'config' | 'apply' | 'state';

/** What is wrong with one entry of a map attribute: reported on the entry, by its key. */
export interface MapEntryProblem {
  readonly key: string;
  readonly problem: string;
}

export interface AttributeValidator {
  /**
   * What is wrong with the attribute's value (never null or unknown here; unknown parts inside it
   * are skipped): a problem of the whole value, or of one map entry.
   */
  problems(value: Value): (string | MapEntryProblem)[];
  /**
   * Checked in configurations and at apply only, not in states: for an input that only apply
   * uses, where an import leaves a placeholder until the first apply sets it.
   */
  readonly appliedOnly?: boolean;
}

export interface BlockProblem {
  /** The attribute of this block the problem is reported on. */
  readonly attribute: string;
  readonly problem: string;
}

export interface BlockCheck {
  /** The attributes of the block the check reads: it runs only once all of them are known. */
  readonly reads: readonly string[];
  problems(values: ObjectValue): BlockProblem[];
}

export interface ValidatorOptions {
  /** See AttributeValidator.appliedOnly. */
  readonly appliedOnly?: boolean;
}

/** A decimal-text number (see Value) as a JS number, for range checks. */
function numberOf(v: Value): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

const problemList = (p: string | null): string[] => (p ? [p] : []);

/** A string attribute's value passes check. */
export function stringValue(check: ValueCheck<string>, options: ValidatorOptions = {}): AttributeValidator {
  return { ...options, problems: (v) => (typeof v === 'string' ? problemList(check(v)) : ['must be a string']) };
}

/** A number attribute's value passes check. */
export function numberValue(check: ValueCheck<number>, options: ValidatorOptions = {}): AttributeValidator {
  return {
    ...options,
    problems: (v) => {
      const n = numberOf(v);
      return n === undefined ? ['must be a number'] : problemList(check(n));
    },
  };
}

/** Each known element of a list or set of strings passes check. */
export function eachElement(check: ValueCheck<string>, options: ValidatorOptions = {}): AttributeValidator {
  return {
    ...options,
    problems: (v) => {
      if (!Array.isArray(v)) return ['must be a list'];
      return v.flatMap((item) =>
        item === Unknown || item === null
          ? []
          : typeof item === 'string'
            ? problemList(check(item))
            : ['must be a string'],
      );
    },
  };
}

/**
 * Each entry of a map of strings: its key passes `keys`, then (when known) its value passes
 * `values`. One problem per entry, reported on the entry.
 */
export function mapEntries(
  checks: { keys?: ValueCheck<string>; values?: ValueCheck<string> },
  options: ValidatorOptions = {},
): AttributeValidator {
  return {
    ...options,
    problems: (v) => {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return ['must be a map'];
      const out: MapEntryProblem[] = [];
      for (const [key, item] of Object.entries(v)) {
        const valueProblem =
          item === Unknown || item === null
            ? null
            : typeof item === 'string'
              ? (checks.values?.(item) ?? null)
              : 'must be a string';
        const p = checks.keys?.(key) ?? valueProblem;
        if (p) out.push({ key, problem: p });
      }
      return out;
    },
  };
}

function invalid(path: AttributePath, problem: string): Diagnostic {
  return { severity: 'error', summary: `Invalid ${formatPath(path)}`, detail: problem, attribute: path };
}

/**
 * Every problem the schema's checks find in obj (a configuration, planned values or a state).
 * Unknown values are skipped, and so is a block check that reads one; null (unset) values are
 * not checked by attribute validators (required-ness is Terraform's, and typed.ts's at apply).
 */
export function validationProblems(
  block: BlockSchema,
  obj: ObjectValue | null,
  stage: ValidationStage,
  path: AttributePath = [],
): Diagnostic[] {
  if (obj === null) return [];
  const out: Diagnostic[] = [];
  for (const [name, attr] of Object.entries(block.attributes)) {
    const value = obj[name];
    if (value === null || value === undefined || value === Unknown) continue;
    for (const validator of attr.validators ?? []) {
      if (stage === 'state' && validator.appliedOnly) continue;
      for (const p of validator.problems(value))
        out.push(
          typeof p === 'string' ? invalid([...path, name], p) : invalid([...path, name, { mapKey: p.key }], p.problem),
        );
    }
  }
  for (const [name, nested] of Object.entries(block.blocks ?? {})) {
    const value = obj[name];
    if (value === null || value === undefined || value === Unknown || typeof value !== 'object' || Array.isArray(value))
      continue;
    out.push(...validationProblems(nested.block, value, stage, [...path, name]));
  }
  for (const check of block.checks ?? []) {
    if (!check.reads.every((name) => isWhollyKnown(obj[name] ?? null))) continue;
    for (const p of check.problems(obj)) out.push(invalid([...path, p.attribute], p.problem));
  }
  return out;
}
