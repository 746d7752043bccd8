/**
 * A cdktf project directory for driving a cluster from an inventory: its own cdktf.json whose
 * app is this package's compiled default app (stacks/main.js), so synthesized stacks and local
 * state live in that directory, not in the package. Used by the demo, the end-to-end tests and
 * the benchmark; a user does the same with their own project.
 */
import * as fs from 'fs';
import * as path from 'path';
import { packageRoot } from '../providers/package-root';

export const PACKAGE_ROOT = packageRoot();

export function writeOperatorProject(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const app = `${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(PACKAGE_ROOT, 'dist', 'stacks', 'main.js'))}`;
  const cdktfJson = {
    language: 'typescript',
    app,
    projectId: 'cdktf-calico-operator',
    sendCrashReports: 'false',
    terraformProviders: [],
    terraformModules: [],
  };
  fs.writeFileSync(path.join(dir, 'cdktf.json'), JSON.stringify(cdktfJson, null, 2) + '\n');
  return dir;
}

/** The cdktf CLI installed with this package. */
export function cdktfBinary(): string {
  return path.join(PACKAGE_ROOT, 'node_modules', '.bin', 'cdktf');
}

/** Environment for cdktf/terraform runs: no telemetry, no update checks, no prompts. */
export function automationEnv(inventoryPath: string): NodeJS.ProcessEnv {
  // A CLI config file that does not exist means "no settings", but terraform warns about it on
  // every call (and cdktf repeats each warning): say the same thing quietly with an empty file.
  const cliConfig = process.env.TF_CLI_CONFIG_FILE;
  const quietCliConfig = cliConfig && !fs.existsSync(cliConfig) ? { TF_CLI_CONFIG_FILE: '/dev/null' } : {};
  return {
    ...quietCliConfig,
    CALICO_INVENTORY: inventoryPath,
    CHECKPOINT_DISABLE: '1',
    CDKTF_DISABLE_PLUGIN_CACHE_ENV: '1',
    TF_IN_AUTOMATION: '1',
    CI: process.env.CI ?? '1',
    FORCE_COLOR: '0',
    NO_COLOR: '1',
  };
}
