/**
 * calico_node: IPv4 forwarding, the blackhole route for the node's pod block, and the check that
 * the host routes 169.254.1.1 (proxy ARP answers for the pods' gateway only then).
 *
 * Teardown rule: destroy removes our blackhole (matched by OUR_ROUTE_PROTO, so a blackhole
 * someone else added survives), restores ip_forward, and removes `proto bird` leftovers that lie
 * inside this node's own pod block (only this node can own those). BIRD leftovers for other
 * nodes' blocks are removed by calico_bird_config's destroy, which owns BIRD.
 */
import { ObjectValue, PlanRequest, PlanResult, ProviderError, ResourceContext, ResourceHandler, Unknown } from '../runtime/resource';
import { resourceSchemas } from './schema';
import { CalicoProviderState, parseFacts, runChecked, runOn, sshBlockOf } from './hosts';
import { HostSnapshot, routesFor, snapshotOf } from './host-snapshot';
import { Route } from './ip-output';
import { FOREIGN_ROUTES_FN, OUR_ROUTE_PROTO, POD_GATEWAY } from './names';
import { parseImportId } from './import-id';
import { scriptWithVars } from './quote';
import { checkSshBlock, DiagnosticCollector, isIpv4, isIpv4Cidr, isNodeName } from './validate';
import { requireString } from './values';

type Ctx = ResourceContext<CalicoProviderState>;

const GATEWAY_EXIT = 42;

/** Prints gateway_route=true|false: a route to 169.254.1.1 through a non-workload interface. */
const GATEWAY_PROBE = `
gw=false
if out=$(ip -4 -o route get ${POD_GATEWAY} 2>/dev/null); then
  dev=$(printf '%s\\n' "$out" | sed -n 's/.* dev \\([^ ]*\\).*/\\1/p' | head -n1)
  case "$dev" in ''|cali*|lo) gw=false ;; *) gw=true ;; esac
fi`;

const APPLY_BODY = `${GATEWAY_PROBE}
if [ "$gw" != true ]; then
  echo "$node has no route to ${POD_GATEWAY}; proxy ARP will not answer for pods' gateway: add a default route on $node (e.g. ip route add default via <router on the node's network>) or a route to ${POD_GATEWAY} through the uplink, then apply again" >&2
  exit ${GATEWAY_EXIT}
fi
${FOREIGN_ROUTES_FN}
other=$(foreign_routes "$cidr")
if [ -n "$other" ]; then
  echo "$node already has a route for $cidr that calico-net did not create ($other); remove it or choose another pod_cidr" >&2
  exit 3
fi
echo "before_ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)"
echo 1 > /proc/sys/net/ipv4/ip_forward
ip route replace blackhole "$cidr" table main proto ${OUR_ROUTE_PROTO}
echo end=ok`;

const DELETE_BODY = `
if [ -n "$(ip -4 route show table main exact "$cidr" type blackhole proto ${OUR_ROUTE_PROTO})" ]; then
  ip route del blackhole "$cidr" table main proto ${OUR_ROUTE_PROTO}
fi
# BIRD (kernel protocol with persist) leftovers inside our own block.
ip -4 route show table main root "$cidr" proto bird | awk '/^[^ \\t]/{print ($1 ~ /^(unicast|blackhole|unreachable|prohibit|throw)$/) ? $2 : $1}' | sort -u |
  while read -r prefix; do
    while ip route del "$prefix" table main proto bird 2>/dev/null; do :; done
  done
if [ -n "$orig" ]; then echo "$orig" > /proc/sys/net/ipv4/ip_forward; fi
echo end=ok`;

const schema = resourceSchemas.calico_node;

export const nodeHandler: ResourceHandler<CalicoProviderState> = {
  typeName: 'calico_node',
  schema,

  validate(config) {
    const c = new DiagnosticCollector();
    c.string(config, ['name'], isNodeName);
    c.string(config, ['address'], isIpv4);
    c.string(config, ['pod_cidr'], isIpv4Cidr);
    checkSshBlock(c, config);
    return c.diagnostics;
  },

  plan(req: PlanRequest): PlanResult {
    const p = { ...req.proposed };
    p.id = req.config.name ?? Unknown;
    p.ip_forward = '1';
    p.blackhole_route = true;
    p.gateway_route = true;
    p.original_ip_forward = req.prior ? req.prior.original_ip_forward : Unknown;
    return { planned: p };
  },

  async create(planned, ctx) {
    const before = await apply(planned, ctx);
    return { ...planned, id: planned.name, ip_forward: '1', blackhole_route: true, gateway_route: true, original_ip_forward: before };
  },

  async update(prior, planned, ctx) {
    await apply(planned, ctx);
    // The value before the FIRST apply stays the one destroy restores.
    const original = prior.original_ip_forward ?? null;
    return { ...planned, id: planned.name, ip_forward: '1', blackhole_route: true, gateway_route: true, original_ip_forward: original };
  },

  async read(state, ctx) {
    const name = requireString(state, 'name', isNodeName);
    const cidr = requireString(state, 'pod_cidr', isIpv4Cidr);
    return { ...state, ...nodeFacts(await snapshotOf(state, name, ctx), cidr) };
  },

  async delete(prior, ctx) {
    const name = requireString(prior, 'name', isNodeName);
    const cidr = requireString(prior, 'pod_cidr', isIpv4Cidr);
    const orig = typeof prior.original_ip_forward === 'string' && /^[01]$/.test(prior.original_ip_forward) ? prior.original_ip_forward : '';
    const host = ctx.provider.hosts.hostFor(sshBlockOf(prior), name);
    await runChecked(host, name, scriptWithVars({ cidr, orig }, DELETE_BODY), { signal: ctx.signal, doing: 'remove the node settings' });
  },

  async import(id, ctx) {
    const { subject: name, ssh } = parseImportId(id, '<node>@[user@]host[:port]');
    const problem = isNodeName(name);
    if (problem) throw new ProviderError(`Invalid node name in import id "${id}"`, { detail: problem });
    const shell: ObjectValue = { name, ssh };
    const sshHost = ssh.host as string;
    const snapshot = await snapshotOf(shell, name, ctx);
    const podCidr = snapshot.routes.find(isOurBlackhole)?.prefix;
    if (!podCidr) {
      throw new ProviderError(`Cannot import calico_node ${name}`, {
        detail: `node ${name} has no blackhole route created by this provider (proto ${OUR_ROUTE_PROTO}), so its pod_cidr is unknown`,
      });
    }
    // The node's address: the one we connect to if the host owns it, else its uplink source.
    const local = snapshot.addresses.some((a) => a.address === sshHost);
    const address = local ? sshHost : snapshot.gatewayRoute?.src || null;
    const facts = nodeFacts(snapshot, podCidr);
    return {
      id: name,
      name,
      address,
      pod_cidr: podCidr,
      ...facts,
      // Unknown after the fact; the current value is the best guess of what to restore.
      original_ip_forward: facts.ip_forward,
      ssh,
    };
  },
};

function isOurBlackhole(r: Route): boolean {
  return r.type === 'blackhole' && r.proto === OUR_ROUTE_PROTO;
}

/** What read reports, from the host's snapshot; the same probe as GATEWAY_PROBE in apply. */
export function nodeFacts(s: HostSnapshot, cidr: string): { ip_forward: string | null; blackhole_route: boolean; gateway_route: boolean } {
  const dev = s.gatewayRoute?.dev ?? '';
  return {
    ip_forward: s.ipForward || null,
    blackhole_route: routesFor(s.routes, cidr).some(isOurBlackhole),
    gateway_route: dev !== '' && dev !== 'lo' && !dev.startsWith('cali'),
  };
}

/** Applies the node settings; returns ip_forward as it was before. */
async function apply(planned: ObjectValue, ctx: Ctx): Promise<string | null> {
  const name = requireString(planned, 'name', isNodeName);
  requireString(planned, 'address', isIpv4);
  const cidr = requireString(planned, 'pod_cidr', isIpv4Cidr);
  const host = ctx.provider.hosts.hostFor(sshBlockOf(planned), name);
  const doing = 'apply the node settings';
  const result = await runOn(host, name, scriptWithVars({ cidr, node: name }, APPLY_BODY), { signal: ctx.signal, doing });
  if (result.code === GATEWAY_EXIT) {
    throw new ProviderError(result.stderr.trim(), { attribute: ['name'] });
  }
  if (result.code !== 0) {
    throw new ProviderError(`Failed to ${doing} on node ${name}`, { detail: result.stderr.trim() || `exit code ${result.code}` });
  }
  return parseFacts(result.stdout, name).get('before_ip_forward') ?? null;
}
