/**
 * The picture as Mermaid (for Markdown: GitHub renders it in comments and files) and as DOT (for
 * Graphviz). Both come from the same ClusterPicture as the SVG and lay nothing out themselves:
 * subnets become subgraphs / clusters, nodes keep their card's lines, edges their state.
 */
import { ClusterPicture, EdgeState, PictureEdge } from './picture';
import { hubCardLines, nodeCardLines } from './layout';
import { STATE_COLOURS } from './svg';

const TUNNEL_COLOUR = '#6a1b9a';

/**
 * Text inside a Mermaid label: quotes, brackets and markup characters as entity codes (Mermaid's
 * `#NN;` form), so a name can never end the label or inject syntax.
 */
export function mermaidText(text: string): string {
  return text.replace(/[^A-Za-z0-9 .,:/_+()·★▸…→-]/g, (c) => `#${c.codePointAt(0)};`);
}

function edgeColour(e: PictureEdge): string {
  return e.kind === 'tunnel' ? TUNNEL_COLOUR : STATE_COLOURS[e.state];
}

const MERMAID_ARROW: Record<EdgeState | 'tunnel', string> = {
  established: '---',
  down: '-.-',
  unknown: '-.-',
  tunnel: '-.-',
};

export function pictureMermaid(picture: ClusterPicture): string {
  const out: string[] = ['flowchart TB'];
  const card = (lines: string[]) => `"${lines.map(mermaidText).join('<br/>')}"`;
  for (const hub of picture.hubs) {
    const lines = hubCardLines(hub).map((l) => l.text);
    out.push(hub.kind === 'peer' ? `  ${hub.id}([${card(lines)}])` : `  ${hub.id}[[${card(lines)}]]`);
  }
  for (const group of picture.groups) {
    out.push(`  subgraph ${group.id}[${card([`subnet ${group.label}`])}]`);
    for (const node of picture.nodes.filter((n) => n.subnet === group.id))
      out.push(`    ${node.id}[${card(nodeCardLines(node).map((l) => l.text))}]`);
    out.push('  end');
  }
  picture.edges.forEach((e) => {
    const arrow = MERMAID_ARROW[e.kind === 'tunnel' ? 'tunnel' : e.state];
    out.push(e.label ? `  ${e.from} ${arrow}|${card([e.label])}| ${e.to}` : `  ${e.from} ${arrow} ${e.to}`);
  });
  picture.edges.forEach((e, i) => {
    const width = e.kind === 'tunnel' || e.state === 'down' ? 3 : 1.5;
    out.push(`  linkStyle ${i} stroke:${edgeColour(e)},stroke-width:${width}px`);
  });
  out.push(
    '  classDef reflector fill:#e3f2fd,stroke:#1565c0',
    '  classDef unreachable fill:#fdecea,stroke:#c62828,stroke-width:3px,stroke-dasharray:5 3',
    '  classDef drifted fill:#fff3e0,stroke:#ef6c00,stroke-width:3px',
    '  classDef sessiondown stroke:#c62828,stroke-width:3px',
    '  classDef peer fill:#fff8e1,stroke:#c79100',
  );
  const classed = (cls: string, ids: string[]) => ids.length && out.push(`  class ${ids.join(',')} ${cls}`);
  classed(
    'reflector',
    picture.nodes.filter((n) => n.routeReflector && !n.unreachable && !n.drifted.length).map((n) => n.id),
  );
  classed(
    'sessiondown',
    picture.nodes.filter((n) => n.downSessions.length && !n.unreachable && !n.drifted.length).map((n) => n.id),
  );
  classed(
    'drifted',
    picture.nodes.filter((n) => n.drifted.length && !n.unreachable).map((n) => n.id),
  );
  classed(
    'unreachable',
    picture.nodes.filter((n) => n.unreachable !== undefined).map((n) => n.id),
  );
  classed(
    'peer',
    picture.hubs.filter((h) => h.kind === 'peer').map((h) => h.id),
  );
  return `${out.join('\n')}\n`;
}

/** A DOT string: double quotes and backslashes escaped, newlines as DOT's left-aligned breaks. */
export function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\l')}"`;
}

export function pictureDot(picture: ClusterPicture): string {
  const out: string[] = [
    `graph ${dotString(`calico-net ${picture.cluster}`)} {`,
    '  compound=true; rankdir=TB; fontname="DejaVu Sans"; fontsize=11;',
    '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="DejaVu Sans", fontsize=10];',
    '  edge [fontname="DejaVu Sans", fontsize=9];',
    `  label=${dotString(picture.summary.join('\n') + '\n')}; labelloc=b; labeljust=l;`,
  ];
  for (const hub of picture.hubs) {
    const fill = hub.kind === 'peer' ? '#fff8e1' : hub.kind === 'tunnel' ? '#f3e5f5' : '#e8f5e9';
    out.push(
      `  ${hub.id} [label=${dotString(
        hubCardLines(hub)
          .map((l) => l.text)
          .join('\n') + '\n',
      )}, fillcolor="${fill}"];`,
    );
  }
  // Edges ending at a subnet attach to an invisible point inside its cluster (DOT edges join nodes).
  for (const group of picture.groups) {
    out.push(
      `  subgraph cluster_${group.id} {`,
      `    label=${dotString(`subnet ${group.label}`)}; style="rounded,filled"; fillcolor="#eef3f8";`,
    );
    out.push(`    ${group.id} [shape=point, style=invis, width=0];`);
    for (const node of picture.nodes.filter((n) => n.subnet === group.id)) {
      const fill =
        node.unreachable !== undefined
          ? '#fdecea'
          : node.drifted.length
            ? '#fff3e0'
            : node.routeReflector
              ? '#e3f2fd'
              : '#ffffff';
      const colour =
        node.unreachable !== undefined || node.downSessions.length
          ? '#c62828'
          : node.drifted.length
            ? '#ef6c00'
            : '#5d6d7e';
      const style = node.unreachable !== undefined ? '"rounded,filled,dashed"' : '"rounded,filled"';
      out.push(
        `    ${node.id} [label=${dotString(
          nodeCardLines(node)
            .map((l) => l.text)
            .join('\n') + '\n',
        )}, fillcolor="${fill}", color="${colour}", style=${style}];`,
      );
    }
    out.push('  }');
  }
  const groupIds = new Set(picture.groups.map((g) => g.id));
  for (const e of picture.edges) {
    const style = e.kind === 'tunnel' || e.state === 'down' ? 'dashed' : e.state === 'unknown' ? 'dotted' : 'solid';
    const attrs = [
      `label=${dotString(e.label)}`,
      `color="${edgeColour(e)}"`,
      `fontcolor="${edgeColour(e)}"`,
      `style=${style}`,
    ];
    // A tunnel within one subnet (Always mode) loops at the subnet's point: clipping a loop at the
    // cluster it starts and ends inside is what Graphviz warns about ("tail is inside head cluster").
    const loop = e.from === e.to;
    if (groupIds.has(e.from) && !loop) attrs.push(`ltail=cluster_${e.from}`);
    if (groupIds.has(e.to) && !loop) attrs.push(`lhead=cluster_${e.to}`);
    out.push(`  ${e.from} -- ${e.to} [${attrs.join(', ')}];`);
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}
