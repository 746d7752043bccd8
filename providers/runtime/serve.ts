/**
 * go-plugin server side: magic-cookie check, AutoMTLS, the gRPC services on a unix socket, the
 * handshake line on stdout, graceful Shutdown and SIGINT handling.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type * as grpcTypes from '@grpc/grpc-js';
import { generateSelfSignedCertificate } from './certificate';
import { controllerService, healthService, PROVIDER_RPCS, ProviderRpc, providerService } from './grpc-services';
import type { RpcRequest, RpcResponse } from './protocol';
import { createLogger } from './logger';
import { ProviderService } from './provider-service';
import type { ProviderDefinition } from './resource';
import { checkSchema } from './schema-wire';

export const MAGIC_COOKIE_KEY = 'TF_PLUGIN_MAGIC_COOKIE';
export const MAGIC_COOKIE_VALUE = 'd602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2';
/** go-plugin core protocol version | tfplugin major version. */
const CORE_PROTOCOL_VERSION = 1;
const APP_PROTOCOL_VERSION = 6;
/** grpc-js defaults to 4 MB; large states and schemas must not hit it. */
const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;
/** Terraform SIGKILLs 2 s after Shutdown; leave the provider's close() a little less. */
const CLOSE_TIMEOUT_MS = 1200;
/** How long in-flight replies (the Shutdown answer among them) get to drain. */
const GRACEFUL_SHUTDOWN_MS = 500;

export interface ServeOptions {
  /** Where the handshake line goes (tests); default process.stdout. */
  handshakeOut?: NodeJS.WritableStream;
}

export interface RunningServer {
  /** The handshake line printed (without newline). */
  handshake: string;
  socketPath: string;
  /** Stops serving and runs the provider's close(); does not exit the process. */
  close(): Promise<void>;
}

function exitWithHumanMessage(message: string): never {
  process.stderr.write(message);
  process.exit(1);
}

export async function serveProvider<P>(def: ProviderDefinition<P>, options: ServeOptions = {}): Promise<RunningServer> {
  if (process.env[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
    exitWithHumanMessage(
      `This is the Terraform provider plugin "${def.name}". It is not meant to be run by hand:\n` +
        'Terraform starts it. Run `terraform init` and `terraform plan` in your configuration instead.\n',
    );
  }
  const offered = (process.env.PLUGIN_PROTOCOL_VERSIONS ?? String(APP_PROTOCOL_VERSION))
    .split(',')
    .map((v) => v.trim());
  if (!offered.includes(String(APP_PROTOCOL_VERSION))) {
    exitWithHumanMessage(
      `Provider "${def.name}" speaks plugin protocol ${APP_PROTOCOL_VERSION}; this Terraform offers ${offered.join(', ')}. ` +
        'Use Terraform ≥ 1.0.\n',
    );
  }

  const log = createLogger(`provider.terraform-provider-${def.name}`);
  for (const r of def.resources) {
    const problems = checkSchema(r.typeName, r.schema);
    if (problems.length) exitWithHumanMessage(`Invalid schema in provider "${def.name}":\n${problems.join('\n')}\n`);
  }

  // stdout belongs to the handshake: a stray console.log in a handler must not corrupt it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: util is loaded only once stdout is taken over
  const { format } = require('util') as typeof import('util');
  console.log = console.info = (...args: unknown[]) => log.info(format(...args));
  console.debug = (...args: unknown[]) => log.debug(format(...args));

  const stop = new AbortController();
  // Ctrl-C reaches the whole process group; Terraform follows up with StopProvider and Shutdown.
  process.on('SIGINT', () => {
    log.info('SIGINT received: aborting in-flight operations');
    if (!stop.signal.aborted) stop.abort(new Error('interrupted (SIGINT)'));
  });
  process.on('unhandledRejection', (reason) => log.error('unhandled rejection', { error: String(reason) }));
  process.on('uncaughtException', (err) => log.error('uncaught exception', { error: err.stack ?? err.message }));

  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: grpc-js loads after the handshake line is printed
  const grpc: typeof grpcTypes = require('@grpc/grpc-js');
  const server = new grpc.Server({
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  });
  const service = new ProviderService(def, log, stop);

  const impl: grpcTypes.UntypedServiceImplementation = {};
  for (const name of PROVIDER_RPCS) {
    impl[name] = (
      call: grpcTypes.ServerUnaryCall<RpcRequest<ProviderRpc>, RpcResponse<ProviderRpc>>,
      callback: grpcTypes.sendUnaryData<RpcResponse<ProviderRpc>>,
    ) => {
      service.call(name, call.request).then(
        (res) => callback(null, res),
        (err) => callback({ code: grpc.status.INTERNAL, details: String(err) }),
      );
    };
  }
  server.addService(providerService, impl);

  let closing: Promise<void> | undefined;
  const socketDir = fs.mkdtempSync(path.join(process.env.PLUGIN_UNIX_SOCKET_DIR || os.tmpdir(), 'plugin'));
  const socketPath = path.join(socketDir, 'provider.sock');
  const close = (): Promise<void> => {
    closing ??= (async () => {
      try {
        await Promise.race([
          Promise.resolve(def.close?.(service.provider)),
          new Promise((resolve) => setTimeout(resolve, CLOSE_TIMEOUT_MS).unref()),
        ]);
      } catch (err) {
        log.error('close failed', { error: String(err) });
      }
      // Graceful first, so the Shutdown reply itself still reaches Terraform; then force.
      await Promise.race([
        new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
        new Promise((resolve) => setTimeout(resolve, GRACEFUL_SHUTDOWN_MS).unref()),
      ]);
      server.forceShutdown();
      fs.rmSync(socketDir, { recursive: true, force: true });
    })();
    return closing;
  };
  process.on('exit', () => fs.rmSync(socketDir, { recursive: true, force: true }));
  // Terraform ends providers through Shutdown; SIGTERM (supervisors, tests) gets the same path.
  process.on('SIGTERM', () => void close().finally(() => process.exit(0)));

  server.addService(controllerService, {
    // "Reply, then exit" — go-plugin's GRPCController semantics.
    Shutdown: (_call: unknown, callback: grpcTypes.sendUnaryData<object>) => {
      log.debug('Shutdown requested');
      callback(null, {});
      setImmediate(() => void close().finally(() => process.exit(0)));
    },
  });
  server.addService(healthService, {
    Check: (_call: unknown, callback: grpcTypes.sendUnaryData<object>) => callback(null, { status: 1 /* SERVING */ }),
  });

  const clientCert = process.env.PLUGIN_CLIENT_CERT;
  let certField = '';
  let credentials: grpcTypes.ServerCredentials;
  if (clientCert) {
    const cert = generateSelfSignedCertificate();
    // Trust exactly Terraform's client certificate and refuse any connection without it.
    credentials = grpc.ServerCredentials.createSsl(
      Buffer.from(clientCert),
      [{ private_key: Buffer.from(cert.keyPem), cert_chain: Buffer.from(cert.certPem) }],
      true,
    );
    certField = cert.der.toString('base64').replace(/=+$/, '');
  } else {
    credentials = grpc.ServerCredentials.createInsecure();
  }

  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix:${socketPath}`, credentials, (err) => (err ? reject(err) : resolve())),
  );

  const handshake = [
    CORE_PROTOCOL_VERSION,
    APP_PROTOCOL_VERSION,
    'unix',
    socketPath,
    'grpc',
    ...(certField ? [certField] : []),
  ].join('|');
  (options.handshakeOut ?? process.stdout).write(`${handshake}\n`);
  log.debug('provider serving', { socket: socketPath, tls: !!clientCert });

  // If Terraform dies without calling Shutdown we get re-parented: do not linger.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void close().finally(() => process.exit(0));
  }, 2000).unref();

  return { handshake, socketPath, close };
}
