/**
 * The provider Terraform actually starts (dist/providers/start.js, the launcher of the one-file
 * bundle) comes up the
 * way Terraform expects: launched with Terraform's environment (AutoMTLS on), it prints a
 * go-plugin handshake line and serves the calico schema over it. The start-up benchmark launches
 * that same entry. How long start-up takes is a benchmark figure (`npm run bench`), not asserted.
 */
import { X509Certificate } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { providerEntry } from '../../providers/start';
import { launchProvider, LaunchedProvider } from '../support/launch-provider';
import { providerConfigSchema, resourceSchemas } from '../../providers/calico/schema';
import type { BlockSchema } from '../../providers/runtime/schema';
import { call, connect, REPO } from './provider-process';

const CALICO_ENTRY = path.join(REPO, 'dist', 'providers', 'start.js');

let p: LaunchedProvider | undefined;
afterAll(async () => {
  await p?.kill();
});

/** The parts of a served block Terraform relies on; proto3 leaves out false flags, hence `?? false`. */
interface ServedBlock {
  attributes?: {
    name: string;
    type: Buffer;
    required?: boolean;
    optional?: boolean;
    computed?: boolean;
    sensitive?: boolean;
  }[];
  block_types?: { type_name: string; block: ServedBlock }[];
}
function served(block: ServedBlock): unknown {
  return {
    attributes: Object.fromEntries(
      (block.attributes ?? []).map((a) => [
        a.name,
        {
          type: JSON.parse(Buffer.from(a.type).toString()),
          flags: [a.required ?? false, a.optional ?? false, a.computed ?? false, a.sensitive ?? false],
        },
      ]),
    ),
    blocks: Object.fromEntries((block.block_types ?? []).map((b) => [b.type_name, served(b.block)])),
  };
}
function declared(block: BlockSchema): unknown {
  return {
    attributes: Object.fromEntries(
      Object.entries(block.attributes).map(([name, a]) => [
        name,
        { type: a.type, flags: [!!a.required, !!a.optional, !!a.computed, !!a.sensitive] },
      ]),
    ),
    blocks: Object.fromEntries(Object.entries(block.blocks ?? {}).map(([name, b]) => [name, declared(b.block)])),
  };
}

test('the benchmark measures the calico provider, not a stand-in', () => {
  // The compiled bench, as `npm run bench` runs it (its default entry is relative to itself).
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the compiled dist/ file, not the source ts-jest would compile
  const bench = require(path.join(REPO, 'dist', 'bench', 'startup.js')) as typeof import('../../bench/startup');
  expect(bench.defaultEntry()).toBe(CALICO_ENTRY);
});

test("the launcher starts the one-file bundle, which the build (and this run's global setup) made from the current dist/", () => {
  const dir = path.join(REPO, 'dist', 'providers');
  expect(providerEntry(dir)).toBe(path.join(dir, 'provider.js'));
  expect(fs.statSync(path.join(dir, 'provider.js')).mtimeMs).toBeGreaterThanOrEqual(
    fs.statSync(path.join(dir, 'main.js')).mtimeMs,
  );
});

test('a bundle older than main.js (a build by tsc alone) is never run, nor a missing one', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-entry-'));
  try {
    fs.writeFileSync(path.join(dir, 'main.js'), '');
    expect(providerEntry(dir)).toBe(path.join(dir, 'main.js'));
    fs.writeFileSync(path.join(dir, 'provider.js'), '');
    fs.utimesSync(path.join(dir, 'provider.js'), new Date(1000), new Date(1000));
    expect(providerEntry(dir)).toBe(path.join(dir, 'main.js'));
    fs.utimesSync(path.join(dir, 'provider.js'), new Date(), new Date(Date.now() + 1000));
    expect(providerEntry(dir)).toBe(path.join(dir, 'provider.js'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the calico provider prints a go-plugin handshake line and serves the calico schema over it', async () => {
  p = await launchProvider(CALICO_ENTRY, { tls: true });
  // core 1 | tfplugin 6 | unix socket | grpc | server certificate (base64, no padding)
  expect(p.rawHandshake).toMatch(/^1\|6\|unix\|\/[^|]+\.sock\|grpc\|[A-Za-z0-9+/]+$/);
  expect(new X509Certificate(p.handshake.certDer!).checkHost('localhost')).toBe('localhost');

  const c = connect(p);
  try {
    const schema = await call(c.provider, 'GetProviderSchema');
    expect(schema.diagnostics ?? []).toEqual([]);
    expect(Object.keys(schema.resource_schemas).sort()).toEqual(Object.keys(resourceSchemas).sort());
    for (const [typeName, s] of Object.entries(resourceSchemas)) {
      expect([typeName, served(schema.resource_schemas[typeName].block)]).toEqual([typeName, declared(s.block)]);
      expect(schema.resource_schemas[typeName].version ?? 0).toBe(s.version);
    }
    expect(served(schema.provider.block)).toEqual(declared(providerConfigSchema.block));
  } finally {
    c.close();
  }
});
