/**
 * The inventory file (YAML or JSON) → the cluster model, and the model → a CDKTF stack.
 *
 * The loader is strict: unknown keys (with the closest known one suggested), wrong types and
 * missing fields are reported with their path (`nodes[0].workloads[1]: unknown key "ipp"`),
 * then the cluster-wide checks of constructs/validation run. Relative paths resolve against the
 * inventory's directory and `~` expands, so the same file works from any working directory.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { App, TerraformStack } from '../constructs/cdk-types';
import { cdk } from '../constructs/cdk';
import { parse as parseYaml } from 'yaml';
import { CalicoCluster } from '../constructs/cluster';
import { CalicoProvider, providerSettingsProblems, STACK_PROVIDER_ID } from '../constructs/bindings';
import {
  ClusterSettings,
  clusterSettingsOf,
  ClusterSpec,
  ProviderSettings,
  ENCAPSULATION_MODES,
  NodeSpec,
  PeerSpec,
  SHARDINGS,
  StateSpec,
  WorkloadSpec,
} from '../constructs/model';
import { expandHome, mergeSsh, SSH_DEFAULTS, SshSettings } from '../rules/ssh';
import { withSplitAddress } from '../rules/subnets';
import { clusterProblems, ClusterValidationError, validateCluster } from '../constructs/validation';
import {
  BgpConfigurationKnobs,
  BgpFilterSpec,
  FILTER_ACTIONS,
  MATCH_OPERATORS,
  NEXT_HOP_MODES,
  SOURCE_ADDRESSES,
} from '../constructs/peering';
import type { PolicySpec } from '../constructs/policy-model';

/**
 * The inventory file as written: paths not yet resolved, defaults not applied. The shape below
 * is typed against it, so a field added here and not there (or with another type) does not
 * compile, and a file that passes the shape check is this type.
 */
interface InventoryFile {
  /** ClusterSpec's settings (model.ts), but ssh and filters, which have sections of their own. */
  cluster: Omit<ClusterSettings, 'ssh' | 'filters'>;
  ssh?: SshSettings;
  nodes: (Omit<NodeSpec, 'workloads' | 'prefixLength'> & { workloads?: WorkloadSpec[] })[];
  peers?: PeerSpec[];
  filters?: BgpFilterSpec[];
  state?: { backend: 'local' | 'pg'; path?: string; connStr?: string; schemaName?: string };
  provider?: ProviderSettings;
}

/**
 * 'path-or-true': a string, or `true` (sshConfig: a file, or the default one). 'strings': a list of names.
 * 'string-map': a mapping of names to strings (labels; their syntax is checked with the policies).
 */
type FieldType =
  'string' | 'number' | 'boolean' | 'path-or-true' | 'strings' | 'string-map' | { object: Shape } | { list: Shape };
interface Field {
  type: FieldType;
  required?: boolean;
  oneOf?: readonly string[];
}
type Shape = Record<string, Field>;

/** The shape a value of type V must have. */
type FieldOf<V> = [V] extends [string]
  ? { type: 'string'; oneOf?: readonly V[] }
  : [V] extends [boolean]
    ? { type: 'boolean' }
    : [V] extends [string | boolean]
      ? { type: 'path-or-true' }
      : [V] extends [number]
        ? { type: 'number' }
        : [V] extends [readonly string[]]
          ? { type: 'strings' }
          : [V] extends [Readonly<Record<string, string>>]
            ? string extends keyof V
              ? { type: 'string-map' }
              : { type: { object: ShapeOf<V> } }
            : [V] extends [readonly (infer E)[]]
              ? { type: { list: ShapeOf<E> } }
              : { type: { object: ShapeOf<V> } };
/** Every key of T, required exactly where T requires it. */
type ShapeOf<T> = {
  [K in keyof T]-?: FieldOf<NonNullable<T[K]>> &
    (Record<never, never> extends Pick<T, K> ? { required?: false } : { required: true });
};

const sshShape: ShapeOf<SshSettings> = {
  user: { type: 'string' },
  port: { type: 'number' },
  privateKeyPath: { type: 'string' },
  passphraseEnv: { type: 'string' },
  knownHostsPath: { type: 'string' },
  sudo: { type: 'boolean' },
  proxyJump: { type: 'string' },
  proxyJumpKeys: { type: 'strings' },
  sshConfig: { type: 'path-or-true' },
};

const serviceRangeShape: ShapeOf<NonNullable<BgpConfigurationKnobs['serviceClusterIPs']>[number]> = {
  cidr: { type: 'string', required: true },
  nodes: { type: 'strings' },
};

const filterRuleShape: ShapeOf<NonNullable<BgpFilterSpec['importV4']>[number]> = {
  cidr: { type: 'string', required: true },
  matchOperator: { type: 'string', required: true, oneOf: MATCH_OPERATORS },
  action: { type: 'string', required: true, oneOf: FILTER_ACTIONS },
};

const inventoryShape: ShapeOf<InventoryFile> = {
  cluster: {
    required: true,
    type: {
      object: {
        name: { type: 'string', required: true },
        podCidr: { type: 'string', required: true },
        podCidrV6: { type: 'string' },
        asNumber: { type: 'number' },
        topology: { type: 'string', oneOf: ['full-mesh', 'route-reflector'] },
        birdReload: { type: { object: { sessionWait: { type: 'number' }, revertAfter: { type: 'number' } } } },
        vxlanMode: { type: 'string', oneOf: ENCAPSULATION_MODES },
        ipipMode: { type: 'string', oneOf: ENCAPSULATION_MODES },
        // Calico's BGPConfiguration (constructs/peering.ts).
        nodeToNodeMeshEnabled: { type: 'boolean' },
        listenPort: { type: 'number' },
        communities: {
          type: { list: { name: { type: 'string', required: true }, value: { type: 'string', required: true } } },
        },
        prefixAdvertisements: {
          type: {
            list: { cidr: { type: 'string', required: true }, communities: { type: 'strings', required: true } },
          },
        },
        serviceClusterIPs: { type: { list: serviceRangeShape } },
        serviceExternalIPs: { type: { list: serviceRangeShape } },
        serviceLoadBalancerIPs: { type: { list: serviceRangeShape } },
        sharding: { type: 'string', oneOf: SHARDINGS },
      },
    },
  },
  ssh: { type: { object: sshShape } },
  nodes: {
    required: true,
    type: {
      list: {
        name: { type: 'string', required: true },
        address: { type: 'string', required: true },
        sshHost: { type: 'string' },
        asNumber: { type: 'number' },
        podCidr: { type: 'string', required: true },
        ipv6Address: { type: 'string' },
        podCidrV6: { type: 'string' },
        routerID: { type: 'string' },
        routeReflector: { type: 'boolean' },
        rack: { type: 'string' },
        birdConfigPath: { type: 'string' },
        birdSocketPath: { type: 'string' },
        ssh: { type: { object: sshShape } },
        labels: { type: 'string-map' },
        workloads: {
          type: {
            list: {
              name: { type: 'string', required: true },
              ip: { type: 'string' },
              ipv6: { type: 'string' },
              mtu: { type: 'number' },
              labels: { type: 'string-map' },
            },
          },
        },
      },
    },
  },
  provider: { type: { object: { connectTimeout: { type: 'number' }, connectRetries: { type: 'number' } } } },
  state: {
    type: {
      object: {
        backend: { type: 'string', required: true, oneOf: ['local', 'pg'] },
        path: { type: 'string' },
        connStr: { type: 'string' },
        schemaName: { type: 'string' },
      },
    },
  },
  peers: {
    type: {
      list: {
        address: { type: 'string', required: true },
        asNumber: { type: 'number', required: true },
        password: { type: 'string' },
        nodes: { type: 'strings' },
        // Calico's BGPPeer (constructs/peering.ts).
        acceptDefaultRoute: { type: 'boolean' },
        keepaliveTime: { type: 'number' },
        holdTime: { type: 'number' },
        maxRestartTime: { type: 'number' },
        keepOriginalNextHop: { type: 'boolean' },
        nextHopMode: { type: 'string', oneOf: NEXT_HOP_MODES },
        nodeSelector: { type: 'string' },
        localASNumber: { type: 'number' },
        numAllowedLocalASNumbers: { type: 'number' },
        ttlSecurity: { type: 'number' },
        sourceAddress: { type: 'string', oneOf: SOURCE_ADDRESSES },
        filters: { type: 'strings' },
        bfd: { type: { object: { interval: { type: 'number' }, multiplier: { type: 'number' } } } },
      },
    },
  },
  // Calico's BGPFilter.
  filters: {
    type: {
      list: {
        name: { type: 'string', required: true },
        importV4: { type: { list: filterRuleShape } },
        exportV4: { type: { list: filterRuleShape } },
      },
    },
  },
};

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length];
}

/**
 * Calico fields a Calico user may write that we do not have: said as such, not answered with a
 * look-alike key ("peerSelector" is four edits from "nodeSelector", which means something else).
 */
const CALICO_FIELDS_NOT_SUPPORTED: Record<string, string> = {
  peerSelector:
    "Calico's BGPPeer peerSelector (node-to-node peerings chosen by label) is not supported; nodes peer by the mesh or topology: route-reflector, external peers by address (nodeSelector picks which nodes hold the session)",
};

function suggestion(key: string, known: string[]): string {
  if (Object.prototype.hasOwnProperty.call(CALICO_FIELDS_NOT_SUPPORTED, key))
    return ` (${CALICO_FIELDS_NOT_SUPPORTED[key]})`;
  const best = known.map((k) => ({ k, d: editDistance(key, k) })).sort((x, y) => x.d - y.d)[0];
  return best && best.d <= Math.max(2, Math.floor(key.length / 3)) ? ` (did you mean "${best.k}"?)` : '';
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a mapping' : `${typeof value} ${JSON.stringify(value)}`;
}

/** Checks keys and types against the shape; reports every problem with its path. */
function checkShape(value: unknown, shape: Shape, where: string, problems: string[]): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push(`${where || 'inventory'}: expected a mapping, found ${describe(value)}`);
    return;
  }
  const obj = value as Record<string, unknown>;
  const at = (key: string) => (where ? `${where}.${key}` : key);
  for (const key of Object.keys(obj)) {
    if (!(key in shape))
      problems.push(`${where || 'inventory'}: unknown key "${key}"${suggestion(key, Object.keys(shape))}`);
  }
  for (const [key, field] of Object.entries(shape)) {
    const v = obj[key];
    if (v === undefined || v === null) {
      if (field.required) problems.push(`${at(key)}: required`);
      continue;
    }
    const t = field.type;
    if (t === 'path-or-true') {
      if (v !== true && (typeof v !== 'string' || v === ''))
        problems.push(`${at(key)}: expected true or a file path, found ${describe(v)}`);
    } else if (t === 'strings') {
      if (!Array.isArray(v)) problems.push(`${at(key)}: expected a list of names, found ${describe(v)}`);
      else
        v.forEach(
          (item, i) =>
            typeof item !== 'string' && problems.push(`${at(key)}[${i}]: expected a string, found ${describe(item)}`),
        );
    } else if (t === 'string-map') {
      if (typeof v !== 'object' || Array.isArray(v))
        problems.push(`${at(key)}: expected a mapping of names to strings, found ${describe(v)}`);
      else
        for (const [k, item] of Object.entries(v))
          if (typeof item !== 'string') problems.push(`${at(key)}.${k}: expected a string, found ${describe(item)}`);
    } else if (typeof t === 'string') {
      if (typeof v !== t)
        problems.push(`${at(key)}: expected ${t === 'boolean' ? 'true or false' : `a ${t}`}, found ${describe(v)}`);
      else if (field.oneOf && !field.oneOf.includes(v as string)) {
        problems.push(`${at(key)}: must be one of ${field.oneOf.join(', ')}, not "${v}"`);
      }
    } else if ('object' in t) {
      checkShape(v, t.object, at(key), problems);
    } else if (!Array.isArray(v)) {
      problems.push(`${at(key)}: expected a list, found ${describe(v)}`);
    } else {
      v.forEach((item, i) => checkShape(item, t.list, `${at(key)}[${i}]`, problems));
    }
  }
}

function resolvePath(p: string | undefined, baseDir: string): string | undefined {
  return p === undefined ? undefined : path.resolve(baseDir, expandHome(p));
}

function resolveSsh(ssh: SshSettings | undefined, baseDir: string): SshSettings | undefined {
  if (!ssh) return undefined;
  return {
    ...ssh,
    privateKeyPath: resolvePath(ssh.privateKeyPath, baseDir),
    knownHostsPath: resolvePath(ssh.knownHostsPath, baseDir),
    // "" stays "": the node's own key.
    proxyJumpKeys: ssh.proxyJumpKeys?.map((k) => (k === '' ? k : resolvePath(k, baseDir)!)),
    sshConfig: typeof ssh.sshConfig === 'string' ? resolvePath(ssh.sshConfig, baseDir) : ssh.sshConfig,
  };
}

function stateSpec(state: InventoryFile['state'], baseDir: string, problems: string[]): StateSpec | undefined {
  if (!state) return undefined;
  if (state.backend === 'local') {
    for (const k of ['connStr', 'schemaName']) if (k in state) problems.push(`state.${k}: only for backend pg`);
    return { backend: 'local', path: resolvePath(state.path, baseDir) };
  }
  if ('path' in state) problems.push('state.path: only for backend local');
  if (state.schemaName !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(state.schemaName)) {
    problems.push(`state.schemaName: "${state.schemaName}" is not a PostgreSQL schema name (a-z, 0-9, _)`);
  }
  return { backend: 'pg', connStr: state.connStr, schemaName: state.schemaName };
}

/** Parses and validates an inventory; throws ClusterValidationError listing every problem. */
export function parseInventory(text: string, file: string): ClusterSpec {
  let raw: unknown;
  try {
    raw = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ClusterValidationError([
      `${file}: not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
    ]);
  }
  const shapeProblems: string[] = [];
  // Policies have a shape of their own (ports are numbers or "from:to"): clusterProblems checks
  // them with every field named (constructs/policy-validation.ts), as it does for the constructs.
  const { policies, ...rest } =
    typeof raw === 'object' && raw !== null && !Array.isArray(raw)
      ? (raw as Record<string, unknown>)
      : { policies: undefined };
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) raw = rest;
  checkShape(raw, inventoryShape, '', shapeProblems);
  if (shapeProblems.length) throw new ClusterValidationError(shapeProblems);

  const inv = raw as InventoryFile; // what checkShape just proved
  const baseDir = path.dirname(path.resolve(file));
  // The defaults are written into the stack, so a plan shows what each node is reached with.
  // With ssh_config they must not count as explicit (they would hide its User and Port): then
  // rules/ssh.ts resolveSsh writes them after ssh_config.
  const readsSshConfig = [inv.ssh, ...inv.nodes.map((n) => n.ssh)].some(
    (s) => s?.sshConfig !== undefined && s.sshConfig !== false,
  );
  const { user, port, knownHostsPath } = readsSshConfig ? ({} as Partial<typeof SSH_DEFAULTS>) : SSH_DEFAULTS;
  const cluster: ClusterSpec = {
    // The file's cluster section is ClusterSpec's settings, its keys proven by checkShape.
    ...clusterSettingsOf(inv.cluster),
    filters: inv.filters,
    ssh: resolveSsh(mergeSsh({ user, port, knownHostsPath }, inv.ssh), baseDir),
    nodes: inv.nodes.map((n) => ({
      ...withSplitAddress(n),
      ssh: resolveSsh(n.ssh, baseDir),
      workloads: n.workloads ?? [],
    })),
    peers: inv.peers ?? [],
    state: stateSpec(inv.state, baseDir, shapeProblems),
    ...(inv.provider === undefined ? {} : { provider: inv.provider }),
  };
  shapeProblems.push(
    ...providerSettingsProblems(inv.provider ?? {}).map((p) => `provider.${p.replace(/^(\w+) /, '$1: ')}`),
  );
  if (policies !== undefined) cluster.policies = policies as PolicySpec[];
  if (shapeProblems.length) throw new ClusterValidationError([...shapeProblems, ...clusterProblems(cluster)]);
  validateCluster(cluster);
  return cluster;
}

export function loadInventory(file: string): ClusterSpec {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ClusterValidationError([
      `cannot read inventory ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (set CALICO_INVENTORY to its path)`,
    ]);
  }
  return parseInventory(text, file);
}

/** One stack named after the cluster, with its nodes, workloads and external peers. */
export function buildClusterStack(app: App, cluster: ClusterSpec): TerraformStack {
  const stack = new cdk.TerraformStack(app, cluster.name);
  addStateBackend(stack, cluster.state);
  addStackProvider(stack, cluster.provider);
  CalicoCluster.fromSpec(stack, 'cluster', cluster);
  return stack;
}

/** The stack's calico provider with the inventory's settings; without any, the cluster makes it. */
export function addStackProvider(stack: TerraformStack, settings: ProviderSettings | undefined): void {
  if (settings !== undefined) new CalicoProvider(stack, STACK_PROVIDER_ID, settings);
}

/** The stack's backend: pg, a local file, or (undefined) cdktf's default terraform.<stack>.tfstate. */
export function addStateBackend(stack: TerraformStack, state: StateSpec | undefined): void {
  if (state?.backend === 'pg') {
    // Without connStr (cdktf types it as required; undefined is left out of the JSON), Terraform
    // reads PG_CONN_STR: the secret stays out of files and plans.
    new cdk.PgBackend(stack, { connStr: state.connStr as string, schemaName: state.schemaName });
  } else if (state?.backend === 'local' && state.path) {
    new cdk.LocalBackend(stack, { path: state.path });
  }
}
