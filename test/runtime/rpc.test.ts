/**
 * Provider RPCs driven directly over gRPC against the compiled fixture (what Terraform cannot be
 * made to send on purpose).
 *
 * SIGINT and StopProvider abort the AbortSignal handed to handlers (in-flight apply of the
 * fixture's SLOW content waits for it), and the process survives SIGINT. Also covers the error
 * answer of ApplyResourceChange on create (null state + diagnostic with attribute path), state
 * upgrades from an older schema version in JSON and legacy flatmap form, and ctx.warn.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { launchProvider, LaunchedProvider } from '../support/launch-provider';
import { decodeMsgpack, encodeMsgpack } from '../../providers/runtime/codec';
import { ObjectValue, Unknown } from '../../providers/runtime/resource';
import { fileSchema } from './fixture/file-resource';
import { call, connect } from './provider-process';
import { compileFixture } from './terraform-harness';
import { waitFor } from '../../lab/process';

let fixture: ReturnType<typeof compileFixture>;
let tmp: string;
const launched: LaunchedProvider[] = [];
beforeAll(() => {
  fixture = compileFixture();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-abort-'));
});
afterAll(async () => {
  await Promise.all(launched.map((p) => p.kill()));
  fixture.cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const configBlock = { attributes: { label: { type: 'string', optional: true, description: '' } } } as const;

function slowPlan(name: string): ObjectValue {
  return { id: null, content: 'SLOW', sha256: 'x', tag: null, lines: null, location: { dir: tmp, name } };
}

let slowRuns = 0;

async function startSlowApply(interrupt: (p: LaunchedProvider, c: ReturnType<typeof connect>) => Promise<void>) {
  const name = `slow-${++slowRuns}.txt`;
  const p = await launchProvider(fixture.entry, { tls: true });
  launched.push(p);
  const c = connect(p);
  await call(c.provider, 'ConfigureProvider', {
    terraform_version: '1.11.4',
    config: { msgpack: encodeMsgpack(configBlock, { label: 'abort' }) },
  });
  const block = fileSchema.block;
  const apply = call(
    c.provider,
    'ApplyResourceChange',
    {
      type_name: 'rtfixture_file',
      prior_state: { msgpack: encodeMsgpack(block, null) },
      planned_state: { msgpack: encodeMsgpack(block, slowPlan(name)) },
      config: { msgpack: encodeMsgpack(block, slowPlan(name)) },
    },
    15000,
  );
  const started = path.join(tmp, `${name}.started`);
  if (!(await waitFor(async () => fs.existsSync(started), 15_000))) throw new Error('the slow apply never started');
  await interrupt(p, c);
  const res = await apply;
  return { p, c, res, newState: decodeMsgpack(block, res.new_state?.msgpack) };
}

test('StopProvider aborts the signal of an in-flight apply', async () => {
  const { c, res, newState } = await startSlowApply(async (_p, c) => {
    const stop = await call(c.provider, 'StopProvider');
    expect(stop.Error ?? '').toBe('');
  });
  expect(res.diagnostics).toHaveLength(1);
  expect(res.diagnostics[0]).toMatchObject({
    severity: 1,
    summary: 'interrupted',
    detail: 'Terraform asked the provider to stop',
    attribute: { steps: [{ attribute_name: 'content' }] },
  });
  expect(newState).toBeNull(); // a failed create leaves no object
  c.close();
});

test('SIGINT aborts the signal and the provider keeps serving', async () => {
  const { p, c, res } = await startSlowApply(async (p) => {
    p.child.kill('SIGINT');
  });
  expect(res.diagnostics[0]).toMatchObject({ summary: 'interrupted', detail: 'interrupted (SIGINT)' });
  expect(p.child.exitCode).toBeNull();
  const meta = await call(c.provider, 'GetMetadata');
  expect(meta.resources).toEqual([{ type_name: 'rtfixture_file' }]);
  c.close();
});

async function configured(): Promise<ReturnType<typeof connect>> {
  const p = await launchProvider(fixture.entry, { tls: true });
  launched.push(p);
  const c = connect(p);
  await call(c.provider, 'ConfigureProvider', { config: { msgpack: encodeMsgpack(configBlock, { label: null }) } });
  return c;
}

test('private state is echoed; data sources and unknown types answer with a diagnostic', async () => {
  const c = await configured();
  const block = fileSchema.block;
  fs.writeFileSync(path.join(tmp, 'r.txt'), 'abc');
  const state: ObjectValue = {
    id: path.join(tmp, 'r.txt'),
    content: 'abc',
    sha256: 'old',
    tag: null,
    lines: null,
    location: { dir: tmp, name: 'r.txt' },
  };

  const read = await call(c.provider, 'ReadResource', {
    type_name: 'rtfixture_file',
    current_state: { msgpack: encodeMsgpack(block, state) },
    private: Buffer.from('opaque'),
  });
  expect(Buffer.from(read.private).toString()).toBe('opaque');
  expect(decodeMsgpack(block, read.new_state.msgpack)).toMatchObject({
    content: 'abc',
    sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
  });

  const plan = await call(c.provider, 'PlanResourceChange', {
    type_name: 'rtfixture_file',
    prior_state: { msgpack: encodeMsgpack(block, state) },
    proposed_new_state: { msgpack: encodeMsgpack(block, { ...state, location: { dir: tmp, name: 'other.txt' } }) },
    config: {
      msgpack: encodeMsgpack(block, { ...state, id: null, sha256: null, location: { dir: tmp, name: 'other.txt' } }),
    },
    prior_private: Buffer.from('p2'),
  });
  expect(Buffer.from(plan.planned_private).toString()).toBe('p2');
  expect(plan.requires_replace).toEqual([{ steps: [{ attribute_name: 'location' }, { attribute_name: 'name' }] }]);

  const ds = await call(c.provider, 'ValidateDataResourceConfig', { type_name: 'rtfixture_nothing' });
  expect(ds.diagnostics[0]).toMatchObject({ severity: 1, summary: 'Unknown data source "rtfixture_nothing"' });
  const unknownType = await call(c.provider, 'ReadResource', { type_name: 'rtfixture_nope' });
  expect(unknownType.diagnostics[0].summary).toMatch(/Unknown resource type/);
  c.close();
});

describe('UpgradeResourceState (the fixture is at schema version 1; version 0 had text, dir, name)', () => {
  const block = fileSchema.block;
  let c: ReturnType<typeof connect>;
  beforeAll(async () => (c = await configured()));
  afterAll(() => c.close());
  const upgrade = (version: number, raw: { json?: object; flatmap?: Record<string, string> }) =>
    call(c.provider, 'UpgradeResourceState', {
      type_name: 'rtfixture_file',
      version,
      raw_state: raw.json ? { json: Buffer.from(JSON.stringify(raw.json)) } : { flatmap: raw.flatmap },
    });
  const upgradedWarning = { severity: 2, summary: 'rtfixture_file state upgraded from schema version 0' };

  test('JSON state from version 0 runs upgradeState, and its warning comes back', async () => {
    const res = await upgrade(0, {
      json: { id: '/d/n', text: 'old text', sha256: 's', tag: 't', lines: ['a'], dir: '/d', name: 'n' },
    });
    expect(decodeMsgpack(block, res.upgraded_state.msgpack)).toEqual({
      id: '/d/n',
      content: 'old text',
      sha256: 's',
      tag: 't',
      lines: ['a'],
      location: { dir: '/d', name: 'n' },
    });
    expect(res.diagnostics).toEqual([expect.objectContaining(upgradedWarning)]);
  });

  test('legacy flatmap state from version 0 reaches upgradeState unflattened', async () => {
    const res = await upgrade(0, {
      flatmap: {
        id: '/d/n',
        text: 'flat text',
        'lines.#': '2',
        'lines.0': 'x',
        'lines.1': 'y.z',
        dir: '/d',
        name: 'n',
      },
    });
    expect(decodeMsgpack(block, res.upgraded_state.msgpack)).toEqual({
      id: '/d/n',
      content: 'flat text',
      sha256: null,
      tag: null,
      lines: ['x', 'y.z'],
      location: { dir: '/d', name: 'n' },
    });
    expect(res.diagnostics).toEqual([expect.objectContaining(upgradedWarning)]);
  });

  test('flatmap at the current version is mapped by the schema: a block stored as a list of one, an empty list, unknown keys dropped', async () => {
    const res = await upgrade(1, {
      flatmap: {
        id: 'i',
        content: 'c',
        'lines.#': '0',
        'location.#': '1',
        'location.0.dir': '/d',
        'location.0.name': 'n',
        gone: 'x',
        'gone_list.#': '1',
        'gone_list.0': 'y',
      },
    });
    expect(res.diagnostics ?? []).toEqual([]); // proto3: an empty list arrives absent
    expect(decodeMsgpack(block, res.upgraded_state.msgpack)).toEqual({
      id: 'i',
      content: 'c',
      sha256: null,
      tag: null,
      lines: [],
      location: { dir: '/d', name: 'n' },
    });
    // The object form of a single block ("location.dir") reads the same; an absent list is null.
    const objectForm = await upgrade(1, {
      flatmap: { id: 'i', content: 'c', 'location.dir': '/d', 'location.name': 'n' },
    });
    expect(decodeMsgpack(block, objectForm.upgraded_state.msgpack)).toEqual({
      id: 'i',
      content: 'c',
      sha256: null,
      tag: null,
      lines: null,
      location: { dir: '/d', name: 'n' },
    });
  });

  test('JSON at the current version maps onto the schema without running upgradeState', async () => {
    const res = await upgrade(1, { json: { id: 'i', content: 'c', dropped: 1, location: { dir: '/d', name: 'n' } } });
    expect(res.diagnostics ?? []).toEqual([]); // proto3: an empty list arrives absent
    expect(decodeMsgpack(block, res.upgraded_state.msgpack)).toEqual({
      id: 'i',
      content: 'c',
      sha256: null,
      tag: null,
      lines: null,
      location: { dir: '/d', name: 'n' },
    });
  });

  test('broken flatmap and newer versions are refused with an error diagnostic', async () => {
    const broken = await upgrade(1, { flatmap: { id: 'i', content: 'c', 'lines.#': 'many' } });
    expect(broken.diagnostics).toEqual([
      expect.objectContaining({
        severity: 1,
        summary: expect.stringMatching(/state upgrade failed: invalid count "many" for lines/),
      }),
    ]);
    const notAnObject = await call(c.provider, 'UpgradeResourceState', {
      type_name: 'rtfixture_file',
      version: 1,
      raw_state: { json: Buffer.from('["x"]') },
    });
    expect(notAnObject.diagnostics).toEqual([
      expect.objectContaining({ severity: 1, detail: 'stored state is an array, not an object' }),
    ]);
    const newer = await upgrade(3, { json: {} });
    expect(newer.diagnostics[0]).toMatchObject({ severity: 1, summary: 'State from a newer provider' });
  });
});

describe('ctx.warn: handler warnings come back as WARNING diagnostics', () => {
  const block = fileSchema.block;
  let c: ReturnType<typeof connect>;
  let dir: string;
  beforeAll(async () => {
    c = await configured();
    dir = fs.mkdtempSync(path.join(tmp, 'warn-'));
  });
  afterAll(() => c.close());
  const at = (name: string, content = 'x'): ObjectValue => ({
    id: path.join(dir, name),
    content,
    sha256: null,
    tag: null,
    lines: null,
    location: { dir, name },
  });

  test('from create (ApplyResourceChange), with the attribute it names, next to the new state', async () => {
    const planned: ObjectValue = {
      ...at('w.txt', 'WARN here'),
      id: Unknown,
      sha256: createHash('sha256').update('WARN here').digest('hex'),
    };
    const res = await call(c.provider, 'ApplyResourceChange', {
      type_name: 'rtfixture_file',
      prior_state: { msgpack: encodeMsgpack(block, null) },
      planned_state: { msgpack: encodeMsgpack(block, planned) },
      config: { msgpack: encodeMsgpack(block, { ...planned, id: null, sha256: null }) },
    });
    expect(res.diagnostics).toEqual([
      {
        severity: 2,
        summary: 'content mentions WARN',
        detail: `written to ${path.join(dir, 'w.txt')} all the same`,
        attribute: { steps: [{ attribute_name: 'content' }] },
      },
    ]);
    expect(decodeMsgpack(block, res.new_state.msgpack)).toMatchObject({
      id: path.join(dir, 'w.txt'),
      content: 'WARN here',
    });
    expect(fs.readFileSync(path.join(dir, 'w.txt'), 'utf8')).toBe('WARN here');
  });

  test('from read, and alongside the error when the handler fails after warning', async () => {
    fs.writeFileSync(path.join(dir, 'r.txt'), 'r');
    fs.mkdirSync(path.join(dir, 'a-directory'));
    fs.writeFileSync(path.join(dir, 'READ_WARNING'), 'the marker says so');
    try {
      const ok = await call(c.provider, 'ReadResource', {
        type_name: 'rtfixture_file',
        current_state: { msgpack: encodeMsgpack(block, at('r.txt', 'r')) },
      });
      expect(ok.diagnostics).toEqual([
        { severity: 2, summary: 'read of r.txt has a warning', detail: 'the marker says so' },
      ]);
      expect(decodeMsgpack(block, ok.new_state.msgpack)).toMatchObject({ content: 'r' });

      const failed = await call(c.provider, 'ReadResource', {
        type_name: 'rtfixture_file',
        current_state: { msgpack: encodeMsgpack(block, at('a-directory')) },
      });
      expect(failed.diagnostics.map((d: { severity: number; summary: string }) => [d.severity, d.summary])).toEqual([
        [2, 'read of a-directory has a warning'],
        [1, expect.stringMatching(/^rtfixture_file: read failed: EISDIR/)],
      ]);
      // The error answer still carries the prior state, so Terraform keeps the object.
      expect(decodeMsgpack(block, failed.new_state.msgpack)).toMatchObject({
        content: 'x',
        location: { name: 'a-directory' },
      });
    } finally {
      fs.rmSync(path.join(dir, 'READ_WARNING'));
    }
    const quiet = await call(c.provider, 'ReadResource', {
      type_name: 'rtfixture_file',
      current_state: { msgpack: encodeMsgpack(block, at('r.txt', 'r')) },
    });
    expect(quiet.diagnostics ?? []).toEqual([]);
  });
});
