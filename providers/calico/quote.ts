/**
 * POSIX shell quoting for values that end up in remote bash scripts. Local copy until
 * providers/ssh/quote.ts lands; same contract: the result is one single-quoted word.
 */
export function shQuote(value: string): string {
  if (value.includes('\0')) throw new Error('a NUL byte cannot be passed to a shell');
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

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
