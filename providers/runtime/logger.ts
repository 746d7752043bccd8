/**
 * hclog-style JSON lines on stderr. go-plugin parses them and Terraform shows them under TF_LOG /
 * TF_LOG_PROVIDER at the right level. stdout is reserved for the handshake line.
 */
import type { Logger } from './resource';

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/** go-plugin parses @timestamp with layout 2006-01-02T15:04:05.000000Z07:00 (six fraction digits). */
function timestamp(): string {
  return new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function writeLogLine(
  level: Level,
  message: string,
  fields?: Record<string, unknown>,
  module = 'provider',
): void {
  const entry: Record<string, unknown> = {
    '@level': level,
    '@message': message,
    '@module': module,
    '@timestamp': timestamp(),
  };
  if (fields) {
    for (const [k, v] of Object.entries(fields)) {
      entry[k] = v instanceof Error ? v.message : v;
    }
  }
  try {
    process.stderr.write(`${JSON.stringify(entry)}\n`);
  } catch {
    // A closed stderr must never crash the provider.
  }
}

/**
 * Whether Terraform will keep our debug lines: it reads the provider's log level from
 * TF_LOG_PROVIDER, else TF_LOG (passed on to us in the environment); empty means off, JSON and
 * any unknown word mean trace. When it drops them anyway, not writing them saves a JSON line per
 * RPC on both sides of the pipe (hundreds per command at 32 nodes).
 */
export function debugWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  const level = (env.TF_LOG_PROVIDER || env.TF_LOG || '').trim().toLowerCase();
  return level !== '' && !['off', 'info', 'warn', 'error'].includes(level);
}

export function createLogger(module = 'provider', env: NodeJS.ProcessEnv = process.env): Logger {
  const debug = debugWanted(env);
  return {
    debug: debug ? (msg, fields) => writeLogLine('debug', msg, fields, module) : () => undefined,
    info: (msg, fields) => writeLogLine('info', msg, fields, module),
    warn: (msg, fields) => writeLogLine('warn', msg, fields, module),
    error: (msg, fields) => writeLogLine('error', msg, fields, module),
  };
}
