/**
 * Keys and host trust through the real provider (terraform → provider → ssh2 pool → sshd):
 * - the inventory's passphraseEnv reaches the pool through the provider's ssh block, so an
 *   encrypted key logs in with the passphrase from that variable — which never appears in state
 *   or output; an unset variable or a wrong passphrase stops the plan naming the variable;
 * - a host missing from known_hosts is refused before any login, naming host and fingerprint.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { run } from '../../lab/process';
import { CommandResult, describeCommand, E2eCluster } from './cluster';

const PASSPHRASE = 'e2e pass "phrase" $(id) 9b2c';
const VAR = 'CALICO_E2E_KEY_PASSPHRASE';
let cluster: E2eCluster;
let encryptedKey: string;
let fingerprint: string;

const sshdLog = (node: string) => path.join(cluster.lab.dir, node, 'sshd.log');
const logSize = (node: string) => fs.statSync(sshdLog(node)).size;
const logSince = (node: string, from: number) => fs.readFileSync(sshdLog(node)).subarray(from).toString('utf8');

/** Terraform's output with its diagnostic boxes' line wrapping undone (wraps fall on spaces). */
function unwrapped(r: CommandResult): string {
  return (r.stdout + r.stderr).replace(/[ \t]*\r?\n[│╷╵ \t]*/g, ' ');
}

beforeAll(async () => {
  cluster = await E2eCluster.up({ id: 19, nodes: 2, asMode: 'ibgp' });
  encryptedKey = path.join(cluster.root, 'id_encrypted');
  const keygen = await run('ssh-keygen', [
    '-q',
    '-t',
    'ed25519',
    '-N',
    PASSPHRASE,
    '-C',
    'e2e-encrypted',
    '-f',
    encryptedKey,
  ]);
  if (keygen.code !== 0) throw new Error(`ssh-keygen: ${keygen.stderr}`);
  fingerprint = (await run('ssh-keygen', ['-l', '-f', `${encryptedKey}.pub`])).stdout.split(' ')[1];
  expect(fingerprint).toMatch(/^SHA256:/);
  // sshd trusts the keys in the lab's client .pub; the unencrypted lab key stays trusted too, so
  // only the inventory decides which key is used.
  fs.appendFileSync(`${cluster.lab.clientKeyPath}.pub`, fs.readFileSync(`${encryptedKey}.pub`));
  const inventory = parseYaml(fs.readFileSync(cluster.lab.inventoryPath, 'utf8'));
  inventory.ssh = { ...inventory.ssh, privateKeyPath: encryptedKey, passphraseEnv: VAR };
  fs.writeFileSync(cluster.lab.inventoryPath, toYaml(inventory));
});

afterAll(async () => {
  await cluster?.down();
});

test('an encrypted key logs in with the passphrase from passphrase_env; the passphrase stays out of state and output', async () => {
  const start = cluster.nodeNames.map(logSize);
  cluster.extraEnv = { [VAR]: PASSPHRASE };
  const deploy = await cluster.deploy();
  if (deploy.code !== 0) throw new Error(describeCommand(deploy));
  cluster.nodeNames.forEach((node, k) => {
    expect(logSince(node, start[k])).toMatch(
      new RegExp(
        `Accepted publickey for root from 198\\.18\\.19\\.254 port \\d+ ssh2: ED25519 ${fingerprint.replace(/[+/]/g, '\\$&')}`,
      ),
    );
  });
  const state = await cluster.terraform(['show', '-json', '-no-color']);
  expect(state.code).toBe(0);
  const ssh = JSON.parse(state.stdout).values.root_module.resources.map(
    (r: { values: { ssh: Record<string, unknown> } }) => r.values.ssh,
  );
  expect(
    ssh.every((s: Record<string, unknown>) => s.passphrase_env === VAR && s.private_key_path === encryptedKey),
  ).toBe(true);
  const stateFiles = (fs.readdirSync(cluster.projectDir, { recursive: true }) as string[]).filter((f) =>
    f.endsWith('.tfstate'),
  );
  expect(stateFiles.length).toBeGreaterThan(0);
  const stateFile = stateFiles.map((f) => fs.readFileSync(path.join(cluster.projectDir, f), 'utf8')).join('\n');
  expect(stateFile).toContain(VAR);
  for (const text of [stateFile, state.stdout, deploy.stdout, deploy.stderr]) expect(text).not.toContain('9b2c');
  expect((await cluster.plan()).code).toBe(0);
});

test('without the variable, or with a wrong passphrase, the plan stops naming the variable and never the secret', async () => {
  cluster.extraEnv = {};
  const unset = await cluster.plan();
  expect(unset.code).toBe(1);
  expect(unwrapped(unset)).toMatch(new RegExp(`the private key passphrase variable ${VAR} is not set`));

  cluster.extraEnv = { [VAR]: 'wrong 4d1e' };
  const wrong = await cluster.plan();
  expect(wrong.code).toBe(1);
  expect(unwrapped(wrong)).toMatch(
    new RegExp(`cannot decrypt private key ${encryptedKey.replace(/[.]/g, '\\.')} with the passphrase in ${VAR}`),
  );
  expect(wrong.stdout + wrong.stderr).not.toContain('4d1e');
  cluster.extraEnv = { [VAR]: PASSPHRASE };
});

test('a host missing from known_hosts is refused before any login, naming host and fingerprint', async () => {
  const knownHosts = fs.readFileSync(cluster.lab.knownHostsPath, 'utf8');
  const node2 = cluster.address('node2');
  const hostKey = (
    await run('ssh-keygen', ['-l', '-f', path.join(cluster.lab.dir, 'node2', 'ssh_host_ed25519_key.pub')])
  ).stdout.split(' ')[1];
  fs.writeFileSync(
    cluster.lab.knownHostsPath,
    knownHosts
      .split('\n')
      .filter((l) => !l.startsWith(`${node2} `))
      .join('\n'),
  );
  const start = logSize('node2');
  try {
    const plan = await cluster.plan();
    expect(plan.code).toBe(1);
    const out = unwrapped(plan);
    expect(out).toMatch(/Refused to work on node node2 \(198\.18\.\d+\.2\)/);
    expect(out).toContain(`unknown host key for ${node2}: ${hostKey} is not in ${cluster.lab.knownHostsPath}`);
    const log = logSince('node2', start);
    expect(log).toMatch(/198\.18\.19\.254 port \d+/);
    expect(log).not.toMatch(/Accepted publickey/);
  } finally {
    fs.writeFileSync(cluster.lab.knownHostsPath, knownHosts);
  }
  expect((await cluster.plan()).code).toBe(0);
});
