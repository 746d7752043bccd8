/**
 * End-to-end tests need root, terraform, bird, sshd, iproute2 and ping. When one is missing
 * they fail with a message saying what to install; they never skip.
 */
import { spawnSync } from 'child_process';

const TOOLS: [string, string][] = [
  ['terraform', 'Terraform 1.11 on PATH'],
  ['bird', 'apt-get install -y bird2'],
  ['birdc', 'apt-get install -y bird2'],
  ['/usr/sbin/sshd', 'apt-get install -y openssh-server'],
  ['ssh-keygen', 'apt-get install -y openssh-client'],
  ['ip', 'apt-get install -y iproute2'],
  ['ping', 'apt-get install -y iputils-ping'],
  ['nsenter', 'apt-get install -y util-linux'],
];

export function assertE2ePrerequisites(): void {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (the lab creates network namespaces): run the tests as root');
  for (const [tool, install] of TOOLS) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).status === 0;
    if (!found) missing.push(`${tool} (${install})`);
  }
  if (missing.length > 0) {
    throw new Error(`end-to-end prerequisites missing:\n  - ${missing.join('\n  - ')}`);
  }
}
