/**
 * Provider RPCs driven directly over gRPC against the compiled fixture (what Terraform cannot be
 * made to send on purpose).
 *
 * SIGINT and StopProvider abort the AbortSignal handed to handlers (in-flight apply of the
 * fixture's SLOW content waits for it), and the process survives SIGINT. Also covers the error
 * answer of ApplyResourceChange on create (null state + diagnostic with attribute path).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { launchProvider, LaunchedProvider } from '../support/launch-provider';
import { decodeMsgpack, encodeMsgpack } from '../../providers/runtime/codec';
import { ObjectValue } from '../../providers/runtime/resource';
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
  await call(c.provider, 'ConfigureProvider', { terraform_version: '1.11.4', config: { msgpack: encodeMsgpack(configBlock, { label: 'abort' }) } });
  const block = fileSchema.block;
  const apply = call(c.provider, 'ApplyResourceChange', {
    type_name: 'rtfixture_file',
    prior_state: { msgpack: encodeMsgpack(block, null) },
    planned_state: { msgpack: encodeMsgpack(block, slowPlan(name)) },
    config: { msgpack: encodeMsgpack(block, slowPlan(name)) },
  }, 15000);
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

test('private state is echoed; state upgrade maps JSON onto the schema; data sources answer with a diagnostic', async () => {
  const p = await launchProvider(fixture.entry, { tls: true });
  launched.push(p);
  const c = connect(p);
  const block = fileSchema.block;
  fs.writeFileSync(path.join(tmp, 'r.txt'), 'abc');
  const state: ObjectValue = { id: path.join(tmp, 'r.txt'), content: 'abc', sha256: 'old', tag: null, lines: null, location: { dir: tmp, name: 'r.txt' } };
  await call(c.provider, 'ConfigureProvider', { config: { msgpack: encodeMsgpack(configBlock, { label: null }) } });

  const read = await call(c.provider, 'ReadResource', { type_name: 'rtfixture_file', current_state: { msgpack: encodeMsgpack(block, state) }, private: Buffer.from('opaque') });
  expect(Buffer.from(read.private).toString()).toBe('opaque');
  expect(decodeMsgpack(block, read.new_state.msgpack)).toMatchObject({ content: 'abc', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });

  const plan = await call(c.provider, 'PlanResourceChange', {
    type_name: 'rtfixture_file',
    prior_state: { msgpack: encodeMsgpack(block, state) },
    proposed_new_state: { msgpack: encodeMsgpack(block, { ...state, location: { dir: tmp, name: 'other.txt' } }) },
    config: { msgpack: encodeMsgpack(block, { ...state, id: null, sha256: null, location: { dir: tmp, name: 'other.txt' } }) },
    prior_private: Buffer.from('p2'),
  });
  expect(Buffer.from(plan.planned_private).toString()).toBe('p2');
  expect(plan.requires_replace).toEqual([{ steps: [{ attribute_name: 'location' }, { attribute_name: 'name' }] }]);

  const upgraded = await call(c.provider, 'UpgradeResourceState', {
    type_name: 'rtfixture_file',
    version: 0,
    raw_state: { json: Buffer.from(JSON.stringify({ id: 'i', content: 'c', dropped: 1, location: { dir: '/d', name: 'n' } })) },
  });
  expect(upgraded.diagnostics ?? []).toEqual([]);
  expect(decodeMsgpack(block, upgraded.upgraded_state.msgpack)).toEqual({ id: 'i', content: 'c', sha256: null, tag: null, lines: null, location: { dir: '/d', name: 'n' } });

  const newer = await call(c.provider, 'UpgradeResourceState', { type_name: 'rtfixture_file', version: 3, raw_state: { json: Buffer.from('{}') } });
  expect(newer.diagnostics[0]).toMatchObject({ severity: 1, summary: 'State from a newer provider' });

  const ds = await call(c.provider, 'ValidateDataResourceConfig', { type_name: 'rtfixture_nothing' });
  expect(ds.diagnostics[0]).toMatchObject({ severity: 1, summary: 'Unknown data source "rtfixture_nothing"' });
  const unknownType = await call(c.provider, 'ReadResource', { type_name: 'rtfixture_nope' });
  expect(unknownType.diagnostics[0].summary).toMatch(/Unknown resource type/);
  c.close();
});
