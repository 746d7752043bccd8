/**
 * The part of the CDK library we use, typed by us, naming neither `cdktf` nor `cdktn`. Our
 * published declarations (.d.ts) refer to these, so a project type-checks with whichever of the
 * two it installed, and without the other. Both libraries are checked against this shape in
 * test/constructs/cdk-types.test.ts: each must be assignable to it, so it cannot drift from them.
 *
 * Only public members, and only those our constructs or their users need: a class's private
 * members would make the two libraries' classes different types.
 */
import type { Construct, IConstruct } from 'constructs';

/** A value resolved at synth (a Lazy, a reference); `${TfToken[…]}` when it sits in a string. */
export interface IResolvable {
  readonly creationStack: string[];
  resolve(context: unknown): unknown;
  toString(): string;
}

/** Something a resource can depend on (`dependsOn`): a resource, a module, a data source. */
export interface ITerraformDependable {
  readonly fqn: string;
}

/** What every Terraform element (stack member with a logical id) offers. */
export interface TerraformElement extends Construct {
  readonly fqn: string;
  readonly friendlyUniqueId: string;
  toTerraform(): unknown;
  addOverride(path: string, value: unknown): void;
}

export interface TerraformStack extends Construct {
  toTerraform(): unknown;
  addOverride(path: string, value: unknown): void;
  addDependency(dependency: TerraformStack): void;
}

export interface App extends Construct {
  readonly outdir: string;
  synth(): void;
}

export interface AppConfig {
  readonly outdir?: string;
  readonly stackTraces?: boolean;
  readonly skipValidation?: boolean;
  readonly context?: { [key: string]: unknown };
}

export interface TerraformProviderGeneratorMetadata {
  readonly providerName: string;
  readonly providerVersionConstraint?: string;
  readonly providerVersion?: string;
}

export interface TerraformProviderConfig {
  readonly terraformResourceType: string;
  readonly terraformGeneratorMetadata?: TerraformProviderGeneratorMetadata;
  readonly terraformProviderSource?: string;
}

export interface TerraformProvider extends TerraformElement {
  readonly terraformResourceType: string;
}

/** `provisioners`: the local-exec kind (postDeployVerify's). */
export interface LocalExecProvisioner {
  readonly type: 'local-exec';
  readonly command: string;
  readonly workingDir?: string;
  readonly environment?: { [key: string]: string };
  readonly when?: 'destroy';
}

export interface TerraformResourceLifecycle {
  readonly createBeforeDestroy?: boolean;
  readonly preventDestroy?: boolean;
  readonly ignoreChanges?: string[] | 'all';
}

/**
 * Terraform's meta-arguments a calico resource takes. No `provider`: a resource of ours uses the
 * stack's one calico provider (and the libraries' provider classes differ in private members).
 */
export interface TerraformMetaArguments {
  readonly dependsOn?: ITerraformDependable[];
  readonly lifecycle?: TerraformResourceLifecycle;
  readonly provisioners?: LocalExecProvisioner[];
}

export interface TerraformResourceConfig extends TerraformMetaArguments {
  readonly terraformResourceType: string;
  readonly terraformGeneratorMetadata?: TerraformProviderGeneratorMetadata;
}

export interface TerraformResource extends TerraformElement, ITerraformDependable {
  readonly terraformResourceType: string;
  getStringAttribute(terraformAttribute: string): string;
  getNumberAttribute(terraformAttribute: string): number;
  getListAttribute(terraformAttribute: string): string[];
  getBooleanAttribute(terraformAttribute: string): IResolvable;
  interpolationForAttribute(terraformAttribute: string): IResolvable;
}

/** A backend is a TerraformElement with nothing of its own that we use; the name says what it is for. */
export type TerraformBackend = TerraformElement;

/** What a custom synthesis step is handed: the output directory and the stacks' places in it. */
export interface ISynthesisSession {
  readonly outdir: string;
  readonly manifest: { forStack(stack: TerraformStack): { readonly workingDirectory: string } };
}

interface Producer<T> {
  produce(context: unknown): T | undefined;
}

/** The CDK library's classes and functions we use (cdk.ts loads the app's own copy). */
export interface CdkLibrary {
  App: new (config?: AppConfig) => App;
  TerraformStack: (new (scope: Construct, id: string) => TerraformStack) & {
    of(construct: IConstruct): TerraformStack;
  };
  TerraformProvider: abstract new (scope: Construct, id: string, config: TerraformProviderConfig) => TerraformProvider;
  TerraformResource: new (scope: Construct, id: string, config: TerraformResourceConfig) => TerraformResource;
  LocalBackend: new (
    scope: Construct,
    props?: { readonly path?: string; readonly workspaceDir?: string },
  ) => TerraformBackend;
  PgBackend: new (
    scope: Construct,
    props: { readonly connStr: string; readonly schemaName?: string },
  ) => TerraformBackend;
  Annotations: {
    of(scope: IConstruct): {
      addWarning(message: string): void;
      addInfo(message: string): void;
      addError(message: string): void;
    };
  };
  Lazy: {
    stringValue(producer: Producer<string>): string;
    numberValue(producer: Producer<number>): number;
    listValue(producer: Producer<string[]>): string[];
    anyValue(producer: Producer<unknown>): IResolvable;
  };
  Token: {
    isUnresolved(obj: unknown): boolean;
    asString(value: unknown): string;
    asNumber(value: unknown): number;
    asList(value: unknown): string[];
    asStringMap(value: unknown): { [key: string]: string };
    asAny(value: unknown): IResolvable;
  };
  Fn: { sha256(input: string): string };
  hashMapper(elementMapper: (x: unknown) => unknown): (x: unknown) => unknown;
  stringToTerraform(x: unknown): unknown;
}
