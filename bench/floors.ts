/**
 * What a lab costs before any of our code runs: the floors under the issue-13 figures.
 *
 *   node dist/bench/floors.js ssh <known_hosts> <key> <host>...   (run in the operator netns)
 *
 * - `ssh`: per host, a fresh connection up to a ready remote shell (the user's login shell runs
 *   once here: ~/.bashrc included), then the round trip of an empty script on that warm shell.
 *   Prints one JSON line.
 * - kernelFloor(): the netns + veth work of N workloads done by a plain shell inside one lab node,
 *   one after another and then split over two parallel shells. Every lab node shares one kernel,
 *   whose RTNL lock serialises these changes, so the parallel figure says how much two cores can
 *   help a lab (real hosts each have their own kernel).
 */
import { nodeExec, LabInfo } from '../lab';
import { SshPool } from '../providers/ssh';
import { median } from './measure';

export interface SshFloor {
  /** Connect, authenticate, start the remote shell (login shell included): median ms per host. */
  loginMs: number;
  /** One empty script on an already running shell: median ms. */
  roundTripMs: number;
  /** Node-side CPU per host over the whole measurement (filled in by the bench, which owns the meter). */
  nodeCpuMsPerLogin?: number;
}

async function measureSsh(knownHostsPath: string, privateKeyPath: string, hosts: string[]): Promise<SshFloor> {
  const pool = new SshPool();
  try {
    const logins: number[] = [];
    const trips: number[] = [];
    for (const host of hosts) {
      const remote = pool.host({ host, port: 22, user: 'root', privateKeyPath, knownHostsPath, sudo: false }, host);
      let t = process.hrtime.bigint();
      const first = await remote.run('true');
      if (first.code !== 0) throw new Error(`${host}: ${first.stderr}`);
      logins.push(Number(process.hrtime.bigint() - t) / 1e6);
      for (let i = 0; i < 10; i++) {
        t = process.hrtime.bigint();
        await remote.run('true');
        trips.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }
    return { loginMs: median(logins), roundTripMs: median(trips) };
  } finally {
    await pool.close();
  }
}

/** Creates `count` workloads the way calico_workload does, in `jobs` parallel shells; then removes them. */
function workloadScript(count: number, jobs: number): string {
  return `
set -e
make() {
  for ((i = $1; i < ${count}; i += ${jobs})); do
    ip netns add "bnf$i"
    ip link add "bnfh$i" type veth peer name eth0 netns "bnf$i"
    ip -n "bnf$i" -batch - <<B
link set dev lo up
addr replace 198.19.255.$i/32 dev eth0
link set dev eth0 up
route replace 169.254.1.1 dev eth0 scope link
route replace default via 169.254.1.1 dev eth0
B
    echo 1 > "/proc/sys/net/ipv4/conf/bnfh$i/proxy_arp"
    ip -batch - <<B
link set dev bnfh$i up
route replace 198.19.255.$i/32 dev bnfh$i scope link proto 211
B
  done
}
start=$(date +%s%N)
for ((j = 0; j < ${jobs}; j++)); do make $j & done
wait
end=$(date +%s%N)
for ((i = 0; i < ${count}; i++)); do ip netns del "bnf$i"; done
while ip -o link show | grep -q ' bnfh'; do sleep 0.05; done
echo $(( (end - start) / 1000000 ))`;
}

export interface KernelFloor {
  workloads: number;
  sequentialMs: number;
  twoParallelMs: number;
}

/** Runs inside the lab's first node (its own netns; nothing reaches another address). */
export async function kernelFloor(lab: LabInfo, workloads = 128): Promise<KernelFloor> {
  const node = lab.nodes[0].name;
  const timeOf = async (jobs: number) => {
    const r = await nodeExec(lab, node, ['bash', '-c', workloadScript(Math.min(workloads, 250), jobs)]);
    if (r.code !== 0) throw new Error(`kernel floor on ${node}: ${r.stderr}`);
    return Number(r.stdout.trim().split('\n').pop());
  };
  return { workloads, sequentialMs: await timeOf(1), twoParallelMs: await timeOf(2) };
}

if (require.main === module) {
  const [mode, knownHosts, key, ...hosts] = process.argv.slice(2);
  if (mode !== 'ssh' || !knownHosts || !key || hosts.length === 0) {
    process.stderr.write('usage: floors.js ssh <known_hosts> <key> <host>...\n');
    process.exit(2);
  }
  measureSsh(knownHosts, key, hosts).then(
    (floor) => process.stdout.write(`${JSON.stringify(floor)}\n`),
    (err) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
