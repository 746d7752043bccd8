/** Running terraform from our commands: its output comes back, and a missing binary says what to install. */
import * as os from 'os';
import { runTerraform } from '../../cli/terraform';

test('terraform runs non-interactively with its output captured and stderr streamed', async () => {
  const r = await runTerraform(['version'], { cwd: os.tmpdir() });
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^Terraform v1\.\d+\.\d+/);
  const streamed: string[] = [];
  const bad = await runTerraform(['no-such-subcommand'], { cwd: os.tmpdir(), onStderr: (c) => streamed.push(c) });
  expect(bad.code).not.toBe(0);
  // Terraform names the unknown command on stderr: the captured text is real, not two empty strings.
  expect(bad.stderr).toMatch(/no command named "no-such-subcommand"/);
  expect(streamed.join('')).toBe(bad.stderr);
});

test('a missing terraform binary is an error that says how to get it', async () => {
  const saved = process.env.TERRAFORM_BINARY_NAME;
  process.env.TERRAFORM_BINARY_NAME = '/nonexistent/terraform';
  try {
    await expect(runTerraform(['version'], { cwd: os.tmpdir() })).rejects.toThrow(
      /terraform is not on PATH: install Terraform 1\.11/,
    );
  } finally {
    if (saved === undefined) delete process.env.TERRAFORM_BINARY_NAME;
    else process.env.TERRAFORM_BINARY_NAME = saved;
  }
});
