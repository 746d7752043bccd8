/**
 * `calico-net graph [--inventory FILE] [--format svg|mermaid|dot] [--out FILE] [--offline]
 *                   [--drift-report FILE | --dir PROJECT [--stack S]]`
 *
 * The cluster as a picture. From the inventory alone with --offline; otherwise with what
 * `status` reads (every node's BGP sessions from BIRD, over SSH; a node that cannot be asked is
 * marked unreachable) and what `drift` reads (a refresh-only plan; drifted nodes are marked).
 * Drift comes from a report `calico-net drift --format json` wrote (--drift-report), or is read
 * now when the project (--dir, default: the current directory) has a cdktf.json; the picture's
 * legend says when it was not read. Reading never changes a host: birdc show protocols and
 * Terraform's refresh-only plan only.
 */
import * as fs from 'fs';
import * as path from 'path';
import { bgpSessionsOf } from '../constructs/bgp-sessions';
import { ClusterSpec } from '../constructs/model';
import { ClusterValidationError } from '../constructs/validation';
import { DEFAULT_BIRD_SOCKET_PATH } from '../providers/calico/names';
import { loadInventory } from '../stacks/inventory';
import { clusterHosts, inventoryPathFrom } from './cluster-hosts';
import { DriftReport } from './drift-report';
import { buildPicture, ClusterPicture, LiveState } from './graph/picture';
import { pictureSvg } from './graph/svg';
import { pictureDot, pictureMermaid } from './graph/text-formats';
import { collectStatus } from './status';

export type GraphFormat = 'svg' | 'mermaid' | 'dot';

export const GRAPH_USAGE =
  'usage: calico-net graph [--inventory FILE] [--format svg|mermaid|dot] [--out FILE] [--offline] [--drift-report FILE | --dir PROJECT [--stack S]]';

interface GraphOptions {
  inventory: string;
  format: GraphFormat;
  out?: string;
  offline: boolean;
  driftReport?: string;
  projectDir: string;
  stack?: string;
}

export function parseGraphArgs(argv: string[]): GraphOptions {
  const options: GraphOptions = {
    inventory: inventoryPathFrom(argv),
    format: 'svg',
    offline: false,
    projectDir: process.cwd(),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--inventory') value();
    else if (arg === '--format') {
      const f = value();
      if (f !== 'svg' && f !== 'mermaid' && f !== 'dot')
        throw new Error(`--format must be svg, mermaid or dot, not "${f}"`);
      options.format = f;
    } else if (arg === '--out') options.out = value();
    else if (arg === '--offline') options.offline = true;
    else if (arg === '--drift-report') options.driftReport = path.resolve(value());
    else if (arg === '--dir') options.projectDir = path.resolve(value());
    else if (arg === '--stack') options.stack = value();
    else throw new Error(`unknown option "${arg}"`);
  }
  return options;
}

/** Drift as the picture needs it: per node, "type: attribute, …"; and the nodes not read. */
export function driftOfReport(report: DriftReport): NonNullable<LiveState['drift']> {
  const drifted = new Map<string, string[]>();
  for (const r of report.resources) {
    if (!r.node) continue;
    const what =
      r.action === 'delete'
        ? `${r.type}${r.workload ? ` ${r.workload}` : ''} gone`
        : `${r.type}${r.workload ? ` ${r.workload}` : ''}: ${r.attributes.map((a) => a.path).join(', ')}`;
    drifted.set(r.node, [...(drifted.get(r.node) ?? []), what]);
  }
  return { drifted, unreadable: new Map(report.unreadable.map((u) => [u.node, u.reason])) };
}

/** Every node's sessions as BIRD reports them, read as `calico-net status` reads them. */
export async function readSessions(cluster: ClusterSpec, inventory: string): Promise<NonNullable<LiveState['status']>> {
  const hosts = clusterHosts(inventory);
  try {
    const statuses = await collectStatus(
      cluster.nodes.map((node) => ({
        name: node.name,
        host: hosts.hostOf(node),
        socketPath: node.birdSocketPath ?? DEFAULT_BIRD_SOCKET_PATH,
        expectedProtocols: bgpSessionsOf(cluster, node.name).map((s) => s.protocol),
      })),
    );
    return new Map(
      statuses.map((s) => [s.node, { sessions: s.sessions, ...(s.error !== undefined ? { error: s.error } : {}) }]),
    );
  } finally {
    await hosts.close();
  }
}

export async function renderPicture(picture: ClusterPicture, format: GraphFormat): Promise<string> {
  if (format === 'mermaid') return pictureMermaid(picture);
  if (format === 'dot') return pictureDot(picture);
  return pictureSvg(picture);
}

export async function graphCommand(argv: string[]): Promise<number> {
  let options: GraphOptions;
  let cluster: ClusterSpec;
  try {
    options = parseGraphArgs(argv);
    cluster = loadInventory(options.inventory);
  } catch (err) {
    const message = err instanceof ClusterValidationError ? err.message : (err as Error).message;
    process.stderr.write(`calico-net graph: ${message}\n${GRAPH_USAGE}\n`);
    return 1;
  }
  const live: LiveState = { notes: [] };
  if (options.offline) {
    live.notes?.push('offline: inventory only, no live state read');
  } else {
    live.status = await readSessions(cluster, options.inventory);
    try {
      if (options.driftReport) {
        live.drift = driftOfReport(JSON.parse(fs.readFileSync(options.driftReport, 'utf8')) as DriftReport);
      } else if (fs.existsSync(path.join(options.projectDir, 'cdktf.json'))) {
        const { detectDrift } = await import('./drift');
        const { Progress } = await import('./progress');
        const report = await detectDrift(
          {
            projectDir: options.projectDir,
            inventory: options.inventory,
            stack: options.stack,
            format: 'json',
            skipSynth: false,
          },
          new Progress('graph'),
        );
        live.drift = driftOfReport(report);
      } else {
        live.notes?.push(
          `drift not read: no cdktf.json in ${options.projectDir} (--dir PROJECT or --drift-report FILE)`,
        );
      }
    } catch (err) {
      // The sessions are still worth drawing; the legend and stderr say drift is missing.
      const why = (err as Error).message.split('\n')[0];
      live.notes?.push(`drift not read: ${why}`);
      process.stderr.write(`calico-net graph: drift not read: ${(err as Error).message}\n`);
    }
  }
  const text = await renderPicture(buildPicture(cluster, live), options.format);
  if (options.out) {
    fs.writeFileSync(options.out, text);
    process.stderr.write(`calico-net graph: wrote ${path.resolve(options.out)}\n`);
  } else process.stdout.write(text);
  return 0;
}
