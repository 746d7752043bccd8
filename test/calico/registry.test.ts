/**
 * The host's registry of our objects (providers/calico/registry.ts): the parser, the leftovers
 * rule, and the shell functions that write the file, run by a local bash on a temp file (they
 * touch nothing but that file).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { hostInterfaceName } from '../../providers/calico/names';
import { leftoversOf, OVERLAY_DEVICES, parseRegistry, wantedOf } from '../../providers/calico/registry';
import { remoteScript } from '../../providers/calico/script';

describe('parseRegistry', () => {
  test('reads kind, name and node; ignores anything else', () => {
    expect(
      parseRegistry(
        'link vxlan.calico node1\nnetns web node1\n\nroute 1.2.3.4 node1\nlink onlytwo\n  netns db node2  \n',
      ),
    ).toEqual([
      { kind: 'link', name: 'vxlan.calico', node: 'node1' },
      { kind: 'netns', name: 'web', node: 'node1' },
      { kind: 'netns', name: 'db', node: 'node2' },
    ]);
  });
});

describe('wantedOf', () => {
  test('the overlay device and each workload (namespace and host veth)', () => {
    const w = wantedOf('node1', 'vxlan', ['web']);
    expect([...w.links].sort()).toEqual([hostInterfaceName('node1', 'web'), 'vxlan.calico'].sort());
    expect([...w.netns!]).toEqual(['web']);
    expect([...wantedOf('node1', 'ipip', []).links]).toEqual(['tunl0']);
  });
  test('no encapsulation wants no device; workloads unset leaves namespaces unsaid', () => {
    const w = wantedOf('node1', null, null);
    expect([...w.links]).toEqual([]);
    expect(w.netns).toBeUndefined();
    expect([...wantedOf('node1', 'bogus', null).links]).toEqual([]);
  });
});

describe('leftoversOf', () => {
  const hif = hostInterfaceName('node1', 'old');
  const entries = parseRegistry(`netns old node1\nlink ${hif} node1\nlink vxlan.calico node1\nnetns web node1\n`);
  const marked = { links: new Set(['vxlan.calico', hif, 'vxlan.calico.t']), netns: new Set(['old', 'web', 'stray']) };

  test('marked objects the registry lists, or our overlay devices, that the configuration does not want', () => {
    expect(leftoversOf(entries, marked, wantedOf('node1', null, ['web']))).toEqual([
      `link ${hif}`,
      'link vxlan.calico',
      'link vxlan.calico.t',
      'netns old',
    ]);
  });
  test('what the configuration wants is no leftover', () => {
    expect(leftoversOf(entries, marked, wantedOf('node1', 'vxlan', ['web', 'old']))).toEqual(['link vxlan.calico.t']);
  });
  test('workload objects count only when the configuration lists its workloads', () => {
    expect(leftoversOf(entries, marked, wantedOf('node1', 'vxlan', null))).toEqual(['link vxlan.calico.t']);
  });
  test('unmarked objects are never leftovers, listed or not (a marked namespace nobody listed neither)', () => {
    expect(leftoversOf(entries, { links: new Set(), netns: new Set(['stray']) }, wantedOf('node1', null, []))).toEqual(
      [],
    );
  });
  test('every overlay device name is a candidate', () => {
    expect(OVERLAY_DEVICES).toEqual(['vxlan.calico', 'tunl0', 'vxlan.calico.t']);
  });
});

describe('register / unregister (bash)', () => {
  let dir: string;
  let registry: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'registry-'));
    registry = path.join(dir, 'sub', 'objects');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function bash(node: string, body: string): string {
    const r = spawnSync(
      'bash',
      ['--norc', '--noprofile', '-c', remoteScript(['lib/registry', { text: body }], { node, registry }).text],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(r.stderr);
    return fs.existsSync(registry) ? fs.readFileSync(registry, 'utf8') : '<none>';
  }

  test('adds lines once, in order, creating the directory', () => {
    expect(bash('node1', 'register netns web; register link caliabc; register netns web')).toBe(
      'netns web node1\nlink caliabc node1\n',
    );
  });
  test('a line for the same object made by another node replaces the old one', () => {
    bash('node1', 'register netns web; register link vxlan.calico');
    expect(bash('node2', 'register netns web')).toBe('link vxlan.calico node1\nnetns web node2\n');
  });
  test('a repeated register writes nothing (the file keeps its inode)', () => {
    bash('node1', 'register netns web');
    const ino = fs.statSync(registry).ino;
    bash('node1', 'register netns web');
    expect(fs.statSync(registry).ino).toBe(ino);
  });
  test('unregister drops only that object; an absent file or line is no error', () => {
    expect(bash('node1', 'unregister netns web')).toBe('<none>');
    bash('node1', 'register netns web; register netns web2; register link web');
    expect(bash('node1', 'unregister netns web')).toBe('netns web2 node1\nlink web node1\n');
    expect(bash('node1', 'unregister netns nothere')).toBe('netns web2 node1\nlink web node1\n');
  });
  test('names are compared whole, not as prefixes', () => {
    bash('node1', 'register netns web2');
    expect(bash('node1', 'register netns web; unregister netns web')).toBe('netns web2 node1\n');
  });
});
