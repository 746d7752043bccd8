/**
 * Where a construct may be created. Like CDK's own constructs, ours take any `scope: Construct`
 * and look up the parent they need (a CalicoNode its CalicoCluster, a Workload its CalicoNode),
 * so they may sit inside your own grouping constructs; a scope without that parent is an error
 * that names the construct and where it was put.
 */
import type { IConstruct } from 'constructs';
import { cdk } from './cdk';

function where(scope: IConstruct): string {
  return scope.node.path === '' ? 'the app itself' : `"${scope.node.path}"`;
}

/** The nearest construct of `type` at or above `scope`, or an error naming what is needed. */
export function enclosing<T>(
  scope: IConstruct,
  type: abstract new (...args: never[]) => T,
  what: string,
  id: string,
): T {
  for (let c: IConstruct | undefined = scope; c !== undefined; c = c.node.scope) {
    if (c instanceof type) return c;
  }
  throw new Error(
    `${what} "${id}" must be created inside a ${type.name} (or a construct within one), not in ${where(scope)}`,
  );
}

/** Throws unless `scope` lies inside a TerraformStack (whose resources the construct adds). */
export function requireStack(scope: IConstruct, what: string, id: string): void {
  try {
    cdk.TerraformStack.of(scope);
  } catch {
    throw new Error(
      `${what} "${id}" must be created inside a TerraformStack (or a construct within one), not in ${where(scope)}`,
    );
  }
}
