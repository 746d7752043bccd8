/**
 * Issue 11's "nothing silently wrong" cases on a 2-node lab: Terraform template syntax in
 * passwords and paths reaches the host byte-exact; the BGP password never shows in any output
 * while the host's bird.conf has it; drift, status and verify fail naming a node they could not
 * read; node addresses that cannot work are refused at synth; the CI example's apply job goes
 * red when terraform is killed mid-apply (cdktf itself exits 0 then).
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { operatorExec, startSshd, stopSshd } from '../../lab';
import { cdktfBinary } from '../../cli/operator-project';
import { packageRoot } from '../../providers/package-root';
import { CommandResult, describeCommand, E2eCluster } from './cluster';

let cluster: E2eCluster;
const cli = path.join(packageRoot(), 'bin', 'calico-net.js');

// Every Terraform template form at once: interpolation, escaped interpolation, directive,
// escaped directive, and an unterminated one (which Terraform's parser rejects unescaped).
const SECRET = 'Md5-ab${path.module}cd$${x}%{if}%%{y}${zz';
const ODD_PATH = '/etc/bird/odd-${path.module}-$${x}-%{endif}-%%{y}.conf';

function editInventory(edit: (inv: any) => void): void {
  const inv = parseYaml(fs.readFileSync(cluster.lab.inventoryPath, 'utf8'));
  edit(inv);
  fs.writeFileSync(cluster.lab.inventoryPath, toYaml(inv));
}

function all(...results: CommandResult[]): string {
  return results.map((r) => r.stdout + r.stderr).join('\n');
}

let peerPidFile = '';

/**
 * The external peer: a BIRD of its own in the operator's namespace, AS 65000, with the same
 * TCP-MD5 password, talking to node2 (whose bird.conf we deploy at the default path).
 */
async function startExternalPeer(): Promise<void> {
  const dir = path.join(cluster.root, 'peer');
  fs.mkdirSync(dir, { recursive: true });
  const conf = path.join(dir, 'bird.conf');
  peerPidFile = path.join(dir, 'bird.pid');
  fs.writeFileSync(
    conf,
    [
      `router id ${cluster.lab.operator.address};`,
      'protocol device {}',
      'protocol bgp node2 {',
      `  local ${cluster.lab.operator.address} as 65000;`,
      `  neighbor ${cluster.address('node2')} as 64512;`,
      `  password "${SECRET}";`,
      '  ipv4 { import none; export none; };',
      '}',
      '',
    ].join('\n'),
  );
  const r = await operatorExec(cluster.lab, ['bird', '-c', conf, '-s', path.join(dir, 'bird.ctl'), '-P', peerPidFile]);
  if (r.code !== 0) throw new Error(`external peer bird did not start: ${describeCommand(r)}`);
}

/** node2's session to the external peer once it is (or, with `up` false, is no longer) Established. */
async function peerSessionOnNode2(up = true): Promise<string> {
  const protocol = `Global_${cluster.lab.operator.address.replace(/\./g, '_')}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const row = (await cluster.sessions('node2')).find((s) => s.protocol === protocol);
    if (!!row?.established === up || Date.now() > deadline) return row ? `${row.info} (${row.state})` : 'missing';
    await new Promise((r) => setTimeout(r, 500));
  }
}

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: 27, nodes: 2, asMode: 'ibgp' });
  // The external peer with the hostile password, and node1's file at a path full of template syntax.
  editInventory((inv) => {
    inv.peers = [{ address: cluster.lab.operator.address, asNumber: 65000, password: SECRET }];
    inv.nodes[0].birdConfigPath = ODD_PATH;
  });
  await startExternalPeer();
});

afterAll(async () => {
  if (peerPidFile && fs.existsSync(peerPidFile)) {
    const pid = Number(fs.readFileSync(peerPidFile, 'utf8').trim());
    if (pid > 0) process.kill(pid, 'SIGTERM');
  }
  await cluster?.down();
});

test('template syntax reaches the host byte-exact; the secret shows in no output, only in the file', async () => {
  const deploy = await cluster.deploy();
  if (deploy.code !== 0) throw new Error(describeCommand(deploy));

  const onNode2 = await cluster.exec('node2', ['cat', '/etc/bird/bird.conf']);
  expect(onNode2.stdout).toContain(`password "${SECRET}";`);
  const onNode1 = await cluster.exec('node1', ['cat', ODD_PATH]);
  expect(onNode1.code).toBe(0);
  expect(onNode1.stdout).toContain(`password "${SECRET}";`);
  // TCP-MD5 works in this kernel: the session only comes up when both ends use the same key.
  expect(await peerSessionOnNode2()).toMatch(/^Established/);

  const plan = await cluster.plan();
  expect(plan.code).toBe(0);
  const mdDrift = await cluster.calicoNet(['drift', '--format', 'md']);
  expect(mdDrift.code).toBe(0);
  const jsonDrift = await cluster.calicoNet(['drift', '--format', 'json', '--skip-synth']);
  expect(jsonDrift.code).toBe(0);
  const synthesized = fs.readFileSync(path.join(cluster.stackDir, 'cdk.tf.json'), 'utf8');
  const content = JSON.parse(synthesized).resource.calico_bird_config;
  expect(JSON.stringify(content)).toContain('<<calico-secret:Global_');
  for (const out of [all(deploy, plan, mdDrift, jsonDrift)]) {
    expect(out).not.toContain(SECRET);
    expect(out).not.toContain('Md5-ab');
  }

  // A password changed by hand: a change in plan and drift, the new value shown nowhere.
  const handMade = 'HandMade-Secret-42';
  expect(
    (await cluster.sh('node2', `sed -i 's|password ".*";|password "${handMade}";|' /etc/bird/bird.conf`)).code,
  ).toBe(0);
  const drifted = await cluster.calicoNet(['drift', '--format', 'json']);
  expect(drifted.code).toBe(2);
  expect(JSON.parse(drifted.stdout).resources.map((r: any) => [r.node, r.type])).toEqual([
    ['node2', 'calico_bird_config'],
  ]);
  const driftedPlan = await cluster.plan();
  expect(driftedPlan.code).toBe(2);
  for (const out of [all(drifted, driftedPlan)]) {
    expect(out).not.toContain(handMade);
    expect(out).not.toContain('Md5-ab');
  }
  // The key is really checked: with the hand-made password loaded, the session goes down.
  expect((await cluster.exec('node2', ['birdc', '-s', '/run/bird/bird.ctl', 'configure'])).code).toBe(0);
  expect(await peerSessionOnNode2(false)).not.toMatch(/^Established/);

  const repair = await cluster.deploy();
  if (repair.code !== 0) throw new Error(describeCommand(repair));
  expect(all(repair)).not.toContain('Md5-ab');
  expect(await peerSessionOnNode2()).toMatch(/^Established/);
  expect((await cluster.exec('node2', ['cat', '/etc/bird/bird.conf'])).stdout).toContain(`password "${SECRET}";`);
  expect((await cluster.plan()).code).toBe(0);
});

test('a node that cannot be read: drift, status and verify fail naming it', async () => {
  await stopSshd(cluster.lab, 'node2');
  try {
    const md = await cluster.calicoNet(['drift', '--format', 'md']);
    expect(md.code).toBe(1);
    expect(md.stdout).not.toMatch(/No drift: every host/);
    expect(md.stdout).toMatch(/could not be read/);
    expect(md.stdout).toMatch(/- `node2`: Cannot reach node node2/);
    const js = await cluster.calicoNet(['drift', '--format', 'json', '--skip-synth']);
    expect(js.code).toBe(1);
    const report = JSON.parse(js.stdout);
    expect(report.unreadable.map((u: any) => u.node)).toEqual(['node2']);
    expect(report.unreadable[0].reason).toMatch(/Cannot reach node node2/);

    const status = await cluster.calicoNet(['status', '--format', 'json']);
    expect(status.code).toBe(1);
    const node2 = JSON.parse(status.stdout).nodes.find((n: any) => n.node === 'node2');
    expect(node2.error).toBeTruthy();
    const verify = await cluster.calicoNet(['verify']);
    expect(verify.code).toBe(1);
    expect(all(verify)).toMatch(/node2/);
  } finally {
    await startSshd(cluster.lab, 'node2');
  }
  expect((await cluster.calicoNet(['drift'])).code).toBe(0);
});

test('node and peer addresses that cannot work are refused at synth, each named', async () => {
  const saved = fs.readFileSync(cluster.lab.inventoryPath, 'utf8');
  try {
    editInventory((inv) => {
      inv.nodes[0].address = '127.0.0.1';
      inv.nodes[1].address = '169.254.7.7';
      inv.peers[0].address = '224.0.0.5';
    });
    const synth = await cluster.cdktf(['synth']);
    expect(synth.code).not.toBe(0);
    const out = all(synth);
    expect(out).toMatch(/"node1"\.address: 127\.0\.0\.1 is a loopback address/);
    expect(out).toMatch(/"node2"\.address: 169\.254\.7\.7 is a link-local address/);
    expect(out).toMatch(/peers\[0\]\.address: 224\.0\.0\.5 is a multicast address/);
  } finally {
    fs.writeFileSync(cluster.lab.inventoryPath, saved);
  }
});

/** The `run:` scripts of the example's apply job, in order, as a runner would execute them. */
function applyJobScripts(): string[] {
  const workflow = parseYaml(fs.readFileSync(path.join(packageRoot(), 'examples', 'ci', 'github-actions.yml'), 'utf8'));
  return (workflow.jobs.apply.steps as { run?: string }[]).filter((s) => s.run).map((s) => s.run!);
}

/** terraform processes running `apply` in our stack directory (found by pid, never by name). */
function terraformApplyPids(): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (!/terraform$/.test(argv[0]) || !argv.includes('apply')) continue;
      if (fs.readlinkSync(`/proc/${entry}/cwd`) === cluster.stackDir) pids.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return pids;
}

test("the CI example's apply job goes red when terraform is killed mid-apply", async () => {
  // Changes on both nodes, so the apply has work to do when it is killed.
  for (const node of cluster.nodeNames)
    expect((await cluster.exec(node, ['sysctl', '-w', 'net.ipv4.ip_forward=0'])).code).toBe(0);
  const scripts = applyJobScripts();
  expect(scripts.length).toBeGreaterThanOrEqual(2);
  const env = {
    ...cluster.env,
    CALICO_STACK: cluster.stackName,
    PATH: `${path.dirname(cdktfBinary())}:${process.env.PATH}`,
  };

  let killed = 0;
  const killer = (async () => {
    for (let i = 0; i < 6000 && killed === 0; i++) {
      for (const pid of terraformApplyPids()) {
        process.kill(pid, 'SIGKILL');
        killed = pid;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();

  // As GitHub runs a job: each step in `bash -e`, the job stops (red) at the first failing step.
  const steps: CommandResult[] = [];
  for (const script of scripts) {
    // `npx cdktf` / `npx calico-net` resolve to this checkout's binaries.
    const local = script.replace(/npx cdktf/g, cdktfBinary()).replace(/npx calico-net/g, `${process.execPath} ${cli}`);
    const r = await operatorExec(cluster.lab, ['bash', '-e', '-c', local], { cwd: cluster.projectDir, env });
    steps.push(r);
    if (r.code !== 0) break;
  }
  await killer;
  expect(killed).toBeGreaterThan(0);
  // cdktf reports success for the killed deploy; the confirmation step is what turns it red.
  expect(steps[0].code).toBe(0);
  expect(steps.length).toBe(2);
  expect(steps[1].code).not.toBe(0);
  expect(all(steps[1])).toMatch(/did not converge/);

  const repair = await cluster.deploy();
  if (repair.code !== 0) throw new Error(describeCommand(repair));
  expect((await cluster.plan()).code).toBe(0);
});
