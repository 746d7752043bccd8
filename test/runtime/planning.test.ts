/** Plan defaults, forceNew → requires_replace, apply invariants. */
import { checkApplyResult, forceNewChanges, planDefaults } from '../../providers/runtime/planning';
import { ObjectValue, Unknown } from '../../providers/runtime/resource';
import { resourceSchemas } from '../../providers/calico/schema';

const node = resourceSchemas.calico_node.block;
const ssh = {
  host: 'h1',
  port: null,
  user: null,
  private_key_path: null,
  passphrase_env: null,
  known_hosts_path: null,
  sudo: null,
};
const config = {
  id: null,
  name: 'n1',
  address: '10.0.0.1',
  pod_cidr: '10.244.1.0/24',
  ip_forward: null,
  blackhole_route: null,
  gateway_route: null,
  original_ip_forward: null,
  ssh,
};
const prior = {
  ...config,
  id: 'n1',
  ip_forward: '1',
  blackhole_route: true,
  gateway_route: true,
  original_ip_forward: '0',
};

test('create: computed-only attributes become Unknown, inputs stay as configured', () => {
  const planned = planDefaults(node, null, config, config);
  expect(planned.id).toBe(Unknown);
  expect(planned.ip_forward).toBe(Unknown);
  expect(planned.name).toBe('n1');
  expect(planned.ssh).toEqual(ssh);
});

test('update: computed attributes keep their prior value', () => {
  const proposed = { ...config, address: '10.0.0.2' };
  const planned = planDefaults(node, prior, proposed, proposed);
  expect(planned.id).toBe('n1');
  expect(planned.original_ip_forward).toBe('0');
  expect(planned.address).toBe('10.0.0.2');
});

test('requires_replace: changed forceNew attributes, nested ones included; others not', () => {
  expect(forceNewChanges(node, prior, { ...prior, address: 'x' })).toEqual([]);
  expect(forceNewChanges(node, prior, { ...prior, pod_cidr: '10.244.2.0/24' })).toEqual([['pod_cidr']]);
  expect(forceNewChanges(node, prior, { ...prior, ssh: { ...ssh, host: 'h2' } })).toEqual([['ssh', 'host']]);
  const unknownHost: ObjectValue = { ...prior, ssh: { ...ssh, host: Unknown } };
  expect(forceNewChanges(node, prior, unknownHost)).toEqual([['ssh', 'host']]);
  expect(forceNewChanges(node, null, prior)).toEqual([]);
});

test('apply invariants: unknown leftovers and values that differ from the plan are named', () => {
  const planned: ObjectValue = { ...prior, ip_forward: '1', id: Unknown };
  const ok = checkApplyResult(node, planned, { ...prior, id: 'n1' });
  expect(ok.violations).toEqual([]);

  const result: ObjectValue = { ...prior, id: Unknown, ip_forward: '0', ssh: { ...ssh, host: 'other' } };
  const bad = checkApplyResult(node, planned, result);
  expect(bad.violations.map((v) => v.path)).toEqual([['id'], ['ip_forward'], ['ssh', 'host']]);
  expect(bad.violations[1].problem).toMatch(/ip_forward was planned as "1" but apply produced "0"/);
  // The repaired value is consistent with the plan, so Terraform shows our diagnostic, not its own.
  expect(bad.repaired.ip_forward).toBe('1');
  expect(bad.repaired.id).toBeNull();
  expect((bad.repaired.ssh as Record<string, unknown>).host).toBe('h1');
});
