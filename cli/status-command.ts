/** `calico-net status [--inventory FILE] [--format table|json] [--wait SECONDS]` */
import { bgpSessionsOf } from '../constructs/bgp-sessions';
import { bgpSessionsV6Of } from '../constructs/bird-v6';
import { DEFAULT_BIRD_SOCKET_PATH } from '../providers/calico/names';
import { formatOption, openClusterHosts, optionValue } from './cluster-hosts';
import { collectStatus, NodeStatus, renderStatusTable, statusIsHealthy } from './status';
import { shardStackOfNode } from '../constructs/shards';

export async function statusCommand(argv: string[]): Promise<number> {
  const format = formatOption(argv);
  const waitSeconds = Number(optionValue(argv, '--wait') ?? 0);
  const hosts = openClusterHosts(argv, 'status');
  if (!hosts) return 1;
  try {
    // A dual-stack node's IPv6 sessions are expected Established as well (constructs/bird-v6.ts).
    const sessionsOf = (name: string) => [
      ...bgpSessionsOf(hosts.cluster, name),
      ...bgpSessionsV6Of(hosts.cluster, name),
    ];
    const targets = hosts.cluster.nodes.map((node) => ({
      name: node.name,
      host: hosts.hostOf(node),
      socketPath: node.birdSocketPath ?? DEFAULT_BIRD_SOCKET_PATH,
      expectedProtocols: sessionsOf(node.name).map((s) => s.protocol),
      // Both families' external peers: `show protocols all` prints an IPv6 session's routes as an
      // IPv4 one's (its channel is ipv6), and BFD is refused on IPv6 peers (dual-stack.ts).
      externalPeers: sessionsOf(node.name)
        .filter((s) => s.kind === 'global')
        .map((s) => ({
          protocol: s.protocol,
          address: s.neighbor,
          bfd: hosts.cluster.peers.some((p) => p.address === s.neighbor && p.bfd !== undefined),
        })),
      // A sharded cluster: every shard's nodes in this one run, each named with its stack.
      shard: shardStackOfNode(hosts.cluster, node),
    }));
    // --wait: sessions take a few seconds after a deploy; poll instead of sleeping blindly.
    const deadline = Date.now() + waitSeconds * 1000;
    let statuses: NodeStatus[];
    for (;;) {
      statuses = await collectStatus(targets);
      if (statusIsHealthy(statuses) || Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    process.stdout.write(
      format === 'json'
        ? JSON.stringify({ healthy: statusIsHealthy(statuses), nodes: statuses }, null, 2) + '\n'
        : renderStatusTable(statuses) + '\n',
    );
    return statusIsHealthy(statuses) ? 0 : 1;
  } finally {
    await hosts.close();
  }
}
