/**
 * Issue 28, item 1: a host read is keyed by everything that decides what is reached and how.
 * The keys (providers/ssh/identity.ts), the snapshot cache over a resolver that records which
 * login each read used, the "imported" private flag of the runtime, and the refusal to read an
 * imported agent-only state where no agent is. No root, no lab.
 */
import { placeKey, reachKey } from '../../providers/ssh/identity';
import { HostSnapshots, refuseImportedAgentRead, SnapshotSection } from '../../providers/calico/host-snapshot';
import { HostResolver, sshTargetFromBlock } from '../../providers/calico';
import type { SshBlock } from '../../providers/calico/schema';
import { ProviderService } from '../../providers/runtime/provider-service';
import { ResourceContext, UnreachableError, ResourceHandler, ObjectValue } from '../../providers/runtime/resource';
import { decodeMsgpack, encodeMsgpack } from '../../providers/runtime/codec';
import type { SshTarget } from '../../providers/ssh/types';

const block = (over: Partial<SshBlock> = {}): SshBlock => ({
  host: '10.0.0.5',
  port: null,
  user: null,
  private_key_path: '/keys/ops',
  passphrase_env: null,
  known_hosts_path: '/keys/known_hosts',
  sudo: null,
  proxy_jump: null,
  proxy_jump_keys: null,
  from_ssh_config: null,
  ...over,
});

const target = (over: Partial<SshBlock> = {}): SshTarget => sshTargetFromBlock(block(over));

describe('reachKey: every setting that decides what is reached and how', () => {
  const base = target();
  test.each<[string, Partial<SshBlock>]>([
    ['another port', { port: 2222 }],
    ['another user', { user: 'ops' }],
    ['the agent instead of a key', { private_key_path: null }],
    ['another key', { private_key_path: '/keys/other' }],
    ['a passphrase variable', { passphrase_env: 'PW' }],
    ['another known_hosts', { known_hosts_path: '/keys/other_known_hosts' }],
    ['a bastion', { proxy_jump: 'root@198.18.80.1' }],
    ['a key of its own for the bastion', { proxy_jump: 'root@198.18.80.1', proxy_jump_keys: ['/keys/bastion'] }],
  ])('%s is another login', (_, over) => {
    expect(reachKey(target(over))).not.toBe(reachKey(base));
  });

  test('two bastions in front of one address are two hosts; the same bastion is one', () => {
    const a = target({ proxy_jump: 'root@198.18.80.1' });
    const b = target({ proxy_jump: 'root@198.18.81.1' });
    expect(reachKey(a)).not.toBe(reachKey(b));
    expect(placeKey(a)).not.toBe(placeKey(b));
    expect(reachKey(a)).toBe(reachKey(target({ proxy_jump: 'root@198.18.80.1:22' })));
  });

  test('a chain differs from its reverse and from a one-hop chain', () => {
    const ab = target({ proxy_jump: 'root@198.18.80.1,root@198.18.81.1' });
    expect(reachKey(ab)).not.toBe(reachKey(target({ proxy_jump: 'root@198.18.81.1,root@198.18.80.1' })));
    expect(reachKey(ab)).not.toBe(reachKey(target({ proxy_jump: 'root@198.18.81.1' })));
  });

  test('no field can fake another: quotes and separators in a path stay inside their field', () => {
    const odd = target({ private_key_path: '/k","agent', known_hosts_path: '/x' });
    const plain = target({ private_key_path: '/k', known_hosts_path: '"agent","/x' });
    expect(reachKey(odd)).not.toBe(reachKey(plain));
  });

  test('placeKey ignores who logs in: one machine whatever the credentials', () => {
    expect(placeKey(target({ private_key_path: null, user: 'ops', known_hosts_path: '/other' }))).toBe(
      placeKey(target()),
    );
    expect(placeKey(target({ port: 2222 }))).not.toBe(placeKey(target()));
  });
});

/**
 * A resolver that records the login each script ran with, and answers a snapshot script as a
 * host without our objects would (its keyed marks, every section empty).
 */
function recordingResolver() {
  const reads: string[] = [];
  const resolver: HostResolver = {
    hostFor(ssh) {
      return {
        label: ssh.host,
        async run(script) {
          reads.push(`${ssh.private_key_path ?? 'agent'} via ${ssh.proxy_jump ?? 'direct'}`);
          const key = /^mark_key='([A-Za-z0-9_-]+)'$/m.exec(script)?.[1];
          return { code: 0, stdout: key ? `==> ${key} probe\n==> ${key} end\n` : '', stderr: '' };
        },
      };
    },
  };
  return { reads, resolver };
}

/** A section that parses anything (its file is any of ours: the resolver answers for the host). */
const probe: SnapshotSection<string> = { name: 'probe', scriptFile: 'snapshot-node', parse: () => 'parsed' };

const snapshotsOver = (resolver: HostResolver) => new HostSnapshots(resolver, [probe]);

describe('HostSnapshots: one read per login, never shared across logins', () => {
  const signal = new AbortController().signal;

  test('the same login shares one read', async () => {
    const { reads, resolver } = recordingResolver();
    const snaps = snapshotsOver(resolver);
    await Promise.all([snaps.of(block(), 'n1', signal), snaps.of(block(), 'n1', signal)]);
    expect(reads).toEqual(['/keys/ops via direct']);
  });

  test('a key and the agent on one host are two reads, each with its own login', async () => {
    const { reads, resolver } = recordingResolver();
    const snaps = snapshotsOver(resolver);
    await snaps.of(block(), 'n1', signal);
    await snaps.of(block({ private_key_path: null }), 'n1', signal);
    expect(reads).toEqual(['/keys/ops via direct', 'agent via direct']);
  });

  test('one address behind two bastions is two reads', async () => {
    const { reads, resolver } = recordingResolver();
    const snaps = snapshotsOver(resolver);
    await snaps.of(block({ proxy_jump: 'root@198.18.80.1' }), 'a2', signal);
    await snaps.of(block({ proxy_jump: 'root@198.18.81.1' }), 'b2', signal);
    expect(reads).toEqual(['/keys/ops via root@198.18.80.1', '/keys/ops via root@198.18.81.1']);
  });

  test('a write through one login drops the snapshots of every login of that machine, and only of it', async () => {
    const { reads, resolver } = recordingResolver();
    const snaps = snapshotsOver(resolver);
    const agent = block({ private_key_path: null });
    const other = block({ proxy_jump: 'root@198.18.80.1' });
    const readAll = () =>
      Promise.all([snaps.of(block(), 'n1', signal), snaps.of(agent, 'n1', signal), snaps.of(other, 'n2', signal)]);
    await readAll();
    await readAll();
    expect(reads).toHaveLength(3);
    // What calicoState does around every script that may change the host.
    snaps.invalidate(block());
    reads.length = 0;
    await readAll();
    // Both logins of 10.0.0.5 read again; the other machine (behind a bastion) kept its snapshot.
    expect(reads.sort()).toEqual(['/keys/ops via direct', 'agent via direct']);
  });
});

describe('an imported state read where there is no agent', () => {
  const ctx = (imported: boolean) => ({ imported }) as unknown as ResourceContext<never>;
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.SSH_AUTH_SOCK;
    delete process.env.SSH_AUTH_SOCK;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
    else process.env.SSH_AUTH_SOCK = saved;
  });

  const imported = block({ private_key_path: null, known_hosts_path: null });

  test('is not refreshed (UnreachableError: state kept, retried) rather than read with another login', () => {
    expect(() => refuseImportedAgentRead(imported, 'node1', ctx(true))).toThrow(UnreachableError);
    expect(() => refuseImportedAgentRead(imported, 'node1', ctx(true))).toThrow(
      /node1 \(10\.0\.0\.5\) with the login its import recorded/,
    );
  });

  test('an agent present, a key recorded, or a state that was applied: read as usual', () => {
    expect(() => refuseImportedAgentRead(imported, 'node1', ctx(false))).not.toThrow();
    expect(() => refuseImportedAgentRead(block(), 'node1', ctx(true))).not.toThrow();
    process.env.SSH_AUTH_SOCK = '/tmp/agent.sock';
    expect(() => refuseImportedAgentRead(imported, 'node1', ctx(true))).not.toThrow();
  });

  test('a bastion hop that would log in with the agent counts too', () => {
    const hopByAgent = block({ proxy_jump: 'root@198.18.80.1', proxy_jump_keys: [''], private_key_path: null });
    expect(() => refuseImportedAgentRead(hopByAgent, 'node1', ctx(true))).toThrow(UnreachableError);
  });
});

describe('runtime: the "imported" private flag', () => {
  const schema = {
    version: 0,
    description: 'x',
    block: {
      attributes: {
        id: { type: 'string', computed: true, description: 'id' },
        v: { type: 'string', optional: true, description: 'v' },
      },
    },
  } as const;
  const seen: (boolean | undefined)[] = [];
  const handler: ResourceHandler = {
    typeName: 'x_thing',
    schema,
    async create(p) {
      return { ...p, id: 'x' };
    },
    async read(s, ctx) {
      seen.push(ctx.imported);
      if (s.v === 'down') throw new UnreachableError('down');
      return s;
    },
    async update(_p, planned) {
      return planned;
    },
    async delete() {},
    async import(id) {
      return { id, v: null };
    },
  };
  const log = { debug() {}, info() {}, warn() {}, error() {} };
  const service = new ProviderService(
    {
      name: 'x',
      configSchema: { version: 0, description: 'x', block: { attributes: {} } },
      resources: [handler],
      configure: () => ({}),
    },
    log,
    new AbortController(),
  );
  const dyn = (v: ObjectValue) => ({ msgpack: encodeMsgpack(schema.block, v) });

  test('import marks the state; reads see it and keep it (also when unreachable); an apply clears it', async () => {
    const imp = await service.call('ImportResourceState', { type_name: 'x_thing', id: 'a' });
    const priv = imp.imported_resources![0].private!;
    expect(JSON.parse(Buffer.from(priv).toString())).toEqual({ imported: true });

    const read = await service.call('ReadResource', {
      type_name: 'x_thing',
      current_state: dyn({ id: 'a', v: null }),
      private: priv,
    });
    expect(seen.pop()).toBe(true);
    expect(JSON.parse(Buffer.from(read.private!).toString())).toEqual({ imported: true });

    const down = await service.call('ReadResource', {
      type_name: 'x_thing',
      current_state: dyn({ id: 'a', v: 'down' }),
      private: priv,
    });
    expect(JSON.parse(Buffer.from(down.private!).toString())).toEqual({ unverified: true, imported: true });

    const applied = await service.call('ApplyResourceChange', {
      type_name: 'x_thing',
      prior_state: dyn({ id: 'a', v: null }),
      planned_state: dyn({ id: 'a', v: 'set' }),
      config: dyn({ id: null, v: 'set' }),
      planned_private: down.private,
    });
    expect(Buffer.from(applied.private!).length).toBe(0);
    expect(decodeMsgpack(schema.block, applied.new_state!.msgpack)).toEqual({ id: 'a', v: 'set' });

    await service.call('ReadResource', {
      type_name: 'x_thing',
      current_state: dyn({ id: 'a', v: 'set' }),
      private: applied.private,
    });
    expect(seen.pop()).toBe(false);
  });

  test("older states' private form still reads as unverified", async () => {
    const read = await service.call('ReadResource', {
      type_name: 'x_thing',
      current_state: dyn({ id: 'a', v: null }),
      private: Buffer.from('{"unverified":true}'),
    });
    expect(Buffer.from(read.private!).length).toBe(0);
    expect(seen.pop()).toBe(false);
  });
});
