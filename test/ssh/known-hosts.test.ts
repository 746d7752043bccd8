/** Host key decisions against real known_hosts lines (keys made by ssh-keygen). */
import { createHmac } from 'crypto';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fingerprint, verifyHostKey } from '../../providers/ssh/known-hosts';
import { shQuote } from '../../providers/ssh/quote';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-kh-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function newKey(name: string): { type: string; b64: string; blob: Buffer } {
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
  const [type, b64] = fs.readFileSync(`${file}.pub`, 'utf8').trim().split(' ');
  return { type, b64, blob: Buffer.from(b64, 'base64') };
}

const a = newKey('a');
const b = newKey('b');

function knownHosts(lines: string[]): string {
  const file = path.join(dir, `kh-${Math.random().toString(36).slice(2)}`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

test('fingerprints match ssh-keygen -l', () => {
  const out = execFileSync('ssh-keygen', ['-l', '-f', path.join(dir, 'a.pub')], { encoding: 'utf8' });
  expect(out).toContain(fingerprint(a.blob));
});

test('a plain entry accepts its key and reports a changed one with both fingerprints', () => {
  const kh = knownHosts([`198.18.9.1,other ${a.type} ${a.b64}`]);
  expect(verifyHostKey(kh, '198.18.9.1', 22, a.blob)).toEqual({ ok: true });
  const changed = verifyHostKey(kh, '198.18.9.1', 22, b.blob);
  expect(changed.ok).toBe(false);
  expect(!changed.ok && changed.reason).toMatch(/CHANGED/);
  expect(!changed.ok && changed.reason).toContain(fingerprint(a.blob));
  expect(!changed.ok && changed.reason).toContain(fingerprint(b.blob));
});

test('an unknown host is refused naming the offered fingerprint and how to add it', () => {
  const kh = knownHosts([`198.18.9.1 ${a.type} ${a.b64}`]);
  const unknown = verifyHostKey(kh, '198.18.9.2', 22, a.blob);
  expect(!unknown.ok && unknown.reason).toMatch(
    /unknown host key for 198\.18\.9\.2: SHA256:\S+ .*ssh-keyscan -p 22 198\.18\.9\.2/,
  );
});

test('non-standard ports use [host]:port, hashed entries and wildcards match, negation excludes', () => {
  const salt = Buffer.from('0123456789abcdefghij');
  const hashed = createHmac('sha1', salt).update('198.18.9.7').digest('base64');
  const kh = knownHosts([
    `[198.18.9.1]:2222 ${a.type} ${a.b64}`,
    `|1|${salt.toString('base64')}|${hashed} ${a.type} ${a.b64}`,
    `198.18.8.*,!198.18.8.66 ${a.type} ${a.b64}`,
  ]);
  expect(verifyHostKey(kh, '198.18.9.1', 2222, a.blob).ok).toBe(true);
  expect(verifyHostKey(kh, '198.18.9.1', 22, a.blob).ok).toBe(false);
  expect(verifyHostKey(kh, '198.18.9.7', 22, a.blob).ok).toBe(true);
  expect(verifyHostKey(kh, '198.18.8.5', 22, a.blob).ok).toBe(true);
  expect(verifyHostKey(kh, '198.18.8.66', 22, a.blob).ok).toBe(false);
});

test('@revoked refuses the key even when another line lists it; @cert-authority trusts nothing', () => {
  const kh = knownHosts([
    `@revoked * ${a.type} ${a.b64}`,
    `198.18.9.1 ${a.type} ${a.b64}`,
    `@cert-authority * ${b.type} ${b.b64}`,
  ]);
  const revoked = verifyHostKey(kh, '198.18.9.1', 22, a.blob);
  expect(!revoked.ok && revoked.reason).toMatch(/@revoked/);
  expect(verifyHostKey(kh, '198.18.9.1', 22, b.blob).ok).toBe(false);
});

test('shQuote keeps hostile strings as one word through a real bash', () => {
  const nasty = `it's "quoted" $HOME \`id\` ; rm -rf / \n\ttab * ?`;
  const out = execFileSync('bash', ['-c', `printf '%s' ${shQuote(nasty)}`], { encoding: 'utf8' });
  expect(out).toBe(nasty);
  expect(() => shQuote('a\0b')).toThrow(/NUL/);
});
