/**
 * The SSH settings in process: ProxyJump parsing and its problems, ssh_config resolution (what
 * explicit settings win, which settings the plan reports), the checks naming field and node, the
 * inventory shape of the new keys, the provider's validate() of `proxy_jump`, and the targets
 * the pool is handed. Nothing here connects anywhere.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing, TerraformStack } from 'cdktf';
import { ClusterSpec, NodeSpec } from '../../constructs/model';
import { clusterProblems } from '../../constructs/validation';
import { CalicoCluster, CalicoNode } from '../../constructs/cluster';
import { parseInventory } from '../../stacks/inventory';
import {
  mergeSsh,
  parseProxyJump,
  proxyJumpKeysProblem,
  proxyJumpProblem,
  resolveNodeSsh,
  resolveSsh,
  sshTarget,
} from '../../rules/ssh';
import { clearSshConfigCache, sshConfigFor } from '../../rules/ssh-config';
import { sshBlock } from '../../providers/calico/schema';
import { validationProblems, ValidationStage } from '../../providers/runtime/validation';
import { ObjectValue } from '../../providers/runtime/resource';
import { sshTargetFromBlock } from '../../providers/calico/hosts';
import { bastionOf } from '../../providers/ssh/pool';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-sshsettings-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeConfig(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  clearSshConfigCache();
  return file;
}

/** The schema's checks of a resource's `ssh` block, as the runtime runs them at that stage. */
function sshProblems(ssh: ObjectValue, stage: ValidationStage) {
  return validationProblems({ attributes: {}, blocks: { ssh: sshBlock } }, { ssh }, stage);
}

function node(k: number, over: Partial<NodeSpec> = {}): NodeSpec {
  return { name: `n${k}`, address: `198.18.0.${k}`, podCidr: `198.19.${k}.0/24`, workloads: [], ...over };
}

function cluster(over: Partial<ClusterSpec> = {}): ClusterSpec {
  return { name: 'lab', podCidr: '198.19.0.0/16', nodes: [node(1), node(2)], peers: [], ...over };
}

describe('parseProxyJump', () => {
  it('reads the OpenSSH forms: host, user@host, host:port, [host]:port, ssh://, chains', () => {
    expect(parseProxyJump('198.18.0.1')).toEqual([{ host: '198.18.0.1', user: undefined, port: undefined }]);
    expect(parseProxyJump('ops@bastion.example.test:2222')).toEqual([
      { host: 'bastion.example.test', user: 'ops', port: 2222 },
    ]);
    expect(parseProxyJump('ssh://ops@198.18.0.1:22')).toEqual([{ host: '198.18.0.1', user: 'ops', port: 22 }]);
    expect(parseProxyJump('[fd00::1]:2200')).toEqual([{ host: 'fd00::1', user: undefined, port: 2200 }]);
    expect(parseProxyJump('a@h1,h2:2022,b@h3')).toEqual([
      { host: 'h1', user: 'a', port: undefined },
      { host: 'h2', user: undefined, port: 2022 },
      { host: 'h3', user: 'b', port: undefined },
    ]);
    expect(parseProxyJump('none')).toEqual([]);
  });

  it('names what is wrong, hop by hop', () => {
    expect(proxyJumpProblem('')).toBe(
      '"" is not a ProxyJump value: must not be empty (use "none" for a direct connection)',
    );
    expect(proxyJumpProblem('h1,,h2')).toBe(
      '"h1,,h2" is not a ProxyJump value: hop "": "" is not a host name or address',
    );
    expect(proxyJumpProblem('bad user@h')).toBe(
      '"bad user@h" is not a ProxyJump value: hop "bad user@h": "bad user" is not a valid user name',
    );
    expect(proxyJumpProblem('h:0')).toBe(
      '"h:0" is not a ProxyJump value: hop "h:0": "0" is not a port number (1..65535)',
    );
    expect(proxyJumpProblem('h:99999')).toMatch(/"99999" is not a port number/);
    expect(proxyJumpProblem('h:x')).toMatch(/"x" is not a port number/);
    expect(proxyJumpProblem('-oProxyCommand=sh')).toMatch(/is not a host name or address/);
    expect(proxyJumpProblem('h;reboot')).toMatch(/is not a host name or address/);
    expect(proxyJumpProblem('${x}')).toMatch(/is not a host name or address/);
    expect(proxyJumpProblem(Array.from({ length: 9 }, (_, i) => `h${i}`).join(','))).toMatch(/has 9 hops; at most 8/);
    expect(proxyJumpProblem(Array.from({ length: 8 }, (_, i) => `h${i}`).join(','))).toBeNull();
  });
});

describe('sshTarget and the provider block', () => {
  it('every hop gets a user (the node’s by default) and a port', () => {
    const t = sshTarget('198.18.0.3', { user: 'ops', proxyJump: 'root@198.18.0.1,198.18.0.2:2222' });
    expect(t.jumps).toEqual([
      { host: '198.18.0.1', user: 'root', port: 22 },
      { host: '198.18.0.2', user: 'ops', port: 2222 },
    ]);
    expect(sshTarget('h', {}).jumps).toEqual([]);
    expect(sshTarget('h', { proxyJump: 'none' }).jumps).toEqual([]);
  });

  it('validate() reports a bad proxy_jump on its attribute; apply refuses it too', () => {
    const diagnostics = sshProblems({ host: 'h', proxy_jump: 'a b' }, 'config');
    expect(diagnostics).toEqual([
      expect.objectContaining({
        summary: 'Invalid ssh.proxy_jump',
        attribute: ['ssh', 'proxy_jump'],
        detail: expect.stringMatching(/hop "a b"/),
      }),
    ]);
    const block = {
      host: 'h',
      port: null,
      user: null,
      private_key_path: null,
      passphrase_env: null,
      known_hosts_path: null,
      sudo: null,
      proxy_jump_keys: null,
      from_ssh_config: null,
    };
    expect(sshProblems({ ...block, proxy_jump: 'a b' }, 'state')).toEqual(diagnostics);
    expect(() => sshTargetFromBlock({ ...block, proxy_jump: 'a b' })).toThrow(/hop "a b"/);
    expect(sshTargetFromBlock({ ...block, proxy_jump: 'j@b:2' }).jumps).toEqual([{ host: 'b', user: 'j', port: 2 }]);
  });
});

describe('a key per hop (proxyJumpKeys)', () => {
  it('each hop gets its own key when it has one; "" or none leaves it to the node\'s key or agent', () => {
    const t = sshTarget('198.18.0.3', {
      privateKeyPath: '/k/node',
      proxyJump: 'b1,b2,b3',
      proxyJumpKeys: ['/k/b1', '', '/k/b3'],
    });
    expect(t.jumps).toEqual([
      { host: 'b1', user: 'root', port: 22, privateKeyPath: '/k/b1' },
      { host: 'b2', user: 'root', port: 22 },
      { host: 'b3', user: 'root', port: 22, privateKeyPath: '/k/b3' },
    ]);
    expect(
      sshTarget('h', { privateKeyPath: '~/k', proxyJump: 'b', proxyJumpKeys: ['~/kb'] }).jumps![0].privateKeyPath,
    ).toBe(path.join(os.homedir(), 'kb'));
    expect(() => sshTarget('h', { proxyJump: 'b1,b2', proxyJumpKeys: ['/k'] })).toThrow(
      /proxyJumpKeys has 1 entry for 2 proxyJump hops/,
    );
  });

  it('down a chain, a hop without a key of its own logs in as the final target does, not as the next hop', () => {
    const withAgent = sshTarget('n', { proxyJump: 'h1,h2', proxyJumpKeys: ['', '/k/h2'] });
    const h2 = bastionOf(withAgent);
    expect(h2).toMatchObject({ host: 'h2', privateKeyPath: '/k/h2', jumps: [{ host: 'h1', privateKeyPath: '' }] });
    // h1 is reached with the agent (""), as the node is: not with h2's key.
    expect(bastionOf(h2)).toMatchObject({ host: 'h1', privateKeyPath: '', jumps: [] });
    const withKey = sshTarget('n', { privateKeyPath: '/k/n', proxyJump: 'h1,h2', proxyJumpKeys: ['', '/k/h2'] });
    expect(bastionOf(bastionOf(withKey))).toMatchObject({ host: 'h1', privateKeyPath: '/k/n' });
  });

  it("one entry per hop, named by field and node; a node's own proxyJump does not take the cluster's keys", () => {
    expect(proxyJumpKeysProblem('b1,b2', ['', '/k'])).toBeNull();
    expect(proxyJumpKeysProblem('none', ['/k'])).toBe(
      'has 1 entry for no proxyJump hops: give one per hop, first hop first ("" = the node\'s own key)',
    );
    expect(proxyJumpKeysProblem(undefined, [])).toBeNull();
    // A bad proxyJump is its own problem, reported on its own field, not counted here.
    expect(proxyJumpKeysProblem('a b', ['/k', '/k'])).toBeNull();
    expect(
      clusterProblems(
        cluster({
          ssh: { proxyJump: 'root@198.18.9.1', proxyJumpKeys: ['/k/bastion'] },
          nodes: [
            node(1, { ssh: { proxyJump: 'a@198.18.9.2,b@198.18.9.3' } }),
            node(2, { ssh: { proxyJumpKeys: ['relative/key', ''] } }),
          ],
        }),
      ),
    ).toEqual([
      'nodes[1] "n2".ssh.proxyJumpKeys[0]: "relative/key" is not an absolute path',
      // n1 has two hops of its own and no keys for them: every hop uses n1's key, no problem.
      'nodes[1] "n2".ssh.proxyJumpKeys: has 2 entries for 1 proxyJump hop: give one per hop, first hop first ("" = the node\'s own key)',
    ]);
    expect(mergeSsh({ proxyJump: 'b', proxyJumpKeys: ['/k'] }, { proxyJump: 'c,d' })).toEqual({ proxyJump: 'c,d' });
    expect(mergeSsh({ proxyJump: 'b', proxyJumpKeys: ['/k'] }, { user: 'u' })).toEqual({
      proxyJump: 'b',
      proxyJumpKeys: ['/k'],
      user: 'u',
    });
  });

  it("ssh_config: a hop's IdentityFile becomes its key; explicit keys win", () => {
    const file = writeConfig(
      'hop-keys',
      [
        'Host bastion',
        '  HostName 198.18.0.1',
        '  IdentityFile ~/.ssh/bastion_key',
        'Host n*',
        '  HostName 198.18.1.3',
        '  ProxyJump bastion,198.18.0.2',
        '',
      ].join('\n'),
    );
    const r = resolveSsh('n3', { sshConfig: file, privateKeyPath: '/k/node' });
    expect(r.settings).toMatchObject({
      privateKeyPath: '/k/node',
      proxyJump: '198.18.0.1,198.18.0.2',
      proxyJumpKeys: [path.join(os.homedir(), '.ssh/bastion_key'), ''],
    });
    expect(r.fromSshConfig).toContain('IdentityFile');
    expect(resolveSsh('n3', { sshConfig: file, proxyJumpKeys: ['/k/mine', ''] }).settings.proxyJumpKeys).toEqual([
      '/k/mine',
      '',
    ]);
    // No hop with an IdentityFile: nothing is written, every hop uses the node's key.
    const plain = writeConfig('hop-keys-none', 'Host n*\n  ProxyJump 198.18.0.1\n');
    expect(resolveSsh('n3', { sshConfig: plain }).settings.proxyJumpKeys).toBeUndefined();
  });

  it("ssh_config: the first hop's own ProxyJump comes before it (recursively), as OpenSSH walks it; a loop is refused", () => {
    const file = writeConfig(
      'nested-jumps',
      [
        'Host outer',
        '  HostName 198.18.0.1',
        '  User edge',
        'Host inner',
        '  HostName 198.18.5.1',
        '  ProxyJump outer',
        '  IdentityFile ~/.ssh/inner_key',
        'Host later',
        '  HostName 198.18.6.1',
        '  ProxyJump nowhere-used',
        'Host n*',
        '  ProxyJump inner,later',
        '',
      ].join('\n'),
    );
    const r = resolveSsh('n3', { sshConfig: file });
    // `later`'s own ProxyJump does not count: it is reached through inner.
    expect(r.settings.proxyJump).toBe('edge@198.18.0.1,198.18.5.1,198.18.6.1');
    expect(r.settings.proxyJumpKeys).toEqual(['', path.join(os.homedir(), '.ssh/inner_key'), '']);
    expect(r.fromSshConfig).toEqual(expect.arrayContaining(['ProxyJump', 'IdentityFile']));
    // Explicit hops are looked up the same way; explicit keys keep their hops, added hops get theirs.
    expect(
      resolveSsh('n3', { sshConfig: file, proxyJump: 'inner', proxyJumpKeys: ['/k/mine'] }).settings,
    ).toMatchObject({ proxyJump: 'edge@198.18.0.1,198.18.5.1', proxyJumpKeys: ['', '/k/mine'] });
    // Keys that do not match the hops as written are left as written, and named by field.
    expect(resolveSsh('n3', { sshConfig: file, proxyJumpKeys: ['/k/one'] }).settings).toMatchObject({
      proxyJump: 'inner,later',
      proxyJumpKeys: ['/k/one'],
    });
    expect(
      clusterProblems(
        cluster({ ssh: { sshConfig: file, proxyJumpKeys: ['/k/one'] }, nodes: [node(3, { sshHost: 'n3' })] }),
      ),
    ).toEqual([
      'nodes[0] "n3".ssh.proxyJumpKeys: has 1 entry for 2 proxyJump hops: give one per hop, first hop first ("" = the node\'s own key)',
    ]);

    const loop = writeConfig('jump-loop', 'Host a\n  ProxyJump b\nHost b\n  ProxyJump a\nHost n*\n  ProxyJump a\n');
    expect(() => resolveSsh('n3', { sshConfig: loop })).toThrow(`${loop}: the ProxyJump of a leads back to a`);
    // The usual slip: a catch-all ProxyJump that also matches the bastion.
    const catchAll = writeConfig('jump-all', 'Host *\n  ProxyJump bastion\n');
    expect(clusterProblems(cluster({ ssh: { sshConfig: catchAll }, nodes: [node(3)] }))).toEqual([
      `nodes[0] "n3".ssh.sshConfig: ${catchAll}: the ProxyJump of bastion leads back to bastion`,
    ]);
    const fixed = writeConfig('jump-all-but', 'Host * !bastion\n  ProxyJump bastion\n');
    expect(resolveSsh('n3', { sshConfig: fixed }).settings.proxyJump).toBe('bastion');
    // A hop that says "none" of itself is reached directly; a ProxyJump the file adds is reported
    // as ssh_config's even when it names no other setting.
    const none = writeConfig('jump-none', 'Host b\n  ProxyJump none\nHost c\n  ProxyJump 198.18.0.1\n');
    expect(resolveSsh('n3', { sshConfig: none, proxyJump: 'b' })).toMatchObject({
      settings: { proxyJump: 'b' },
      fromSshConfig: [],
    });
    expect(resolveSsh('n3', { sshConfig: none, proxyJump: 'c' })).toMatchObject({
      settings: { proxyJump: '198.18.0.1,c' },
      fromSshConfig: ['ProxyJump'],
    });
    // Eight hops in all are allowed, a ninth is not.
    const ladder = (n: number) =>
      Array.from({ length: n }, (_, i) => `Host h${i + 1}\n  ProxyJump h${i + 2}\n`).join('') +
      `Host h${n + 1}\n  ProxyJump none\n`;
    expect(resolveSsh('n3', { sshConfig: writeConfig('ladder7', ladder(7)), proxyJump: 'h1' }).settings.proxyJump).toBe(
      'h8,h7,h6,h5,h4,h3,h2,h1',
    );
    const long = writeConfig('ladder8', ladder(8));
    expect(() => resolveSsh('n3', { sshConfig: long, proxyJump: 'h1' })).toThrow(
      `${long}: the ProxyJump chain through h8 has more than 8 hops`,
    );
    const bad = writeConfig('jump-bad', 'Host b\n  ProxyJump x;y\nHost n*\n  ProxyJump b\n');
    expect(() => resolveSsh('n3', { sshConfig: bad })).toThrow(/ProxyJump "x;y" for b: hop "x;y"/);
  });

  it('validate() checks the count on proxy_jump_keys; apply refuses a stored mismatch', () => {
    expect(sshProblems({ host: 'h', proxy_jump: 'b1,b2', proxy_jump_keys: ['/k'] }, 'config')).toEqual([
      expect.objectContaining({
        summary: 'Invalid ssh.proxy_jump_keys',
        attribute: ['ssh', 'proxy_jump_keys'],
        detail: expect.stringMatching(/1 entry for 2 proxyJump hops/),
      }),
    ]);
    const block = {
      host: 'h',
      port: null,
      user: null,
      private_key_path: '/k/node',
      passphrase_env: null,
      known_hosts_path: null,
      sudo: null,
      from_ssh_config: null,
    };
    expect(sshProblems({ ...block, proxy_jump: null, proxy_jump_keys: ['/k'] }, 'state')).toEqual([
      expect.objectContaining({
        summary: 'Invalid ssh.proxy_jump_keys',
        attribute: ['ssh', 'proxy_jump_keys'],
        detail: expect.stringMatching(/1 entry for no proxyJump hops/),
      }),
    ]);
    expect(() => sshTargetFromBlock({ ...block, proxy_jump: null, proxy_jump_keys: ['/k'] })).toThrow(
      /1 entry for no proxyJump hops/,
    );
    expect(sshTargetFromBlock({ ...block, proxy_jump: 'j@b:2', proxy_jump_keys: ['/k/b'] }).jumps).toEqual([
      { host: 'b', user: 'j', port: 2, privateKeyPath: '/k/b' },
    ]);
  });
});

describe('ssh_config', () => {
  it('fills what the settings leave open; explicit values win; the plan learns which came from it', () => {
    const file = writeConfig(
      'config',
      [
        'Host bastion',
        '  HostName 198.18.0.1',
        '  User jumper',
        '  Port 2201',
        'Host n3-alias',
        '  HostName 198.18.0.%h-ignored',
        'Host n*',
        '  HostName 198.18.1.3',
        '  User ops',
        '  Port 2222',
        '  IdentityFile ~/.ssh/id_n',
        '  ProxyJump bastion',
        '',
      ].join('\n'),
    );
    const r = resolveSsh('n3', { sshConfig: file });
    expect(r.host).toBe('198.18.1.3');
    expect(r.settings).toMatchObject({
      user: 'ops',
      port: 2222,
      privateKeyPath: path.join(os.homedir(), '.ssh/id_n'),
      proxyJump: 'jumper@198.18.0.1:2201',
      knownHostsPath: '~/.ssh/known_hosts',
    });
    expect(r.settings.sshConfig).toBeUndefined();
    expect(r.fromSshConfig.sort()).toEqual(['HostName', 'IdentityFile', 'Port', 'ProxyJump', 'User']);

    const explicit = resolveSsh('n3', {
      sshConfig: file,
      user: 'me',
      port: 22,
      privateKeyPath: '/k',
      proxyJump: 'none',
    });
    expect(explicit.settings).toMatchObject({ user: 'me', port: 22, privateKeyPath: '/k', proxyJump: 'none' });
    expect(explicit.fromSshConfig).toEqual(['HostName']);
    // An explicit hop keeps its own user and port; ssh_config only names its address.
    expect(resolveSsh('n3', { sshConfig: file, proxyJump: 'root@bastion:22' }).settings.proxyJump).toBe(
      'root@198.18.0.1:22',
    );
  });

  it('a host no entry matches is left alone, and without sshConfig nothing is read', () => {
    const file = writeConfig('config2', 'Host other\n  User x\n');
    expect(resolveSsh('198.18.0.9', { sshConfig: file })).toEqual({
      host: '198.18.0.9',
      settings: { user: 'root', port: 22, knownHostsPath: '~/.ssh/known_hosts' },
      fromSshConfig: [],
    });
    expect(resolveSsh('198.18.0.9', { user: 'u' })).toEqual({
      host: '198.18.0.9',
      settings: { user: 'u' },
      fromSshConfig: [],
    });
  });

  it('never runs Match exec, and refuses tokens it cannot expand', () => {
    const marker = path.join(dir, 'exec-ran');
    const file = writeConfig('config3', `Match exec "touch ${marker}"\n  User evil\nHost t\n  IdentityFile /k/%r\n`);
    expect(sshConfigFor(file, 'h').user).toBeUndefined();
    expect(fs.existsSync(marker)).toBe(false);
    expect(() => sshConfigFor(file, 't')).toThrow(
      'IdentityFile "/k/%r" uses %r, which is not supported here (only %h, %d, %%)',
    );
  });

  it('clusterProblems names the node and the setting: unreadable file, bad values from the file, a self-jump', () => {
    const missing = path.join(dir, 'nope');
    expect(clusterProblems(cluster({ ssh: { sshConfig: missing } }))).toEqual([
      `nodes[0] "n1".ssh.sshConfig: cannot read ssh_config ${missing}: ENOENT`,
      `nodes[1] "n2".ssh.sshConfig: cannot read ssh_config ${missing}: ENOENT`,
    ]);
    const file = writeConfig('config4', 'Host 198.18.0.2\n  User "bad user"\n  ProxyJump a@@b:0\n');
    expect(clusterProblems(cluster({ ssh: { sshConfig: file } }))).toEqual([
      `nodes[1] "n2".ssh.sshConfig: User from ${file}: "bad user" is not a valid user name`,
      expect.stringMatching(
        new RegExp(
          `^nodes\\[1\\] "n2"\\.ssh\\.sshConfig: ProxyJump from ${file.replace(/[.]/g, '\\.')}: "a@@b:0" is not a ProxyJump value`,
        ),
      ),
    ]);
    expect(clusterProblems(cluster({ nodes: [node(1, { ssh: { proxyJump: 'root@198.18.0.1' } }), node(2)] }))).toEqual([
      'nodes[0] "n1".ssh.proxyJump: "root@198.18.0.1" goes through the node itself (198.18.0.1); use "none" on the bastion\'s own node',
    ]);
  });

  it('bad proxyJump and sshConfig values are named by field and node', () => {
    expect(
      clusterProblems(
        cluster({
          ssh: { proxyJump: 'x y' },
          nodes: [
            node(1, { ssh: { proxyJump: 'none' } }),
            node(2, { ssh: { proxyJump: 'h:70000', sshConfig: 'rel' } }),
          ],
        }),
      ),
    ).toEqual([
      'ssh.proxyJump: "x y" is not a ProxyJump value: hop "x y": "x y" is not a host name or address',
      'nodes[1] "n2".ssh.proxyJump: "h:70000" is not a ProxyJump value: hop "h:70000": "70000" is not a port number (1..65535)',
      'nodes[1] "n2".ssh.sshConfig: "rel" is not an absolute path',
    ]);
    expect(
      clusterProblems(
        cluster({ ssh: { proxyJump: 'root@198.18.0.1' }, nodes: [node(1, { ssh: { proxyJump: 'none' } }), node(2)] }),
      ),
    ).toEqual([]);
  });
});

describe('the inventory and the constructs', () => {
  const inventory = (ssh: string) => `
cluster: { name: lab, podCidr: 198.19.0.0/16 }
ssh: ${ssh}
nodes:
  - { name: n1, address: 198.18.0.1, podCidr: 198.19.1.0/24, ssh: { proxyJump: none } }
  - { name: n2, address: 198.18.0.2, podCidr: 198.19.2.0/24, sshHost: n2-alias }
`;

  it('sshConfig is true or a path (relative to the inventory); proxyJump a string', () => {
    const problems = (ssh: string) => {
      try {
        parseInventory(inventory(ssh), '/inv/cluster.yaml');
        return [];
      } catch (err) {
        return (err as { problems: string[] }).problems;
      }
    };
    expect(problems('{ sshConfig: 3 }')).toEqual(['ssh.sshConfig: expected true or a file path, found number 3']);
    expect(problems('{ sshConfig: false }')).toEqual([
      'ssh.sshConfig: expected true or a file path, found boolean false',
    ]);
    expect(problems('{ proxyJump: 22 }')).toEqual(['ssh.proxyJump: expected a string, found number 22']);
    expect(problems('{ proxyJmp: x }')).toEqual(['ssh: unknown key "proxyJmp" (did you mean "proxyJump"?)']);
    const file = writeConfig('inv-config', 'Host n2-alias\n  HostName 198.18.0.2\n  ProxyJump ops@198.18.0.1\n');
    const c = parseInventory(inventory(`{ sshConfig: ${path.basename(file)} }`), path.join(dir, 'cluster.yaml'));
    expect(c.ssh?.sshConfig).toBe(file);
    // With ssh_config the loader does not write the defaults as if they were explicit.
    expect(c.ssh?.user).toBeUndefined();
    expect(resolveNodeSsh(c.nodes[1], c.ssh)).toMatchObject({
      host: '198.18.0.2',
      settings: { proxyJump: 'ops@198.18.0.1', user: 'root' },
      fromSshConfig: ['HostName', 'ProxyJump'],
    });
  });

  it('proxyJumpKeys: paths relative to the inventory, "" kept; the ssh block carries them per node', () => {
    const c = parseInventory(
      `cluster: { name: lab, podCidr: 198.19.0.0/16 }
ssh: { proxyJump: "198.18.9.1,198.18.9.2", proxyJumpKeys: [keys/bastion, ""] }
nodes:
  - { name: n1, address: 198.18.0.1, podCidr: 198.19.1.0/24 }
`,
      '/inv/cluster.yaml',
    );
    expect(c.ssh?.proxyJumpKeys).toEqual(['/inv/keys/bastion', '']);
    expect(() => parseInventory(inventory('{ proxyJumpKeys: /k }'), '/inv/cluster.yaml')).toThrow(
      /ssh\.proxyJumpKeys: expected a list of names, found/,
    );
    const stack = new TerraformStack(Testing.app(), 'st');
    {
      const cl = new CalicoCluster(stack, 'c', { name: 'c', podCidr: '198.19.0.0/16', ssh: c.ssh });
      new CalicoNode(cl, 'n1', { name: 'n1', address: '198.18.0.1', podCidr: '198.19.1.0/24' });
    }
    const [n1] = Object.values(JSON.parse(Testing.synth(stack)).resource.calico_node) as {
      ssh: Record<string, unknown>;
    }[];
    expect(n1.ssh).toMatchObject({ proxy_jump: '198.18.9.1,198.18.9.2', proxy_jump_keys: ['/inv/keys/bastion', ''] });
  });

  it('the resources’ ssh block carries the resolved values and from_ssh_config', () => {
    const file = writeConfig(
      'construct-config',
      'Host n2-alias\n  HostName 198.18.0.2\n  ProxyJump ops@198.18.0.1:2222\n',
    );
    const stack = new TerraformStack(Testing.app(), 'st');
    {
      const c = new CalicoCluster(stack, 'c', { name: 'c', podCidr: '198.19.0.0/16', ssh: { sshConfig: file } });
      new CalicoNode(c, 'n1', {
        name: 'n1',
        address: '198.18.0.1',
        podCidr: '198.19.1.0/24',
        ssh: { proxyJump: 'none' },
      });
      new CalicoNode(c, 'n2', { name: 'n2', address: '198.18.0.2', podCidr: '198.19.2.0/24', sshHost: 'n2-alias' });
    }
    const nodes = Object.values(JSON.parse(Testing.synth(stack)).resource.calico_node) as {
      name: string;
      ssh: Record<string, unknown>;
    }[];
    expect(nodes.find((n) => n.name === 'n2')!.ssh).toEqual({
      host: '198.18.0.2',
      user: 'root',
      port: 22,
      known_hosts_path: '~/.ssh/known_hosts',
      proxy_jump: 'ops@198.18.0.1:2222',
      from_ssh_config: ['HostName', 'ProxyJump'],
    });
    expect(nodes.find((n) => n.name === 'n1')!.ssh).toEqual({
      host: '198.18.0.1',
      user: 'root',
      port: 22,
      known_hosts_path: '~/.ssh/known_hosts',
      proxy_jump: 'none',
    });
  });
});
