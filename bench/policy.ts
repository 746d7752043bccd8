/**
 * The network-policy figures of `npm run bench` (root; also `node dist/bench/policy.js` alone),
 * on lab id 65's namespaces (cn65-*), no SSH and no Terraform: what the dataplane costs.
 *
 * - Ruleset load: the table the compiler renders for one host with 250 workloads and 100
 *   policies, loaded by the very script calico_policy_ruleset runs on a node (ownership check,
 *   one `nft -f` transaction that replaces the table, the listing for the `table` fact), over a
 *   table already loaded (an update, the dearer case); median of 5. Target ≤ 1 s. Beside it, in
 *   the same run: `nft -f` alone, and the two passes apply made before (`nft -c -f` then
 *   `nft -f`), so the change shows on one machine at one load.
 * - Throughput: iperf3 (TCP, 5 s) from one workload namespace to another through a host
 *   namespace, routed as calico_workload wires them (veth, /32 routes, proxy ARP), first with
 *   no table, then with that table loaded (both workloads selected by all 100 policies, the
 *   allowing rule in the last one). Median of 5 runs each, interleaved. Target: within 5%.
 *   Between the two, a table holding only what stateful filtering needs on every packet (a
 *   forward hook accepting established flows): conntrack's own cost, which any stateful policy
 *   (Calico's too) pays, apart from what our rules add.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { compilePolicyModel } from '../constructs/policy-compile';
import { renderNodeRuleset } from '../constructs/policy-nft';
import { ClusterSpec } from '../constructs/model';
import { processCpuMs } from './measure';
import { PolicySpec } from '../constructs/policy-model';
import { hostInterfaceName } from '../providers/calico/names';
import { rulesetApplyScript } from '../providers/calico/policy-ruleset';

const HOST = 'cn65-host';
const A = 'cn65-wa';
const B = 'cn65-wb';
const NODE = 'bench';

function sh(script: string): { code: number; stdout: string; stderr: string; ms: number } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr, ms };
}

function must(script: string): string {
  const r = sh(script);
  if (r.code !== 0) throw new Error(`${script}\n${r.stderr}`);
  return r.stdout;
}

/** CPU ms of this process's reaped children (the nft and shell runs). */
const childCpuMs = (): number => processCpuMs('self').childrenMs;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** 250 workloads on one node; 100 policies selecting all of them, the last allowing iperf3. */
export function benchCluster(workloads = 250, policies = 100): ClusterSpec {
  const wl = Array.from({ length: workloads }, (_, i) => ({
    name: `wl${String(i).padStart(3, '0')}`,
    // 198.19.65.2 .. 198.19.65.251.
    ip: `198.19.65.${i + 2}`,
    labels: { tier: 't', app: `a${i % policies}` },
  }));
  const ps: PolicySpec[] = Array.from({ length: policies }, (_, i) => ({
    name: `p${String(i).padStart(3, '0')}`,
    order: i,
    selector: "tier == 't'",
    ingress: [
      i === policies - 1
        ? { action: 'Allow', protocol: 'TCP', destination: { ports: [5201] } }
        : {
            action: 'Allow',
            protocol: 'TCP',
            source: { selector: `app == 'a${i}'` },
            destination: { ports: [10000 + i] },
          },
    ],
    egress: [
      i === policies - 1
        ? { action: 'Allow' }
        : { action: 'Deny', protocol: 'UDP', destination: { ports: [20000 + i] } },
    ],
  }));
  return {
    name: 'bench',
    podCidr: '198.19.0.0/16',
    peers: [],
    nodes: [{ name: NODE, address: '198.18.65.1', podCidr: '198.19.65.0/24', workloads: wl }],
    policies: ps,
  };
}

function cleanup(): void {
  sh(
    `for p in /tmp/cn65-iperf.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; rm -f "$p"; done; for n in ${HOST} ${A} ${B}; do ip netns del "$n" 2>/dev/null; done; true`,
  );
}

function wire(ns: string, iface: string, ip: string): void {
  must(`set -e
ip -n ${HOST} link add ${iface} type veth peer name eth0 netns ${ns}
ip -n ${HOST} link set ${iface} address ee:ee:ee:ee:ee:ee up
ip netns exec ${HOST} sysctl -qw net.ipv4.conf.${iface}.proxy_arp=1 net.ipv4.neigh.${iface}.proxy_delay=0
ip -n ${HOST} route add ${ip}/32 dev ${iface}
ip -n ${ns} link set lo up
ip -n ${ns} link set eth0 up
ip -n ${ns} addr add ${ip}/32 dev eth0
ip -n ${ns} route add 169.254.1.1 dev eth0 scope link
ip -n ${ns} route add default via 169.254.1.1`);
}

function iperfGbps(): number {
  const out = must(`ip netns exec ${A} iperf3 -c 198.19.65.3 -t 5 -J`);
  return JSON.parse(out).end.sum_received.bits_per_second / 1e9;
}

export interface PolicyBench {
  workloads: number;
  policies: number;
  rulesetBytes: number;
  rulesetLines: number;
  /** The handler's apply script, end to end on the host (what the target is about). */
  applyScriptMs: { median: number; runs: number[]; cpuMs: number };
  /** nft -f alone; and before this change: nft -c -f, then nft -f. */
  loadMs: { check: number; load: number; total: number; runsTotal: number[] };
  /** The machine's 1-minute load average when the ruleset runs started. */
  load: number;
  throughputGbps: {
    without: number;
    conntrackOnly: number;
    with: number;
    runsWithout: number[];
    runsConntrackOnly: number[];
    runsWith: number[];
  };
  slowdownPercent: number;
  /** The slowdown of the conntrack-only table: what stateful filtering costs by itself. */
  conntrackSlowdownPercent: number;
}

export function runPolicyBench(): PolicyBench {
  for (const tool of ['nft', 'iperf3', 'ip'])
    if (sh(`command -v ${tool}`).code !== 0) throw new Error(`policy bench: ${tool} is missing`);
  cleanup();
  const spec = benchCluster();
  const model = compilePolicyModel(spec)!;
  const ruleset = renderNodeRuleset(model, NODE);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cn65-')), 'ruleset.nft');
  fs.writeFileSync(file, `table inet calico-net\ndelete table inet calico-net\n${ruleset}`);
  const conntrackOnlyFile = path.join(path.dirname(file), 'conntrack-only.nft');
  fs.writeFileSync(
    conntrackOnlyFile,
    [
      'table inet calico-net-ct {',
      '\tchain forward {',
      '\t\ttype filter hook forward priority filter; policy accept;',
      '\t\tct state established,related accept',
      '\t}',
      '}',
      '',
    ].join('\n'),
  );
  try {
    // As calico_node does on a host without a default route: proxy ARP answers for the pods'
    // gateway only when the host routes it out of another device.
    must(
      `ip netns add ${HOST} && ip netns add ${A} && ip netns add ${B} && ip netns exec ${HOST} sysctl -qw net.ipv4.ip_forward=1 && ip -n ${HOST} link set lo up && ip -n ${HOST} route add 169.254.1.1/32 dev lo`,
    );
    wire(A, hostInterfaceName(NODE, 'wl000'), '198.19.65.2');
    wire(B, hostInterfaceName(NODE, 'wl001'), '198.19.65.3');
    must(`ip netns exec ${B} iperf3 -s -D -I /tmp/cn65-iperf.pid`);
    sh('sleep 0.5');
    must(`ip netns exec ${A} ping -c 1 -W 2 198.19.65.3`);

    // The handler's script, fed on stdin to a shell in the host namespace as the node's remote
    // shell would run it; the table is loaded once first, so each run is an update.
    const load = os.loadavg()[0];
    must(`ip netns exec ${HOST} nft -f ${file}`);
    const script = rulesetApplyScript(NODE, ruleset);
    const scriptRuns: number[] = [];
    const cpuBefore = childCpuMs();
    for (let i = 0; i < 5; i++) {
      const t0 = process.hrtime.bigint();
      const r = spawnSync('ip', ['netns', 'exec', HOST, 'bash', '--norc', '-s'], { input: script, encoding: 'utf8' });
      scriptRuns.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (r.status !== 0 || !r.stdout.includes('table inet calico-net {'))
        throw new Error(`the apply script failed (exit ${r.status}): ${r.stderr}`);
    }
    const scriptCpuMs = (childCpuMs() - cpuBefore) / 5;
    const runsWithout: number[] = [];
    const runsConntrackOnly: number[] = [];
    const runsWith: number[] = [];
    const checks: number[] = [];
    const loads: number[] = [];
    for (let i = 0; i < 5; i++) {
      sh(`ip netns exec ${HOST} nft delete table inet calico-net 2>/dev/null`);
      const c = sh(`ip netns exec ${HOST} nft -c -f ${file}`);
      const l = sh(`ip netns exec ${HOST} nft -f ${file}`);
      if (c.code !== 0 || l.code !== 0) throw new Error(`nft refused the bench ruleset: ${c.stderr}${l.stderr}`);
      checks.push(c.ms);
      loads.push(l.ms);
    }
    for (let i = 0; i < 5; i++) {
      sh(`ip netns exec ${HOST} nft delete table inet calico-net 2>/dev/null`);
      runsWithout.push(iperfGbps());
      must(`ip netns exec ${HOST} nft -f ${conntrackOnlyFile}`);
      runsConntrackOnly.push(iperfGbps());
      sh(`ip netns exec ${HOST} nft delete table inet calico-net-ct 2>/dev/null`);
      must(`ip netns exec ${HOST} nft -f ${file}`);
      runsWith.push(iperfGbps());
    }
    const without = median(runsWithout);
    const conntrackOnly = median(runsConntrackOnly);
    const withPolicy = median(runsWith);
    const totals = checks.map((c, i) => c + loads[i]);
    return {
      workloads: spec.nodes[0].workloads.length,
      policies: spec.policies!.length,
      rulesetBytes: ruleset.length,
      rulesetLines: ruleset.split('\n').length,
      applyScriptMs: { median: median(scriptRuns), runs: scriptRuns.map((t) => Math.round(t)), cpuMs: scriptCpuMs },
      loadMs: {
        check: median(checks),
        load: median(loads),
        total: median(totals),
        runsTotal: totals.map((t) => Math.round(t)),
      },
      load,
      throughputGbps: { without, conntrackOnly, with: withPolicy, runsWithout, runsConntrackOnly, runsWith },
      slowdownPercent: ((without - withPolicy) / without) * 100,
      conntrackSlowdownPercent: ((without - conntrackOnly) / without) * 100,
    };
  } finally {
    cleanup();
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
}

export function printPolicyBench(b: PolicyBench): void {
  const out = process.stdout;
  out.write(
    `\nnetwork policy (lab 65 namespaces; ${b.workloads} workloads, ${b.policies} policies on one host; ruleset ${b.rulesetLines} lines, ${(b.rulesetBytes / 1024).toFixed(0)} KiB)\n`,
  );
  const a = b.applyScriptMs;
  out.write(
    `  ruleset load, calico_policy_ruleset's apply script on the host (ownership check, one nft -f transaction, listing): median ${a.median.toFixed(0)} ms, CPU ${a.cpuMs.toFixed(0)} ms (runs ${a.runs.join(', ')}; load ${b.load.toFixed(1)}); target <= 1000 ms: ${a.median <= 1000 ? 'met' : 'NOT met'}\n`,
  );
  out.write(
    `    nft -f alone: median ${b.loadMs.load.toFixed(0)} ms; before (nft -c -f, then nft -f): median ${b.loadMs.total.toFixed(0)} ms (check ${b.loadMs.check.toFixed(0)}; runs ${b.loadMs.runsTotal.join(', ')})\n`,
  );
  const t = b.throughputGbps;
  const runs = (xs: number[]) => xs.map((x) => x.toFixed(2)).join('/');
  out.write(
    `  iperf3 pod to pod: without policy ${t.without.toFixed(2)} Gbit/s, with ${t.with.toFixed(2)} Gbit/s (${b.slowdownPercent.toFixed(1)}% slower; runs ${runs(t.runsWithout)} vs ${runs(t.runsWith)}); target within 5%: ${b.slowdownPercent <= 5 ? 'met' : 'NOT met'}\n`,
  );
  out.write(
    `    conntrack alone (a table accepting established flows, no policy): ${t.conntrackOnly.toFixed(2)} Gbit/s (${b.conntrackSlowdownPercent.toFixed(1)}% slower than without; runs ${runs(t.runsConntrackOnly)})\n`,
  );
}

if (require.main === module) {
  try {
    const b = runPolicyBench();
    printPolicyBench(b);
    fs.writeFileSync(path.join(process.cwd(), 'bench-policy.json'), JSON.stringify(b, null, 2) + '\n');
  } catch (err) {
    process.stderr.write(`policy bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  }
}
