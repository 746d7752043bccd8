/**
 * Running the terraform CLI from our commands (drift, gates): non-interactive, no colour,
 * output captured, and a clear error when terraform itself is missing.
 */
import { spawn } from 'child_process';

export interface TerraformResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runTerraform(
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; onStderr?: (chunk: string) => void },
): Promise<TerraformResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.env.TERRAFORM_BINARY_NAME || 'terraform', args, {
      cwd: options.cwd,
      env: { ...process.env, TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      options.onStderr?.(d);
    });
    child.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'ENOENT'
          ? new Error('terraform is not on PATH: install Terraform 1.11 (https://developer.hashicorp.com/terraform/install)')
          : err,
      ),
    );
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** Terraform's own error text without the noise of the missing-CLI-config warning. */
export function terraformErrorText(result: TerraformResult): string {
  return (result.stderr + result.stdout)
    .replace(/There are some problems with the CLI configuration:[\s\S]*?does not exist\.\s*╵?/g, '')
    .trim();
}
