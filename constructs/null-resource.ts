/**
 * hashicorp/null's provider and `null_resource`, for postDeployVerify: the two classes of
 * `@cdktf/provider-null` we used, written on the CDK library the app uses (cdk.ts). That package
 * is built on cdktf by name, so a CDK Terrain app without cdktf could not load it; these synthesize
 * the same JSON (the same provider version constraint and source).
 */
import { Construct, IConstruct } from 'constructs';
import type { TerraformResourceConfig } from './cdk-types';
import { cdk } from './cdk';

const NULL_PROVIDER = { providerName: 'null', providerVersion: '3.2.4', providerVersionConstraint: '~> 3.0' };

export class NullProvider extends cdk.TerraformProvider {
  /** The stack's null provider (one per stack, as for calico's), created at its top level if it has none yet. */
  static of(scope: IConstruct): NullProvider {
    const stack = cdk.TerraformStack.of(scope);
    return (
      stack.node.findAll().find((c): c is NullProvider => c instanceof NullProvider) ??
      new NullProvider(stack, 'null-provider')
    );
  }

  constructor(scope: Construct, id: string) {
    super(scope, id, {
      terraformResourceType: 'null',
      terraformGeneratorMetadata: NULL_PROVIDER,
      terraformProviderSource: 'null',
    });
  }

  protected synthesizeAttributes(): Record<string, unknown> {
    return {};
  }
}

export interface NullResourceConfig extends Pick<TerraformResourceConfig, 'provisioners' | 'dependsOn'> {
  /** A change to any value replaces the resource (and so re-runs its provisioners). */
  readonly triggers?: Record<string, string>;
}

export class NullResource extends cdk.TerraformResource {
  private readonly triggers?: Record<string, string>;

  constructor(scope: Construct, id: string, config: NullResourceConfig = {}) {
    super(scope, id, {
      terraformResourceType: 'null_resource',
      terraformGeneratorMetadata: NULL_PROVIDER,
      dependsOn: config.dependsOn,
      provisioners: config.provisioners,
    });
    this.triggers = config.triggers;
  }

  protected synthesizeAttributes(): Record<string, unknown> {
    return { triggers: cdk.hashMapper(cdk.stringToTerraform)(this.triggers) };
  }
}
