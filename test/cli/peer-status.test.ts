/**
 * `calico-net status` for external peers: the parsers of `birdc show protocols all` (a real
 * BIRD 2.0.12 answer from the fabric-peering lab, in fixtures/) and `birdc show bfd sessions`,
 * and what collectStatus asks and renders for a node with peers (canned hosts).
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseBfdSessions, parseProtocolsAll } from '../../cli/bird-peer-details';
import { collectStatus, renderStatusTable } from '../../cli/status';
import { RemoteHost, RemoteResult } from '../../providers/ssh/types';

const protocolsAll = fs.readFileSync(path.join(__dirname, 'fixtures', 'bird-show-protocols-all.txt'), 'utf8');
const protocols = [
  'BIRD 2.0.12 ready.',
  'Name       Proto      Table      State  Since         Info',
  'Mesh_198_18_70_2 BGP        ---        up     21:25:29.759  Established   ',
  'Global_198_18_70_250 BGP        ---        up     21:25:29.159  Established   ',
].join('\n');
const bfdSessions = [
  'BIRD 2.0.12 ready.',
  'calico_bfd:',
  'IP address                Interface  State      Since         Interval  Timeout',
  '198.18.70.250             eth0       Up         21:40:01.123    0.100    0.300',
  '198.18.70.251             eth0       Down       2026-12-05 21:40:01    1.000    0.000',
].join('\n');

const ok = (stdout: string): RemoteResult => ({ code: 0, stdout, stderr: '' });

function host(answers: Record<string, RemoteResult>): RemoteHost & { scripts: string[] } {
  const scripts: string[] = [];
  return {
    label: 'n1',
    scripts,
    run: async (script: string) => {
      scripts.push(script);
      // The question bird-status.sh is asked: its variable, quoted.
      const key = Object.keys(answers).find((k) => script.includes(`\nquestion='${k}'\n`));
      if (!key) throw new Error(`unexpected script ${script}`);
      return answers[key];
    },
  };
}

test('show protocols all: every BGP session with its neighbor, AS, state and route counts; other protocols left out', () => {
  expect(parseProtocolsAll(protocolsAll)).toEqual([
    {
      protocol: 'Mesh_198_18_70_2',
      bgpState: 'Established',
      neighborAddress: '198.18.70.2',
      neighborAs: 64512,
      imported: 1,
      exported: 1,
      preferred: 1,
    },
    {
      protocol: 'Global_198_18_70_250',
      bgpState: 'Established',
      neighborAddress: '198.18.70.250',
      neighborAs: 65000,
      imported: 1,
      exported: 2,
      preferred: 1,
    },
  ]);
});

test('show protocols all: a session that is down has no counts; "filtered" counts (import keep filtered) are read past', () => {
  const text = [
    'Name       Proto      Table      State  Since         Info',
    'Global_10_0_0_1 BGP        ---        start  21:25:29.159  Active        Socket: Connection refused',
    '  BGP state:          Active',
    '    Neighbor address: 10.0.0.1',
    '    Neighbor AS:      65000',
    'Global_10_0_0_2 BGP        ---        up     21:25:29.159  Established',
    '  BGP state:          Established',
    '  Channel ipv4',
    '    Routes:         4 imported, 2 filtered, 3 exported, 1 preferred',
    'static1    Static     master4    up     21:25:28.742',
    '    Routes:         9 imported, 0 exported, 9 preferred',
  ].join('\n');
  expect(parseProtocolsAll(text)).toEqual([
    { protocol: 'Global_10_0_0_1', bgpState: 'Active', neighborAddress: '10.0.0.1', neighborAs: 65000 },
    { protocol: 'Global_10_0_0_2', bgpState: 'Established', imported: 4, exported: 3, preferred: 1 },
  ]);
});

test('show bfd sessions: one row per session, Since of one or two tokens', () => {
  expect(parseBfdSessions(bfdSessions)).toEqual([
    {
      address: '198.18.70.250',
      interface: 'eth0',
      state: 'Up',
      since: '21:40:01.123',
      interval: '0.100',
      timeout: '0.300',
    },
    {
      address: '198.18.70.251',
      interface: 'eth0',
      state: 'Down',
      since: '2026-12-05 21:40:01',
      interval: '1.000',
      timeout: '0.000',
    },
  ]);
  expect(parseBfdSessions('BIRD 2.0.12 ready.\nNo BFD protocols running\n')).toEqual([]);
});

test('a node with external peers: two more birdc questions (BFD only when a peer has it), and a table of its peers', async () => {
  const h = host({
    protocols: ok(protocols),
    'protocols-all': ok(protocolsAll),
    'bfd-sessions': ok(bfdSessions),
  });
  const [status] = await collectStatus([
    {
      name: 'node1',
      host: h,
      socketPath: '/run/bird/bird.ctl',
      expectedProtocols: ['Mesh_198_18_70_2', 'Global_198_18_70_250'],
      externalPeers: [{ protocol: 'Global_198_18_70_250', address: '198.18.70.250', bfd: true }],
    },
  ]);
  expect(h.scripts.map((script) => /\nquestion='([a-z-]+)'\n/.exec(script)?.[1])).toEqual([
    'protocols',
    'protocols-all',
    'bfd-sessions',
  ]);
  for (const script of h.scripts) expect(script).toContain("\nsock='/run/bird/bird.ctl'\n");
  expect(status.problems).toEqual([]);
  expect(status.peers).toEqual([
    {
      protocol: 'Global_198_18_70_250',
      address: '198.18.70.250',
      asNumber: 65000,
      state: 'Established',
      imported: 1,
      exported: 2,
      bfd: 'Up',
    },
  ]);
  expect(renderStatusTable([status])).toContain(
    [
      '  External peers:',
      '  +---------------+-------+-------------+----------+----------+-----+',
      '  | PEER ADDRESS  | AS    | BGP STATE   | IMPORTED | EXPORTED | BFD |',
      '  +---------------+-------+-------------+----------+----------+-----+',
      '  | 198.18.70.250 | 65000 | Established | 1        | 2        | Up  |',
      '  +---------------+-------+-------------+----------+----------+-----+',
    ].join('\n'),
  );
});

test('without BFD no bfd question; a peer BIRD does not know is "unknown"; a failing birdc is a problem named', async () => {
  const h = host({
    protocols: ok(protocols),
    'protocols-all': { code: 1, stdout: '', stderr: 'Unable to connect' },
  });
  const [status] = await collectStatus([
    {
      name: 'node1',
      host: h,
      socketPath: '/s',
      expectedProtocols: [],
      externalPeers: [{ protocol: 'Global_198_18_70_9', address: '198.18.70.9', bfd: false }],
    },
  ]);
  expect(h.scripts).toHaveLength(2);
  expect(status.peers).toEqual([{ protocol: 'Global_198_18_70_9', address: '198.18.70.9', state: 'unknown' }]);
  expect(status.problems).toEqual(['birdc show protocols all failed (exit 1): Unable to connect']);
  expect(renderStatusTable([status])).toContain('| 198.18.70.9  |    | unknown   |          |          | off |');
});

test('a node without external peers is asked and shown as before', async () => {
  const h = host({ protocols: ok(protocols) });
  const [status] = await collectStatus([
    { name: 'node1', host: h, socketPath: '/s', expectedProtocols: [], externalPeers: [] },
  ]);
  expect(h.scripts).toHaveLength(1);
  expect(status.peers).toBeUndefined();
  expect(renderStatusTable([status])).not.toContain('External peers');
});
