/**
 * `calico-net lab`: arguments are checked before anything is built. `lab up --help` once built
 * a whole lab (it took --help for an unknown, ignored option).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { labCli } from '../../lab/cli';

function capture(): { out: string[]; err: string[]; restore(): void } {
  const out: string[] = [];
  const err: string[] = [];
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  return { out, err, restore: () => (o.mockRestore(), e.mockRestore()) };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-cli-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test.each([['up', '--help'], ['up', '-h'], ['down', '--help'], ['--help']])(
  'lab %s %s prints the usage and builds nothing',
  async (...args) => {
    const io = capture();
    try {
      expect(await labCli([...args, '--dir', path.join(dir, 'x')])).toBe(0);
    } finally {
      io.restore();
    }
    expect(io.out.join('')).toMatch(/^usage: calico-net lab up \[--nodes N\]/);
    expect(fs.existsSync(path.join(dir, 'x'))).toBe(false);
  },
);

test.each([
  [['up', '--nodse', '3'], '--nodse'],
  [['up', '--nodes', '3', 'extra'], 'extra'],
  [['down', '--nodes', '3'], '--nodes'],
])('lab %j is refused naming %s, and builds nothing', async (args, bad) => {
  const io = capture();
  try {
    expect(await labCli([...args, '--dir', path.join(dir, 'y')])).toBe(1);
  } finally {
    io.restore();
  }
  expect(io.err.join('')).toContain(`unknown argument "${bad}"`);
  expect(fs.existsSync(path.join(dir, 'y'))).toBe(false);
});

test('an unknown subcommand prints the usage and fails', async () => {
  const io = capture();
  try {
    expect(await labCli(['frob'])).toBe(1);
  } finally {
    io.restore();
  }
  expect(io.err.join('')).toMatch(/^usage: calico-net lab up/);
});
