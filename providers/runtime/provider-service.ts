/**
 * tfplugin6.Provider: one method per RPC, taking and returning plain protobuf objects. Problems
 * become diagnostics (never gRPC errors), so Terraform shows them with the attribute they name.
 */
import type { BlockSchema } from './schema';
import { decodeJsonState, decodeMsgpack, encodeMsgpack } from './codec';
import { diagnosticFromError, errorDiagnostic, toWire, wirePath, WireDiagnostic } from './diagnostics';
import { checkApplyResult, forceNewChanges, planDefaults, planUnverifiedFacts } from './planning';
import type { ProviderRpc } from './grpc-services';
import { AttributePath, UnreachableError, Logger, ObjectValue, ProviderDefinition, ResourceContext, ResourceHandler } from './resource';
import { schemaToWire } from './schema-wire';
import { formatPath, unknownPaths } from './values';

type Req = any;
type Res = Record<string, unknown>;

const dynamic = (block: BlockSchema, v: ObjectValue | null) => ({ msgpack: encodeMsgpack(block, v) });

/**
 * Private state is the runtime's own (handlers never see it). It carries one fact from a refresh
 * to the plans after it: the host was unreachable, so the state's facts are unverified. A
 * successful apply clears it.
 */
const UNVERIFIED_PRIVATE = Buffer.from('{"unverified":true}');
const isUnverified = (priv: Buffer | undefined) => !!priv && priv.equals(UNVERIFIED_PRIVATE);

export class ProviderService<P> {
  private configured: P | undefined;

  constructor(
    private readonly def: ProviderDefinition<P>,
    private readonly log: Logger,
    /** Aborted by SIGINT and StopProvider. */
    private readonly stop: AbortController,
  ) {}

  get provider(): P | undefined {
    return this.configured;
  }

  private handler(typeName: string): ResourceHandler<P> | undefined {
    return this.def.resources.find((r) => r.typeName === typeName);
  }

  private unknownType(typeName: string): Res {
    return { diagnostics: [errorDiagnostic(`Unknown resource type ${JSON.stringify(typeName)}`, `The ${this.def.name} provider has no resource type ${typeName}.`)] };
  }

  private ctx(): ResourceContext<P> {
    return { signal: this.stop.signal, provider: this.configured as P, log: this.log, warn: (summary, o) => this.log.warn(summary, { detail: o?.detail }) };
  }

  /** Every RPC, keyed by name, for the gRPC server. */
  readonly rpcs: Record<ProviderRpc, (req: Req) => Promise<Res>> = {
    GetMetadata: async () => ({
      server_capabilities: { plan_destroy: false, get_provider_schema_optional: false, move_resource_state: false },
      resources: this.def.resources.map((r) => ({ type_name: r.typeName })),
      data_sources: [],
      functions: [],
      ephemeral_resources: [],
      diagnostics: [],
    }),

    GetProviderSchema: async () => {
      const resource_schemas: Record<string, object> = {};
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
      decodeMsgpack(this.def.configSchema.block, req.config?.msgpack);
      return { diagnostics: [] };
    },

    ValidateResourceConfig: async (req) => {
      const h = this.handler(req.type_name);
      if (!h) return this.unknownType(req.type_name);
      const config = decodeMsgpack(h.schema.block, req.config?.msgpack);
      if (!config || !h.validate) return { diagnostics: [] };
      return { diagnostics: h.validate(config).map(toWire) };
    },

    ValidateDataResourceConfig: async (req) => ({
      diagnostics: [errorDiagnostic(`Unknown data source ${JSON.stringify(req.type_name)}`, `The ${this.def.name} provider has no data sources.`)],
    }),

    ReadDataSource: async (req) => ({
      diagnostics: [errorDiagnostic(`Unknown data source ${JSON.stringify(req.type_name)}`, `The ${this.def.name} provider has no data sources.`)],
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

    UpgradeResourceState: async (req) => {
      const h = this.handler(req.type_name);
      if (!h) return this.unknownType(req.type_name);
      const block = h.schema.block;
      const version = Number(req.version ?? 0);
      const raw = req.raw_state ?? {};
      if (!raw.json || raw.json.length === 0) {
        if (raw.flatmap && Object.keys(raw.flatmap).length) {
          return { diagnostics: [errorDiagnostic('Legacy flatmap state is not supported', `Resource type ${req.type_name} never stored flatmap state.`)] };
        }
        return { upgraded_state: dynamic(block, null), diagnostics: [] };
      }
      if (version > h.schema.version) {
        return { diagnostics: [errorDiagnostic('State from a newer provider', `${req.type_name} state has schema version ${version}; this provider knows up to ${h.schema.version}. Use a newer provider.`)] };
      }
      let state: ObjectValue | null;
      if (version < h.schema.version && h.upgradeState) {
        state = await h.upgradeState(JSON.parse(Buffer.from(raw.json).toString('utf8')), version);
      } else {
        state = decodeJsonState(block, raw.json);
      }
      return { upgraded_state: dynamic(block, state), diagnostics: [] };
    },

    ReadResource: async (req) => {
      const h = this.handler(req.type_name);
      if (!h) return this.unknownType(req.type_name);
      const block = h.schema.block;
      const current = decodeMsgpack(block, req.current_state?.msgpack);
      const privateBytes = req.private ?? Buffer.alloc(0);
      if (!current) return { new_state: dynamic(block, null), private: privateBytes, diagnostics: [] };
      let state: ObjectValue | null;
      try {
        state = await h.read(current, this.ctx());
      } catch (err) {
        if (!(err instanceof UnreachableError)) throw err;
        return {
          new_state: req.current_state,
          private: UNVERIFIED_PRIVATE,
          diagnostics: [
            toWire({
              severity: 'warning',
              summary: `${err.summary}: state not refreshed`,
              detail: `${err.options.detail ?? ''}\nThe last known state is kept; a change is planned so apply retries this object.`.trim(),
            }),
          ],
        };
      }
      const unknown = state ? unknownPaths(state) : [];
      if (unknown.length) {
        return { new_state: req.current_state, private: privateBytes, diagnostics: unknown.map((p) => errorDiagnostic(`Provider bug: ${req.type_name} read returned an unknown value for ${formatPath(p)}`, 'Read must return wholly known values.', p)) };
      }
      // A read that reached the host verifies the facts again.
      return { new_state: dynamic(block, state), private: isUnverified(privateBytes) ? Buffer.alloc(0) : privateBytes, diagnostics: [] };
    },

    PlanResourceChange: async (req) => {
      const h = this.handler(req.type_name);
      if (!h) return this.unknownType(req.type_name);
      const block = h.schema.block;
      const prior = decodeMsgpack(block, req.prior_state?.msgpack);
      const proposed = decodeMsgpack(block, req.proposed_new_state?.msgpack);
      const config = decodeMsgpack(block, req.config?.msgpack);
      const privateBytes = req.prior_private ?? Buffer.alloc(0);
      if (!proposed || !config) {
        // Destroy: nothing to adjust.
        return { planned_state: dynamic(block, null), planned_private: privateBytes, requires_replace: [], diagnostics: [] };
      }
      let planned = planDefaults(block, prior, proposed, config);
      const replace: AttributePath[] = forceNewChanges(block, prior, planned);
      if (h.plan) {
        const result = await h.plan({ prior, proposed: planned, config }, this.ctx());
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

    ApplyResourceChange: async (req) => {
      const h = this.handler(req.type_name);
      if (!h) return this.unknownType(req.type_name);
      const block = h.schema.block;
      const prior = decodeMsgpack(block, req.prior_state?.msgpack);
      const planned = decodeMsgpack(block, req.planned_state?.msgpack);
      const privateBytes = req.planned_private ?? Buffer.alloc(0);
      const ctx = this.ctx();
      if (!planned) {
        if (prior) await h.delete(prior, ctx);
        return { new_state: dynamic(block, null), private: Buffer.alloc(0), diagnostics: [] };
      }
      const result = prior ? await h.update(prior, planned, ctx) : await h.create(planned, ctx);
      const { violations, repaired } = checkApplyResult(block, planned, result);
      if (violations.length) {
        this.log.error('apply result breaks the plan', { type: req.type_name, violations: violations.map((v) => v.problem) });
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
      // Applied on the host just now: whatever the last refresh could not verify is verified.
      return { new_state: dynamic(block, result), private: isUnverified(privateBytes) ? Buffer.alloc(0) : privateBytes, diagnostics: [] };
    },

    ImportResourceState: async (req) => {
      const h = this.handler(req.type_name);
      if (!h) return this.unknownType(req.type_name);
      const state = await h.import(req.id, this.ctx());
      return {
        imported_resources: [{ type_name: req.type_name, state: dynamic(h.schema.block, state), private: Buffer.alloc(0) }],
        diagnostics: [],
      };
    },
  };

  /**
   * Runs an RPC and turns a thrown error into an answer with an error diagnostic. For apply and
   * read, the prior state goes back with the error so Terraform keeps tracking the object.
   */
  async call(name: ProviderRpc, req: Req): Promise<Res> {
    const started = Date.now();
    try {
      const res = await this.rpcs[name](req);
      this.log.debug(`${name} done`, { rpc: name, type: req?.type_name, ms: Date.now() - started });
      return res;
    } catch (err) {
      this.log.error(`${name} failed`, { rpc: name, type: req?.type_name, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      const operation = operationOf(name, req);
      const diag = diagnosticFromError(err, `${req?.type_name ? `${req.type_name}: ` : ''}${operation} failed`);
      return errorAnswer(name, req, diag);
    }
  }
}

function addPath(paths: AttributePath[], p: AttributePath): void {
  const key = JSON.stringify(p);
  if (!paths.some((q) => JSON.stringify(q) === key)) paths.push(p);
}

function operationOf(name: ProviderRpc, req: Req): string {
  if (name === 'ApplyResourceChange') {
    const priorNull = !req.prior_state?.msgpack?.length || req.prior_state.msgpack[0] === 0xc0;
    const plannedNull = !req.planned_state?.msgpack?.length || req.planned_state.msgpack[0] === 0xc0;
    return plannedNull ? 'delete' : priorNull ? 'create' : 'update';
  }
  return (
    {
      ConfigureProvider: 'configure',
      ReadResource: 'read',
      PlanResourceChange: 'plan',
      ImportResourceState: 'import',
      UpgradeResourceState: 'state upgrade',
      ValidateResourceConfig: 'validation',
      ValidateProviderConfig: 'provider validation',
    } as Record<string, string>
  )[name] ?? name;
}

/** The error answer of each RPC keeps Terraform's view of the object where that matters. */
function errorAnswer(name: ProviderRpc, req: Req, diag: WireDiagnostic): Res {
  const diagnostics = [diag];
  switch (name) {
    case 'ApplyResourceChange': {
      // Create failed: no object (null state). Update/delete failed: the prior object remains.
      const priorNull = !req.prior_state?.msgpack?.length || req.prior_state.msgpack[0] === 0xc0;
      return { new_state: priorNull ? { msgpack: Buffer.from([0xc0]) } : req.prior_state, private: req.planned_private ?? Buffer.alloc(0), diagnostics };
    }
    case 'ReadResource':
      return { new_state: req.current_state, private: req.private ?? Buffer.alloc(0), diagnostics };
    case 'StopProvider':
      return { Error: diag.summary };
    default:
      return { diagnostics };
  }
}
