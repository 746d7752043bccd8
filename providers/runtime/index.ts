/**
 * The provider runtime: serve a ProviderDefinition to Terraform over the plugin protocol (tfplugin6).
 * It imports nothing from outside providers/runtime: any provider can be built on it.
 *
 *   import { serveProvider } from './runtime';
 *   serveProvider(myProvider);
 *
 * What a provider author uses: the handler contract (resource.ts: ResourceHandler, ResourceContext
 * with ctx.warn, ProviderError, UnreachableError, Unknown), the schema types (schema.ts), the
 * checks declared on them (validation.ts), and the value helpers below.
 */
export { serveProvider, MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE } from './serve';
export type { ServeOptions, RunningServer } from './serve';
export * from './resource';
export type { AttributeSchema, BlockSchema, CtyType, NestedBlockSchema, ResourceSchema } from './schema';
export { eachElement, mapEntries, numberValue, stringValue, validationProblems } from './validation';
export type {
  AttributeValidator,
  BlockCheck,
  BlockProblem,
  ValidationStage,
  ValidatorOptions,
  ValueCheck,
} from './validation';
export { createLogger } from './logger';
export { generateSelfSignedCertificate } from './certificate';
export type { SelfSignedCertificate } from './certificate';
export { decodeMsgpack, encodeMsgpack, decodeJsonState, blockTypeJson, typeJson } from './codec';
export { isWhollyKnown, valuesEqual, formatPath } from './value-walk';
export { exactFloat64, numbersEqual } from './exact-numbers';
