/**
 * The calico provider: its resources, the host snapshot sections they read, and how it reaches
 * hosts. providers/main.ts builds it over the ssh2 pool; tests build it over any HostResolver
 * (e.g. one that enters a lab node's namespaces).
 *
 * A resource type is: its schema (./schema.ts), its handler module (apply/delete/import scripts,
 * its snapshot section and the facts derived from it), its entry below, its construct
 * (constructs/), and its tests.
 */
import { Logger, ObjectValue, ProviderDefinition } from '../runtime/resource';
import { CalicoProviderState, HostResolver } from './hosts';
import { HostSnapshots, SnapshotSection } from './host-snapshot';
import { birdConfigHandler, birdConfigSection } from './bird-config';
import { nodeHandler, nodeSections } from './node';
import { overlayHandler, overlaySections } from './overlay';
import { policyRulesetHandler } from './policy-ruleset';
import { providerConfigSchema } from './schema';
import { workloadHandler, workloadSections } from './workload';

export type { CalicoProviderState, HostResolver } from './hosts';
export { sshTargetFromBlock } from './hosts';
export { hostInterfaceName, OUR_ROUTE_PROTO } from './names';
export { nodeHandler, birdConfigHandler, workloadHandler, overlayHandler, policyRulesetHandler };

/** Every section a read may ask for, each once: the one script a host snapshot runs. */
export const SNAPSHOT_SECTIONS: readonly SnapshotSection<unknown>[] = [
  ...new Set<SnapshotSection<unknown>>([...nodeSections, ...workloadSections, birdConfigSection, ...overlaySections]),
];

export interface ConnectionSettings {
  /** Seconds before an SSH connection attempt fails (provider attribute connect_timeout, default 15). */
  connectTimeoutSeconds: number;
  /** Extra attempts after a failed connection (connect_retries, default 2). */
  connectRetries: number;
  log: Logger;
}

/** Builds the resolver and, optionally, a close() for its connections. */
export type HostResolverFactory = (settings: ConnectionSettings) => HostResolver & { close?(): Promise<void> | void };

function settingsFrom(config: ObjectValue, log: Logger): ConnectionSettings {
  const num = (v: unknown, dflt: number) => (typeof v === 'number' ? v : dflt);
  return {
    connectTimeoutSeconds: num(config.connect_timeout, 15),
    connectRetries: num(config.connect_retries, 2),
    log,
  };
}

/**
 * The provider state over a resolver. Snapshots and read-only scripts use the resolver as it is;
 * every other script may change the host, so it drops that host's snapshot before and after.
 */
export function calicoState(resolver: HostResolver & { close?(): Promise<void> | void }): CalicoProviderState {
  const snapshots = new HostSnapshots(resolver, SNAPSHOT_SECTIONS);
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
  return { hosts, readOnlyHosts: resolver, snapshots, close: () => resolver.close?.() };
}

export function createCalicoProvider(factory: HostResolverFactory): ProviderDefinition<CalicoProviderState> {
  return {
    name: 'calico',
    configSchema: providerConfigSchema,
    resources: [nodeHandler, birdConfigHandler, workloadHandler, overlayHandler, policyRulesetHandler],
    // Reads report what is missing as facts (drift), never as "gone", and every delete checks on
    // the host what is ours and fails when the host is away: a destroy's refresh, one more login
    // per host, changes nothing it does (issue 29: it was destroy's whole extra cost).
    skipRefreshOnDestroy: true,
    configure(config, ctx) {
      return calicoState(factory(settingsFrom(config, ctx.log)));
    },
    async close(state) {
      await state?.close?.();
    },
  };
}
