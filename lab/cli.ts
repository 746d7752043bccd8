/** `calico-net lab up|down`: a local test cluster out of network namespaces (root only). */
import * as path from 'path';
import { labDown, labUp, LAB_POD_CIDR_V6 } from './lab';
import { addTorToInventory, torDown, torUp } from './tor';

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

function intOption(argv: string[], name: string, dflt: number): number {
  const v = option(argv, name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} needs a whole number, not "${v}"`);
  return n;
}

function operatorReach(v: string | undefined): 'all' | 'first' {
  if (v === undefined || v === 'all' || v === 'first') return v ?? 'all';
  throw new Error(`--operator-reach needs "all" or "first", not "${v}"`);
}

const USAGE =
  'usage: calico-net lab up [--nodes N] [--id K] [--dir D] [--ebgp] [--route-reflectors R] [--workloads W] [--subnets 1|2] [--operator-reach all|first] [--tor] [--ipv6] | lab down [--dir D]\n';

const VALUE_OPTIONS: Record<string, readonly string[]> = {
  up: ['--nodes', '--id', '--dir', '--route-reflectors', '--workloads', '--subnets', '--operator-reach'],
  down: ['--dir'],
};
const FLAG_OPTIONS: Record<string, readonly string[]> = { up: ['--ebgp', '--tor', '--ipv6'], down: [] };

/** The first argument that is not an option of `sub` (or an option's value): a typo must not build a lab. */
function unknownArgument(sub: string, argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (VALUE_OPTIONS[sub].includes(argv[i])) i++;
    else if (!FLAG_OPTIONS[sub].includes(argv[i])) return argv[i];
  }
  return undefined;
}

export async function labCli(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (sub !== 'up' && sub !== 'down') {
    process.stderr.write(USAGE);
    return 1;
  }
  const unknown = unknownArgument(sub, rest);
  if (unknown !== undefined) {
    process.stderr.write(`calico-net lab ${sub}: unknown argument "${unknown}"\n${USAGE}`);
    return 1;
  }
  const dir = path.resolve(option(rest, '--dir') ?? '.lab');
  if (sub === 'down') {
    await torDown(dir);
    await labDown(dir);
    process.stdout.write(`lab in ${dir} is down\n`);
    return 0;
  }
  const lab = await labUp({
    dir,
    nodes: intOption(rest, '--nodes', 3),
    id: intOption(rest, '--id', 0),
    asMode: rest.includes('--ebgp') ? 'ebgp' : 'ibgp',
    routeReflectors: intOption(rest, '--route-reflectors', 0),
    workloadsPerNode: intOption(rest, '--workloads', 1),
    subnets: intOption(rest, '--subnets', 1),
    operatorReach: operatorReach(option(rest, '--operator-reach')),
    ipv6: rest.includes('--ipv6'),
    log: (line) => process.stdout.write(`lab: ${line}\n`),
  });
  // A ToR (FRR) peering with every node, and a host behind it (lab/tor.ts).
  const tor = rest.includes('--tor') ? await torUp(lab) : undefined;
  if (tor) addTorToInventory(lab, tor);
  const op = `ip netns exec ${lab.operator.netns}`;
  process.stdout.write(
    [
      '',
      `inventory:      ${lab.inventoryPath}`,
      ...(lab.ipv6Subnet
        ? [`IPv6:           nodes on ${lab.ipv6Subnet}, pods in ${LAB_POD_CIDR_V6} (dual-stack inventory)`]
        : []),
      `ssh to a node:  ${op} ssh -i ${lab.clientKeyPath} -o UserKnownHostsFile=${lab.knownHostsPath} root@${lab.nodes[0].address}`,
      `deploy:         (in a cdktf project) CALICO_INVENTORY=${lab.inventoryPath} ${op} npx cdktf deploy`,
      ...(tor
        ? [
            `ToR (FRR):      ${tor.address} AS ${tor.asNumber}, in the inventory's peers`,
            `ToR's BGP:      ip netns exec ${tor.netns} vtysh --vty_socket ${tor.dir}/vty -c 'show bgp summary'`,
            `behind the ToR: ${tor.host.address} (ip netns exec ${tor.host.netns} ping 198.19.1.2)`,
          ]
        : []),
      `tear down:      calico-net lab down --dir ${lab.dir}`,
      '',
    ].join('\n'),
  );
  return 0;
}
