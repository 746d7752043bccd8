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
import { parseProxyJump, proxyJumpProblem, resolveNodeSsh, resolveSsh, sshTarget } from '../../rules/ssh';
import { clearSshConfigCache, sshConfigFor } from '../../rules/ssh-config';
import { checkSshBlock, DiagnosticCollector } from '../../providers/calico/validate';
import { sshTargetFromBlock } from '../../providers/calico/hosts';
import { ProviderError } from '../../providers/runtime/resource';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-sshsettings-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeConfig(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  clearSshConfigCache();
  return file;
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
    expect(parseProxyJump('ops@bastion.example.test:2222')).toEqual([{ host: 'bastion.example.test', user: 'ops', port: 2222 }]);
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
    expect(proxyJumpProblem('')).toBe('"" is not a ProxyJump value: must not be empty (use "none" for a direct connection)');
    expect(proxyJumpProblem('h1,,h2')).toBe('"h1,,h2" is not a ProxyJump value: hop "": "" is not a host name or address');
    expect(proxyJumpProblem('bad user@h')).toBe('"bad user@h" is not a ProxyJump value: hop "bad user@h": "bad user" is not a valid user name');
    expect(proxyJumpProblem('h:0')).toBe('"h:0" is not a ProxyJump value: hop "h:0": "0" is not a port number (1..65535)');
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
    const c = new DiagnosticCollector();
    checkSshBlock(c, { ssh: { host: 'h', proxy_jump: 'a b' } });
    expect(c.diagnostics).toEqual([
      expect.objectContaining({ summary: 'Invalid ssh.proxy_jump', attribute: ['ssh', 'proxy_jump'], detail: expect.stringMatching(/hop "a b"/) }),
    ]);
    const block = { host: 'h', port: null, user: null, private_key_path: null, passphrase_env: null, known_hosts_path: null, sudo: null, from_ssh_config: null };
    expect(() => sshTargetFromBlock({ ...block, proxy_jump: 'a b' })).toThrow(ProviderError);
    expect(sshTargetFromBlock({ ...block, proxy_jump: 'j@b:2' }).jumps).toEqual([{ host: 'b', user: 'j', port: 2 }]);
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

    const explicit = resolveSsh('n3', { sshConfig: file, user: 'me', port: 22, privateKeyPath: '/k', proxyJump: 'none' });
    expect(explicit.settings).toMatchObject({ user: 'me', port: 22, privateKeyPath: '/k', proxyJump: 'none' });
    expect(explicit.fromSshConfig).toEqual(['HostName']);
    // An explicit hop keeps its own user and port; ssh_config only names its address.
    expect(resolveSsh('n3', { sshConfig: file, proxyJump: 'root@bastion:22' }).settings.proxyJump).toBe('root@198.18.0.1:22');
  });

  it('a host no entry matches is left alone, and without sshConfig nothing is read', () => {
    const file = writeConfig('config2', 'Host other\n  User x\n');
    expect(resolveSsh('198.18.0.9', { sshConfig: file })).toEqual({
      host: '198.18.0.9',
      settings: { user: 'root', port: 22, knownHostsPath: '~/.ssh/known_hosts' },
      fromSshConfig: [],
    });
    expect(resolveSsh('198.18.0.9', { user: 'u' })).toEqual({ host: '198.18.0.9', settings: { user: 'u' }, fromSshConfig: [] });
  });

  it('never runs Match exec, and refuses tokens it cannot expand', () => {
    const marker = path.join(dir, 'exec-ran');
    const file = writeConfig('config3', `Match exec "touch ${marker}"\n  User evil\nHost t\n  IdentityFile /k/%r\n`);
    expect(sshConfigFor(file, 'h').user).toBeUndefined();
    expect(fs.existsSync(marker)).toBe(false);
    expect(() => sshConfigFor(file, 't')).toThrow('IdentityFile "/k/%r" uses %r, which is not supported here (only %h, %d, %%)');
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
      expect.stringMatching(new RegExp(`^nodes\\[1\\] "n2"\\.ssh\\.sshConfig: ProxyJump from ${file.replace(/[.]/g, '\\.')}: "a@@b:0" is not a ProxyJump value`)),
    ]);
    expect(clusterProblems(cluster({ nodes: [node(1, { ssh: { proxyJump: 'root@198.18.0.1' } }), node(2)] }))).toEqual([
      'nodes[0] "n1".ssh.proxyJump: "root@198.18.0.1" goes through the node itself (198.18.0.1); use "none" on the bastion\'s own node',
    ]);
  });

  it('bad proxyJump and sshConfig values are named by field and node', () => {
    expect(
      clusterProblems(cluster({ ssh: { proxyJump: 'x y' }, nodes: [node(1, { ssh: { proxyJump: 'none' } }), node(2, { ssh: { proxyJump: 'h:70000', sshConfig: 'rel' } })] })),
    ).toEqual([
      'ssh.proxyJump: "x y" is not a ProxyJump value: hop "x y": "x y" is not a host name or address',
      'nodes[1] "n2".ssh.proxyJump: "h:70000" is not a ProxyJump value: hop "h:70000": "70000" is not a port number (1..65535)',
      'nodes[1] "n2".ssh.sshConfig: "rel" is not an absolute path',
    ]);
    expect(clusterProblems(cluster({ ssh: { proxyJump: 'root@198.18.0.1' }, nodes: [node(1, { ssh: { proxyJump: 'none' } }), node(2)] }))).toEqual([]);
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
    expect(problems('{ sshConfig: false }')).toEqual(['ssh.sshConfig: expected true or a file path, found boolean false']);
    expect(problems('{ proxyJump: 22 }')).toEqual(['ssh.proxyJump: expected a string, found number 22']);
    expect(problems('{ proxyJmp: x }')).toEqual(['ssh: unknown key "proxyJmp" (did you mean "proxyJump"?)']);
    const file = writeConfig('inv-config', 'Host n2-alias\n  HostName 198.18.0.2\n  ProxyJump ops@198.18.0.1\n');
    const c = parseInventory(inventory(`{ sshConfig: ${path.basename(file)} }`), path.join(dir, 'cluster.yaml'));
    expect(c.ssh?.sshConfig).toBe(file);
    // With ssh_config the loader does not write the defaults as if they were explicit.
    expect(c.ssh?.user).toBeUndefined();
    expect(resolveNodeSsh(c.nodes[1], c.ssh)).toMatchObject({ host: '198.18.0.2', settings: { proxyJump: 'ops@198.18.0.1', user: 'root' }, fromSshConfig: ['HostName', 'ProxyJump'] });
  });

  it('the resources’ ssh block carries the resolved values and from_ssh_config', () => {
    const file = writeConfig('construct-config', 'Host n2-alias\n  HostName 198.18.0.2\n  ProxyJump ops@198.18.0.1:2222\n');
    const stack = new TerraformStack(Testing.app(), 'st');
    {
      const c = new CalicoCluster(stack, 'c', { name: 'c', podCidr: '198.19.0.0/16', ssh: { sshConfig: file } });
      new CalicoNode(c, 'n1', { name: 'n1', address: '198.18.0.1', podCidr: '198.19.1.0/24', ssh: { proxyJump: 'none' } });
      new CalicoNode(c, 'n2', { name: 'n2', address: '198.18.0.2', podCidr: '198.19.2.0/24', sshHost: 'n2-alias' });
    }
    const nodes = Object.values(JSON.parse(Testing.synth(stack)).resource.calico_node) as { name: string; ssh: Record<string, unknown> }[];
    expect(nodes.find((n) => n.name === 'n2')!.ssh).toEqual({
      host: '198.18.0.2',
      user: 'root',
      port: 22,
      known_hosts_path: '~/.ssh/known_hosts',
      proxy_jump: 'ops@198.18.0.1:2222',
      from_ssh_config: ['HostName', 'ProxyJump'],
    });
    expect(nodes.find((n) => n.name === 'n1')!.ssh).toEqual({ host: '198.18.0.1', user: 'root', port: 22, known_hosts_path: '~/.ssh/known_hosts', proxy_jump: 'none' });
  });
});
