/**
 * `calico-net explain` (cli/explain.ts) at the edges explain.test.ts does not reach: PROTO/PORT
 * bounds and spellings, parties by address, the text of each kind of packet, and the command's
 * arguments (options with values, too many positionals, an inventory with no policies).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { stringify as toYaml } from 'yaml';
import { compilePolicyModel } from '../../constructs/policy-compile';
import { explain, explainCommand, parseProtoPort, renderExplanation, resolveParty } from '../../cli/explain';
import { threeTier } from '../constructs/policy-fixture';

const model = compilePolicyModel(threeTier())!;

describe('PROTO/PORT', () => {
  test('names in any case, numbers 1..255 (ICMP and port protocols by number too)', () => {
    expect(parseProtoPort('Tcp/80')).toEqual({ protocol: 6, port: 80 });
    expect(parseProtoPort('ICMP')).toEqual({ protocol: 1, icmpType: 8, icmpCode: 0 });
    expect(parseProtoPort('1')).toEqual({ protocol: 1, icmpType: 8, icmpCode: 0 });
    expect(parseProtoPort('1/0')).toEqual({ protocol: 1, icmpType: 0 });
    expect(parseProtoPort('255')).toEqual({ protocol: 255 });
    expect(parseProtoPort('17/53')).toEqual({ protocol: 17, port: 53 });
    expect(parseProtoPort('132/9')).toEqual({ protocol: 132, port: 9 });
    expect(parseProtoPort('sctp/0')).toEqual({ protocol: 132, port: 0 });
  });

  test('bounds: ports 0..65535, ICMP type and code 0..255', () => {
    expect(parseProtoPort('tcp/65535')).toEqual({ protocol: 6, port: 65535 });
    expect(parseProtoPort('icmp/255/255')).toEqual({ protocol: 1, icmpType: 255, icmpCode: 255 });
    expect(parseProtoPort('icmp/0/0')).toEqual({ protocol: 1, icmpType: 0, icmpCode: 0 });
    for (const bad of ['tcp/65536', 'udp/', 'udp', 'sctp', 'tcp/-1', 'tcp/1e3', 'icmp/256', 'icmp/1/256', 'icmp/8/'])
      expect(() => parseProtoPort(bad)).toThrow(`"${bad}" is not PROTO/PORT`);
    for (const bad of ['icmp//0', '1234', '-6', '6.0', '47.0', '1e2', '+47', ' 47', '47 ', 'x6', '', '/80'])
      expect(() => parseProtoPort(bad)).toThrow(`"${bad}" is not PROTO/PORT`);
  });
});

describe('parties', () => {
  test('an address is the workload that holds it, or no workload', () => {
    expect(resolveParty(model, model.endpoints, '198.19.2.2')).toEqual({
      ip: '198.19.2.2',
      endpoint: model.endpoints.find((e) => e.workload === 'api'),
    });
    expect(resolveParty(model, model.endpoints, '198.19.9.9')).toEqual({ ip: '198.19.9.9', endpoint: undefined });
    expect(resolveParty(model, model.endpoints, 'node2/api')).toEqual(resolveParty(model, model.endpoints, 'api'));
    expect(() => resolveParty(model, model.endpoints, 'node1/api')).toThrow(
      '"node1/api" is neither a workload of the inventory nor an IPv4 or IPv6 address',
    );
    expect(() => resolveParty(model, model.endpoints, '198.19.2.256')).toThrow(/is neither a workload/);
  });
});

describe('the text', () => {
  const text = (src: string, dst: string, proto?: string) =>
    renderExplanation(model, explain(model, model.endpoints, src, dst, proto)).split('\n')[0];

  test('each kind of packet is named', () => {
    expect(text('198.19.9.1', '198.19.9.2')).toBe(
      '198.19.9.1 (not a workload) -> 198.19.9.2 (not a workload)  ICMP type 8 code 0: Allow',
    );
    expect(text('198.19.9.1', '198.19.9.2', 'icmp/3')).toMatch(/ {2}ICMP type 3: Allow$/);
    expect(text('198.19.9.1', '198.19.9.2', 'udp/53')).toMatch(/ {2}UDP\/53: Allow$/);
    expect(text('198.19.9.1', '198.19.9.2', 'sctp/9')).toMatch(/ {2}SCTP\/9: Allow$/);
    expect(text('198.19.9.1', '198.19.9.2', '200')).toMatch(/ {2}protocol 200: Allow$/);
  });

  test('several policies on one end: listed in order, each with its order', () => {
    const spec = threeTier();
    const extra = { name: 'db-first', order: 5, selector: "role == 'db'", ingress: [{ action: 'Log' as const }] };
    const two = compilePolicyModel({ ...spec, policies: [...spec.policies!, extra] })!;
    expect(renderExplanation(two, explain(two, two.endpoints, 'api', 'db', 'tcp/5432')).split('\n')[3]).toBe(
      '  ingress of node1/db: policies db-first (order 5), db (order 10)',
    );
  });

  test('the JSON form holds parties, packet and verdict', () => {
    const e = explain(model, model.endpoints, 'api', 'db', 'tcp/5432');
    expect(e.packet).toEqual({ src: '198.19.2.2', dst: '198.19.1.3', protocol: 6, port: 5432 });
    expect(e.src.endpoint?.workload).toBe('api');
    expect(e.verdict.action).toBe('Allow');
    expect(e.verdict.steps.map((s) => [s.direction, s.endpoint])).toEqual([
      ['egress', 'node2/api'],
      ['ingress', 'node1/db'],
    ]);
  });
});

describe('the command', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-explain-m-'));
  const write = (name: string, policies: unknown) => {
    const spec = threeTier();
    const file = path.join(dir, name);
    fs.writeFileSync(
      file,
      toYaml({
        cluster: { name: spec.name, podCidr: spec.podCidr },
        nodes: spec.nodes,
        ...(policies ? { policies } : {}),
      }),
    );
    return file;
  };
  const withPolicies = write('with.yaml', threeTier().policies);
  const without = write('without.yaml', undefined);

  async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const o = jest.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    const e = jest.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
    try {
      const code = await explainCommand(argv);
      return { code, out: out.join(''), err: err.join('') };
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
  }

  test('options and their values anywhere are not positionals; a third positional is PROTO/PORT', async () => {
    const r = await run(['--inventory', withPolicies, 'front', '--format', 'table', 'api', 'tcp/8080']);
    expect([r.code, r.err]).toEqual([0, '']);
    expect(r.out.split('\n')[0]).toBe('front (node1, 198.19.1.2) -> api (node2, 198.19.2.2)  TCP/8080: Allow');
    // Without PROTO/PORT: an ICMP echo request.
    expect((await run(['front', 'api', '--inventory', withPolicies])).out.split('\n')[0]).toMatch(
      /ICMP type 8 code 0: Deny$/,
    );
  });

  test('too few or too many positionals: usage, exit 1', async () => {
    for (const argv of [[], ['a'], ['a', 'b', 'tcp/1', 'd']]) {
      const r = await run([...argv, '--inventory', withPolicies]);
      expect([r.code, r.out, r.err]).toEqual([
        1,
        '',
        'usage: calico-net explain SRC DST [PROTO/PORT] [--ipv6] [--inventory FILE] [--format table|json]\n',
      ]);
    }
  });

  test('an inventory with no policies: workloads are still found by name, and every one is open', async () => {
    const r = await run(['front', 'api', 'tcp/1', '--inventory', without]);
    expect([r.code, r.err]).toEqual([0, '']);
    expect(r.out).toBe(
      'front (node1, 198.19.1.2) -> api (node2, 198.19.2.2)  TCP/1: Allow\n  no policies are declared: every workload is open\n',
    );
    const json = await run(['front', 'api', '--inventory', without, '--format', 'json']);
    expect(JSON.parse(json.out)).toMatchObject({
      src: { ip: '198.19.1.2', endpoint: { node: 'node1', workload: 'front', iface: '', labels: { role: 'front' } } },
      dst: { ip: '198.19.2.2', endpoint: { node: 'node2', workload: 'api', iface: '', labels: { role: 'api' } } },
      verdict: { action: 'Allow', steps: [] },
    });
  });

  test('a bad inventory or a bad format: the reason on stderr, exit 1', async () => {
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(bad, toYaml({ cluster: { name: 'lab', podCidr: '198.19.0.0/16' }, nodes: [{ name: 'n 1' }] }));
    const r = await run(['a', 'b', '--inventory', bad]);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toBe('calico-net explain: 2 problems:\n  nodes[0].address: required\n  nodes[0].podCidr: required\n');
    const f = await run(['front', 'api', '--inventory', withPolicies, '--format', 'xml']);
    expect(f.code).toBe(1);
    expect(f.err).toMatch(/^calico-net explain: .*xml/);
  });
});
