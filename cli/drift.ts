/**
 * `calico-net drift [--stack S] [--format md|json] [--out FILE] [--dir PROJECT] [--skip-synth]`
 *
 * Synthesizes the app (as cdktf would), runs a refresh-only plan against the hosts and reports
 * what drifted. Exit 0 = no drift, 2 = drift, 1 = error.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { inventoryPathFrom } from './cluster-hosts';
import { driftReportFromPlan, renderDriftMarkdown, DriftReport } from './drift-report';
import { Progress } from './progress';
import { runTerraform, terraformErrorText } from './terraform';
import { synthesizeProject, stackDirectory } from './project';

export interface DriftOptions {
  projectDir: string;
  /** The inventory the app synthesizes from (CALICO_INVENTORY for the app); default: the environment's. */
  inventory?: string;
  stack?: string;
  format: 'md' | 'json';
  out?: string;
  skipSynth: boolean;
}

export async function detectDrift(options: DriftOptions, progress: Progress): Promise<DriftReport> {
  if (!options.skipSynth) {
    progress.step('synthesizing the app');
    await synthesizeProject(options.projectDir, options.inventory);
  }
  const { stack, dir } = stackDirectory(options.projectDir, options.stack);

  if (!fs.existsSync(path.join(dir, '.terraform'))) {
    progress.step(`terraform init (${stack})`);
    const init = await runTerraform(['init', '-input=false', '-no-color'], { cwd: dir });
    if (init.code !== 0) throw new Error(`terraform init failed:\n${terraformErrorText(init)}`);
  }

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-drift-'));
  try {
    const planFile = path.join(tmp, 'refresh.tfplan');
    progress.step(`refreshing every resource of ${stack} from its host`);
    const plan = await runTerraform(
      ['plan', '-refresh-only', '-input=false', '-no-color', '-lock-timeout=120s', `-out=${planFile}`],
      { cwd: dir, onStderr: (chunk) => progress.detail(chunk) },
    );
    if (plan.code !== 0) throw new Error(`refresh-only plan failed:\n${terraformErrorText(plan)}`);
    const show = await runTerraform(['show', '-json', '-no-color', planFile], { cwd: dir });
    if (show.code !== 0) throw new Error(`terraform show failed:\n${terraformErrorText(show)}`);
    return driftReportFromPlan(JSON.parse(show.stdout), stack);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export async function driftCommand(argv: string[]): Promise<number> {
  const options = parseDriftArgs(argv);
  const progress = new Progress('drift');
  let report: DriftReport;
  try {
    report = await detectDrift(options, progress);
  } catch (err) {
    process.stderr.write(`calico-net drift: ${(err as Error).message}\n`);
    return 1;
  }
  const text = options.format === 'json' ? JSON.stringify(report, null, 2) + '\n' : renderDriftMarkdown(report);
  if (options.out) fs.writeFileSync(options.out, text);
  else process.stdout.write(text);
  progress.done(report.drifted ? `drift found in ${report.resources.length} resource(s)` : 'no drift');
  return report.drifted ? 2 : 0;
}

function parseDriftArgs(argv: string[]): DriftOptions {
  const options: DriftOptions = { projectDir: process.cwd(), format: 'md', skipSynth: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--stack') options.stack = value();
    else if (arg === '--inventory') options.inventory = inventoryPathFrom(['--inventory', value()]);
    else if (arg === '--format') {
      const f = value();
      if (f !== 'md' && f !== 'json') throw new Error(`--format must be md or json, not "${f}"`);
      options.format = f;
    } else if (arg === '--out') options.out = value();
    else if (arg === '--dir') options.projectDir = path.resolve(value());
    else if (arg === '--skip-synth') options.skipSynth = true;
    else throw new Error(`unknown option "${arg}" (usage: calico-net drift [--inventory FILE] [--stack S] [--format md|json] [--out FILE] [--dir PROJECT] [--skip-synth])`);
  }
  return options;
}
