/**
 * The calico provider's executable entry: Terraform runs it through the shim that synthesis
 * puts in each stack's terraform.d/plugins (providers/install). Hosts are reached through one
 * ssh2 pool per process.
 */
import * as fs from 'fs';
import { serveProvider } from './runtime';
import { createCalicoProvider, sshTargetFromBlock } from './calico';
import { SshPool } from './ssh/pool';

const provider = createCalicoProvider((settings) => {
  const pool = new SshPool({
    connectTimeoutMs: settings.connectTimeoutSeconds * 1000,
    connectRetries: settings.connectRetries,
    log: (message) => settings.log.debug(message),
  });
  return {
    // The label is the address alone: messages already name the node ("node n1 (198.18.0.1)").
    hostFor: (ssh) => pool.host(sshTargetFromBlock(ssh), ssh.host),
    close: () => {
      recordStats(pool.stats(), pool.shellStats());
      return pool.close();
    },
  };
});

void serveProvider(provider);

/**
 * For the benchmark: with CALICO_PROVIDER_STATS set, each provider process appends one JSON
 * line (connections opened and remote shells started per host, peak memory, CPU time) to that file when
 * Terraform closes it.
 */
function recordStats(connections: Record<string, number>, shells: Record<string, number>): void {
  const file = process.env.CALICO_PROVIDER_STATS;
  if (!file) return;
  const usage = process.resourceUsage();
  const cpuMs = Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000);
  const line = { pid: process.pid, connections, shells, maxRssKb: usage.maxRSS, cpuMs };
  fs.appendFileSync(file, JSON.stringify(line) + '\n');
}
