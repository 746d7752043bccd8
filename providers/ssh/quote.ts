/**
 * POSIX shell quoting: the value becomes one word, whatever it contains. Every user value that
 * reaches a remote shell is validated first and quoted with this anyway.
 */
export function shQuote(value: string): string {
  if (value.includes('\0')) throw new Error('a shell word cannot contain a NUL byte');
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
