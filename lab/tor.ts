/**
 * A top-of-rack router for the namespace lab: FRR (zebra + bgpd, and bfdd when installed) in a
 * namespace of its own on the lab's segment, peering over eBGP with every node, and a "host behind
 * the ToR" in one more namespace, reachable only through it. Real clusters peer with FRR, SONiC,
 * Cumulus or Arista, not BIRD; this is how the tests, the demo and users try a ToR design
 * (`calico-net lab up --tor`).
 *
 * Lab K (one segment, 198.18.K.0/24): the ToR is 198.18.K.250 on the segment; behind it,
 * 198.18.K.224/28 (ToR .225, host .226). That network lies inside the segment's /24 on purpose:
 * a node reaches the host only through the /28 the ToR announces, never by ARP on the segment,
 * so a node that did not program the ToR's route cannot reach it.
 *
 * FRR runs as its own user (`frr`), so the ToR's directory (config, pid files, vty sockets, log)
 * is its own, under the system's temporary directory, and owned by it. Daemons are stopped by the pids they wrote, never by name.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import type { LabInfo } from './lab';
import { alive, run, RunResult, waitFor } from './process';

export const FRR_DIR = '/usr/lib/frr';
export type FrrDaemon = 'zebra' | 'bgpd' | 'bfdd';

export interface TorInfo {
  lab: number;
  netns: string;
  /** The ToR's address on the lab segment (its router id, the nodes' peer address). */
  address: string;
  asNumber: number;
  /** Config, pid files, logs and vty sockets (owned by user frr). */
  dir: string;
  /** The network behind the ToR, announced by it, and the host standing there. */
  host: { netns: string; address: string; gateway: string; network: string };
  /** The nodes it peers with. */
  neighbors: string[];
  /** The daemons started, with the pids they wrote. bfdd only when the machine has it. */
  pids: Partial<Record<FrrDaemon, number>>;
}

export interface TorOptions {
  /** @default 65000 */
  asNumber?: number;
  /** Also announce a default route to every node (`default-originate`). @default false */
  defaultOriginate?: boolean;
}

const torJson = (labDir: string) => path.join(labDir, 'tor.json');

export function loadTor(labDir: string): TorInfo | undefined {
  const file = torJson(labDir);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as TorInfo) : undefined;
}

function saveTor(labDir: string, tor: TorInfo): void {
  fs.writeFileSync(torJson(labDir), JSON.stringify(tor, null, 2) + '\n');
}

async function must(cmd: string, args: string[], what: string): Promise<RunResult> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`ToR: ${what} failed: ${cmd} ${args.join(' ')}: ${(r.stderr || r.stdout).trim()}`);
  return r;
}

/** Whether FRR's daemons are installed (Debian's frr). */
export function frrInstalled(daemon: FrrDaemon = 'bgpd'): boolean {
  return fs.existsSync(path.join(FRR_DIR, daemon));
}

/** The ToR's startup configuration: eBGP to every node, the network behind it announced. */
export function torConfig(
  tor: Pick<TorInfo, 'lab' | 'address' | 'asNumber' | 'host' | 'neighbors' | 'dir'>,
  opts: TorOptions = {},
): string {
  return [
    'frr defaults datacenter',
    `hostname tor${tor.lab}`,
    `log file ${path.join(tor.dir, 'frr.log')}`,
    '!',
    `router bgp ${tor.asNumber}`,
    ` bgp router-id ${tor.address}`,
    // FRR 8 refuses eBGP routes without a policy unless told otherwise.
    ' no bgp ebgp-requires-policy',
    ...tor.neighbors.flatMap((n) => [` neighbor ${n} remote-as external`, ` neighbor ${n} timers connect 2`]),
    ' address-family ipv4 unicast',
    `  network ${tor.host.network}`,
    ...(opts.defaultOriginate ? tor.neighbors.map((n) => `  neighbor ${n} default-originate`) : []),
    ' exit-address-family',
    'exit',
    '!',
    '',
  ].join('\n');
}

/** Starts the ToR for a one-segment lab; `lab down` (or torDown) stops it. */
export async function torUp(lab: LabInfo, opts: TorOptions = {}): Promise<TorInfo> {
  if (!frrInstalled('zebra') || !frrInstalled('bgpd'))
    throw new Error(`ToR: FRR is not installed (${FRR_DIR}/zebra, bgpd): apt-get install -y frr`);
  if (lab.subnets.length !== 1)
    throw new Error('ToR: only a one-segment lab has room for it (lab up without --subnets 2)');
  if (lab.nodes.length > 200)
    throw new Error('ToR: at most 200 nodes (the ToR and the network behind it use 198.18.K.224 and up)');
  const base = `198.18.${lab.id}`;
  const tor: TorInfo = {
    lab: lab.id,
    netns: `cn${lab.id}-tor`,
    address: `${base}.250`,
    asNumber: opts.asNumber ?? 65000,
    // FRR drops to user frr, which must reach its files: a directory of its own, not inside the
    // lab's (whose parents, e.g. a mkdtemp, may be root's alone).
    dir: fs.mkdtempSync(path.join(os.tmpdir(), `calico-lab${lab.id}-tor-`)),
    host: { netns: `cn${lab.id}-torhost`, address: `${base}.226`, gateway: `${base}.225`, network: `${base}.224/28` },
    neighbors: lab.nodes.map((n) => n.address),
    pids: {},
  };
  for (const ns of [tor.netns, tor.host.netns]) {
    if ((await run('ip', ['netns', 'list'])).stdout.split('\n').some((l) => l.split(' ')[0] === ns)) {
      throw new Error(
        `ToR: namespace ${ns} already exists: lab ${lab.id} has a ToR (calico-net lab down --dir <its dir>)`,
      );
    }
  }
  fs.mkdirSync(path.join(tor.dir, 'vty'), { recursive: true });
  // Recorded first, so torDown can clean up after a failure midway.
  saveTor(lab.dir, tor);
  try {
    await must('ip', ['netns', 'add', tor.netns], 'netns');
    await must('ip', ['-n', tor.netns, 'link', 'set', 'lo', 'up'], 'lo');
    await must('ip', ['netns', 'add', tor.host.netns], 'host netns');
    await must('ip', ['-n', tor.host.netns, 'link', 'set', 'lo', 'up'], 'host lo');
    // The uplink: a port on the lab's bridge, created in the switch namespace like the nodes'.
    await must(
      'ip',
      ['-n', lab.switchNetns, 'link', 'add', 'ptor', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', tor.netns],
      'uplink',
    );
    await must('ip', ['-n', lab.switchNetns, 'link', 'set', 'ptor', 'master', 'br0', 'up'], 'uplink port');
    await must(
      'ip',
      ['-n', tor.netns, 'addr', 'add', `${tor.address}/${lab.subnets[0].split('/')[1]}`, 'dev', 'eth0'],
      'uplink address',
    );
    await must('ip', ['-n', tor.netns, 'link', 'set', 'eth0', 'up'], 'uplink up');
    // The host behind it: one veth pair, the ToR its only way out.
    await must(
      'ip',
      ['-n', tor.netns, 'link', 'add', 'host0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', tor.host.netns],
      'host link',
    );
    const len = tor.host.network.split('/')[1];
    await must(
      'ip',
      ['-n', tor.netns, 'addr', 'add', `${tor.host.gateway}/${len}`, 'dev', 'host0'],
      'host gateway address',
    );
    await must('ip', ['-n', tor.netns, 'link', 'set', 'host0', 'up'], 'host link up');
    await must(
      'ip',
      ['-n', tor.host.netns, 'addr', 'add', `${tor.host.address}/${len}`, 'dev', 'eth0'],
      'host address',
    );
    await must('ip', ['-n', tor.host.netns, 'link', 'set', 'eth0', 'up'], 'host up');
    await must('ip', ['-n', tor.host.netns, 'route', 'add', 'default', 'via', tor.host.gateway], 'host default route');
    await must('ip', ['netns', 'exec', tor.netns, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'], 'forwarding');

    const conf = path.join(tor.dir, 'frr.conf');
    fs.writeFileSync(conf, torConfig(tor, opts));
    await must('chown', ['-R', 'frr:frr', tor.dir], 'ownership');
    for (const daemon of ['zebra', 'bgpd', ...(frrInstalled('bfdd') ? ['bfdd' as const] : [])] as FrrDaemon[]) {
      await startDaemon(tor, daemon);
      saveTor(lab.dir, tor);
    }
    return tor;
  } catch (err) {
    await torDown(lab.dir).catch(() => undefined);
    throw err;
  }
}

/** Adds the ToR to the lab's inventory as an external peer of every node (what `lab up --tor` hands the user). */
export function addTorToInventory(lab: LabInfo, tor: TorInfo): void {
  const inventory = parseYaml(fs.readFileSync(lab.inventoryPath, 'utf8'));
  inventory.peers = [
    ...(inventory.peers ?? []).filter((p: { address: string }) => p.address !== tor.address),
    { address: tor.address, asNumber: tor.asNumber },
  ];
  fs.writeFileSync(lab.inventoryPath, `# Written by calico-net lab up --tor (lab ${lab.id}).\n${toYaml(inventory)}`);
}

/** Starts one FRR daemon (it forks; its pid file says which process to stop later). */
export async function startDaemon(tor: TorInfo, daemon: FrrDaemon): Promise<void> {
  const pidFile = path.join(tor.dir, `${daemon}.pid`);
  fs.rmSync(pidFile, { force: true });
  const args = [
    '-d',
    '-f',
    path.join(tor.dir, 'frr.conf'),
    '-i',
    pidFile,
    '-z',
    path.join(tor.dir, 'zserv.api'),
    '--vty_socket',
    path.join(tor.dir, 'vty'),
  ];
  await must('ip', ['netns', 'exec', tor.netns, path.join(FRR_DIR, daemon), ...args], daemon);
  const started = await waitFor(
    async () => fs.existsSync(pidFile) && fs.existsSync(path.join(tor.dir, 'vty', `${daemon}.vty`)),
    10_000,
  );
  if (!started) throw new Error(`ToR: ${daemon} did not start (see ${path.join(tor.dir, 'frr.log')})`);
  tor.pids[daemon] = Number(fs.readFileSync(pidFile, 'utf8').trim());
}

/** Stops one daemon by its recorded pid (SIGKILL: a crash, as a failure test wants). */
export async function stopDaemon(tor: TorInfo, daemon: FrrDaemon, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const pid = tor.pids[daemon];
  if (!pid || !alive(pid)) return;
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  if (!(await waitFor(async () => !alive(pid), 5000))) process.kill(pid, 'SIGKILL');
  delete tor.pids[daemon];
}

/** vtysh inside the ToR's namespace: each command one -c, in order. */
export async function vtysh(tor: TorInfo, ...commands: string[]): Promise<string> {
  const r = await run('ip', [
    'netns',
    'exec',
    tor.netns,
    'vtysh',
    '--vty_socket',
    path.join(tor.dir, 'vty'),
    ...commands.flatMap((c) => ['-c', c]),
  ]);
  if (r.code !== 0) throw new Error(`ToR: vtysh ${commands.join(' / ')} failed: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/** vtysh's JSON answer to one show command. */
export async function vtyshJson<T = unknown>(tor: TorInfo, command: string): Promise<T> {
  return JSON.parse(await vtysh(tor, command)) as T;
}

/** Stops what torUp started (by recorded pids) and removes its namespaces; safe to run twice. */
export async function torDown(labDir: string): Promise<void> {
  const tor = loadTor(labDir);
  if (!tor) return;
  for (const daemon of ['bfdd', 'bgpd', 'zebra'] as FrrDaemon[]) await stopDaemon(tor, daemon);
  const listed = (await run('ip', ['netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0]);
  for (const ns of [tor.host.netns, tor.netns]) if (listed.includes(ns)) await run('ip', ['netns', 'del', ns]);
  fs.rmSync(tor.dir, { recursive: true, force: true });
  fs.rmSync(torJson(labDir), { force: true });
}
