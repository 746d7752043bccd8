/**
 * go-plugin transport of the runtime, against the compiled minimal provider: handshake, AutoMTLS
 * (client certificate really verified), plaintext without PLUGIN_CLIENT_CERT, run-by-hand refusal,
 * SIGINT survival, Shutdown = reply then exit.
 */
import { spawnSync } from 'child_process';
import { X509Certificate } from 'crypto';
import * as fs from 'fs';
import { launchProvider, LaunchedProvider } from '../support/launch-provider';
import { generateSelfSignedCertificate, toPem } from '../../providers/runtime/certificate';
import { call, connect, MINIMAL_PROVIDER } from './provider-process';
import { waitFor } from '../../lab/process';

const launched: LaunchedProvider[] = [];
async function launch(opts: Parameters<typeof launchProvider>[1] = {}): Promise<LaunchedProvider> {
  const p = await launchProvider(MINIMAL_PROVIDER, opts);
  launched.push(p);
  return p;
}
afterAll(async () => {
  await Promise.all(launched.map((p) => p.kill()));
});

test('run by hand (no magic cookie): a short human message on stderr, exit 1, nothing on stdout', () => {
  const env = { ...process.env };
  delete env.TF_PLUGIN_MAGIC_COOKIE;
  const r = spawnSync(process.execPath, [MINIMAL_PROVIDER], { env, encoding: 'utf8', timeout: 10000 });
  expect(r.status).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/not meant to be run by hand/);
});

test('AutoMTLS: handshake carries an unpadded base64 server certificate for localhost', async () => {
  const p = await launch({ tls: true });
  expect(p.rawHandshake).toMatch(/^1\|6\|unix\|\/[^|]+\|grpc\|[A-Za-z0-9+/]+$/);
  const cert = new X509Certificate(p.handshake.certDer!);
  expect(cert.checkHost('localhost')).toBe('localhost');
  expect(cert.verify(cert.publicKey)).toBe(true);
  expect(new Date(cert.validFrom).getTime()).toBeLessThanOrEqual(Date.now());
  expect(fs.statSync(p.handshake.address).isSocket()).toBe(true);
});

test('AutoMTLS: the client certificate from PLUGIN_CLIENT_CERT is accepted, any other refused', async () => {
  const p = await launch({ tls: true });

  const good = connect(p);
  const schema = await call(good.provider, 'GetProviderSchema');
  expect(Object.keys(schema.resource_schemas)).toEqual(['minimal_thing']);
  const health = await call(good.health, 'Check', { service: 'plugin' });
  expect(health.status).toBe(1); // SERVING
  good.close();

  const stranger = connect(p, generateSelfSignedCertificate());
  await expect(call(stranger.provider, 'GetProviderSchema', {}, 3000)).rejects.toMatchObject({
    code: 14 /* UNAVAILABLE */,
  });
  stranger.close();

  const anonymous = connect(p, null);
  await expect(call(anonymous.provider, 'GetProviderSchema', {}, 3000)).rejects.toMatchObject({ code: 14 });
  anonymous.close();
});

test('plaintext when PLUGIN_CLIENT_CERT is absent: no cert field, RPCs work', async () => {
  const p = await launch({ tls: false });
  expect(p.rawHandshake).toMatch(/^1\|6\|unix\|\/[^|]+\|grpc$/);
  const c = connect(p);
  const meta = await call(c.provider, 'GetMetadata');
  expect(meta.resources).toEqual([{ type_name: 'minimal_thing' }]);
  const fns = await call(c.provider, 'GetFunctions');
  expect(fns.functions ?? {}).toEqual({});
  c.close();
});

test('SIGINT does not kill the provider; Shutdown replies, then the process exits', async () => {
  const p = await launch({ tls: true });
  const c = connect(p);
  await call(c.provider, 'GetMetadata');
  p.child.kill('SIGINT');
  // Wait until the provider has handled the signal (it logs it), then prove it is still serving.
  expect(await waitFor(async () => /SIGINT received/.test(p.stderr()), 10_000)).toBe(true);
  expect(p.child.exitCode).toBeNull();
  expect(p.child.signalCode).toBeNull();
  await expect(call(c.provider, 'GetMetadata')).resolves.toMatchObject({ resources: [{ type_name: 'minimal_thing' }] });
  const stop = await call(c.provider, 'StopProvider');
  expect(stop.Error ?? '').toBe('');

  const exited = new Promise<number | null>((resolve) => p.child.once('exit', (code) => resolve(code)));
  await expect(call(c.controller, 'Shutdown')).resolves.toEqual({});
  expect(await exited).toBe(0);
  c.close();
  expect(fs.existsSync(p.handshake.address)).toBe(false);
  // Logs are hclog JSON lines on stderr.
  const lines = p.stderr().trim().split('\n').filter(Boolean);
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) {
    const entry = JSON.parse(line);
    expect(entry['@level']).toMatch(/^(trace|debug|info|warn|error)$/);
    expect(entry['@timestamp']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  }
  expect(p.stderr()).toMatch(/SIGINT/);
});

test('a client certificate PEM round-trips through toPem', () => {
  const c = generateSelfSignedCertificate();
  expect(toPem('CERTIFICATE', c.der)).toBe(c.certPem);
});
