/**
 * Issue 28, item 4: BGP passwords are masked by meaning, not by spacing. Every form below is
 * first shown to be one BIRD accepts (`bird -p`, a local parse, no daemon), then masked as the
 * provider masks what it reads back: the secret never shows, the rest of the file does.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseSnapshot, withoutFileBytes } from '../../providers/calico/host-snapshot';
import {
  maskBirdPasswords,
  maskSecrets,
  secretPlaceholder,
  spliceSecrets,
  UNDECLARED_SECRET,
} from '../../rules/secrets';

const SECRET = 's3cr3t-Value';
const HAND = 'typed-by-hand';
const HEAD = 'router id 198.18.0.1;\nprotocol device {}\n';
const CHANNEL = 'ipv4 { import all; export all; };';
const bgp = (body: string) =>
  `${HEAD}protocol bgp Global_198_18_0_100 { local as 64501; neighbor 198.18.0.100 as 65000; ${CHANNEL} ${body} }\n`;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bird-pw-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** bird -p's verdict on a config text: null when it parses, else BIRD's message. */
function birdParse(text: string): string | null {
  const file = path.join(dir, 'bird.conf');
  fs.writeFileSync(file, text);
  try {
    execFileSync('bird', ['-p', '-c', file], { stdio: 'pipe' });
    return null;
  } catch (err) {
    return String((err as { stderr?: Buffer }).stderr ?? err);
  }
}

const forms: [string, string][] = [
  ['one space (the rendered form)', bgp(`password "${SECRET}";`)],
  ['no space', bgp(`password"${SECRET}";`)],
  ['a tab', bgp(`password\t"${SECRET}";`)],
  ['tabs and a newline before the string', bgp(`password\t\t\n\t"${SECRET}";`)],
  ['a block comment between', bgp(`password /* md5 */ "${SECRET}";`)],
  ['a line comment between', bgp(`password # the ToR's\n "${SECRET}";`)],
  [
    'in a template',
    `${HEAD}template bgp t { local as 64501; password"${SECRET}"; ${CHANNEL} }\nprotocol bgp p from t { neighbor 198.18.0.100 as 65000; }\n`,
  ],
  ['through a define', `${HEAD}define tor_pw = "${SECRET}";\n${bgp('password tor_pw;').slice(HEAD.length)}`],
  [
    'through a define of a define',
    `${HEAD}define a = "${SECRET}";\ndefine b = a;\n${bgp('password b;').slice(HEAD.length)}`,
  ],
  ['twice (the last one wins in BIRD)', bgp(`password "other"; password"${SECRET}";`)],
];

describe.each(forms)('a password BIRD accepts: %s', (_, text) => {
  test('is accepted by bird -p', () => {
    expect(birdParse(text)).toBeNull();
  });

  test('never shows once masked, as a declared value or as one set by hand', () => {
    const declared = maskBirdPasswords(text, { Global_198_18_0_100: SECRET });
    expect(declared).not.toContain(SECRET);
    expect(declared).toContain(secretPlaceholder('Global_198_18_0_100'));
    const byHand = maskBirdPasswords(text.split(SECRET).join(HAND), { Global_198_18_0_100: SECRET });
    expect(byHand).not.toContain(HAND);
    expect(byHand).toContain(UNDECLARED_SECRET);
    // The rest of the file stays readable: a diff still says where the change is.
    expect(declared).toContain('neighbor 198.18.0.100 as 65000');
  });
});

test('inside a channel block BIRD refuses a password, but a file on a host may still hold one: masked too', () => {
  const text = `${HEAD}protocol bgp p { local as 64501; neighbor 198.18.0.100 as 65000; ipv4 { import all; export all; password"${HAND}"; }; }\n`;
  expect(birdParse(text)).toMatch(/syntax error, unexpected PASSWORD/);
  expect(maskBirdPasswords(text, {})).not.toContain(HAND);
});

test('a commented-out password, an unclosed string, and a declared value elsewhere in a string are masked', () => {
  const text = `# password"${HAND}"\n# old: ${SECRET}\nprotocol bgp p { description "${SECRET}"; password "${HAND}\n}\n`;
  const masked = maskBirdPasswords(text, { X: SECRET });
  expect(masked).not.toContain(HAND);
  expect(masked).not.toContain(SECRET);
  expect(masked).toContain(`# old: ${secretPlaceholder('X')}`);
});

test('the word password inside a string or a comment names nothing; other strings stay as they are', () => {
  const text = `${HEAD}protocol bgp p { description "password \\"x"; local as 64501; neighbor 198.18.0.100 as 65000; ${CHANNEL} }\n`;
  expect(maskBirdPasswords(text, {})).toBe(text);
  const plain = bgp('password "abc";').replace('password "abc";', '');
  expect(maskBirdPasswords(plain, { X: SECRET })).toBe(plain);
});

test('a define loop or an unknown symbol after password masks nothing else and does not hang', () => {
  const text = `define a = b;\ndefine b = a;\nprotocol bgp p { password a; password nowhere; description "keep"; }\n`;
  expect(maskBirdPasswords(text, {})).toBe(text);
});

test('maskSecrets: an unchanged host reads as the declared content; a changed form as masked text', () => {
  const declared = bgp(`password "${secretPlaceholder('Global_198_18_0_100')}";`);
  const secrets = { Global_198_18_0_100: SECRET };
  expect(maskSecrets(spliceSecrets(declared, secrets), declared, secrets)).toBe(declared);
  const tight = spliceSecrets(declared, secrets).replace('password "', 'password\n"');
  const masked = maskSecrets(tight, declared, secrets);
  expect(masked).not.toContain(SECRET);
  expect(masked).toContain(`password\n"${secretPlaceholder('Global_198_18_0_100')}"`);
});

test('a declared value that is a prefix of another is masked whole, longest first', () => {
  const masked = maskBirdPasswords('# ab abc\n', { SHORT: 'ab', LONG: 'abc' });
  expect(masked).toBe(`# ${secretPlaceholder('SHORT')} ${secretPlaceholder('LONG')}\n`);
});

test('a placeholder put in is never searched again, whatever the declared values', () => {
  const masked = maskBirdPasswords('protocol bgp p { description "abc calico"; }\n/* password\n"x" */\n', {
    A: 'abc',
    B: 'calico',
  });
  expect(masked).toBe(
    `protocol bgp p { description "${secretPlaceholder('A')} ${secretPlaceholder('B')}"; }\n/* password\n"${UNDECLARED_SECRET}" */\n`,
  );
});

test('an incomplete snapshot answer is reported without the file bytes it carried (base64 is no mask)', () => {
  const conf = Buffer.from(bgp(`password "${SECRET}";`)).toString('base64');
  const answer = `==> k bird_config\npresent\n${conf}\nmtime=1\n`;
  expect(withoutFileBytes(answer)).not.toContain(conf.slice(0, 48));
  let message = '';
  try {
    parseSnapshot(answer, [], 'node1', 'k');
  } catch (err) {
    message = String(err);
  }
  expect(message).toMatch(/Incomplete answer from node node1/);
  expect(message).not.toContain(conf.slice(0, 48));
  expect(message).not.toContain(SECRET);
});
