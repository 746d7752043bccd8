/**
 * Start-up benchmark: process start → handshake line, launched with the environment Terraform
 * sets (magic cookie, protocol versions, a real client certificate for AutoMTLS).
 *
 *   node dist/bench/startup.js [runs] [entry.js]
 *
 * Default entry: dist/providers/main.js (the calico provider) when it exists, else the minimal
 * provider next to this file.
 */
import * as fs from 'fs';
import * as path from 'path';
import { launchProvider } from '../test/support/launch-provider';
import { median } from './measure';

export function defaultEntry(): string {
  const calico = path.resolve(__dirname, '..', 'providers', 'main.js');
  return fs.existsSync(calico) ? calico : path.resolve(__dirname, '..', 'test', 'support', 'minimal-provider.js');
}

export async function measureStartup(runs: number, entry: string = defaultEntry()): Promise<{ medianMs: number; runsMs: number[] }> {
  const runsMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const p = await launchProvider(entry, { tls: true });
    runsMs.push(Math.round(p.startupMs * 10) / 10);
    await p.kill();
  }
  return { medianMs: median(runsMs), runsMs };
}

if (require.main === module) {
  const runs = Math.max(7, Number(process.argv[2]) || 9);
  const entry = process.argv[3] ? path.resolve(process.argv[3]) : defaultEntry();
  measureStartup(runs, entry).then(
    ({ medianMs, runsMs }) => {
      process.stdout.write(`entry: ${entry}\nruns (ms): ${runsMs.join(', ')}\nmedian: ${medianMs} ms\n`);
    },
    (err) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
