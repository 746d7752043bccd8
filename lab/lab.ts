/**
 * A test cluster made of network namespaces on this machine: one "switch" namespace holding a
 * bridge, one namespace per node and one for the operator, joined by veth pairs. Each node also
 * gets a private mount namespace (its own /run/netns, /etc/bird, /run/bird and /run/calico-net),
 * a real sshd and a real bird, so commands arriving over SSH behave as on a host.
 * Nothing in the root network namespace changes. Lab K uses 198.18.K.0/24 and names "cnK-…".
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { stringify as toYaml } from 'yaml';
import { shQuote } from '../providers/ssh/quote';
import type { RemoteHost } from '../providers/ssh/types';
import { run, RunResult, waitFor } from './process';

export interface LabNode {
  name: string;
  address: string;
  asNumber?: number;
  podCidr: string;
  routeReflector: boolean;
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
  operator: { netns: string; address: string };
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
  log?: (line: string) => void;
}

const REQUIRED: [string, string][] = [
  ['ip', 'apt-get install -y iproute2'],
  ['bird', 'apt-get install -y bird2'],
  ['birdc', 'apt-get install -y bird2'],
  ['/usr/sbin/sshd', 'apt-get install -y openssh-server'],
  ['ssh-keygen', 'apt-get install -y openssh-client'],
  ['nsenter', 'apt-get install -y util-linux'],
  ['unshare', 'apt-get install -y util-linux'],
];

/** What the lab (plus `extra` tools) needs and this machine lacks, each with how to get it. */
export async function missingPrerequisites(extra: [string, string][] = []): Promise<string[]> {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (the lab creates network namespaces)');
  for (const [tool, hint] of [...REQUIRED, ...extra]) {
    if ((await run('sh', ['-c', `command -v ${tool}`])).code !== 0) missing.push(`${tool} (${hint})`);
  }
  return missing;
}

async function checkPrerequisites(): Promise<void> {
  const missing = await missingPrerequisites();
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
export function nodeExec(lab: LabInfo, nodeName: string, argv: string[], opts: { input?: string } = {}): Promise<RunResult> {
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
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

function sshdConfig(lab: LabInfo, node: LabNode): string {
  const d = nodeDir(lab, node.name);
  return [
    `ListenAddress ${node.address}`,
    'Port 22',
    `HostKey ${path.join(d, 'ssh_host_ed25519_key')}`,
    `PidFile ${path.join(d, 'sshd.pid')}`,
    `AuthorizedKeysFile ${lab.clientKeyPath}.pub`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'PrintMotd no',
    '',
  ].join('\n');
}

export async function startSshd(lab: LabInfo, nodeName: string): Promise<void> {
  const node = nodeOf(lab, nodeName);
  fs.mkdirSync('/run/sshd', { recursive: true }); // privilege-separation dir sshd insists on
  const config = path.join(nodeDir(lab, node.name), 'sshd_config');
  fs.writeFileSync(config, sshdConfig(lab, node));
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
  await checkPrerequisites();
  const id = opts.id ?? 0;
  if (!Number.isInteger(id) || id < 0 || id > 255) throw new Error(`lab id must be 0..255, not ${id}`);
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > 200) throw new Error('nodes must be 1..200');
  const log = opts.log ?? (() => undefined);
  const prefix = `cn${id}-`;
  const dir = path.resolve(opts.dir);
  for (const name of [`${prefix}sw`, `${prefix}op`, `${prefix}node1`]) {
    if (await netnsExists(name)) {
      throw new Error(`namespace ${name} already exists: lab ${id} is up (run: calico-net lab down --dir <its dir>)`);
    }
  }
  fs.mkdirSync(dir, { recursive: true });
  const subnet = `198.18.${id}`;
  const rrCount = opts.routeReflectors ?? 0;
  const lab: LabInfo = {
    id,
    dir,
    switchNetns: `${prefix}sw`,
    operator: { netns: `${prefix}op`, address: `${subnet}.254` },
    nodes: Array.from({ length: opts.nodes }, (_, k) => ({
      name: `node${k + 1}`,
      address: `${subnet}.${k + 1}`,
      asNumber: opts.asMode === 'ebgp' ? 64501 + k : undefined,
      podCidr: `198.19.${k + 1}.0/24`,
      routeReflector: k < rrCount,
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
  for (const f of [lab.clientKeyPath, `${lab.clientKeyPath}.pub`, lab.knownHostsPath, lab.inventoryPath]) fs.rmSync(f, { force: true });
  for (const n of lab.nodes) fs.rmSync(nodeDir(lab, n.name), { recursive: true, force: true });
  // Recorded before anything is created, so `lab down` can clean up after a failure midway.
  saveLab(lab);
  try {
    await buildNetwork(lab, log);
    await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `calico-lab-${id}`, '-f', lab.clientKeyPath], 'client key');
    const knownHosts: string[] = [];
    for (const node of lab.nodes) {
      log(`${node.name}: namespaces, sshd, bird`);
      await startNode(lab, node);
      const pub = fs.readFileSync(path.join(nodeDir(lab, node.name), 'ssh_host_ed25519_key.pub'), 'utf8').trim().split(' ');
      knownHosts.push(`${node.address} ${pub[0]} ${pub[1]}`);
    }
    fs.writeFileSync(lab.knownHostsPath, knownHosts.join('\n') + '\n');
    fs.writeFileSync(lab.inventoryPath, inventoryYaml(lab, opts.workloadsPerNode ?? 1, opts.asMode ?? 'ibgp'));
    saveLab(lab);
    log(`lab ${id} up: ${lab.nodes.length} nodes on ${subnet}.0/24, operator ${lab.operator.address}`);
    return lab;
  } catch (err) {
    await labDown(dir).catch(() => undefined);
    throw err;
  }
}

async function buildNetwork(lab: LabInfo, log: (l: string) => void): Promise<void> {
  const sw = lab.switchNetns;
  log(`switch namespace ${sw} with bridge br0`);
  await must('ip', ['netns', 'add', sw], 'switch netns');
  await must('ip', ['-n', sw, 'link', 'set', 'lo', 'up'], 'switch lo');
  await must('ip', ['-n', sw, 'link', 'add', 'br0', 'type', 'bridge'], 'bridge');
  await must('ip', ['-n', sw, 'link', 'set', 'br0', 'up'], 'bridge up');
  const members = [
    { netns: lab.operator.netns, address: lab.operator.address, port: 'pop', gateway: undefined as string | undefined },
    ...lab.nodes.map((n, k) => ({ netns: n.netns, address: n.address, port: `p${k + 1}`, gateway: lab.operator.address })),
  ];
  // Every member's eth0 gets a fixed MAC, and every member a permanent neighbour entry for every
  // other one. Why: all the lab's namespaces share one kernel, whose ARP table is global, with
  // net.ipv4.neigh.default.gc_thresh3 = 1024 dynamic entries for the whole machine. N nodes that
  // all talk to each other need N*(N-1) entries (992 at 32 nodes, 16,256 at 128), so a 32-node
  // verify overflowed the table ("neighbor table overflow!") and pings failed on a healthy
  // cluster. Permanent entries do not count against that limit; real hosts each have their own
  // table and never meet this.
  const macOf = (k: number) => `02:ca:1c:${hex2(lab.id)}:${hex2(k >> 8)}:${hex2(k & 255)}`;
    for (const m of members) {
    await must('ip', ['netns', 'add', m.netns], `netns ${m.netns}`);
    // Created inside the switch namespace, the peer placed straight into the member: the root
    // namespace never holds either end.
    await must('ip', ['-n', sw, 'link', 'add', m.port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', m.netns], `veth ${m.port}`);
    await must('ip', ['-n', sw, 'link', 'set', m.port, 'master', 'br0', 'up'], `port ${m.port}`);
    await must('ip', ['-n', m.netns, 'link', 'set', 'lo', 'up'], 'lo');
    await must('ip', ['-n', m.netns, 'link', 'set', 'eth0', 'address', macOf(members.indexOf(m))], 'eth0 address');
    await must('ip', ['-n', m.netns, 'addr', 'add', `${m.address}/24`, 'dev', 'eth0'], 'address');
    await must('ip', ['-n', m.netns, 'link', 'set', 'eth0', 'up'], 'eth0 up');
    // Without a default route the node has no route to 169.254.1.1 and proxy ARP stays silent.
    if (m.gateway) await must('ip', ['-n', m.netns, 'route', 'add', 'default', 'via', m.gateway], 'default route');
  }
  for (const m of members) {
    const others = members.filter((o) => o !== m).map((o) => `neigh replace ${o.address} lladdr ${macOf(members.indexOf(o))} dev eth0 nud permanent`);
    const r = await run('ip', ['-n', m.netns, '-batch', '-'], { input: others.join('\n') + '\n' });
    if (r.code !== 0) throw new Error(`permanent neighbours in ${m.netns} failed: ${(r.stderr || r.stdout).trim()}`);
  }
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');

async function startNode(lab: LabInfo, node: LabNode): Promise<void> {
  const d = nodeDir(lab, node.name);
  for (const sub of ['etc-bird', 'run-bird', 'run-calico-net']) fs.mkdirSync(path.join(d, sub), { recursive: true });
  // The "original" bird.conf that destroy must bring back.
  fs.writeFileSync(path.join(d, 'etc-bird', 'bird.conf'), `router id ${node.address};\nprotocol device {\n}\n`);
  await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', node.name, '-f', path.join(d, 'ssh_host_ed25519_key')], 'host key');

  const ready = path.join(d, 'ready');
  fs.rmSync(ready, { force: true });
  const setup = [
    'set -e',
    'mount -t tmpfs tmpfs /run/netns',
    `mount --bind ${shQuote(path.join(d, 'etc-bird'))} /etc/bird`,
    `mount --bind ${shQuote(path.join(d, 'run-bird'))} /run/bird`,
    // Where calico_node keeps its per-host record (providers/calico/names.ts NODE_RECORD).
    `mount --bind ${shQuote(path.join(d, 'run-calico-net'))} /run/calico-net`,
    `touch ${shQuote(ready)}`,
    'exec sleep infinity',
  ].join('; ');
  fs.mkdirSync('/run/netns', { recursive: true });
  fs.mkdirSync('/run/bird', { recursive: true });
  fs.mkdirSync('/run/calico-net', { recursive: true });
  const holder = spawn('ip', ['netns', 'exec', node.netns, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', setup], {
    detached: true,
    stdio: 'ignore',
  });
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

function inventoryYaml(lab: LabInfo, workloadsPerNode: number, asMode: 'ibgp' | 'ebgp'): string {
  const rr = lab.nodes.some((n) => n.routeReflector);
  const inventory = {
    cluster: {
      name: lab.id === 0 ? 'lab' : `lab${lab.id}`,
      podCidr: '198.19.0.0/16',
      asNumber: 64512,
      topology: rr ? 'route-reflector' : 'full-mesh',
    },
    ssh: { user: 'root', port: 22, privateKeyPath: './id_ed25519', knownHostsPath: './known_hosts', sudo: false },
    nodes: lab.nodes.map((n, k) => ({
      name: n.name,
      address: n.address,
      ...(asMode === 'ebgp' ? { asNumber: n.asNumber } : {}),
      podCidr: n.podCidr,
      ...(n.routeReflector ? { routeReflector: true } : {}),
      workloads: Array.from({ length: workloadsPerNode }, (_, w) => ({
        name: `wl${k + 1}${String.fromCharCode(97 + (w % 26))}${w >= 26 ? Math.floor(w / 26) : ''}`,
        ip: `198.19.${k + 1}.${w + 2}`,
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
  for (const ns of [...lab.nodes.map((n) => n.netns), lab.operator.netns, lab.switchNetns]) {
    if (await netnsExists(ns)) await run('ip', ['netns', 'del', ns]);
  }
  fs.rmSync(file);
}


