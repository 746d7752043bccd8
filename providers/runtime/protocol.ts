/**
 * The tfplugin6 messages this runtime exchanges, as TypeScript types: one request and one
 * response per RPC (field names as in proto-text.ts). protobufjs still (de)serializes them
 * dynamically; these types are what the decoded objects look like and what answers must be.
 *
 * Decoded requests: proto3 leaves out fields that hold their default value (an empty type_name,
 * an empty private, a zero version), so every request field is optional. int64 arrives as a JS
 * number, bytes as a Buffer, enums as numbers.
 */

export interface DynamicValue {
  msgpack?: Uint8Array;
  json?: Uint8Array;
}

export type WireAttributeStep =
  { attribute_name: string } | { element_key_int: number } | { element_key_string: string };

export interface WireAttributePath {
  steps: WireAttributeStep[];
}

/** tfplugin6.Diagnostic. */
export interface WireDiagnostic {
  /** 1 ERROR, 2 WARNING. */
  severity: number;
  summary: string;
  detail: string;
  attribute?: WireAttributePath;
}

export interface RawState {
  json?: Uint8Array;
  /** Terraform's legacy (pre-0.12) flat "a.b.#" form. */
  flatmap?: { [key: string]: string };
}

export interface ClientCapabilities {
  deferral_allowed?: boolean;
  write_only_attributes_allowed?: boolean;
}

export interface ServerCapabilities {
  plan_destroy: boolean;
  get_provider_schema_optional: boolean;
  move_resource_state: boolean;
}

export interface WireSchemaAttribute {
  name: string;
  /** cty type JSON. */
  type: Buffer;
  description: string;
  description_kind: number;
  required: boolean;
  optional: boolean;
  computed: boolean;
  sensitive: boolean;
}

export interface WireNestedBlock {
  type_name: string;
  block: WireSchemaBlock;
  nesting: number;
  min_items: number;
  max_items: number;
}

export interface WireSchemaBlock {
  version: number;
  description: string;
  description_kind: number;
  attributes: WireSchemaAttribute[];
  block_types: WireNestedBlock[];
}

export interface WireSchema {
  version: number;
  block: WireSchemaBlock;
}

/** Every answer but StopProvider's carries diagnostics; its other fields may stay unset (proto3 defaults). */
export interface WithDiagnostics {
  diagnostics: WireDiagnostic[];
}

type Empty = Record<string, never>;

export type GetMetadataRequest = Empty;
export interface GetMetadataResponse extends WithDiagnostics {
  server_capabilities?: ServerCapabilities;
  resources?: { type_name: string }[];
  data_sources?: { type_name: string }[];
  functions?: { name: string }[];
  ephemeral_resources?: { type_name: string }[];
}

export type GetProviderSchemaRequest = Empty;
export interface GetProviderSchemaResponse extends WithDiagnostics {
  provider?: WireSchema;
  resource_schemas?: { [typeName: string]: WireSchema };
  data_source_schemas?: { [typeName: string]: WireSchema };
  /** This runtime serves no functions: always empty. */
  functions?: Empty;
  ephemeral_resource_schemas?: { [typeName: string]: WireSchema };
  server_capabilities?: ServerCapabilities;
}

export interface ValidateProviderConfigRequest {
  config?: DynamicValue;
}
export type ValidateProviderConfigResponse = WithDiagnostics;

export interface ValidateResourceConfigRequest {
  type_name?: string;
  config?: DynamicValue;
  client_capabilities?: ClientCapabilities;
}
export type ValidateResourceConfigResponse = WithDiagnostics;

export interface ValidateDataResourceConfigRequest {
  type_name?: string;
  config?: DynamicValue;
}
export type ValidateDataResourceConfigResponse = WithDiagnostics;

export interface UpgradeResourceStateRequest {
  type_name?: string;
  version?: number;
  raw_state?: RawState;
}
export interface UpgradeResourceStateResponse extends WithDiagnostics {
  upgraded_state?: DynamicValue;
}

export interface ConfigureProviderRequest {
  terraform_version?: string;
  config?: DynamicValue;
  client_capabilities?: ClientCapabilities;
}
export type ConfigureProviderResponse = WithDiagnostics;

export interface ReadResourceRequest {
  type_name?: string;
  current_state?: DynamicValue;
  private?: Uint8Array;
  provider_meta?: DynamicValue;
  client_capabilities?: ClientCapabilities;
}
export interface ReadResourceResponse extends WithDiagnostics {
  new_state?: DynamicValue;
  private?: Uint8Array;
}

export interface PlanResourceChangeRequest {
  type_name?: string;
  prior_state?: DynamicValue;
  proposed_new_state?: DynamicValue;
  config?: DynamicValue;
  prior_private?: Uint8Array;
  provider_meta?: DynamicValue;
  client_capabilities?: ClientCapabilities;
}
export interface PlanResourceChangeResponse extends WithDiagnostics {
  planned_state?: DynamicValue;
  requires_replace?: WireAttributePath[];
  planned_private?: Uint8Array;
}

export interface ApplyResourceChangeRequest {
  type_name?: string;
  prior_state?: DynamicValue;
  planned_state?: DynamicValue;
  config?: DynamicValue;
  planned_private?: Uint8Array;
  provider_meta?: DynamicValue;
}
export interface ApplyResourceChangeResponse extends WithDiagnostics {
  new_state?: DynamicValue;
  private?: Uint8Array;
}

export interface ImportResourceStateRequest {
  type_name?: string;
  id?: string;
  client_capabilities?: ClientCapabilities;
}
export interface ImportedResource {
  type_name: string;
  state: DynamicValue;
  private: Uint8Array;
}
export interface ImportResourceStateResponse extends WithDiagnostics {
  imported_resources?: ImportedResource[];
}

export interface ReadDataSourceRequest {
  type_name?: string;
  config?: DynamicValue;
  provider_meta?: DynamicValue;
  client_capabilities?: ClientCapabilities;
}
export interface ReadDataSourceResponse extends WithDiagnostics {
  state?: DynamicValue;
}

export type GetFunctionsRequest = Empty;
export interface GetFunctionsResponse extends WithDiagnostics {
  functions?: Empty;
}

export type StopProviderRequest = Empty;
export interface StopProviderResponse {
  /** Empty when the stop went through. */
  Error: string;
}

/** Request and response type of every tfplugin6.Provider RPC this runtime serves. */
export interface ProviderRpcTypes {
  GetMetadata: { request: GetMetadataRequest; response: GetMetadataResponse };
  GetProviderSchema: { request: GetProviderSchemaRequest; response: GetProviderSchemaResponse };
  ValidateProviderConfig: { request: ValidateProviderConfigRequest; response: ValidateProviderConfigResponse };
  ValidateResourceConfig: { request: ValidateResourceConfigRequest; response: ValidateResourceConfigResponse };
  ValidateDataResourceConfig: {
    request: ValidateDataResourceConfigRequest;
    response: ValidateDataResourceConfigResponse;
  };
  UpgradeResourceState: { request: UpgradeResourceStateRequest; response: UpgradeResourceStateResponse };
  ConfigureProvider: { request: ConfigureProviderRequest; response: ConfigureProviderResponse };
  ReadResource: { request: ReadResourceRequest; response: ReadResourceResponse };
  PlanResourceChange: { request: PlanResourceChangeRequest; response: PlanResourceChangeResponse };
  ApplyResourceChange: { request: ApplyResourceChangeRequest; response: ApplyResourceChangeResponse };
  ImportResourceState: { request: ImportResourceStateRequest; response: ImportResourceStateResponse };
  ReadDataSource: { request: ReadDataSourceRequest; response: ReadDataSourceResponse };
  GetFunctions: { request: GetFunctionsRequest; response: GetFunctionsResponse };
  StopProvider: { request: StopProviderRequest; response: StopProviderResponse };
}

export type RpcRequest<K extends keyof ProviderRpcTypes> = ProviderRpcTypes[K]['request'];
export type RpcResponse<K extends keyof ProviderRpcTypes> = ProviderRpcTypes[K]['response'];
