import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { packageRoot } from '../../providers/package-root';

export interface SynthResult {
  code: number;
  stderr: string;
  outdir: string;
  /** cdk.tf.json of the one stack written, or null when none was. */
  stack: any | null;
}

/** Runs the real default app (compiled) on an inventory file, as cdktf synth does. */
export function synthInventory(inventoryPath: string): SynthResult {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-synth-'));
  const r = spawnSync(process.execPath, [path.join(packageRoot(), 'dist', 'stacks', 'main.js')], {
    env: { ...process.env, CALICO_INVENTORY: inventoryPath, CDKTF_OUTDIR: outdir },
    encoding: 'utf8',
  });
  const stacksDir = path.join(outdir, 'stacks');
  const names = fs.existsSync(stacksDir) ? fs.readdirSync(stacksDir) : [];
  const stack =
    names.length === 1 ? JSON.parse(fs.readFileSync(path.join(stacksDir, names[0], 'cdk.tf.json'), 'utf8')) : null;
  return { code: r.status ?? -1, stderr: r.stderr, outdir, stack };
}

export function synthYaml(yamlText: string): SynthResult {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-inv-'));
  const file = path.join(dir, 'cluster.yaml');
  fs.writeFileSync(file, yamlText);
  return synthInventory(file);
}

/** bird.conf content per node name, from a synthesized stack. */
export function birdConfigs(stack: any): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of Object.values<any>(stack.resource.calico_bird_config ?? {})) out.set(r.node_name, r.content);
  return out;
}

/** Real bird2 in parse-only mode. */
export function birdParse(content: string): { code: number; output: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-birdp-'));
  const file = path.join(dir, 'bird.conf');
  fs.writeFileSync(file, content);
  const r = spawnSync('bird', ['-p', '-c', file], { encoding: 'utf8' });
  fs.rmSync(dir, { recursive: true, force: true });
  if (r.error) throw new Error(`cannot run bird (apt-get install -y bird2): ${r.error.message}`);
  return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}
