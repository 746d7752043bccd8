/**
 * The provider runtime: serve a ProviderDefinition to Terraform over the plugin protocol (tfplugin6).
 *
 *   import { serveProvider } from './runtime';
 *   serveProvider(myProvider);
 */
export { serveProvider, MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE } from './serve';
export type { ServeOptions, RunningServer } from './serve';
export * from './resource';
export { createLogger } from './logger';
export { generateSelfSignedCertificate } from './certificate';
export type { SelfSignedCertificate } from './certificate';
export { decodeMsgpack, encodeMsgpack, decodeJsonState, blockTypeJson, typeJson } from './codec';
