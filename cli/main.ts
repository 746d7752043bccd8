/**
 * calico-net: the operator's command line. Subcommands load lazily so `calico-net lab down`
 * does not pay for the SSH stack, and vice versa.
 */
const USAGE = `usage: calico-net <command> [options]

  status [--inventory FILE] [--format table|json] [--wait SECONDS]
        BGP sessions of every node, as calicoctl node status shows them; exit 1 if any
        expected session is not Established.
  verify [--inventory FILE] [--format table|json]
        ping every workload from every other workload (a matrix up to 16 workloads, else a
        summary and the failing pairs); exit 1 on any failure.
  drift  [--inventory FILE] [--stack S] [--format md|json] [--out FILE] [--dir PROJECT] [--skip-synth]
        refresh-only plan: what changed on the hosts since the last apply. Exit 0 = none,
        2 = drift, 1 = error (also when a node could not be read: the report names it).
        With sharding: byRack and no --stack, every shard stack at once, in one report.
  explain SRC DST [PROTO/PORT] [--ipv6] [--inventory FILE] [--format table|json]
        what the network policies do to a new connection from SRC to DST (workload names or
        addresses; tcp/5432, udp/53, icmp, …; default icmp): the policies of each end, in
        order, and the rule (or default) that decides. Reads the inventory only.
  graph [--inventory FILE] [--format svg|mermaid|dot] [--out FILE] [--offline]
        [--drift-report FILE | --dir PROJECT [--stack S]]
        the cluster as a picture: subnets, nodes with blocks and workloads, BGP sessions by
        state, reflectors, peers, tunnels, unreachable and drifted nodes. Never changes a host.
  shard migrate [--inventory FILE] [--dir PROJECT]
        move a cluster deployed as one stack into its shard stacks' states (nothing on the
        hosts changes; every shard's next plan is empty).
  init [--cdk cdktn|cdktf] [DIR]
        scaffold a project in DIR (default .) for CDK for Terraform (default) or CDK Terrain:
        package.json, cdktf.json, a commented cluster.yaml, main.js (the app) and .gitignore.
        Never overwrites a file.
  provider install [--plugins-dir DIR]
        opt-in: put the provider into ~/.terraform.d/plugins (or DIR) for terraform runs outside
        synthesized stacks. Not needed for cdktf: synthesis puts it into every stack directory.
  lab up [--nodes N] [--id K] [--dir D] [--ebgp] [--route-reflectors R] [--workloads W]
         [--subnets 1|2] [--operator-reach all|first]
  lab down [--dir D]
        a local test cluster out of network namespaces (root only).

The inventory defaults to $CALICO_INVENTORY, else ./cluster.yaml.`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'status':
      return (await import('./status-command')).statusCommand(rest);
    case 'verify':
      return (await import('./verify-command')).verifyCommand(rest);
    case 'drift':
      return (await import('./drift')).driftCommand(rest);
    case 'explain':
      return (await import('./explain')).explainCommand(rest);
    case 'graph':
      return (await import('./graph-command')).graphCommand(rest);
    case 'init':
      return (await import('./init')).initCommand(rest);
    case 'shard':
      return (await import('./shard-migrate')).shardCommand(rest);
    case 'provider':
      return (await import('../providers/install/cli')).providerCommand(rest);
    case 'lab':
      return (await import('../lab/cli')).labCli(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 1 : 0;
    default:
      process.stderr.write(`calico-net: unknown command "${command}"\n\n${USAGE}\n`);
      return 1;
  }
}
