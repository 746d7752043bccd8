/**
 * Drives handlers the way the runtime does: builds Terraform's proposed state (computed-only
 * attributes Unknown on create, prior values on update), calls plan, then create/update.
 */
import { ObjectValue, ResourceContext, ResourceHandler, Unknown } from '../../providers/runtime/resource';
import { calicoState, CalicoProviderState, HostResolver } from '../../providers/calico';
import { RemoteHost } from '../../providers/ssh/types';

export const silentLog = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * A context like one provider process gets: its own host snapshots. A test that changes a host
 * behind the provider's back and then reads plays a new Terraform command: use a new context.
 */
export function contextFor(resolver: HostResolver): ResourceContext<CalicoProviderState> {
  return {
    signal: new AbortController().signal,
    provider: calicoState(resolver),
    log: silentLog,
    warn: () => undefined,
  };
}

/** Resolves hosts by the ssh block's address, like the pool would connect to it. */
export function resolverFor(hostsByAddress: Map<string, RemoteHost>): HostResolver {
  return {
    hostFor(ssh, nodeName) {
      const host = hostsByAddress.get(String(ssh.host));
      if (!host) throw new Error(`no lab host ${String(ssh.host)} for ${nodeName}`);
      return host;
    },
  };
}

export function proposedFrom(
  handler: ResourceHandler<CalicoProviderState>,
  config: ObjectValue,
  prior: ObjectValue | null,
): ObjectValue {
  const proposed: ObjectValue = {};
  for (const [name, attr] of Object.entries(handler.schema.block.attributes)) {
    const computedOnly = attr.computed && !attr.optional && !attr.required;
    proposed[name] = computedOnly ? (prior ? prior[name] : Unknown) : (config[name] ?? null);
  }
  for (const name of Object.keys(handler.schema.block.blocks ?? {})) proposed[name] = config[name] ?? null;
  return proposed;
}

export async function planOf(
  handler: ResourceHandler<CalicoProviderState>,
  config: ObjectValue,
  prior: ObjectValue | null,
  ctx: ResourceContext<CalicoProviderState>,
): Promise<ObjectValue> {
  const proposed = proposedFrom(handler, config, prior);
  return handler.plan ? (await handler.plan({ prior, proposed, config }, ctx)).planned : proposed;
}

/** plan + apply; returns the new state. */
export async function apply(
  handler: ResourceHandler<CalicoProviderState>,
  config: ObjectValue,
  prior: ObjectValue | null,
  ctx: ResourceContext<CalicoProviderState>,
): Promise<ObjectValue> {
  const planned = await planOf(handler, config, prior, ctx);
  return prior ? handler.update(prior, planned, ctx) : handler.create(planned, ctx);
}

/** Attribute names whose values differ between two states (the plan's diff). */
export function changedAttributes(a: ObjectValue, b: ObjectValue): string[] {
  return Object.keys({ ...a, ...b })
    .filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .sort();
}

/** Full config with every schema key (null when unset), like the runtime hands it over. */
export function fullConfig(
  handler: ResourceHandler<CalicoProviderState>,
  values: ObjectValue,
  ssh: ObjectValue,
): ObjectValue {
  const config: ObjectValue = {};
  for (const [name, attr] of Object.entries(handler.schema.block.attributes)) {
    config[name] = attr.computed && !attr.optional && !attr.required ? null : (values[name] ?? null);
  }
  config.ssh = {
    host: null,
    port: null,
    user: null,
    private_key_path: null,
    passphrase_env: null,
    known_hosts_path: null,
    sudo: null,
    ...ssh,
  };
  return config;
}
