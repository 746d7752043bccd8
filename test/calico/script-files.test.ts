/**
 * The script loader (providers/calico/script.ts) on script files of its own: a package root whose
 * templates/scripts holds the few files each case needs, so the body the loader makes of them can
 * be stated whole. What it drops (comment and blank lines), what it keeps whole (here-documents in
 * every spelling bash accepts), how it inlines a library, and what it refuses. In process: no
 * shellcheck, no bash.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as packageRootModule from '../../providers/package-root';
import { scriptBody } from '../../providers/calico/script';

const FILES: Record<string, string> = {
  'fx-strip': [
    '#!/usr/bin/env bash',
    '# a comment',
    '   # an indented comment',
    '\t# a tab-indented comment',
    '',
    '   ',
    'echo one # a comment after code stays with it',
    'x=1',
    '',
  ].join('\n'),
  'fx-heredoc': [
    '<<EOF cat',
    '# data: a here-document at the start of a line',
    '',
    'EOF',
    '# dropped',
    'cat <<EOF',
    '\tEOF',
    '# data: a tab-indented word does not end a <<EOF document',
    'EOF',
    'cat << data',
    '# data: a lower-case word, after a space',
    'data',
    "cat <<'QUOTED'",
    '# data',
    'QUOTED',
    'cat <<"MY_END"',
    '# data',
    'MY_END',
    'cat <<\\ESCAPED',
    '# data',
    'ESCAPED',
    'cat <<-END',
    '\t# data',
    'EN\tD',
    '# data: only leading tabs go before the word is compared',
    '\t\tEND',
    '# dropped',
    'cat <<<"$x"',
    '# dropped: a here-string opens no document',
    'x=$((1<<2))',
    '# dropped: neither does a shift',
    'echo done',
  ].join('\n'),
  'lib/fx-a1': '# shellcheck shell=bash\n# a library\nfx_a1() { :; }\n',
  'fx-include': '. "$LIB/fx-a1.sh"\n# twice, inlined once\n. "$LIB/fx-a1.sh"\necho main\n',
  'fx-indented-include': 'if true; then\n  . "$LIB/fx-a1.sh"\nfi\n',
  'fx-include-and-more': '. "$LIB/fx-a1.sh" && echo more\n',
  'fx-plain': '# a script, not a library\necho plain\n',
};

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'script-files-'));
  for (const [name, text] of Object.entries(FILES)) {
    const file = path.join(root, 'templates', 'scripts', `${name}.sh`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
  jest.spyOn(packageRootModule, 'packageRoot').mockReturnValue(root);
});
afterAll(() => {
  jest.restoreAllMocks();
  fs.rmSync(root, { recursive: true, force: true });
});

test('comment and blank lines stay home, however indented; code keeps its trailing comment', () => {
  expect(scriptBody(['fx-strip']).body).toBe('echo one # a comment after code stays with it\nx=1');
});

test('here-documents travel whole in every spelling, up to their word; here-strings and shifts open none', () => {
  expect(scriptBody(['fx-heredoc']).body.split('\n')).toEqual([
    '<<EOF cat',
    '# data: a here-document at the start of a line',
    '',
    'EOF',
    'cat <<EOF',
    '\tEOF',
    '# data: a tab-indented word does not end a <<EOF document',
    'EOF',
    'cat << data',
    '# data: a lower-case word, after a space',
    'data',
    "cat <<'QUOTED'",
    '# data',
    'QUOTED',
    'cat <<"MY_END"',
    '# data',
    'MY_END',
    'cat <<\\ESCAPED',
    '# data',
    'ESCAPED',
    'cat <<-END',
    '\t# data',
    'EN\tD',
    '# data: only leading tabs go before the word is compared',
    '\t\tEND',
    'cat <<<"$x"',
    'x=$((1<<2))',
    'echo done',
  ]);
});

test('a library is inlined once where it is sourced, its own comments dropped', () => {
  expect(scriptBody(['fx-include']).body).toBe('fx_a1() { :; }\necho main');
  // Given as a piece before the script that sources it: still once, where the piece stands.
  expect(scriptBody(['lib/fx-a1', 'fx-include']).body).toBe('fx_a1() { :; }\necho main');
});

test('a source line the loader does not inline whole is refused, never sent half-done', () => {
  for (const name of ['fx-indented-include', 'fx-include-and-more'])
    expect(() => scriptBody([name])).toThrow(
      `script ["${name}"] sources a library in a form the loader does not inline`,
    );
});

test('only libraries are taken once: a script given twice runs twice', () => {
  expect(scriptBody(['fx-plain', 'fx-plain']).body).toBe('echo plain\necho plain');
});
