/**
 * The calico provider: its resources and how it reaches hosts.
 *
 * configure() builds a HostResolver over SSH. The ssh2 pool (providers/ssh) is plugged in
 * through `setSshResolverFactory` until that module lands; tests build the provider with
 * `createCalicoProvider(() => theirResolver)`.
 */
import { Logger, ObjectValue, ProviderDefinition } from '../runtime/resource';
import { providerConfigSchema } from './schema';
import { CalicoProviderState, HostResolver } from './hosts';
import { HostSnapshots } from './host-snapshot';
import { birdConfigHandler } from './bird-config';
import { nodeHandler } from './node';
import { workloadHandler } from './workload';

export type { CalicoProviderState, HostResolver } from './hosts';
export { sshTargetFromBlock } from './hosts';
export { hostInterfaceName, OUR_ROUTE_PROTO } from './names';
export { nodeHandler, birdConfigHandler, workloadHandler };

export interface ConnectionSettings {
  /** Seconds before an SSH connection attempt fails (provider attribute connect_timeout, default 15). */
  connectTimeoutSeconds: number;
  /** Extra attempts after a failed connection (connect_retries, default 2). */
  connectRetries: number;
  log: Logger;
}

/** Builds the resolver and, optionally, a close() for its connections. */
export type HostResolverFactory = (settings: ConnectionSettings) => HostResolver & { close?(): Promise<void> | void };

let sshResolverFactory: HostResolverFactory = () => {
  throw new Error('calico provider: no SSH transport wired (call setSshResolverFactory with the ssh2 pool)');
};

/**
 * Integration point for the ssh2 pool, e.g.
 *   setSshResolverFactory((s) => { const pool = new SshPool(s); return {
 *     hostFor: (ssh, node) => pool.host(sshTargetFromBlock(ssh), node), close: () => pool.close() }; });
 */
export function setSshResolverFactory(factory: HostResolverFactory): void {
  sshResolverFactory = factory;
}

function settingsFrom(config: ObjectValue, log: Logger): ConnectionSettings {
  const num = (v: unknown, dflt: number) => (typeof v === 'number' ? v : dflt);
  return {
    connectTimeoutSeconds: num(config.connect_timeout, 15),
    connectRetries: num(config.connect_retries, 2),
    log,
  };
}

/**
 * The provider state over a resolver. Snapshots read through the resolver as it is; every other
 * script may change the host, so it drops that host's snapshot before and after it runs.
 */
export function calicoState(resolver: HostResolver & { close?(): Promise<void> | void }): CalicoProviderState {
  const snapshots = new HostSnapshots(resolver);
  const hosts: HostResolver = {
    hostFor(ssh, nodeName) {
      const host = resolver.hostFor(ssh, nodeName);
      return {
        label: host.label,
        async run(script, options) {
          snapshots.invalidate(ssh);
          try {
            return await host.run(script, options);
          } finally {
            snapshots.invalidate(ssh);
          }
        },
      };
    },
  };
  return { hosts, snapshots, close: () => resolver.close?.() };
}

export function createCalicoProvider(factory?: HostResolverFactory): ProviderDefinition<CalicoProviderState> {
  return {
    name: 'calico',
    configSchema: providerConfigSchema,
    resources: [nodeHandler, birdConfigHandler, workloadHandler],
    configure(config, ctx) {
      return calicoState((factory ?? sshResolverFactory)(settingsFrom(config, ctx.log)));
    },
    async close(state) {
      await state?.close?.();
    },
  };
}

export const calicoProvider = createCalicoProvider();
