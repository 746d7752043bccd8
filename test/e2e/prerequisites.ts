/**
 * End-to-end tests need what the lab needs plus ping (scripts/prerequisites.json) and terraform.
 * When one is missing they fail with a message saying what to install; they never skip.
 */
import { spawnSync } from 'child_process';
import { missingPrerequisites } from '../../lab';

export async function assertE2ePrerequisites(): Promise<void> {
  const missing = missingPrerequisites('demo');
  if (spawnSync('sh', ['-c', 'command -v terraform']).status !== 0) missing.push('terraform (Terraform 1.11 on PATH)');
  if (missing.length > 0) throw new Error(`end-to-end prerequisites missing:\n  - ${missing.join('\n  - ')}`);
}
