/**
 * Tests for the mutants that survived the mutation run over the code merged after the first
 * analysis (ssh_config and ProxyJump validation, the overlay plan, the inventory's ssh_config
 * defaults). docs/mutation-survivors.md lists each survivor and the test that kills it.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { resolveNodeSsh } from '../../rules/ssh';
import { ClusterSpec, NodeSpec } from '../../constructs/model';
import { ClusterValidationError, clusterProblems } from '../../constructs/validation';
import { overlayPlanOf } from '../../constructs/overlay';
import { resolveSsh } from '../../rules/ssh';
import { clearSshConfigCache } from '../../rules/ssh-config';
import { parseInventory } from '../../stacks/inventory';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-merged-survivors-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function node(k: number, over: Partial<NodeSpec> = {}): NodeSpec {
  return {
    name: `n${k}`,
    address: `198.18.1.${k}`,
    prefixLength: 24,
    podCidr: `198.19.${k}.0/24`,
    workloads: [],
    ...over,
  };
}

function cluster(over: Partial<ClusterSpec> = {}): ClusterSpec {
  return { name: 'lab', podCidr: '198.19.0.0/16', nodes: [node(1)], peers: [], ...over };
}

/** Runs `fn` with the home directory at a fresh directory whose ~/.ssh/config is `config`. */
function withHome<T>(config: string, fn: () => T): T {
  const home = fs.mkdtempSync(path.join(dir, 'home-'));
  fs.mkdirSync(path.join(home, '.ssh'));
  fs.writeFileSync(path.join(home, '.ssh', 'config'), config);
  // jest gives each suite its own copy of process.env, which os.homedir() does not read; the
  // module object itself (the `import * as os` namespace only forwards to it) can be spied on.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the module object itself, which jest.spyOn can replace a property on
  const spy = jest.spyOn(require('os') as typeof os, 'homedir').mockReturnValue(home);
  clearSshConfigCache();
  try {
    return fn();
  } finally {
    spy.mockRestore();
    clearSshConfigCache();
  }
}

describe('ssh_config validation of a node', () => {
  it('a relative sshConfig is reported once, without trying to read it', () => {
    expect(clusterProblems(cluster({ ssh: { sshConfig: 'relative/ssh_config' } }))).toEqual([
      'ssh.sshConfig: "relative/ssh_config" is not an absolute path',
    ]);
  });

  it('a bad proxyJump is reported once, without reading the (missing) ssh_config', () => {
    const missing = path.join(dir, 'no-such-config');
    expect(clusterProblems(cluster({ ssh: { sshConfig: missing, proxyJump: 'bad!hop' } }))).toEqual([
      'ssh.proxyJump: "bad!hop" is not a ProxyJump value: hop "bad!hop": "bad!hop" is not a host name or address',
    ]);
  });

  it('sshConfig true: a bad HostName from ~/.ssh/config is named with "~/.ssh/config"', () => {
    const problems = withHome('Host n1-ssh\n  HostName bad!host\n', () =>
      clusterProblems(cluster({ nodes: [node(1, { sshHost: 'n1-ssh' })], ssh: { sshConfig: true } })),
    );
    expect(problems).toEqual([
      'nodes[0] "n1".ssh.sshConfig: HostName from ~/.ssh/config: "bad!host" is not a host name or address',
    ]);
  });

  it('sshConfig true: a good HostName from ~/.ssh/config passes', () => {
    expect(
      withHome('Host n1-ssh\n  HostName 198.18.9.9\n', () =>
        clusterProblems(cluster({ nodes: [node(1, { sshHost: 'n1-ssh' })], ssh: { sshConfig: true } })),
      ),
    ).toEqual([]);
  });

  it('resolveSsh with sshConfig true reads exactly ~/.ssh/config', () => {
    const r = withHome('Host n1-ssh\n  HostName 198.18.9.9\n  Port 2201\n', () =>
      resolveSsh('n1-ssh', { sshConfig: true }),
    );
    expect(r.host).toBe('198.18.9.9');
    expect(r.settings.port).toBe(2201);
    expect([...r.fromSshConfig].sort()).toEqual(['HostName', 'Port']);
  });

  it('a jump through the node address on another port is not a jump through the node itself', () => {
    expect(clusterProblems(cluster({ nodes: [node(1, { ssh: { proxyJump: '198.18.1.1:2222' } })] }))).toEqual([]);
    expect(clusterProblems(cluster({ nodes: [node(1, { ssh: { proxyJump: '198.18.1.1:22' } })] }))).toEqual([
      'nodes[0] "n1".ssh.proxyJump: "198.18.1.1:22" goes through the node itself (198.18.1.1); use "none" on the bastion\'s own node',
    ]);
  });
});

describe('the overlay plan of an unknown node', () => {
  it('names the node and the cluster', () => {
    expect(() => overlayPlanOf(cluster({ vxlanMode: 'Always' }), 'nx')).toThrow(
      new Error('no node named "nx" in cluster "lab"'),
    );
  });
});

describe('inventory with sshConfig', () => {
  const inv = (sshConfig: string) => `cluster: { name: lab, podCidr: 198.19.0.0/16 }
ssh: { sshConfig: ${sshConfig} }
nodes:
  - { name: node1, address: 198.18.0.1, podCidr: 198.19.1.0/24 }
`;
  const load = (text: string) => {
    try {
      return parseInventory(text, path.join(dir, 'cluster.yaml'));
    } catch (err) {
      throw new Error(((err as ClusterValidationError).problems ?? [String(err)]).join('\n'), { cause: err });
    }
  };

  it('a file path is accepted and leaves user, port and known_hosts to ssh_config', () => {
    const file = path.join(dir, 'ssh_config');
    fs.writeFileSync(file, 'Host 198.18.0.1\n  User ops\n');
    clearSshConfigCache();
    expect(load(inv(file)).ssh).toEqual({ sshConfig: file });
  });

  it('true is accepted and leaves user, port and known_hosts to ssh_config', () => {
    expect(withHome('Host 198.18.0.1\n  User ops\n', () => load(inv('true')).ssh)).toEqual({ sshConfig: true });
  });

  it('sshConfig on one node only also leaves the cluster-wide defaults unwritten', () => {
    const file = path.join(dir, 'ssh_config_node');
    fs.writeFileSync(file, 'Host 198.18.0.1\n  User ops\n  Port 2222\n');
    clearSshConfigCache();
    const text = `cluster: { name: lab, podCidr: 198.19.0.0/16 }
nodes:
  - { name: node1, address: 198.18.0.1, podCidr: 198.19.1.0/24, ssh: { sshConfig: ${file} } }
`;
    const c = load(text);
    expect(c.ssh).toEqual({});
    expect(resolveNodeSsh(c.nodes[0], c.ssh).settings).toMatchObject({ user: 'ops', port: 2222 });
  });

  it('without sshConfig the defaults are written out', () => {
    const text = `cluster: { name: lab, podCidr: 198.19.0.0/16 }
nodes:
  - { name: node1, address: 198.18.0.1, podCidr: 198.19.1.0/24 }
`;
    expect(load(text).ssh).toEqual({
      user: 'root',
      port: 22,
      knownHostsPath: path.join(os.homedir(), '.ssh', 'known_hosts'),
    });
  });
});
