/**
 * Network policy end to end (lab 60: two nodes, real cdktf + terraform + our provider over SSH,
 * real bird, nft and kernel). The three-tier app:
 *
 *   node1: front (role=front), db (role=db)       node2: api (role=api), other (no labels)
 *   - api:  ingress Allow TCP 8080 from role == 'front'
 *   - db:   ingress Allow TCP 5432 from role == 'api'; everything else to db is dropped
 *   - no-lab-net: front's egress to 198.18.60.0/24 (the nodes' network) denied, the rest allowed
 *
 * Every cell (source workload → destination workload, TCP 8080 and 5432, each destination
 * running a listener on both for the run) is probed on the wire and compared with the verdict
 * of the compiled model (packetVerdict, the one statement of the semantics).
 * Then: a policy edit flips exactly the cells it should; a rule deleted by hand and a flushed
 * ruleset show in plan and `calico-net drift` and the next deploy repairs them; a foreign table
 * of our name is refused, naming the node, and left alone; dropping the policies removes every
 * table and opens every pair; destroy leaves no table.
 */
import * as fs from 'fs';
import * as path from 'path';
import { compilePolicyModel, packetVerdict } from '../../constructs/policy-compile';
import { parseInventory } from '../../stacks/inventory';
import { deployToEmptyPlan, writePolicyInventory } from '../support/policy-inventory';
import { describeCommand, E2eCluster } from './cluster';

jest.setTimeout(600_000);

let cluster: E2eCluster;
const NODES = ['node1', 'node2'];
const WORKLOADS = [
  { node: 'node1', name: 'front', ip: '198.19.1.2', labels: { role: 'front' } },
  { node: 'node1', name: 'db', ip: '198.19.1.3', labels: { role: 'db' } },
  { node: 'node2', name: 'api', ip: '198.19.2.2', labels: { role: 'api' } },
  { node: 'node2', name: 'other', ip: '198.19.2.3', labels: undefined },
];
const PORTS = [8080, 5432];
const POLICIES = [
  {
    name: 'api',
    selector: "role == 'api'",
    ingress: [
      { action: 'Allow', protocol: 'TCP', source: { selector: "role == 'front'" }, destination: { ports: [8080] } },
    ],
  },
  {
    name: 'db',
    order: 10,
    selector: "role == 'db'",
    ingress: [
      { action: 'Allow', protocol: 'TCP', source: { selector: "role == 'api'" }, destination: { ports: [5432] } },
    ],
  },
  {
    name: 'no-lab-net',
    order: 20,
    selector: "role == 'front'",
    egress: [{ action: 'Deny', destination: { nets: ['198.18.60.0/24'] } }, { action: 'Allow' }],
  },
];
const listeners: { node: string; pid: number }[] = [];

const writeInventory = (policies: unknown[] | undefined) => writePolicyInventory(cluster, WORKLOADS, policies);
const deploy = () => deployToEmptyPlan(cluster);

async function table(node: string): Promise<string> {
  const r = await cluster.exec(node, ['nft', 'list', 'table', 'inet', 'calico-net']);
  return r.code === 0 ? r.stdout : '';
}

const LISTENER = `use IO::Socket::INET; use IO::Select;
my $s = IO::Select->new(map { IO::Socket::INET->new(LocalAddr => "0.0.0.0", LocalPort => $_, Listen => 64, ReuseAddr => 1) or die "port $_: $!" } @ARGV);
while (1) { for my $l ($s->can_read) { my $c = $l->accept; close $c if $c } }`;

/** A TCP listener on every port in each workload's namespace, for the run. */
async function startListeners(): Promise<void> {
  for (const w of WORKLOADS) {
    const r = await cluster.sh(
      w.node,
      `ip netns exec ${w.name} setsid perl -e '${LISTENER}' ${PORTS.join(' ')} </dev/null >/dev/null 2>&1 & echo $!`,
    );
    if (r.code !== 0) throw new Error(describeCommand(r));
    listeners.push({ node: w.node, pid: Number(r.stdout.trim()) });
  }
  // Every listener is up before the first probe (each answers on the pod's own address).
  for (const w of WORKLOADS) {
    for (const port of PORTS) {
      const deadline = Date.now() + 10_000;
      while ((await probeFrom(w.node, w.name, [`${w.ip} ${port}`]))[0] !== 'open') {
        if (Date.now() > deadline) throw new Error(`listener of ${w.name} on ${port} did not come up`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
}

async function stopListeners(): Promise<void> {
  for (const l of listeners.splice(0)) await cluster.exec(l.node, ['kill', String(l.pid)]);
}

/**
 * Connects from a workload's namespace to each "ip port" target, all at once: "open" when the
 * connection was established within 2 s, else "closed" (a dropped SYN times out).
 */
async function probeFrom(node: string, workload: string, targets: string[]): Promise<string[]> {
  const script = `ip netns exec "$1" bash -c '
i=0
while read -r ip port; do
  ( if timeout 2 bash -c "exec 3<>/dev/tcp/$ip/$port" 2>/dev/null; then echo "$i open"; else echo "$i closed"; fi ) &
  i=$((i + 1))
done
wait'`;
  const r = await cluster.exec(node, ['bash', '-c', script, 'probe', workload], targets.join('\n') + '\n');
  if (r.code !== 0) throw new Error(describeCommand(r));
  const out: string[] = [];
  for (const line of r.stdout.trim().split('\n')) {
    const [i, v] = line.split(' ');
    out[Number(i)] = v;
  }
  return out;
}

type Matrix = Record<string, 'open' | 'closed'>;

/**
 * Every ordered pair of distinct workloads, on every port: observed on the wire. A cell that
 * did not connect is probed once more before it counts as closed (a loaded machine can miss the
 * 2 s connect window; a dropped SYN never connects, however often it is sent).
 */
async function observed(): Promise<Matrix> {
  const once = await observedOnce();
  const retry = await observedOnce();
  return Object.fromEntries(
    Object.entries(once).map(([k, v]) => [k, v === 'open' || retry[k] === 'open' ? 'open' : 'closed']),
  ) as Matrix;
}

async function observedOnce(): Promise<Matrix> {
  const results = await Promise.all(
    WORKLOADS.map(async (src) => {
      const cells = WORKLOADS.filter((d) => d !== src).flatMap((d) =>
        PORTS.map((p) => ({ key: `${src.name}->${d.name}:${p}`, target: `${d.ip} ${p}` })),
      );
      const v = await probeFrom(
        src.node,
        src.name,
        cells.map((c) => c.target),
      );
      return cells.map((c, i) => [c.key, v[i]] as const);
    }),
  );
  return Object.fromEntries(results.flat()) as Matrix;
}

/** The same cells as the compiled model of the current inventory decides them. */
function expected(): Matrix {
  const model = compilePolicyModel(
    parseInventory(fs.readFileSync(cluster.lab.inventoryPath, 'utf8'), cluster.lab.inventoryPath),
  );
  const out: Matrix = {};
  for (const src of WORKLOADS) {
    for (const d of WORKLOADS.filter((x) => x !== src)) {
      for (const port of PORTS) {
        const allow = !model || packetVerdict(model, { src: src.ip, dst: d.ip, protocol: 6, port }).action === 'Allow';
        out[`${src.name}->${d.name}:${port}`] = allow ? 'open' : 'closed';
      }
    }
  }
  return out;
}

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: 60, nodes: 2, workloadsPerNode: 2 });
  for (const node of NODES) {
    // A policy suite without nft proves nothing: it fails, it never skips.
    const nft = await cluster.sh(node, 'command -v nft');
    if (nft.code !== 0) throw new Error('nft is missing (Debian package nftables): see scripts/prerequisites.json');
    expect(await table(node)).toBe('');
  }
  writeInventory(POLICIES);
});

afterAll(async () => {
  if (cluster) await stopListeners();
  await cluster?.down();
});

let first: Matrix;
/** The truth table of the policies deployed now. */
let current: Matrix;

test('deploy: every node holds our marked table; the truth table holds on the wire', async () => {
  await deploy();
  for (const node of NODES)
    expect(await table(node)).toMatch(/^table inet calico-net \{\n\tcomment "calico-net network policy; /);
  await startListeners();
  first = await observed();
  expect(first).toEqual(expected());
  // The cells the three-tier app is about, spelled out.
  expect(first).toMatchObject({
    'front->api:8080': 'open',
    'front->api:5432': 'closed',
    'other->api:8080': 'closed',
    'api->db:5432': 'open',
    'api->db:8080': 'closed',
    'front->db:5432': 'closed',
    'other->db:5432': 'closed',
    'db->api:8080': 'closed',
    'api->front:8080': 'open',
    'db->other:5432': 'open',
  });
  // The egress deny to a CIDR: front cannot reach node2's sshd; api (no egress policy) can.
  expect(await probeFrom('node1', 'front', ['198.18.60.2 22'])).toEqual(['closed']);
  expect(await probeFrom('node2', 'api', ['198.18.60.2 22'])).toEqual(['open']);
  // The node's own traffic is untouched: the operator reaches every node's sshd (deploy did too).

  // calico-net verify: the same truth table, probed by the CLI over SSH (ICMP and the policies' ports).
  const verify = await cluster.calicoNet(['verify', '--format', 'json']);
  const report = JSON.parse(verify.stdout);
  expect(report.probes).toEqual(['ICMP', 'TCP/5432', 'TCP/8080']);
  expect(report.cells.filter((c: { expected: string; observed: string }) => c.expected !== c.observed)).toEqual([]);
  expect(report.cells).toContainEqual({ src: 'front', dst: 'api', probe: 'ICMP', expected: 'deny', observed: 'deny' });
  expect(report.cells).toContainEqual({
    src: 'api',
    dst: 'db',
    probe: 'TCP/5432',
    expected: 'allow',
    observed: 'allow',
  });
  expect(verify.code).toBe(0);
  const verifyTable = await cluster.calicoNet(['verify']);
  expect(verifyTable.stdout).toContain('all 36 cells agree');
  expect(verifyTable.code).toBe(0);
});

test('a policy edit changes exactly the cells it should', async () => {
  const edited = structuredClone(POLICIES) as any[];
  edited[1].ingress.push({
    action: 'Allow',
    protocol: 'TCP',
    source: { selector: "role == 'front'" },
    destination: { ports: [5432] },
  });
  writeInventory(edited);
  await deploy();
  const now = await observed();
  expect(now).toEqual(expected());
  const changed = Object.keys(now).filter((k) => now[k] !== first[k]);
  expect(changed).toEqual(['front->db:5432']);
  // The edited policies stay for the tests below (one deploy less).
  current = now;
});

test('a rule deleted by hand: plan and calico-net drift show it, the next deploy repairs it', async () => {
  const listing = await cluster.exec('node1', ['nft', '-a', 'list', 'chain', 'inet', 'calico-net', 'pi_db']);
  const handle = /tcp dport 5432 accept # handle (\d+)/.exec(listing.stdout)?.[1];
  expect(handle).toBeDefined();
  expect(
    (await cluster.exec('node1', ['nft', 'delete', 'rule', 'inet', 'calico-net', 'pi_db', 'handle', handle!])).code,
  ).toBe(0);
  expect((await probeFrom('node2', 'api', ['198.19.1.3 5432']))[0]).toBe('closed');

  const plan = await cluster.plan();
  expect(plan.code).toBe(2);
  expect(plan.stdout).toMatch(/# calico_policy_ruleset\.\S+ will be updated in-place/);
  expect(plan.stdout).toMatch(/\+\s+ip saddr @s_[0-9a-f]+ tcp dport 5432 accept/);
  expect(plan.stdout).toMatch(/Plan: 0 to add, 1 to change, 0 to destroy/);

  const json = path.join(cluster.root, 'drift.json');
  const drift = await cluster.calicoNet(['drift', '--format', 'json', '--skip-synth', '--out', json]);
  if (drift.code !== 2) throw new Error(`calico-net drift: ${describeCommand(drift)}`);
  const report = JSON.parse(fs.readFileSync(json, 'utf8'));
  expect(report.resources).toEqual([expect.objectContaining({ node: 'node1', type: 'calico_policy_ruleset' })]);
  const attr = report.resources[0].attributes.find((a: { path: string }) => a.path === 'table');
  // Expected (the last apply's listing) against the host: the deleted rule is a "-" line.
  expect(attr.diff).toMatch(/\n-\s+ip saddr @s_[0-9a-f]+ tcp dport 5432 accept/);

  await deploy();
  expect(await observed()).toEqual(current);
});

test('nft flush ruleset by hand: shown, then repaired', async () => {
  expect((await cluster.exec('node2', ['nft', 'flush', 'ruleset'])).code).toBe(0);
  expect((await probeFrom('node1', 'front', ['198.19.2.2 5432']))[0]).toBe('open');
  const plan = await cluster.plan();
  expect(plan.code).toBe(2);
  expect(plan.stdout).toMatch(/# calico_policy_ruleset\.cluster_node2_\S+ will be updated in-place/);
  expect(plan.stdout).toMatch(/\+ owner\s+= "calico-net"/);
  expect(plan.stdout).toMatch(/Plan: 0 to add, 1 to change, 0 to destroy/);
  await deploy();
  expect(await observed()).toEqual(current);
});

test('a foreign table of our name is refused, naming the node, and left alone', async () => {
  const foreign = 'table inet calico-net {\n\tcomment "made by hand"\n\tchain keep {\n\t}\n}\n';
  const r = await cluster.exec('node2', ['bash', '-c', 'nft delete table inet calico-net && nft -f -'], foreign);
  expect(r.code).toBe(0);
  const before = await table('node2');
  expect(before).toContain('made by hand');

  const plan = await cluster.plan();
  expect(plan.code).toBe(2);
  expect(plan.stdout).toMatch(/~ owner\s+= "not calico-net" -> "calico-net"/);
  const d = await cluster.deploy();
  // Terraform may wrap the message: words separated by any white space.
  const words = 'node node2 already has a table inet calico-net that calico-net did not create'.split(' ');
  expect(`${d.stdout}\n${d.stderr}`).toMatch(new RegExp(words.join('\\s+')));
  expect(await table('node2')).toBe(before);

  expect((await cluster.exec('node2', ['nft', 'delete', 'table', 'inet', 'calico-net'])).code).toBe(0);
  await deploy();
  expect(await observed()).toEqual(current);
});

test('no policies any more: every table goes and every pair is open again; destroy leaves no table', async () => {
  writeInventory(undefined);
  await deploy();
  for (const node of NODES) expect(await table(node)).toBe('');
  const open = await observed();
  expect(Object.values(open).every((v) => v === 'open')).toBe(true);
  expect(await probeFrom('node1', 'front', ['198.18.60.2 22'])).toEqual(['open']);

  writeInventory(POLICIES);
  await deploy();
  expect(await observed()).toEqual(first);
  await stopListeners();
  const destroy = await cluster.destroy();
  if (destroy.code !== 0) throw new Error(describeCommand(destroy));
  for (const node of NODES) expect(await table(node)).toBe('');
});
