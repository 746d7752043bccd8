/**
 * The picture as one self-contained SVG: no scripts, no external fonts or images, so a browser,
 * an image viewer and GitHub (as an image in a comment) all show it the same. Colours say the
 * state; dashes and labels say it again for readers who do not see the colours.
 */
import { ClusterPicture, EdgeKind, EdgeState } from './picture';
import {
  CardLine,
  FONT_SIZE,
  hubCardLines,
  layoutPicture,
  LINE_HEIGHT,
  LineStyle,
  nodeCardLines,
  Scene,
} from './layout';

export const STATE_COLOURS: Record<EdgeState, string> = { established: '#2e7d32', down: '#c62828', unknown: '#8a8a8a' };
const TUNNEL_COLOUR = '#6a1b9a';
const TEXT_COLOURS: Record<LineStyle, string> = {
  title: '#111',
  plain: '#333',
  muted: '#555',
  bad: '#c62828',
  warn: '#b25d00',
};
const LEGEND_WIDTH = 300;

export function xmlEscape(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string,
  );
}

function dashOf(kind: EdgeKind, state: EdgeState): string {
  if (kind === 'tunnel') return ' stroke-dasharray="8 4"';
  if (state === 'unknown') return ' stroke-dasharray="2 3"';
  if (state === 'down') return ' stroke-dasharray="6 3"';
  return '';
}

function textLines(lines: CardLine[], x: number, y: number): string {
  return lines
    .map((l, i) => {
      const weight = l.style === 'title' || l.style === 'bad' ? ' font-weight="bold"' : '';
      return `<text x="${x}" y="${y + (i + 1) * LINE_HEIGHT - 3}" fill="${TEXT_COLOURS[l.style]}"${weight}>${xmlEscape(l.text)}</text>`;
    })
    .join('');
}

export function renderSvg(picture: ClusterPicture, scene: Scene): string {
  const out: string[] = [];
  const legendX = scene.width + 10;
  const width = Math.ceil(scene.width + LEGEND_WIDTH + 20);
  const legendLines = 12 + picture.summary.length;
  const height = Math.ceil(Math.max(scene.height, legendLines * LINE_HEIGHT + 40) + 10);
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Verdana, sans-serif" font-size="${FONT_SIZE}">`,
    `<title>${xmlEscape(`calico-net cluster ${picture.cluster}`)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
  );
  // Subnets first (behind), then edges, then cards on top.
  for (const group of picture.groups) {
    const b = scene.boxes.get(group.id);
    if (!b) continue;
    out.push(
      `<g class="subnet" id="${group.id}"><rect x="${b.x}" y="${b.y}" width="${b.width}" height="${b.height}" rx="6" fill="#eef3f8" stroke="#7a93ac"/>`,
      `<text x="${b.x + 10}" y="${b.y + 17}" fill="#34495e" font-weight="bold">${xmlEscape(`subnet ${group.label}`)}</text></g>`,
    );
  }
  for (const placed of scene.edges) {
    const e = placed.edge;
    if (placed.points.length < 2) continue;
    const colour = e.kind === 'tunnel' ? TUNNEL_COLOUR : STATE_COLOURS[e.state];
    const widthPx = e.kind === 'tunnel' ? 2.5 : e.state === 'down' ? 2.5 : 1.6;
    const [first, last] = [placed.points[0], placed.points[placed.points.length - 1]];
    const d = placed.arcControl
      ? `M${first.x.toFixed(1)},${first.y.toFixed(1)} Q${placed.arcControl.x.toFixed(1)},${placed.arcControl.y.toFixed(1)} ${last.x.toFixed(1)},${last.y.toFixed(1)}`
      : placed.points.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
    const sessions = e.sessions.map((s) => `${s.node} ${s.protocol}: ${s.info}`).join('\n');
    out.push(
      `<g class="edge ${e.kind} ${e.state}" id="${e.id}" data-from="${e.from}" data-to="${e.to}" data-state="${e.state}" data-kind="${e.kind}">`,
      `<title>${xmlEscape(`${e.kind} ${e.state}: ${e.label}${sessions ? `\n${sessions}` : ''}`)}</title>`,
      `<path d="${d}" fill="none" stroke="${colour}" stroke-width="${widthPx}"${dashOf(e.kind, e.state)}/>`,
    );
    if (placed.label) {
      const l = placed.label;
      out.push(
        `<rect x="${l.x.toFixed(1)}" y="${l.y.toFixed(1)}" width="${l.width}" height="${l.height}" fill="#ffffff" fill-opacity="0.85"/>`,
        `<text x="${(l.x + 3).toFixed(1)}" y="${(l.y + l.height - 4).toFixed(1)}" fill="${colour}">${xmlEscape(e.label)}</text>`,
      );
    }
    out.push('</g>');
  }
  for (const hub of picture.hubs) {
    const b = scene.boxes.get(hub.id);
    if (!b) continue;
    const fill = hub.kind === 'peer' ? '#fff8e1' : hub.kind === 'tunnel' ? '#f3e5f5' : '#e8f5e9';
    const stroke = hub.kind === 'peer' ? '#c79100' : hub.kind === 'tunnel' ? TUNNEL_COLOUR : '#2e7d32';
    out.push(
      `<g class="hub ${hub.kind}" id="${hub.id}"><rect x="${b.x}" y="${b.y}" width="${b.width}" height="${b.height}" rx="${hub.kind === 'peer' ? 14 : 4}" fill="${fill}" stroke="${stroke}" stroke-width="1.5"/>`,
      textLines(hubCardLines(hub), b.x + 8, b.y + 8),
      '</g>',
    );
  }
  for (const node of picture.nodes) {
    const b = scene.boxes.get(node.id);
    if (!b) continue;
    const bad = node.unreachable !== undefined || node.downSessions.length > 0;
    const stroke =
      node.unreachable !== undefined
        ? '#c62828'
        : node.drifted.length
          ? '#ef6c00'
          : bad
            ? '#c62828'
            : node.routeReflector
              ? '#1565c0'
              : '#5d6d7e';
    const fill =
      node.unreachable !== undefined
        ? '#fdecea'
        : node.drifted.length
          ? '#fff3e0'
          : node.routeReflector
            ? '#e3f2fd'
            : '#ffffff';
    const classes = [
      'node',
      ...(node.routeReflector ? ['reflector'] : []),
      ...(node.unreachable !== undefined ? ['unreachable'] : []),
      ...(node.drifted.length ? ['drifted'] : []),
      ...(node.downSessions.length ? ['session-down'] : []),
    ];
    out.push(
      `<g class="${classes.join(' ')}" id="${node.id}" data-name="${xmlEscape(node.name)}">`,
      `<rect x="${b.x}" y="${b.y}" width="${b.width}" height="${b.height}" rx="4" fill="${fill}" stroke="${stroke}" stroke-width="${node.unreachable !== undefined || node.drifted.length || bad ? 2.5 : 1.2}"${node.unreachable !== undefined ? ' stroke-dasharray="5 3"' : ''}/>`,
      textLines(nodeCardLines(node), b.x + 8, b.y + 8),
      '</g>',
    );
  }
  // Legend and summary, to the right of the picture.
  const legend: string[] = [];
  let y = 24;
  const line = (svg: string) => {
    legend.push(svg);
    y += LINE_HEIGHT + 4;
  };
  line(`<text x="${legendX}" y="${y}" font-weight="bold">${xmlEscape(`cluster ${picture.cluster}`)}</text>`);
  for (const s of picture.summary) line(`<text x="${legendX}" y="${y}">${xmlEscape(s)}</text>`);
  y += 6;
  const swatch = (colour: string, dash: string, label: string) =>
    line(
      `<path d="M${legendX},${y - 4} h34" stroke="${colour}" stroke-width="2.5"${dash}/><text x="${legendX + 42}" y="${y}">${xmlEscape(label)}</text>`,
    );
  swatch(STATE_COLOURS.established, '', 'BGP session Established');
  swatch(STATE_COLOURS.down, ' stroke-dasharray="6 3"', 'BGP session down');
  swatch(STATE_COLOURS.unknown, ' stroke-dasharray="2 3"', 'BGP session not read');
  swatch(TUNNEL_COLOUR, ' stroke-dasharray="8 4"', 'tunnel (VXLAN / IPIP) between subnets');
  const box = (fill: string, stroke: string, label: string, dash = '') =>
    line(
      `<rect x="${legendX}" y="${y - 11}" width="34" height="13" fill="${fill}" stroke="${stroke}" stroke-width="2"${dash}/><text x="${legendX + 42}" y="${y}">${xmlEscape(label)}</text>`,
    );
  box('#e3f2fd', '#1565c0', 'route reflector');
  box('#fdecea', '#c62828', 'unreachable node', ' stroke-dasharray="5 3"');
  box('#fff3e0', '#ef6c00', 'drifted node');
  box('#fff8e1', '#c79100', 'external BGP peer');
  out.push(`<g class="legend">${legend.join('')}</g>`, '</svg>');
  return `${out.join('\n')}\n`;
}

export async function pictureSvg(picture: ClusterPicture): Promise<string> {
  return renderSvg(picture, await layoutPicture(picture));
}
