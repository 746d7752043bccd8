/**
 * End-to-end tests need what the lab needs plus terraform and ping. When one is missing they
 * fail with a message saying what to install; they never skip.
 */
import { missingPrerequisites } from '../../lab';

export async function assertE2ePrerequisites(): Promise<void> {
  const missing = await missingPrerequisites([
    ['terraform', 'Terraform 1.11 on PATH'],
    ['ping', 'apt-get install -y iputils-ping'],
  ]);
  if (missing.length > 0) throw new Error(`end-to-end prerequisites missing:\n  - ${missing.join('\n  - ')}`);
}
