/**
 * Checks declared on the schema (providers/runtime/validation.ts), run by the runtime in process:
 * at ValidateResourceConfig with unknown values skipped, and again wherever values arrive that
 * validate() never saw (apply, delete, read, import), before the handler is called. Then the same
 * through the calico provider: a stored or imported value that breaks a calico check is refused
 * before any host is reached.
 */
import { decodeMsgpack, encodeMsgpack } from '../../providers/runtime/codec';
import { ProviderService } from '../../providers/runtime/provider-service';
import { ObjectValue, ResourceHandler, Unknown } from '../../providers/runtime/resource';
import type { ResourceSchema } from '../../providers/runtime/schema';
import {
  eachElement,
  mapEntries,
  numberValue,
  stringValue,
  validationProblems,
} from '../../providers/runtime/validation';
import { createCalicoProvider } from '../../providers/calico';
import { resourceSchemas } from '../../providers/calico/schema';
import { encapsulationProblem } from '../../rules/checks';

const d = '';
const noSpace = (v: string) => (/\s/.test(v) ? `"${v}" contains a space` : null);
const lowerCase = (v: string) => (v === v.toLowerCase() ? null : `"${v}" is not lower case`);
const small = (v: number) => (v <= 10 ? null : `${v} is more than 10`);

const schema = {
  version: 0,
  description: d,
  block: {
    attributes: {
      id: { type: 'string', computed: true, description: d },
      name: { type: 'string', required: true, description: d, validators: [stringValue(noSpace)] },
      count: { type: 'number', optional: true, description: d, validators: [numberValue(small)] },
      tags: { type: ['set', 'string'], optional: true, description: d, validators: [eachElement(lowerCase)] },
      labels: {
        type: ['map', 'string'],
        optional: true,
        description: d,
        validators: [mapEntries({ keys: lowerCase, values: noSpace })],
      },
      mode: { type: 'string', optional: true, description: d },
      mac: { type: 'string', optional: true, description: d },
      script: {
        type: 'string',
        optional: true,
        description: d,
        validators: [stringValue(noSpace, { appliedOnly: true })],
      },
    },
    blocks: {
      conn: {
        nesting: 'single',
        required: true,
        block: {
          attributes: {
            host: { type: 'string', required: true, description: d, validators: [stringValue(noSpace)] },
            hops: { type: ['list', 'string'], optional: true, description: d },
            keys: { type: ['list', 'string'], optional: true, description: d },
          },
          checks: [
            {
              reads: ['hops', 'keys'],
              problems: (c) =>
                Array.isArray(c.keys) && Array.isArray(c.hops) && c.keys.length !== c.hops.length
                  ? [{ attribute: 'keys', problem: 'one key per hop' }]
                  : [],
            },
          ],
        },
      },
    },
    checks: [
      {
        reads: ['mode', 'mac'],
        problems: (o) => (o.mode === 'l2' && o.mac === null ? [{ attribute: 'mac', problem: 'l2 needs a MAC' }] : []),
      },
    ],
  },
} as const satisfies ResourceSchema;

const good = (over: ObjectValue = {}, conn: ObjectValue = {}): ObjectValue => ({
  id: null,
  name: 'a',
  count: 1,
  tags: ['x'],
  labels: { k: 'v' },
  mode: null,
  mac: null,
  script: 'run',
  conn: { host: 'h', hops: null, keys: null, ...conn },
  ...over,
});

/** The handler records every call: a check that stops a bad value must stop it before the handler. */
const calls: string[] = [];
const handler: ResourceHandler = {
  typeName: 'x_thing',
  schema,
  async create(p) {
    calls.push('create');
    return { ...p, id: 'i' };
  },
  async read(s) {
    calls.push('read');
    return s;
  },
  async update(_prior, planned) {
    calls.push('update');
    return planned;
  },
  async delete() {
    calls.push('delete');
  },
  async import(id) {
    calls.push('import');
    // What an import id and a host gave: not what validate() saw.
    return good({ id, name: id, script: '' });
  },
};
const log = { debug() {}, info() {}, warn() {}, error() {} };
const service = new ProviderService(
  {
    name: 'x',
    configSchema: { version: 0, description: d, block: { attributes: {} } },
    resources: [handler],
    configure: () => ({}),
  },
  log,
  new AbortController(),
);
const dyn = (v: ObjectValue | null) => ({ msgpack: encodeMsgpack(schema.block, v) });
const shape = (diags: { summary?: string; detail?: string; attribute?: { steps?: unknown[] } }[] | undefined) =>
  (diags ?? []).map((x) => ({ summary: x.summary, detail: x.detail, path: x.attribute?.steps ?? [] }));
const at = (...names: string[]) => names.map((n) => ({ attribute_name: n }));
/** A map entry's path on the wire: the attribute, then the key as an ElementKeyString step. */
const entry = (name: string, key: string) => [{ attribute_name: name }, { element_key_string: key }];

beforeEach(() => {
  calls.length = 0;
});

describe('ValidateResourceConfig', () => {
  const validate = async (config: ObjectValue) =>
    shape((await service.call('ValidateResourceConfig', { type_name: 'x_thing', config: dyn(config) })).diagnostics);

  it('reports each problem on its attribute: nested blocks by their path, map entries on the entry (its key a path step)', async () => {
    expect(await validate(good())).toEqual([]);
    expect(
      await validate(good({ name: 'a b', count: 11, tags: ['x', 'Y'], labels: { K: 'v', k: 'v w' } }, { host: 'h h' })),
    ).toEqual([
      { summary: 'Invalid name', detail: '"a b" contains a space', path: at('name') },
      { summary: 'Invalid count', detail: '11 is more than 10', path: at('count') },
      { summary: 'Invalid tags', detail: '"Y" is not lower case', path: at('tags') },
      { summary: 'Invalid labels["K"]', detail: '"K" is not lower case', path: entry('labels', 'K') },
      { summary: 'Invalid labels["k"]', detail: '"v w" contains a space', path: entry('labels', 'k') },
      { summary: 'Invalid conn.host', detail: '"h h" contains a space', path: at('conn', 'host') },
    ]);
  });

  it('skips what Terraform does not know yet: unknown values, map values and list elements, nested blocks', async () => {
    expect(
      await validate(
        good({ name: Unknown, count: Unknown, tags: ['x', Unknown], labels: { k: Unknown } }, { host: Unknown }),
      ),
    ).toEqual([]);
    expect(await validate(good({ conn: Unknown }))).toEqual([]);
    // A known key is checked even when its value is not known yet.
    expect(await validate(good({ labels: { K: Unknown } }))).toEqual([
      { summary: 'Invalid labels["K"]', detail: '"K" is not lower case', path: entry('labels', 'K') },
    ]);
  });

  it('a map entry with any key (quotes, a newline, dots) is reported on that very key; the summary quotes it as HCL does', async () => {
    const key = 'A.b "c"\nd';
    expect(await validate(good({ labels: { ok: 'v', [key]: 'v' } }))).toEqual([
      {
        summary: 'Invalid labels["A.b \\"c\\"\\nd"]',
        detail: `"${key}" is not lower case`,
        path: entry('labels', key),
      },
    ]);
    // In process, the path's last step is the key as a step of its own, not an attribute name.
    expect(validationProblems(schema.block, good({ labels: { K: 'v' } }), 'config').map((x) => x.attribute)).toEqual([
      ['labels', { mapKey: 'K' }],
    ]);
    // A problem of the whole map (not a map) stays on the attribute.
    expect(
      validationProblems(schema.block, good({ labels: ['x'] }), 'config').map((x) => [x.attribute, x.detail]),
    ).toEqual([[['labels'], 'must be a map']]);
  });

  it('runs a check of several attributes once all it reads is known, and reports it on the attribute it names', async () => {
    expect(await validate(good({ mode: 'l2' }))).toEqual([
      { summary: 'Invalid mac', detail: 'l2 needs a MAC', path: at('mac') },
    ]);
    expect(await validate(good({ mode: 'l2', mac: Unknown }))).toEqual([]);
    expect(await validate(good({ mode: Unknown }))).toEqual([]);
    expect(await validate(good({ mode: 'l2', mac: 'm' }))).toEqual([]);
    // A nested block's own check, on the nested path.
    expect(await validate(good({}, { hops: ['a', 'b'], keys: ['k'] }))).toEqual([
      { summary: 'Invalid conn.keys', detail: 'one key per hop', path: at('conn', 'keys') },
    ]);
    expect(await validate(good({}, { hops: ['a', 'b'], keys: ['k', Unknown] }))).toEqual([]);
  });
});

describe('the same checks once values are known', () => {
  it('apply refuses a value that was unknown at validate and breaks a check, before the handler runs', async () => {
    const config = good({ name: Unknown });
    expect(
      shape((await service.call('ValidateResourceConfig', { type_name: 'x_thing', config: dyn(config) })).diagnostics),
    ).toEqual([]);
    const planned = good({ name: 'a b' });
    const created = await service.call('ApplyResourceChange', {
      type_name: 'x_thing',
      prior_state: dyn(null),
      planned_state: dyn(planned),
      config: dyn(planned),
    });
    expect(shape(created.diagnostics)).toEqual([
      { summary: 'Invalid name', detail: '"a b" contains a space', path: at('name') },
    ]);
    expect(decodeMsgpack(schema.block, created.new_state!.msgpack)).toBeNull();
    // On update the prior object stays what Terraform tracks.
    const prior = good({ id: 'i' });
    const updated = await service.call('ApplyResourceChange', {
      type_name: 'x_thing',
      prior_state: dyn(prior),
      planned_state: dyn(good({ id: 'i', mode: 'l2' })),
      config: dyn(good({ mode: 'l2' })),
    });
    expect(shape(updated.diagnostics)).toEqual([{ summary: 'Invalid mac', detail: 'l2 needs a MAC', path: at('mac') }]);
    expect(decodeMsgpack(schema.block, updated.new_state!.msgpack)).toEqual(prior);
    expect(calls).toEqual([]);
    // A good plan reaches the handler.
    await service.call('ApplyResourceChange', {
      type_name: 'x_thing',
      prior_state: dyn(null),
      planned_state: dyn(good()),
      config: dyn(good()),
    });
    expect(calls).toEqual(['create']);
  });

  it('read and delete refuse a state that breaks a check (written by hand, by an older provider), naming the nested path', async () => {
    const stored = good({ id: 'i', labels: { k: 'v w' } }, { host: 'h;reboot now' });
    const read = await service.call('ReadResource', { type_name: 'x_thing', current_state: dyn(stored) });
    expect(shape(read.diagnostics)).toEqual([
      { summary: 'Invalid labels["k"]', detail: '"v w" contains a space', path: entry('labels', 'k') },
      { summary: 'Invalid conn.host', detail: '"h;reboot now" contains a space', path: at('conn', 'host') },
    ]);
    expect(decodeMsgpack(schema.block, read.new_state!.msgpack)).toEqual(stored);
    const deleted = await service.call('ApplyResourceChange', {
      type_name: 'x_thing',
      prior_state: dyn(stored),
      planned_state: dyn(null),
      config: dyn(null),
    });
    expect(shape(deleted.diagnostics)).toHaveLength(2);
    expect(decodeMsgpack(schema.block, deleted.new_state!.msgpack)).toEqual(stored);
    expect(calls).toEqual([]);
  });

  it('import: the state it builds passes the same checks, or the import fails on the attribute', async () => {
    const ok = await service.call('ImportResourceState', { type_name: 'x_thing', id: 'web' });
    expect(ok.diagnostics).toEqual([]);
    expect(ok.imported_resources).toHaveLength(1);
    const bad = await service.call('ImportResourceState', { type_name: 'x_thing', id: 'web 1' });
    expect(shape(bad.diagnostics)).toEqual([
      { summary: 'Invalid name', detail: '"web 1" contains a space', path: at('name') },
    ]);
    expect(bad.imported_resources ?? []).toEqual([]);
  });

  it('an applied-only check leaves states alone (an import placeholder) but holds at validate and apply', async () => {
    const imported = good({ id: 'i', script: '' });
    expect(validationProblems(schema.block, imported, 'state')).toEqual([]);
    await service.call('ReadResource', { type_name: 'x_thing', current_state: dyn(good({ id: 'i', script: 'a b' })) });
    expect(calls).toEqual(['read']);
    expect(validationProblems(schema.block, good({ script: 'a b' }), 'config')).toHaveLength(1);
    const applied = await service.call('ApplyResourceChange', {
      type_name: 'x_thing',
      prior_state: dyn(imported),
      planned_state: dyn(good({ id: 'i', script: 'a b' })),
      config: dyn(good({ script: 'a b' })),
    });
    expect(shape(applied.diagnostics)).toEqual([
      { summary: 'Invalid script', detail: '"a b" contains a space', path: at('script') },
    ]);
    expect(calls).toEqual(['read']);
  });

  it('a number that arrives as exact decimal text is checked as a number', () => {
    expect(validationProblems(schema.block, good({ count: '10.5' }), 'apply')).toEqual([
      { severity: 'error', summary: 'Invalid count', detail: '10.5 is more than 10', attribute: ['count'] },
    ]);
  });
});

describe('the calico resources', () => {
  // Every host access fails the test: the checks must stop a bad value before one.
  const provider = createCalicoProvider(() => ({
    hostFor() {
      throw new Error('a host was reached');
    },
  }));
  const calico = new ProviderService(provider, log, new AbortController());
  const ssh = {
    host: '198.18.140.1',
    port: null,
    user: null,
    private_key_path: null,
    passphrase_env: null,
    known_hosts_path: null,
    sudo: null,
    proxy_jump: null,
    proxy_jump_keys: null,
    from_ssh_config: null,
  };
  const overlay = resourceSchemas.calico_overlay.block;
  const overlayState: ObjectValue = {
    id: 'n1',
    node_name: 'n1',
    encapsulation: 'vxlan',
    address: '198.18.140.1',
    tunnel_address: '198.19.140.1',
    tunnel_mac: '66:cc:c6:13:01:01',
    mtu: null,
    neighbours: {},
    fdb: {},
    routes: { '198.19.141.0/24': '198.19.141.1\nroute del default' },
    device: {},
    host_neighbours: {},
    host_fdb: {},
    host_routes: {},
    ssh,
  };

  beforeAll(async () => {
    await calico.call('ConfigureProvider', {
      config: { msgpack: encodeMsgpack(provider.configSchema.block, { connect_timeout: null, connect_retries: null }) },
    });
  });

  it('a stored overlay state whose route would splice a line into ip -batch is refused on read and destroy, on its attribute', async () => {
    const state = { msgpack: encodeMsgpack(overlay, overlayState) };
    const read = await calico.call('ReadResource', { type_name: 'calico_overlay', current_state: state });
    const expected = [
      {
        summary: 'Invalid routes["198.19.141.0/24"]',
        detail: '"198.19.141.1\nroute del default" is not an IPv4 address',
        path: entry('routes', '198.19.141.0/24'),
      },
    ];
    expect(shape(read.diagnostics)).toEqual(expected);
    const destroy = await calico.call('ApplyResourceChange', {
      type_name: 'calico_overlay',
      prior_state: state,
      planned_state: { msgpack: encodeMsgpack(overlay, null) },
      config: { msgpack: encodeMsgpack(overlay, null) },
    });
    expect(shape(destroy.diagnostics)).toEqual(expected);
  });

  it('the overlay rules of several attributes hold at apply too: IPIP has no MAC, neighbours or FDB', async () => {
    const planned: ObjectValue = {
      ...overlayState,
      encapsulation: 'ipip',
      routes: {},
      neighbours: { '198.19.141.1': '66:cc:c6:13:02:01' },
      device: Unknown,
      host_neighbours: Unknown,
      host_fdb: Unknown,
      host_routes: Unknown,
      id: Unknown,
    };
    const res = await calico.call('ApplyResourceChange', {
      type_name: 'calico_overlay',
      prior_state: { msgpack: encodeMsgpack(overlay, null) },
      planned_state: { msgpack: encodeMsgpack(overlay, planned) },
      config: { msgpack: encodeMsgpack(overlay, planned) },
    });
    expect(shape(res.diagnostics)).toEqual([
      { summary: 'Invalid tunnel_mac', detail: 'IPIP devices have no MAC', path: at('tunnel_mac') },
      { summary: 'Invalid neighbours', detail: 'IPIP has no neighbour or FDB entries', path: at('neighbours') },
    ]);
  });

  it('a workload state with a stored proxy_jump key mismatch or a bad name is refused before a host is reached', async () => {
    const block = resourceSchemas.calico_workload.block;
    const state: ObjectValue = {
      id: 'n1/web',
      node_name: 'n1',
      name: '$(reboot)',
      ip: '198.19.140.5',
      mtu: 40,
      host_interface: 'calix',
      netns_present: true,
      pod_interface: true,
      pod_routes: true,
      proxy_arp: '1',
      proxy_delay: '0',
      host_route: true,
      ssh: { ...ssh, proxy_jump: 'b1,b2', proxy_jump_keys: ['/k'] },
    };
    const read = await calico.call('ReadResource', {
      type_name: 'calico_workload',
      current_state: { msgpack: encodeMsgpack(block, state) },
    });
    expect(shape(read.diagnostics).map((x) => [x.summary, x.path])).toEqual([
      ['Invalid name', at('name')],
      ['Invalid mtu', at('mtu')],
      ['Invalid ssh.proxy_jump_keys', at('ssh', 'proxy_jump_keys')],
    ]);
  });

  it('a policy ruleset imported as "" (not recoverable from the host) reads; apply still checks the ruleset', () => {
    const block = resourceSchemas.calico_policy_ruleset.block;
    const imported: ObjectValue = {
      id: 'n1',
      node_name: 'n1',
      ruleset: '',
      table: '',
      owner: '',
      applied_table: null,
      ssh,
    };
    expect(validationProblems(block, imported, 'state')).toEqual([]);
    expect(validationProblems(block, imported, 'apply').map((x) => x.attribute)).toEqual([['ruleset']]);
  });

  it('one encapsulation check for node and overlay: only the encapsulations calico-net programs', () => {
    expect(encapsulationProblem('vxlan')).toBeNull();
    expect(encapsulationProblem('ipip')).toBeNull();
    // Not an object key lookup: inherited names are no encapsulation either.
    for (const v of ['gre', 'constructor', 'toString', ''])
      expect(encapsulationProblem(v)).toBe(`"${v}" is not one of vxlan, ipip`);
    const node = resourceSchemas.calico_node.block;
    const config: ObjectValue = {
      name: 'n1',
      address: '198.18.140.1',
      pod_cidr: '198.19.140.0/24',
      encapsulation: 'constructor',
      workloads: ['web', 'a b'],
      ssh,
    };
    expect(validationProblems(node, config, 'config').map((x) => [x.attribute, x.detail])).toEqual([
      [['encapsulation'], '"constructor" is not one of vxlan, ipip'],
      [['workloads'], expect.stringMatching(/^"a b" is not a valid workload name/)],
    ]);
  });

  it('bird: revert_after must exceed session_wait, whose default counts when it is unset', () => {
    const block = resourceSchemas.calico_bird_config.block;
    const config: ObjectValue = {
      id: null,
      node_name: 'n1',
      config_path: null,
      socket_path: null,
      content: 'x',
      secrets: null,
      session_wait: null,
      revert_after: 20,
      backup_path: null,
      loaded: null,
      ssh,
    };
    expect(validationProblems(block, config, 'config')).toEqual([
      {
        severity: 'error',
        summary: 'Invalid revert_after',
        detail: '20 must exceed session_wait (30)',
        attribute: ['revert_after'],
      },
    ]);
    expect(validationProblems(block, { ...config, session_wait: 10 }, 'config')).toEqual([]);
    expect(validationProblems(block, { ...config, session_wait: Unknown }, 'config')).toEqual([]);
  });
});
