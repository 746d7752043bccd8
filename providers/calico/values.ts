/** Typed access to handler values (which may be null or Unknown). */
import { ObjectValue, ProviderError, Value } from '../runtime/resource';
import { Check } from './validate';

/** A string the apply needs: must be known, present and pass the check. */
export function requireString(obj: ObjectValue, name: string, check?: Check): string {
  const v = obj[name];
  if (typeof v !== 'string') throw new ProviderError(`${name} must be known at apply time`, { attribute: [name] });
  const problem = check?.(v);
  if (problem) throw new ProviderError(`Invalid ${name}`, { detail: problem, attribute: [name] });
  return v;
}

/** An optional string: null when unset; checked when set. */
export function optionalString(obj: ObjectValue, name: string, check?: Check): string | null {
  const v = obj[name];
  if (v === null || v === undefined) return null;
  return requireString(obj, name, check);
}

export function optionalNumber(obj: ObjectValue, name: string): number | null {
  const v: Value | undefined = obj[name];
  if (v === null || v === undefined) return null;
  if (typeof v !== 'number') throw new ProviderError(`${name} must be known at apply time`, { attribute: [name] });
  return v;
}

