/**
 * A destroy's refresh without host contact (issue 29: it was destroy's whole extra cost): which
 * command lines count as a destroy, and the runtime answering ReadResource with the stored state
 * only then, only for a provider that asks for it. No root, no lab.
 */
import { isDestroyCommand, parentArgv, startedByDestroy } from '../../providers/runtime/terraform-command';
import { ProviderService } from '../../providers/runtime/provider-service';
import { ProviderDefinition, ResourceHandler } from '../../providers/runtime/resource';
import { decodeMsgpack, encodeMsgpack } from '../../providers/runtime/codec';
import { createCalicoProvider } from '../../providers/calico';

describe('isDestroyCommand', () => {
  test.each([
    [['terraform', 'destroy', '-auto-approve']],
    [['/usr/local/bin/terraform', 'destroy']],
    [['terraform', '-chdir=stacks/lab1', 'destroy', '-no-color']],
    [['terraform', 'apply', '-destroy', '-auto-approve']],
    [['terraform', 'plan', '--destroy']],
    [['terraform', 'plan', '-destroy=true', '-out=x']],
    [['terraform', 'apply', '-destroy=false', '-destroy=1']],
    [['tofu', 'destroy']],
    [['/opt/terraform_1.11.4', 'destroy']],
  ])('%j destroys', (argv) => expect(isDestroyCommand(argv)).toBe(true));

  test.each([
    [[]],
    [['terraform']],
    [['terraform', 'plan']],
    [['terraform', 'apply', '-auto-approve']],
    [['terraform', 'apply', '-refresh-only']],
    // A saved plan named "destroy" (apply of a saved plan reads nothing anyway).
    [['terraform', 'apply', 'destroy']],
    [['terraform', 'plan', '-destroy=false']],
    [['terraform', 'apply', '-destroy', '-destroy=0']],
    [['terraform', 'plan', '-var=destroy=true']],
    [['terraform', 'plan', '-var', 'mode=-destroy']],
    [['terraform', 'apply', '-destroyed']],
    [['terraform', 'refresh']],
    // Not Terraform: a test harness, a debugger, node itself.
    [['node', 'destroy']],
    [['bash', '-c', 'terraform destroy']],
    [['/usr/bin/terraformer', 'destroy']],
    [['xterraform', 'destroy']],
  ])('%j does not', (argv) => expect(isDestroyCommand(argv)).toBe(false));

  test("this process's parent (jest's runner) is no destroy, and its argv is read", () => {
    expect(parentArgv()?.length).toBeGreaterThan(0);
    expect(startedByDestroy()).toBe(false);
    expect(parentArgv(2 ** 30)).toBeUndefined();
  });
});

describe('ReadResource in a destroy', () => {
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
  let reads = 0;
  const handler: ResourceHandler = {
    typeName: 'x_thing',
    schema,
    async create(p) {
      return p;
    },
    async read(s) {
      reads++;
      return { ...s, v: 'from the host' };
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
  const definition = (skip: boolean): ProviderDefinition => ({
    name: 'x',
    configSchema: { version: 0, description: 'x', block: { attributes: {} } },
    resources: [handler],
    configure: () => ({}),
    skipRefreshOnDestroy: skip,
  });
  const stored = { msgpack: encodeMsgpack(schema.block, { id: 'a', v: 'stored' }) };
  const priv = Buffer.from('{"unverified":true}');

  async function readWith(skip: boolean, destroying: boolean) {
    reads = 0;
    let asked = 0;
    const service = new ProviderService(definition(skip), log, new AbortController(), () => {
      asked++;
      return destroying;
    });
    const first = await service.call('ReadResource', { type_name: 'x_thing', current_state: stored, private: priv });
    await service.call('ReadResource', { type_name: 'x_thing', current_state: stored, private: priv });
    return { state: decodeMsgpack(schema.block, first.new_state!.msgpack), priv: first.private, reads, asked };
  }

  test('a provider that asks for it: the stored state and private come back as they were, read() is never called', async () => {
    const r = await readWith(true, true);
    expect(r.state).toEqual({ id: 'a', v: 'stored' });
    expect(Buffer.from(r.priv!).toString()).toBe('{"unverified":true}');
    expect(r.reads).toBe(0);
    // The parent's argv is looked at once per process.
    expect(r.asked).toBe(1);
  });

  test('not a destroy: read as usual', async () => {
    const r = await readWith(true, false);
    expect(r.state).toEqual({ id: 'a', v: 'from the host' });
    expect(r.reads).toBe(2);
  });

  test('a provider that does not ask for it reads even in a destroy, and never asks which command it is', async () => {
    const r = await readWith(false, true);
    expect(r.state).toEqual({ id: 'a', v: 'from the host' });
    expect(r.reads).toBe(2);
    expect(r.asked).toBe(0);
  });

  test('the calico provider asks for it', () => {
    expect(
      createCalicoProvider(() => ({
        hostFor: () => ({ label: 'x', run: async () => ({ code: 0, stdout: '', stderr: '' }) }),
      })).skipRefreshOnDestroy,
    ).toBe(true);
  });
});
