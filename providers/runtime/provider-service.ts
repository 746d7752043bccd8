/**
 * tfplugin6.Provider: one method per RPC, taking and returning the typed protobuf objects of
 * protocol.ts. Problems become diagnostics (never gRPC errors), so Terraform shows them with the
 * attribute they name; warnings handlers raise through ctx.warn travel in the same answer.
 */
import type { BlockSchema } from './schema';
import { decodeMsgpack, decodeRawState, encodeMsgpack, parseJsonState, ValueError } from './codec';
import { diagnosticFromError, errorDiagnostic, toWire, wirePath, WireDiagnostic } from './diagnostics';
import { unflattenState } from './flatmap';
import { checkApplyResult, forceNewChanges, planDefaults, planUnverifiedFacts } from './planning';
import type { ProviderRpc } from './grpc-services';
import type { ApplyResourceChangeRequest, DynamicValue, RpcRequest, RpcResponse, WithDiagnostics } from './protocol';
import {
  AttributePath,
  Diagnostic,
  UnreachableError,
  Logger,
  ObjectValue,
  ProviderDefinition,
  ResourceContext,
  ResourceHandler,
  StateUpgradeContext,
} from './resource';
import { schemaToWire } from './schema-wire';
import { startedByDestroy } from './terraform-command';
import { formatPath, unknownPaths } from './value-walk';
import { validationProblems } from './validation';

/** One RPC's implementation: `warnings` collects what handlers pass to ctx.warn during the call. */
type RpcImpl<K extends ProviderRpc> = (req: RpcRequest<K>, warnings: Diagnostic[]) => Promise<RpcResponse<K>>;
type RpcTable = { [K in ProviderRpc]: RpcImpl<K> };

const dynamic = (block: BlockSchema, v: ObjectValue | null): DynamicValue => ({ msgpack: encodeMsgpack(block, v) });
const NO_BYTES = Buffer.alloc(0);
const NULL_VALUE: DynamicValue = { msgpack: Buffer.from([0xc0]) };

/**
 * Private state is the runtime's own (handlers never see it). It carries facts from one RPC to
 * the later ones: `unverified` (a refresh could not reach the system, so the state's facts are
 * unverified) and `imported` (the state was built by an import from the id alone, and no apply
 * has written the configuration's settings into it since; handlers see it as ctx.imported). A
 * successful apply clears both. The first form, `{"unverified":true}`, is what older states hold.
 */
interface PrivateFlags {
  unverified?: boolean;
  imported?: boolean;
}

/** The flags in a private of ours; null for anything else (left as it is: echoed back). */
function ourFlags(priv: Uint8Array | undefined): PrivateFlags | null {
  if (!priv || priv.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(Buffer.from(priv).toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
    const p = parsed as Record<string, unknown>;
    if (Object.keys(p).some((k) => k !== 'unverified' && k !== 'imported')) return null;
    return { unverified: p.unverified === true, imported: p.imported === true };
  } catch {
    return null;
  }
}

const privateFlags = (priv: Uint8Array | undefined): PrivateFlags => ourFlags(priv) ?? {};

function privateBytesOf(flags: PrivateFlags): Uint8Array {
  const kept: PrivateFlags = {};
  if (flags.unverified) kept.unverified = true;
  if (flags.imported) kept.imported = true;
  return Object.keys(kept).length === 0 ? NO_BYTES : Buffer.from(JSON.stringify(kept));
}

/** A private of ours with some flags changed; any other private goes back as it came. */
function withFlags(priv: Uint8Array, change: PrivateFlags): Uint8Array {
  const flags = ourFlags(priv);
  return flags === null ? priv : privateBytesOf({ ...flags, ...change });
}

const isUnverified = (priv: Uint8Array | undefined) => privateFlags(priv).unverified === true;

export class ProviderService<P> {
  private configured: P | undefined;

  constructor(
    private readonly def: ProviderDefinition<P>,
    private readonly log: Logger,
    /** Aborted by SIGINT and StopProvider. */
    private readonly stop: AbortController,
    /** Whether this process serves a destroy (tests pass their own answer). */
    private readonly destroyCommand: () => boolean = startedByDestroy,
  ) {}

  private destroying: boolean | undefined;

  /** A destroy's refresh that the definition lets go without reads (asked once per process). */
  private skipsRefresh(): boolean {
    if (!this.def.skipRefreshOnDestroy) return false;
    if (this.destroying === undefined) {
      this.destroying = this.destroyCommand();
      if (this.destroying)
        this.log.info('destroy: ReadResource answers with the stored state; each delete checks its host itself');
    }
    return this.destroying;
  }

  get provider(): P | undefined {
    return this.configured;
  }

  private handler(typeName: string | undefined): ResourceHandler<P> | undefined {
    return this.def.resources.find((r) => r.typeName === typeName);
  }

  private unknownType(typeName: string | undefined): WithDiagnostics {
    return {
      diagnostics: [
        errorDiagnostic(
          `Unknown resource type ${JSON.stringify(typeName ?? '')}`,
          `The ${this.def.name} provider has no resource type ${typeName ?? ''}.`,
        ),
      ],
    };
  }

  /** The context of one handler call; ctx.warn adds to this RPC's warnings. */
  private ctx(warnings: Diagnostic[], imported = false): ResourceContext<P> {
    return { ...this.upgradeCtx(warnings), provider: this.configured as P, imported };
  }

  private upgradeCtx(warnings: Diagnostic[]): StateUpgradeContext {
    return {
      signal: this.stop.signal,
      log: this.log,
      warn: (summary, options = {}) => {
        warnings.push({ severity: 'warning', summary, detail: options.detail, attribute: options.attribute });
      },
    };
  }

  /** Every RPC, keyed by name, for the gRPC server. */
  readonly rpcs: RpcTable = {
    GetMetadata: async () => ({
      server_capabilities: { plan_destroy: false, get_provider_schema_optional: false, move_resource_state: false },
      resources: this.def.resources.map((r) => ({ type_name: r.typeName })),
      data_sources: [],
      functions: [],
      ephemeral_resources: [],
      diagnostics: [],
    }),

    GetProviderSchema: async () => {
      const resource_schemas: Record<string, ReturnType<typeof schemaToWire>> = {};
      for (const r of this.def.resources) resource_schemas[r.typeName] = schemaToWire(r.schema);
      return {
        provider: schemaToWire(this.def.configSchema),
        resource_schemas,
        data_source_schemas: {},
        functions: {},
        ephemeral_resource_schemas: {},
        server_capabilities: { plan_destroy: false, get_provider_schema_optional: false, move_resource_state: false },
        diagnostics: [],
      };
    },

    ValidateProviderConfig: async (req) => {
      const config = decodeMsgpack(this.def.configSchema.block, req.config?.msgpack);
      return { diagnostics: validationProblems(this.def.configSchema.block, config, 'config').map(toWire) };
    },

    ValidateResourceConfig: async (req) => {
      const h = this.handler(req.type_name);
      if (!h) return this.unknownType(req.type_name);
      const config = decodeMsgpack(h.schema.block, req.config?.msgpack);
      if (!config) return { diagnostics: [] };
      // The schema's checks (unknown values skipped), then whatever else the handler checks.
      const diagnostics = [...validationProblems(h.schema.block, config, 'config'), ...(h.validate?.(config) ?? [])];
      return { diagnostics: diagnostics.map(toWire) };
    },

    ValidateDataResourceConfig: async (req) => ({
      diagnostics: [
        errorDiagnostic(
          `Unknown data source ${JSON.stringify(req.type_name ?? '')}`,
          `The ${this.def.name} provider has no data sources.`,
        ),
      ],
    }),

    ReadDataSource: async (req) => ({
      diagnostics: [
        errorDiagnostic(
          `Unknown data source ${JSON.stringify(req.type_name ?? '')}`,
          `The ${this.def.name} provider has no data sources.`,
        ),
      ],
    }),

    GetFunctions: async () => ({ functions: {}, diagnostics: [] }),

    ConfigureProvider: async (req) => {
      const config = decodeMsgpack(this.def.configSchema.block, req.config?.msgpack) ?? {};
      this.configured = await this.def.configure(config, { signal: this.stop.signal, log: this.log });
      return { diagnostics: [] };
    },

    StopProvider: async () => {
      this.log.info('StopProvider: aborting in-flight operations');
      this.stop.abort(new Error('Terraform asked the provider to stop'));
      return { Error: '' };
    },

    UpgradeResourceState: async (req, warnings) => {
      const h = this.handler(req.type_name);
      if (!h) return this.unknownType(req.type_name);
      const block = h.schema.block;
      const version = req.version ?? 0;
      const json = req.raw_state?.json;
      const flatmap = req.raw_state?.flatmap ?? {};
      let raw: unknown;
      if (json && json.length) raw = parseJsonState(json);
      else if (Object.keys(flatmap).length) raw = unflattenState(block, flatmap);
      else return { upgraded_state: dynamic(block, null), diagnostics: [] };
      if (version > h.schema.version) {
        return {
          diagnostics: [
            errorDiagnostic(
              'State from a newer provider',
              `${req.type_name} state has schema version ${version}; this provider knows up to ${h.schema.version}. Use a newer provider.`,
            ),
          ],
        };
      }
      if (raw === null) return { upgraded_state: dynamic(block, null), diagnostics: [] };
      if (typeof raw !== 'object' || Array.isArray(raw))
        throw new ValueError([], `stored state is ${Array.isArray(raw) ? 'an array' : typeof raw}, not an object`);
      let state: ObjectValue | null;
      if (version < h.schema.version && h.upgradeState) {
        state = await h.upgradeState(raw as Record<string, unknown>, version, this.upgradeCtx(warnings));
      } else {
        state = decodeRawState(block, raw);
      }
      return { upgraded_state: dynamic(block, state), diagnostics: [] };
    },

    ReadResource: async (req, warnings) => {
      const h = this.handler(req.type_name);
      if (!h) return this.unknownType(req.type_name);
      const block = h.schema.block;
      const current = decodeMsgpack(block, req.current_state?.msgpack);
      const privateBytes = req.private ?? NO_BYTES;
      if (!current) return { new_state: dynamic(block, null), private: privateBytes, diagnostics: [] };
      // A state may hold what validate() never saw (written by hand, by an import, by an older
      // provider): the schema's checks run on it before the handler reaches a host with it.
      const invalid = validationProblems(block, current, 'state');
      if (invalid.length)
        return { new_state: req.current_state, private: privateBytes, diagnostics: invalid.map(toWire) };
      // A destroy deletes every object whatever a read finds (read never answers "gone"), and
      // each delete looks at the host itself: a login per host to refresh first buys nothing.
      if (this.skipsRefresh()) return { new_state: req.current_state, private: privateBytes, diagnostics: [] };
      const flags = privateFlags(privateBytes);
      let state: ObjectValue | null;
      try {
        state = await h.read(current, this.ctx(warnings, flags.imported === true));
      } catch (err) {
        if (!(err instanceof UnreachableError)) throw err;
        return {
          new_state: req.current_state,
          private: privateBytesOf({ ...flags, unverified: true }),
          diagnostics: [
            toWire({
              severity: 'warning',
              summary: `${err.summary}: state not refreshed`,
              detail:
                `${err.options.detail ?? ''}\nThe last known state is kept; a change is planned so apply retries this object.`.trim(),
            }),
          ],
        };
      }
      const unknown = state ? unknownPaths(state) : [];
      if (unknown.length) {
        return {
          new_state: req.current_state,
          private: privateBytes,
          diagnostics: unknown.map((p) =>
            errorDiagnostic(
              `Provider bug: ${req.type_name} read returned an unknown value for ${formatPath(p)}`,
              'Read must return wholly known values.',
              p,
            ),
          ),
        };
      }
      // A read that reached the host verifies the facts again.
      return {
        new_state: dynamic(block, state),
        private: withFlags(privateBytes, { unverified: false }),
        diagnostics: [],
      };
    },

    PlanResourceChange: async (req, warnings) => {
      const h = this.handler(req.type_name);
      if (!h) return this.unknownType(req.type_name);
      const block = h.schema.block;
      const prior = decodeMsgpack(block, req.prior_state?.msgpack);
      const proposed = decodeMsgpack(block, req.proposed_new_state?.msgpack);
      const config = decodeMsgpack(block, req.config?.msgpack);
      const privateBytes = req.prior_private ?? NO_BYTES;
      if (!proposed || !config) {
        // Destroy: nothing to adjust.
        return {
          planned_state: dynamic(block, null),
          planned_private: privateBytes,
          requires_replace: [],
          diagnostics: [],
        };
      }
      let planned = planDefaults(block, prior, proposed, config);
      const replace: AttributePath[] = forceNewChanges(block, prior, planned);
      if (h.plan) {
        const result = await h.plan({ prior, proposed: planned, config }, this.ctx(warnings));
        planned = result.planned;
        for (const p of forceNewChanges(block, prior, planned)) addPath(replace, p);
        for (const p of result.requiresReplace ?? []) addPath(replace, p);
      }
      if (prior && isUnverified(req.prior_private)) planned = planUnverifiedFacts(block, planned);
      return {
        planned_state: dynamic(block, planned),
        requires_replace: prior ? replace.map(wirePath) : [],
        planned_private: privateBytes,
        diagnostics: [],
      };
    },

    ApplyResourceChange: async (req, warnings) => {
      const h = this.handler(req.type_name);
      if (!h) return this.unknownType(req.type_name);
      const block = h.schema.block;
      const prior = decodeMsgpack(block, req.prior_state?.msgpack);
      const planned = decodeMsgpack(block, req.planned_state?.msgpack);
      const privateBytes = req.planned_private ?? NO_BYTES;
      const ctx = this.ctx(warnings);
      // The checks validate() ran, again on values known now (some were unknown then; a prior
      // state never passed there): the handler gets only inputs that pass them.
      const invalid = planned ? validationProblems(block, planned, 'apply') : validationProblems(block, prior, 'state');
      if (invalid.length) return errorAnswer('ApplyResourceChange', req, invalid.map(toWire));
      if (!planned) {
        if (prior) await h.delete(prior, ctx);
        return { new_state: dynamic(block, null), private: NO_BYTES, diagnostics: [] };
      }
      const result = prior ? await h.update(prior, planned, ctx) : await h.create(planned, ctx);
      const { violations, repaired } = checkApplyResult(block, planned, result);
      if (violations.length) {
        this.log.error('apply result breaks the plan', {
          type: req.type_name,
          violations: violations.map((v) => v.problem),
        });
        return {
          new_state: dynamic(block, repaired),
          private: privateBytes,
          diagnostics: violations.map((v) =>
            errorDiagnostic(
              `Provider produced a result that differs from its plan: ${formatPath(v.path)}`,
              `${req.type_name}: ${v.problem}. This is a bug in the ${this.def.name} provider's ${req.type_name} handler (its plan and its ${prior ? 'update' : 'create'} disagree).`,
              v.path,
            ),
          ),
        };
      }
      // Applied on the host just now, with the configuration's settings: whatever the last
      // refresh could not verify is verified, and an imported state is one no longer.
      return {
        new_state: dynamic(block, result),
        private: withFlags(privateBytes, { unverified: false, imported: false }),
        diagnostics: [],
      };
    },

    ImportResourceState: async (req, warnings) => {
      const h = this.handler(req.type_name);
      if (!h) return this.unknownType(req.type_name);
      const state = await h.import(req.id ?? '', this.ctx(warnings));
      const invalid = validationProblems(h.schema.block, state, 'state');
      if (invalid.length) return { diagnostics: invalid.map(toWire) };
      return {
        imported_resources: [
          { type_name: h.typeName, state: dynamic(h.schema.block, state), private: privateBytesOf({ imported: true }) },
        ],
        diagnostics: [],
      };
    },
  };

  /**
   * Runs an RPC and turns a thrown error into an answer with an error diagnostic. For apply and
   * read, the prior state goes back with the error so Terraform keeps tracking the object.
   * Warnings raised through ctx.warn come first in the answer's diagnostics, error or not.
   */
  async call<K extends ProviderRpc>(name: K, req: RpcRequest<K>): Promise<RpcResponse<K>> {
    const started = Date.now();
    const warnings: Diagnostic[] = [];
    const typeName = typeNameOf(req);
    let res: RpcResponse<K>;
    try {
      const impl: RpcImpl<K> = this.rpcs[name];
      res = await impl(req, warnings);
      this.log.debug(`${name} done`, { rpc: name, type: typeName, ms: Date.now() - started });
    } catch (err) {
      this.log.error(`${name} failed`, {
        rpc: name,
        type: typeName,
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      });
      const diag = diagnosticFromError(err, `${typeName ? `${typeName}: ` : ''}${operationOf(name, req)} failed`);
      res = errorAnswer(name, req, [diag]);
    }
    return warnings.length ? withWarnings(res, warnings.map(toWire)) : res;
  }
}

function addPath(paths: AttributePath[], p: AttributePath): void {
  const key = JSON.stringify(p);
  if (!paths.some((q) => JSON.stringify(q) === key)) paths.push(p);
}

function typeNameOf(req: RpcRequest<ProviderRpc>): string | undefined {
  return 'type_name' in req ? req.type_name : undefined;
}

const isNullValue = (v: DynamicValue | undefined) => !v?.msgpack?.length || v.msgpack[0] === 0xc0;

function applyOperation(req: ApplyResourceChangeRequest): 'create' | 'update' | 'delete' {
  return isNullValue(req.planned_state) ? 'delete' : isNullValue(req.prior_state) ? 'create' : 'update';
}

const OPERATION_NAMES: Partial<Record<ProviderRpc, string>> = {
  ConfigureProvider: 'configure',
  ReadResource: 'read',
  PlanResourceChange: 'plan',
  ImportResourceState: 'import',
  UpgradeResourceState: 'state upgrade',
  ValidateResourceConfig: 'validation',
  ValidateProviderConfig: 'provider validation',
};

function operationOf<K extends ProviderRpc>(name: K, req: RpcRequest<K>): string {
  if (name === 'ApplyResourceChange') return applyOperation(req as RpcRequest<'ApplyResourceChange'>);
  return OPERATION_NAMES[name] ?? name;
}

/** The error answer of each RPC keeps Terraform's view of the object where that matters. */
function errorAnswer<K extends ProviderRpc>(
  name: K,
  req: RpcRequest<K>,
  diagnostics: WireDiagnostic[],
): RpcResponse<K> {
  // K is generic, so TypeScript cannot narrow req from name: each branch names its RPC's types.
  switch (name) {
    case 'ApplyResourceChange': {
      // Create failed: no object (null state). Update/delete failed: the prior object remains.
      const apply = req as RpcRequest<'ApplyResourceChange'>;
      const answer: RpcResponse<'ApplyResourceChange'> = {
        new_state: isNullValue(apply.prior_state) ? NULL_VALUE : apply.prior_state,
        private: apply.planned_private ?? NO_BYTES,
        diagnostics,
      };
      return answer as RpcResponse<K>;
    }
    case 'ReadResource': {
      const read = req as RpcRequest<'ReadResource'>;
      const answer: RpcResponse<'ReadResource'> = {
        new_state: read.current_state,
        private: read.private ?? NO_BYTES,
        diagnostics,
      };
      return answer as RpcResponse<K>;
    }
    case 'StopProvider': {
      const answer: RpcResponse<'StopProvider'> = { Error: diagnostics[0]?.summary ?? '' };
      return answer as RpcResponse<K>;
    }
    default: {
      const answer: WithDiagnostics = { diagnostics };
      return answer as RpcResponse<K>;
    }
  }
}

/** Puts the call's warnings before the answer's own diagnostics (answers without any keep theirs). */
function withWarnings<R>(res: R, warnings: WireDiagnostic[]): R {
  const own = (res as Partial<WithDiagnostics>).diagnostics;
  if (own === undefined) return res;
  return { ...res, diagnostics: [...warnings, ...own] };
}
