/** The framing scanner the remote shell reads its streams with (pure: no host involved). */
import { TokenScanner } from '../../providers/ssh/token-scanner';

const TOKEN = ':calico-end:0123456789abcdef0123456789abcdef:';

test('finds a token split across chunks, returns what came before it and the rest of its line', async () => {
  const s = new TokenScanner();
  const text = `out\0put\n${TOKEN}42\nnext`;
  const seen = s.expect(TOKEN);
  // One byte at a time: the token straddles every possible seam.
  for (const byte of Buffer.from(text)) s.push(Buffer.from([byte]));
  const m = await seen;
  expect(m.before.toString()).toBe('out\0put\n');
  expect(m.rest).toBe('42');
  // What followed the line stays for the next expectation.
  const next = s.expect('xt');
  s.push(Buffer.from('\n'));
  expect((await next).before.toString()).toBe('ne');
});

test('data that arrived before the expectation is searched too; look-alike tokens do not match', async () => {
  const s = new TokenScanner();
  const fake = TOKEN.replace('0123', '0124');
  s.push(Buffer.from(`${fake}1\n${TOKEN.slice(0, 20)}`));
  s.push(Buffer.from(`${TOKEN.slice(20)}7\n`));
  const m = await s.expect(TOKEN);
  expect(m.before.toString()).toBe(`${fake}1\n`);
  expect(m.rest).toBe('7');
});

test('megabytes in many chunks come back whole', async () => {
  const s = new TokenScanner();
  const seen = s.expect(TOKEN);
  const chunk = Buffer.alloc(32 * 1024, 0xff);
  for (let i = 0; i < 1000; i++) s.push(chunk);
  s.push(Buffer.from(`${TOKEN}0\n`));
  const m = await seen;
  expect(m.before.length).toBe(1000 * chunk.length);
  expect(m.before.every((b) => b === 0xff)).toBe(true);
});

test('a stream that breaks fails the pending and later expectations; drain returns what was buffered', async () => {
  const s = new TokenScanner();
  const seen = s.expect(TOKEN);
  s.push(Buffer.from('sudo: a password is required\n'));
  s.fail(new Error('closed'));
  await expect(seen).rejects.toThrow('closed');
  await expect(s.expect(TOKEN)).rejects.toThrow('closed');
  expect(s.drain().toString()).toBe('sudo: a password is required\n');
});
