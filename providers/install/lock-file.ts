/**
 * Terraform's dependency lock file (.terraform.lock.hcl) for a provider we install ourselves, so
 * neither cdktf nor the user ever needs `terraform providers lock` (which asks the public
 * registry, where this provider is not published).
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/** Files under `dir`, relative with forward slashes, in byte order (as Go's sort.Strings). */
function filesUnder(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(full, rel));
    else out.push(rel);
  }
  return out.sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : a === b ? 0 : 1));
}

/**
 * Terraform's "h1:" package hash (Go's dirhash.Hash1): SHA-256 over the lines
 * "<hex sha256 of file>  <relative path>\n" of every file, sorted by path, base64-encoded.
 */
export function hash1(packageDir: string): string {
  const summary = filesUnder(packageDir)
    .map(
      (rel) =>
        `${createHash('sha256')
          .update(fs.readFileSync(path.join(packageDir, rel)))
          .digest('hex')}  ${rel}\n`,
    )
    .join('');
  return `h1:${createHash('sha256').update(summary).digest('base64')}`;
}

/** One provider block, formatted as `terraform init` writes it. */
export function providerLockBlock(address: string, version: string, constraints: string, hashes: string[]): string {
  return [
    `provider ${JSON.stringify(address)} {`,
    `  version     = ${JSON.stringify(version)}`,
    `  constraints = ${JSON.stringify(constraints)}`,
    '  hashes = [',
    ...[...hashes].sort().map((h) => `    ${JSON.stringify(h)},`),
    '  ]',
    '}',
    '',
  ].join('\n');
}

const HEADER =
  '# This file is maintained automatically by "terraform init".\n# Manual edits may be lost in future updates.\n';

/**
 * `existing` (a lock file's text, or undefined) with the block for `address` replaced by `block`;
 * other providers' blocks are kept as they are.
 */
export function lockFileWithProvider(existing: string | undefined, address: string, block: string): string {
  const blocks: { address: string; text: string }[] = [];
  if (existing) {
    // Top-level blocks start at column 0 with `provider "…" {` and end at a column-0 `}`.
    const re = /^provider "([^"]+)" \{\n[\s\S]*?^\}\n?/gm;
    for (const m of existing.matchAll(re))
      blocks.push({ address: m[1], text: m[0].endsWith('\n') ? m[0] : `${m[0]}\n` });
  }
  const others = blocks.filter((b) => b.address !== address);
  const all = [...others, { address, text: block }].sort((a, b) =>
    a.address < b.address ? -1 : a.address > b.address ? 1 : 0,
  );
  return `${HEADER}\n${all.map((b) => b.text).join('\n')}`;
}
