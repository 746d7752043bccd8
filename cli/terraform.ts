/**
 * Running the terraform CLI from our commands (drift, gates): non-interactive, no colour,
 * output captured, and a clear error when terraform itself is missing.
 */
import { run, RunResult } from '../lab/process';

export type TerraformResult = RunResult;

export async function runTerraform(
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; onStderr?: (chunk: string) => void },
): Promise<TerraformResult> {
  try {
    return await run(process.env.TERRAFORM_BINARY_NAME || 'terraform', args, {
      cwd: options.cwd,
      env: { ...process.env, TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1', ...options.env },
      onStderr: options.onStderr,
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(
        'terraform is not on PATH: install Terraform 1.11 (https://developer.hashicorp.com/terraform/install)',
        { cause: err },
      );
    }
    throw err;
  }
}

/** Terraform's own error text without the noise of the missing-CLI-config warning. */
export function terraformErrorText(result: TerraformResult): string {
  return (result.stderr + result.stdout)
    .replace(/There are some problems with the CLI configuration:[\s\S]*?does not exist\.\s*╵?/g, '')
    .trim();
}
