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
import { ObjectValue, PlanRequest, PlanResult, ProviderError, ResourceContext, ResourceHandler, Unknown } from '../runtime/resource';
import { resourceSchemas } from './schema';
import { CalicoProviderState, parseFacts, runChecked, runOn, sshBlockOf } from './hosts';
import { snapshotOf } from './host-snapshot';
import { parseImportId } from './import-id';
import { backupPathFor, DEFAULT_BIRD_CONFIG_PATH, DEFAULT_BIRD_SOCKET_PATH } from './names';
import { scriptWithVars } from './quote';
import { checkSshBlock, DiagnosticCollector, isAbsolutePath, isNodeName } from './validate';
import { optionalString, requireString } from './values';

type Ctx = ResourceContext<CalicoProviderState>;

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
if [ -e "$backup" ]; then
  mv -f "$backup" "$cfg"
elif [ "$had_original" = 0 ]; then
  rm -f "$cfg"
else
  echo "warning: no backup at $backup on $node; leaving $cfg as it is" >&2
fi
if [ -S "$sock" ] && [ -e "$cfg" ]; then reload_bird; fi
ip -4 route show table main proto bird | awk '/^[^ \\t]/{print ($1 ~ /^(unicast|blackhole|unreachable|prohibit|throw)$/) ? $2 : $1}' | sort -u |
  while read -r prefix; do
    while ip route del "$prefix" table main proto bird 2>/dev/null; do :; done
  done
echo end=ok`;

/** The file content follows the header line verbatim (so a hand edit reads back exactly). */
const READ_BODY = `
if [ -f "$cfg" ]; then echo present; cat "$cfg"; else echo missing; fi`;

interface Paths {
  node: string;
  cfg: string;
  sock: string;
}

function pathsOf(obj: ObjectValue): Paths {
  return {
    node: requireString(obj, 'node_name', isNodeName),
    cfg: optionalString(obj, 'config_path', isAbsolutePath) ?? DEFAULT_BIRD_CONFIG_PATH,
    sock: optionalString(obj, 'socket_path', isAbsolutePath) ?? DEFAULT_BIRD_SOCKET_PATH,
  };
}

async function writeConfig(obj: ObjectValue, keepOriginal: boolean, ctx: Ctx): Promise<'kept' | 'none'> {
  const { node, cfg, sock } = pathsOf(obj);
  const content = requireString(obj, 'content');
  const host = ctx.provider.hosts.hostFor(sshBlockOf(obj), node);
  const vars = { node, cfg, sock, backup: backupPathFor(cfg), keep_original: keepOriginal ? '1' : '0' };
  const result = await runOn(host, node, scriptWithVars(vars, WRITE_BODY), { stdin: content, signal: ctx.signal, doing: 'write bird.conf' });
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

async function readContent(obj: ObjectValue, ctx: Ctx): Promise<string> {
  const { node, cfg } = pathsOf(obj);
  // The usual path comes with the host's snapshot; another path costs a read of its own.
  if (cfg === DEFAULT_BIRD_CONFIG_PATH) return (await snapshotOf(obj, node, ctx)).birdConfig ?? '';
  const host = ctx.provider.snapshots.readOnlyHost(sshBlockOf(obj), node);
  const out = await runChecked(host, node, scriptWithVars({ cfg }, READ_BODY), { signal: ctx.signal, doing: 'read bird.conf' });
  const nl = out.indexOf('\n');
  const header = nl < 0 ? out : out.slice(0, nl);
  if (header === 'missing') return '';
  if (header !== 'present') throw new ProviderError(`Unexpected answer from node ${node} reading ${cfg}`, { detail: out.slice(0, 500) });
  return out.slice(nl + 1);
}

export const birdConfigHandler: ResourceHandler<CalicoProviderState> = {
  typeName: 'calico_bird_config',
  schema: resourceSchemas.calico_bird_config,

  validate(config) {
    const c = new DiagnosticCollector();
    c.string(config, ['node_name'], isNodeName);
    c.string(config, ['config_path'], isAbsolutePath);
    c.string(config, ['socket_path'], isAbsolutePath);
    checkSshBlock(c, config);
    return c.diagnostics;
  },

  plan(req: PlanRequest): PlanResult {
    const p = { ...req.proposed };
    const node = req.config.node_name;
    const cfg = req.config.config_path ?? DEFAULT_BIRD_CONFIG_PATH;
    p.id = typeof node === 'string' && typeof cfg === 'string' ? `${node}:${cfg}` : Unknown;
    // On create it depends on whether a file is there; afterwards it never changes.
    p.backup_path = req.prior ? req.prior.backup_path : Unknown;
    return { planned: p };
  },

  async create(planned, ctx) {
    const { node, cfg } = pathsOf(planned);
    const original = await writeConfig(planned, true, ctx);
    return { ...planned, id: `${node}:${cfg}`, backup_path: original === 'kept' ? backupPathFor(cfg) : null };
  },

  async update(prior, planned, ctx) {
    const { node, cfg } = pathsOf(planned);
    await writeConfig(planned, false, ctx);
    return { ...planned, id: `${node}:${cfg}`, backup_path: prior.backup_path ?? null };
  },

  async read(state, ctx) {
    // A missing file reads as "" so the plan shows the content to write, not a recreate.
    return { ...state, content: await readContent(state, ctx) };
  },

  async delete(prior, ctx) {
    const { node, cfg, sock } = pathsOf(prior);
    const host = ctx.provider.hosts.hostFor(sshBlockOf(prior), node);
    const vars = { node, cfg, sock, backup: backupPathFor(cfg), had_original: prior.backup_path ? '1' : '0' };
    await runChecked(host, node, scriptWithVars(vars, DELETE_BODY), { signal: ctx.signal, doing: 'restore the original bird.conf' });
  },

  async import(id, ctx) {
    const format = '<node>:<config path>@[user@]host[:port]';
    const { subject, ssh } = parseImportId(id, format);
    const colon = subject.indexOf(':');
    const node = colon < 0 ? subject : subject.slice(0, colon);
    const cfg = colon < 0 ? DEFAULT_BIRD_CONFIG_PATH : subject.slice(colon + 1);
    const bad = isNodeName(node) ?? isAbsolutePath(cfg);
    if (bad) throw new ProviderError(`Invalid import id "${id}"`, { detail: `${bad}; expected ${format}` });
    const state: ObjectValue = {
      id: `${node}:${cfg}`,
      node_name: node,
      config_path: cfg === DEFAULT_BIRD_CONFIG_PATH ? null : cfg,
      socket_path: null,
      content: '',
      backup_path: backupPathFor(cfg),
      ssh,
    };
    state.content = await readContent(state, ctx);
    return state;
  },
};
