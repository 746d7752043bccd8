/**
 * gRPC service definitions for grpc-js, built from the .proto text with protobufjs reflection.
 *
 * The .proto text is parsed lazily, on the first message that needs (de)serializing: the
 * handshake line does not wait for it (Terraform starts the provider several times per command).
 */
import type { ServiceDefinition } from '@grpc/grpc-js';
import type * as protobuf from 'protobufjs';
import type { ProviderRpcTypes } from './protocol';
import { HEALTH_PROTO_TEXT, PLUGIN_PROTO_TEXT, PROTO_TEXT } from './proto-text';

let root: protobuf.Root | undefined;

function protoRoot(): protobuf.Root {
  if (!root) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: loaded on first use, after the handshake
    const pb: typeof protobuf = require('protobufjs');
    root = new pb.Root();
    for (const text of [PROTO_TEXT, PLUGIN_PROTO_TEXT, HEALTH_PROTO_TEXT]) {
      pb.parse(text, root, { keepCase: true });
    }
    root.resolveAll();
  }
  return root;
}

const typeCache = new Map<string, protobuf.Type>();
function messageType(fullName: string): protobuf.Type {
  let t = typeCache.get(fullName);
  if (!t) {
    t = protoRoot().lookupType(fullName);
    typeCache.set(fullName, t);
  }
  return t;
}

/** Plain JS object → wire bytes (enums by name or number, maps as objects, bytes as Buffer). */
export function encodeMessage(fullName: string, value: object): Buffer {
  const t = messageType(fullName);
  return Buffer.from(t.encode(t.fromObject(value)).finish());
}

/** Wire bytes → plain JS object (int64 as number, bytes as Buffer, absent fields absent). */
export function decodeMessage<T = unknown>(fullName: string, bytes: Buffer): T {
  const t = messageType(fullName);
  return t.toObject(t.decode(bytes), { longs: Number, enums: Number }) as T;
}

interface MethodSpec {
  name: string;
  request: string;
  response: string;
}

function serviceDefinition(service: string, methods: MethodSpec[]): ServiceDefinition {
  const def: Record<string, unknown> = {};
  for (const m of methods) {
    def[m.name] = {
      path: `/${service}/${m.name}`,
      requestStream: false,
      responseStream: false,
      originalName: m.name,
      requestSerialize: (v: object) => encodeMessage(m.request, v),
      requestDeserialize: (b: Buffer) => decodeMessage(m.request, b),
      responseSerialize: (v: object) => encodeMessage(m.response, v),
      responseDeserialize: (b: Buffer) => decodeMessage(m.response, b),
    };
  }
  return def as unknown as ServiceDefinition;
}

/** Every RPC of tfplugin6.Provider this runtime answers. Request type = `tfplugin6.<Name>.Request`. */
export const PROVIDER_RPCS = [
  'GetMetadata',
  'GetProviderSchema',
  'ValidateProviderConfig',
  'ValidateResourceConfig',
  'ValidateDataResourceConfig',
  'UpgradeResourceState',
  'ConfigureProvider',
  'ReadResource',
  'PlanResourceChange',
  'ApplyResourceChange',
  'ImportResourceState',
  'ReadDataSource',
  'GetFunctions',
  'StopProvider',
] as const;
export type ProviderRpc = (typeof PROVIDER_RPCS)[number];
// Compile-time check: every RPC served has declared request/response types, and no more.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
export const RPC_TYPES_COVER_EVERY_RPC: Same<ProviderRpc, keyof ProviderRpcTypes> = true;

export const providerService = serviceDefinition(
  'tfplugin6.Provider',
  PROVIDER_RPCS.map((name) => ({
    name,
    request: `tfplugin6.${name}.Request`,
    response: `tfplugin6.${name}.Response`,
  })),
);

export const controllerService = serviceDefinition('plugin.GRPCController', [
  { name: 'Shutdown', request: 'plugin.Empty', response: 'plugin.Empty' },
]);

export const healthService = serviceDefinition('grpc.health.v1.Health', [
  {
    name: 'Check',
    request: 'grpc.health.v1.HealthCheckRequest',
    response: 'grpc.health.v1.HealthCheckResponse',
  },
]);
