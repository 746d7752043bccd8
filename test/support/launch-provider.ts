/**
 * Starts a compiled provider the way Terraform does (go-plugin client side): magic cookie,
 * PLUGIN_PROTOCOL_VERSIONS, PLUGIN_MIN/MAX_PORT and, for AutoMTLS, PLUGIN_CLIENT_CERT holding a
 * fresh client certificate. Resolves once the handshake line arrives.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import { generateSelfSignedCertificate, SelfSignedCertificate } from '../../providers/runtime/certificate';
import { MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE } from '../../providers/runtime/serve';

export interface Handshake {
  coreVersion: number;
  appVersion: number;
  network: string;
  address: string;
  protocol: string;
  /** Server certificate (DER) when AutoMTLS is on. */
  certDer?: Buffer;
}

export interface LaunchedProvider {
  child: ChildProcess;
  handshake: Handshake;
  rawHandshake: string;
  /** Client certificate Terraform would hold (undefined on the plaintext path). */
  clientCert?: SelfSignedCertificate;
  /** spawn() → handshake line, in milliseconds. */
  startupMs: number;
  /** CPU the process used up to its handshake line (user + system, 10 ms ticks); says more than wall time on a busy machine. */
  startupCpuMs?: number;
  stderr(): string;
  /** SIGTERM (the runtime cleans up its socket), SIGKILL after 2 s; resolves once it has exited. */
  kill(): Promise<void>;
}

export function parseHandshake(line: string): Handshake {
  const parts = line.trim().split('|');
  if (parts.length < 5) throw new Error(`not a go-plugin handshake line: ${JSON.stringify(line)}`);
  const [core, app, network, address, protocol, cert] = parts;
  return {
    coreVersion: Number(core),
    appVersion: Number(app),
    network,
    address,
    protocol,
    // go-plugin uses base64 without padding.
    certDer: cert ? Buffer.from(cert, 'base64') : undefined,
  };
}

/** utime + stime of a live process, from /proc (clock ticks of 10 ms). */
function cpuMsOf(pid: number | undefined): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

export function launchProvider(
  entry: string,
  opts: { tls?: boolean; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<LaunchedProvider> {
  const clientCert = opts.tls === false ? undefined : generateSelfSignedCertificate();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    [MAGIC_COOKIE_KEY]: MAGIC_COOKIE_VALUE,
    PLUGIN_PROTOCOL_VERSIONS: '5,6',
    PLUGIN_MIN_PORT: '10000',
    PLUGIN_MAX_PORT: '25000',
    ...opts.env,
  };
  delete env.PLUGIN_CLIENT_CERT;
  if (clientCert) env.PLUGIN_CLIENT_CERT = clientCert.certPem;

  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [entry], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no handshake within ${opts.timeoutMs ?? 10000} ms; stderr: ${stderr}`));
    }, opts.timeoutMs ?? 10000);
    const onEarlyExit = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`provider exited (${code}) before its handshake; stderr: ${stderr}`));
    };
    child.once('exit', onEarlyExit);
    child.stdout!.on('data', (d) => {
      stdout += d;
      const nl = stdout.indexOf('\n');
      if (nl < 0) return;
      const startupMs = Number(process.hrtime.bigint() - started) / 1e6;
      const startupCpuMs = cpuMsOf(child.pid);
      clearTimeout(timer);
      child.off('exit', onEarlyExit);
      const rawHandshake = stdout.slice(0, nl);
      try {
        resolve({
          child,
          handshake: parseHandshake(rawHandshake),
          rawHandshake,
          clientCert,
          startupMs,
          startupCpuMs,
          stderr: () => stderr,
          kill: async () => {
            if (child.exitCode === null && child.signalCode === null) {
              child.kill('SIGTERM');
              const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
              await exited;
              clearTimeout(timer);
            }
            await exited;
          },
        });
      } catch (err) {
        child.kill('SIGKILL');
        reject(err);
      }
    });
  });
}
