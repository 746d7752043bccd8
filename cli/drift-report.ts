/**
 * Turns a refresh-only plan (`terraform show -json <planfile>`) into a drift report: per node and
 * resource, each attribute whose value on the host differs from what the last apply left in
 * state. Drift lives in the plan's `resource_drift` (kept apart from planned `resource_changes`).
 *
 * The JSON form is a stable interface (version 1):
 * {
 *   "version": 1,
 *   "stack": string,
 *   "drifted": boolean,
 *   "resources": [{
 *     "address": string,            // Terraform address, e.g. calico_node.node1_node_ABC
 *     "type": string,               // calico_node | calico_bird_config | calico_workload
 *     "node": string | null,        // node the resource lives on
 *     "workload": string | null,    // for calico_workload
 *     "action": "update" | "delete",// delete = the object is gone from the host
 *     "attributes": [{
 *       "path": string,             // dotted, e.g. "proxy_arp" or "ssh.host"
 *       "expected": unknown,        // value in state (what the last apply established)
 *       "actual": unknown,          // value found on the host; "(sensitive)" when masked
 *       "diff"?: string             // unified diff for multi-line text values
 *     }]
 *   }],
 *   "unreadable": [{                // nodes the refresh could not read: their state was kept,
 *     "node": string,               // so nothing is known about them; the command exits 1
 *     "resources": string[],        // addresses whose refresh was skipped
 *     "reason": string
 *   }]
 * }
 */
import { unifiedDiff } from './unified-diff';

export interface DriftedAttribute {
  path: string;
  expected: unknown;
  actual: unknown;
  diff?: string;
}

export interface DriftedResource {
  address: string;
  type: string;
  node: string | null;
  workload: string | null;
  action: 'update' | 'delete';
  attributes: DriftedAttribute[];
}

export interface UnreadNode {
  node: string;
  resources: string[];
  reason: string;
}

export interface DriftReport {
  version: 1;
  stack: string;
  drifted: boolean;
  resources: DriftedResource[];
  unreadable: UnreadNode[];
}

interface PlanJsonChange {
  actions: string[];
  before: unknown;
  after: unknown;
  before_sensitive?: unknown;
  after_sensitive?: unknown;
}

interface PlanJson {
  resource_drift?: { address: string; type: string; change: PlanJsonChange }[];
}

const SENSITIVE = '(sensitive)';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObject(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Leaf differences between two JSON values, with dotted paths. */
function differences(before: unknown, after: unknown, sensitive: unknown, path: string, out: DriftedAttribute[]): void {
  if (sensitive === true) {
    if (JSON.stringify(before) !== JSON.stringify(after)) {
      out.push({ path, expected: SENSITIVE, actual: SENSITIVE });
    }
    return;
  }
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    for (const key of keys) {
      const s = isObject(sensitive) ? sensitive[key] : undefined;
      differences(before[key], after[key], s, path ? `${path}.${key}` : key, out);
    }
    return;
  }
  if (JSON.stringify(before ?? null) === JSON.stringify(after ?? null)) return;
  const attribute: DriftedAttribute = { path, expected: before ?? null, actual: after ?? null };
  if (typeof before === 'string' && typeof after === 'string' && /\n/.test(before + after)) {
    attribute.diff = unifiedDiff(before, after, {
      before: `${path} (expected)`,
      after: `${path} (on host)`,
    });
  }
  out.push(attribute);
}

function mergeSensitivity(a: unknown, b: unknown): unknown {
  if (a === true || b === true) return true;
  if (isObject(a) || isObject(b)) {
    const keys = new Set([...Object.keys(isObject(a) ? a : {}), ...Object.keys(isObject(b) ? b : {})]);
    const merged: Record<string, unknown> = {};
    for (const k of keys) {
      merged[k] = mergeSensitivity(isObject(a) ? a[k] : undefined, isObject(b) ? b[k] : undefined);
    }
    return merged;
  }
  return undefined;
}

export function driftReportFromPlan(plan: PlanJson, stack: string, unreadable: UnreadNode[] = []): DriftReport {
  const resources: DriftedResource[] = [];
  for (const drift of plan.resource_drift ?? []) {
    const { change } = drift;
    const before = isObject(change.before) ? change.before : {};
    const gone = change.after === null || change.actions.includes('delete');
    const attributes: DriftedAttribute[] = [];
    if (!gone) {
      const sensitive = mergeSensitivity(change.before_sensitive, change.after_sensitive);
      differences(change.before, change.after, sensitive, '', attributes);
    }
    if (!gone && attributes.length === 0) continue;
    const workload = drift.type === 'calico_workload' ? ((before.name as string) ?? null) : null;
    const node =
      (before.node_name as string) ?? (drift.type === 'calico_node' ? (before.name as string) : null) ?? null;
    resources.push({
      address: drift.address,
      type: drift.type,
      node,
      workload,
      action: gone ? 'delete' : 'update',
      attributes,
    });
  }
  resources.sort((a, b) => `${a.node}\0${a.address}`.localeCompare(`${b.node}\0${b.address}`));
  return { version: 1, stack, drifted: resources.length > 0, resources, unreadable };
}

function inline(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return '`' + text.replace(/`/g, "'") + '`';
}

/** Markdown fit for a pull-request comment or an issue body. */
export function renderDriftMarkdown(report: DriftReport): string {
  const out = [`## Drift report: stack \`${report.stack}\``, ''];
  if (report.unreadable.length > 0) {
    out.push(
      `**Incomplete: ${report.unreadable.length} node(s) could not be read**, so nothing is known about them:`,
      '',
      ...report.unreadable.map((u) => `- \`${u.node}\`: ${u.reason.replace(/\n/g, ' ')}`),
      '',
    );
    if (!report.drifted) {
      out.push('No drift on the nodes that were read.');
      return out.join('\n') + '\n';
    }
  }
  if (!report.drifted) {
    out.push('No drift: every host matches the last applied state.');
    return out.join('\n') + '\n';
  }
  const nodes = [...new Set(report.resources.map((r) => r.node ?? '(unknown node)'))];
  out.push(
    `**${report.resources.length} resource(s) drifted on ${nodes.length} node(s):** ${nodes.join(', ')}.`,
    'Run `cdktf deploy` (or `terraform apply`) to put them back as declared.',
    '',
  );
  for (const node of nodes) {
    out.push(`### Node \`${node}\``, '');
    for (const r of report.resources.filter((x) => (x.node ?? '(unknown node)') === node)) {
      const what = r.workload ? ` (workload \`${r.workload}\`)` : '';
      out.push(`#### \`${r.address}\`${what}`, '');
      if (r.action === 'delete') {
        out.push('Gone from the host: the next deploy creates it again.', '');
        continue;
      }
      out.push('| attribute | expected (last applied) | actual (on host) |', '|---|---|---|');
      for (const a of r.attributes) {
        const long = a.diff !== undefined;
        out.push(
          `| \`${a.path}\` | ${long ? '(see diff)' : inline(a.expected)} | ${long ? '(see diff)' : inline(a.actual)} |`,
        );
      }
      out.push('');
      for (const a of r.attributes.filter((x) => x.diff !== undefined)) {
        out.push(
          `<details open><summary><code>${a.path}</code> diff</summary>`,
          '',
          '```diff',
          a.diff!.trimEnd(),
          '```',
          '',
          '</details>',
          '',
        );
      }
    }
  }
  return out.join('\n');
}
