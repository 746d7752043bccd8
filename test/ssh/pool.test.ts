/**
 * The ssh2 pool against a real sshd (a lab node): passphrase-protected keys, ssh-agent, and a
 * non-root login that works through `sudo -n`. The pool runs in the operator namespace (the
 * only place the node is reachable from), in a small node program that prints one JSON answer.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { labDown, labUp, missingPrerequisites, nodeExec, operatorExec, LabInfo } from '../../lab';
import { run, waitFor } from '../../lab/process';
import { SNAPSHOT_SECTIONS } from '../../providers/calico';
import { birdConfigSection } from '../../providers/calico/bird-config';
import { parseSnapshot, snapshotScript } from '../../providers/calico/host-snapshot';
import { hostAddressesSection } from '../../providers/calico/ip-output';
import { nodeSection } from '../../providers/calico/node';
import { packageRoot } from '../../providers/package-root';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-pooltest-'));
// sshd reads a user's authorized keys (the lab's .pub file) as that user.
fs.chmodSync(dir, 0o755);
const PASSPHRASE = 'correct horse; battery $(staple)';
const USER = 'calico-op';
let lab: LabInfo;
let node: LabInfo['nodes'][number];
let agent: ChildProcess | undefined;
const agentSocket = path.join(dir, 'agent.sock');
const encryptedKey = path.join(dir, 'id_encrypted');
const agentKey = path.join(dir, 'id_agent');

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
async function probeAll(targets: Record<string, unknown>[], script: string, env: NodeJS.ProcessEnv = {}): Promise<ProbeAnswer[]> {
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

async function probe(target: Record<string, unknown>, script: string, env: NodeJS.ProcessEnv = {}): Promise<ProbeAnswer> {
  return (await probeAll([target], script, env))[0];
}

async function must(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<void> {
  const r = await run(cmd, args, { env: env ? { ...process.env, ...env } : undefined });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

/** A login user that exists only inside the node: its own passwd, group, shadow and sudoers. */
async function addNodeUser(): Promise<void> {
  const d = path.join(dir, 'etc');
  fs.mkdirSync(d);
  const files: [string, string][] = [
    ['passwd', `${USER}:x:4242:4242::/tmp:/bin/bash\n`],
    ['group', `${USER}:x:4242:\n`],
    ['shadow', `${USER}:*:19000:0:99999:7:::\n`],
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
  const missing = await missingPrerequisites([
    ['sudo', 'apt-get install -y sudo'],
    ['ssh-agent', 'apt-get install -y openssh-client'],
    ['ssh-add', 'apt-get install -y openssh-client'],
  ]);
  if (missing.length > 0) throw new Error(`prerequisites missing:\n  - ${missing.join('\n  - ')}`);
  lab = await labUp({ dir: path.join(dir, 'lab'), nodes: 1, id: 202 });
  node = lab.nodes[0];
  await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', PASSPHRASE, '-f', encryptedKey]);
  await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', agentKey]);
  // The lab's sshd trusts the keys listed in the lab's client .pub file.
  for (const key of [encryptedKey, agentKey]) fs.appendFileSync(`${lab.clientKeyPath}.pub`, fs.readFileSync(`${key}.pub`));
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
  const r = await probe({ user: 'root', privateKeyPath: encryptedKey, passphraseEnv: 'CALICO_TEST_PASSPHRASE' }, 'id -u', {
    CALICO_TEST_PASSPHRASE: PASSPHRASE,
  });
  expect(r).toMatchObject({ ok: true, code: 0, stdout: '0\n' });
  expect(JSON.stringify(r)).not.toContain(PASSPHRASE);
});

test('one process decrypts a key once, however many hosts and users it logs in as', async () => {
  const key = { privateKeyPath: encryptedKey, passphraseEnv: 'CALICO_TEST_PASSPHRASE' };
  const answers = await probeAll([{ ...key, user: 'root' }, { ...key, user: USER }], 'id -un', { CALICO_TEST_PASSPHRASE: PASSPHRASE });
  expect(answers.map((a) => a.stdout)).toEqual(['root\n', `${USER}\n`]);
  const log = answers[0].log;
  expect(log.filter((l) => l.includes(': connected')).length).toBe(2);
  expect(log.filter((l) => l.startsWith(`opened private key ${encryptedKey}`)).length).toBe(1);
});

test('a wrong or missing passphrase is a login problem naming the key and variable, never echoing a secret', async () => {
  const wrong = await probe({ user: 'root', privateKeyPath: encryptedKey, passphraseEnv: 'CALICO_TEST_PASSPHRASE' }, 'id -u', {
    CALICO_TEST_PASSPHRASE: 'not the passphrase',
  });
  expect(wrong).toMatchObject({ ok: false, kind: 'auth' });
  expect(wrong.message).toContain(encryptedKey);
  expect(wrong.message).toContain('CALICO_TEST_PASSPHRASE');
  expect(JSON.stringify(wrong)).not.toContain('not the passphrase');

  const unset = await probe({ user: 'root', privateKeyPath: encryptedKey, passphraseEnv: 'CALICO_TEST_PASSPHRASE' }, 'id -u');
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
  const elevated = await probe({ ...key, sudo: true }, 'id -u; ip link add calico-sudo type veth peer name calico-sudo2 && ip link del calico-sudo && echo changed');
  expect(elevated).toMatchObject({ ok: true, code: 0, stdout: '0\nchanged\n' });
  // The provider's own read goes through sudo the same way.
  const read = await probe({ ...key, sudo: true }, snapshotScript(SNAPSHOT_SECTIONS));
  expect(read).toMatchObject({ ok: true, code: 0 });
  const snapshot = parseSnapshot(read.stdout!, SNAPSHOT_SECTIONS, node.name);
  expect(snapshot.get(nodeSection).ipForward).toMatch(/^[01]$/);
  expect(snapshot.get(birdConfigSection)).toContain(`router id ${node.address};`);
  expect(snapshot.get(hostAddressesSection)).toContainEqual({ dev: 'eth0', address: node.address, prefixLength: 24 });
  // Without sudo the same change is refused by the kernel, and the script's failure comes back.
  const plain = await probe(key, 'ip link add calico-sudo type veth peer name calico-sudo2');
  expect(plain).toMatchObject({ ok: true });
  expect(plain.code).not.toBe(0);
  expect(plain.stderr).toMatch(/Operation not permitted/);
});
