/**
 * Addressing and topology checks on a whole cluster, run before anything is synthesized: by the
 * inventory loader and by CalicoCluster (a construct validation, which cdktf runs before it
 * writes a stack). Each problem is one line naming the node, workload or field.
 *
 * Names: node and workload names must be safe as a network namespace name and in messages and
 * import ids: letters, digits, "_", ".", "-", starting with a letter or digit, at most 63
 * characters (the provider checks the same rule). AS numbers: 1..4294967295 except 23456
 * (AS_TRANS, a placeholder that must never be configured as a real AS).
 */
import {
  inRange,
  absolutePathProblem,
  envVarNameProblem,
  hostNameProblem,
  ipv4CidrProblem,
  mtuProblem,
  nodeNameProblem,
  podIpProblem,
  portProblem,
  usableHostAddressProblem,
  userNameProblem,
  workloadNameProblem,
} from '../rules/checks';
import { BIRD_RELOAD } from '../rules/constants';
import { addressValue, cidrContainsCidr, cidrContainsIp, cidrsOverlap, parseCidr } from '../rules/address-family';
import {
  mergeSsh,
  parseProxyJump,
  proxyJumpKeysProblem,
  proxyJumpProblem,
  resolveNodeSsh,
  SshSettings,
} from '../rules/ssh';
import { SshConfigError } from '../rules/ssh-config';
import { prefixLengthProblem } from '../rules/subnets';
import { clusterAs, ClusterSpec, ENCAPSULATION_MODES, nodeAs } from './model';
import { encapsulationOf, tunnelAddressOf } from './overlay';
import { dualStackProblems } from './dual-stack';
import { isIpv6Peer } from './bird-v6';
import { peeringProblems } from './peering-validation';
import { clusterPolicyProblems } from './policy-validation';
import { shardingProblems } from './shards';

export class ClusterValidationError extends Error {
  constructor(public readonly problems: string[]) {
    super(problems.length === 1 ? problems[0] : `${problems.length} problems:\n  ${problems.join('\n  ')}`);
    this.name = 'ClusterValidationError';
  }
}

const AS_TRANS = 23456;

export function asNumberProblem(value: number): string | null {
  if (!Number.isInteger(value) || value < 1 || value > 4294967295) {
    return `${value} is not an AS number (1..4294967295)`;
  }
  if (value === AS_TRANS) return '23456 is AS_TRANS, reserved for 4-byte AS translation';
  return null;
}

/** A BGP password goes inside a quoted string in bird.conf: keep it from breaking out. */
export function passwordProblem(value: string): string | null {
  if (value.length === 0 || value.length > 80) return 'must be 1..80 characters (TCP-MD5 key)';
  if (!/^[\x21-\x7e]+$/.test(value) || /["\\]/.test(value)) {
    return 'may use printable ASCII except spaces, double quotes and backslashes';
  }
  return null;
}

function sshProblems(ssh: SshSettings | undefined, where: string, out: string[]): void {
  if (!ssh) return;
  if (ssh.port !== undefined) {
    const p = portProblem(ssh.port);
    if (p) out.push(`${where}.port: ${p}`);
  }
  const check = (field: keyof SshSettings, fn: (v: string) => string | null) => {
    const v = ssh[field];
    if (typeof v === 'string') {
      const p = fn(v);
      if (p) out.push(`${where}.${field}: ${p}`);
    }
  };
  check('user', userNameProblem);
  check('passphraseEnv', envVarNameProblem);
  check('privateKeyPath', absolutePathProblem);
  check('knownHostsPath', absolutePathProblem);
  check('proxyJump', proxyJumpProblem);
  ssh.proxyJumpKeys?.forEach((k, i) => {
    const p = k === '' ? null : absolutePathProblem(k);
    if (p) out.push(`${where}.proxyJumpKeys[${i}]: ${p}`);
  });
  if (typeof ssh.sshConfig === 'string') check('sshConfig', absolutePathProblem);
}

/**
 * What ssh_config makes of a node: the file must be readable, and what it supplies passes the
 * same checks as an explicit value, named by the ssh_config setting. A node must not jump
 * through itself.
 */
function resolvedSshProblems(
  cluster: ClusterSpec,
  node: ClusterSpec['nodes'][number],
  label: string,
  out: string[],
): void {
  const merged = mergeSsh(cluster.ssh, node.ssh);
  if (typeof merged.sshConfig === 'string' && absolutePathProblem(merged.sshConfig)) return; // reported above
  if (merged.proxyJump !== undefined && proxyJumpProblem(merged.proxyJump)) return; // reported above
  let resolved;
  try {
    resolved = resolveNodeSsh(node, cluster.ssh);
  } catch (err) {
    if (!(err instanceof SshConfigError)) throw err;
    out.push(`${label}.ssh.sshConfig: ${err.message}`);
    return;
  }
  const from = (setting: string) =>
    `${label}.ssh.sshConfig: ${setting} from ${merged.sshConfig === true ? '~/.ssh/config' : merged.sshConfig}`;
  const s = resolved.settings;
  if (resolved.fromSshConfig.includes('HostName') && hostNameProblem(resolved.host))
    out.push(`${from('HostName')}: ${hostNameProblem(resolved.host)}`);
  if (resolved.fromSshConfig.includes('User') && s.user !== undefined && userNameProblem(s.user))
    out.push(`${from('User')}: ${userNameProblem(s.user)}`);
  if (resolved.fromSshConfig.includes('ProxyJump') && s.proxyJump !== undefined && proxyJumpProblem(s.proxyJump)) {
    out.push(`${from('ProxyJump')}: ${proxyJumpProblem(s.proxyJump)}`);
    return;
  }
  // One key per hop (resolveSsh leaves a mismatched list and its hops as written).
  const keysProblem = proxyJumpKeysProblem(s.proxyJump, s.proxyJumpKeys);
  if (keysProblem) out.push(`${label}.ssh.proxyJumpKeys: ${keysProblem}`);
  const hops = s.proxyJump === undefined ? [] : parseProxyJump(s.proxyJump);
  if (typeof hops !== 'string' && hops.some((h) => h.host === resolved.host && (h.port ?? 22) === (s.port ?? 22))) {
    out.push(
      `${label}.ssh.proxyJump: "${s.proxyJump}" goes through the node itself (${resolved.host}); use "none" on the bastion's own node`,
    );
  }
}

function birdReloadProblems(cluster: ClusterSpec, out: string[]): void {
  const { sessionWait, revertAfter } = cluster.birdReload ?? {};
  const wait = sessionWait ?? BIRD_RELOAD.sessionWait;
  const waitProblem = sessionWait === undefined ? null : inRange(0, BIRD_RELOAD.maxSessionWait)(sessionWait);
  if (waitProblem) out.push(`cluster.birdReload.sessionWait: ${waitProblem}`);
  if (revertAfter !== undefined && (inRange(1, BIRD_RELOAD.maxRevertAfter)(revertAfter) || revertAfter <= wait)) {
    out.push(
      `cluster.birdReload.revertAfter: ${revertAfter} must be whole seconds above sessionWait (${wait}), at most ${BIRD_RELOAD.maxRevertAfter}`,
    );
  }
}

/**
 * vxlanMode / ipipMode: each one of Calico's three values, at most one other than Never, and for
 * CrossSubnet every node's prefix length (without it, which nodes share a subnet is unknown).
 * Returns whether the modes themselves are usable (the per-workload checks rely on them).
 */
function encapsulationProblems(cluster: ClusterSpec, nodeLabel: (i: number) => string, out: string[]): boolean {
  let bad = false;
  for (const field of ['vxlanMode', 'ipipMode'] as const) {
    const v = cluster[field];
    if (v !== undefined && !ENCAPSULATION_MODES.includes(v)) {
      out.push(`cluster.${field}: must be one of ${ENCAPSULATION_MODES.join(', ')}, not ${JSON.stringify(v)}`);
      bad = true;
    }
  }
  if (bad) return false;
  const { vxlanMode, ipipMode } = cluster;
  if (vxlanMode !== undefined && vxlanMode !== 'Never' && ipipMode !== undefined && ipipMode !== 'Never') {
    out.push(
      `cluster.ipipMode: at most one of vxlanMode and ipipMode may be other than Never (vxlanMode is ${vxlanMode}, ipipMode ${ipipMode})`,
    );
    return false;
  }
  const encapsulation = encapsulationOf(cluster);
  if (encapsulation?.mode !== 'CrossSubnet') return true;
  cluster.nodes.forEach((node, i) => {
    if (node.prefixLength === undefined) {
      out.push(
        `${nodeLabel(i)}.address: ${encapsulation.field} CrossSubnet needs every node's prefix length, to tell which nodes share a subnet (e.g. address: ${node.address}/24)`,
      );
    }
  });
  return true;
}

/** Every problem of the cluster, in a stable order; empty when it is fine. */
export function clusterProblems(cluster: ClusterSpec): string[] {
  const out: string[] = [];
  const nodeLabel = (i: number) => `nodes[${i}] "${cluster.nodes[i].name}"`;

  const clusterName = nodeNameProblem(cluster.name);
  if (clusterName) out.push(`cluster.name: ${clusterName}`);
  const poolProblem = ipv4CidrProblem(cluster.podCidr);
  if (poolProblem) out.push(`cluster.podCidr: ${poolProblem}`);
  const pool = poolProblem ? null : parseCidr(cluster.podCidr);
  if (cluster.asNumber !== undefined) {
    const p = asNumberProblem(cluster.asNumber);
    if (p) out.push(`cluster.asNumber: ${p}`);
  }
  sshProblems(cluster.ssh, 'ssh', out);
  birdReloadProblems(cluster, out);
  const encapsulation = encapsulationProblems(cluster, nodeLabel, out) ? encapsulationOf(cluster) : undefined;
  if (cluster.nodes.length === 0) out.push('nodes: a cluster needs at least one node');

  const names = new Map<string, number>();
  const addresses = new Map<string, number>();
  const blocks: { i: number; cidr: ReturnType<typeof parseCidr> }[] = [];

  cluster.nodes.forEach((node, i) => {
    const label = nodeLabel(i);
    const nameProblem = nodeNameProblem(node.name);
    if (nameProblem) out.push(`nodes[${i}].name: ${nameProblem}`);
    if (names.has(node.name)) out.push(`${label}: duplicate node name (also nodes[${names.get(node.name)}])`);
    else names.set(node.name, i);

    const prefixProblem = node.prefixLength === undefined ? null : prefixLengthProblem(node.prefixLength);
    if (prefixProblem) out.push(`${label}.address: ${prefixProblem}`);
    const addrProblem = usableHostAddressProblem(node.address, prefixProblem ? undefined : node.prefixLength);
    if (addrProblem) out.push(`${label}.address: ${addrProblem}`);
    else {
      if (addresses.has(node.address)) {
        const j = addresses.get(node.address)!;
        out.push(`${label}.address: ${node.address} is already the address of node "${cluster.nodes[j].name}"`);
      } else addresses.set(node.address, i);
      if (pool && cidrContainsIp(pool, node.address)) {
        out.push(`${label}.address: ${node.address} lies inside the pod pool ${cluster.podCidr}`);
      }
    }
    if (node.sshHost !== undefined && hostNameProblem(node.sshHost))
      out.push(`${label}.sshHost: ${hostNameProblem(node.sshHost)}`);
    if (node.asNumber !== undefined) {
      const p = asNumberProblem(node.asNumber);
      if (p) out.push(`${label}.asNumber: ${p}`);
    }
    for (const field of ['birdConfigPath', 'birdSocketPath'] as const) {
      const v = node[field];
      if (v !== undefined && absolutePathProblem(v)) out.push(`${label}.${field}: ${absolutePathProblem(v)}`);
    }
    sshProblems(node.ssh, `${label}.ssh`, out);
    resolvedSshProblems(cluster, node, label, out);

    const blockProblem = ipv4CidrProblem(node.podCidr);
    if (blockProblem) {
      out.push(`${label}.podCidr: ${blockProblem}`);
      return;
    }
    const block = parseCidr(node.podCidr);
    if (block.length > 30) {
      out.push(`${label}.podCidr: ${node.podCidr} is too small to hold a workload (at most /30)`);
    }
    if (pool && !cidrContainsCidr(pool, block)) {
      out.push(`${label}.podCidr: ${node.podCidr} is outside the pod pool ${cluster.podCidr}`);
    }
    for (const other of blocks) {
      if (cidrsOverlap(other.cidr, block)) {
        out.push(
          `${label}.podCidr: ${node.podCidr} overlaps node "${cluster.nodes[other.i].name}" (${other.cidr.text})`,
        );
      }
    }
    blocks.push({ i, cidr: block });

    const workloadNames = new Map<string, number>();
    const workloadIps = new Map<string, number>();
    node.workloads.forEach((w, k) => {
      const wLabel = `${label}.workloads[${k}] "${w.name}"`;
      const wName = workloadNameProblem(w.name);
      if (wName) out.push(`${label}.workloads[${k}].name: ${wName}`);
      if (workloadNames.has(w.name)) out.push(`${wLabel}: duplicate workload name on node "${node.name}"`);
      else workloadNames.set(w.name, k);
      const badMtu = w.mtu === undefined ? null : mtuProblem(w.mtu);
      if (badMtu) out.push(`${wLabel}.mtu: ${badMtu}`);
      if (w.ip === undefined) {
        // An IPv6-only workload: its ipv6 is checked with the dual-stack rules (dual-stack.ts).
        if (w.ipv6 === undefined) out.push(`${wLabel}.ip: a workload needs ip, or ipv6 on a dual-stack cluster`);
        return;
      }
      const ipProblem = podIpProblem(w.ip);
      if (ipProblem) {
        out.push(`${wLabel}.ip: ${ipProblem}`);
        return;
      }
      if (workloadIps.has(w.ip)) {
        const first = node.workloads[workloadIps.get(w.ip)!].name;
        out.push(`${wLabel}.ip: ${w.ip} is already the IP of workload "${first}"`);
      } else workloadIps.set(w.ip, k);
      if (!cidrContainsIp(block, w.ip)) {
        out.push(`${wLabel}.ip: ${w.ip} is outside node "${node.name}"'s block ${node.podCidr}`);
      } else if (addressValue(w.ip) === block.network) {
        out.push(`${wLabel}.ip: ${w.ip} is the network address of ${node.podCidr}`);
      } else if (addressValue(w.ip) === block.last) {
        out.push(`${wLabel}.ip: ${w.ip} is the broadcast address of ${node.podCidr}`);
      } else if (encapsulation && w.ip === tunnelAddressOf(node.podCidr)) {
        out.push(
          `${wLabel}.ip: ${w.ip} is node "${node.name}"'s tunnel address (${encapsulation.field} ${encapsulation.mode}: the first address of its block)`,
        );
      }
    });
  });

  cluster.peers.forEach((peer, i) => {
    const label = `peers[${i}] ${peer.address}`;
    // An IPv6 peer's address is checked with the dual-stack rules (dual-stack.ts).
    const addrProblem = isIpv6Peer(peer) ? null : usableHostAddressProblem(peer.address);
    if (addrProblem) out.push(`peers[${i}].address: ${addrProblem}`);
    else if (addresses.has(peer.address)) {
      out.push(
        `${label}: is the address of node "${cluster.nodes[addresses.get(peer.address)!].name}"; external peers are other routers`,
      );
    }
    const asProblem = asNumberProblem(peer.asNumber);
    if (asProblem) out.push(`${label}.asNumber: ${asProblem}`);
    if (peer.password !== undefined) {
      const p = passwordProblem(peer.password);
      if (p) out.push(`${label}.password: ${p}`);
    }
    if (peer.nodes !== undefined) {
      if (peer.nodes.length === 0) out.push(`${label}.nodes: names no node (leave nodes out for a peer of every node)`);
      const seen = new Set<string>();
      for (const name of peer.nodes) {
        if (!names.has(name)) out.push(`${label}.nodes: no node named "${name}"`);
        else if (seen.has(name)) out.push(`${label}.nodes: "${name}" is listed twice`);
        seen.add(name);
      }
    }
  });

  out.push(...peeringProblems(cluster, asNumberProblem));
  out.push(...dualStackProblems(cluster, nodeLabel));

  if ((cluster.topology ?? 'full-mesh') === 'route-reflector') {
    const rrs = cluster.nodes.filter((n) => n.routeReflector);
    if (rrs.length === 0) {
      out.push('cluster.topology: route-reflector needs at least one node with routeReflector: true');
    }
    // Route reflection is an iBGP mechanism: every RR session must stay inside one AS.
    const as = clusterAs(cluster);
    cluster.nodes.forEach((node, i) => {
      if (rrs.length > 0 && nodeAs(cluster, node) !== as) {
        out.push(
          `${nodeLabel(i)}.asNumber: ${nodeAs(cluster, node)} differs from the cluster AS ${as}; route-reflector sessions must be iBGP`,
        );
      }
    });
  } else {
    cluster.nodes.forEach((node, i) => {
      if (node.routeReflector) {
        out.push(
          `${nodeLabel(i)}.routeReflector: set, but cluster.topology is full-mesh (use topology: route-reflector)`,
        );
      }
    });
  }
  out.push(...clusterPolicyProblems(cluster));
  out.push(...shardingProblems(cluster));
  return out;
}

/** Specs that validateCluster accepted, so a cluster built from one is not checked again. */
const accepted = new WeakSet<ClusterSpec>();

/** Throws ClusterValidationError listing every problem; remembers the spec when there is none. */
export function validateCluster(cluster: ClusterSpec): void {
  const problems = clusterProblems(cluster);
  if (problems.length > 0) throw new ClusterValidationError(problems);
  accepted.add(cluster);
}

/** Whether validateCluster accepted this very object (the caller must not have changed it since). */
export function wasAccepted(cluster: ClusterSpec): boolean {
  return accepted.has(cluster);
}
