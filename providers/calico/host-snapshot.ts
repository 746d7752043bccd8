/**
 * One read of everything the Calico resources check on a host: sysctls, routes, addresses,
 * links, every network namespace's interfaces and routes, and the default bird.conf.
 *
 * Why: every SSH exec starts the user's login shell on the host, and bash run by sshd sources
 * ~/.bashrc (Debian builds it that way): that can cost anything (~100 ms of CPU with a pyenv
 * init, as on our own machines), and no option of ours avoids it for the login shell. Reading
 * each resource with its own script made a host with 4 workloads cost 6 such sessions per plan;
 * with a snapshot per host per provider process (one Terraform walk) it costs one, and every
 * resource's facts are derived from it locally.
 *
 * Freshness: a snapshot lives as long as the provider process (Terraform starts one per walk);
 * any script that may change a host drops that host's snapshot (calicoState in ./index.ts).
 */
import { UnreachableError, ObjectValue, ProviderError, ResourceContext } from '../runtime/resource';
import { RemoteHost } from '../ssh/types';
import { CalicoProviderState, HostResolver, runChecked, sshBlockOf, sshTargetFromBlock } from './hosts';
import { Address, canonicalPrefix, Link, parseAddresses, parseLinks, parseRoutes, Route } from './ip-output';
import { DEFAULT_BIRD_CONFIG_PATH, POD_GATEWAY } from './names';
import { scriptWithVars } from './quote';

export interface NamespaceView {
  links: Link[];
  addresses: Address[];
  routes: Route[];
}

export interface HostSnapshot {
  ipForward: string;
  /** `ip route get 169.254.1.1` as a route; undefined when the host has no route to it. */
  gatewayRoute?: Route;
  /** The main table. */
  routes: Route[];
  addresses: Address[];
  links: Link[];
  /** proxy_arp and proxy_delay of every cali* interface ("" when unreadable). */
  proxySysctls: Map<string, { proxyArp: string; proxyDelay: string }>;
  /** Every namespace under /run/netns, by name. */
  namespaces: Map<string, NamespaceView>;
  /** Content of /etc/bird/bird.conf, or null when there is no such file. */
  birdConfig: string | null;
}

/**
 * Sections start with "==> name"; anything a login shell prints before the first one is
 * ignored. The last section must be "end", so a cut-short answer is never taken for a host
 * without our objects. Host-wide reads must succeed; a namespace that vanishes mid-read just
 * reads as empty (its workload then shows as drifted).
 */
const SNAPSHOT_BODY = `
section() { printf '==> %s\\n' "$*"; }
section ip_forward; cat /proc/sys/net/ipv4/ip_forward
section gateway; ip -4 -o route get ${POD_GATEWAY} 2>/dev/null || true
section routes; ip -4 route show table main
section addresses; ip -4 -o addr show
section links; ip -o link show
section sysctls
for d in /proc/sys/net/ipv4/conf/cali*; do
  [ -d "$d" ] || continue
  i=\${d##*/}
  printf '%s %s %s\\n' "$i" "$(cat "$d/proxy_arp" 2>/dev/null || true)" "$(cat "/proc/sys/net/ipv4/neigh/$i/proxy_delay" 2>/dev/null || true)"
done
for f in /run/netns/*; do
  [ -e "$f" ] || continue
  ns=\${f##*/}
  section netns-links "$ns"; ip -n "$ns" -o link show 2>/dev/null || true
  section netns-addresses "$ns"; ip -n "$ns" -4 -o addr show 2>/dev/null || true
  section netns-routes "$ns"; ip -n "$ns" -4 route show 2>/dev/null || true
done
section bird_config
if [ -f "$cfg" ]; then echo present; base64 -w0 < "$cfg"; echo; else echo missing; fi
section end`;

export function snapshotScript(): string {
  return scriptWithVars({ cfg: DEFAULT_BIRD_CONFIG_PATH }, SNAPSHOT_BODY);
}

function splitSections(stdout: string): Map<string, string> {
  const sections = new Map<string, string>();
  let name: string | undefined;
  let body: string[] = [];
  const flush = () => {
    if (name !== undefined) sections.set(name, body.join('\n'));
  };
  for (const line of stdout.split('\n')) {
    if (line.startsWith('==> ')) {
      flush();
      name = line.slice(4);
      body = [];
    } else if (name !== undefined) body.push(line);
  }
  flush();
  return sections;
}

export function parseSnapshot(stdout: string, nodeName: string): HostSnapshot {
  const sections = splitSections(stdout);
  if (!sections.has('end')) {
    throw new ProviderError(`Incomplete answer from node ${nodeName}`, { detail: stdout.slice(-2000) });
  }
  const proxySysctls = new Map<string, { proxyArp: string; proxyDelay: string }>();
  for (const line of (sections.get('sysctls') ?? '').split('\n')) {
    const [dev, proxyArp = '', proxyDelay = ''] = line.split(' ');
    if (dev) proxySysctls.set(dev, { proxyArp, proxyDelay });
  }
  const namespaces = new Map<string, NamespaceView>();
  for (const [section, body] of sections) {
    const m = /^netns-(links|addresses|routes) (.+)$/.exec(section);
    if (!m) continue;
    const view = namespaces.get(m[2]) ?? { links: [], addresses: [], routes: [] };
    if (m[1] === 'links') view.links = parseLinks(body);
    else if (m[1] === 'addresses') view.addresses = parseAddresses(body);
    else view.routes = parseRoutes(body);
    namespaces.set(m[2], view);
  }
  const [birdHeader, birdBase64 = ''] = (sections.get('bird_config') ?? '').split('\n');
  if (birdHeader !== 'present' && birdHeader !== 'missing') {
    throw new ProviderError(`Unexpected answer from node ${nodeName} reading ${DEFAULT_BIRD_CONFIG_PATH}`, { detail: birdHeader });
  }
  return {
    ipForward: (sections.get('ip_forward') ?? '').trim(),
    gatewayRoute: parseRoutes(sections.get('gateway') ?? '')[0],
    routes: parseRoutes(sections.get('routes') ?? ''),
    addresses: parseAddresses(sections.get('addresses') ?? ''),
    links: parseLinks(sections.get('links') ?? ''),
    proxySysctls,
    namespaces,
    birdConfig: birdHeader === 'present' ? Buffer.from(birdBase64.trim(), 'base64').toString('utf8') : null,
  };
}

/** Routes in a table for exactly this prefix ("a.b.c.d" and "a.b.c.d/32" are the same prefix). */
export function routesFor(routes: Route[], prefix: string): Route[] {
  const want = canonicalPrefix(prefix);
  return routes.filter((r) => r.prefix === want);
}

/**
 * The identity the SSH layer connects to. Two resources that name the same host this way share
 * a snapshot; sudo is part of it because it changes what the scripts may see.
 */
export function hostKey(ssh: ObjectValue): string {
  const t = sshTargetFromBlock(ssh);
  return `${t.user}@${t.host}:${t.port}${t.sudo ? ' sudo' : ''}`;
}

/** The snapshot of the host a resource's `ssh` block names; what every read uses. */
export function snapshotOf(obj: ObjectValue, nodeName: string, ctx: ResourceContext<CalicoProviderState>): Promise<HostSnapshot> {
  return ctx.provider.snapshots.of(sshBlockOf(obj), nodeName, ctx.signal);
}

/** Snapshots per host for one provider process; concurrent readers share one fetch. */
export class HostSnapshots {
  private readonly cache = new Map<string, Promise<HostSnapshot>>();

  /** `hosts` must be the plain resolver: running the snapshot must not invalidate it. */
  constructor(private readonly hosts: HostResolver) {}

  of(ssh: ObjectValue, nodeName: string, signal: AbortSignal): Promise<HostSnapshot> {
    const key = hostKey(ssh);
    let snapshot = this.cache.get(key);
    if (!snapshot) {
      const host = this.hosts.hostFor(ssh, nodeName);
      snapshot = runChecked(host, nodeName, snapshotScript(), { signal, doing: 'read its state' }).then((out) => parseSnapshot(out, nodeName));
      this.cache.set(key, snapshot);
      // An unreachable host stays cached as such: the host's other resources fail fast instead
      // of each waiting out the connect timeout again. Other failures are not kept.
      const settled = snapshot;
      settled.catch((err: unknown) => {
        if (!(err instanceof UnreachableError) && this.cache.get(key) === settled) this.cache.delete(key);
      });
    }
    return snapshot;
  }

  /** For a read the snapshot does not cover: a host whose scripts leave the snapshot alone. */
  readOnlyHost(ssh: ObjectValue, nodeName: string): RemoteHost {
    return this.hosts.hostFor(ssh, nodeName);
  }

  /** Called before and after any script that may change the host (calicoState wraps them). */
  invalidate(ssh: ObjectValue): void {
    this.cache.delete(hostKey(ssh));
  }
}
