/**
 * A real `terraform apply` of a synthesized stack, run from the lab's operator namespace and
 * stopped at a chosen line of its output: what an operator's Ctrl-C, a cancelled CI runner or
 * an OOM kill does to a run in the middle of its work.
 *
 * Why one helper: the interrupt and leftovers suites test the same moment from two sides (a
 * clean stop, a kill), and each run must end with no process of it left behind, or the next
 * command of the test races a provider that is still writing to the hosts.
 */
import { ChildProcess, spawn } from 'child_process';
import type { LabInfo } from '../../lab';

/** What a run needs of an e2e cluster (E2eCluster has it): the operator's netns, the stack, the env. */
export interface OperatorStack {
  lab: Pick<LabInfo, 'operator'>;
  stackDir: string;
  env: NodeJS.ProcessEnv;
}

/**
 * How the run is stopped:
 * - `sigint`: SIGINT to terraform alone (Ctrl-C): it stops its provider and writes what it made;
 * - `kill-group`: SIGKILL to terraform and the provider it started (the whole process group),
 *   as a cancelled runner or an OOM kill of the group does: nothing gets to write anything more.
 */
export type StopBy = 'sigint' | 'kill-group';

export interface StoppedApply {
  /** Whether `trigger` showed and the signal was sent (false: the apply ran to its end). */
  stopped: boolean;
  /** terraform's exit code (null when a signal ended it). */
  code: number | null;
  /** stdout and stderr, interleaved as they came. */
  output: string;
}

/**
 * `terraform apply -auto-approve -parallelism=1` in `cluster`'s stack, stopped as `stopBy` says
 * once `trigger` matches its output so far. Resolves once every process of the run is gone (a
 * provider that outlives terraform is killed): the run's own process group, never anything else.
 */
export function applyStoppedAt(cluster: OperatorStack, trigger: RegExp, stopBy: StopBy): Promise<StoppedApply> {
  return new Promise((resolve, reject) => {
    const child = spawnOperatorTerraform(cluster, [
      'apply',
      '-auto-approve',
      '-input=false',
      '-no-color',
      '-parallelism=1',
    ]);
    const group = child.pid;
    let output = '';
    let stopped = false;
    const onData = (d: Buffer) => {
      output += d.toString('utf8');
      if (stopped || group === undefined || !trigger.test(output)) return;
      stopped = true;
      if (stopBy === 'sigint') child.kill('SIGINT');
      else process.kill(-group, 'SIGKILL');
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => {
      reapGroup(group).then(() => resolve({ stopped, code, output }), reject);
    });
  });
}

/**
 * `terraform ARGS` in `cluster`'s stack from the operator's netns, as a process group of its own
 * (terraform and the provider it starts), so that it can be stopped and reaped whole. `ip netns
 * exec` execs terraform in place: the child's pid is terraform's. stdin is closed unless `stdin:
 * 'pipe'` (a run that must sit at its confirmation prompt needs a stdin that stays open).
 */
export function spawnOperatorTerraform(
  cluster: OperatorStack,
  args: string[],
  options: { stdin?: 'ignore' | 'pipe' } = {},
): ChildProcess {
  return spawn('ip', ['netns', 'exec', cluster.lab.operator.netns, 'terraform', ...args], {
    cwd: cluster.stackDir,
    env: { ...process.env, ...cluster.env },
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
    detached: true,
  });
}

/** Waits until process group `group` is empty, killing what is left of it (up to ~30 s). */
export async function reapGroup(group: number | undefined): Promise<void> {
  if (group === undefined) return;
  for (let i = 0; i < 300; i++) {
    try {
      process.kill(-group, 0);
    } catch {
      return; // ESRCH: no process of the group is left
    }
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`process group ${group} of a stopped terraform apply is still alive after 30 s`);
}
