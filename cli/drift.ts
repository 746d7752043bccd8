/**
 * `calico-net drift [--stack S] [--format md|json] [--out FILE] [--dir PROJECT] [--skip-synth]`
 *
 * Synthesizes the app (as cdktf would), runs a refresh-only plan against the hosts and reports
 * what drifted. Exit 0 = no drift, 2 = drift, 1 = error, including a node that could not be read
 * (the report then names it and why: "no drift" is never claimed for a host nobody read).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { inventoryPathFrom } from './cluster-hosts';
import { driftReportFromPlan, renderDriftMarkdown, DriftReport, UnreadNode } from './drift-report';
import { Progress } from './progress';
import { shardedDriftCommand, shardStacksOf } from './shard-drift';
import { driftOfReport } from './graph-command';
import { buildPicture } from './graph/picture';
import { pictureMermaid } from './graph/text-formats';
import { loadInventory } from '../stacks/inventory';
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
    // -json: the provider's warnings come as machine-readable diagnostics, and "Cannot reach
    // node …" among them means that node was not read at all (its state was kept as it was).
    const plan = await runTerraform(
      ['plan', '-refresh-only', '-input=false', '-no-color', '-json', '-lock-timeout=120s', `-out=${planFile}`],
      { cwd: dir, onStderr: (chunk) => progress.detail(chunk) },
    );
    const diagnostics = planDiagnostics(plan.stdout);
    if (plan.code !== 0) {
      const errors = diagnostics
        .filter((d) => d.severity === 'error')
        .map((d) => `${d.summary}\n${d.detail ?? ''}`.trim());
      throw new Error(`refresh-only plan failed:\n${errors.length ? errors.join('\n\n') : terraformErrorText(plan)}`);
    }
    const show = await runTerraform(['show', '-json', '-no-color', planFile], { cwd: dir });
    if (show.code !== 0) throw new Error(`terraform show failed:\n${terraformErrorText(show)}`);
    return driftReportFromPlan(JSON.parse(show.stdout), stack, unreadNodes(diagnostics));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export async function driftCommand(argv: string[]): Promise<number> {
  const options = parseDriftArgs(argv);
  // A sharded inventory without --stack: every shard, in parallel, in one report.
  const shards = options.stack === undefined ? shardStacksOf(options) : null;
  if (shards) return shardedDriftCommand(options, shards, detectDrift);
  const progress = new Progress('drift');
  let report: DriftReport;
  try {
    report = await detectDrift(options, progress);
  } catch (err) {
    process.stderr.write(`calico-net drift: ${(err as Error).message}\n`);
    return 1;
  }
  const text =
    options.format === 'json'
      ? JSON.stringify(report, null, 2) + '\n'
      : renderDriftMarkdown(report) + driftPicture(report, options);
  if (options.out) fs.writeFileSync(options.out, text);
  else process.stdout.write(text);
  if (report.unreadable.length > 0) {
    progress.done(`could not read ${report.unreadable.map((u) => u.node).join(', ')}`);
    // A gate must never pass on a host nobody looked at: an error, whatever else was found.
    return 1;
  }
  progress.done(report.drifted ? `drift found in ${report.resources.length} resource(s)` : 'no drift');
  return report.drifted ? 2 : 0;
}

/**
 * The cluster as a Mermaid picture with the drifted and unread nodes marked, for the Markdown
 * report (GitHub renders it in a pull-request comment). Sessions are not read here: the picture
 * says so. An inventory that cannot be loaded costs the picture, never the report.
 */
function driftPicture(report: DriftReport, options: DriftOptions): string {
  try {
    const inventory = options.inventory ?? inventoryPathFrom([]);
    const cluster = loadInventory(inventory);
    const picture = buildPicture(cluster, {
      drift: driftOfReport(report),
      notes: ['BGP sessions not read by drift (calico-net graph reads them)'],
    });
    return `\n### Cluster picture\n\n\`\`\`mermaid\n${pictureMermaid(picture)}\`\`\`\n`;
  } catch (err) {
    return `\n_No cluster picture: ${(err as Error).message.split('\n')[0]}_\n`;
  }
}

interface Diagnostic {
  severity: string;
  summary: string;
  detail?: string;
  address?: string;
}

/** The diagnostics of a `terraform plan -json` run (one JSON object per line). */
function planDiagnostics(stdout: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const msg = JSON.parse(line);
      if (msg.type === 'diagnostic' && msg.diagnostic) out.push(msg.diagnostic as Diagnostic);
    } catch {
      // not a JSON line (e.g. a CLI config warning): ignore
    }
  }
  return out;
}

/** Nodes the refresh could not read, from the provider's "Cannot reach node N (…)" warnings. */
function unreadNodes(diagnostics: Diagnostic[]): UnreadNode[] {
  const byKey = new Map<string, UnreadNode>();
  for (const d of diagnostics) {
    const m = /^Cannot reach node (\S+)/.exec(d.summary);
    if (!m) continue;
    const reason = `${d.summary}${d.detail ? `: ${d.detail.split('\n')[0]}` : ''}`;
    const entry = byKey.get(m[1]) ?? { node: m[1], resources: [], reason };
    if (d.address) entry.resources.push(d.address);
    byKey.set(m[1], entry);
  }
  return [...byKey.values()].sort((a, b) => a.node.localeCompare(b.node));
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
    else
      throw new Error(
        `unknown option "${arg}" (usage: calico-net drift [--inventory FILE] [--stack S] [--format md|json] [--out FILE] [--dir PROJECT] [--skip-synth])`,
      );
  }
  return options;
}
