/**
 * The contract between the plugin-protocol runtime (providers/runtime) and the resources that
 * provider authors write (providers/calico, test fixtures). The runtime decodes Terraform's
 * msgpack values into the plain JS values below, calls these handlers, and encodes the answers.
 */
import { ResourceSchema } from './schema';

/** A value Terraform does not know yet (plan time). Encoded as msgpack extension 0. */
export const Unknown: unique symbol = Symbol('unknown');
export type UnknownValue = typeof Unknown;

/**
 * A cty value as handlers see it: attributes and nested single blocks are objects keyed by their
 * snake_case schema names; every schema key is present (null when unset).
 *
 * A cty number is a JS number when a float64 holds it exactly; otherwise (integers past 2^53 that
 * float64 cannot hold, decimals such as 0.1 that Terraform keeps exact) it is its decimal text, a
 * string, so it reaches Terraform again unchanged. Handlers may return either form.
 */
export type Value = null | string | number | boolean | UnknownValue | Value[] | { [name: string]: Value };
export type ObjectValue = { [name: string]: Value };

/**
 * A map element's key as a step of a path (tfplugin6 ElementKeyString): a bare string step names
 * an attribute or block, so a key needs a step of its own for Terraform to point at the element.
 */
export interface MapKeyStep {
  readonly mapKey: string;
}

/** Path to an attribute: names for attributes and blocks, numbers for list elements, map keys as MapKeyStep. */
export type AttributePath = (string | number | MapKeyStep)[];

export interface Diagnostic {
  severity: 'error' | 'warning';
  summary: string;
  detail?: string;
  attribute?: AttributePath;
}

/** Thrown by handlers; the runtime turns it into a Terraform diagnostic (with its path). */
export class ProviderError extends Error {
  constructor(
    public readonly summary: string,
    public readonly options: { detail?: string; attribute?: AttributePath } = {},
  ) {
    super(options.detail ? `${summary}: ${options.detail}` : summary);
  }
}

/**
 * Thrown by read() when the system that holds the object cannot be reached, as opposed to
 * reached and found wanting (refused credentials: a plain ProviderError). Unreachable is not
 * absent: the runtime keeps the prior state, reports a warning, and marks the object so the next
 * plan shows its computed attributes as unknown (an update) instead of trusting stale ones. That
 * lets one unreachable system fail its own resources at apply while the rest is applied.
 */
export class UnreachableError extends ProviderError {}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface ResourceContext<P = unknown> {
  /** Aborted on SIGINT / StopProvider: long work should stop and report. */
  signal: AbortSignal;
  /** Whatever the provider's configure() returned. */
  provider: P;
  /** The provider's log (Terraform's TF_LOG): for operators debugging, not for users. */
  log: Logger;
  /**
   * Tells the user something without failing: the runtime returns it as a WARNING diagnostic in
   * the answer of the RPC that called the handler (plan, apply, read, import), next to any error
   * the handler throws afterwards. Terraform prints it as "Warning: <summary>".
   */
  warn(summary: string, options?: { detail?: string; attribute?: AttributePath }): void;
  /**
   * In read(): the state was built by import() from the import id alone and no apply has run
   * since, so its settings are the id's (and the defaults it implies), not the configuration's.
   */
  imported?: boolean;
}

/** What upgradeState gets: no provider (Terraform may upgrade state before it configures one). */
export type StateUpgradeContext = Omit<ResourceContext<never>, 'provider'>;

export interface PlanRequest {
  /** null on create. */
  prior: ObjectValue | null;
  /**
   * Terraform's proposed new state, after the runtime's defaults: computed-only attributes are
   * Unknown on create and carry the prior value on update.
   */
  proposed: ObjectValue;
  config: ObjectValue;
}

export interface PlanResult {
  planned: ObjectValue;
  /** Added to the paths the runtime derives from `forceNew` attributes that changed. */
  requiresReplace?: AttributePath[];
}

export interface ResourceHandler<P = unknown> {
  readonly typeName: string;
  readonly schema: ResourceSchema;
  /**
   * Checks of a configuration (values may be Unknown) beyond the schema's own validators and
   * block checks (validation.ts), which the runtime runs first, and again on known values at
   * apply, read, delete and import. Prefer those: this hook runs at validate only.
   */
  validate?(config: ObjectValue): Diagnostic[];
  /** Adjust the planned state (e.g. set facts to the values apply will establish). */
  plan?(req: PlanRequest, ctx: ResourceContext<P>): Promise<PlanResult> | PlanResult;
  create(planned: ObjectValue, ctx: ResourceContext<P>): Promise<ObjectValue>;
  /** null = the object is gone. Never return null because the host is unreachable: throw. */
  read(state: ObjectValue, ctx: ResourceContext<P>): Promise<ObjectValue | null>;
  update(prior: ObjectValue, planned: ObjectValue, ctx: ResourceContext<P>): Promise<ObjectValue>;
  delete(prior: ObjectValue, ctx: ResourceContext<P>): Promise<void>;
  /** Build the state for `terraform import <addr> <id>`; ReadResource follows. */
  import(id: string, ctx: ResourceContext<P>): Promise<ObjectValue>;
  /**
   * Optional: convert state stored under an older schema version to the current schema.
   * rawState is the stored object as Terraform kept it: its JSON form, or its legacy flatmap
   * form unflattened by the runtime (see flatmap.ts). Numbers follow the same rule as in Value.
   * Without this hook the runtime maps the raw state onto the current schema by attribute name
   * (unknown keys dropped, missing ones null).
   */
  upgradeState?(
    rawState: { [name: string]: unknown },
    fromVersion: number,
    ctx: StateUpgradeContext,
  ): Promise<ObjectValue> | ObjectValue;
}

export interface ProviderDefinition<P = unknown> {
  /** Type name prefix, e.g. "calico". */
  readonly name: string;
  readonly configSchema: ResourceSchema;
  readonly resources: ResourceHandler<P>[];
  /** Called on ConfigureProvider; the result is handed to every handler as ctx.provider. */
  configure(config: ObjectValue, ctx: { signal: AbortSignal; log: Logger }): Promise<P> | P;
  /** Called once before the process exits (Shutdown): close connections. */
  close?(provider: P | undefined): Promise<void> | void;
  /**
   * When the process serves a destroy (terraform-command.ts), answer ReadResource with the
   * stored state without calling read(): the pre-destroy refresh then costs no host contact.
   * Only for providers whose read never answers "gone" (null), so that a refresh cannot change
   * what a destroy deletes, and whose delete() checks the real object itself (what it may
   * remove, and that the host is reachable).
   */
  readonly skipRefreshOnDestroy?: boolean;
}
