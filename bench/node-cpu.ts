/**
 * Node-side CPU of a lab: everything the nodes' sshd listeners start (sessions, login shells,
 * remote shells and the scripts they run).
 *
 * Counted with a cgroup that holds the listeners: a cgroup keeps every descendant, also a remote
 * shell that outlives its SSH session. Such a shell is re-parented away from sshd when the
 * provider drops its connection before the shell has exited, and its CPU (the login's
 * ~/.bashrc included, since the login shell execs into it) was then lost to the earlier count
 * of sshd's reaped children: one refresh of 32 nodes read 39 ms per host, the next 108.
 * Without a writable cgroup hierarchy the bench falls back to that count and says so.
 */
import * as fs from 'fs';
import * as path from 'path';
import { waitFor } from '../lab/process';
import { processCpuMs } from './measure';

/** CPU ms used by a process and all its reaped descendants. */
function cpuMsWithChildren(pid: number): number {
  const { ownMs, childrenMs } = processCpuMs(pid);
  return ownMs + childrenMs;
}

function hasChildren(pid: number): boolean {
  return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim() !== '';
}

interface Hierarchy {
  root: string;
  /** CPU ms of everything that ever ran in the group. */
  usageMs(dir: string): number;
}

const V2: Hierarchy = {
  root: '',
  usageMs: (dir) => Number(/^usage_usec (\d+)$/m.exec(fs.readFileSync(path.join(dir, 'cpu.stat'), 'utf8'))![1]) / 1000,
};
const V1: Hierarchy = {
  root: '/sys/fs/cgroup/cpuacct',
  usageMs: (dir) => Number(fs.readFileSync(path.join(dir, 'cpuacct.usage'), 'utf8').trim()) / 1e6,
};

/** cgroup v2 (alone, or the "unified" part of a hybrid setup), else v1's cpuacct. */
function hierarchies(): Hierarchy[] {
  const found: Hierarchy[] = [];
  for (const root of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
    if (fs.existsSync(path.join(root, 'cgroup.procs')) && fs.existsSync(path.join(root, 'cgroup.subtree_control')))
      found.push({ ...V2, root });
  }
  if (fs.existsSync(path.join(V1.root, 'cpuacct.usage'))) found.push(V1);
  return found;
}

export class NodeCpuMeter {
  private constructor(
    private readonly pids: number[],
    /** The group and how to read it; undefined: sshd's reaped children (see the module comment). */
    private readonly group?: { dir: string; hierarchy: Hierarchy },
  ) {}

  /** How the figures are counted, for the bench's output. */
  get method(): string {
    return this.group
      ? `cgroup ${this.group.dir}`
      : "sshd's reaped children (no writable cgroup: remote shells that outlive their session are missed)";
  }

  static open(name: string, sshdPids: number[]): NodeCpuMeter {
    for (const hierarchy of hierarchies()) {
      const dir = path.join(hierarchy.root, name);
      try {
        fs.mkdirSync(dir);
        for (const pid of sshdPids) fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
        hierarchy.usageMs(dir);
        return new NodeCpuMeter(sshdPids, { dir, hierarchy });
      } catch {
        NodeCpuMeter.remove(dir, hierarchy.root);
      }
    }
    return new NodeCpuMeter(sshdPids);
  }

  /** CPU ms so far, once no session or remote shell of a finished command is still running. */
  async read(): Promise<number> {
    if (!this.group) {
      await waitFor(async () => !this.pids.some(hasChildren), 30_000);
      return this.pids.reduce((sum, pid) => sum + cpuMsWithChildren(pid), 0);
    }
    const procs = path.join(this.group.dir, 'cgroup.procs');
    await waitFor(
      async () => fs.readFileSync(procs, 'utf8').trim().split('\n').filter(Boolean).length <= this.pids.length,
      30_000,
    );
    return this.group.hierarchy.usageMs(this.group.dir);
  }

  /** After the lab is down (its processes gone): removes the group. */
  close(): void {
    if (this.group) NodeCpuMeter.remove(this.group.dir, this.group.hierarchy.root);
  }

  private static remove(dir: string, root: string): void {
    try {
      // Whatever still runs in it (lab not down yet) goes back to the root group first.
      for (const pid of fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim().split('\n').filter(Boolean)) {
        fs.writeFileSync(path.join(root, 'cgroup.procs'), pid);
      }
      fs.rmdirSync(dir);
    } catch {
      // Not made, or already gone.
    }
  }
}
