import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** Where terraform and cdktf write outside a project unless told not to. */
export function terraformHome(): string {
  return path.join(os.homedir(), '.terraform.d');
}

/**
 * Nothing outside the project: a test run that creates ~/.terraform.d ran terraform or cdktf
 * without CHECKPOINT_DISABLE (Terraform then also calls HashiCorp's version-check service, which
 * a lab must never reach) or without CDKTF_DISABLE_PLUGIN_CACHE_ENV. The directory is left for
 * inspection; remove it before the next run.
 */
export default function globalTeardown(): void {
  const before = (globalThis as { terraformHomeBefore?: boolean }).terraformHomeBefore;
  const dir = terraformHome();
  if (before === false && fs.existsSync(dir)) {
    const entries = fs.readdirSync(dir);
    throw new Error(
      `the test run created ${dir} (holding: ${entries.join(', ') || 'nothing'}): some terraform or cdktf run ` +
        'lacks CHECKPOINT_DISABLE=1 or CDKTF_DISABLE_PLUGIN_CACHE_ENV=1 (see automationEnv in cli/operator-project.ts)',
    );
  }
}
