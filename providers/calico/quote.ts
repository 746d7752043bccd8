/** Script building for the Calico resources: values travel as quoted shell variables. */
import { shQuote } from '../ssh/quote';

export { shQuote };

/**
 * Builds a script whose first lines assign the given shell variables (each value quoted), so
 * the body only ever refers to "$name" and never splices a value into code.
 */
export function scriptWithVars(vars: Record<string, string>, body: string): string {
  const assignments = Object.entries(vars).map(([name, value]) => {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad shell variable name ${name}`);
    return `${name}=${shQuote(value)}`;
  });
  return ['set -euo pipefail', ...assignments, body].join('\n');
}
