/**
 * A local state file that a killed terraform left empty is put back from the backup Terraform
 * keeps beside it, before Terraform reads it again.
 *
 * Why: Terraform's local backend (statemgr.Filesystem, 1.11) writes the state in place, after
 * every resource it applies: it truncates the file, then writes the new snapshot into it. A
 * kill -9 (an OOM kill of the group, a cancelled CI runner) between the two leaves an EMPTY file,
 * and Terraform reads an empty file as "no state": the next plan creates everything again, and
 * the next destroy says "No objects need to be destroyed", reports success, and leaves every
 * object on the hosts. Seen here: a kill right after a "Creation complete" line (the moment
 * Terraform writes) left the file empty in 2 of 2 runs, and the destroy after it left all three
 * nodes as they were (issue 28).
 *
 * Before its first write in a run, Terraform copies the state it started from to
 * `<path>.backup`. So an empty (or cut-off) state file beside a valid backup is a run killed
 * mid-write, and the backup is the state at the start of that run. Synthesis runs before every
 * cdktf synth, deploy, diff and destroy, so it puts the backup back there. What the killed run
 * made after that snapshot is not in it; the hosts' registries list it, and calico_node's apply
 * and destroy remove it (providers/calico/registry.ts).
 *
 * Never while a process holds a lock on the state file (Terraform holds an fcntl lock for the
 * whole run, and a live run's file is empty for a moment during each write); where the lock
 * cannot be checked (no /proc/locks), synthesis stops and says how to restore by hand.
 */
import * as fs from 'fs';
import * as path from 'path';

/** What synthesis does about one local state file. */
export type StateFileVerdict =
  { kind: 'intact' } | { kind: 'restore'; reason: string } | { kind: 'refuse'; problem: string };

/** One local state file as found on disk. */
export interface LocalStateFiles {
  /** The state file's path (as the backend names it). */
  path: string;
  /** Its content; undefined when there is no such file. */
  state?: string;
  /** The content of `<path>.backup`; undefined when there is none. */
  backup?: string;
  /** Whether a process holds a lock on the state file; undefined when this system cannot tell. */
  locked?: boolean;
  /** When the state file was created (ms since the epoch); undefined when the file system does not say. */
  stateBornMs?: number;
  /** When `<path>.backup` was last written (ms since the epoch). */
  backupWrittenMs?: number;
}

/** A state snapshot's identity, or null when the text is not a whole snapshot. */
export function snapshotIdentity(text: string): { lineage: string; serial: number; resources: number } | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const s = parsed as { version?: unknown; lineage?: unknown; serial?: unknown; resources?: unknown };
  if (typeof s.version !== 'number' || typeof s.lineage !== 'string' || typeof s.serial !== 'number') return null;
  return { lineage: s.lineage, serial: s.serial, resources: Array.isArray(s.resources) ? s.resources.length : 0 };
}

/** The lineage a cut-off snapshot still shows (Terraform writes it near the top), if any. */
function partialLineage(text: string): string | undefined {
  return /"lineage"\s*:\s*"([^"]*)"/.exec(text)?.[1];
}

/** What to do about a local state file: leave it, put the backup back, or stop and say why. */
export function localStateVerdict(files: LocalStateFiles): StateFileVerdict {
  const { path: file, state, backup, locked } = files;
  if (state === undefined || snapshotIdentity(state) !== null) return { kind: 'intact' };
  const damage = state.trim() === '' ? 'is empty' : 'holds a cut-off state snapshot';
  const killed = `${file} ${damage}: a terraform run was killed while writing it (Terraform's local backend empties the file before it writes the new state)`;
  const restoreByHand = `once no terraform runs, put the state before that run back: cp ${shellWord(`${file}.backup`)} ${shellWord(file)}`;
  const before = backup === undefined ? null : snapshotIdentity(backup);
  if (before === null) {
    return {
      kind: 'refuse',
      problem:
        `${killed}, and there is no usable ${file}.backup to restore. Terraform would act as if nothing were deployed, ` +
        `while the hosts still hold what calico-net made. Restore the state from a copy of your own (or move ${file} away ` +
        `and deploy again before any destroy)`,
    };
  }
  const lineage = partialLineage(state);
  // An empty file shows no lineage to compare with the backup's. What it does show is when it
  // was created: Terraform creates the state file when a run takes its lock, and writes the
  // backup, in that run, only from a state the file already held. So the backup of the state an
  // emptied file held was written after that file was created; a backup older than the file is
  // one an earlier file at this path left (another state, or one deleted on purpose), and the
  // file was new when a run was killed before (or during) its first write.
  const { stateBornMs: born, backupWrittenMs: written } = files;
  if (lineage === undefined && born !== undefined && written !== undefined && written < born) {
    return {
      kind: 'refuse',
      problem:
        `${file} ${damage}, and ${file}.backup is older than the file itself (written ${new Date(written).toISOString()}, ` +
        `the file created ${new Date(born).toISOString()}): it was not made from this file's state but left by an earlier state at this path, ` +
        `so it is not restored (a run killed before its first write into a new state leaves an empty file too). ` +
        `If that backup is what the hosts hold, once no terraform runs: cp ${shellWord(`${file}.backup`)} ${shellWord(file)}; ` +
        `if not, move the backup away (mv ${shellWord(`${file}.backup`)} ${shellWord(`${file}.backup.old`)}) and deploy again`,
    };
  }
  if (lineage !== undefined && lineage !== before.lineage) {
    return {
      kind: 'refuse',
      problem: `${killed}, and ${file}.backup belongs to another state (lineage ${before.lineage}, not ${lineage}); ${restoreByHand} only if it is the right one`,
    };
  }
  if (locked === true) {
    return {
      kind: 'refuse',
      problem: `${file} ${damage} while a process holds its lock: a terraform run is writing it now. Wait for it to finish; if it was killed, ${restoreByHand}`,
    };
  }
  if (locked === undefined) {
    return {
      kind: 'refuse',
      problem: `${killed}; this system does not show who holds the state's lock, so calico-net does not restore it itself: ${restoreByHand}`,
    };
  }
  return {
    kind: 'restore',
    reason:
      `${killed}. Restored the state before that run from ${file}.backup (serial ${before.serial}, ${before.resources} resources). ` +
      `What that run made after it is listed on the hosts: the next deploy or destroy removes what the configuration does not want`,
  };
}

function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Whether a process holds a POSIX (fcntl) lock on the file, from /proc/locks; undefined where
 * there is no /proc/locks. Matched by inode number alone: a lock on another file system's file
 * with the same number only makes this answer "locked", which stops, never restores.
 */
export function isFileLocked(file: string, procLocks = '/proc/locks'): boolean | undefined {
  let table: string;
  try {
    table = fs.readFileSync(procLocks, 'utf8');
  } catch {
    return undefined;
  }
  const inode = fs.statSync(file, { bigint: true }).ino.toString();
  return lockedInodes(table).has(inode);
}

/**
 * The inode numbers /proc/locks shows locks on (`1: POSIX ADVISORY WRITE <pid> <maj>:<min>:<inode> <start> <end>`).
 * Terraform takes a POSIX one; any kind counts (a lock of any kind stops a restore, never starts one).
 */
export function lockedInodes(table: string): Set<string> {
  const out = new Set<string>();
  for (const line of table.split('\n')) {
    const m = /^\d+:\s+(?:->\s+)?[A-Z]+\s+\S+\s+\S+\s+\S+\s+[0-9a-f]+:[0-9a-f]+:(\d+)\s/.exec(line);
    if (m) out.add(m[1]);
  }
  return out;
}

/** The local backend's state file of each synthesized stack (Terraform resolves a relative path from the stack's directory). */
export function localStatePaths(outdir: string): string[] {
  const stacksDir = path.join(outdir, 'stacks');
  if (!fs.existsSync(stacksDir)) return [];
  const out: string[] = [];
  for (const name of fs.readdirSync(stacksDir).sort()) {
    const json = path.join(stacksDir, name, 'cdk.tf.json');
    if (!fs.existsSync(json)) continue;
    const stack = JSON.parse(fs.readFileSync(json, 'utf8')) as {
      terraform?: { backend?: { local?: { path?: unknown } } };
    };
    const local = stack.terraform?.backend?.local;
    if (!local) continue;
    const file = typeof local.path === 'string' ? local.path : 'terraform.tfstate';
    out.push(path.resolve(path.join(stacksDir, name), file));
  }
  return out;
}

/** Thrown when a state file is damaged and cannot be restored safely: synthesis stops. */
export class StateRecoveryError extends Error {}

/** When the state file was created (when the file system records it) and its backup last written. */
function fileTimes(file: string): Pick<LocalStateFiles, 'stateBornMs' | 'backupWrittenMs'> {
  const born = fs.statSync(file).birthtimeMs;
  let written: number | undefined;
  try {
    written = fs.statSync(`${file}.backup`).mtimeMs;
  } catch {
    written = undefined;
  }
  // 0: this file system does not record creation times.
  return { ...(born > 0 ? { stateBornMs: born } : {}), ...(written === undefined ? {} : { backupWrittenMs: written }) };
}

function readIfPresent(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Checks the local state file of every synthesized stack, restores those a killed run emptied,
 * and reports each restore through `report`. Throws StateRecoveryError when one is damaged and
 * cannot be restored safely (nothing is changed then).
 */
export function recoverKilledLocalStates(
  outdir: string,
  report: (message: string) => void,
  procLocks = '/proc/locks',
): void {
  const problems: string[] = [];
  for (const file of localStatePaths(outdir)) {
    const state = readIfPresent(file);
    if (state === undefined || snapshotIdentity(state) !== null) continue;
    const verdict = localStateVerdict({
      path: file,
      state,
      backup: readIfPresent(`${file}.backup`),
      locked: isFileLocked(file, procLocks),
      ...fileTimes(file),
    });
    if (verdict.kind === 'refuse') problems.push(verdict.problem);
    if (verdict.kind !== 'restore') continue;
    // A cut-off snapshot is kept for a post-mortem; an empty file holds nothing to keep.
    if (state.trim() !== '') fs.copyFileSync(file, `${file}.cut-off`);
    // Written beside it and renamed over it: a kill now leaves the old file or the whole backup.
    const tmp = `${file}.restoring`;
    fs.copyFileSync(`${file}.backup`, tmp);
    fs.renameSync(tmp, file);
    // The renamed file is newly created: the backup, now the state it holds, is dated after it,
    // as Terraform's own backup of a file's state always is (see localStateVerdict).
    // (A millisecond past its creation: utimes takes milliseconds, the creation time has nanoseconds.)
    const at = new Date(Math.max(Date.now(), Math.ceil(fs.statSync(file).birthtimeMs) + 1));
    fs.utimesSync(`${file}.backup`, at, at);
    report(verdict.reason);
  }
  if (problems.length > 0) throw new StateRecoveryError(problems.join('\n'));
}
