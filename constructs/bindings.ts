/**
 * CDKTF bindings for the calico provider, derived from providers/calico/schema.ts.
 *
 * Nothing here lists attributes by hand: the config types are computed from the schema
 * (snake_case attribute names become camelCase properties, computed-only facts are left out),
 * and synthesis walks the schema to emit Terraform's names. A resource added to the schema is
 * usable from CDKTF without touching this file.
 */
import { Construct, IConstruct } from 'constructs';
import type { TerraformMetaArguments } from './cdk-types';
import { cdk } from './cdk';
import { addStackProviderFiles } from './stack-provider-files';
import type { AttributeSchema, BlockSchema } from '../providers/runtime/schema';
import type { Attrs, Blocks, OptionalKeys, RequiredKeys, TsType } from '../providers/runtime/typed';
import {
  PROVIDER_LOCAL_NAME,
  PROVIDER_SHORT_SOURCE,
  PROVIDER_VERSION,
  ResourceTypeName,
  providerConfigSchema,
  resourceSchemas,
} from '../providers/calico/schema';

type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;

type NestedConfig<N> = N extends { block: infer Inner extends BlockSchema } ? BlockConfig<Inner> : never;

/** The properties a block accepts in CDKTF, computed from its schema. */
export type BlockConfig<B extends BlockSchema> = {
  [K in RequiredKeys<B> & string as CamelCase<K>]: TsType<Attrs<B>[K]['type']>;
} & {
  [K in OptionalKeys<B> & string as CamelCase<K>]?: TsType<Attrs<B>[K]['type']>;
} & {
  [K in keyof Blocks<B> & string as CamelCase<K>]: NestedConfig<Blocks<B>[K]>;
};

type SchemaOf<T extends ResourceTypeName> = (typeof resourceSchemas)[T]['block'];
export type ResourceConfig<T extends ResourceTypeName> = BlockConfig<SchemaOf<T>>;
export type ProviderConfig = BlockConfig<(typeof providerConfigSchema)['block']>;

export function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Every string in cdk.tf.json is a Terraform template: `${…}` is interpolated and `%{…}` is a
 * directive, so a password `ab${x}` would reach the host as something else (or fail to parse).
 * Doubling the introducer (`$${`, `%%{`) makes Terraform yield the exact bytes. A cdktf token
 * (a reference or a Lazy value) is left alone: it is Terraform syntax by design, and a Lazy
 * producer that returns user text escapes it itself (see templateLiteral's callers).
 */
export function templateLiteral(text: string): string {
  // Replacement functions, not strings: in a replacement string "$$" itself means "$".
  return text.replace(/\$\{/g, () => '$${').replace(/%\{/g, () => '%%{');
}

function escapeValue(value: unknown): unknown {
  if (cdk.Token.isUnresolved(value)) return value;
  if (typeof value === 'string') return templateLiteral(value);
  if (Array.isArray(value)) return value.map(escapeValue);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, escapeValue(v)]));
  }
  return value;
}

/**
 * Turns camelCase construct properties into Terraform's attribute names for one block.
 * Unknown properties are an error: a typo must not silently drop a setting.
 */
export function synthesizeBlock(
  schema: BlockSchema,
  props: Record<string, unknown>,
  where: string,
): Record<string, unknown> {
  const known = new Map<string, string>();
  for (const name of Object.keys(schema.attributes)) known.set(camelCase(name), name);
  for (const name of Object.keys(schema.blocks ?? {})) known.set(camelCase(name), name);
  for (const key of Object.keys(props)) {
    if (!known.has(key)) throw new Error(`${where}: unknown property "${key}"`);
  }

  const out: Record<string, unknown> = {};
  for (const [name, attr] of Object.entries(schema.attributes) as [string, AttributeSchema][]) {
    const value = props[camelCase(name)];
    if (attr.computed && !attr.optional && !attr.required) {
      if (value !== undefined) throw new Error(`${where}: "${camelCase(name)}" is read-only`);
      continue;
    }
    if (value === undefined) {
      if (attr.required) throw new Error(`${where}: "${camelCase(name)}" is required`);
      continue;
    }
    out[name] = escapeValue(value);
  }
  for (const [name, nested] of Object.entries(schema.blocks ?? {})) {
    const value = props[camelCase(name)];
    if (value === undefined) {
      if (nested.required) throw new Error(`${where}: block "${camelCase(name)}" is required`);
      continue;
    }
    out[name] = synthesizeBlock(nested.block, value as Record<string, unknown>, `${where}.${camelCase(name)}`);
  }
  return out;
}

/** The calico provider's settings: the provider schema's attributes, plus Terraform's alias. */
export type CalicoProviderProps = Readonly<ProviderConfig> & {
  /**
   * A second configuration of the provider, used only by resources that name it. Clusters use
   * the stack's unaliased one. @default none: the stack's default calico provider
   */
  readonly alias?: string;
};

/**
 * What is wrong with the provider's settings, per field. The provider itself takes any number
 * (a negative timeout would fail every connection at once), so the construct checks them.
 * Unresolved tokens (a variable, a reference) are Terraform's to resolve and pass unchecked.
 */
export function providerSettingsProblems(settings: {
  readonly connectTimeout?: number;
  readonly connectRetries?: number;
}): string[] {
  const problems: string[] = [];
  const known = (v: number | undefined): v is number => v !== undefined && !cdk.Token.isUnresolved(v);
  if (
    known(settings.connectTimeout) &&
    !(Number.isFinite(settings.connectTimeout) && settings.connectTimeout > 0 && settings.connectTimeout <= 3600)
  ) {
    problems.push(
      `connectTimeout must be a number of seconds above 0 and at most 3600, not ${settings.connectTimeout}`,
    );
  }
  if (
    known(settings.connectRetries) &&
    !(Number.isInteger(settings.connectRetries) && settings.connectRetries >= 0 && settings.connectRetries <= 100)
  ) {
    problems.push(`connectRetries must be a whole number from 0 to 100, not ${settings.connectRetries}`);
  }
  return problems;
}

/** The construct id of the provider a cluster creates when the stack has none yet. */
export const STACK_PROVIDER_ID = 'calico-provider';

/**
 * The calico provider of a stack. Terraform accepts one unaliased configuration per provider,
 * so every cluster of a stack shares one: the first cluster creates it (`CalicoProvider.of`), or
 * you create it first, in the stack, to set `connectTimeout` / `connectRetries`.
 */
export class CalicoProvider extends cdk.TerraformProvider {
  /** The stack's unaliased calico provider, created at the stack's top level if it has none yet. */
  static of(scope: IConstruct): CalicoProvider {
    const stack = cdk.TerraformStack.of(scope);
    return stackDefaultProvider(stack) ?? new CalicoProvider(stack, STACK_PROVIDER_ID);
  }

  constructor(
    scope: Construct,
    id: string,
    private readonly config: CalicoProviderProps = {},
  ) {
    const problems = providerSettingsProblems(config);
    if (problems.length > 0) throw new Error(`calico provider "${id}": ${problems.join('; ')}`);
    const stack = cdk.TerraformStack.of(scope);
    const existing = config.alias === undefined ? stackDefaultProvider(stack) : undefined;
    if (existing) {
      throw new Error(
        `stack "${stack.node.id}" already has the calico provider (${existing.node.path}); a stack has one, shared by ` +
          'every cluster in it: create yours in the stack before the first CalicoCluster (CalicoProvider.of(stack) returns it), ' +
          'or give this one an alias',
      );
    }
    super(scope, id, {
      terraformResourceType: PROVIDER_LOCAL_NAME,
      terraformGeneratorMetadata: { providerName: PROVIDER_LOCAL_NAME, providerVersionConstraint: PROVIDER_VERSION },
      terraformProviderSource: PROVIDER_SHORT_SOURCE,
    });
    this.alias = config.alias;
    addStackProviderFiles(this);
  }

  // cdktf's base accessors for alias drop the value (generated providers override them); without
  // these, the alias reached neither the provider block nor the resources' `provider` reference.
  private providerAlias?: string;

  public get alias(): string | undefined {
    return this.providerAlias;
  }

  public set alias(value: string | undefined) {
    this.providerAlias = value;
  }

  protected synthesizeAttributes(): { [name: string]: unknown } {
    const { alias: _alias, ...rest } = this.config;
    return synthesizeBlock(providerConfigSchema.block, rest, 'calico provider');
  }

  /** The version constraint cdktf writes into required_providers. */
  public static readonly version = PROVIDER_VERSION;
}

/** The unaliased calico provider anywhere in the stack (a user may nest it in a construct). */
function stackDefaultProvider(stack: IConstruct): CalicoProvider | undefined {
  return stack.node.findAll().find((c): c is CalicoProvider => c instanceof CalicoProvider && c.alias === undefined);
}

/** Terraform's meta-arguments for a calico resource: `provider` names an aliased calico provider. */
export type CalicoResourceMeta = TerraformMetaArguments & {
  /** @default the stack's unaliased calico provider */
  readonly provider?: CalicoProvider;
};

/** A resource of the calico provider; T selects the schema. */
export class CalicoResource<T extends ResourceTypeName> extends cdk.TerraformResource {
  constructor(
    scope: Construct,
    id: string,
    public readonly typeName: T,
    private readonly config: ResourceConfig<T>,
    meta: CalicoResourceMeta = {},
  ) {
    super(scope, id, {
      terraformResourceType: typeName,
      terraformGeneratorMetadata: {
        providerName: PROVIDER_LOCAL_NAME,
        providerVersionConstraint: PROVIDER_VERSION,
      },
      ...meta,
    });
    // Fail at construction, with the construct path, rather than at synth.
    synthesizeBlock(resourceSchemas[typeName].block, this.config as Record<string, unknown>, this.node.path);
  }

  /**
   * No per-resource construct metadata in the synthesized JSON. The cdktf CLI uses it to append
   * each resource's construct path to every line Terraform prints, testing every line against
   * every resource address: at 32 nodes x 4 workloads that cost ~1.9 s of CPU per deploy and it
   * grows with lines x resources (the 128-node plan prints 4x the lines for 4x the resources).
   * The logical ids already spell the path (cluster_node3_wl3a_workload_…).
   */
  protected get constructNodeMetadata(): { [key: string]: unknown } {
    return {};
  }

  protected synthesizeAttributes(): { [name: string]: unknown } {
    return synthesizeBlock(
      resourceSchemas[this.typeName].block,
      this.config as Record<string, unknown>,
      this.node.path,
    );
  }

  /** A Terraform reference to one of this resource's attributes (snake_case name). */
  public attr(name: keyof SchemaOf<T>['attributes'] & string): string {
    return this.getStringAttribute(name);
  }
}
