/**
 * A local state file a killed terraform left empty (stacks/state-recovery.ts): put back from
 * Terraform's own backup when no one holds its lock, refused with the reason otherwise, and
 * left alone when it is whole. Through the real default app as well (cdktf synth runs it
 * before every deploy and destroy).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { packageRoot } from '../../providers/package-root';
import {
  isFileLocked,
  localStatePaths,
  localStateVerdict,
  lockedInodes,
  recoverKilledLocalStates,
  snapshotIdentity,
  StateRecoveryError,
} from '../../stacks/state-recovery';

const snapshot = (serial: number, lineage = 'aaaa-1111', resources = 2) =>
  JSON.stringify(
    {
      version: 4,
      terraform_version: '1.11.4',
      serial,
      lineage,
      outputs: {},
      resources: Array.from({ length: resources }, (_, i) => ({ type: 'calico_node', name: `n${i}` })),
    },
    null,
    2,
  );

describe('localStateVerdict', () => {
  const file = '/p/terraform.lab.tfstate';

  test('a whole state, or none at all, is left alone', () => {
    expect(localStateVerdict({ path: file, state: snapshot(3), backup: undefined, locked: undefined })).toEqual({
      kind: 'intact',
    });
    expect(localStateVerdict({ path: file, state: undefined, backup: snapshot(3), locked: false })).toEqual({
      kind: 'intact',
    });
  });

  test('an empty file beside a valid backup, nobody holding the lock: restore, saying what happened', () => {
    const v = localStateVerdict({ path: file, state: '', backup: snapshot(10, 'aaaa-1111', 9), locked: false });
    expect(v.kind).toBe('restore');
    if (v.kind !== 'restore') return;
    expect(v.reason).toMatch(/^\/p\/terraform\.lab\.tfstate is empty: a terraform run was killed while writing it/);
    expect(v.reason).toMatch(/from \/p\/terraform\.lab\.tfstate\.backup \(serial 10, 9 resources\)/);
  });

  test('a cut-off snapshot of the same lineage is restored; of another lineage, refused', () => {
    const cut = snapshot(11).slice(0, 110);
    expect(cut).toContain('"lineage": "aaaa-1111"');
    expect(localStateVerdict({ path: file, state: cut, backup: snapshot(10), locked: false }).kind).toBe('restore');
    const other = localStateVerdict({ path: file, state: cut, backup: snapshot(10, 'bbbb-2222'), locked: false });
    expect(other).toEqual({
      kind: 'refuse',
      problem: expect.stringMatching(/belongs to another state \(lineage bbbb-2222, not aaaa-1111\)/),
    });
  });

  test('an empty file younger than its backup: the backup is an earlier state at this path, refused', () => {
    const times = {
      stateBornMs: Date.parse('2026-12-06T10:00:00Z'),
      backupWrittenMs: Date.parse('2026-12-01T08:00:00Z'),
    };
    const v = localStateVerdict({ path: file, state: '', backup: snapshot(10, 'bbbb-2222'), locked: false, ...times });
    expect(v.kind).toBe('refuse');
    if (v.kind !== 'refuse') return;
    expect(v.problem).toContain(
      '/p/terraform.lab.tfstate is empty, and /p/terraform.lab.tfstate.backup is older than the file itself (written 2026-12-01T08:00:00.000Z, the file created 2026-12-06T10:00:00.000Z)',
    );
    expect(v.problem).toContain('cp /p/terraform.lab.tfstate.backup /p/terraform.lab.tfstate');
    expect(v.problem).toContain('mv /p/terraform.lab.tfstate.backup /p/terraform.lab.tfstate.backup.old');
    // Written after the file was created (by the run that emptied it): restored, as before.
    const later = { ...times, backupWrittenMs: times.stateBornMs + 1 };
    expect(localStateVerdict({ path: file, state: '', backup: snapshot(10), locked: false, ...later }).kind).toBe(
      'restore',
    );
    const same = { ...times, backupWrittenMs: times.stateBornMs };
    expect(localStateVerdict({ path: file, state: '', backup: snapshot(10), locked: false, ...same }).kind).toBe(
      'restore',
    );
    // No creation time known (the file system does not record it): as before.
    const { stateBornMs: _, ...unknown } = times;
    expect(localStateVerdict({ path: file, state: '', backup: snapshot(10), locked: false, ...unknown }).kind).toBe(
      'restore',
    );
    // A cut-off snapshot shows its lineage: that is compared instead.
    const cut = snapshot(11).slice(0, 110);
    expect(localStateVerdict({ path: file, state: cut, backup: snapshot(10), locked: false, ...times }).kind).toBe(
      'restore',
    );
  });

  test('refused while someone holds the lock (a live run is between truncate and write)', () => {
    const v = localStateVerdict({ path: file, state: '', backup: snapshot(10), locked: true });
    expect(v).toEqual({
      kind: 'refuse',
      problem: expect.stringMatching(/while a process holds its lock: a terraform run is writing it now/),
    });
  });

  test('refused where the lock cannot be checked, with the command that restores it by hand', () => {
    const v = localStateVerdict({ path: "/my dir/it's.tfstate", state: '', backup: snapshot(10), locked: undefined });
    expect(v.kind).toBe('refuse');
    if (v.kind !== 'refuse') return;
    expect(v.problem).toContain(`cp '/my dir/it'\\''s.tfstate.backup' '/my dir/it'\\''s.tfstate'`);
  });

  test('refused without a usable backup: Terraform would act as if nothing were deployed', () => {
    for (const backup of [undefined, '', '{"version": 4}', '[]', 'null']) {
      const v = localStateVerdict({ path: file, state: '', backup, locked: false });
      expect(v).toEqual({
        kind: 'refuse',
        problem: expect.stringMatching(/there is no usable \/p\/terraform\.lab\.tfstate\.backup to restore/),
      });
    }
  });
});

test('snapshotIdentity: only a whole snapshot has one', () => {
  expect(snapshotIdentity(snapshot(7, 'l', 3))).toEqual({ lineage: 'l', serial: 7, resources: 3 });
  for (const text of [
    '',
    '   \n',
    '{',
    'null',
    '[]',
    '{"lineage":"l","serial":1}',
    '{"version":4,"lineage":1,"serial":1}',
  ])
    expect(snapshotIdentity(text)).toBeNull();
});

test('lockedInodes reads every kind of lock from /proc/locks, waiters included', () => {
  const table = [
    '1: POSIX  ADVISORY  WRITE 17434 fe:00:2458232 0 EOF',
    '1: -> POSIX  ADVISORY  WRITE 17500 fe:00:2458232 0 EOF',
    '2: FLOCK  ADVISORY  WRITE 900 00:19:77 0 EOF',
    '3: OFDLCK ADVISORY  READ -1 00:06:1234 0 EOF',
    'garbage',
  ].join('\n');
  expect([...lockedInodes(table)].sort()).toEqual(['1234', '2458232', '77']);
});

describe('on disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-state-recovery-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A synthesized stack whose local backend names `statePath`. */
  function stack(name: string, backend: object): string {
    const out = path.join(dir, 'cdktf.out');
    fs.mkdirSync(path.join(out, 'stacks', name), { recursive: true });
    fs.writeFileSync(path.join(out, 'stacks', name, 'cdk.tf.json'), JSON.stringify({ terraform: { backend } }));
    return out;
  }
  const noLocks = () => {
    const f = path.join(dir, 'locks');
    fs.writeFileSync(f, '');
    return f;
  };

  test('the local backend path of each stack, a relative one from the stack directory; other backends have none', () => {
    const out = stack('a', { local: { path: path.join(dir, 'a.tfstate') } });
    stack('b', { local: { path: '../../../b.tfstate' } });
    stack('c', { pg: { schema_name: 'x' } });
    stack('d', { local: {} });
    expect(localStatePaths(out)).toEqual([
      path.join(dir, 'a.tfstate'),
      path.join(dir, 'b.tfstate'),
      path.join(out, 'stacks', 'd', 'terraform.tfstate'),
    ]);
    expect(localStatePaths(path.join(dir, 'nothing'))).toEqual([]);
  });

  test('an emptied state is replaced by its backup (atomically: no temporary file stays), and said so', () => {
    const file = path.join(dir, 'terraform.lab.tfstate');
    const out = stack('lab', { local: { path: file } });
    fs.writeFileSync(file, '');
    fs.writeFileSync(`${file}.backup`, snapshot(10));
    const said: string[] = [];
    recoverKilledLocalStates(out, (m) => said.push(m), noLocks());
    expect(fs.readFileSync(file, 'utf8')).toBe(snapshot(10));
    expect(said).toEqual([
      expect.stringMatching(
        /is empty: a terraform run was killed while writing it.*Restored the state before that run/,
      ),
    ]);
    expect(fs.readdirSync(dir).sort()).toEqual([
      'cdktf.out',
      'locks',
      'terraform.lab.tfstate',
      'terraform.lab.tfstate.backup',
    ]);
    // Once whole, nothing more happens.
    recoverKilledLocalStates(out, (m) => said.push(m), noLocks());
    expect(said).toHaveLength(1);
  });

  test('an empty state file created after its backup was written: refused, nothing changed; a restore dates the backup after the file', () => {
    const file = path.join(dir, 'terraform.lab.tfstate');
    const out = stack('lab', { local: { path: file } });
    // An earlier state's backup, then a new state file a run created and was killed in.
    fs.writeFileSync(`${file}.backup`, snapshot(10, 'bbbb-2222'));
    const past = new Date(Date.now() - 3600_000);
    fs.utimesSync(`${file}.backup`, past, past);
    fs.writeFileSync(file, '');
    expect(() => recoverKilledLocalStates(out, () => undefined, noLocks())).toThrow(
      /is empty, and \S+\.backup is older than the file itself/,
    );
    expect(fs.readFileSync(file, 'utf8')).toBe('');
    expect(Math.round(fs.statSync(`${file}.backup`).mtimeMs)).toBe(past.getTime());

    // A restore (by rename: a new file) leaves the backup dated after the file, so a later kill
    // of a run that wrote the same state again (Terraform then writes no new backup) still restores.
    fs.rmSync(file);
    fs.writeFileSync(file, '');
    const soon = new Date(Date.now() + 1000);
    fs.utimesSync(`${file}.backup`, soon, soon);
    recoverKilledLocalStates(out, () => undefined, noLocks());
    expect(fs.readFileSync(file, 'utf8')).toBe(snapshot(10, 'bbbb-2222'));
    expect(fs.statSync(`${file}.backup`).mtimeMs).toBeGreaterThanOrEqual(fs.statSync(file).birthtimeMs);
    fs.writeFileSync(file, '');
    const said: string[] = [];
    recoverKilledLocalStates(out, (m) => said.push(m), noLocks());
    expect(said).toEqual([expect.stringMatching(/Restored the state before that run/)]);
  });

  test('a cut-off state is kept aside for a post-mortem', () => {
    const file = path.join(dir, 's.tfstate');
    const out = stack('s', { local: { path: file } });
    const cut = snapshot(11).slice(0, 90);
    fs.writeFileSync(file, cut);
    fs.writeFileSync(`${file}.backup`, snapshot(10));
    recoverKilledLocalStates(out, () => undefined, noLocks());
    expect(fs.readFileSync(file, 'utf8')).toBe(snapshot(10));
    expect(fs.readFileSync(`${file}.cut-off`, 'utf8')).toBe(cut);
  });

  test('a lock on the file, or no way to see locks, stops synthesis and changes nothing', () => {
    const file = path.join(dir, 's.tfstate');
    const out = stack('s', { local: { path: file } });
    fs.writeFileSync(file, '');
    fs.writeFileSync(`${file}.backup`, snapshot(10));
    const locks = path.join(dir, 'locks');
    fs.writeFileSync(locks, `1: POSIX  ADVISORY  WRITE 4242 fe:00:${fs.statSync(file).ino} 0 EOF\n`);
    expect(isFileLocked(file, locks)).toBe(true);
    expect(() => recoverKilledLocalStates(out, () => undefined, locks)).toThrow(StateRecoveryError);
    expect(() => recoverKilledLocalStates(out, () => undefined, path.join(dir, 'no-proc-locks'))).toThrow(
      /cp .*s\.tfstate\.backup .*s\.tfstate/,
    );
    expect(fs.readFileSync(file, 'utf8')).toBe('');
  });

  test('a whole state and a stack without any state are left alone, silently', () => {
    const file = path.join(dir, 's.tfstate');
    const out = stack('s', { local: { path: file } });
    stack('t', { local: { path: path.join(dir, 'never-applied.tfstate') } });
    fs.writeFileSync(file, snapshot(3));
    fs.writeFileSync(`${file}.backup`, snapshot(2));
    const said: string[] = [];
    recoverKilledLocalStates(out, (m) => said.push(m), path.join(dir, 'no-proc-locks'));
    expect(said).toEqual([]);
    expect(fs.readFileSync(file, 'utf8')).toBe(snapshot(3));
  });

  test("the real default app restores cdktf's default state file before terraform runs", () => {
    const inventory = path.join(packageRoot(), 'examples', 'two-node.yaml');
    const file = path.join(dir, 'terraform.seed.tfstate');
    fs.writeFileSync(file, '');
    fs.writeFileSync(`${file}.backup`, snapshot(5, 'cccc', 4));
    const r = spawnSync(process.execPath, [path.join(packageRoot(), 'dist', 'stacks', 'main.js')], {
      cwd: dir,
      env: { ...process.env, CALICO_INVENTORY: inventory, CDKTF_OUTDIR: path.join(dir, 'cdktf.out') },
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(
      /^calico-net: .*terraform\.seed\.tfstate is empty: a terraform run was killed while writing it.*\(serial 5, 4 resources\)/,
    );
    expect(fs.readFileSync(file, 'utf8')).toBe(snapshot(5, 'cccc', 4));
  });
});
