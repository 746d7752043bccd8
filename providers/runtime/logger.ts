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

export function writeLogLine(level: Level, message: string, fields?: Record<string, unknown>, module = 'provider'): void {
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

export function createLogger(module = 'provider'): Logger {
  return {
    debug: (msg, fields) => writeLogLine('debug', msg, fields, module),
    info: (msg, fields) => writeLogLine('info', msg, fields, module),
    warn: (msg, fields) => writeLogLine('warn', msg, fields, module),
    error: (msg, fields) => writeLogLine('error', msg, fields, module),
  };
}
