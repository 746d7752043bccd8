/**
 * What `calico-net graph` draws, as data: the cluster's shape from the inventory (subnets, nodes
 * with their block and workloads, route reflectors, external peers, tunnels) and, when it was
 * read, the live state (each BGP session's state from BIRD, nodes that could not be reached,
 * nodes whose resources drifted). Every output format (SVG, Mermaid, DOT) renders this one model,
 * so they always agree on what is drawn.
 *
 * Scaling: a full mesh of n nodes has n(n-1)/2 sessions and a reflector group one per client and
 * reflector. Up to DETAILED_LIMIT nodes every session pair is an edge. Beyond that, sessions are
 * summarized per subnet (one edge from a subnet to the mesh or reflector group, counting its
 * sessions and naming the ones down), and a node with a session down is marked on its own card,
 * so the picture grows with the number of subnets, not with the number of sessions.
 */
import { bgpSessionsOf, BgpSession } from '../../constructs/bgp-sessions';
import { ClusterSpec, NodeSpec, nodeAs } from '../../constructs/model';
import { encapsulationOf, overlayPlanOf } from '../../constructs/overlay';
import { BgpSessionRow } from '../bird-protocols';
import { networkCidrOf } from '../../rules/address-family';

export const DETAILED_LIMIT = 12;

/** A session's state as the picture shows it. */
export type EdgeState = 'established' | 'down' | 'unknown';

export interface SessionState {
  /** The node whose BIRD reported it. */
  node: string;
  protocol: string;
  neighbor: string;
  /** The neighbor's node name, or its address for an external peer. */
  neighborName: string;
  state: EdgeState;
  /** BIRD's words: "Established", "Active Socket: Connection refused", or why it is unknown. */
  info: string;
}

export interface PictureNode {
  id: string;
  name: string;
  address: string;
  asNumber: number;
  block: string;
  workloads: { name: string; ip: string }[];
  routeReflector: boolean;
  subnet: string;
  /** Sessions of this node that are not Established (named on its card). */
  downSessions: SessionState[];
  /** Why the node could not be read, when it could not. */
  unreachable?: string;
  /** Resources of this node that drifted ("calico_node: proxy_arp"). */
  drifted: string[];
}

export interface PictureGroup {
  id: string;
  label: string;
  nodes: string[];
}

/** A box that is not a node: the mesh or reflector group (summarized), an external peer. */
export interface PictureHub {
  id: string;
  kind: 'mesh' | 'reflectors' | 'peer' | 'tunnel';
  label: string[];
}

export type EdgeKind = 'mesh' | 'route-reflector' | 'peer' | 'tunnel';

export interface PictureEdge {
  id: string;
  from: string;
  to: string;
  kind: EdgeKind;
  state: EdgeState;
  label: string;
  /** The sessions this edge stands for (both ends' views when both were read). */
  sessions: SessionState[];
}

export interface LiveState {
  /** Per node: its sessions as BIRD reports them, or why it could not be asked. */
  status?: Map<string, { sessions: BgpSessionRow[]; error?: string }>;
  /** Per node: drifted resources, and nodes the refresh could not read. */
  drift?: { drifted: Map<string, string[]>; unreadable: Map<string, string> };
  /** What was not read and why (shown in the legend): "offline", "no cdktf.json". */
  notes?: string[];
}

export interface ClusterPicture {
  cluster: string;
  topology: 'full-mesh' | 'route-reflector';
  detailed: boolean;
  groups: PictureGroup[];
  nodes: PictureNode[];
  hubs: PictureHub[];
  edges: PictureEdge[];
  /** Summary lines for the legend: counts of sessions per state, what was not read. */
  summary: string[];
}

/** A name usable as an id in SVG, Mermaid and DOT alike. */
export function safeId(prefix: string, text: string): string {
  return `${prefix}_${text.replace(/[^A-Za-z0-9]/g, (c) => `_${c.charCodeAt(0).toString(16)}`)}`;
}

/** The subnet a node is on: its network from the address prefix, or "not given" (every renderer writes "subnet " before it). */
export function subnetOf(node: NodeSpec): string {
  if (node.prefixLength === undefined || Number.isNaN(node.prefixLength)) return 'not given';
  return networkCidrOf(node.address, node.prefixLength);
}

function sessionState(cluster: ClusterSpec, node: NodeSpec, session: BgpSession, live: LiveState): SessionState {
  const neighborName = cluster.nodes.find((n) => n.address === session.neighbor)?.name ?? session.neighbor;
  const base = { node: node.name, protocol: session.protocol, neighbor: session.neighbor, neighborName };
  const status = live.status?.get(node.name);
  if (!live.status) return { ...base, state: 'unknown', info: 'not read' };
  if (!status) return { ...base, state: 'unknown', info: 'not read' };
  if (status.error !== undefined) return { ...base, state: 'unknown', info: `node not read: ${status.error}` };
  const row = status.sessions.find((r) => r.protocol === session.protocol);
  if (!row) return { ...base, state: 'down', info: 'no such session in BIRD' };
  // BIRD's Info column ("Active Socket: Connection refused") says more than its State ("start").
  return { ...base, state: row.established ? 'established' : 'down', info: row.info || row.state };
}

/** The state of an edge standing for these sessions: down if any is, unknown if none was read. */
export function combinedState(sessions: SessionState[]): EdgeState {
  if (sessions.some((s) => s.state === 'down')) return 'down';
  if (sessions.length > 0 && sessions.every((s) => s.state === 'established')) return 'established';
  if (sessions.some((s) => s.state === 'established')) return 'established';
  return 'unknown';
}

function countLabel(sessions: SessionState[]): string {
  const up = sessions.filter((s) => s.state === 'established').length;
  const down = sessions.filter((s) => s.state === 'down').length;
  const unknown = sessions.length - up - down;
  const parts = [`${up} up`];
  if (down) parts.push(`${down} down`);
  if (unknown) parts.push(`${unknown} unknown`);
  return parts.join(', ');
}

/**
 * A single session pair's label: nothing when Established or not read (the colour and the legend
 * say it; 15 identical labels would bury the picture), BIRD's words when down.
 */
function detailLabel(state: EdgeState, sessions: SessionState[]): string {
  if (state !== 'down') return '';
  const down = sessions.find((s) => s.state === 'down') as SessionState;
  return `down: ${down.info.length > 34 ? `${down.info.slice(0, 33)}…` : down.info}`;
}

export function buildPicture(cluster: ClusterSpec, live: LiveState = {}): ClusterPicture {
  const topology = cluster.topology ?? 'full-mesh';
  const detailed = cluster.nodes.length <= DETAILED_LIMIT;
  const byAddress = new Map(cluster.nodes.map((n) => [n.address, n]));
  const nodeId = (n: NodeSpec) => safeId('node', n.name);

  // Every session from every node's point of view.
  const sessionsOf = new Map<string, { session: BgpSession; state: SessionState }[]>();
  for (const node of cluster.nodes) {
    sessionsOf.set(
      node.name,
      bgpSessionsOf(cluster, node.name).map((session) => ({
        session,
        state: sessionState(cluster, node, session, live),
      })),
    );
  }

  const groupsById = new Map<string, PictureGroup>();
  const nodes: PictureNode[] = cluster.nodes.map((node) => {
    const subnet = subnetOf(node);
    const groupId = safeId('subnet', subnet);
    const group = groupsById.get(groupId) ?? { id: groupId, label: subnet, nodes: [] };
    group.nodes.push(nodeId(node));
    groupsById.set(groupId, group);
    const status = live.status?.get(node.name);
    const unreachable = status?.error ?? live.drift?.unreadable.get(node.name);
    return {
      id: nodeId(node),
      name: node.name,
      address: node.address,
      asNumber: nodeAs(cluster, node),
      block: node.podCidr,
      workloads: node.workloads.map((w) => ({ name: w.name, ip: w.ip ?? w.ipv6 ?? '' })),
      routeReflector: Boolean(node.routeReflector) && topology === 'route-reflector',
      subnet: groupId,
      downSessions: (sessionsOf.get(node.name) ?? []).map((s) => s.state).filter((s) => s.state === 'down'),
      ...(unreachable !== undefined ? { unreachable } : {}),
      drifted: live.drift?.drifted.get(node.name) ?? [],
    };
  });

  const hubs: PictureHub[] = [];
  const edges: PictureEdge[] = [];
  const addEdge = (from: string, to: string, kind: EdgeKind, sessions: SessionState[], label?: string) => {
    const state = combinedState(sessions);
    edges.push({
      id: `e${edges.length}`,
      from,
      to,
      kind,
      state,
      sessions,
      label: label ?? detailLabel(state, sessions),
    });
  };

  // Node-to-node sessions (mesh, or reflector to client and reflector to reflector).
  const pairSessions = new Map<string, { a: NodeSpec; b: NodeSpec; kind: EdgeKind; sessions: SessionState[] }>();
  for (const node of cluster.nodes) {
    for (const { session, state } of sessionsOf.get(node.name) ?? []) {
      const other = byAddress.get(session.neighbor);
      if (session.kind === 'global' || !other) continue;
      const [a, b] = node.name < other.name ? [node, other] : [other, node];
      const key = `${a.name}\u0000${b.name}`;
      const entry = pairSessions.get(key) ?? {
        a,
        b,
        kind: session.kind === 'mesh' ? 'mesh' : 'route-reflector',
        sessions: [],
      };
      entry.sessions.push(state);
      pairSessions.set(key, entry);
    }
  }

  if (detailed) {
    for (const { a, b, kind, sessions } of pairSessions.values()) addEdge(nodeId(a), nodeId(b), kind, sessions);
  } else {
    // One hub for the mesh, or for the reflector group; one edge per subnet, counting sessions.
    const reflectors = cluster.nodes.filter((n) => n.routeReflector);
    const hubId = topology === 'full-mesh' ? 'hub_mesh' : 'hub_reflectors';
    const all = [...pairSessions.values()].flatMap((p) => p.sessions);
    hubs.push({
      id: hubId,
      kind: topology === 'full-mesh' ? 'mesh' : 'reflectors',
      label:
        topology === 'full-mesh'
          ? [`node-to-node mesh`, `${cluster.nodes.length} nodes, ${pairSessions.size} peerings`, countLabel(all)]
          : [
              `route reflectors`,
              reflectors.map((r) => r.name).join(', '),
              `${pairSessions.size} peerings: ${countLabel(all)}`,
            ],
    });
    for (const group of groupsById.values()) {
      const members = new Set(group.nodes);
      const sessions = [...pairSessions.values()]
        .filter((p) => members.has(nodeId(p.a)) || members.has(nodeId(p.b)))
        .flatMap((p) => p.sessions.filter((s) => members.has(safeId('node', s.node))));
      const down = sessions.filter((s) => s.state === 'down');
      const named = down.slice(0, 3).map((s) => `${s.node}→${s.neighborName}`);
      const label = `${sessions.length} sessions: ${countLabel(sessions)}${named.length ? ` (${named.join(', ')}${down.length > 3 ? ', …' : ''})` : ''}`;
      // From the hub: the layered layout puts it above the subnets, with the peers.
      addEdge(hubId, group.id, topology === 'full-mesh' ? 'mesh' : 'route-reflector', sessions, label);
    }
  }

  // External peers: one box each; an edge per node (detailed) or per subnet (summarized).
  for (const peer of cluster.peers) {
    const id = safeId('peer', peer.address);
    const served = peer.nodes ?? [];
    const listed =
      served.length === 0
        ? 'global peer'
        : served.length <= 3
          ? `for ${served.join(', ')}`
          : `for ${served.length} nodes: ${served[0]} … ${served[served.length - 1]}`;
    // A nodeSelector peer: its selector says which nodes (the edges below show them).
    const scope = peer.nodeSelector !== undefined && served.length === 0 ? `nodes: ${peer.nodeSelector}` : listed;
    hubs.push({ id, kind: 'peer', label: [`peer ${peer.address}`, `AS ${peer.asNumber}`, scope] });
    const states = cluster.nodes.flatMap((node) =>
      (sessionsOf.get(node.name) ?? [])
        .filter((s) => s.session.kind === 'global' && s.session.neighbor === peer.address)
        .map((s) => s.state),
    );
    if (detailed) {
      for (const s of states) addEdge(id, safeId('node', s.node), 'peer', [s]);
    } else {
      for (const group of groupsById.values()) {
        const members = states.filter((s) => group.nodes.includes(safeId('node', s.node)));
        if (members.length)
          addEdge(id, group.id, 'peer', members, `${members.length} sessions: ${countLabel(members)}`);
      }
    }
  }

  // Tunnels: which blocks travel encapsulated, between subnets (or within one, in Always mode).
  const encapsulation = encapsulationOf(cluster);
  if (encapsulation) {
    const pairs = new Map<string, { from: string; to: string; blocks: Set<string> }>();
    for (const node of cluster.nodes) {
      const plan = overlayPlanOf(cluster, node.name);
      for (const remote of plan?.remotes ?? []) {
        if (!remote.encapsulate) continue;
        const a = safeId('subnet', subnetOf(node));
        const b = safeId('subnet', subnetOf(cluster.nodes.find((n) => n.name === remote.node) as NodeSpec));
        const [from, to] = a < b ? [a, b] : [b, a];
        const entry = pairs.get(`${from} ${to}`) ?? { from, to, blocks: new Set<string>() };
        entry.blocks.add(remote.block);
        pairs.set(`${from} ${to}`, entry);
      }
    }
    const name = `${encapsulation.kind.toUpperCase()} ${encapsulation.mode}`;
    const tunnelEdge = (from: string, to: string, label: string) =>
      edges.push({ id: `e${edges.length}`, from, to, kind: 'tunnel', state: 'established', sessions: [], label });
    if (groupsById.size <= 2) {
      for (const { from, to, blocks } of pairs.values()) tunnelEdge(from, to, `${name}: ${blocks.size} blocks`);
    } else if (pairs.size > 0) {
      // Three subnets or more: one overlay box, each subnet's edge naming how many of its
      // blocks others reach through the tunnel (edges between every pair would cross everything).
      hubs.push({
        id: 'hub_tunnel',
        kind: 'tunnel',
        label: [
          `${name} overlay`,
          `${encapsulation.kind === 'vxlan' ? 'vxlan.calico' : 'tunl0'}, between ${groupsById.size} subnets`,
        ],
      });
      for (const group of groupsById.values()) {
        const own = new Set(cluster.nodes.filter((n) => group.nodes.includes(nodeId(n))).map((n) => n.podCidr));
        const carried = [...pairs.values()]
          .filter((p) => p.from === group.id || p.to === group.id)
          .flatMap((p) => [...p.blocks])
          .filter((b) => own.has(b));
        if (carried.length) tunnelEdge(group.id, 'hub_tunnel', `${new Set(carried).size} blocks tunnelled`);
      }
    }
  }

  const everySession = [...sessionsOf.values()].flat().map((s) => s.state);
  const summary = [
    `${cluster.nodes.length} nodes, ${groupsById.size} subnet${groupsById.size === 1 ? '' : 's'}, ${topology}${encapsulation ? `, ${encapsulation.kind} ${encapsulation.mode}` : ''}`,
    `BGP sessions (each end): ${countLabel(everySession)}`,
  ];
  const unreachable = nodes.filter((n) => n.unreachable !== undefined).map((n) => n.name);
  if (unreachable.length) summary.push(`unreachable: ${unreachable.join(', ')}`);
  const drifted = nodes.filter((n) => n.drifted.length > 0).map((n) => n.name);
  if (live.drift) summary.push(drifted.length ? `drifted: ${drifted.join(', ')}` : 'no drift');
  summary.push(...(live.notes ?? []));
  return { cluster: cluster.name, topology, detailed, groups: [...groupsById.values()], nodes, hubs, edges, summary };
}
