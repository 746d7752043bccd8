/**
 * Strict host key checking against an OpenSSH known_hosts file: plain and hashed (|1|salt|hash)
 * host patterns, `[host]:port` for non-standard ports, wildcards, negation, and @revoked.
 * (@cert-authority lines are skipped: we never trust a CA implicitly.)
 */
import { createHash, createHmac } from 'crypto';
import * as fs from 'fs';

export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

interface Entry {
  marker: '' | '@revoked' | '@cert-authority';
  patterns: string[];
  key: Buffer;
}

function parse(text: string): Entry[] {
  const entries: Entry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    let marker: Entry['marker'] = '';
    if (fields[0].startsWith('@')) marker = fields.shift() as Entry['marker'];
    if (fields.length < 3) continue;
    entries.push({ marker, patterns: fields[0].split(','), key: Buffer.from(fields[2], 'base64') });
  }
  return entries;
}

function globMatch(pattern: string, text: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return re.test(text);
}

function patternMatches(pattern: string, token: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(token).digest('base64');
    return mac === hash;
  }
  return globMatch(pattern, token);
}

function hostMatches(entry: Entry, token: string): boolean {
  let matched = false;
  for (const p of entry.patterns) {
    if (p.startsWith('!')) {
      if (patternMatches(p.slice(1), token)) return false;
    } else if (patternMatches(p, token)) matched = true;
  }
  return matched;
}

export type HostKeyVerdict = { ok: true } | { ok: false; reason: string };

/** Decides whether `offered` is the known key of host:port. */
export function verifyHostKey(knownHostsPath: string, host: string, port: number, offered: Buffer): HostKeyVerdict {
  let text: string;
  try {
    text = fs.readFileSync(knownHostsPath, 'utf8');
  } catch (err) {
    return { ok: false, reason: `cannot read known_hosts ${knownHostsPath}: ${(err as NodeJS.ErrnoException).code}` };
  }
  const token = port === 22 ? host : `[${host}]:${port}`;
  const entries = parse(text).filter((e) => e.marker !== '@cert-authority' && hostMatches(e, token));
  const offeredPrint = fingerprint(offered);
  if (entries.some((e) => e.marker === '@revoked' && e.key.equals(offered))) {
    return { ok: false, reason: `host key of ${token} (${offeredPrint}) is marked @revoked in ${knownHostsPath}` };
  }
  const known = entries.filter((e) => e.marker === '');
  if (known.some((e) => e.key.equals(offered))) return { ok: true };
  if (known.length === 0) {
    return {
      ok: false,
      reason:
        `unknown host key for ${token}: ${offeredPrint} is not in ${knownHostsPath}. ` +
        `Check the fingerprint out of band, then add it: ssh-keygen -F / ssh-keyscan -p ${port} ${host} >> ${knownHostsPath}`,
    };
  }
  return {
    ok: false,
    reason:
      `host key for ${token} has CHANGED: expected ${known.map((e) => fingerprint(e.key)).join(' or ')}, ` +
      `offered ${offeredPrint} (${knownHostsPath}). Someone may be intercepting the connection, or the host was reinstalled.`,
  };
}
