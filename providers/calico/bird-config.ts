/**
 * calico_bird_config: the node's bird.conf, swapped in atomically after a parse check on the
 * host, then loaded with `birdc configure`.
 *
 * backup_path semantics: a path = the file that was there before our first apply is (or should
 * be) kept there and destroy moves it back; null = there was no file, destroy removes ours.
 * Imported resources always record the backup path; when no backup exists destroy then leaves
 * the file alone rather than delete something we did not write.
 *
 * Teardown rule for BIRD's kernel leftovers: after the original config is back and BIRD has
 * reloaded it, every IPv4 `proto bird` route left in the main table is deleted. This resource
 * owns BIRD, so no other tool's routes carry that protocol; if the restored config still exports
 * routes to the kernel, BIRD reinstalls them on its next kernel scan.
 */
import {
  PlanRequest,
  PlanResult,
  ProviderError,
  ResourceContext,
  ResourceHandler,
  Unknown,
  Value,
} from '../runtime/resource';
import { asObjectValue, BlockValues, InputValues, knownInputs, knownValues } from '../runtime/typed';
import { absolutePathProblem, nodeNameProblem } from '../../rules/checks';
import { BIRD_RELOAD } from '../../rules/constants';
import { maskSecrets, missingSecrets, spliceSecrets } from '../../rules/secrets';
import { CalicoProviderState, parseFacts, runChecked, runOn } from './hosts';
import { refuseImportedAgentRead, SnapshotSection, snapshotOf } from './host-snapshot';
import { parseImportId } from './import-id';
import {
  backupPathFor,
  DEFAULT_BIRD_CONFIG_PATH,
  DEFAULT_BIRD_SOCKET_PATH,
  OWNER_SUFFIX,
  PREVIOUS_SUFFIX,
} from './names';
import { resourceSchemas } from './schema';
import { scriptFailure } from './exit-codes';
import { remoteScript } from './script';

type Ctx = ResourceContext<CalicoProviderState>;
const schema = resourceSchemas.calico_bird_config;
type BirdState = BlockValues<typeof schema.block>;
type BirdInputs = InputValues<typeof schema.block>;

interface BirdFile {
  /** The file's content; null when there is no file. */
  content: string | null;
  /** BIRD runs and its last (re)configuration is not older than the file. */
  loaded: boolean;
}

function parseBirdFile(body: string, nodeName: string, cfg: string): BirdFile {
  const [header, encoded = '', ...rest] = body.split('\n');
  if (header !== 'present' && header !== 'missing') {
    throw new ProviderError(`Unexpected answer from node ${nodeName} reading ${cfg}`, { detail: header });
  }
  const facts = new Map(
    rest.filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()]),
  );
  const mtime = Number(facts.get('mtime') || NaN);
  const reconfigured = Number(facts.get('reconfigured') || NaN);
  return {
    content: header === 'present' ? Buffer.from(encoded.trim(), 'base64').toString('utf8') : null,
    loaded: header === 'present' && reconfigured >= mtime,
  };
}

/** The default config file and socket travel with the host snapshot. */
export const birdConfigSection: SnapshotSection<BirdFile> = {
  name: 'bird_config',
  // Its variables (bird_cfg, bird_sock: the defaults) come with the snapshot's (host-snapshot.ts).
  scriptFile: 'bird-config-read',
  parse: (body, nodeName) => parseBirdFile(body, nodeName, DEFAULT_BIRD_CONFIG_PATH),
};

interface Paths {
  node: string;
  cfg: string;
  sock: string;
}

/** The inputs' paths, defaults applied (the runtime ran the schema's checks on them: states too). */
function pathsOf(obj: BirdInputs): Paths {
  return {
    node: obj.node_name,
    cfg: obj.config_path ?? DEFAULT_BIRD_CONFIG_PATH,
    sock: obj.socket_path ?? DEFAULT_BIRD_SOCKET_PATH,
  };
}

/** The id: one place, for plan, apply and import. */
function birdConfigId(node: string, cfg: string): string {
  return `${node}:${cfg}`;
}

async function writeConfig(obj: BirdInputs, keepOriginal: boolean, ctx: Ctx): Promise<'kept' | 'none'> {
  const { node, cfg, sock } = pathsOf(obj);
  const host = ctx.provider.hosts.hostFor(obj.ssh, node);
  const { wait, revert } = reloadTimingOf(obj);
  const vars = {
    node,
    cfg,
    sock,
    backup: backupPathFor(cfg),
    prev: `${cfg}${PREVIOUS_SUFFIX}`,
    owner: `${cfg}${OWNER_SUFFIX}`,
    keep_original: keepOriginal ? '1' : '0',
    wait: String(wait),
    revert: String(revert),
  };
  const missing = missingSecrets(obj.content, obj.secrets);
  if (missing.length > 0) {
    throw new ProviderError(`The bird.conf of node ${node} needs secrets that have no value: ${missing.join(', ')}`, {
      detail: 'Every <<calico-secret:NAME>> in content needs an entry NAME in secrets; nothing was written.',
      attribute: ['secrets'],
    });
  }
  // The secrets go in here, on their way to the host: never in content, plans or logs.
  const stdin = spliceSecrets(obj.content, obj.secrets);
  const script = remoteScript(['bird-config-write'], vars);
  const result = await runOn(host, node, script.text, { stdin, signal: ctx.signal, doing: 'write bird.conf' });
  const failure = scriptFailure(result.code, result.stderr, script.exits, {
    node,
    doing: 'install bird.conf',
    file: cfg,
  });
  if (failure) throw failure;
  return parseFacts(result.stdout, node).get('original') === 'kept' ? 'kept' : 'none';
}

/** The file as it is on the host, and whether BIRD runs it. */
async function readFile(obj: BirdInputs, ctx: Ctx): Promise<BirdFile> {
  const { node, cfg, sock } = pathsOf(obj);
  // The usual paths come with the host's snapshot; others cost a read of their own.
  if (cfg === DEFAULT_BIRD_CONFIG_PATH && sock === DEFAULT_BIRD_SOCKET_PATH)
    return (await snapshotOf(obj.ssh, node, ctx)).get(birdConfigSection);
  refuseImportedAgentRead(obj.ssh, node, ctx);
  const host = ctx.provider.readOnlyHosts.hostFor(obj.ssh, node);
  const out = await runChecked(
    host,
    node,
    remoteScript(['bird-config-read'], { bird_cfg: cfg, bird_sock: sock }).text,
    { signal: ctx.signal, doing: 'read bird.conf' },
  );
  return parseBirdFile(out, node, cfg);
}

/**
 * What read reports: a missing file reads as "" (the plan then shows what to write), and the
 * secrets are masked back, so an unchanged host reads as the placeholder content.
 */
async function birdFacts(obj: BirdInputs, ctx: Ctx): Promise<Pick<BirdState, 'content' | 'loaded'>> {
  const file = await readFile(obj, ctx);
  return { content: maskSecrets(file.content ?? '', obj.content, obj.secrets), loaded: file.loaded };
}

/**
 * The session wait and BIRD's own revert timeout, defaults applied. The schema's checks (ranges,
 * revert_after after session_wait) ran on the set values; the defaults pass them by construction.
 */
function reloadTimingOf(obj: BirdInputs): { wait: number; revert: number } {
  const wait = obj.session_wait ?? BIRD_RELOAD.sessionWait;
  return { wait, revert: obj.revert_after ?? wait + BIRD_RELOAD.revertMargin };
}

export const birdConfigHandler: ResourceHandler<CalicoProviderState> = {
  typeName: 'calico_bird_config',
  schema,

  plan(req: PlanRequest): PlanResult {
    const node: Value = req.config.node_name;
    const cfg: Value = req.config.config_path ?? DEFAULT_BIRD_CONFIG_PATH;
    return {
      planned: {
        ...req.proposed,
        id: typeof node === 'string' && typeof cfg === 'string' ? birdConfigId(node, cfg) : Unknown,
        // On create it depends on whether a file is there; afterwards it never changes.
        backup_path: req.prior ? req.prior.backup_path : Unknown,
        loaded: true,
      },
    };
  },

  async create(plannedValue, ctx) {
    const planned = knownInputs(schema.block, plannedValue);
    const { node, cfg } = pathsOf(planned);
    const original = await writeConfig(planned, true, ctx);
    const state: BirdState = {
      ...planned,
      id: birdConfigId(node, cfg),
      backup_path: original === 'kept' ? backupPathFor(cfg) : null,
      loaded: true,
    };
    return asObjectValue(state);
  },

  async update(priorValue, plannedValue, ctx) {
    const prior = knownValues(schema.block, priorValue);
    const planned = knownInputs(schema.block, plannedValue);
    const { node, cfg } = pathsOf(planned);
    await writeConfig(planned, false, ctx);
    const state: BirdState = { ...planned, id: birdConfigId(node, cfg), backup_path: prior.backup_path, loaded: true };
    return asObjectValue(state);
  },

  async read(stateValue, ctx) {
    const state = knownValues(schema.block, stateValue);
    const refreshed: BirdState = { ...state, ...(await birdFacts(state, ctx)) };
    return asObjectValue(refreshed);
  },

  async delete(priorValue, ctx) {
    const prior = knownValues(schema.block, priorValue);
    const { node, cfg, sock } = pathsOf(prior);
    const host = ctx.provider.hosts.hostFor(prior.ssh, node);
    const backup = backupPathFor(cfg);
    const vars = {
      node,
      cfg,
      sock,
      backup,
      owner: `${cfg}${OWNER_SUFFIX}`,
      had_original: prior.backup_path ? '1' : '0',
    };
    const out = await runChecked(host, node, remoteScript(['bird-config-delete'], vars).text, {
      signal: ctx.signal,
      doing: 'restore the original bird.conf',
    });
    const facts = parseFacts(out, node);
    const heir = facts.get('handed_over');
    if (heir) ctx.log.info(`node ${node}: ${cfg} now belongs to node ${heir}; left it in place`);
    if (facts.get('kept_foreign') === '1') {
      ctx.warn(`Left ${cfg} on node ${node} as it is`, {
        detail: `There was a file before calico-net managed it (e.g. an imported resource), but no copy of it at ${backup}, so destroy neither restored nor deleted it.`,
      });
    }
  },

  async import(id, ctx) {
    const format = '<node>:<config path>@[user@]host[:port]';
    const { subject, ssh } = parseImportId(id, format);
    const colon = subject.indexOf(':');
    const node = colon < 0 ? subject : subject.slice(0, colon);
    const cfg = colon < 0 ? DEFAULT_BIRD_CONFIG_PATH : subject.slice(colon + 1);
    const bad = nodeNameProblem(node) ?? absolutePathProblem(cfg);
    if (bad) throw new ProviderError(`Invalid import id "${id}"`, { detail: `${bad}; expected ${format}` });
    const inputs: BirdInputs = {
      node_name: node,
      config_path: cfg === DEFAULT_BIRD_CONFIG_PATH ? null : cfg,
      socket_path: null,
      content: '',
      session_wait: null,
      revert_after: null,
      secrets: null,
      ssh,
    };
    const state: BirdState = {
      ...inputs,
      id: birdConfigId(node, cfg),
      backup_path: backupPathFor(cfg),
      ...(await birdFacts(inputs, ctx)),
    };
    return asObjectValue(state);
  },
};
