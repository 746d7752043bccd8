/**
 * validate() for the Calico resources: the shared checks (rules/checks.ts) reported as
 * diagnostics on the offending attribute. Unknown and null values are skipped here; the handlers
 * check again at apply, because import ids and states bypass validate().
 */
import { AttributePath, Diagnostic, ObjectValue, ProviderError, Unknown, Value } from '../runtime/resource';
import { Check, isEnvVarName, isHostName, isNonEmpty, isPort, isUserName } from '../../rules/checks';
import { proxyJumpKeysProblem, proxyJumpProblem } from '../../rules/ssh';

function lookup(obj: ObjectValue | null, path: AttributePath): Value | undefined {
  let cur: Value | undefined = obj;
  for (const key of path) {
    if (cur === null || cur === undefined || cur === Unknown || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as ObjectValue)[key as string];
  }
  return cur;
}

/** Collects diagnostics for one object. */
export class DiagnosticCollector {
  readonly diagnostics: Diagnostic[] = [];

  string(obj: ObjectValue | null, path: AttributePath, check: Check): void {
    const value = lookup(obj, path);
    if (value === null || value === Unknown || value === undefined) return;
    this.report(path, typeof value === 'string' ? check(value) : 'must be a string');
  }

  number(obj: ObjectValue | null, path: AttributePath, check: (v: number) => string | null): void {
    const value = lookup(obj, path);
    if (value === null || value === Unknown || value === undefined) return;
    this.report(path, typeof value === 'number' ? check(value) : 'must be a number');
  }

  /** A problem found by a check of several attributes, reported on `path`. */
  problem(path: AttributePath, problem: string): void {
    this.report(path, problem);
  }

  private report(path: AttributePath, problem: string | null): void {
    if (problem) this.diagnostics.push({ severity: 'error', summary: `Invalid ${path.join('.')}`, detail: problem, attribute: path });
  }
}

/** Checks of the shared `ssh` block. */
export function checkSshBlock(c: DiagnosticCollector, obj: ObjectValue | null): void {
  c.string(obj, ['ssh', 'host'], isHostName);
  c.number(obj, ['ssh', 'port'], isPort);
  c.string(obj, ['ssh', 'user'], isUserName);
  c.string(obj, ['ssh', 'private_key_path'], isNonEmpty);
  c.string(obj, ['ssh', 'passphrase_env'], isEnvVarName);
  c.string(obj, ['ssh', 'known_hosts_path'], isNonEmpty);
  c.string(obj, ['ssh', 'proxy_jump'], proxyJumpProblem);
  // One key per hop: checked once both are known (either may come from another resource).
  const jump = lookup(obj, ['ssh', 'proxy_jump']);
  const keys = lookup(obj, ['ssh', 'proxy_jump_keys']);
  if (Array.isArray(keys) && !keys.includes(Unknown) && jump !== Unknown) {
    const problem = proxyJumpKeysProblem(typeof jump === 'string' ? jump : undefined, keys.map((k) => (typeof k === 'string' ? k : '')));
    if (problem) c.problem(['ssh', 'proxy_jump_keys'], problem);
  }
}

/** An apply-time check of a value validate() may not have seen; throws on the attribute. */
export function requireValid<T extends string | number>(value: T, attribute: string, check: (v: T) => string | null): T {
  const problem = check(value);
  if (problem) throw new ProviderError(`Invalid ${attribute}`, { detail: problem, attribute: attribute.split('.') });
  return value;
}
