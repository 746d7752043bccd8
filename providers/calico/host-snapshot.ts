/**
 * One read of a host per login (see hostKey) per provider process: the sections every Calico resource declares (a shell
 * fragment and its parser, e.g. `nodeSection` in node.ts) joined into one script, whose answer
 * is split back and handed to each section's parser. Every resource on that host derives its
 * facts from the parsed sections.
 *
 * Why one script: every SSH exec starts the user's login shell on the host, and bash run by sshd
 * sources ~/.bashrc (Debian builds it that way), which can cost anything (~100 ms of CPU with a
 * pyenv init, as on our own machines). Reading each resource with its own script made a host
 * with 4 workloads cost 6 such sessions per plan; one snapshot per host costs one.
 *
 * Freshness: a snapshot lives as long as the provider process (Terraform starts one per walk);
 * any script that may change a host drops that host's snapshot (calicoState in ./index.ts).
 */
import { randomBytes } from 'crypto';
import { ProviderError, ResourceContext, UnreachableError } from '../runtime/resource';
import { CalicoProviderState, HostResolver, runChecked, sshTargetFromBlock } from './hosts';
import type { SshBlock } from './schema';
import { DEFAULT_BIRD_CONFIG_PATH, DEFAULT_BIRD_SOCKET_PATH, REGISTRY } from './names';
import { remoteScript, ScriptPiece } from './script';
import { placeKey, reachKey } from '../ssh/identity';

/** One resource's (or several resources') part of the host snapshot. */
export interface SnapshotSection<T> {
  /** Unique among the sections: [a-z][a-z0-9_]*. */
  readonly name: string;
  /**
   * The file under templates/scripts (its name without ".sh", e.g. "snapshot-node") printing
   * this section's body. It runs under `set -euo pipefail` with the others, so a failing
   * host-wide read fails the snapshot; `part LABEL` starts a labelled sub-part (read back with
   * splitParts). Its variables come from snapshotVars.
   */
  readonly scriptFile: string;
  parse(body: string, nodeName: string): T;
}

/** The parsed sections of one host. */
export class HostSnapshot {
  constructor(private readonly parsed: ReadonlyMap<SnapshotSection<unknown>, unknown>) {}

  get<T>(section: SnapshotSection<T>): T {
    if (!this.parsed.has(section)) throw new Error(`snapshot section ${section.name} was not read`);
    return this.parsed.get(section) as T;
  }
}

const SECTION_MARK = '==> ';
const PART_MARK = '--> ';

/**
 * Splits text at lines starting with `mark`; what comes before the first mark is dropped (for
 * the whole answer, that is whatever a login shell printed first).
 */
export function splitParts(text: string, mark: string = PART_MARK): Map<string, string> {
  const parts = new Map<string, string>();
  let name: string | undefined;
  let body: string[] = [];
  const flush = () => {
    if (name !== undefined) parts.set(name, body.join('\n'));
  };
  for (const line of text.split('\n')) {
    if (line.startsWith(mark)) {
      flush();
      name = line.slice(mark.length);
      body = [];
    } else if (name !== undefined) body.push(line);
  }
  flush();
  return parts;
}

/**
 * A fresh marker key for one provider process's snapshot script. Why: what the host prints is
 * not all ours to shape. A link's alias, for one, is printed as it was set, newlines included,
 * and anyone with CAP_NET_ADMIN in a namespace (a container, a workload) can set the alias of
 * its lo. Marks carry this key, which no such writer can know, so printed text cannot start a
 * section or part of its own (e.g. forge another workload's namespace).
 */
export function newMarkKey(): string {
  return randomBytes(9).toString('base64url');
}

/**
 * The sections' fragments as one script, its marks keyed with `key`. The answer must end with
 * the "end" section, so a cut-short answer is never taken for a host without our objects.
 */
export function snapshotScript(sections: readonly SnapshotSection<unknown>[], key: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(key)) throw new Error('bad snapshot mark key');
  const pieces: ScriptPiece[] = [
    // snapshot-frame.sh prints these marks: keep the two in step.
    'snapshot-frame',
    ...sections.flatMap((s): ScriptPiece[] => [{ text: `section ${s.name}` }, s.scriptFile]),
    { text: 'section end' },
  ];
  return remoteScript(pieces, { ...snapshotVars(), mark_key: key }).text;
}

/** The variables the sections' files read: the registry and the default BIRD paths. */
function snapshotVars(): Record<string, string> {
  return { registry: REGISTRY, bird_cfg: DEFAULT_BIRD_CONFIG_PATH, bird_sock: DEFAULT_BIRD_SOCKET_PATH };
}

/**
 * The answer as the section parsers read it: keyed marks become plain marks, and any other line
 * that looks like a mark is indented, so that it is only ever body text.
 */
function unkeyMarks(stdout: string, key: string): string {
  return stdout
    .split('\n')
    .map((line) => {
      for (const mark of [SECTION_MARK, PART_MARK]) {
        if (line.startsWith(`${mark}${key} `)) return mark + line.slice(mark.length + key.length + 1);
      }
      return line.startsWith(SECTION_MARK) || line.startsWith(PART_MARK) ? ` ${line}` : line;
    })
    .join('\n');
}

/**
 * An answer fit for an error message: files travel base64-encoded in the snapshot (bird.conf,
 * whose passwords are in clear there), and base64 is no mask. Long base64 runs are left out.
 */
export function withoutFileBytes(stdout: string): string {
  return stdout.replace(/[A-Za-z0-9+/]{48,}={0,2}/g, (run) => `[${run.length} characters of base64 left out]`);
}

export function parseSnapshot(
  stdout: string,
  sections: readonly SnapshotSection<unknown>[],
  nodeName: string,
  key: string,
): HostSnapshot {
  const bodies = splitParts(unkeyMarks(stdout, key), SECTION_MARK);
  if (!bodies.has('end')) {
    throw new ProviderError(`Incomplete answer from node ${nodeName}`, {
      detail: withoutFileBytes(stdout).slice(-2000),
    });
  }
  const parsed = new Map<SnapshotSection<unknown>, unknown>();
  for (const section of sections) parsed.set(section, section.parse(bodies.get(section.name) ?? '', nodeName));
  return new HostSnapshot(parsed);
}

/**
 * Whose read a snapshot is: the login (host, port, the whole jump chain, user, key or agent,
 * known_hosts; see providers/ssh/identity.ts) and sudo, which changes what the scripts may see.
 * Only resources that reach their host exactly this way share a snapshot: a read made with one
 * resource's credentials never answers for a resource that declares others, and the same
 * address behind two bastions is two hosts.
 */
export function hostKey(ssh: SshBlock): string {
  const t = sshTargetFromBlock(ssh);
  return `${reachKey(t)}${t.sudo ? ' sudo' : ''}`;
}

/** Snapshots per host for one provider process; concurrent readers share one fetch. */
export class HostSnapshots {
  private readonly cache = new Map<string, { place: string; snapshot: Promise<HostSnapshot> }>();
  private readonly key = newMarkKey();
  private readonly script: string;

  /** `hosts` must be the plain resolver: running the snapshot must not invalidate it. */
  constructor(
    private readonly hosts: HostResolver,
    private readonly sections: readonly SnapshotSection<unknown>[],
  ) {
    const names = sections.map((s) => s.name);
    const bad = names.find((n, i) => !/^[a-z][a-z0-9_]*$/.test(n) || n === 'end' || names.indexOf(n) !== i);
    if (bad !== undefined) throw new Error(`snapshot section name "${bad}" is invalid or used twice`);
    this.script = snapshotScript(sections, this.key);
  }

  of(ssh: SshBlock, nodeName: string, signal: AbortSignal): Promise<HostSnapshot> {
    const key = hostKey(ssh);
    const cached = this.cache.get(key);
    if (cached) return cached.snapshot;
    const host = this.hosts.hostFor(ssh, nodeName);
    const snapshot = runChecked(host, nodeName, this.script, { signal, doing: 'read its state' }).then((out) =>
      parseSnapshot(out, this.sections, nodeName, this.key),
    );
    const entry = { place: placeKey(sshTargetFromBlock(ssh)), snapshot };
    this.cache.set(key, entry);
    // An unreachable host stays cached as such: the host's other resources fail fast instead
    // of each waiting out the connect timeout again. Other failures are not kept.
    snapshot.catch((err: unknown) => {
      if (!(err instanceof UnreachableError) && this.cache.get(key) === entry) this.cache.delete(key);
    });
    return snapshot;
  }

  /**
   * Called before and after any script that may change the host (calicoState wraps them).
   * Every snapshot of that machine goes, whichever login read it: a change made with one
   * resource's credentials is a change for all.
   */
  invalidate(ssh: SshBlock): void {
    const place = placeKey(sshTargetFromBlock(ssh));
    for (const [key, entry] of this.cache) if (entry.place === place) this.cache.delete(key);
  }
}

/** The snapshot of the host a resource's `ssh` block names: what every read uses. */
export function snapshotOf(
  ssh: SshBlock,
  nodeName: string,
  ctx: ResourceContext<CalicoProviderState>,
): Promise<HostSnapshot> {
  refuseImportedAgentRead(ssh, nodeName, ctx);
  return ctx.provider.snapshots.of(ssh, nodeName, ctx.signal);
}

/**
 * An imported state holds the import id's settings: ssh-agent, as the import logged in, until
 * an apply writes the configuration's (its key path) into the state. Refreshed where there is no
 * agent (a plain `terraform plan` in another shell), that state has no login of its own; no
 * other resource's login may stand in for it. So it is not refreshed: the runtime keeps it, says
 * so, and plans its facts as unknown; the apply then works with the configuration's settings.
 */
export function refuseImportedAgentRead(
  ssh: SshBlock,
  nodeName: string,
  ctx: ResourceContext<CalicoProviderState>,
): void {
  if (!ctx.imported || process.env.SSH_AUTH_SOCK) return;
  const t = sshTargetFromBlock(ssh);
  const agentLogins = [t.privateKeyPath, ...(t.jumps ?? []).map((j) => j.privateKeyPath ?? t.privateKeyPath)].filter(
    (k) => !k,
  ).length;
  if (agentLogins === 0) return;
  throw new UnreachableError(`Cannot read node ${nodeName} (${ssh.host}) with the login its import recorded`, {
    detail:
      'The import logged in with ssh-agent (an import id carries no key path), and SSH_AUTH_SOCK is not set here. ' +
      "No other resource's login stands in for it. The next apply records the configuration's ssh settings " +
      '(private_key_path, known_hosts_path) and reads with them; run plans before that with the agent to refresh this object.',
  });
}
