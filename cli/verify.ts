/**
 * `calico-net verify`: from inside every workload, ping every other workload.
 *
 * One script per node, the same for every node; what to ping travels as the script's stdin (a
 * 32×4 cluster has 16,256 pairs: as script text or arguments that hits the kernel's argv limit).
 * On the node, every workload enters its namespace once and pings all its targets at once: one
 * small Perl program per workload sends every ICMP echo request from one raw socket and collects
 * the replies, so a workload costs one process, not one per pair (16,256 ping processes were
 * ~30 s of CPU on a 2-core machine). A pair that does not answer within PING_TIMEOUT_SECONDS is
 * tried once more (the first packets towards a fresh neighbour can be dropped while ARP
 * resolves). Hosts without perl (or without a raw socket) fall back to one `ping` per pair, at
 * most PINGS_IN_FLIGHT_PER_NODE at a time. All nodes work at the same time.
 *
 * The script also reads the kernel's ARP table overflow counter before and after: a full
 * neighbour table drops packets, and a verify that fails because of it says so.
 */
import { shQuote } from '../providers/ssh/quote';
import { RemoteHost } from '../providers/ssh/types';
import { ipv4Problem, workloadNameProblem } from '../rules/checks';
import { table } from './status';

export interface WorkloadTarget {
  node: string;
  /** Workload name = its network namespace on the node. */
  name: string;
  ip: string;
  host: RemoteHost;
}

export interface PingResult {
  from: string;
  to: string;
  ok: boolean;
}

export interface PingRun {
  results: PingResult[];
  /** Problems on the nodes that may explain failed pairs, one line each (empty when none). */
  warnings: string[];
}

/** `auto`: the one-process-per-workload pinger where perl and raw sockets work, else `ping`. */
export type Pinger = 'auto' | 'ping';

/** Ping processes one node runs at once (the `ping` fallback). */
export const PINGS_IN_FLIGHT_PER_NODE = 64;
/** Seconds to wait for an answer per try; a failed pair is tried once more. */
export const PING_TIMEOUT_SECONDS = 1;
/** Up to this many workloads the text output is a matrix; above, a summary and the failures. */
export const MATRIX_MAX_WORKLOADS = 16;
/** Nodes named one by one in the ARP-table warning. */
const MAX_NAMED_NODES = 5;

const label = (w: WorkloadTarget) => `${w.node}/${w.name}`;

/**
 * Runs inside one workload's namespace: "<index> <ip>" lines on stdin, "<index> ok|fail" per line
 * on stdout. Echo requests carry the target's position as sequence number and this process's id;
 * a reply counts only from the address that was asked. The receive buffer is raised (as root)
 * so hundreds of replies arriving at once are not dropped. Only core Perl (perl-base) is used.
 */
const PERL_PINGER = String.raw`
use strict; use Socket;
my $wait = shift;
my (@idx, @to);
while (my $l = <STDIN>) { my ($i, $ip) = split ' ', $l; next unless defined $ip; push @idx, $i; push @to, inet_aton($ip) // die "bad address $ip\n"; }
exit 0 unless @idx;
die "more than 65536 targets\n" if @idx > 65536;
socket(my $s, PF_INET, SOCK_RAW, 1) or die "raw ICMP socket: $!\n";
setsockopt($s, SOL_SOCKET, 33, pack("i", 1 << 22)) or setsockopt($s, SOL_SOCKET, SO_RCVBUF, pack("i", 1 << 22));
my $id = $$ & 0xffff;
my @ok = (0) x @idx;
sub csum { my $n = 0; $n += $_ for unpack("n*", $_[0]); $n = ($n >> 16) + ($n & 0xffff) while $n >> 16; ~$n & 0xffff }
for my $try (1, 2) {
  my @todo = grep { !$ok[$_] } 0 .. $#idx;
  last unless @todo;
  for my $k (@todo) {
    my $p = pack("CCnnn", 8, 0, 0, $id, $k) . "calico-net verify";
    $p .= "\0" if length($p) % 2;
    substr($p, 2, 2) = pack("n", csum($p));
    send($s, $p, 0, pack_sockaddr_in(0, $to[$k]));
  }
  my $left = @todo;
  my $time = $wait;
  my $bits = ""; vec($bits, fileno($s), 1) = 1;
  while ($left > 0 && $time > 0) {
    my ($n, $rest) = select(my $r = $bits, undef, undef, $time);
    $time = $rest;
    next unless $n > 0;
    while (defined recv($s, my $buf, 1500, MSG_DONTWAIT)) {
      my $h = (ord($buf) & 15) * 4;
      next if length($buf) < $h + 8;
      my ($type, $code, $sum, $rid, $seq) = unpack("CCnnn", substr($buf, $h, 8));
      next unless $type == 0 && $rid == $id && $seq < @idx && !$ok[$seq] && substr($buf, 12, 4) eq $to[$seq];
      $ok[$seq] = 1; $left--;
    }
  }
}
print "$idx[$_] ", ($ok[$_] ? "ok" : "fail"), "\n" for 0 .. $#idx;
`;

/**
 * Reads an optional "P ping" line (force the fallback), then "W <netns>" lines, each followed by
 * its "<index> <ip>" targets, on stdin; prints "<index> ok|fail" per target and "F0 n" / "F1 n",
 * the ARP table's table_fulls counter before and after. The fallback: every workload fires its
 * pings as fast as the node's tokens allow: a FIFO holds PINGS_IN_FLIGHT_PER_NODE tokens shared by
 * all workloads of the node, each ping (and its one retry) holds one. The target lines reach each
 * pinger on its stdin: only the (validated) namespace name is an argument.
 */
const PING_SCRIPT = `
set -u
fulls() { ip -s ntable show name arp_cache 2>/dev/null | sed -n 's/.*table_fulls \\([0-9][0-9]*\\).*/\\1/p' | head -n 1; }
echo "F0 $(fulls)"
perl_pinger=${shQuote(PERL_PINGER)}
pinger='
  while read -r i ip; do
    read -r -N 1 -u 9 _
    { if ping -c 1 -W ${PING_TIMEOUT_SECONDS} -q "$ip" >/dev/null 2>&1 || ping -c 1 -W ${PING_TIMEOUT_SECONDS} -q "$ip" >/dev/null 2>&1
      then echo "$i ok"; else echo "$i fail"; fi
      printf " " >&9; } &
  done
  wait'
declare -A targets=()
order=()
ns=
use=perl
while read -r a b; do
  if [[ $a == P ]]; then use=$b
  elif [[ $a == W ]]; then ns=$b; order+=("$ns"); targets[$ns]=
  else targets[$ns]+="$a $b"$'\\n'
  fi
done
if [[ $use == perl ]] && ! perl -MSocket -e 'socket(my $s, PF_INET, SOCK_RAW, 1) or exit 1' 2>/dev/null; then use=ping; fi
if [[ $use == perl ]]; then
  for ns in "\${order[@]}"; do
    printf '%s' "\${targets[$ns]}" | ip netns exec "$ns" perl -e "$perl_pinger" ${PING_TIMEOUT_SECONDS} &
  done
else
  dir=$(mktemp -d) && mkfifo "$dir/tokens" && exec 9<>"$dir/tokens" && rm -rf -- "$dir" || exit 1
  printf '%*s' ${PINGS_IN_FLIGHT_PER_NODE} '' >&9
  for ns in "\${order[@]}"; do
    printf '%s' "\${targets[$ns]}" | ip netns exec "$ns" bash --norc --noprofile -c "$pinger" &
  done
fi
wait
echo "F1 $(fulls)"
`;

export async function pingMatrix(workloads: WorkloadTarget[], opts: { pinger?: Pinger } = {}): Promise<PingResult[]> {
  return (await pingRun(workloads, opts)).results;
}

export async function pingRun(workloads: WorkloadTarget[], opts: { pinger?: Pinger } = {}): Promise<PingRun> {
  for (const w of workloads) {
    // The same checks the provider applies before these values reach a shell.
    const problem = ipv4Problem(w.ip) ?? workloadNameProblem(w.name);
    if (problem) throw new Error(`workload ${label(w)}: ${problem}`);
  }
  const byNode = new Map<string, WorkloadTarget[]>();
  for (const w of workloads) byNode.set(w.node, [...(byNode.get(w.node) ?? []), w]);
  const perNode = await Promise.all(
    [...byNode.values()].map((local) => pingFromNode(local, workloads, opts.pinger ?? 'auto')),
  );
  const results = perNode.flatMap((n) => n.results);
  const failed = results.some((r) => !r.ok);
  // One line however many nodes (nodes sharing a kernel, as in the lab, all see the same count).
  const full = perNode.filter((n) => n.tableFulls > 0);
  const named = full.slice(0, MAX_NAMED_NODES).map((n) => `${n.node} ${n.tableFulls}x`);
  const more = full.length > named.length ? `, and ${full.length - named.length} more nodes` : '';
  const warnings = full.length
    ? [
        `the kernel's ARP (neighbour) table was full during the pings (${named.join(', ')}${more}); packets to ` +
          `unresolved neighbours were dropped${failed ? ', which can explain failed pairs' : ''} ` +
          `(raise net.ipv4.neigh.default.gc_thresh3, or find what fills the table)`,
      ]
    : [];
  return { results, warnings };
}

async function pingFromNode(
  local: WorkloadTarget[],
  all: WorkloadTarget[],
  pinger: Pinger,
): Promise<{ node: string; results: PingResult[]; tableFulls: number }> {
  const pairs: { from: WorkloadTarget; to: WorkloadTarget }[] = [];
  const input: string[] = pinger === 'ping' ? ['P ping'] : [];
  for (const from of local) {
    input.push(`W ${from.name}`);
    for (const to of all) {
      if (to === from) continue;
      input.push(`${pairs.length} ${to.ip}`);
      pairs.push({ from, to });
    }
  }
  const node = local[0].node;
  if (pairs.length === 0) return { node, results: [], tableFulls: 0 };
  const host = local[0].host;
  const result = await host.run(PING_SCRIPT, { stdin: `${input.join('\n')}\n` });
  const verdicts = new Map<number, boolean>();
  const fulls: Record<string, number> = {};
  for (const line of result.stdout.split('\n')) {
    const m = /^(\d+) (ok|fail)$/.exec(line.trim());
    if (m) verdicts.set(Number(m[1]), m[2] === 'ok');
    const f = /^(F[01]) (\d+)$/.exec(line.trim());
    if (f) fulls[f[1]] = Number(f[2]);
  }
  if (verdicts.size !== pairs.length) {
    throw new Error(
      `ping run on ${host.label} answered ${verdicts.size} of ${pairs.length} pairs ` +
        `(exit ${result.code}): ${result.stderr.trim().slice(0, 2000)}`,
    );
  }
  // Without `ip ntable` the counter is unknown: no warning rather than a guess.
  const tableFulls = fulls.F0 !== undefined && fulls.F1 !== undefined ? Math.max(0, fulls.F1 - fulls.F0) : 0;
  return {
    node,
    results: pairs.map(({ from, to }, i) => ({ from: label(from), to: label(to), ok: verdicts.get(i)! })),
    tableFulls,
  };
}

/** The text report: a matrix for a few workloads, else a summary and the failing pairs. */
export function renderPingReport(workloads: WorkloadTarget[], results: PingResult[]): string {
  return workloads.length <= MATRIX_MAX_WORKLOADS
    ? renderPingMatrix(workloads, results)
    : renderPingSummary(workloads, results);
}

export function renderPingMatrix(workloads: WorkloadTarget[], results: PingResult[]): string {
  const names = workloads.map(label);
  const byPair = new Map(results.map((r) => [`${r.from}\0${r.to}`, r.ok]));
  const cell = (from: string, to: string) => {
    if (from === to) return '-';
    const ok = byPair.get(`${from}\0${to}`);
    return ok === undefined ? '?' : ok ? 'ok' : 'FAIL';
  };
  const rows = names.map((from) => [from, ...names.map((to) => cell(from, to))]);
  const failures = results.filter((r) => !r.ok);
  return [
    ...table(['from \\ to', ...names], rows),
    failures.length === 0
      ? `${results.length}/${results.length} workload pairs answered`
      : `${failures.length} of ${results.length} pairs failed: ` +
        failures.map((f) => `${f.from} -> ${f.to}`).join(', '),
  ].join('\n');
}

/** At most this many failing pairs are listed one by one (JSON output has them all). */
const LISTED_FAILURES = 200;

export function renderPingSummary(workloads: WorkloadTarget[], results: PingResult[]): string {
  const nodes = new Set(workloads.map((w) => w.node)).size;
  const failures = results.filter((r) => !r.ok);
  const head = `${workloads.length} workloads on ${nodes} nodes: ${results.length - failures.length}/${results.length} workload pairs answered`;
  if (failures.length === 0) return head;
  // Which workloads the failures gather around: a broken workload shows up in both columns.
  const count = (key: 'from' | 'to') => {
    const m = new Map<string, number>();
    for (const f of failures) m.set(f[key], (m.get(f[key]) ?? 0) + 1);
    return m;
  };
  const from = count('from');
  const to = count('to');
  const involved = [...new Set([...from.keys(), ...to.keys()])]
    .map((w) => [w, String(from.get(w) ?? 0), String(to.get(w) ?? 0)])
    .sort((a, b) => Number(b[1]) + Number(b[2]) - (Number(a[1]) + Number(a[2])) || a[0].localeCompare(b[0]));
  const listed = failures.slice(0, LISTED_FAILURES);
  return [
    `${head}; ${failures.length} failed`,
    '',
    ...table(['workload', 'failed as source', 'failed as target'], involved),
    '',
    'failing pairs:',
    ...listed.map((f) => `  ${f.from} -> ${f.to}`),
    ...(failures.length > listed.length
      ? [`  … and ${failures.length - listed.length} more (--format json lists them all)`]
      : []),
  ].join('\n');
}
