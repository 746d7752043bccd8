/**
 * The one table of tools (scripts/prerequisites.json): the install script and the lab's check
 * read the same rows, so what `npm test` installs is what the lab and the tests look for.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { missingPrerequisites } from '../../lab';

const table = JSON.parse(fs.readFileSync(path.join(__dirname, '../../scripts/prerequisites.json'), 'utf8')).tools as {
  command: string;
  package: string;
  neededFor: string;
}[];

test('every row names a command, a Debian package and a known job', () => {
  expect(table.length).toBeGreaterThan(5);
  for (const t of table) {
    expect(t.command).toMatch(/^[a-z][a-z0-9_-]*$/);
    expect(t.package).toMatch(/^[a-z0-9][a-z0-9.+-]*$/);
    expect(['lab', 'demo', 'test', 'bench']).toContain(t.neededFor);
  }
});

test('after the install script ran (pretest), nothing the whole suite needs is missing', () => {
  const script = spawnSync('node', [path.join(__dirname, '../../scripts/prerequisites.js')], { encoding: 'utf8' });
  expect(script.stderr).toBe('');
  expect(script.status).toBe(0);
  expect(missingPrerequisites('test')).toEqual([]);
});

test('the peers the bench times are a bench need only (npm test neither installs nor asks for them)', () => {
  expect(table.find((t) => t.command === 'ansible-playbook')).toEqual({
    command: 'ansible-playbook',
    package: 'ansible-core',
    neededFor: 'bench',
  });
  const script = spawnSync('node', [path.join(__dirname, '../../scripts/prerequisites.js'), 'bench'], {
    encoding: 'utf8',
  });
  expect(script.stderr).toBe('');
  expect(script.status).toBe(0);
  expect(missingPrerequisites('bench')).toEqual([]);
});

test('a command outside the table is a mistake in the caller, not a missing tool', () => {
  expect(() => missingPrerequisites('lab', ['no-such-tool'])).toThrow(
    /no-such-tool is not in scripts\/prerequisites\.json/,
  );
});
