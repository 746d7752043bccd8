/**
 * The runtime's own planning and apply rules, applied around the handlers:
 * - plan defaults: computed attributes the config leaves null are Unknown on create and keep
 *   their prior value on update (Terraform's proposed state already carries it);
 * - requires_replace from `forceNew` attributes whose value changes (nested ones included);
 * - apply invariants: the result is wholly known and equals every known planned value.
 */
import type { BlockSchema } from './schema';
import { AttributePath, ObjectValue, Unknown, Value } from './resource';
import { deepClone, forEachAttribute, formatPath, isWhollyKnown, setPath, valuesEqual } from './value-walk';

export function planDefaults(
  block: BlockSchema,
  prior: ObjectValue | null,
  proposed: ObjectValue,
  config: ObjectValue,
): ObjectValue {
  const planned = deepClone(proposed);
  forEachAttribute(block, [prior, proposed, config], ({ path, schema }, [priorV, proposedV, configV]) => {
    if (!schema.computed || configV !== null) return;
    // Only where the nested block itself exists in the plan (a null block has no attributes).
    if (!parentExists(planned, path)) return;
    if (prior === null) {
      if (proposedV === null) setPath(planned, path, Unknown);
    } else if (proposedV === null) {
      setPath(planned, path, deepClone(priorV));
    }
  });
  return planned;
}

const isObject = (v: Value): v is ObjectValue => v !== null && typeof v === 'object';

/** Whether the object holding the attribute at path exists (top-level attributes: always). */
function parentExists(obj: ObjectValue, path: AttributePath): boolean {
  let cur: Value = obj;
  for (const step of path.slice(0, -1)) cur = isObject(cur) ? (cur[step as string] ?? null) : null;
  return isObject(cur);
}

/** Whether the value at path, or a block on the way to it, is Unknown. */
function insideUnknown(obj: ObjectValue, path: AttributePath): boolean {
  let cur: Value = obj;
  for (const step of path) {
    cur = isObject(cur) ? (cur[step as string] ?? null) : null;
    if (cur === Unknown) return true;
  }
  return false;
}

/**
 * After a refresh that could not reach the host, the prior facts are unverified: plan them as
 * unknown (top-level computed-only attributes, except `id`), so Terraform plans an update and
 * apply retries the host instead of trusting stale state.
 */
export function planUnverifiedFacts(block: BlockSchema, planned: ObjectValue): ObjectValue {
  const out = { ...planned };
  for (const [name, attr] of Object.entries(block.attributes)) {
    if (attr.computed && !attr.optional && !attr.required && name !== 'id') out[name] = Unknown;
  }
  return out;
}

/** Paths of forceNew attributes whose planned value differs from the prior one. */
export function forceNewChanges(
  block: BlockSchema,
  prior: ObjectValue | null,
  planned: ObjectValue | null,
): AttributePath[] {
  if (prior === null || planned === null) return [];
  const paths: AttributePath[] = [];
  forEachAttribute(block, [prior, planned], ({ path, schema }, [priorV, plannedV]) => {
    if (schema.forceNew && !valuesEqual(schema.type, priorV, plannedV)) paths.push(path);
  });
  return paths;
}

export interface InvariantViolation {
  path: AttributePath;
  problem: string;
}

/**
 * Checks an apply result against the plan. Returns the violations and a repaired value (planned
 * known values restored, leftover unknowns nulled) that is safe to hand to Terraform alongside
 * the error, so Terraform reports our diagnostic instead of "inconsistent result after apply".
 */
export function checkApplyResult(
  block: BlockSchema,
  planned: ObjectValue,
  result: ObjectValue,
): { violations: InvariantViolation[]; repaired: ObjectValue } {
  const violations: InvariantViolation[] = [];
  const repaired = deepClone(result);
  forEachAttribute(block, [planned, result], ({ path, schema }, [walkedV, resultV]) => {
    // A nested block planned wholly unknown promised nothing about its attributes (the walk
    // visits them as null); only their knownness after apply is checked.
    // (Where neither side has the block, both walk as null and nothing is reported.)
    const plannedV = insideUnknown(planned, path) ? Unknown : walkedV;
    if (!isWhollyKnown(resultV)) {
      violations.push({ path, problem: `${formatPath(path)} is still unknown after apply` });
      setPath(repaired, path, isWhollyKnown(plannedV) ? deepClone(plannedV) : null);
      return;
    }
    if (isWhollyKnown(plannedV) && !valuesEqual(schema.type, plannedV, resultV)) {
      violations.push({
        path,
        problem: `${formatPath(path)} was planned as ${show(plannedV)} but apply produced ${show(resultV)}`,
      });
      setPath(repaired, path, deepClone(plannedV));
    }
  });
  for (const [name, nested] of Object.entries(block.blocks ?? {})) {
    const p = planned[name] ?? null;
    const r = result[name] ?? null;
    if ((p === null) !== (r === null) && p !== Unknown) {
      violations.push({
        path: [name],
        problem: `block ${name} was planned ${p === null ? 'absent' : 'present'} but apply produced the opposite`,
      });
      repaired[name] = deepClone(p);
    }
    void nested;
  }
  return { violations, repaired };
}

function show(v: Value): string {
  const s = JSON.stringify(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}
