/**
 * A test cluster made of network namespaces on this machine: one "switch" namespace holding a
 * bridge, one namespace per node and one for the operator, joined by veth pairs. Each node also
 * gets a private mount namespace (its own /run, /root and /etc/bird), a real sshd and a real
 * bird, so commands arriving over SSH behave as on a host.
 * Nothing in the root network namespace changes but the kernel's neighbour-table limits, which
 * are shared and only ever raised (raiseNeighbourTable). Lab K uses 198.18.K.0/24 and names "cnK-…".
 *
 * With `subnets: 2` the nodes are split over two L2 segments, 198.18.K.0/25 and
 * 198.18.K.128/25 (one bridge each), joined by a router namespace that forwards between them
 * like a cloud VPC router: it knows no pod routes and runs no BGP. The operator sits on the first
 * segment and reaches the second through the router, unless `operatorReach: 'first'` (nodes of the
 * second segment are then reachable only from other nodes, e.g. through a bastion).
 *
 * With `ipv6: true` (`calico-net lab up --ipv6`) the nodes and the operator hold an IPv6 address
 * as well, lab K's own /64 mirroring its /24 (fd00:198:18:K::/64, node k at ::k, the operator at
 * ::254), and the inventory is dual-stack: the cluster's podCidrV6 fd00:198:19::/48, each node's
 * ipv6Address and podCidrV6 fd00:198:19:k::/64 beside its 198.19.k.0/24. Without it the lab is
 * exactly the IPv4 lab it always was.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { stringify as toYaml } from 'yaml';
import { shQuote } from '../providers/ssh/quote';
import { canonicalIpv6 } from '../rules/address-family';
import type { RemoteHost } from '../providers/ssh/types';
import { missingPrerequisites } from './prerequisites';
import { alive, run, RunResult, waitFor } from './process';

export interface LabNode {
  name: string;
  address: string;
  asNumber?: number;
  podCidr: string;
  routeReflector: boolean;
  /** The node's IPv6 address, bare (`--ipv6` labs only); its network is LabInfo.ipv6Subnet. */
  ipv6Address?: string;
  /** The node's IPv6 block (`--ipv6` labs only). */
  podCidrV6?: string;
  /** Index of the node's L2 segment (0 on a one-subnet lab). */
  subnet: number;
  /** Prefix length of the node's segment (24, or 25 on a two-subnet lab). */
  prefixLength: number;
  netns: string;
  /** Holds the node's mount namespace; nsenter -t <holderPid> -n -m enters the node. */
  holderPid: number;
  sshdPid: number;
  birdPid: number;
}

export interface LabInfo {
  id: number;
  dir: string;
  switchNetns: string;
  operator: { netns: string; address: string; ipv6Address?: string };
  /** The lab's IPv6 network (`--ipv6` labs only): fd00:198:18:K::/64. */
  ipv6Subnet?: string;
  /** The segments' CIDRs, in order (one on a one-subnet lab). */
  subnets: string[];
  /** The router joining the segments (two-subnet labs): its namespace and address on each. */
  router?: { netns: string; addresses: string[] };
  nodes: LabNode[];
  clientKeyPath: string;
  knownHostsPath: string;
  inventoryPath: string;
}

export interface LabOptions {
  dir: string;
  nodes: number;
  id?: number;
  workloadsPerNode?: number;
  asMode?: 'ibgp' | 'ebgp';
  routeReflectors?: number;
  /** 1 (default): one segment. 2: two segments joined by a router. */
  subnets?: number;
  /** Which segments the operator can reach (two-subnet labs). @default 'all' */
  operatorReach?: 'all' | 'first';
  /** IPv6 addresses beside the IPv4 ones, and a dual-stack inventory (one-subnet labs). @default false */
  ipv6?: boolean;
  log?: (line: string) => void;
}

/** The most nodes a one-subnet lab holds on its own /24 (every existing lab's addressing). */
export const NARROW_LAB_MAX_NODES = 200;
/** The most nodes a wide lab holds: a /23 (ids K and K+1) less the operator, and /25 pod blocks. */
export const WIDE_LAB_MAX_NODES = 500;

/**
 * Where each node, the operator and the router sit: the addressing of lab `id`.
 *
 * Up to 200 nodes on one subnet (every lab so far): nodes 198.18.K.1 up on 198.18.K.0/24, the
 * operator .254, and node k's pod block 198.19.(k+1).0/24, so one /24 bounds a lab twice (253
 * hosts on the segment, 255 /24 blocks in 198.19.0.0/16). Past 200 nodes the lab is wide: its
 * segment is the /23 198.18.K.0/23 (K even; the lab uses id K+1's addresses too, so that id must
 * not be up), nodes from 198.18.K.1 on, the operator 198.18.(K+1).254, and /25 pod blocks
 * (Calico's default block is smaller still, a /26): node k's is 198.19.⌊k/2⌋.(k mod 2 × 128)/25.
 */
export function labAddressing(id: number, nodes: number, subnets: number) {
  const base = `198.18.${id}`;
  if (subnets === 1 && nodes > NARROW_LAB_MAX_NODES) {
    return {
      subnets: [`${base}.0/23`],
      prefixLength: 23,
      operator: `198.18.${id + 1}.254`,
      router: undefined,
      node: (k: number) => ({ address: `198.18.${id + ((k + 1) >> 8)}.${(k + 1) & 255}`, subnet: 0 }),
      podCidr: (k: number) => `198.19.${k >> 1}.${(k & 1) * 128}/25`,
    };
  }
  const podCidr = (k: number) => `198.19.${k + 1}.0/24`;
  if (subnets === 1) {
    return {
      subnets: [`${base}.0/24`],
      prefixLength: 24,
      operator: `${base}.254`,
      router: undefined,
      node: (k: number) => ({ address: `${base}.${k + 1}`, subnet: 0 }),
      podCidr,
    };
  }
  // First half on 198.18.K.0/25 (.1 up), the rest on 198.18.K.128/25 (.129 up); the router
  // holds .126 and .254, the operator .125.
  const firstCount = Math.ceil(nodes / 2);
  const router = [`${base}.126`, `${base}.254`];
  return {
    subnets: [`${base}.0/25`, `${base}.128/25`],
    prefixLength: 25,
    operator: `${base}.125`,
    router,
    node: (k: number) =>
      k < firstCount
        ? { address: `${base}.${k + 1}`, subnet: 0 }
        : { address: `${base}.${129 + k - firstCount}`, subnet: 1 },
    podCidr,
  };
}

/** Prefix length of a lab's IPv6 network: one /64 per lab. */
export const LAB_IPV6_PREFIX_LENGTH = 64;
/** The IPv6 pod pool of a dual-stack lab inventory, the twin of 198.19.0.0/16. */
export const LAB_POD_CIDR_V6 = 'fd00:198:19::/48';

/**
 * Lab `id`'s IPv6 addressing, inside fd00:198:18::/48: its /64 and the address of its node k
 * (1-based) and of its operator. The lab id and the host number are written with the decimal
 * digits of their IPv4 twins (198.18.135.2 ↔ fd00:198:18:135::2): a valid hex group, one per lab
 * id, and the two read alike.
 */
export function labIpv6Addressing(id: number) {
  const at = (host: number | string) => canonicalIpv6(`fd00:198:18:${id}::${host}`);
  return {
    subnet: `${canonicalIpv6(`fd00:198:18:${id}::`)}/${LAB_IPV6_PREFIX_LENGTH}`,
    operator: at(254),
    node: (k: number) => at(k),
    /** Node k's IPv6 block, the twin of 198.19.k.0/24. */
    podCidrV6: (k: number) => `${canonicalIpv6(`fd00:198:19:${k}::`)}/64`,
    /** Workload w (0-based) of node k, the twin of 198.19.k.(w+2). */
    workload: (k: number, w: number) => canonicalIpv6(`fd00:198:19:${k}::${w + 2}`),
  };
}

/**
 * A `--ipv6` lab's inventory gives every workload its `ipv6` beside `ip` (calico_workload
 * programs both families on the host).
 */
export const LAB_WORKLOAD_IPV6 = true;

/** The address of a node's w-th workload: its pod block's first addresses after .0 and .1. */
export function workloadAddress(podCidr: string, w: number): string {
  const [a, b, c, d] = podCidr.split('/')[0].split('.').map(Number);
  return `${a}.${b}.${c}.${d + w + 2}`;
}

function checkPrerequisites(): void {
  const missing = missingPrerequisites('lab');
  if (missing.length) throw new Error(`missing: ${missing.join(', ')}`);
}

const labJson = (dir: string) => path.join(dir, 'lab.json');

export function loadLab(dir: string): LabInfo {
  return JSON.parse(fs.readFileSync(labJson(dir), 'utf8')) as LabInfo;
}

function saveLab(lab: LabInfo): void {
  fs.writeFileSync(labJson(lab.dir), JSON.stringify(lab, null, 2) + '\n');
}

async function must(cmd: string, args: string[], what: string): Promise<RunResult> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${what} failed: ${cmd} ${args.join(' ')}: ${(r.stderr || r.stdout).trim()}`);
  return r;
}

const nodeDir = (lab: LabInfo, node: string) => path.join(lab.dir, node);

function nodeOf(lab: LabInfo, nodeName: string): LabNode {
  const node = lab.nodes.find((n) => n.name === nodeName);
  if (!node) throw new Error(`no node ${nodeName} in lab ${lab.id}`);
  return node;
}

/** Runs a command inside a node (its network and mount namespaces). */
export function nodeExec(
  lab: LabInfo,
  nodeName: string,
  argv: string[],
  opts: { input?: string } = {},
): Promise<RunResult> {
  const node = nodeOf(lab, nodeName);
  return run('nsenter', ['-t', String(node.holderPid), '-n', '-m', ...argv], { input: opts.input });
}

/**
 * The node as a host the provider's handlers can run scripts on, entered with nsenter instead
 * of SSH. Failing to enter the node is the transport failing (like a refused connection).
 */
export function nodeHost(lab: LabInfo, nodeName: string): RemoteHost {
  const node = nodeOf(lab, nodeName);
  return {
    label: `${node.name} (${node.address})`,
    async run(script, options = {}) {
      const r = await nodeExec(lab, node.name, ['bash', '--norc', '-c', script], { input: options.stdin });
      if (r.code !== 0 && /^nsenter: /.test(r.stderr)) throw new Error(`${node.name}: ${r.stderr.trim()}`);
      return r;
    },
  };
}

/** Runs a command in the operator namespace, from where the nodes are reachable. */
export function operatorExec(
  lab: LabInfo,
  argv: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; onOutput?: (chunk: string) => void } = {},
): Promise<RunResult> {
  return run('ip', ['netns', 'exec', lab.operator.netns, ...argv], {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    input: opts.input,
    onOutput: opts.onOutput,
  });
}

/** Starts a long-lived process inside a node, in its own session, and returns its pid. */
function startInNode(lab: LabInfo, node: LabNode, argv: string[], logName: string): number {
  const log = fs.openSync(path.join(nodeDir(lab, node.name), logName), 'a');
  const child = spawn('nsenter', ['-t', String(node.holderPid), '-n', '-m', ...argv], {
    detached: true,
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  child.unref();
  if (!child.pid) throw new Error(`could not start ${argv[0]} on ${node.name}`);
  return child.pid;
}

async function stopPid(pid: number | undefined): Promise<void> {
  if (!pid || !alive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const gone = await waitFor(async () => !alive(pid), 5000);
  if (!gone && alive(pid)) process.kill(pid, 'SIGKILL');
  await waitFor(async () => !alive(pid), 5000);
}

function sshdConfig(
  lab: LabInfo,
  node: LabNode,
  authorizedKeys: readonly string[] = [`${lab.clientKeyPath}.pub`],
  extraListen: readonly string[] = [],
): string {
  const d = nodeDir(lab, node.name);
  return [
    `ListenAddress ${node.address}`,
    ...extraListen.map((a) => `ListenAddress ${a}`),
    'Port 22',
    `HostKey ${path.join(d, 'ssh_host_ed25519_key')}`,
    `PidFile ${path.join(d, 'sshd.pid')}`,
    `AuthorizedKeysFile ${authorizedKeys.join(' ')}`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'PrintMotd no',
    '',
  ].join('\n');
}

/**
 * `authorizedKeys`: the public key files sshd accepts (default: the lab's client key).
 * `listenAddresses`: addresses to listen on besides the node's own (already on the node).
 */
export async function startSshd(
  lab: LabInfo,
  nodeName: string,
  options: { authorizedKeys?: readonly string[]; listenAddresses?: readonly string[] } = {},
): Promise<void> {
  const node = nodeOf(lab, nodeName);
  const config = path.join(nodeDir(lab, node.name), 'sshd_config');
  fs.writeFileSync(config, sshdConfig(lab, node, options.authorizedKeys, options.listenAddresses));
  node.sshdPid = startInNode(lab, node, ['/usr/sbin/sshd', '-D', '-e', '-f', config], 'sshd.log');
  saveLab(lab);
  const listening = await waitFor(async () => {
    const r = await nodeExec(lab, node.name, ['ss', '-Hltn', `sport = :22`]);
    return r.stdout.includes(`${node.address}:22`);
  }, 10_000);
  if (!listening) throw new Error(`sshd on ${node.name} did not start: ${readLog(lab, node, 'sshd.log')}`);
}

export async function stopSshd(lab: LabInfo, nodeName: string): Promise<void> {
  const node = nodeOf(lab, nodeName);
  await stopPid(node.sshdPid);
  node.sshdPid = 0;
  saveLab(lab);
}

export async function startBird(lab: LabInfo, nodeName: string): Promise<void> {
  const node = nodeOf(lab, nodeName);
  node.birdPid = startInNode(
    lab,
    node,
    ['bird', '-f', '-c', '/etc/bird/bird.conf', '-s', '/run/bird/bird.ctl', '-P', '/run/bird/bird.pid'],
    'bird.log',
  );
  saveLab(lab);
  const up = await waitFor(
    async () => (await nodeExec(lab, node.name, ['birdc', '-s', '/run/bird/bird.ctl', 'show', 'status'])).code === 0,
    10_000,
  );
  if (!up) throw new Error(`bird on ${node.name} did not start: ${readLog(lab, node, 'bird.log')}`);
}

export async function stopBird(lab: LabInfo, nodeName: string): Promise<void> {
  const node = nodeOf(lab, nodeName);
  await stopPid(node.birdPid);
  node.birdPid = 0;
  saveLab(lab);
}

/** A new host key and a restarted sshd; known_hosts keeps the old key (a "changed key" host). */
export async function replaceHostKey(lab: LabInfo, nodeName: string): Promise<void> {
  await stopSshd(lab, nodeName);
  const key = path.join(nodeDir(lab, nodeName), 'ssh_host_ed25519_key');
  fs.rmSync(key, { force: true });
  fs.rmSync(`${key}.pub`, { force: true });
  await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', nodeName, '-f', key], 'host key');
  await startSshd(lab, nodeName);
}

function readLog(lab: LabInfo, node: LabNode, name: string): string {
  try {
    return fs.readFileSync(path.join(nodeDir(lab, node.name), name), 'utf8').slice(-2000);
  } catch {
    return '(no log)';
  }
}

async function netnsExists(name: string): Promise<boolean> {
  const r = await run('ip', ['netns', 'list']);
  return r.stdout.split('\n').some((l) => l.split(' ')[0] === name);
}

export async function labUp(opts: LabOptions): Promise<LabInfo> {
  checkPrerequisites();
  const id = opts.id ?? 0;
  if (!Number.isInteger(id) || id < 0 || id > 255) throw new Error(`lab id must be 0..255, not ${id}`);
  const subnetCount = opts.subnets ?? 1;
  const maxNodes = subnetCount === 1 ? WIDE_LAB_MAX_NODES : NARROW_LAB_MAX_NODES;
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > maxNodes)
    throw new Error(`nodes must be 1..${maxNodes}`);
  if (subnetCount === 1 && opts.nodes > NARROW_LAB_MAX_NODES && (id % 2 !== 0 || id > 254))
    throw new Error(
      `a lab of more than ${NARROW_LAB_MAX_NODES} nodes spans 198.18.K.0/23: its id must be even (K and K+1 are used), not ${id}`,
    );
  if (subnetCount !== 1 && subnetCount !== 2) throw new Error(`subnets must be 1 or 2, not ${subnetCount}`);
  if (subnetCount === 2 && (opts.nodes < 2 || opts.nodes > 240)) throw new Error('a two-subnet lab needs 2..240 nodes');
  if (opts.ipv6 && subnetCount !== 1)
    throw new Error('--ipv6 is built for one-subnet labs only (the router between two segments forwards IPv4 only)');
  const log = opts.log ?? (() => undefined);
  const prefix = `cn${id}-`;
  const dir = path.resolve(opts.dir);
  // A wide lab also takes the next id's addresses: that lab must not be up.
  const taken = subnetCount === 1 && opts.nodes > NARROW_LAB_MAX_NODES ? [`cn${id + 1}-sw`, `cn${id + 1}-op`] : [];
  for (const name of [`${prefix}sw`, `${prefix}op`, `${prefix}rt`, `${prefix}node1`, ...taken]) {
    if (await netnsExists(name)) {
      throw new Error(`namespace ${name} already exists: lab ${id} is up (run: calico-net lab down --dir <its dir>)`);
    }
  }
  fs.mkdirSync(dir, { recursive: true });
  const plan = labAddressing(id, opts.nodes, subnetCount);
  const rrCount = opts.routeReflectors ?? 0;
  const v6 = opts.ipv6 ? labIpv6Addressing(id) : undefined;
  const lab: LabInfo = {
    id,
    dir,
    switchNetns: `${prefix}sw`,
    operator: { netns: `${prefix}op`, address: plan.operator, ...(v6 ? { ipv6Address: v6.operator } : {}) },
    ...(v6 ? { ipv6Subnet: v6.subnet } : {}),
    subnets: plan.subnets,
    router: plan.router && { netns: `${prefix}rt`, addresses: plan.router },
    nodes: Array.from({ length: opts.nodes }, (_, k) => ({
      name: `node${k + 1}`,
      address: plan.node(k).address,
      asNumber: opts.asMode === 'ebgp' ? 64501 + k : undefined,
      podCidr: plan.podCidr(k),
      ...(v6 ? { ipv6Address: v6.node(k + 1), podCidrV6: v6.podCidrV6(k + 1) } : {}),
      routeReflector: k < rrCount,
      subnet: plan.node(k).subnet,
      prefixLength: plan.prefixLength,
      netns: `${prefix}node${k + 1}`,
      holderPid: 0,
      sshdPid: 0,
      birdPid: 0,
    })),
    clientKeyPath: path.join(dir, 'id_ed25519'),
    knownHostsPath: path.join(dir, 'known_hosts'),
    inventoryPath: path.join(dir, 'cluster.yaml'),
  };
  // Files of an earlier lab in the same dir are regenerated, never reused.
  for (const f of [lab.clientKeyPath, `${lab.clientKeyPath}.pub`, lab.knownHostsPath, lab.inventoryPath])
    fs.rmSync(f, { force: true });
  for (const n of lab.nodes) fs.rmSync(nodeDir(lab, n.name), { recursive: true, force: true });
  // Recorded before anything is created, so `lab down` can clean up after a failure midway.
  saveLab(lab);
  try {
    await buildNetwork(lab, opts.operatorReach ?? 'all', log);
    await must(
      'ssh-keygen',
      ['-q', '-t', 'ed25519', '-N', '', '-C', `calico-lab-${id}`, '-f', lab.clientKeyPath],
      'client key',
    );
    const knownHosts: string[] = [];
    for (const node of lab.nodes) {
      log(`${node.name}: namespaces, sshd, bird`);
      await startNode(lab, node);
      const pub = fs
        .readFileSync(path.join(nodeDir(lab, node.name), 'ssh_host_ed25519_key.pub'), 'utf8')
        .trim()
        .split(' ');
      knownHosts.push(`${node.address} ${pub[0]} ${pub[1]}`);
    }
    fs.writeFileSync(lab.knownHostsPath, knownHosts.join('\n') + '\n');
    fs.writeFileSync(
      lab.inventoryPath,
      inventoryYaml(lab, opts.workloadsPerNode ?? 1, opts.asMode ?? 'ibgp', LAB_WORKLOAD_IPV6),
    );
    saveLab(lab);
    log(`lab ${id} up: ${lab.nodes.length} nodes on ${lab.subnets.join(' and ')}, operator ${lab.operator.address}`);
    return lab;
  } catch (err) {
    await labDown(dir).catch(() => undefined);
    throw err;
  }
}

/** One end of a veth pair from a bridge port into a namespace, addressed and up. */
async function plugIn(
  sw: string,
  m: {
    netns: string;
    port: string;
    bridge: string;
    dev: string;
    address: string;
    prefixLength: number;
    ipv6Address?: string;
  },
  plugged: Plugged[],
): Promise<void> {
  // Created inside the switch namespace, the peer placed straight into the member: the root
  // namespace never holds either end.
  await must(
    'ip',
    ['-n', sw, 'link', 'add', m.port, 'type', 'veth', 'peer', 'name', m.dev, 'netns', m.netns],
    `veth ${m.port}`,
  );
  await must('ip', ['-n', sw, 'link', 'set', m.port, 'master', m.bridge, 'up'], `port ${m.port}`);
  const mac = macOf(plugged.length);
  await must('ip', ['-n', m.netns, 'link', 'set', m.dev, 'address', mac], `${m.dev} address`);
  plugged.push({ ...m, mac });
  await must('ip', ['-n', m.netns, 'addr', 'add', `${m.address}/${m.prefixLength}`, 'dev', m.dev], 'address');
  // nodad: the lab's addresses are unique by construction; duplicate detection would hold each
  // one "tentative" (unusable) for 1-2 s.
  if (m.ipv6Address) {
    await must(
      'ip',
      ['-n', m.netns, 'addr', 'add', `${m.ipv6Address}/${LAB_IPV6_PREFIX_LENGTH}`, 'dev', m.dev, 'nodad'],
      'IPv6 address',
    );
  }
  await must('ip', ['-n', m.netns, 'link', 'set', m.dev, 'up'], `${m.dev} up`);
}

interface Plugged {
  netns: string;
  bridge: string;
  dev: string;
  address: string;
  mac: string;
}

/** Fixed MACs: the lab's k-th plugged interface (k < 65,536), the same on every run (captures and neighbour dumps compare). */
const macOf = (k: number) => `02:ca:1c:00:${hex2(k >> 8)}:${hex2(k & 255)}`;
const hex2 = (n: number) => n.toString(16).padStart(2, '0');

/**
 * The neighbour (ARP/NDP) table a lab may fill: every node of a segment talks to every other one
 * (N*(N-1) entries: 992 at 32 nodes, 16,256 at 128, ~40,000 at 200), and all the lab's
 * namespaces share this machine's one kernel, whose table is global with Debian's
 * gc_thresh3 = 1024 for the whole machine (a 32-node verify overflowed it: "neighbor table
 * overflow!", pings failing on a healthy cluster). Real hosts each have their own table, so the
 * lab raises the shared one far enough for a few 200-node labs at once. This replaces the
 * permanent node-to-node entries the lab used to pin: with the room, nodes resolve each other by
 * ARP as hosts do. gc_thresh* exist only in the root namespace, so this is the one thing a lab
 * changes there. It only ever raises (another lab on the machine may rely on the room) and is
 * not undone by `lab down`, for the same reason.
 */
export const NEIGHBOUR_TABLE = { gc_thresh1: 4096, gc_thresh2: 65536, gc_thresh3: 131072 } as const;

export function raiseNeighbourTable(): void {
  for (const family of ['ipv4', 'ipv6']) {
    for (const [name, wanted] of Object.entries(NEIGHBOUR_TABLE)) {
      const file = `/proc/sys/net/${family}/neigh/default/${name}`;
      const now = Number(fs.readFileSync(file, 'utf8').trim());
      if (now < wanted) fs.writeFileSync(file, `${wanted}\n`);
    }
  }
}

async function addNetns(netns: string): Promise<void> {
  await must('ip', ['netns', 'add', netns], `netns ${netns}`);
  await must('ip', ['-n', netns, 'link', 'set', 'lo', 'up'], 'lo');
}

async function buildNetwork(lab: LabInfo, operatorReach: 'all' | 'first', log: (l: string) => void): Promise<void> {
  const sw = lab.switchNetns;
  const bridges = lab.subnets.map((_, i) => `br${i}`);
  log(`switch namespace ${sw} with ${bridges.join(', ')}`);
  await addNetns(sw);
  for (const br of bridges) {
    await must('ip', ['-n', sw, 'link', 'add', br, 'type', 'bridge'], 'bridge');
    await must('ip', ['-n', sw, 'link', 'set', br, 'up'], 'bridge up');
  }
  const prefixLength = Number(lab.subnets[0].split('/')[1]);
  raiseNeighbourTable();
  const plugged: Plugged[] = [];
  await addNetns(lab.operator.netns);
  await plugIn(
    sw,
    {
      netns: lab.operator.netns,
      port: 'pop',
      bridge: 'br0',
      dev: 'eth0',
      address: lab.operator.address,
      prefixLength,
      ipv6Address: lab.operator.ipv6Address,
    },
    plugged,
  );
  if (lab.router) {
    const rt = lab.router;
    log(`router ${rt.netns} between ${lab.subnets.join(' and ')} (no pod routes, no BGP)`);
    await addNetns(rt.netns);
    for (const [i, address] of rt.addresses.entries()) {
      await plugIn(
        sw,
        { netns: rt.netns, port: `prt${i}`, bridge: bridges[i], dev: `eth${i}`, address, prefixLength },
        plugged,
      );
    }
    await must('ip', ['netns', 'exec', rt.netns, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'], 'router forwarding');
    if (operatorReach === 'all') {
      await must(
        'ip',
        ['-n', lab.operator.netns, 'route', 'add', lab.subnets[1], 'via', rt.addresses[0]],
        'operator route',
      );
    }
  }
  for (const [k, n] of lab.nodes.entries()) {
    await addNetns(n.netns);
    await plugIn(
      sw,
      {
        netns: n.netns,
        port: `p${k + 1}`,
        bridge: bridges[n.subnet],
        dev: 'eth0',
        address: n.address,
        prefixLength: n.prefixLength,
        ipv6Address: n.ipv6Address,
      },
      plugged,
    );
    // A host's usual default route; calico_node copes without one (see providers/calico/node.ts).
    // On a one-subnet lab the operator stands in for the router (it forwards nothing).
    const gateway = lab.router ? lab.router.addresses[n.subnet] : lab.operator.address;
    await must('ip', ['-n', n.netns, 'route', 'add', 'default', 'via', gateway], 'default route');
    if (n.ipv6Address && lab.operator.ipv6Address)
      await must(
        'ip',
        ['-n', n.netns, '-6', 'route', 'add', 'default', 'via', lab.operator.ipv6Address],
        'IPv6 default route',
      );
  }
}

async function startNode(lab: LabInfo, node: LabNode): Promise<void> {
  const d = nodeDir(lab, node.name);
  for (const sub of ['etc-bird', 'home']) fs.mkdirSync(path.join(d, sub), { recursive: true });
  fs.chmodSync(path.join(d, 'home'), 0o700);
  // The "original" bird.conf that destroy must bring back.
  fs.writeFileSync(path.join(d, 'etc-bird', 'bird.conf'), `router id ${node.address};\nprotocol device {\n}\n`);
  await must(
    'ssh-keygen',
    ['-q', '-t', 'ed25519', '-N', '', '-C', node.name, '-f', path.join(d, 'ssh_host_ed25519_key')],
    'host key',
  );

  const ready = path.join(d, 'ready');
  fs.rmSync(ready, { force: true });
  const setup = [
    'set -e',
    // A host's own /run: an empty tmpfs, then the dirs its daemons expect there (sshd's
    // privilege-separation dir, bird's socket, the workloads' netns names, and where
    // calico_node keeps its per-host record: providers/calico/names.ts NODE_RECORD), so a
    // file the provider keeps per host under /run never meets another node's.
    'mount -t tmpfs -o mode=0755 tmpfs /run',
    'mkdir -p /run/netns /run/sshd /run/bird /run/calico-net',
    `mount --bind ${shQuote(path.join(d, 'etc-bird'))} /etc/bird`,
    ...ownHome(lab, d),
    `touch ${shQuote(ready)}`,
    'exec sleep infinity',
  ].join('; ');
  const holder = spawn(
    'ip',
    ['netns', 'exec', node.netns, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', setup],
    {
      detached: true,
      stdio: 'ignore',
    },
  );
  holder.unref();
  // ip netns exec and unshare exec in place, so the pid we spawned becomes the holder's.
  node.holderPid = holder.pid!;
  saveLab(lab);
  if (!(await waitFor(async () => fs.existsSync(ready), 10_000))) {
    throw new Error(`${node.name}: the mount namespace holder did not come up`);
  }
  await startSshd(lab, node.name);
  await startBird(lab, node.name);
}

/**
 * Mounts a host's own, empty home over /root: logins on a node then run no ~/.bashrc of this
 * machine's (pyenv and the like cost 0.1-1 s of CPU per login, which a bench would measure
 * instead of us). A lab dir inside /root (the demo's `.lab` in a checkout under /root) would
 * vanish with it, and the node's sshd reads its keys and config there: it is bound back at its
 * own path (the home then holds only the directories leading to it).
 */
function ownHome(lab: LabInfo, d: string): string[] {
  const home = path.join(d, 'home');
  const labDir = fs.realpathSync(lab.dir);
  const inside = path.relative('/root', labDir);
  if (inside.startsWith('..') || path.isAbsolute(inside)) return [`mount --bind ${shQuote(home)} /root`];
  const keep = '/run/calico-lab';
  return [
    `mkdir ${keep}`,
    `mount --bind ${shQuote(labDir)} ${keep}`,
    `mount --bind ${shQuote(home)} /root`,
    `mkdir -p ${shQuote(labDir)}`,
    `mount --bind ${keep} ${shQuote(labDir)}`,
    `umount ${keep}`,
    `rmdir ${keep}`,
  ];
}

/**
 * The inventory `lab up` writes. A `--ipv6` lab's is dual-stack (podCidrV6, each node's
 * ipv6Address with its prefix and podCidrV6); workloads get `ipv6` only with `workloadIpv6`.
 */
export function inventoryYaml(
  lab: LabInfo,
  workloadsPerNode: number,
  asMode: 'ibgp' | 'ebgp',
  workloadIpv6 = false,
): string {
  const rr = lab.nodes.some((n) => n.routeReflector);
  const v6 = lab.ipv6Subnet === undefined ? undefined : labIpv6Addressing(lab.id);
  const inventory = {
    cluster: {
      name: lab.id === 0 ? 'lab' : `lab${lab.id}`,
      podCidr: '198.19.0.0/16',
      ...(v6 ? { podCidrV6: LAB_POD_CIDR_V6 } : {}),
      asNumber: 64512,
      topology: rr ? 'route-reflector' : 'full-mesh',
    },
    ssh: { user: 'root', port: 22, privateKeyPath: './id_ed25519', knownHostsPath: './known_hosts', sudo: false },
    nodes: lab.nodes.map((n, k) => ({
      name: n.name,
      // Two-subnet labs write the prefix (Calico's IPv4Address form): it tells who shares a subnet.
      address: lab.router ? `${n.address}/${n.prefixLength}` : n.address,
      ...(asMode === 'ebgp' ? { asNumber: n.asNumber } : {}),
      podCidr: n.podCidr,
      ...(n.ipv6Address ? { ipv6Address: `${n.ipv6Address}/${LAB_IPV6_PREFIX_LENGTH}`, podCidrV6: n.podCidrV6 } : {}),
      ...(n.routeReflector ? { routeReflector: true } : {}),
      workloads: Array.from({ length: workloadsPerNode }, (_, w) => ({
        name: `wl${k + 1}${String.fromCharCode(97 + (w % 26))}${w >= 26 ? Math.floor(w / 26) : ''}`,
        ip: workloadAddress(n.podCidr, w),
        ...(v6 && workloadIpv6 ? { ipv6: v6.workload(k + 1, w) } : {}),
      })),
    })),
    peers: [],
  };
  return `# Written by calico-net lab up (lab ${lab.id}).\n${toYaml(inventory)}`;
}

/** Tears down exactly what labUp recorded; safe to run twice and after a crash. */
export async function labDown(dir: string): Promise<void> {
  const file = labJson(path.resolve(dir));
  if (!fs.existsSync(file)) return;
  const lab = loadLab(path.resolve(dir));
  for (const node of lab.nodes) {
    await stopPid(node.birdPid);
    await stopPid(node.sshdPid);
    await stopPid(node.holderPid);
  }
  for (const ns of [
    ...lab.nodes.map((n) => n.netns),
    lab.operator.netns,
    ...(lab.router ? [lab.router.netns] : []),
    lab.switchNetns,
  ]) {
    if (await netnsExists(ns)) await run('ip', ['netns', 'del', ns]);
  }
  fs.rmSync(file);
}
