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
import { PlanRequest, PlanResult, ProviderError, ResourceContext, ResourceHandler, Unknown, Value } from '../runtime/resource';
import { asObjectValue, BlockValues, InputValues, knownInputs, knownValues } from '../runtime/typed';
import { isAbsolutePath, isNodeName } from '../../rules/checks';
import { maskSecrets, missingSecrets, spliceSecrets } from '../../rules/secrets';
import { CalicoProviderState, parseFacts, runChecked, runOn } from './hosts';
import { SnapshotSection, snapshotOf } from './host-snapshot';
import { parseImportId } from './import-id';
import { backupPathFor, DEFAULT_BIRD_CONFIG_PATH, DEFAULT_BIRD_SOCKET_PATH } from './names';
import { resourceSchemas } from './schema';
import { REMOVE_BIRD_ROUTES_FN, scriptWithVars } from './script';
import { checkSshBlock, DiagnosticCollector, requireValid } from './validate';

type Ctx = ResourceContext<CalicoProviderState>;
const schema = resourceSchemas.calico_bird_config;
type BirdState = BlockValues<typeof schema.block>;
type BirdInputs = InputValues<typeof schema.block>;

const PARSE_EXIT = 43;

/** Reloads BIRD if it runs; fails with birdc's own words if the reload is refused. */
const RELOAD = `
reload_bird() {
  if [ ! -S "$sock" ]; then
    echo "BIRD is not running on $node (no control socket at $sock); the file is in place, start bird to load it" >&2
    return 1
  fi
  local reply
  reply=$(birdc -s "$sock" configure 2>&1) || true
  case "$reply" in
    *Reconfigured*|*"Reconfiguration in progress"*|*"Reconfiguration already in progress"*) echo "bird_reply=$(printf '%s' "$reply" | tail -n1)" ;;
    *) echo "birdc configure on $node failed: $reply" >&2; return 1 ;;
  esac
}`;

const WRITE_BODY = `${RELOAD}
dir=$(dirname "$cfg")
[ -d "$dir" ] || { echo "directory $dir does not exist on $node" >&2; exit 3; }
tmp=$(mktemp "$cfg.calico-net.XXXXXX")
trap 'rm -f "$tmp"' EXIT
cat > "$tmp"
# Parse check on the host, before anything touches the live file.
if ! out=$(bird -p -c "$tmp" 2>&1); then
  printf '%s\\n' "$out" | sed "s|$tmp|$cfg (new content)|g" >&2
  exit ${PARSE_EXIT}
fi
if [ "$keep_original" = 1 ] && [ -e "$cfg" ] && [ ! -e "$backup" ]; then cp -p "$cfg" "$backup"; fi
if [ -e "$backup" ]; then echo original=kept; else echo original=none; fi
if [ -e "$cfg" ]; then chmod --reference="$cfg" "$tmp"; chown --reference="$cfg" "$tmp"; else chmod 0644 "$tmp"; fi
mv -f "$tmp" "$cfg"
trap - EXIT
reload_bird
echo end=ok`;

const DELETE_BODY = `${RELOAD}
${REMOVE_BIRD_ROUTES_FN}
if [ -e "$backup" ]; then
  mv -f "$backup" "$cfg"
elif [ "$had_original" = 0 ]; then
  rm -f "$cfg"
else
  echo "kept_foreign=1"
fi
if [ -S "$sock" ] && [ -e "$cfg" ]; then reload_bird; fi
remove_bird_routes
echo end=ok`;

/** The file content follows the header line verbatim (so a hand edit reads back exactly). */
const READ_BODY = `
if [ -f "$cfg" ]; then echo present; cat "$cfg"; else echo missing; fi`;

/** The default config file travels with the host snapshot: base64, so its bytes come back exact. */
export const birdConfigSection: SnapshotSection<string | null> = {
  name: 'bird_config',
  script: `if [ -f ${DEFAULT_BIRD_CONFIG_PATH} ]; then echo present; base64 -w0 < ${DEFAULT_BIRD_CONFIG_PATH}; echo; else echo missing; fi`,
  parse(body, nodeName) {
    const [header, encoded = ''] = body.split('\n');
    if (header === 'missing') return null;
    if (header !== 'present') throw new ProviderError(`Unexpected answer from node ${nodeName} reading ${DEFAULT_BIRD_CONFIG_PATH}`, { detail: header });
    return Buffer.from(encoded.trim(), 'base64').toString('utf8');
  },
};

interface Paths {
  node: string;
  cfg: string;
  sock: string;
}

function pathsOf(obj: BirdInputs): Paths {
  return {
    node: requireValid(obj.node_name, 'node_name', isNodeName),
    cfg: requireValid(obj.config_path ?? DEFAULT_BIRD_CONFIG_PATH, 'config_path', isAbsolutePath),
    sock: requireValid(obj.socket_path ?? DEFAULT_BIRD_SOCKET_PATH, 'socket_path', isAbsolutePath),
  };
}

/** The id: one place, for plan, apply and import. */
function birdConfigId(node: string, cfg: string): string {
  return `${node}:${cfg}`;
}

async function writeConfig(obj: BirdInputs, keepOriginal: boolean, ctx: Ctx): Promise<'kept' | 'none'> {
  const { node, cfg, sock } = pathsOf(obj);
  const host = ctx.provider.hosts.hostFor(obj.ssh, node);
  const vars = { node, cfg, sock, backup: backupPathFor(cfg), keep_original: keepOriginal ? '1' : '0' };
  const missing = missingSecrets(obj.content, obj.secrets);
  if (missing.length > 0) {
    throw new ProviderError(`The bird.conf of node ${node} needs secrets that have no value: ${missing.join(', ')}`, {
      detail: 'Every <<calico-secret:NAME>> in content needs an entry NAME in secrets; nothing was written.',
      attribute: ['secrets'],
    });
  }
  // The secrets go in here, on their way to the host: never in content, plans or logs.
  const stdin = spliceSecrets(obj.content, obj.secrets);
  const result = await runOn(host, node, scriptWithVars(vars, WRITE_BODY), { stdin, signal: ctx.signal, doing: 'write bird.conf' });
  if (result.code === PARSE_EXIT) {
    throw new ProviderError(`BIRD rejected the new configuration for node ${node}; ${cfg} was left untouched`, {
      detail: result.stderr.trim(),
      attribute: ['content'],
    });
  }
  if (result.code !== 0) {
    throw new ProviderError(`Failed to install bird.conf on node ${node}`, { detail: result.stderr.trim() || `exit code ${result.code}` });
  }
  return parseFacts(result.stdout, node).get('original') === 'kept' ? 'kept' : 'none';
}

/** The file as it is on the host; a missing file reads as "" (the plan then shows what to write). */
async function readContent(obj: BirdInputs, ctx: Ctx): Promise<string> {
  const { node, cfg } = pathsOf(obj);
  // The usual path comes with the host's snapshot; another path costs a read of its own.
  if (cfg === DEFAULT_BIRD_CONFIG_PATH) return (await snapshotOf(obj.ssh, node, ctx)).get(birdConfigSection) ?? '';
  const host = ctx.provider.readOnlyHosts.hostFor(obj.ssh, node);
  const out = await runChecked(host, node, scriptWithVars({ cfg }, READ_BODY), { signal: ctx.signal, doing: 'read bird.conf' });
  const nl = out.indexOf('\n');
  const header = nl < 0 ? out : out.slice(0, nl);
  if (header === 'missing') return '';
  if (header !== 'present') throw new ProviderError(`Unexpected answer from node ${node} reading ${cfg}`, { detail: out.slice(0, 500) });
  return out.slice(nl + 1);
}

export const birdConfigHandler: ResourceHandler<CalicoProviderState> = {
  typeName: 'calico_bird_config',
  schema,

  validate(config) {
    const c = new DiagnosticCollector();
    c.string(config, ['node_name'], isNodeName);
    c.string(config, ['config_path'], isAbsolutePath);
    c.string(config, ['socket_path'], isAbsolutePath);
    checkSshBlock(c, config);
    return c.diagnostics;
  },

  plan(req: PlanRequest): PlanResult {
    const node: Value = req.config.node_name;
    const cfg: Value = req.config.config_path ?? DEFAULT_BIRD_CONFIG_PATH;
    return {
      planned: {
        ...req.proposed,
        id: typeof node === 'string' && typeof cfg === 'string' ? birdConfigId(node, cfg) : Unknown,
        // On create it depends on whether a file is there; afterwards it never changes.
        backup_path: req.prior ? req.prior.backup_path : Unknown,
      },
    };
  },

  async create(plannedValue, ctx) {
    const planned = knownInputs(schema.block, plannedValue);
    const { node, cfg } = pathsOf(planned);
    const original = await writeConfig(planned, true, ctx);
    const state: BirdState = { ...planned, id: birdConfigId(node, cfg), backup_path: original === 'kept' ? backupPathFor(cfg) : null };
    return asObjectValue(state);
  },

  async update(priorValue, plannedValue, ctx) {
    const prior = knownValues(schema.block, priorValue);
    const planned = knownInputs(schema.block, plannedValue);
    const { node, cfg } = pathsOf(planned);
    await writeConfig(planned, false, ctx);
    const state: BirdState = { ...planned, id: birdConfigId(node, cfg), backup_path: prior.backup_path };
    return asObjectValue(state);
  },

  async read(stateValue, ctx) {
    const state = knownValues(schema.block, stateValue);
    // Secrets masked back: an unchanged host reads as the placeholder content.
    const refreshed: BirdState = { ...state, content: maskSecrets(await readContent(state, ctx), state.content, state.secrets) };
    return asObjectValue(refreshed);
  },

  async delete(priorValue, ctx) {
    const prior = knownValues(schema.block, priorValue);
    const { node, cfg, sock } = pathsOf(prior);
    const host = ctx.provider.hosts.hostFor(prior.ssh, node);
    const backup = backupPathFor(cfg);
    const vars = { node, cfg, sock, backup, had_original: prior.backup_path ? '1' : '0' };
    const out = await runChecked(host, node, scriptWithVars(vars, DELETE_BODY), { signal: ctx.signal, doing: 'restore the original bird.conf' });
    if (parseFacts(out, node).get('kept_foreign') === '1') {
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
    const bad = isNodeName(node) ?? isAbsolutePath(cfg);
    if (bad) throw new ProviderError(`Invalid import id "${id}"`, { detail: `${bad}; expected ${format}` });
    const inputs: BirdInputs = { node_name: node, config_path: cfg === DEFAULT_BIRD_CONFIG_PATH ? null : cfg, socket_path: null, content: '', secrets: null, ssh };
    const content = maskSecrets(await readContent(inputs, ctx), '', null);
    const state: BirdState = { ...inputs, id: birdConfigId(node, cfg), backup_path: backupPathFor(cfg), content };
    return asObjectValue(state);
  },
};
