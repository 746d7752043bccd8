/**
 * The ssh2 pool against a real sshd (a lab node): passphrase-protected keys, ssh-agent, and a
 * non-root login that works through `sudo -n`; and the long-lived remote shell: many scripts
 * over one exec, arbitrary bytes in and out, isolation between scripts, restarts, aborts. The
 * pool runs in the operator namespace (the only place the node is reachable from), in a small
 * node program that prints one JSON answer.
 */
import { ChildProcess, spawn } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { labDown, labUp, missingPrerequisites, nodeExec, operatorExec, LabInfo } from '../../lab';
import { run, waitFor } from '../../lab/process';
import { SNAPSHOT_SECTIONS } from '../../providers/calico';
import { birdConfigSection } from '../../providers/calico/bird-config';
import { newMarkKey, parseSnapshot, snapshotScript } from '../../providers/calico/host-snapshot';
import { hostIpSection } from '../../providers/calico/ip-output';
import { nodeSection } from '../../providers/calico/node';
import { packageRoot } from '../../providers/package-root';
import type { ProbeAnswer as PlanAnswer, ProbePlan, ProbeResult } from '../support/pool-probe';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-pooltest-'));
// sshd reads a user's authorized keys (the lab's .pub file) as that user.
fs.chmodSync(dir, 0o755);
const PASSPHRASE = 'correct horse; battery $(staple)';
const USER = 'calico-op';
/** A login without sudo rights. */
const NO_SUDO_USER = 'calico-nosudo';
let lab: LabInfo;
let node: LabInfo['nodes'][number];
let agent: ChildProcess | undefined;
const agentSocket = path.join(dir, 'agent.sock');
const encryptedKey = path.join(dir, 'id_encrypted');
const agentKey = path.join(dir, 'id_agent');
/** Every login of USER appends its command line here (USER's login shell is a counting wrapper). */
const loginLog = path.join(dir, 'logins.log');

interface ProbeAnswer {
  ok: boolean;
  code?: number;
  stdout?: string;
  stderr?: string;
  kind?: string;
  message?: string;
  /** Everything the pool logged. */
  log: string[];
}

/**
 * Runs one script on each target, in turn, through one fresh SshPool (one provider process) in
 * the operator namespace; every answer carries everything the pool logged.
 */
async function probeAll(
  targets: Record<string, unknown>[],
  script: string,
  env: NodeJS.ProcessEnv = {},
): Promise<ProbeAnswer[]> {
  const base = { host: node.address, port: 22, knownHostsPath: lab.knownHostsPath, sudo: false };
  const program = `
    const { SshPool } = require(${JSON.stringify(path.join(packageRoot(), 'dist', 'providers', 'ssh', 'pool.js'))});
    const log = [];
    const pool = new SshPool({ connectRetries: 0, connectTimeoutMs: 5000, log: (m) => log.push(m) });
    (async () => {
      const answers = [];
      for (const target of ${JSON.stringify(targets.map((t) => ({ ...base, ...t })))}) {
        answers.push(await pool.host(target, 'probe').run(${JSON.stringify(script)})
          .then((r) => ({ ok: true, ...r }), (e) => ({ ok: false, kind: e.kind, message: e.message })));
      }
      process.stdout.write(JSON.stringify(answers.map((a) => ({ ...a, log }))));
      await pool.close();
    })();`;
  const clean = { ...process.env, SSH_AUTH_SOCK: '' };
  const r = await operatorExec(lab, [process.execPath, '-e', program], { env: { ...clean, ...env } });
  if (r.code !== 0) throw new Error(`probe failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as ProbeAnswer[];
}

async function probe(
  target: Record<string, unknown>,
  script: string,
  env: NodeJS.ProcessEnv = {},
): Promise<ProbeAnswer> {
  return (await probeAll([target], script, env))[0];
}

/** Runs a plan through one pool (pool-probe.ts) as USER with the lab's key. */
async function probePlan(steps: ProbePlan['steps'], sudo = false, user = USER): Promise<PlanAnswer> {
  const plan: ProbePlan = {
    target: {
      host: node.address,
      port: 22,
      user,
      privateKeyPath: lab.clientKeyPath,
      knownHostsPath: lab.knownHostsPath,
      sudo,
    },
    steps,
  };
  const program = path.join(packageRoot(), 'dist', 'test', 'support', 'pool-probe.js');
  const r = await operatorExec(lab, [process.execPath, program], {
    input: JSON.stringify(plan),
    env: { SSH_AUTH_SOCK: '' },
  });
  if (r.code !== 0) throw new Error(`pool probe failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as PlanAnswer;
}

/** What sshd and the login shell saw: connections accepted for USER, and commands USER's shell ran. */
function serverSide(): { connections: number; execs: string[] } {
  const sshdLog = fs.readFileSync(path.join(lab.dir, node.name, 'sshd.log'), 'utf8');
  return {
    connections: sshdLog.split('\n').filter((l) => l.includes(`Accepted publickey for ${USER} `)).length,
    execs: fs.readFileSync(loginLog, 'utf8').split('\n').filter(Boolean),
  };
}

async function since<T>(fn: () => Promise<T>): Promise<[T, { connections: number; execs: string[] }]> {
  const before = serverSide();
  const result = await fn();
  const after = serverSide();
  return [
    result,
    { connections: after.connections - before.connections, execs: after.execs.slice(before.execs.length) },
  ];
}

const single = (r: ProbeResult | ProbeResult[]) => r as ProbeResult;
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

async function must(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<void> {
  const r = await run(cmd, args, { env: env ? { ...process.env, ...env } : undefined });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

/** A login user that exists only inside the node: its own passwd, group, shadow and sudoers. */
async function addNodeUser(): Promise<void> {
  const d = path.join(dir, 'etc');
  fs.mkdirSync(d);
  // USER's login shell records each command sshd hands it, then is bash.
  const countingShell = path.join(dir, 'counting-shell');
  fs.writeFileSync(
    countingShell,
    `#!/bin/bash\nprintf '%s' "$*" | tr '\\n' ' ' | head -c 120 >> ${loginLog}; echo >> ${loginLog}\nexec /bin/bash "$@"\n`,
    { mode: 0o755 },
  );
  fs.writeFileSync(loginLog, '', { mode: 0o666 });
  fs.chmodSync(loginLog, 0o666);
  const files: [string, string][] = [
    ['passwd', `${USER}:x:4242:4242::/tmp:${countingShell}\n${NO_SUDO_USER}:x:4243:4242::/tmp:/bin/bash\n`],
    ['group', `${USER}:x:4242:\n`],
    ['shadow', `${USER}:*:19000:0:99999:7:::\n${NO_SUDO_USER}:*:19000:0:99999:7:::\n`],
  ];
  for (const [name, line] of files) {
    fs.writeFileSync(path.join(d, name), fs.readFileSync(`/etc/${name}`, 'utf8') + line);
    fs.chmodSync(path.join(d, name), name === 'shadow' ? 0o640 : 0o644);
  }
  fs.writeFileSync(path.join(d, 'sudoers'), `root ALL=(ALL:ALL) ALL\n${USER} ALL=(root) NOPASSWD: ALL\n`);
  fs.chmodSync(path.join(d, 'sudoers'), 0o440);
  for (const name of ['passwd', 'group', 'shadow', 'sudoers']) {
    const r = await nodeExec(lab, node.name, ['mount', '--bind', path.join(d, name), `/etc/${name}`]);
    if (r.code !== 0) throw new Error(`bind ${name}: ${r.stderr}`);
  }
}

beforeAll(async () => {
  const missing = missingPrerequisites('lab', ['sudo', 'ssh-agent', 'ssh-add']);
  if (missing.length > 0) throw new Error(`prerequisites missing:\n  - ${missing.join('\n  - ')}`);
  lab = await labUp({ dir: path.join(dir, 'lab'), nodes: 1, id: 202 });
  node = lab.nodes[0];
  await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', PASSPHRASE, '-f', encryptedKey]);
  await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', agentKey]);
  // The lab's sshd trusts the keys listed in the lab's client .pub file.
  for (const key of [encryptedKey, agentKey])
    fs.appendFileSync(`${lab.clientKeyPath}.pub`, fs.readFileSync(`${key}.pub`));
  agent = spawn('ssh-agent', ['-D', '-a', agentSocket], { stdio: 'ignore' });
  if (!(await waitFor(async () => fs.existsSync(agentSocket), 10_000))) throw new Error('ssh-agent did not start');
  await must('ssh-add', ['-q', agentKey], { SSH_AUTH_SOCK: agentSocket });
  await addNodeUser();
});

afterAll(async () => {
  agent?.kill();
  if (lab) await labDown(lab.dir);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a passphrase-protected key opens with the passphrase from the named variable', async () => {
  const r = await probe(
    { user: 'root', privateKeyPath: encryptedKey, passphraseEnv: 'CALICO_TEST_PASSPHRASE' },
    'id -u',
    {
      CALICO_TEST_PASSPHRASE: PASSPHRASE,
    },
  );
  expect(r).toMatchObject({ ok: true, code: 0, stdout: '0\n' });
  expect(JSON.stringify(r)).not.toContain(PASSPHRASE);
});

test('one process decrypts a key once, however many hosts and users it logs in as', async () => {
  const key = { privateKeyPath: encryptedKey, passphraseEnv: 'CALICO_TEST_PASSPHRASE' };
  const answers = await probeAll(
    [
      { ...key, user: 'root' },
      { ...key, user: USER },
    ],
    'id -un',
    { CALICO_TEST_PASSPHRASE: PASSPHRASE },
  );
  expect(answers.map((a) => a.stdout)).toEqual(['root\n', `${USER}\n`]);
  const log = answers[0].log;
  expect(log.filter((l) => l.includes(': connected')).length).toBe(2);
  expect(log.filter((l) => l.startsWith(`opened private key ${encryptedKey}`)).length).toBe(1);
});

test('a wrong or missing passphrase is a login problem naming the key and variable, never echoing a secret', async () => {
  const wrong = await probe(
    { user: 'root', privateKeyPath: encryptedKey, passphraseEnv: 'CALICO_TEST_PASSPHRASE' },
    'id -u',
    {
      CALICO_TEST_PASSPHRASE: 'not the passphrase',
    },
  );
  expect(wrong).toMatchObject({ ok: false, kind: 'auth' });
  expect(wrong.message).toContain(encryptedKey);
  expect(wrong.message).toContain('CALICO_TEST_PASSPHRASE');
  expect(JSON.stringify(wrong)).not.toContain('not the passphrase');

  const unset = await probe(
    { user: 'root', privateKeyPath: encryptedKey, passphraseEnv: 'CALICO_TEST_PASSPHRASE' },
    'id -u',
  );
  expect(unset).toMatchObject({ ok: false, kind: 'auth' });
  expect(unset.message).toMatch(/CALICO_TEST_PASSPHRASE is not set/);

  const noVariable = await probe({ user: 'root', privateKeyPath: encryptedKey }, 'id -u');
  expect(noVariable).toMatchObject({ ok: false, kind: 'auth' });
  expect(noVariable.message).toMatch(/passphrase_env/);
});

test('without a key path the pool logs in through ssh-agent, and says so when there is no agent', async () => {
  const viaAgent = await probe({ user: 'root' }, 'id -u', { SSH_AUTH_SOCK: agentSocket });
  expect(viaAgent).toMatchObject({ ok: true, code: 0, stdout: '0\n' });
  const noAgent = await probe({ user: 'root' }, 'id -u');
  expect(noAgent).toMatchObject({ ok: false, kind: 'auth' });
  expect(noAgent.message).toMatch(/no private_key_path given and no ssh-agent/);
});

test('a non-root login runs scripts as root through sudo -n, and as itself without sudo', async () => {
  const key = { user: USER, privateKeyPath: lab.clientKeyPath };
  expect(await probe(key, 'id -un')).toMatchObject({ ok: true, code: 0, stdout: `${USER}\n` });
  const elevated = await probe(
    { ...key, sudo: true },
    'id -u; ip link add calico-sudo type veth peer name calico-sudo2 && ip link del calico-sudo && echo changed',
  );
  expect(elevated).toMatchObject({ ok: true, code: 0, stdout: '0\nchanged\n' });
  // The provider's own read goes through sudo the same way.
  const markKey = newMarkKey();
  const read = await probe({ ...key, sudo: true }, snapshotScript(SNAPSHOT_SECTIONS, markKey));
  expect(read).toMatchObject({ ok: true, code: 0 });
  const snapshot = parseSnapshot(read.stdout!, SNAPSHOT_SECTIONS, node.name, markKey);
  expect(snapshot.get(nodeSection).ipForward).toMatch(/^[01]$/);
  expect(snapshot.get(birdConfigSection).content).toContain(`router id ${node.address};`);
  expect(snapshot.get(hostIpSection).addresses).toContainEqual({
    dev: 'eth0',
    address: node.address,
    prefixLength: 24,
  });
  // Without sudo the same change is refused by the kernel, and the script's failure comes back.
  const plain = await probe(key, 'ip link add calico-sudo type veth peer name calico-sudo2');
  expect(plain).toMatchObject({ ok: true });
  expect(plain.code).not.toBe(0);
  expect(plain.stderr).toMatch(/Operation not permitted/);
});

test('many scripts share one connection and one exec of the remote shell', async () => {
  const scripts = Array.from({ length: 40 }, (_, i) => ({ script: `echo ${i} $(ps -o ppid= -p $PPID | tr -d ' ')` }));
  const [answer, server] = await since(() => probePlan([scripts, scripts.slice(0, 10)]));
  const all = [...(answer.results[0] as ProbeResult[]), ...(answer.results[1] as ProbeResult[])];
  expect(all.every((r) => r.ok && r.code === 0)).toBe(true);
  expect(all.map((r) => r.stdout!.split(' ')[0])).toEqual([...Array(40).keys(), ...Array(10).keys()].map(String));
  // Every script ran under the same driver shell.
  const drivers = new Set(all.map((r) => r.stdout!.trim().split(' ')[1]));
  expect(drivers.size).toBe(1);
  expect(server.connections).toBe(1);
  expect(server.execs).toHaveLength(1);
  expect(server.execs[0]).toMatch(/^-c exec bash --norc --noprofile -c/);
  expect(answer.connections).toEqual({ [`${USER}@${node.address}:22`]: 1 });
  expect(answer.shells).toEqual({ [`${USER}@${node.address}:22`]: 1 });
});

test('sudo mode: one shell as root through sudo -n, many scripts, one exec', async () => {
  const [answer, server] = await since(() =>
    probePlan(
      [
        Array.from({ length: 12 }, () => ({
          script:
            'id -u; ip link add calico-sudo type veth peer name calico-sudo2 && ip link del calico-sudo && echo changed',
        })),
      ],
      true,
    ),
  );
  for (const r of answer.results[0] as ProbeResult[])
    expect(r).toMatchObject({ ok: true, code: 0, stdout: '0\nchanged\n' });
  expect(server.connections).toBe(1);
  expect(server.execs).toHaveLength(1);
  expect(server.execs[0]).toMatch(/^-c exec sudo -n bash --norc --noprofile -c/);
});

test('arbitrary bytes: binary-ish and huge output, forged framing, stdin passed through intact, scripts beyond the argv limit', async () => {
  const fakeToken = `:calico-end:${'a'.repeat(32)}:0`;
  const stdin = `${'quotes \' " ` ${x} $(id) \\ \0 nul, ünïcödé, no newline at the end'.repeat(40_000)}`;
  const bigScript = `${Array.from({ length: 6000 }, (_, i) => `v${i}='${'y'.repeat(40)}'`).join('\n')}\necho "big script ran: \${#v5999}"\n`;
  expect(Buffer.byteLength(bigScript)).toBeGreaterThan(256 * 1024);
  const answer = await probePlan([
    { script: `printf 'a\\0b\\377c ${fakeToken}\\n:calico-start:%s:\\n' x; printf 'e\\377rr ${fakeToken}' >&2` },
    { script: 'seq 1 3000000; seq 1 200000 >&2', digest: true },
    { script: 'sha256sum | cut -d" " -f1', stdin },
    { script: 'true', stdin },
    { script: 'head -c 10 | od -An -c | tr -s " "', stdin: 'ab\ncd\0ef\tgh' },
    { script: bigScript },
    { script: 'echo still in step' },
  ]);
  const [bin, huge, digest, unread, partial, big, after] = answer.results.map(single);
  expect(bin).toMatchObject({
    ok: true,
    code: 0,
    stdout: `a\0b\uFFFDc ${fakeToken}\n:calico-start:x:\n`,
    stderr: `e\uFFFDrr ${fakeToken}`,
  });
  const seq = (n: number) => Array.from({ length: n }, (_, i) => `${i + 1}\n`).join('');
  expect(huge).toMatchObject({
    ok: true,
    code: 0,
    stdoutLength: Buffer.byteLength(seq(3000000)),
    stdoutSha256: sha256(seq(3000000)),
    stderrLength: Buffer.byteLength(seq(200000)),
  });
  expect(digest).toMatchObject({ ok: true, code: 0, stdout: `${sha256(Buffer.from(stdin, 'utf8'))}\n` });
  expect(unread).toMatchObject({ ok: true, code: 0 });
  expect(partial.stdout!.trim()).toBe('a b \\n c d \\0 e f \\t g');
  expect(big).toMatchObject({ ok: true, code: 0, stdout: 'big script ran: 40\n' });
  expect(after).toMatchObject({ ok: true, code: 0, stdout: 'still in step\n' });
  expect(Object.values(answer.shells)).toEqual([1]);
});

test('each script runs in its own process: exit, set -e, traps, cd and variables stay inside it', async () => {
  const answer = await probePlan([
    { script: 'pwd' },
    { script: `cd /; X=1; trap 'echo trapped' EXIT; set -e; echo out; echo err >&2; false; echo unreachable` },
    { script: 'exit 7' },
    { script: 'kill -9 $$' },
    { script: 'pwd; echo "${X:-unset}"; trap -p; case $- in *e*) echo errexit;; *) echo plain;; esac' },
  ]);
  const [home, errexit, exit7, killed, clean] = answer.results.map(single);
  expect(errexit).toMatchObject({ ok: true, code: 1, stdout: 'out\ntrapped\n', stderr: 'err\n' });
  expect(exit7).toMatchObject({ ok: true, code: 7, stdout: '' });
  expect(killed).toMatchObject({ ok: true, code: 137 });
  expect(clean).toMatchObject({ ok: true, code: 0, stdout: `${home.stdout}unset\nplain\n` });
  expect(Object.values(answer.shells)).toEqual([1]);
});

test('a killed shell is restarted once; after a second death the host counts as unreachable', async () => {
  // Each step kills the driver shell it runs under (the parent of its job wrapper).
  const killDriver = { script: 'echo $(ps -o ppid= -p $PPID | tr -d " "); kill -9 $(ps -o ppid= -p $PPID)' };
  const answer = await probePlan([killDriver, killDriver, { script: 'echo never' }, { script: 'echo never' }]);
  const [first, second, third, fourth] = answer.results.map(single);
  expect(first).toMatchObject({ ok: true, code: 0 });
  expect(second).toMatchObject({ ok: true, code: 0 });
  expect(second.stdout).not.toBe(first.stdout);
  for (const r of [third, fourth]) {
    expect(r).toMatchObject({ ok: false, kind: 'unreachable' });
    expect(r.message).toMatch(/remote shell died 2 times; the host counts as unreachable/);
  }
  expect(answer.shells).toEqual({ [`${USER}@${node.address}:22`]: 2 });
  expect(answer.connections).toEqual({ [`${USER}@${node.address}:22`]: 1 });
});

test('an abort kills the running script and its children, and the same shell runs the next script', async () => {
  // A directory USER can write to, for the scripts' marker and pid files.
  const shared = fs.mkdtempSync(path.join(dir, 'shared-'));
  fs.chmodSync(shared, 0o777);
  for (const sudo of [false, true]) {
    const marker = path.join(shared, `running-${sudo}`);
    const pids = path.join(shared, `pids-${sudo}`);
    // The second script ignores SIGTERM: the shell escalates to SIGKILL after its grace period.
    const answer = await probePlan(
      [
        { script: `sleep 300 & echo "$$ $!" > ${pids}; touch ${marker}; wait`, abortWhenFileExists: marker },
        {
          script: `trap '' TERM; sleep 300 & echo "$$ $!" > ${pids}-2; touch ${marker}-2; wait; echo survived`,
          abortWhenFileExists: `${marker}-2`,
        },
        { script: 'id -u; echo after the abort' },
      ],
      sudo,
    );
    const [aborted, stubborn, next] = answer.results.map(single);
    for (const r of [aborted, stubborn]) expect(r).toMatchObject({ ok: false, message: 'probe: interrupted' });
    expect(next).toMatchObject({ ok: true, code: 0, stdout: `${sudo ? 0 : 4242}\nafter the abort\n` });
    expect(Object.values(answer.shells)).toEqual([1]);
    for (const file of [pids, `${pids}-2`]) {
      for (const pid of fs.readFileSync(file, 'utf8').trim().split(' ').map(Number)) {
        const gone = await waitFor(async () => {
          try {
            process.kill(pid, 0);
            return false;
          } catch {
            return true;
          }
        }, 10_000);
        expect({ file, pid, gone }).toEqual({ file, pid, gone: true });
      }
    }
  }
});

test("a shell that sudo refuses to start is the host answering: the script fails with sudo's words, nothing counts as a death", async () => {
  const answer = await probePlan([{ script: 'id -u' }, { script: 'id -u' }, { script: 'id -u' }], true, NO_SUDO_USER);
  for (const r of answer.results.map(single)) {
    expect(r.ok).toBe(true);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^sudo: /m);
  }
  // Each script tried to start the shell again (as each exec did before): no host marked unreachable.
  expect(answer.shells).toEqual({ [`${NO_SUDO_USER}@${node.address}:22+sudo`]: 3 });
  expect(answer.connections).toEqual({ [`${NO_SUDO_USER}@${node.address}:22`]: 1 });
});
