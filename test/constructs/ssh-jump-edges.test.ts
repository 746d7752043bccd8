/**
 * Edges of the ProxyJump parser, of ssh_config applied to jump hops, and of node prefixes: the
 * cases the mutation run on the merged bastion and subnet code found untested (the inventory's
 * sshConfig shape is in test/stacks/inventory.test.ts).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseProxyJump, resolveSsh, sshTarget } from '../../rules/ssh';
import { clearSshConfigCache } from '../../rules/ssh-config';
import { prefixLengthProblem, withSplitAddress } from '../../rules/subnets';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-jump-edges-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('parseProxyJump', () => {
  it('reports an empty value and empty parts with the part as written', () => {
    expect(parseProxyJump('   ')).toBe('must not be empty (use "none" for a direct connection)');
    expect(parseProxyJump('@h')).toBe('hop "@h": "" is not a valid user name');
    expect(parseProxyJump(':22')).toBe('hop ":22": "" is not a host name or address');
  });

  it('takes a bare host, a host with a port, and several colons as one host', () => {
    expect(parseProxyJump('h')).toEqual([{ host: 'h', user: undefined, port: undefined }]);
    expect(parseProxyJump('u@h:2222')).toEqual([{ host: 'h', user: 'u', port: 2222 }]);
    expect(parseProxyJump('fe80::1')).toEqual([{ host: 'fe80::1', user: undefined, port: undefined }]);
  });

  it('reads brackets only around the whole host', () => {
    expect(parseProxyJump('[h]')).toEqual([{ host: 'h', user: undefined, port: undefined }]);
    expect(parseProxyJump('[fe80::1]:22')).toEqual([{ host: 'fe80::1', user: undefined, port: 22 }]);
    expect(parseProxyJump('a[b]:22')).toMatch(/^hop "a\[b\]:22": "a\[b\]" is not a host name/);
    expect(parseProxyJump('[h]x')).toMatch(/^hop "\[h\]x": "\[h\]x" is not a host name/);
  });

  it('accepts ports 1 and 65535 and nothing outside or not wholly digits', () => {
    expect(parseProxyJump('h:1')).toEqual([{ host: 'h', user: undefined, port: 1 }]);
    expect(parseProxyJump('h:65535')).toEqual([{ host: 'h', user: undefined, port: 65535 }]);
    for (const bad of ['0', '65536', 'x22', '22x'])
      expect(parseProxyJump(`h:${bad}`)).toBe(`hop "h:${bad}": "${bad}" is not a port number (1..65535)`);
  });

  it('an SSH target refuses a bad value instead of connecting somewhere else', () => {
    expect(() => sshTarget('n', { proxyJump: '' })).toThrow('ssh.proxyJump "": must not be empty');
  });
});

describe('ssh_config applied to jump hops', () => {
  let file: string;
  beforeAll(() => {
    file = path.join(dir, 'config');
    fs.writeFileSync(
      file,
      [
        'Host bastion',
        '  HostName 198.18.0.1',
        'Host jumpuser',
        '  User jumper',
        'Host jumpport',
        '  Port 2201',
        'Host n3',
        '  HostName 198.18.1.3',
        '',
      ].join('\n'),
    );
    clearSshConfigCache();
  });
  const jump = (proxyJump: string) => {
    const r = resolveSsh('n3', { sshConfig: file, proxyJump });
    return [r.settings.proxyJump, [...r.fromSshConfig].sort()];
  };

  it('marks ProxyJump as from ssh_config exactly when the file changed a hop', () => {
    expect(jump('root@bastion:22')).toEqual(['root@198.18.0.1:22', ['HostName', 'ProxyJump']]);
    expect(jump('root@198.18.0.5:22')).toEqual(['root@198.18.0.5:22', ['HostName']]);
    expect(jump('jumpuser:2222')).toEqual(['jumper@jumpuser:2222', ['HostName', 'ProxyJump']]);
    expect(jump('x@jumpuser')).toEqual(['x@jumpuser', ['HostName']]);
    expect(jump('root@jumpport')).toEqual(['root@jumpport:2201', ['HostName', 'ProxyJump']]);
    expect(jump('root@jumpport:22')).toEqual(['root@jumpport:22', ['HostName']]);
  });

  it('keeps a chain a chain, a hop without user or port bare, and brackets a host with colons', () => {
    expect(jump('root@bastion:22,198.18.0.5')).toEqual(['root@198.18.0.1:22,198.18.0.5', ['HostName', 'ProxyJump']]);
    expect(jump('[fe80::1]:22')).toEqual(['[fe80::1]:22', ['HostName']]);
  });

  it('a relative IdentityFile is under ~/.ssh, as OpenSSH reads it', () => {
    const f = path.join(dir, 'config-identity');
    fs.writeFileSync(f, 'Host n9\n  HostName 198.18.9.9\n  IdentityFile id_rel\n');
    clearSshConfigCache();
    const r = resolveSsh('n9', { sshConfig: f });
    expect(r.host).toBe('198.18.9.9');
    expect(r.settings.privateKeyPath).toBe(path.join(os.homedir(), '.ssh', 'id_rel'));
  });
});

describe('node prefixes', () => {
  it('splits at a leading slash too, and takes prefix lengths 1..32 only', () => {
    expect(withSplitAddress({ address: '/24' })).toEqual({ address: '', prefixLength: 24 });
    expect(prefixLengthProblem(1)).toBeNull();
    expect(prefixLengthProblem(33)).toMatch(/from 1 to 32/);
  });
});
