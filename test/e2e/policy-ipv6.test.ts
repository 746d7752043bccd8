/**
 * Network policy on a dual-stack cluster, end to end (lab 132: two nodes, real cdktf +
 * terraform + our provider over SSH, real bird, nft and kernel), proven on the wire from inside
 * the workloads' namespaces:
 *
 *   node1: front (role=front), bad (role=bad), both dual-stack
 *   node2: db (role=db, dual-stack), six (role=six, IPv6-only)
 *   - db:  ingress Deny from role == 'bad'; Allow TCP 5432; Allow ICMP (IPv4's only)
 *   - six: ingress Allow TCP 8080 from role == 'front'; Allow ICMPv6 echo request from role == 'front'
 *     (and rules loaded for the nft syntax they render: ipVersion, notICMP, nets of both families)
 *
 * An allowed IPv6 port connects and a denied one does not; "Deny from a selector, then Allow"
 * keeps `bad` out over IPv6 as over IPv4; the IPv6-only workload's policy is enforced; ICMPv6
 * is allowed or denied per rule; IPv4 is decided as before; every cell agrees with the compiled
 * model (packetVerdict); `calico-net verify` probes the IPv6 cells too and fails, naming the
 * cell, once an IPv6 rule is deleted by hand; a deploy leaves a clean plan; destroy leaves no
 * table. The nodes' IPv6
 * addresses are added by hand, as dual-stack.test.ts does.
 */
import * as fs from 'fs';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { compilePolicyModel, packetVerdict } from '../../constructs/policy-compile';
import { parseInventory } from '../../stacks/inventory';
import { describeCommand, E2eCluster } from './cluster';

jest.setTimeout(600_000);

const LAB = 132;
const HEX = LAB.toString(16);
let cluster: E2eCluster;

interface Wl {
  node: string;
  name: string;
  ip?: string;
  ipv6: string;
  role: string;
}

const WORKLOADS: Wl[] = [
  { node: 'node1', name: 'front', ip: '198.19.1.2', ipv6: 'fd00:198:19:1::2', role: 'front' },
  { node: 'node1', name: 'bad', ip: '198.19.1.3', ipv6: 'fd00:198:19:1::3', role: 'bad' },
  { node: 'node2', name: 'db', ip: '198.19.2.2', ipv6: 'fd00:198:19:2::2', role: 'db' },
  { node: 'node2', name: 'six', ipv6: 'fd00:198:19:2::3', role: 'six' },
];
const wl = (name: string) => WORKLOADS.find((w) => w.name === name)!;
const PORTS = [5432, 8080, 9090];
const POLICIES = [
  {
    name: 'db',
    order: 10,
    selector: "role == 'db'",
    ingress: [
      { action: 'Deny', source: { selector: "role == 'bad'" } },
      // Loaded for the syntax it renders (ipVersion without addresses: meta nfproto); no cell uses 5433.
      { action: 'Deny', ipVersion: 6, protocol: 'TCP', destination: { ports: [5433] } },
      { action: 'Allow', protocol: 'TCP', destination: { ports: [5432] } },
      { action: 'Allow', protocol: 'ICMP' },
    ],
  },
  {
    name: 'six',
    order: 20,
    selector: "role == 'six'",
    ingress: [
      { action: 'Allow', protocol: 'TCP', source: { selector: "role == 'front'" }, destination: { ports: [8080] } },
      { action: 'Allow', protocol: 'ICMPv6', icmp: { type: 128 }, source: { selector: "role == 'front'" } },
      // Loaded for the syntax they render (notICMP of ICMPv6; nets of both families in one rule);
      // the default drop would decide the same.
      { action: 'Deny', protocol: 'ICMPv6', notICMP: { type: 128, code: 0 } },
      { action: 'Deny', source: { nets: ['fd00:198:18::/48', '198.18.0.0/15'] } },
    ],
  },
];
const nodeV6 = (k: number) => `fd00:198:18:${HEX}::${k}`;
const listeners: { node: string; pid: number }[] = [];

async function out(node: string, argv: string[]): Promise<string> {
  const r = await cluster.exec(node, argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} on ${node}: ${describeCommand(r)}`);
  return r.stdout;
}

async function table(node: string): Promise<string> {
  const r = await cluster.exec(node, ['nft', 'list', 'table', 'inet', 'calico-net']);
  return r.code === 0 ? r.stdout : '';
}

/** A TCP listener on every port, on both families (`::`, not IPv6-only), in the namespace. */
const LISTENER = `use IO::Socket::IP; use IO::Select;
my $s = IO::Select->new(map { IO::Socket::IP->new(LocalHost => "::", LocalPort => $_, Listen => 64, ReuseAddr => 1, V6Only => 0) or die "port $_: $!" } @ARGV);
while (1) { for my $l ($s->can_read) { my $c = $l->accept; close $c if $c } }`;

/**
 * Connects from a workload's namespace to each "ip port" target, all at once: "open" when the
 * connection was established within 2 s, else "closed" (a dropped SYN times out).
 */
async function probeFrom(w: Wl, targets: string[]): Promise<string[]> {
  const script = `ip netns exec "$1" bash -c '
i=0
while read -r ip port; do
  ( if timeout 2 bash -c "exec 3<>/dev/tcp/$ip/$port" 2>/dev/null; then echo "$i open"; else echo "$i closed"; fi ) &
  i=$((i + 1))
done
wait'`;
  const r = await cluster.exec(w.node, ['bash', '-c', script, 'probe', w.name], targets.join('\n') + '\n');
  if (r.code !== 0) throw new Error(describeCommand(r));
  const res: string[] = [];
  for (const line of r.stdout.trim().split('\n')) {
    const [i, v] = line.split(' ');
    res[Number(i)] = v;
  }
  return res;
}

/** A ping from inside a workload's namespace: true when one of `tries` echo requests is answered. */
async function ping(from: Wl, to: string, tries: number): Promise<boolean> {
  const flag = to.includes(':') ? '-6' : '-4';
  for (let i = 0; i < tries; i++) {
    const r = await cluster.exec(from.node, ['ip', 'netns', 'exec', from.name, 'ping', flag, '-c', '1', '-W', '2', to]);
    if (r.code === 0) return true;
  }
  return false;
}

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: LAB, nodes: 2, asMode: 'ibgp' });
  const inventory = parseYaml(fs.readFileSync(cluster.lab.inventoryPath, 'utf8'));
  inventory.cluster.podCidrV6 = 'fd00:198:19::/48';
  inventory.nodes.forEach((n: Record<string, unknown>, i: number) => {
    n.ipv6Address = `${nodeV6(i + 1)}/64`;
    n.podCidrV6 = `fd00:198:19:${i + 1}::/64`;
    n.workloads = WORKLOADS.filter((w) => w.node === n.name).map(({ name, ip, ipv6, role }) => ({
      name,
      ...(ip ? { ip } : {}),
      ipv6,
      labels: { role },
    }));
  });
  inventory.policies = POLICIES;
  fs.writeFileSync(cluster.lab.inventoryPath, toYaml(inventory));
  for (const [i, node] of cluster.nodeNames.entries()) {
    await out(node, ['ip', '-6', 'addr', 'add', `${nodeV6(i + 1)}/64`, 'dev', 'eth0', 'nodad']);
  }
  const deploy = await cluster.deploy();
  if (deploy.code !== 0) throw new Error(describeCommand(deploy));
  for (const w of WORKLOADS) {
    const r = await cluster.sh(
      w.node,
      `ip netns exec ${w.name} setsid perl -e '${LISTENER}' ${PORTS.join(' ')} </dev/null >/dev/null 2>&1 & echo $!`,
    );
    if (r.code !== 0) throw new Error(describeCommand(r));
    listeners.push({ node: w.node, pid: Number(r.stdout.trim()) });
  }
  // Every listener answers (on its own address, inside its namespace) before the first probe.
  for (const w of WORKLOADS) {
    const deadline = Date.now() + 15_000;
    while (
      (
        await probeFrom(
          w,
          PORTS.map((p) => `${w.ipv6} ${p}`),
        )
      ).some((v) => v !== 'open')
    ) {
      if (Date.now() > deadline) throw new Error(`the listeners of ${w.name} did not come up`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
});

afterAll(async () => {
  for (const l of listeners.splice(0)) await cluster?.exec(l.node, ['kill', String(l.pid)]);
  await cluster?.down();
});

test('the deploy leaves a clean plan, and each node has a table with IPv4 and IPv6 selector sets', async () => {
  const plan = await cluster.plan();
  if (plan.code !== 0) throw new Error(`deploy left a plan behind:\n${describeCommand(plan)}`);
  const node2 = await table('node2');
  expect(node2).toMatch(/type ipv4_addr/);
  expect(node2).toMatch(/type ipv6_addr/);
  expect(node2).toMatch(/ip6 saddr @s6_[0-9a-f]{12} drop/);
  expect(node2).toContain('fd00:198:19:1::3');
  expect(node2).toMatch(/meta nfproto ipv6 /);
  expect(node2).toMatch(/ip6 saddr fd00:198:18::\/48 drop/);
  expect(node2).toMatch(/ip saddr 198.18.0.0\/15 drop/);
});

/** Each cell: source → "address port", expected on the wire. */
const CELLS: [string, string, number, 'open' | 'closed'][] = [
  // IPv4, decided as before.
  ['front', wl('db').ip!, 5432, 'open'],
  ['front', wl('db').ip!, 9090, 'closed'],
  ['bad', wl('db').ip!, 5432, 'closed'],
  ['db', wl('front').ip!, 9090, 'open'],
  // IPv6: an allowed port connects, a port no rule allows does not.
  ['front', wl('db').ipv6, 5432, 'open'],
  ['front', wl('db').ipv6, 9090, 'closed'],
  // "Deny from role == 'bad', then Allow" denies bad over IPv6 as over IPv4.
  ['bad', wl('db').ipv6, 5432, 'closed'],
  // The IPv6-only workload's policy, from the other node and from its own.
  ['front', wl('six').ipv6, 8080, 'open'],
  ['front', wl('six').ipv6, 9090, 'closed'],
  ['bad', wl('six').ipv6, 8080, 'closed'],
  ['db', wl('six').ipv6, 8080, 'closed'],
  // A workload no policy selects stays open, to the IPv6-only one too.
  ['six', wl('front').ipv6, 9090, 'open'],
  ['db', wl('bad').ipv6, 8080, 'open'],
];

/** Probes every cell twice (a loaded machine can miss the 2 s window once; a dropped SYN never connects). */
async function observed(): Promise<string[]> {
  const once = async () => {
    const res: string[] = [];
    for (const [src, ip, port] of CELLS) res.push((await probeFrom(wl(src), [`${ip} ${port}`]))[0]);
    return res;
  };
  const [a, b] = [await once(), await once()];
  return a.map((v, i) => (v === 'open' || b[i] === 'open' ? 'open' : 'closed'));
}

test('TCP on the wire: IPv6 ports allowed and denied per rule, bad kept out over both families, IPv4 as before', async () => {
  const seen = await observed();
  const rows = CELLS.map(([src, ip, port], i) => `${src} -> ${ip} ${port}: ${seen[i]}`);
  expect(rows).toEqual(CELLS.map(([src, ip, port, want]) => `${src} -> ${ip} ${port}: ${want}`));
  // The compiled model (what explain and verify read) says the same of every cell.
  const model = compilePolicyModel(
    parseInventory(fs.readFileSync(cluster.lab.inventoryPath, 'utf8'), cluster.lab.inventoryPath),
  )!;
  for (const [src, ip, port, want] of CELLS) {
    const from = wl(src);
    const v = packetVerdict(model, { src: ip.includes(':') ? from.ipv6 : from.ip!, dst: ip, protocol: 6, port });
    expect(`${src} -> ${ip} ${port}: ${v.action}`).toBe(
      `${src} -> ${ip} ${port}: ${want === 'open' ? 'Allow' : 'Deny'}`,
    );
  }
});

test('ICMP and ICMPv6 per rule: db answers IPv4 pings only; six answers front ICMPv6 echo, not bad', async () => {
  expect(await ping(wl('front'), wl('db').ip!, 5)).toBe(true);
  expect(await ping(wl('front'), wl('db').ipv6, 2)).toBe(false);
  expect(await ping(wl('front'), wl('six').ipv6, 5)).toBe(true);
  expect(await ping(wl('bad'), wl('six').ipv6, 2)).toBe(false);
  // Unselected in both directions: open over both families.
  expect(await ping(wl('db'), wl('front').ipv6, 5)).toBe(true);
  expect(await ping(wl('db'), wl('front').ip!, 5)).toBe(true);
});

test('calico-net verify probes the IPv6 cells on the wire; an IPv6 rule deleted by hand fails it, naming the cell', async () => {
  const json = await cluster.calicoNet(['verify', '--format', 'json']);
  if (json.code !== 0) throw new Error(`calico-net verify: ${describeCommand(json)}`);
  const report = JSON.parse(json.stdout);
  expect(report.families.map((f: { family: string }) => f.family)).toEqual(['IPv4', 'IPv6']);
  expect(report.cells.filter((c: { expected: string; observed: string }) => c.expected !== c.observed)).toEqual([]);
  // IPv6 cells of every kind, allowed and denied, each seen so on the wire.
  const v6 = (src: string, dst: string, probe: string, verdict: string) => ({
    src,
    dst,
    probe,
    expected: verdict,
    observed: verdict,
    family: 'IPv6',
  });
  expect(report.cells).toContainEqual(v6('front', 'six', 'TCP/8080', 'allow'));
  expect(report.cells).toContainEqual(v6('bad', 'six', 'TCP/8080', 'deny'));
  expect(report.cells).toContainEqual(v6('front', 'six', 'ICMPv6', 'allow'));
  expect(report.cells).toContainEqual(v6('front', 'db', 'ICMPv6', 'deny'));
  expect(report.cells).toContainEqual(v6('bad', 'db', 'TCP/5432', 'deny'));
  expect(report.cells).toContainEqual(v6('six', 'front', 'TCP/5432', 'allow'));

  // six's "Allow TCP 8080 from role == 'front'" deleted on node2 by hand: its IPv6 rule.
  const listing = await cluster.exec('node2', ['nft', '-a', 'list', 'chain', 'inet', 'calico-net', 'pi_six']);
  const handle = /ip6 saddr @s6_[0-9a-f]+ tcp dport 8080 accept # handle (\d+)/.exec(listing.stdout)?.[1];
  if (!handle) throw new Error(`no IPv6 rule for TCP 8080 in pi_six:\n${listing.stdout}`);
  expect(
    (await cluster.exec('node2', ['nft', 'delete', 'rule', 'inet', 'calico-net', 'pi_six', 'handle', handle])).code,
  ).toBe(0);
  const text = await cluster.calicoNet(['verify']);
  expect(text.code).toBe(1);
  const [v4part, v6part] = text.stdout.split('\n\nIPv6:\n');
  expect(v4part).toMatch(/^IPv4:\n[^]*\nall \d+ cells agree$/);
  // In IPv6's TCP/8080 matrix: front -> six expected allowed, observed denied; nothing else.
  const tcp8080 = v6part.slice(v6part.indexOf('TCP/8080  (rows'));
  expect(tcp8080.split('\n')[2]).toBe('front -     .     X     ./X!  ');
  // Only that cell disagrees (a mismatch reads expected/observed and "!"; the headings explain "!").
  expect(v6part.match(/[.X?]\/[.X?]!/g)).toEqual(['./X!']);
  expect(v6part.trimEnd().endsWith('1 of 48 cells disagree')).toBe(true);
});

test('destroy leaves no table on any node', async () => {
  for (const l of listeners.splice(0)) await cluster.exec(l.node, ['kill', String(l.pid)]);
  const destroy = await cluster.destroy();
  if (destroy.code !== 0) throw new Error(describeCommand(destroy));
  for (const node of cluster.nodeNames) {
    expect(await table(node)).toBe('');
    expect(await out(node, ['nft', 'list', 'tables'])).not.toMatch(/calico-net/);
  }
});
