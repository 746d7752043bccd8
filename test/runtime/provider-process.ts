/** Test helpers: gRPC clients that talk to a launched provider like Terraform does. */
import * as grpc from '@grpc/grpc-js';
import * as path from 'path';
import type { LaunchedProvider } from '../support/launch-provider';
import { toPem, SelfSignedCertificate } from '../../providers/runtime/certificate';
import { controllerService, healthService, providerService } from '../../providers/runtime/grpc-services';

export const REPO = path.resolve(__dirname, '..', '..');
/** Built by test/global-setup.ts (the main tsc build). */
export const MINIMAL_PROVIDER = path.join(REPO, 'dist', 'test', 'support', 'minimal-provider.js');

const ProviderClient = grpc.makeGenericClientConstructor(providerService, 'Provider');
const ControllerClient = grpc.makeGenericClientConstructor(controllerService, 'GRPCController');
const HealthClient = grpc.makeGenericClientConstructor(healthService, 'Health');

export interface Clients {
  provider: grpc.Client;
  controller: grpc.Client;
  health: grpc.Client;
  close(): void;
}

/**
 * Clients for a launched provider. `clientCert` overrides the certificate presented (default: the
 * one handed to the provider in PLUGIN_CLIENT_CERT); `null` presents none.
 */
export function connect(p: LaunchedProvider, clientCert?: SelfSignedCertificate | null): Clients {
  const target = `unix:${p.handshake.address}`;
  let creds: grpc.ChannelCredentials;
  if (p.handshake.certDer) {
    const serverPem = Buffer.from(toPem('CERTIFICATE', p.handshake.certDer));
    const cert = clientCert === undefined ? p.clientCert : clientCert;
    creds = cert
      ? grpc.credentials.createSsl(serverPem, Buffer.from(cert.keyPem), Buffer.from(cert.certPem))
      : grpc.credentials.createSsl(serverPem);
  } else {
    creds = grpc.credentials.createInsecure();
  }
  const options = { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' };
  const provider = new ProviderClient(target, creds, options);
  const controller = new ControllerClient(target, creds, options);
  const health = new HealthClient(target, creds, options);
  return {
    provider,
    controller,
    health,
    close: () => [provider, controller, health].forEach((c) => c.close()),
  };
}

/** Unary call with a deadline; resolves with the response object. */
export function call<T = any>(client: grpc.Client, method: string, request: object = {}, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    (client as any)[method](request, { deadline: Date.now() + timeoutMs }, (err: grpc.ServiceError | null, res: T) =>
      err ? reject(err) : resolve(res),
    );
  });
}
