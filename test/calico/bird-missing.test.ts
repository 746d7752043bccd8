/**
 * calico_bird_config's apply summary when the host's bird cannot check the file: `bird` missing
 * from the PATH the script runs with (e.g. sudo's secure_path) must be named as such, not read as
 * BIRD rejecting the configuration. The write script runs in a real local bash (no lab, no root
 * needed), against a config path in a scratch directory.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { birdConfigHandler } from '../../providers/calico';
import { ProviderError } from '../../providers/runtime/resource';
import { RemoteHost, RemoteResult } from '../../providers/ssh/types';
import { apply, contextFor, fullConfig } from './driver';

function localBash(pathVar: string): RemoteHost {
  return {
    label: 'local bash',
    run: (script, options) =>
      new Promise<RemoteResult>((resolve, reject) => {
        // --norc: node's stdio pipes are sockets, and bash would then read ~/.bashrc like under rshd.
        const child = spawn('bash', ['--norc', '-c', script], { env: { PATH: pathVar } });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
        child.stdin.end(options?.stdin ?? '');
      }),
  };
}

const fullPath = `/usr/sbin:/usr/bin:/sbin:/bin`;
let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bird-missing-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function configFor(content: string) {
  return fullConfig(
    birdConfigHandler,
    { node_name: 'n1', content, config_path: path.join(dir, 'bird.conf'), socket_path: path.join(dir, 'bird.ctl') },
    { host: 'local' },
  );
}

async function applyWith(pathVar: string, content: string): Promise<unknown> {
  const ctx = contextFor({ hostFor: () => localBash(pathVar) });
  return apply(birdConfigHandler, configFor(content), null, ctx).then(
    () => 'applied',
    (err: Error) => err,
  );
}

test('a precondition: this machine has bird in /usr/sbin, and /usr/bin:/bin has none', () => {
  expect(fs.existsSync('/usr/sbin/bird')).toBe(true);
  expect(['/usr/bin/bird', '/bin/bird'].filter((f) => fs.existsSync(f))).toEqual([]);
});

test('bird missing from the PATH: the error says bird was not found on the node, and nothing is written', async () => {
  const err = await applyWith('/usr/bin:/bin', 'router id 198.18.0.1;\n');
  expect(err).toBeInstanceOf(ProviderError);
  expect((err as ProviderError).summary).toBe(
    `Cannot check the new bird.conf on node n1: bird was not found on the PATH there; ${path.join(dir, 'bird.conf')} was left untouched`,
  );
  expect((err as ProviderError).options.detail).toMatch(/^bird: command not found on n1 \(PATH=\/usr\/bin:\/bin\)/);
  expect(fs.readdirSync(dir)).toEqual([]);
});

test('bird on the PATH and content it refuses: BIRD rejected, with its own words', async () => {
  const err = await applyWith(fullPath, 'this is not bird config\n');
  expect(err).toBeInstanceOf(ProviderError);
  expect((err as ProviderError).summary).toBe(
    `BIRD rejected the new configuration for node n1; ${path.join(dir, 'bird.conf')} was left untouched`,
  );
  expect((err as ProviderError).options.detail).toMatch(/\(new content\).*syntax error/i);
  expect(fs.readdirSync(dir)).toEqual([]);
});
