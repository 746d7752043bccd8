/**
 * Network policy, the parts the three-tier suite (policy.test.ts) does not reach (lab 160: two
 * nodes, real cdktf + terraform + our provider over SSH, real nft and kernel):
 *
 * - A host without nft. node2's nftables binary is hidden inside node2's own mount namespace (the
 *   host then looks like one where Debian's nftables is not installed; node1 and this machine
 *   keep theirs). With no policies declared it deploys fine; once policies are declared the
 *   deploy fails naming node2, node1's ruleset is loaded, node2 has no table, and the next plan
 *   plans node2's ruleset again (and nothing else). With nft back, the next deploy loads it.
 * - UDP on the wire:
 *
 *     node1: client (role=client), other (no labels)      node2: server (role=server)
 *     policy "server" on role == 'server', ingress:
 *       Allow UDP 5353 from role == 'client'; Deny UDP 5354; Allow ICMP; the rest dropped.
 *
 *   `calico-net verify --json` must observe the allowed and the denied UDP cells as the compiled
 *   model decides them; real datagrams sent from the workloads' namespaces to a receiver in
 *   server's agree, independently of verify; the prober reports a port without a listener and a
 *   dropped datagram as denied; and a rule deleted by hand makes verify fail on exactly the
 *   cell it breaks.
 */
import * as fs from 'fs';
import { run } from '../../lab/process';
import { compilePolicyModel } from '../../constructs/policy-compile';
import { parseInventory } from '../../stacks/inventory';
import { expectedCells, probesOf, proberScript } from '../../cli/policy-verify';
import { deployToEmptyPlan, writePolicyInventory } from '../support/policy-inventory';
import { describeCommand, E2eCluster } from './cluster';

jest.setTimeout(600_000);

let cluster: E2eCluster;
const WORKLOADS = [
  { node: 'node1', name: 'client', ip: '198.19.1.2', labels: { role: 'client' } },
  { node: 'node1', name: 'other', ip: '198.19.1.3', labels: undefined },
  { node: 'node2', name: 'server', ip: '198.19.2.2', labels: { role: 'server' } },
];
const SERVER = WORKLOADS[2];
const POLICIES = [
  {
    name: 'server',
    selector: "role == 'server'",
    ingress: [
      { action: 'Allow', protocol: 'UDP', source: { selector: "role == 'client'" }, destination: { ports: [5353] } },
      { action: 'Deny', protocol: 'UDP', destination: { ports: [5354] } },
      { action: 'Allow', protocol: 'ICMP' },
    ],
  },
];

const writeInventory = (policies: unknown[] | undefined) => writePolicyInventory(cluster, WORKLOADS, policies);
const deploy = () => deployToEmptyPlan(cluster);

/**
 * The node's table as its kernel holds it, listed with this machine's nft inside the node's
 * network namespace only (node2's own mount namespace may have no nft).
 */
async function table(node: string): Promise<string> {
  const netns = cluster.lab.nodes.find((n) => n.name === node)!.netns;
  const r = await run('ip', ['netns', 'exec', netns, 'nft', 'list', 'table', 'inet', 'calico-net']);
  return r.code === 0 ? r.stdout : '';
}

/**
 * Hides /usr/sbin/nft in node2's mount namespace (private: nothing propagates out): /usr/sbin
 * is replaced there by a directory of links to every other entry of the real one, which stays
 * reachable through a bind mount under the node's own /run. Debian's /sbin is a link to
 * usr/sbin, so /sbin/nft goes too.
 */
const HIDE_NFT = `set -e
mkdir -p /run/e2e-real-sbin /run/e2e-sbin-without-nft
mount --bind /usr/sbin /run/e2e-real-sbin
for f in /run/e2e-real-sbin/*; do b=\${f##*/}; [ "$b" = nft ] || ln -s "$f" "/run/e2e-sbin-without-nft/$b"; done
mount --bind /run/e2e-sbin-without-nft /usr/sbin`;
let nftHidden = false;

async function hasNft(node: string): Promise<boolean> {
  return (await cluster.sh(node, 'command -v nft')).code === 0;
}

/** The words of a message, however Terraform wraps it. */
const wordsOf = (s: string) =>
  new RegExp(
    s
      .split(' ')
      .map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('\\s+'),
  );

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: 160, nodes: 2, workloadsPerNode: 1 });
  // A policy suite without nft proves nothing: it fails, it never skips.
  for (const node of ['node1', 'node2'])
    if (!(await hasNft(node)))
      throw new Error('nft is missing (Debian package nftables): see scripts/prerequisites.json');
  const hide = await cluster.sh('node2', HIDE_NFT);
  if (hide.code !== 0) throw new Error(describeCommand(hide));
  nftHidden = true;
  expect(await hasNft('node2')).toBe(false);
  // Only node2 lost it: node1 and this machine (other people's labs) keep theirs.
  expect(await hasNft('node1')).toBe(true);
  expect(fs.existsSync('/usr/sbin/nft')).toBe(true);
  // node2 is otherwise whole: sshd (re-executed per connection) and ip still run there.
  expect((await cluster.sh('node2', 'command -v sshd && ip -V')).code).toBe(0);
  writeInventory(undefined);
});

afterAll(async () => {
  if (nftHidden) await cluster.sh('node2', 'umount /usr/sbin').catch(() => undefined);
  await cluster?.down();
});

test('with no policies declared, a node without nft deploys and verifies fine', async () => {
  await deploy();
  const state = await cluster.terraform(['state', 'list']);
  expect(state.stdout).not.toMatch(/calico_policy_ruleset/);
  const verify = await cluster.calicoNet(['verify']);
  if (verify.code !== 0) throw new Error(describeCommand(verify));
  expect(await table('node1')).toBe('');
  expect(await table('node2')).toBe('');
});

test('policies declared, node2 without nft: the deploy fails naming node2, node1 is enforced, the next plan plans node2 again', async () => {
  writeInventory(POLICIES);
  const d = await cluster.deploy();
  expect(d.code).not.toBe(0);
  const output = `${d.stdout}\n${d.stderr}`;
  expect(output).toMatch(wordsOf('node node2 has no nft command (Debian package nftables)'));
  expect(output).not.toMatch(/node node1 has no nft/);
  expect(await table('node1')).toMatch(/^table inet calico-net \{\n\tcomment "calico-net network policy; /);
  // Nothing half-applied on node2: no table at all.
  expect(await table('node2')).toBe('');

  const plan = await cluster.plan();
  expect(plan.code).toBe(2);
  expect(plan.stdout).toMatch(/# calico_policy_ruleset\.cluster_node2_\S+ will be created/);
  expect(plan.stdout).not.toMatch(/calico_policy_ruleset\.cluster_node1_\S+ will be/);
  expect(plan.stdout).toMatch(/Plan: 1 to add, 0 to change, 0 to destroy/);
});

test('nft back on node2: the next deploy loads its ruleset', async () => {
  const r = await cluster.sh('node2', 'umount /usr/sbin');
  if (r.code !== 0) throw new Error(describeCommand(r));
  nftHidden = false;
  expect(await hasNft('node2')).toBe(true);
  await deploy();
  expect(await table('node2')).toMatch(/^table inet calico-net \{\n\tcomment "calico-net network policy; /);
  expect(await table('node2')).toMatch(/udp dport 5353 accept/);
});

interface JsonCell {
  src: string;
  dst: string;
  probe: string;
  expected: string;
  observed: string;
}

test('calico-net verify observes the allowed and the denied UDP ports as the model decides them', async () => {
  const verify = await cluster.calicoNet(['verify', '--format', 'json']);
  const report = JSON.parse(verify.stdout) as { ok: boolean; probes: string[]; cells: JsonCell[] };
  expect(report.probes).toEqual(['ICMP', 'UDP/5353', 'UDP/5354']);
  // The expected column is the compiled model's, computed here on our own.
  const model = compilePolicyModel(
    parseInventory(fs.readFileSync(cluster.lab.inventoryPath, 'utf8'), cluster.lab.inventoryPath),
  )!;
  const mine = expectedCells(model, probesOf(model));
  // An IPv4-only cluster's JSON cells carry no family (as before IPv6 cells); the planned ones do.
  expect(report.cells.map(({ observed: _o, ...c }) => c)).toEqual(mine.map(({ family: _f, ...c }) => c));
  expect(report.cells.filter((c) => c.expected !== c.observed)).toEqual([]);
  const cell = (src: string, dst: string, probe: string) =>
    report.cells.find((c) => c.src === src && c.dst === dst && c.probe === probe);
  expect(cell('client', 'server', 'UDP/5353')).toMatchObject({ expected: 'allow', observed: 'allow' });
  expect(cell('client', 'server', 'UDP/5354')).toMatchObject({ expected: 'deny', observed: 'deny' });
  expect(cell('other', 'server', 'UDP/5353')).toMatchObject({ expected: 'deny', observed: 'deny' });
  expect(cell('client', 'server', 'ICMP')).toMatchObject({ expected: 'allow', observed: 'allow' });
  // No policy selects client or other: open both ways, UDP included.
  expect(cell('server', 'client', 'UDP/5354')).toMatchObject({ expected: 'allow', observed: 'allow' });
  expect(cell('other', 'client', 'UDP/5353')).toMatchObject({ expected: 'allow', observed: 'allow' });
  expect(report.ok).toBe(true);
  expect(verify.code).toBe(0);
});

/** Logs every datagram to 5353 and 5354 in server's namespace as "port payload" lines. */
const RECEIVER = `use IO::Socket::INET; use IO::Select; $| = 1;
my %port; my $sel = IO::Select->new;
for (@ARGV) { my $s = IO::Socket::INET->new(LocalAddr => "0.0.0.0", LocalPort => $_, Proto => "udp") or die "port $_: $!"; $sel->add($s); $port{$s} = $_ }
alarm(120);
while (1) { for my $s ($sel->can_read) { my $m; $s->recv($m, 64); chomp $m; print "$port{$s} $m\\n" } }`;

test('independently of verify: real datagrams from the namespaces, the denied dropped, the allowed received', async () => {
  const log = '/run/e2e-udp-received';
  const start = await cluster.sh(
    'node2',
    `ip netns exec server setsid perl -e '${RECEIVER}' 5353 5354 </dev/null >${log} 2>&1 & echo $!`,
  );
  if (start.code !== 0) throw new Error(describeCommand(start));
  const pid = start.stdout.trim();
  try {
    const send = (from: string, port: number, payload: string) =>
      cluster.sh(
        'node1',
        `for i in 1 2 3; do ip netns exec ${from} bash -c 'echo ${payload} > /dev/udp/${SERVER.ip}/${port}'; done`,
      );
    // The receiver is up once it has sockets bound on both ports.
    const deadline = Date.now() + 10_000;
    const bound = async () => (await cluster.sh('node2', 'ip netns exec server ss -Hlun')).stdout;
    for (let ss = await bound(); !/:5353\b/.test(ss) || !/:5354\b/.test(ss); ss = await bound()) {
      if (Date.now() > deadline) throw new Error('the UDP receiver did not come up');
      await new Promise((r) => setTimeout(r, 200));
    }
    // The denied ones first: by the time the allowed one (sent after them) has arrived, they
    // would have too.
    expect((await send('client', 5354, 'client-5354')).code).toBe(0);
    expect((await send('other', 5353, 'other-5353')).code).toBe(0);
    expect((await send('client', 5353, 'client-5353')).code).toBe(0);
    let received = '';
    const until = Date.now() + 10_000;
    while (!received.includes('5353 client-5353') && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 200));
      received = (await cluster.sh('node2', `cat ${log}`)).stdout;
    }
    await new Promise((r) => setTimeout(r, 1000));
    received = (await cluster.sh('node2', `cat ${log}`)).stdout;
    const lines = received.trim().split('\n');
    expect(lines).toContain('5353 client-5353');
    // Nothing else arrived: not client's datagrams to 5354 (Deny), not other's to 5353 (no rule).
    expect(lines.filter((l) => l !== '5353 client-5353')).toEqual([]);
  } finally {
    await cluster.exec('node2', ['kill', pid]);
  }
});

test('the UDP probe can fail: a port without a listener and a dropped datagram are reported denied', async () => {
  // Listeners that echo, as verify starts them: server on 5353 and 5354, client on 5353 only.
  const listener = (node: string, netns: string, ports: string) =>
    cluster.sh(
      node,
      `ip netns exec ${netns} setsid perl -e 'use IO::Socket::INET; my @s = map { IO::Socket::INET->new(LocalAddr => "0.0.0.0", LocalPort => $_, Proto => "udp") or die } split /,/, $ARGV[0]; use IO::Select; my $sel = IO::Select->new(@s); alarm(60); while (1) { for my $s ($sel->can_read) { my $m; my $p = $s->recv($m, 64); $s->send($m, 0, $p) } }' ${ports} </dev/null >/dev/null 2>&1 & echo $!`,
    );
  const started = [
    { node: 'node2', r: await listener('node2', 'server', '5353,5354') },
    { node: 'node1', r: await listener('node1', 'client', '5353') },
  ];
  try {
    await new Promise((r) => setTimeout(r, 500));
    const probe = async (node: string, from: string, lines: string[]) => {
      const r = await cluster.hostOf(node).run(proberScript(from, lines));
      if (r.code !== 0) throw new Error(`prober: ${r.stderr}`);
      return Object.fromEntries(
        r.stdout
          .trim()
          .split('\n')
          .map((l) => l.split(' ')),
      );
    };
    expect(
      await probe('node1', 'client', [
        `0 UDP ${SERVER.ip} 5353`, // allowed, listener: echoed
        `1 UDP ${SERVER.ip} 5354`, // listener, but the datagram is dropped by policy
      ]),
    ).toEqual({ 0: 'allow', 1: 'deny' });
    expect(
      await probe('node2', 'server', [
        `0 UDP 198.19.1.2 5353`, // open (no policy selects client), listener
        `1 UDP 198.19.1.2 5999`, // open, no listener: the kernel answers port unreachable
        `2 UDP 198.19.1.3 5353`, // open, no listener in other
      ]),
    ).toEqual({ 0: 'allow', 1: 'deny', 2: 'deny' });
  } finally {
    for (const s of started)
      if (/^\d+$/.test(s.r.stdout.trim())) await cluster.exec(s.node, ['kill', s.r.stdout.trim()]);
  }
});

test('a UDP rule deleted by hand: verify fails on exactly the cell it breaks', async () => {
  const listing = await cluster.exec('node2', ['nft', '-a', 'list', 'chain', 'inet', 'calico-net', 'pi_server']);
  const handle = /udp dport 5353 accept # handle (\d+)/.exec(listing.stdout)?.[1];
  if (!handle) throw new Error(`no UDP 5353 rule in:\n${listing.stdout}`);
  const del = await cluster.exec('node2', [
    'nft',
    'delete',
    'rule',
    'inet',
    'calico-net',
    'pi_server',
    'handle',
    handle,
  ]);
  expect(del.code).toBe(0);
  const verify = await cluster.calicoNet(['verify', '--format', 'json']);
  expect(verify.code).toBe(1);
  const report = JSON.parse(verify.stdout) as { ok: boolean; cells: JsonCell[] };
  expect(report.ok).toBe(false);
  expect(report.cells.filter((c) => c.expected !== c.observed)).toEqual([
    { src: 'client', dst: 'server', probe: 'UDP/5353', expected: 'allow', observed: 'deny' },
  ]);
});
