/** Host-free parts: validation diagnostics, plan hooks, import ids, quoting, provider wiring. */
import { AttributePath, ObjectValue, ResourceHandler, Unknown } from '../../providers/runtime/resource';
import { validationProblems } from '../../providers/runtime/validation';
import {
  birdConfigHandler,
  createCalicoProvider,
  hostInterfaceName,
  nodeHandler,
  workloadHandler,
} from '../../providers/calico';
import { parseImportId } from '../../providers/calico/import-id';
import { scriptWithVars } from '../../providers/calico/script';
import { shQuote } from '../../providers/ssh/quote';
import { spawnSync } from 'child_process';
import { contextFor, fullConfig, planOf, silentLog } from './driver';

const ssh = { host: '198.18.210.1' };
const ctx = contextFor({
  hostFor: () => {
    throw new Error('no host in unit tests');
  },
});

/** What ValidateResourceConfig reports for a configuration: the schema's checks. */
const validate = (h: ResourceHandler<never>, config: ObjectValue) =>
  validationProblems(h.schema.block, config, 'config');

function attributesWithErrors(diags: { attribute?: AttributePath }[]): string[] {
  return diags.map((d) => (d.attribute ?? []).map((s) => (typeof s === 'object' ? s.mapKey : s)).join('.')).sort();
}

test('validate names the offending attributes', () => {
  const node = fullConfig(
    nodeHandler,
    { name: 'bad name;rm', address: '198.18.300.1', pod_cidr: '198.19.0.1/24' },
    { host: 'h;x', port: 70000 },
  );
  expect(attributesWithErrors(validate(nodeHandler, node))).toEqual([
    'address',
    'name',
    'pod_cidr',
    'ssh.host',
    'ssh.port',
  ]);
  const bird = fullConfig(
    birdConfigHandler,
    { node_name: 'n1', content: 'x', config_path: 'etc/bird.conf', socket_path: '/run/../x' },
    ssh,
  );
  expect(attributesWithErrors(validate(birdConfigHandler, bird))).toEqual(['config_path', 'socket_path']);
  const wl = fullConfig(
    workloadHandler,
    { node_name: 'n1', name: '$(reboot)', ip: '169.254.1.1', mtu: 10 },
    { ...ssh, passphrase_env: 'A-B' },
  );
  expect(attributesWithErrors(validate(workloadHandler, wl))).toEqual(['ip', 'mtu', 'name', 'ssh.passphrase_env']);
  const good = fullConfig(
    workloadHandler,
    { node_name: 'node1', name: 'web-1', ip: '198.19.0.5', mtu: 1450 },
    { ...ssh, port: 2222 },
  );
  expect(validate(workloadHandler, good)).toEqual([]);
  // Unknown values are checked at apply, not at validate.
  expect(
    validate(nodeHandler, {
      ...node,
      name: Unknown,
      address: Unknown,
      pod_cidr: Unknown,
      ssh: { ...(node.ssh as ObjectValue), host: Unknown, port: null },
    }),
  ).toEqual([]);
});

test('plan sets facts to the desired values and host_interface at plan time', async () => {
  const wl = fullConfig(workloadHandler, { node_name: 'node1', name: 'web', ip: '198.19.0.5' }, ssh);
  const planned = await planOf(workloadHandler, wl, null, ctx);
  expect(planned).toMatchObject({
    id: 'node1/web',
    host_interface: hostInterfaceName('node1', 'web'),
    netns_present: true,
    pod_interface: true,
    pod_routes: true,
    proxy_arp: '1',
    proxy_delay: '0',
    host_route: true,
    mtu: null,
  });
  expect(hostInterfaceName('node1', 'web')).toHaveLength(15);
  const unknownName = await planOf(workloadHandler, { ...wl, name: Unknown }, null, ctx);
  expect(unknownName.host_interface).toBe(Unknown);
  const node = await planOf(
    nodeHandler,
    fullConfig(nodeHandler, { name: 'n1', address: '198.18.0.1', pod_cidr: '198.19.0.0/26' }, ssh),
    null,
    ctx,
  );
  expect(node).toMatchObject({
    id: 'n1',
    ip_forward: '1',
    blackhole_route: true,
    gateway_route: true,
    original_ip_forward: Unknown,
  });
  // Optional inputs stay null in the plan (defaults are applied where they are used).
  const bird = await planOf(
    birdConfigHandler,
    fullConfig(birdConfigHandler, { node_name: 'n1', content: 'x' }, ssh),
    null,
    ctx,
  );
  expect(bird).toMatchObject({
    id: 'n1:/etc/bird/bird.conf',
    config_path: null,
    socket_path: null,
    backup_path: Unknown,
  });
});

test('import ids', () => {
  expect(parseImportId('node1/web@198.18.0.1', 'f')).toMatchObject({
    subject: 'node1/web',
    ssh: { host: '198.18.0.1', port: null, user: null },
  });
  expect(parseImportId('node1:/etc/bird/bird.conf@ops@h.example:2222', 'f')).toMatchObject({
    subject: 'node1:/etc/bird/bird.conf',
    ssh: { host: 'h.example', port: 2222, user: 'ops' },
  });
  expect(parseImportId('n1@[2001:db8::1]:22', 'f').ssh).toMatchObject({ host: '2001:db8::1', port: 22 });
  expect(() => parseImportId('node1', 'f')).toThrow(/missing "@host"/);
  expect(() => parseImportId('n1@h;rm -rf /', 'f')).toThrow(/not a host name/);
  expect(() => parseImportId('n1@h:99999', 'f')).toThrow(/out of range/);
});

test('import ids of hosts behind jump hosts: " via " and a ProxyJump value, checked like proxy_jump', () => {
  expect(parseImportId('node3@198.18.35.131 via ops@198.18.35.1', 'f')).toMatchObject({
    subject: 'node3',
    ssh: { host: '198.18.35.131', user: null, proxy_jump: 'ops@198.18.35.1' },
  });
  expect(parseImportId('node3/web@root@h:22 via ops@b1:2222,b2', 'f')).toMatchObject({
    subject: 'node3/web',
    ssh: { host: 'h', port: 22, user: 'root', proxy_jump: 'ops@b1:2222,b2' },
  });
  expect(parseImportId('node3@h', 'f').ssh.proxy_jump).toBeNull();
  expect(() => parseImportId('node3@h via ', 'f')).toThrow(/Invalid import id/);
  expect(() => parseImportId('node3@h via ops@b;reboot', 'f')).toThrow(/is not a ProxyJump value: hop "ops@b;reboot"/);
  expect(() => parseImportId('node3@h via a,b,c,d,e,f,g,h,i', 'f')).toThrow(/9 hops; at most 8/);
  // The jump part does not leak into the host: what is before " via " must stand on its own.
  expect(() => parseImportId(' via ops@b', 'f')).toThrow(/missing "@host"/);
});

test('quoting survives hostile values in a real bash', () => {
  const nasty = `a'b"c $(echo pwned) \`x\` ; \\ \n end`;
  const script = scriptWithVars({ v: nasty }, 'printf %s "$v"');
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
  expect(r.stdout).toBe(nasty);
  expect(shQuote("it's")).toBe(`'it'\\''s'`);
});

test('provider: configure builds the resolver from the factory and close releases it', async () => {
  let closed = 0;
  let settings: unknown;
  const provider = createCalicoProvider((s) => {
    settings = s;
    return {
      hostFor: () => {
        throw new Error('unused');
      },
      close: () => {
        closed++;
      },
    };
  });
  expect(provider.resources.map((r) => r.typeName).sort()).toEqual([
    'calico_bird_config',
    'calico_node',
    'calico_overlay',
    'calico_policy_ruleset',
    'calico_workload',
  ]);
  const state = await provider.configure(
    { connect_timeout: 5, connect_retries: null },
    { signal: new AbortController().signal, log: silentLog },
  );
  expect(settings).toMatchObject({ connectTimeoutSeconds: 5, connectRetries: 2 });
  await provider.close!(state);
  expect(closed).toBe(1);
});
