/**
 * A throwaway two-node lab for the Calico handler tests: every "node" is a network namespace plus
 * a private mount namespace (held open by a sleeping process) with its own /run and /etc/bird,
 * joined by a bridge in a switch namespace that also holds the nodes' default gateway.
 * Names: prefix t4-. Addresses: 198.18.210.0/24 (nodes), 198.19.210.0/24 (pods). The root
 * namespace's interfaces and routes are never touched.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RemoteHost, RemoteResult, RunOptions } from '../../providers/ssh/types';

export const SEGMENT_GATEWAY = '198.18.210.254';
const SWITCH_NS = 't4-sw';

function sh(cmd: string[], allowFail = false): string {
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8' });
  if (r.status !== 0 && !allowFail) throw new Error(`${cmd.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Runs scripts inside a lab node via nsenter, like an SSH session would on a real host. */
export class NsenterHost implements RemoteHost {
  constructor(
    readonly label: string,
    private readonly pid: number,
  ) {}

  run(script: string, options: RunOptions = {}): Promise<RemoteResult> {
    return new Promise((resolve, reject) => {
      // A vanished holder is our "connection refused": the transport fails, it does not answer.
      if (!fs.existsSync(`/proc/${this.pid}/ns/net`)) {
        reject(new Error(`connect ECONNREFUSED ${this.label}`));
        return;
      }
      const child = spawn('nsenter', ['-t', String(this.pid), '-n', '-m', 'bash', '-c', script], {
        stdio: ['pipe', 'pipe', 'pipe'],
        signal: options.signal,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => {
        if (code !== 0 && /^nsenter: /.test(stderr)) reject(new Error(stderr.trim()));
        else resolve({ code: code ?? -1, stdout, stderr });
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.stdin ?? '');
    });
  }
}

export interface LabNode {
  name: string;
  netns: string;
  address: string;
  holder: ChildProcess;
  pid: number;
  host: NsenterHost;
  birdDir: string;
  /** Runs a command inside the node (checked). */
  exec(script: string, allowFail?: boolean): Promise<RemoteResult>;
}

async function waitFor(cond: () => boolean, what: string, ms = 10000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export class Lab {
  readonly nodes: LabNode[] = [];
  private readonly tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 't4-calico-'));

  constructor() {
    this.teardownLeftovers();
    sh(['ip', 'netns', 'add', SWITCH_NS]);
    sh(['ip', '-n', SWITCH_NS, 'link', 'add', 'br0', 'type', 'bridge']);
    sh(['ip', '-n', SWITCH_NS, 'addr', 'add', `${SEGMENT_GATEWAY}/24`, 'dev', 'br0']);
    sh(['ip', '-n', SWITCH_NS, 'link', 'set', 'br0', 'up']);
    sh(['ip', '-n', SWITCH_NS, 'link', 'set', 'lo', 'up']);
  }

  /** Adds node t4-<name> at 198.18.210.<index>, optionally with a default route via the switch. */
  async addNode(name: string, index: number, opts: { defaultRoute: boolean; birdConfig?: string }): Promise<LabNode> {
    const netns = name;
    const address = `198.18.210.${index}`;
    sh(['ip', 'netns', 'add', netns]);
    sh(['ip', '-n', SWITCH_NS, 'link', 'add', `t4-p${index}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
    sh(['ip', '-n', SWITCH_NS, 'link', 'set', `t4-p${index}`, 'master', 'br0', 'up']);
    sh(['ip', '-n', netns, 'link', 'set', 'lo', 'up']);
    sh(['ip', '-n', netns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
    sh(['ip', '-n', netns, 'link', 'set', 'eth0', 'up']);
    if (opts.defaultRoute) sh(['ip', '-n', netns, 'route', 'add', 'default', 'via', SEGMENT_GATEWAY]);
    sh(['ip', 'netns', 'exec', netns, 'sysctl', '-qw', 'net.ipv4.ip_forward=0']);

    const birdDir = path.join(this.tmpRoot, `${name}-etc-bird`);
    fs.mkdirSync(birdDir);
    if (opts.birdConfig !== undefined) fs.writeFileSync(path.join(birdDir, 'bird.conf'), opts.birdConfig);
    // Private /run (workload netns names and the BIRD socket are per node) and /etc/bird.
    const holderScript = `mount -t tmpfs t4-run /run && mkdir -p /run/netns /run/bird && mount --bind "$1" /etc/bird && exec sleep infinity`;
    const holder = spawn('ip', ['netns', 'exec', netns, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', holderScript, 'sh', birdDir], {
      detached: true,
      stdio: 'ignore',
    });
    const pid = holder.pid!;
    await waitFor(() => {
      try {
        return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep';
      } catch {
        return false;
      }
    }, `holder of ${name}`);
    const host = new NsenterHost(`${name} (${address})`, pid);
    const node: LabNode = {
      name,
      netns,
      address,
      holder,
      pid,
      host,
      birdDir,
      async exec(script, allowFail = false) {
        const r = await host.run(script);
        if (r.code !== 0 && !allowFail) throw new Error(`${name}: ${script} failed (${r.code}): ${r.stderr}`);
        return r;
      },
    };
    if (opts.birdConfig !== undefined) {
      await node.exec('bird -c /etc/bird/bird.conf -s /run/bird/bird.ctl -P /run/bird/bird.pid');
    }
    this.nodes.push(node);
    return node;
  }

  async teardown(): Promise<void> {
    for (const node of this.nodes) {
      // BIRD first (it lives in the node's namespaces), then the holder; by pid only.
      const r = await node.host.run('cat /run/bird/bird.pid 2>/dev/null').catch(() => null);
      const birdPid = Number(r?.stdout.trim());
      if (birdPid > 0) {
        try {
          process.kill(birdPid, 'SIGTERM');
        } catch {
          /* already gone */
        }
      }
      try {
        process.kill(node.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    for (const node of this.nodes) sh(['ip', 'netns', 'del', node.netns], true);
    sh(['ip', 'netns', 'del', SWITCH_NS], true);
    fs.rmSync(this.tmpRoot, { recursive: true, force: true });
  }

  /** Removes namespaces a crashed earlier run left behind (only our t4- names). */
  private teardownLeftovers(): void {
    const names = sh(['ip', 'netns', 'list'], true)
      .split('\n')
      .map((l) => l.split(' ')[0])
      .filter((n) => /^t4-(sw|n[0-9]+)$/.test(n));
    for (const n of names) {
      // Processes of an earlier run of these tests (holders, bird) still inside our namespaces.
      for (const pid of sh(['ip', 'netns', 'pids', n], true).split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      sh(['ip', 'netns', 'del', n], true);
    }
  }
}
