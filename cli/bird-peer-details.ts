/**
 * What `calico-net status` shows about external peers beyond `show protocols`: per BGP session
 * the neighbor's AS and the routes imported and exported (`birdc show protocols all`), and the
 * BFD sessions (`birdc show bfd sessions`). Parsers of BIRD 2's text output; unknown lines are
 * ignored, so a BIRD that prints more does not break them.
 */

export interface SessionRoutes {
  /** BIRD protocol name (Global_…, Mesh_…, Node_…). */
  protocol: string;
  neighborAddress?: string;
  neighborAs?: number;
  /** BGP state as BIRD names it (Established, Active, …). */
  bgpState?: string;
  /** Routes the session's ipv4 channel imported, exported and holds as preferred. */
  imported?: number;
  exported?: number;
  preferred?: number;
}

export interface BfdSessionRow {
  address: string;
  interface: string;
  /** Up, Down, Init, AdminDown. */
  state: string;
  since: string;
  /** Seconds, as BIRD prints them (e.g. "0.100"). */
  interval: string;
  timeout: string;
}

const PROTOCOL_LINE = /^(\S+)\s+BGP\s+/;

/** `birdc show protocols all`: one entry per BGP protocol, in BIRD's order. */
export function parseProtocolsAll(output: string): SessionRoutes[] {
  const out: SessionRoutes[] = [];
  let current: SessionRoutes | undefined;
  for (const line of output.split('\n')) {
    const head = PROTOCOL_LINE.exec(line);
    if (head) {
      current = { protocol: head[1] };
      out.push(current);
      continue;
    }
    // A protocol of another kind (kernel, static, bfd …) ends the current one.
    if (/^\S/.test(line) && !/^name\s+proto/i.test(line)) {
      current = undefined;
      continue;
    }
    if (!current) continue;
    const field = /^\s+([A-Za-z ]+):\s+(.*?)\s*$/.exec(line);
    if (!field) continue;
    const [, key, value] = field;
    if (key === 'BGP state') current.bgpState = value;
    else if (key === 'Neighbor address') current.neighborAddress = value;
    else if (key === 'Neighbor AS') current.neighborAs = Number(value);
    else if (key === 'Routes') {
      const counts = /^(\d+) imported, (?:(\d+) filtered, )?(\d+) exported, (\d+) preferred/.exec(value);
      if (counts) {
        current.imported = Number(counts[1]);
        current.exported = Number(counts[3]);
        current.preferred = Number(counts[4]);
      }
    }
  }
  return out;
}

/** `birdc show bfd sessions`: one row per session (any BFD protocol). */
export function parseBfdSessions(output: string): BfdSessionRow[] {
  const rows: BfdSessionRow[] = [];
  for (const line of output.split('\n')) {
    const f = line.trim().split(/\s+/);
    // IP address, interface, state, since (one or two tokens), interval, timeout.
    if (f.length < 6 || !/^[0-9a-f.:]+$/i.test(f[0]) || !/^(Up|Down|Init|AdminDown)$/.test(f[2])) continue;
    const sinceTokens = f.length >= 7 ? 2 : 1;
    rows.push({
      address: f[0],
      interface: f[1],
      state: f[2],
      since: f.slice(3, 3 + sinceTokens).join(' '),
      interval: f[3 + sinceTokens],
      timeout: f[4 + sinceTokens],
    });
  }
  return rows;
}
