/**
 * Positions for the picture, computed by ELK (the Eclipse Layout Kernel, npm `elkjs`): pure
 * JavaScript, maintained by the Kiel University group that develops ELK itself, and the engine
 * Mermaid and Sprotty use for the same job. Its layered algorithm handles what we need and a
 * hand-written layout would not: boxes inside boxes (nodes inside their subnet), edges that leave
 * a box, orthogonal edge routing around boxes, and edge labels placed without overlap.
 *
 * Ours is only the grouping (ClusterPicture) and the size of each card (from its text lines).
 * Detailed pictures lay everything out as one layered graph (edges reach into the subnets);
 * summarized ones pack each subnet's cards in rows (ELK's rectpacking) and lay out the subnets,
 * hubs and peers as a layered graph, edges ending at the subnet boxes.
 */
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api';
import { ClusterPicture, PictureEdge, PictureHub, PictureNode } from './picture';

export const FONT_SIZE = 11;
export const LINE_HEIGHT = 14;
const CHAR_WIDTH = 6.4;
const PAD = 8;
const MAX_LINES_LISTED = 4;

export type LineStyle = 'title' | 'plain' | 'muted' | 'bad' | 'warn';
export interface CardLine {
  text: string;
  style: LineStyle;
}

export function textWidth(text: string): number {
  return Math.ceil(text.length * CHAR_WIDTH);
}

/** The lines of a node's card: who it is, its block, its workloads, what is wrong with it. */
export function nodeCardLines(node: PictureNode): CardLine[] {
  const lines: CardLine[] = [
    { text: `${node.name}${node.routeReflector ? '  ★ route reflector' : ''}`, style: 'title' },
  ];
  lines.push({ text: `${node.address} · AS ${node.asNumber}`, style: 'plain' });
  lines.push({ text: `block ${node.block}`, style: 'plain' });
  const shown = node.workloads.slice(0, MAX_LINES_LISTED);
  for (const w of shown) lines.push({ text: `▸ ${w.name} ${w.ip}`, style: 'muted' });
  if (node.workloads.length > shown.length)
    lines.push({ text: `  +${node.workloads.length - shown.length} more workloads`, style: 'muted' });
  if (node.unreachable !== undefined) lines.push({ text: `UNREACHABLE: ${clip(node.unreachable, 34)}`, style: 'bad' });
  for (const s of node.downSessions.slice(0, 2))
    lines.push({ text: `✗ BGP to ${s.neighborName}: ${clip(s.info, 26)}`, style: 'bad' });
  if (node.downSessions.length > 2)
    lines.push({ text: `  +${node.downSessions.length - 2} more sessions down`, style: 'bad' });
  for (const d of node.drifted.slice(0, 2)) lines.push({ text: `DRIFT ${clip(d, 34)}`, style: 'warn' });
  if (node.drifted.length > 2) lines.push({ text: `  +${node.drifted.length - 2} more drifted`, style: 'warn' });
  return lines;
}

export function hubCardLines(hub: PictureHub): CardLine[] {
  return hub.label.map((text, i) => ({ text, style: i === 0 ? 'title' : 'plain' }));
}

export function clip(text: string, max: number): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

function cardSize(lines: CardLine[]): { width: number; height: number } {
  return {
    // Bold lines run about a tenth wider.
    width:
      Math.max(150, ...lines.map((l) => textWidth(l.text) * (l.style === 'title' || l.style === 'bad' ? 1.2 : 1))) +
      2 * PAD,
    height: lines.length * LINE_HEIGHT + 2 * PAD,
  };
}

export interface Box {
  id: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedEdge {
  edge: PictureEdge;
  points: { x: number; y: number }[];
  /** Set for an edge between two cards of one subnet: drawn as an arc below their row. */
  arcControl?: { x: number; y: number };
  label?: { x: number; y: number; width: number; height: number };
}

export interface Scene {
  width: number;
  height: number;
  boxes: Map<string, Box>;
  edges: PlacedEdge[];
}

function edgeLabel(edge: PictureEdge) {
  return [{ text: edge.label, width: textWidth(edge.label) + 6, height: LINE_HEIGHT + 2 }];
}

/** Edges between two cards of the same subnet: ELK leaves them out, so each subnet is one row. */
function withinOneSubnet(picture: ClusterPicture, edge: PictureEdge): boolean {
  const subnet = new Map(picture.nodes.map((n) => [n.id, n.subnet]));
  return subnet.has(edge.from) && subnet.get(edge.from) === subnet.get(edge.to);
}

const ARC_BASE = 12;
const ARC_STEP = 9;

export function elkGraphOf(picture: ClusterPicture): ElkNode {
  const card = (id: string, lines: CardLine[]): ElkNode => ({ id, ...cardSize(lines) });
  const groups: ElkNode[] = picture.groups.map((g) => ({
    id: g.id,
    labels: [{ text: g.label, width: textWidth(`subnet ${g.label}`), height: LINE_HEIGHT + 4 }],
    layoutOptions: {
      // Room below the row for the arcs between its cards (deepest: first to last card).
      'elk.padding': `[top=28,left=12,bottom=${picture.detailed ? 16 + ARC_BASE + ARC_STEP * g.nodes.length : 12},right=12]`,
      'elk.nodeLabels.placement': 'INSIDE V_TOP H_LEFT',
      ...(picture.detailed
        ? {}
        : { 'elk.algorithm': 'rectpacking', 'elk.aspectRatio': '1.3', 'elk.spacing.nodeNode': '10' }),
    },
    children: picture.nodes.filter((n) => n.subnet === g.id).map((n) => card(n.id, nodeCardLines(n))),
  }));
  const hubs = picture.hubs.map((h) => card(h.id, hubCardLines(h)));
  const edges: ElkExtendedEdge[] = picture.edges.map((e) =>
    withinOneSubnet(picture, e)
      ? { id: e.id, sources: [e.from], targets: [e.to], layoutOptions: { 'elk.noLayout': 'true' } }
      : { id: e.id, sources: [e.from], targets: [e.to], ...(e.label ? { labels: edgeLabel(e) } : {}) },
  );
  return {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.layered.spacing.nodeNodeBetweenLayers': '50',
      'elk.spacing.nodeNode': '30',
      'elk.spacing.edgeLabel': '4',
      'elk.edgeLabels.inline': 'false',
      'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
      'elk.padding': '[top=16,left=16,bottom=16,right=16]',
      ...(picture.detailed ? { 'elk.hierarchyHandling': 'INCLUDE_CHILDREN' } : {}),
    },
    children: [...hubs, ...groups],
    edges,
  };
}

export async function layoutPicture(picture: ClusterPicture): Promise<Scene> {
  // The bundled build runs in this process (no worker thread): one call per command.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- elkjs's bundled build has no typings; typed here by hand
  const ELK = require('elkjs/lib/elk.bundled.js') as new () => { layout(graph: ElkNode): Promise<ElkNode> };
  const result = await new ELK().layout(elkGraphOf(picture));
  const boxes = new Map<string, Box>();
  const walk = (node: ElkNode, dx: number, dy: number) => {
    for (const child of node.children ?? []) {
      const box = {
        id: child.id,
        x: dx + (child.x ?? 0),
        y: dy + (child.y ?? 0),
        width: child.width ?? 0,
        height: child.height ?? 0,
      };
      boxes.set(child.id, box);
      walk(child, box.x, box.y);
    }
  };
  walk(result, 0, 0);
  const byId = new Map(picture.edges.map((e) => [e.id, e]));
  const edges: PlacedEdge[] = [];
  const collect = (node: ElkNode) => {
    for (const e of (node.edges ?? []) as (ElkExtendedEdge & { container?: string })[]) {
      // Edge coordinates are relative to the node ELK says contains the edge.
      const origin = e.container && e.container !== 'root' ? boxes.get(e.container) : undefined;
      const ox = origin?.x ?? 0;
      const oy = origin?.y ?? 0;
      const section = e.sections?.[0];
      const points = section
        ? [section.startPoint, ...(section.bendPoints ?? []), section.endPoint].map((p) => ({
            x: p.x + ox,
            y: p.y + oy,
          }))
        : [];
      const l = e.labels?.[0];
      edges.push({
        edge: byId.get(e.id) as PictureEdge,
        points,
        ...(l && l.x !== undefined
          ? { label: { x: (l.x ?? 0) + ox, y: (l.y ?? 0) + oy, width: l.width ?? 0, height: l.height ?? 0 } }
          : {}),
      });
    }
    for (const child of node.children ?? []) collect(child);
  };
  collect(result);
  // Arcs for edges within a subnet (ELK left them out): below the row, deeper the farther apart.
  for (const placed of edges) {
    if (!withinOneSubnet(picture, placed.edge)) continue;
    const a = boxes.get(placed.edge.from) as Box;
    const b = boxes.get(placed.edge.to) as Box;
    const row = picture.nodes
      .filter((n) => n.subnet === picture.nodes.find((m) => m.id === placed.edge.from)?.subnet)
      .map((n) => boxes.get(n.id) as Box)
      .sort((p, q) => p.x - q.x);
    const distance = Math.abs(row.indexOf(a) - row.indexOf(b));
    const bottom = Math.max(a.y + a.height, b.y + b.height);
    const start = { x: a.x + a.width / 2 + (b.x > a.x ? 10 : -10), y: a.y + a.height };
    const end = { x: b.x + b.width / 2 + (a.x > b.x ? 10 : -10), y: b.y + b.height };
    const depth = ARC_BASE + ARC_STEP * distance;
    placed.points = [start, end];
    // A quadratic curve reaches half its control point's offset: twice the depth wanted.
    placed.arcControl = { x: (start.x + end.x) / 2, y: bottom + 2 * depth };
    if (placed.edge.label) {
      const width = textWidth(placed.edge.label) + 6;
      placed.label = {
        x: (start.x + end.x) / 2 - width / 2,
        y: bottom + depth - LINE_HEIGHT / 2,
        width,
        height: LINE_HEIGHT + 2,
      };
    }
  }
  return { width: result.width ?? 0, height: result.height ?? 0, boxes, edges };
}
