/**
 * Start-up benchmark: process start → handshake line, launched with the environment Terraform
 * sets (magic cookie, protocol versions, a real client certificate for AutoMTLS).
 *
 *   node dist/bench/startup.js [runs] [entry.js]
 *
 * Default entry: dist/providers/start.js (what Terraform's shim runs: the one-file bundle when it
 * is current) when it exists, else the minimal provider next to this file. `npm run bench` also
 * measures dist/providers/main.js (the unbundled modules) for comparison.
 */
import * as fs from 'fs';
import * as path from 'path';
import { launchProvider } from '../test/support/launch-provider';
import { median } from './measure';

export function defaultEntry(): string {
  const calico = path.resolve(__dirname, '..', 'providers', 'start.js');
  return fs.existsSync(calico) ? calico : path.resolve(__dirname, '..', 'test', 'support', 'minimal-provider.js');
}

export async function measureStartup(
  runs: number,
  entry: string = defaultEntry(),
): Promise<{ medianMs: number; runsMs: number[]; medianCpuMs: number; cpuMs: number[] }> {
  const runsMs: number[] = [];
  const cpuMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const p = await launchProvider(entry, { tls: true });
    runsMs.push(Math.round(p.startupMs * 10) / 10);
    cpuMs.push(p.startupCpuMs ?? NaN);
    await p.kill();
  }
  return { medianMs: median(runsMs), runsMs, medianCpuMs: median(cpuMs), cpuMs };
}

/** The unbundled provider (every module loaded on its own): the figure before the bundle. */
export const unbundledEntry = (): string => path.resolve(__dirname, '..', 'providers', 'main.js');

if (require.main === module) {
  const runs = Math.max(7, Number(process.argv[2]) || 9);
  const entry = process.argv[3] ? path.resolve(process.argv[3]) : defaultEntry();
  measureStartup(runs, entry).then(
    ({ medianMs, runsMs, medianCpuMs, cpuMs }) => {
      process.stdout.write(`entry: ${entry}\nruns (ms): ${runsMs.join(', ')}\nmedian: ${medianMs} ms\n`);
      process.stdout.write(`CPU to handshake (ms): ${cpuMs.join(', ')}\nmedian CPU: ${medianCpuMs} ms\n`);
    },
    (err) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
