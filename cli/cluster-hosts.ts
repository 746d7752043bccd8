/**
 * From an inventory to the hosts the CLI talks to: one ssh2 pool for the command, one
 * RemoteHost per node, with the same defaults the provider applies.
 */
import * as path from 'path';
import { ClusterSpec, NodeSpec } from '../constructs/model';
import { ClusterValidationError } from '../constructs/validation';
import { loadInventory } from '../stacks/inventory';
import { SshPool } from '../providers/ssh/pool';
import { RemoteHost } from '../providers/ssh/types';
import { resolveNodeSsh, sshTarget } from '../rules/ssh';

export function inventoryPathFrom(argv: string[]): string {
  const i = argv.indexOf('--inventory');
  return path.resolve(i >= 0 && argv[i + 1] ? argv[i + 1] : (process.env.CALICO_INVENTORY ?? 'cluster.yaml'));
}

export function optionValue(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

export interface ClusterHosts {
  cluster: ClusterSpec;
  hostOf(node: NodeSpec): RemoteHost;
  close(): Promise<void>;
}

export function clusterHosts(inventoryPath: string): ClusterHosts {
  const cluster = loadInventory(inventoryPath);
  const pool = new SshPool();
  const hosts = new Map<string, RemoteHost>();
  return {
    cluster,
    hostOf(node) {
      let host = hosts.get(node.name);
      if (!host) {
        // The same resolution (ssh_config, proxyJump) as the constructs write into the stack.
        const { host: address, settings } = resolveNodeSsh(node, cluster.ssh);
        host = pool.host(sshTarget(address, settings), `${node.name} (${address})`);
        hosts.set(node.name, host);
      }
      return host;
    },
    close: () => pool.close(),
  };
}

/** `--format` of the report commands: table (default) or json. */
export function formatOption(argv: string[]): 'table' | 'json' {
  const format = optionValue(argv, '--format') ?? 'table';
  if (format !== 'table' && format !== 'json') throw new Error(`--format must be table or json, not "${format}"`);
  return format;
}

/** The inventory's hosts for a command, or null after printing why the inventory is unusable. */
export function openClusterHosts(argv: string[], command: string): ClusterHosts | null {
  try {
    return clusterHosts(inventoryPathFrom(argv));
  } catch (err) {
    if (!(err instanceof ClusterValidationError)) throw err;
    process.stderr.write(`calico-net ${command}: ${err.message}\n`);
    return null;
  }
}
