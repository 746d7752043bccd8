/**
 * The calico provider's executable entry: Terraform runs it through the shim that npm install
 * puts in ~/.terraform.d/plugins. Hosts are reached through one ssh2 pool per process.
 */
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
    hostFor: (ssh, nodeName) => pool.host(sshTargetFromBlock(ssh), `${nodeName} (${String(ssh.host)})`),
    close: () => pool.close(),
  };
});

void serveProvider(provider);
