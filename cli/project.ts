/**
 * A cdktf project on disk: cdktf.json's app command and the synthesized stacks under cdktf.out.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

interface CdktfJson {
  app: string;
  output?: string;
}

function readCdktfJson(projectDir: string): CdktfJson {
  const file = path.join(projectDir, 'cdktf.json');
  if (!fs.existsSync(file)) throw new Error(`no cdktf.json in ${projectDir} (use --dir PROJECT)`);
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as CdktfJson;
  if (typeof json.app !== 'string') throw new Error(`${file}: "app" is missing`);
  return json;
}

export function outputDirectory(projectDir: string): string {
  return path.resolve(projectDir, readCdktfJson(projectDir).output ?? 'cdktf.out');
}

/**
 * Runs the app the way `cdktf synth` does (same CDKTF_OUTDIR contract); `inventory` (an absolute
 * path) becomes the app's CALICO_INVENTORY.
 */
export function synthesizeProject(
  projectDir: string,
  inventory?: string,
  extraEnv: Record<string, string> = {},
): Promise<void> {
  const { app } = readCdktfJson(projectDir);
  const outdir = outputDirectory(projectDir);
  const env = {
    ...process.env,
    CDKTF_OUTDIR: outdir,
    ...(inventory ? { CALICO_INVENTORY: inventory } : {}),
    ...extraEnv,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(app, { cwd: projectDir, shell: true, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`synthesis failed (exit ${code}):\n${stderr.trim()}`)),
    );
  });
}

/** The synthesized stack to work on: the one named, or the only one there is. */
export function stackDirectory(projectDir: string, stack?: string): { stack: string; dir: string } {
  const stacksDir = path.join(outputDirectory(projectDir), 'stacks');
  const available = fs.existsSync(stacksDir) ? fs.readdirSync(stacksDir).sort() : [];
  if (stack === undefined) {
    if (available.length !== 1) {
      throw new Error(
        available.length === 0
          ? `no synthesized stack under ${stacksDir}: run cdktf synth or deploy first`
          : `several stacks (${available.join(', ')}): choose one with --stack`,
      );
    }
    stack = available[0];
  }
  if (!available.includes(stack)) {
    throw new Error(`no stack "${stack}" under ${stacksDir} (have: ${available.join(', ') || 'none'})`);
  }
  return { stack, dir: path.join(stacksDir, stack) };
}
