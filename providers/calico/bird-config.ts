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
import { BIRD_RELOAD } from '../../rules/constants';
import { maskSecrets, missingSecrets, spliceSecrets } from '../../rules/secrets';
import { CalicoProviderState, parseFacts, runChecked, runOn } from './hosts';
import { refuseImportedAgentRead, SnapshotSection, snapshotOf } from './host-snapshot';
import { parseImportId } from './import-id';
import { backupPathFor, DEFAULT_BIRD_CONFIG_PATH, DEFAULT_BIRD_SOCKET_PATH, OWNER_SUFFIX, PREVIOUS_SUFFIX } from './names';
import { resourceSchemas } from './schema';
import { REMOVE_BIRD_ROUTES_FN, scriptWithVars } from './script';

type Ctx = ResourceContext<CalicoProviderState>;
const schema = resourceSchemas.calico_bird_config;
type BirdState = BlockValues<typeof schema.block>;
type BirdInputs = InputValues<typeof schema.block>;

const PARSE_EXIT = 43;
const ROLLBACK_EXIT = 45;
const NOT_RUNNING_EXIT = 46;
const NO_BIRD_EXIT = 47;


/** Prints the names of the BGP sessions that are Established now. */
const ESTABLISHED_FN = `
established() {
  timeout 10 birdc -s "$sock" show protocols 2>/dev/null | awk '$2 == "BGP" && / Established/ { print $1 }'
}`;

/** A plain `birdc configure`; fails with birdc's own words if the reload is refused. */
const RELOAD_FN = `
reload_bird() {
  local reply
  reply=$(birdc -s "$sock" configure 2>&1) || true
  case "$reply" in
    *Reconfigured*|*"Reconfiguration in progress"*|*"Reconfiguration already in progress"*) ;;
    *) echo "birdc configure on $node failed: $reply" >&2; return 1 ;;
  esac
}`;

/**
 * Loads the new file. With a session wait: `configure timeout` (BIRD reverts by itself unless
 * confirmed, should this script never get to the end), then every session that was Established
 * before and is still configured must be Established again within the wait; then `configure
 * confirm`. Otherwise the previous file goes back in place (keeping its mtime, so the `loaded`
 * fact stays true of it) and `configure undo` brings back the previous config.
 */
const LOAD_FN = `${RELOAD_FN}
load_config() {
  if [ ! -S "$sock" ]; then
    echo "BIRD is not running on $node (no control socket at $sock); the file is in place, and the next apply loads it (start bird first)" >&2
    exit ${NOT_RUNNING_EXIT}
  fi
  if [ "$wait" = 0 ]; then reload_bird; return; fi
  local reply pending line now deadline
  reply=$(birdc -s "$sock" configure timeout "$revert" 2>&1) || true
  case "$reply" in
    *Reconfigured*|*"Reconfiguration in progress"*) ;;
    *) echo "birdc configure on $node failed: $reply" >&2; return 1 ;;
  esac
  deadline=$((SECONDS + wait))
  while :; do
    pending=""
    now=$(timeout 10 birdc -s "$sock" show protocols 2>/dev/null || true)
    for p in $before; do
      line=$(printf '%s\\n' "$now" | awk -v p="$p" '$1 == p')
      [ -n "$line" ] || continue
      case "$line" in *Established*) ;; *) pending="$pending $p" ;; esac
    done
    [ -n "$pending" ] || break
    if [ "$SECONDS" -ge "$deadline" ]; then
      if [ -e "$prev" ]; then mv -f "$prev" "$cfg"; fi
      birdc -s "$sock" configure undo >/dev/null 2>&1 || true
      echo "BGP sessions were not Established again within \${wait}s of loading the new configuration on $node:$pending; BIRD is back on the previous configuration" >&2
      exit ${ROLLBACK_EXIT}
    fi
    sleep 1
  done
  birdc -s "$sock" configure confirm >/dev/null 2>&1 || true
}`;

const WRITE_BODY = `${ESTABLISHED_FN}
${LOAD_FN}
dir=$(dirname "$cfg")
[ -d "$dir" ] || { echo "directory $dir does not exist on $node" >&2; exit 3; }
tmp=$(mktemp "$cfg.calico-net.XXXXXX")
trap 'rm -f "$tmp"' EXIT
cat > "$tmp"
# Parse check on the host, before anything touches the live file. No bird to run is not a
# rejection (sudo's secure_path, for one, may leave /usr/sbin out).
command -v bird >/dev/null 2>&1 || { echo "bird: command not found on $node (PATH=$PATH)" >&2; exit ${NO_BIRD_EXIT}; }
if ! out=$(bird -p -c "$tmp" 2>&1); then
  printf '%s\\n' "$out" | sed "s|$tmp|$cfg (new content)|g" >&2
  exit ${PARSE_EXIT}
fi
if [ "$keep_original" = 1 ] && [ -e "$cfg" ] && [ ! -e "$backup" ]; then cp -p "$cfg" "$backup"; fi
if [ -e "$backup" ]; then echo original=kept; else echo original=none; fi
before=""
if [ -S "$sock" ]; then before=$(established | tr '\\n' ' '); fi
rm -f "$prev"
if [ -e "$cfg" ]; then cp -p "$cfg" "$prev"; chmod --reference="$cfg" "$tmp"; chown --reference="$cfg" "$tmp"; else chmod 0644 "$tmp"; fi
mv -f "$tmp" "$cfg"
trap - EXIT
load_config
rm -f "$prev"
# This node's config is the one in place: a node renamed in place takes the file over.
printf '%s\\n' "$node" > "$owner"
echo end=ok`;

const DELETE_BODY = `${RELOAD_FN}
${REMOVE_BIRD_ROUTES_FN}
if [ -f "$owner" ] && [ "$(cat "$owner")" != "$node" ]; then
  # Another calico_bird_config took this file over (the node was renamed): it stays.
  echo "handed_over=$(cat "$owner")"
  echo end=ok
  exit 0
fi
if [ -e "$backup" ]; then
  mv -f "$backup" "$cfg"
elif [ "$had_original" = 0 ]; then
  rm -f "$cfg"
else
  echo "kept_foreign=1"
fi
rm -f "$owner"
if [ -S "$sock" ] && [ -e "$cfg" ]; then reload_bird; fi
remove_bird_routes
echo end=ok`;

interface BirdFile {
  /** The file's content; null when there is no file. */
  content: string | null;
  /** BIRD runs and its last (re)configuration is not older than the file. */
  loaded: boolean;
}

/**
 * The file (base64, so its bytes come back exact), its mtime, and when BIRD last loaded a
 * configuration (`show status`; BIRD prints local time, which `date -d` reads the same way).
 */
const BIRD_FILE_READ = `
if [ -f "$bird_cfg" ]; then echo present; base64 -w0 < "$bird_cfg"; echo; else echo missing; echo; fi
echo "mtime=$(stat -c %Y "$bird_cfg" 2>/dev/null || true)"
bird_reconfigured=""
if [ -S "$bird_sock" ] && bird_status=$(timeout 10 birdc -s "$bird_sock" show status 2>/dev/null); then
  # [[ =~ ]], not sed: no process (this runs on every plan).
  if [[ $bird_status =~ (^|$'\\n')'Last reconfiguration on '([^$'\\n']*) ]]; then
    bird_reconfigured=$(date -d "\${BASH_REMATCH[2]}" +%s 2>/dev/null || true)
  fi
fi
echo "reconfigured=$bird_reconfigured"`;

function parseBirdFile(body: string, nodeName: string, cfg: string): BirdFile {
  const [header, encoded = '', ...rest] = body.split('\n');
  if (header !== 'present' && header !== 'missing') {
    throw new ProviderError(`Unexpected answer from node ${nodeName} reading ${cfg}`, { detail: header });
  }
  const facts = new Map(rest.filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()]));
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
  script: `bird_cfg=${DEFAULT_BIRD_CONFIG_PATH}; bird_sock=${DEFAULT_BIRD_SOCKET_PATH}${BIRD_FILE_READ}`,
  parse: (body, nodeName) => parseBirdFile(body, nodeName, DEFAULT_BIRD_CONFIG_PATH),
};

interface Paths {
  node: string;
  cfg: string;
  sock: string;
}

/** The inputs' paths, defaults applied (the runtime ran the schema's checks on them: states too). */
function pathsOf(obj: BirdInputs): Paths {
  return { node: obj.node_name, cfg: obj.config_path ?? DEFAULT_BIRD_CONFIG_PATH, sock: obj.socket_path ?? DEFAULT_BIRD_SOCKET_PATH };
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
  const result = await runOn(host, node, scriptWithVars(vars, WRITE_BODY), { stdin, signal: ctx.signal, doing: 'write bird.conf' });
  if (result.code === ROLLBACK_EXIT) {
    throw new ProviderError(`The new bird.conf broke BGP on node ${node} and was rolled back`, {
      detail: result.stderr.trim(),
      attribute: ['content'],
    });
  }
  if (result.code === NOT_RUNNING_EXIT) {
    throw new ProviderError(`BIRD is not running on node ${node}`, { detail: result.stderr.trim() });
  }
  if (result.code === NO_BIRD_EXIT) {
    throw new ProviderError(`Cannot check the new bird.conf on node ${node}: bird was not found on the PATH there; ${cfg} was left untouched`, { detail: result.stderr.trim() });
  }
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

/** The file as it is on the host, and whether BIRD runs it. */
async function readFile(obj: BirdInputs, ctx: Ctx): Promise<BirdFile> {
  const { node, cfg, sock } = pathsOf(obj);
  // The usual paths come with the host's snapshot; others cost a read of their own.
  if (cfg === DEFAULT_BIRD_CONFIG_PATH && sock === DEFAULT_BIRD_SOCKET_PATH) return (await snapshotOf(obj.ssh, node, ctx)).get(birdConfigSection);
  refuseImportedAgentRead(obj.ssh, node, ctx);
  const host = ctx.provider.readOnlyHosts.hostFor(obj.ssh, node);
  const out = await runChecked(host, node, scriptWithVars({ bird_cfg: cfg, bird_sock: sock }, BIRD_FILE_READ), { signal: ctx.signal, doing: 'read bird.conf' });
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
    const state: BirdState = { ...planned, id: birdConfigId(node, cfg), backup_path: original === 'kept' ? backupPathFor(cfg) : null, loaded: true };
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
    const vars = { node, cfg, sock, backup, owner: `${cfg}${OWNER_SUFFIX}`, had_original: prior.backup_path ? '1' : '0' };
    const out = await runChecked(host, node, scriptWithVars(vars, DELETE_BODY), { signal: ctx.signal, doing: 'restore the original bird.conf' });
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
    const bad = isNodeName(node) ?? isAbsolutePath(cfg);
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
    const state: BirdState = { ...inputs, id: birdConfigId(node, cfg), backup_path: backupPathFor(cfg), ...(await birdFacts(inputs, ctx)) };
    return asObjectValue(state);
  },
};
