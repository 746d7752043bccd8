/**
 * The batcher (providers/ssh/batch.ts): scripts that arrive together run as one script, and each
 * gets back its own exit status and output, whatever the others print or do. The batch script
 * runs here in a real local bash, as the host's shell runs it (no root, no lab).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { batchScript, batchWindowFromEnv, parseBatchAnswer, ScriptBatcher } from '../../providers/ssh/batch';
import { RemoteResult, RunOptions, SshConnectionError } from '../../providers/ssh/types';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'batch-test-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs a script as the host shell's driver does: `bash --norc --noprofile FILE < STDIN`. */
function runLocally(script: string, options: RunOptions = {}): RemoteResult {
  const file = path.join(dir, `s${Math.random().toString(36).slice(2)}`);
  fs.writeFileSync(file, script);
  const r = spawnSync('bash', ['--norc', '--noprofile', file], { input: options.stdin ?? '', encoding: 'utf8' });
  fs.rmSync(file);
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

/** A host whose round trips run locally and are recorded. */
function localHost() {
  const trips: { script: string; stdin?: string }[] = [];
  const run = async (script: string, options: RunOptions) => {
    trips.push({ script, stdin: options.stdin });
    await new Promise((r) => setTimeout(r, 1));
    return runLocally(script, options);
  };
  return { trips, run };
}

const runBatch = (parts: { script: string; stdin?: string }[]) => {
  const { script, stdin } = batchScript(parts);
  return parseBatchAnswer(runLocally(script, { stdin }), parts.length);
};

describe('the batch script', () => {
  test('each part gets its own status and output, whatever the others print, exit with or die of', () => {
    const marker = 'calico-batch 5\n0 0 0\n0 0 0\n';
    const results = runBatch([
      { script: "printf 'calico-batch 5\\n0 0 0\\n0 0 0\\n'; echo oops >&2; exit 0" },
      { script: 'echo before; exit 3; echo after' },
      { script: 'echo dying; kill -KILL $$' },
      { script: ':' },
      { script: "printf '\\xff\\xfe not utf-8\\n'; echo fine" },
      { script: 'set -e; false; echo unreachable' },
      { script: 'echo last' },
    ]);
    if (typeof results === 'string') throw new Error(results);
    expect(results.map((r) => r.code)).toEqual([0, 3, 137, 0, 0, 1, 0]);
    expect(results[0]).toEqual({ code: 0, stdout: marker, stderr: 'oops\n' });
    expect(results[1].stdout).toBe('before\n');
    expect(results[2].stdout).toBe('dying\n');
    expect(results[3]).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(results[4].stdout.endsWith(' not utf-8\nfine\n')).toBe(true);
    expect(results[5].stdout).toBe('');
    expect(results[6]).toEqual({ code: 0, stdout: 'last\n', stderr: '' });
  });

  test("each part reads its own standard input, byte-exact, and no variable of the batch's", () => {
    const results = runBatch([
      { script: 'cat', stdin: 'é one\n' },
      { script: 'echo "${calico_batch_count-unset} ${calico_part_0-unset}"; cat' },
      { script: 'wc -c', stdin: "three '$(x)' ${y}\n`z` é" },
    ]);
    if (typeof results === 'string') throw new Error(results);
    expect(results.map((r) => r.stdout)).toEqual(['é one\n', 'unset unset\n', '24\n']);
  });

  test('300 parts, in order', () => {
    const parts = Array.from({ length: 300 }, (_, i) => ({ script: `echo part ${i}; exit ${i % 7}` }));
    const results = runBatch(parts);
    if (typeof results === 'string') throw new Error(results);
    expect(results).toHaveLength(300);
    results.forEach((r, i) => expect(r).toEqual({ code: i % 7, stdout: `part ${i}\n`, stderr: '' }));
  });

  test('a batch cut short or not ours is never read as results', () => {
    expect(parseBatchAnswer({ code: 143, stdout: '', stderr: '' }, 2)).toMatch(/gave no answer.*143/);
    expect(parseBatchAnswer({ code: 0, stdout: 'calico-batch 2\n0 1 0\n', stderr: '' }, 2)).toMatch(/only in part/);
    expect(parseBatchAnswer({ code: 0, stdout: 'calico-batch 2\n0 1 0\n0 0 0\nYQ==\n', stderr: '' }, 2)).toEqual([
      { code: 0, stdout: 'a', stderr: '' },
      { code: 0, stdout: '', stderr: '' },
    ]);
    expect(parseBatchAnswer({ code: 0, stdout: 'calico-batch 2\n0 2 0\n0 0 0\nYQ==\n', stderr: '' }, 2)).toMatch(
      /holds 1 bytes, not 2/,
    );
  });

  test('the part whose parent is killed: no part passes for done', () => {
    const results = runBatch([{ script: 'echo ok' }, { script: 'kill -KILL $PPID' }, { script: 'echo never' }]);
    expect(results).toMatch(/gave no answer/);
  });
});

describe('ScriptBatcher', () => {
  test('scripts that arrive together go as one round trip, each answered with its own result', async () => {
    const host = localHost();
    const b = new ScriptBatcher(host.run, 5, 'h');
    const answers = await Promise.all([
      b.run('echo a'),
      b.run('echo b >&2; exit 3'),
      b.run('cat', { stdin: 'c-in' }),
      b.run('exit 0'),
    ]);
    expect(host.trips).toHaveLength(1);
    expect(host.trips[0].stdin).toBe('c-in');
    expect(answers).toEqual([
      { code: 0, stdout: 'a\n', stderr: '' },
      { code: 3, stdout: '', stderr: 'b\n' },
      { code: 0, stdout: 'c-in', stderr: '' },
      { code: 0, stdout: '', stderr: '' },
    ]);
    expect(b.counts).toEqual({ calls: 4, roundTrips: 1, largest: 4 });
  });

  test('a script alone goes as it is; scripts arriving during a batch go together as the next', async () => {
    const host = localHost();
    const b = new ScriptBatcher(host.run, 5, 'h');
    const first = b.run('echo alone');
    await new Promise((r) => setTimeout(r, 6));
    // The first is in flight now: these three gather and go as one when it ends.
    const later = Promise.all([b.run('echo x'), b.run('echo y'), b.run('echo z')]);
    expect(await first).toEqual({ code: 0, stdout: 'alone\n', stderr: '' });
    expect((await later).map((r) => r.stdout)).toEqual(['x\n', 'y\n', 'z\n']);
    expect(host.trips.map((t) => t.script === 'echo alone')).toEqual([true, false]);
    expect(b.counts.roundTrips).toBe(2);
  });

  test('a transport failure fails every part of the batch; a batch cut short answers unknown', async () => {
    const lost = new SshConnectionError('h: the remote shell ended', 'unreachable');
    const b = new ScriptBatcher(() => Promise.reject(lost), 5, 'h');
    const r = await Promise.allSettled([b.run('echo 1'), b.run('echo 2')]);
    expect(r.map((x) => x.status)).toEqual(['rejected', 'rejected']);
    const cut = new ScriptBatcher(async () => ({ code: 137, stdout: 'calico-batch 2\n', stderr: '' }), 5, 'h');
    const answers = await Promise.all([cut.run('echo 1'), cut.run('echo 2')]);
    for (const a of answers) {
      expect(a.code).toBe(255);
      expect(a.stderr).toMatch(/answered only in part.*outcome is unknown/);
    }
  });

  test('interrupted while waiting: never sent; interrupted in flight: the batch gets the signal', async () => {
    const host = localHost();
    const b = new ScriptBatcher(host.run, 5, 'h');
    const stop = new AbortController();
    const gone = b.run('echo never', { signal: stop.signal });
    const kept = b.run('echo kept');
    stop.abort();
    await expect(gone).rejects.toThrow('h: interrupted');
    expect(await kept).toEqual({ code: 0, stdout: 'kept\n', stderr: '' });
    expect(host.trips.map((t) => t.script)).toEqual(['echo kept']);

    let seen: AbortSignal | undefined;
    const stop2 = new AbortController();
    const b2 = new ScriptBatcher(
      (_s, o) => {
        seen = o.signal;
        return new Promise((_r, reject) =>
          o.signal?.addEventListener('abort', () => reject(new Error('h: interrupted'))),
        );
      },
      5,
      'h',
    );
    const both = Promise.allSettled([b2.run('a', { signal: stop2.signal }), b2.run('b', { signal: stop2.signal })]);
    await new Promise((r) => setTimeout(r, 10));
    expect(seen?.aborted).toBe(false);
    stop2.abort();
    expect((await both).map((x) => x.status)).toEqual(['rejected', 'rejected']);
  });

  test('closing answers what still waits, and takes nothing more', async () => {
    const host = localHost();
    const b = new ScriptBatcher(host.run, 50, 'h');
    const waiting = b.run('echo 1');
    b.close();
    await expect(waiting).rejects.toThrow('connection pool is closed');
    await expect(b.run('echo 2')).rejects.toThrow('connection pool is closed');
    expect(host.trips).toHaveLength(0);
  });

  test('the window comes from CALICO_BATCH_WINDOW_MS; a bad value is refused by name', () => {
    expect(batchWindowFromEnv({})).toBe(5);
    expect(batchWindowFromEnv({ CALICO_BATCH_WINDOW_MS: '0' })).toBe(0);
    expect(batchWindowFromEnv({ CALICO_BATCH_WINDOW_MS: '12' })).toBe(12);
    expect(() => batchWindowFromEnv({ CALICO_BATCH_WINDOW_MS: 'soon' })).toThrow(/CALICO_BATCH_WINDOW_MS.*"soon"/);
    expect(() => batchWindowFromEnv({ CALICO_BATCH_WINDOW_MS: '-1' })).toThrow(/CALICO_BATCH_WINDOW_MS/);
  });
});
