/**
 * The calico provider's executable entry: Terraform runs it through the shim that synthesis
 * puts in each stack's terraform.d/plugins (providers/install). Hosts are reached through one
 * ssh2 pool per process.
 */
import * as fs from 'fs';
import { serveProvider } from './runtime';
import { createCalicoProvider, sshTargetFromBlock } from './calico';
import { batchWindowFromEnv } from './ssh/batch';
import { SshPool } from './ssh/pool';

const provider = createCalicoProvider((settings) => {
  const pool = new SshPool({
    connectTimeoutMs: settings.connectTimeoutSeconds * 1000,
    connectRetries: settings.connectRetries,
    log: (message) => settings.log.debug(message),
    // Scripts Terraform applies at the same time on one host go as one round trip (issue 29).
    batchWindowMs: batchWindowFromEnv(),
  });
  return {
    // The label is the address alone: messages already name the node ("node n1 (198.18.0.1)").
    hostFor: (ssh) => pool.host(sshTargetFromBlock(ssh), ssh.host),
    close: () => {
      recordStats(pool.stats(), pool.shellStats(), pool.scriptStats(), pool.callStats());
      return pool.close();
    },
  };
});

void serveProvider(provider);

/**
 * For the benchmark: with CALICO_PROVIDER_STATS set, each provider process appends one JSON
 * line (connections opened, remote shells started, scripts run (round trips) and scripts asked for per host, peak memory, CPU time) to that file when
 * Terraform closes it.
 */
function recordStats(
  connections: Record<string, number>,
  shells: Record<string, number>,
  scripts: Record<string, number>,
  calls: Record<string, number>,
): void {
  const file = process.env.CALICO_PROVIDER_STATS;
  if (!file) return;
  const usage = process.resourceUsage();
  const cpuMs = Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000);
  const line = {
    pid: process.pid,
    connections,
    shells,
    scripts,
    calls,
    maxRssKb: ownPeakRssKb() ?? usage.maxRSS,
    cpuMs,
  };
  fs.appendFileSync(file, JSON.stringify(line) + '\n');
}

/**
 * This process's own peak RSS (VmHWM). Not getrusage's maxRSS: Terraform starts us with a
 * vfork-style clone, and the exec folds the peak of the memory it shared (Terraform's) into
 * ours. Measured at 8 nodes: 78 and 83 MB against VmHWMs of 67 and 72; at 128 nodes a provider
 * process that used 0.6 s of CPU read 155 MB.
 */
function ownPeakRssKb(): number | undefined {
  try {
    const m = /^VmHWM:\s*(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
