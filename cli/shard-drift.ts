/**
 * `calico-net drift` on a sharded cluster: one refresh-only plan per shard stack, all at once
 * (each shard has its own state and lock), merged into one report with one exit code. Every
 * drifted resource and every unreadable node carries the stack (shard) it belongs to, and a shard
 * whose plan failed is named with its error instead of passing for "no drift".
 */
import * as fs from 'fs';
import * as path from 'path';
import { shardsOf } from '../constructs/shards';
import { loadInventory } from '../stacks/inventory';
import { DriftReport, DriftedResource, renderDriftMarkdown, UnreadNode } from './drift-report';
import type { DriftOptions } from './drift';
import { Progress } from './progress';
import { synthesizeProject } from './project';

export interface ShardOutcome {
  stack: string;
  report?: DriftReport;
  error?: string;
}

export interface ShardedDriftReport {
  version: 1;
  /** The stacks' common pattern, `<cluster>-*`. */
  stack: string;
  sharded: true;
  drifted: boolean;
  resources: (DriftedResource & { stack: string })[];
  unreadable: (UnreadNode & { stack: string })[];
  /** Per shard: what its plan found, or why it failed. */
  shards: { stack: string; drifted: boolean; unreadable: string[]; error?: string }[];
}

export function mergeShardDrift(pattern: string, outcomes: ShardOutcome[]): ShardedDriftReport {
  const sorted = [...outcomes].sort((a, b) => a.stack.localeCompare(b.stack));
  const resources = sorted.flatMap((o) => (o.report?.resources ?? []).map((r) => ({ ...r, stack: o.stack })));
  return {
    version: 1,
    stack: pattern,
    sharded: true,
    drifted: resources.length > 0,
    resources,
    unreadable: sorted.flatMap((o) => (o.report?.unreadable ?? []).map((u) => ({ ...u, stack: o.stack }))),
    shards: sorted.map((o) => ({
      stack: o.stack,
      drifted: o.report?.drifted ?? false,
      unreadable: (o.report?.unreadable ?? []).map((u) => u.node),
      ...(o.error === undefined ? {} : { error: o.error }),
    })),
  };
}

/** 0 none, 2 drift, 1 when any shard failed or left a node unread (never "no drift" for it). */
export function shardDriftExitCode(report: ShardedDriftReport): number {
  if (report.shards.some((s) => s.error !== undefined) || report.unreadable.length > 0) return 1;
  return report.drifted ? 2 : 0;
}

/** One summary table (a line per shard), then each shard's own report under its stack's name. */
export function renderShardDriftMarkdown(report: ShardedDriftReport, outcomes: ShardOutcome[]): string {
  const out = [
    `# Drift report: ${report.shards.length} shard stacks \`${report.stack}\``,
    '',
    '| stack | result |',
    '|---|---|',
  ];
  for (const s of report.shards) {
    const nodes = [
      ...new Set(report.resources.filter((r) => r.stack === s.stack).map((r) => r.node ?? '(unknown node)')),
    ];
    const result =
      s.error !== undefined
        ? `**error**: ${s.error.split('\n')[0]}`
        : [
            s.drifted ? `**drift** on ${nodes.map((n) => `\`${n}\``).join(', ')}` : 'no drift',
            ...(s.unreadable.length > 0 ? [`**unreadable**: ${s.unreadable.map((n) => `\`${n}\``).join(', ')}`] : []),
          ].join('; ');
    out.push(`| \`${s.stack}\` | ${result.replace(/\|/g, '\\|')} |`);
  }
  out.push('');
  for (const o of [...outcomes].sort((a, b) => a.stack.localeCompare(b.stack))) {
    if (o.error !== undefined) {
      out.push(`## Stack \`${o.stack}\`: failed`, '', '```', o.error.trimEnd(), '```', '');
    } else if (o.report && (o.report.drifted || o.report.unreadable.length > 0)) {
      out.push(renderDriftMarkdown(o.report).trimEnd(), '');
    }
  }
  return out.join('\n');
}

/**
 * The shard stacks of the project's inventory (the app's CALICO_INVENTORY, else cluster.yaml in
 * the project), or [] when it is not sharded or cannot be read here (then drift works on the one
 * stack as before, and reports that stack's own problems).
 */
export function shardStacksOf(
  options: Pick<DriftOptions, 'projectDir' | 'inventory'>,
): { cluster: string; stacks: string[] } | null {
  const file = options.inventory ?? path.resolve(options.projectDir, process.env.CALICO_INVENTORY || 'cluster.yaml');
  if (!fs.existsSync(file)) return null;
  try {
    const cluster = loadInventory(file);
    const shards = shardsOf(cluster);
    return shards.length === 0 ? null : { cluster: cluster.name, stacks: shards.map((s) => s.stackName) };
  } catch {
    return null;
  }
}

/** Synthesizes once, plans every shard at once, prints the merged report; returns the exit code. */
export async function shardedDriftCommand(
  options: DriftOptions,
  shards: { cluster: string; stacks: string[] },
  detect: (options: DriftOptions, progress: Progress) => Promise<DriftReport>,
): Promise<number> {
  const progress = new Progress('drift');
  try {
    if (!options.skipSynth) {
      progress.step('synthesizing the app');
      await synthesizeProject(options.projectDir, options.inventory);
    }
  } catch (err) {
    process.stderr.write(`calico-net drift: ${(err as Error).message}\n`);
    return 1;
  }
  const outcomes: ShardOutcome[] = await Promise.all(
    shards.stacks.map((stack) =>
      detect({ ...options, stack, skipSynth: true }, progress).then(
        (report): ShardOutcome => ({ stack, report }),
        (err: Error): ShardOutcome => ({ stack, error: err.message }),
      ),
    ),
  );
  const report = mergeShardDrift(`${shards.cluster}-*`, outcomes);
  const text =
    options.format === 'json' ? JSON.stringify(report, null, 2) + '\n' : renderShardDriftMarkdown(report, outcomes);
  if (options.out) fs.writeFileSync(options.out, text);
  else process.stdout.write(text);
  for (const s of report.shards)
    if (s.error !== undefined) process.stderr.write(`calico-net drift: ${s.stack}: ${s.error}\n`);
  const code = shardDriftExitCode(report);
  progress.done(
    code === 0
      ? 'no drift in any shard'
      : code === 2
        ? `drift in ${report.shards
            .filter((s) => s.drifted)
            .map((s) => s.stack)
            .join(', ')}`
        : 'incomplete',
  );
  return code;
}
