/**
 * The start-up measurement the benchmark relies on works: the provider is launched with the
 * environment Terraform sets (AutoMTLS on) and answers with a handshake line every time.
 * The time itself is a benchmark figure (`npm run bench`), not a test assertion.
 */
import * as path from 'path';
import { measureStartup } from '../../bench/startup';
import { REPO } from './provider-process';

test('the runtime starts and prints its handshake line on every run', async () => {
  const { medianMs, runsMs } = await measureStartup(3, path.join(REPO, 'dist', 'test', 'support', 'minimal-provider.js'));
  expect(runsMs).toHaveLength(3);
  for (const ms of runsMs) expect(ms).toBeGreaterThan(0);
  expect(medianMs).toBe([...runsMs].sort((a, b) => a - b)[1]);
});
