/**
 * `calico-net explain`: parties by name or address, PROTO/PORT parsing, and the explanation
 * text read from the compiled model (no hosts).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { stringify as toYaml } from 'yaml';
import { compilePolicyModel } from '../../constructs/policy-compile';
import { explain, explainCommand, parseProtoPort, renderExplanation } from '../../cli/explain';
import { threeTier } from '../constructs/policy-fixture';

const model = compilePolicyModel(threeTier())!;
const text = (src: string, dst: string, proto?: string) =>
  renderExplanation(model, explain(model, model.endpoints, src, dst, proto));

test('PROTO/PORT', () => {
  expect(parseProtoPort('tcp/5432')).toEqual({ protocol: 6, port: 5432 });
  expect(parseProtoPort('UDP/53')).toEqual({ protocol: 17, port: 53 });
  expect(parseProtoPort('sctp/9')).toEqual({ protocol: 132, port: 9 });
  expect(parseProtoPort('icmp')).toEqual({ protocol: 1, icmpType: 8, icmpCode: 0 });
  expect(parseProtoPort('icmp/3')).toEqual({ protocol: 1, icmpType: 3 });
  expect(parseProtoPort('icmp/3/1')).toEqual({ protocol: 1, icmpType: 3, icmpCode: 1 });
  expect(parseProtoPort('47')).toEqual({ protocol: 47 });
  expect(parseProtoPort('6/80')).toEqual({ protocol: 6, port: 80 });
  for (const bad of [
    'tcp',
    'tcp/x',
    'tcp/70000',
    'tcp/1/2',
    'ftp/21',
    '0',
    '256',
    '47/1',
    'icmp/x',
    'icmp/1/x',
    'icmp/1/2/3',
  ]) {
    expect(() => parseProtoPort(bad)).toThrow(`"${bad}" is not PROTO/PORT`);
  }
});

test('the policies of each end, in order, and what decides', () => {
  expect(text('front', 'api', 'tcp/8080')).toBe(
    [
      'front (node1, 198.19.1.2) -> api (node2, 198.19.2.2)  TCP/8080: Allow',
      '  egress of node1/front: policies no-lab-net (order 20)',
      '    decided by no-lab-net egress[1]: Allow',
      '  ingress of node2/api: policies api (no order)',
      '    decided by api ingress[0]: Allow',
      '',
    ].join('\n'),
  );
  expect(text('node1/front', '198.19.1.3', 'tcp/5432')).toBe(
    [
      'front (node1, 198.19.1.2) -> db (node1, 198.19.1.3)  TCP/5432: Deny',
      '  egress of node1/front: policies no-lab-net (order 20)',
      '    decided by no-lab-net egress[1]: Allow',
      '  ingress of node1/db: policies db (order 10)',
      '    logged by db/ingress[0]',
      '    no rule matched: Deny (a policy selects it for ingress, so what no rule allows is dropped)',
      '',
    ].join('\n'),
  );
  expect(text('other', 'api')).toBe(
    [
      'other (node2, 198.19.2.3) -> api (node2, 198.19.2.2)  ICMP type 8 code 0: Deny',
      '  egress of node2/other: no policy selects it',
      '    open: Allow (no policy selects it for egress)',
      '  ingress of node2/api: policies api (no order)',
      '    no rule matched: Deny (a policy selects it for ingress, so what no rule allows is dropped)',
      '',
    ].join('\n'),
  );
  expect(text('front', '198.18.60.2', 'tcp/22')).toBe(
    [
      'front (node1, 198.19.1.2) -> 198.18.60.2 (not a workload)  TCP/22: Deny',
      '  egress of node1/front: policies no-lab-net (order 20)',
      '    decided by no-lab-net egress[0]: Deny',
      '',
    ].join('\n'),
  );
  expect(text('198.18.60.1', '198.18.60.2', '47')).toBe(
    '198.18.60.1 (not a workload) -> 198.18.60.2 (not a workload)  protocol 47: Allow\n  neither end is a workload: no policy applies\n',
  );
  expect(renderExplanation(undefined, explain(undefined, model.endpoints, 'front', 'db', 'udp/1'))).toBe(
    'front (node1, 198.19.1.2) -> db (node1, 198.19.1.3)  UDP/1: Allow\n  no policies are declared: every workload is open\n',
  );
  expect(() => explain(model, model.endpoints, 'nobody', 'db')).toThrow(
    '"nobody" is neither a workload of the inventory nor an IPv4 or IPv6 address',
  );
  const twice = [...model.endpoints, { ...model.endpoints[0], node: 'node2', ip: '198.19.2.9' }];
  expect(() => explain(model, twice, 'front', 'db')).toThrow(
    '"front" names workloads on several nodes (node1/front, node2/front): write node/name',
  );
});

test('the command reads the inventory only, as table or JSON', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-explain-'));
  const inv = path.join(dir, 'cluster.yaml');
  const spec = threeTier();
  fs.writeFileSync(
    inv,
    toYaml({ cluster: { name: spec.name, podCidr: spec.podCidr }, nodes: spec.nodes, policies: spec.policies }),
  );
  const out: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((s) => (out.push(String(s)), true));
  try {
    expect(await explainCommand(['api', 'db', 'tcp/5432', '--inventory', inv])).toBe(0);
    expect(out.join('')).toContain('api (node2, 198.19.2.2) -> db (node1, 198.19.1.3)  TCP/5432: Allow\n');
    out.length = 0;
    expect(await explainCommand(['--format', 'json', 'api', 'db', 'tcp/5432', '--inventory', inv])).toBe(0);
    expect(JSON.parse(out.join('')).verdict.action).toBe('Allow');
    out.length = 0;
    expect(await explainCommand(['api', '--inventory', inv])).toBe(1);
    expect(out.join('')).toContain('usage: calico-net explain SRC DST');
    out.length = 0;
    expect(await explainCommand(['api', 'db', 'tcp', '--inventory', inv])).toBe(1);
    expect(out.join('')).toBe(
      'calico-net explain: "tcp" is not PROTO/PORT (tcp/5432, udp/53, sctp/9, icmp, icmp/TYPE/CODE, or a protocol number)\n',
    );
  } finally {
    write.mockRestore();
    err.mockRestore();
  }
});
