/**
 * Where Terraform's pg backend connects, worked out the way it does, so that synthesis can read
 * the same database (stacks/pg-states.ts) and name it in a message without its password.
 *
 * Terraform 1.11's pg backend hands `conn_str` (or PG_CONN_STR) to the Go driver lib/pq, so these
 * are lib/pq's rules (public behaviour, rewritten here):
 * - a `postgres://` or `postgresql://` URL, or libpq's `key=value` words (values may be quoted
 *   with '…', a backslash escapes the next character);
 * - what the string leaves out comes from the libpq environment variables (PGHOST, PGPORT,
 *   PGDATABASE, PGUSER, PGPASSWORD, PGSSLMODE, PGSSLROOTCERT, PGSSLCERT, PGSSLKEY,
 *   PGCONNECT_TIMEOUT), then host localhost, port 5432, the login user, and the user's name as
 *   the database;
 * - sslmode is `require` when unset (encrypted, the server's certificate not checked), or
 *   `disable`, `verify-ca`, `verify-full`; lib/pq knows no other; a unix socket (a host that is
 *   a directory path) never uses SSL.
 *
 * Pure logic: no I/O (the caller passes the environment and reads certificate files).
 */

/** The connection string cannot be used (the message never quotes a value: it may be a password). */
export class PgConnectionError extends Error {}

export type PgSslMode = 'disable' | 'require' | 'verify-ca' | 'verify-full';

/** One PostgreSQL server and database, as lib/pq would reach it. */
export interface PgTarget {
  /** A host name or address, or (a unix socket) the directory that holds the socket. */
  host: string;
  port: number;
  database: string;
  user: string;
  password?: string;
  sslMode: PgSslMode;
  sslRootCert?: string;
  sslCert?: string;
  sslKey?: string;
  /** Seconds to wait for the connection; undefined: not set (lib/pq then waits without limit). */
  connectTimeout?: number;
}

const SSL_MODES: readonly string[] = ['disable', 'require', 'verify-ca', 'verify-full'];

/** libpq's environment variables that lib/pq reads, by the connection key each one sets. */
const ENVIRONMENT: Record<string, string> = {
  host: 'PGHOST',
  port: 'PGPORT',
  dbname: 'PGDATABASE',
  user: 'PGUSER',
  password: 'PGPASSWORD',
  sslmode: 'PGSSLMODE',
  sslrootcert: 'PGSSLROOTCERT',
  sslcert: 'PGSSLCERT',
  sslkey: 'PGSSLKEY',
  connect_timeout: 'PGCONNECT_TIMEOUT',
};

const isSpace = (c: string) => /\s/.test(c);

/** libpq's `key=value` words into a map (a later key wins, as in lib/pq). */
export function parseKeywordValues(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  const skipSpaces = () => {
    while (i < text.length && isSpace(text[i])) i++;
  };
  for (;;) {
    skipSpaces();
    if (i >= text.length) return out;
    let key = '';
    while (i < text.length && !isSpace(text[i]) && text[i] !== '=') key += text[i++];
    skipSpaces();
    if (text[i] !== '=') throw new PgConnectionError(`missing "=" after "${key}"`);
    i++;
    skipSpaces();
    let value = '';
    if (text[i] === "'") {
      i++;
      for (;;) {
        if (i >= text.length) throw new PgConnectionError(`the quoted value of "${key}" is not closed`);
        const c = text[i++];
        if (c === "'") break;
        value += c === '\\' && i < text.length ? text[i++] : c;
      }
    } else {
      while (i < text.length && !isSpace(text[i])) {
        if (text[i] === '\\') {
          i++;
          if (i >= text.length) throw new PgConnectionError(`a backslash ends the value of "${key}"`);
        }
        value += text[i++];
      }
    }
    out.set(key, value);
  }
}

/** A `postgres://` URL's parts as the keys lib/pq turns them into (empty parts left out). */
export function parseConnectionUrl(text: string): Map<string, string> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new PgConnectionError('not a valid postgres:// URL');
  }
  const out = new Map<string, string>();
  const put = (key: string, value: string) => {
    if (value !== '') out.set(key, value);
  };
  const decode = (part: string, what: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw new PgConnectionError(`the URL's ${what} is not validly %-encoded`);
    }
  };
  put('user', decode(url.username, 'user'));
  put('password', decode(url.password, 'password'));
  put('host', url.hostname.replace(/^\[(.*)\]$/, '$1'));
  put('port', url.port);
  put('dbname', decode(url.pathname.replace(/^\//, ''), 'database'));
  for (const [key, value] of url.searchParams) put(key, value);
  return out;
}

const isUrl = (text: string) => /^postgres(ql)?:\/\//.test(text);

/**
 * Where lib/pq connects for this connection string and environment. `loginUser` is the user
 * this process runs as (lib/pq's last resort for the user name).
 */
export function pgTarget(
  connStr: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  loginUser: string,
): PgTarget {
  const text = (connStr ?? '').trim();
  const given = isUrl(text) ? parseConnectionUrl(text) : parseKeywordValues(text);
  const value = (key: string): string | undefined => {
    if (given.has(key)) return given.get(key);
    const fromEnv = env[ENVIRONMENT[key]];
    return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
  };
  const host = value('host') || 'localhost';
  const portText = value('port') || '5432';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw new PgConnectionError('port: not a port number');
  const user = value('user') || loginUser;
  const sslValue = value('sslmode') || 'require';
  if (!SSL_MODES.includes(sslValue))
    throw new PgConnectionError(
      `sslmode "${sslValue}" is not one Terraform's pg backend supports (disable, require, verify-ca, verify-full)`,
    );
  const timeoutText = value('connect_timeout');
  if (timeoutText !== undefined && !/^\d+$/.test(timeoutText))
    throw new PgConnectionError('connect_timeout: not a whole number of seconds');
  const password = value('password');
  return {
    host,
    port,
    database: value('dbname') || user,
    user,
    ...(password === undefined ? {} : { password }),
    // SSL is never used over a unix socket (lib/pq turns it off there).
    sslMode: isUnixSocket(host) ? 'disable' : (sslValue as PgSslMode),
    ...optional('sslRootCert', value('sslrootcert')),
    ...optional('sslCert', value('sslcert')),
    ...optional('sslKey', value('sslkey')),
    ...(timeoutText === undefined || timeoutText === '0' ? {} : { connectTimeout: Number(timeoutText) }),
  };
}

const optional = <K extends string>(key: K, value: string | undefined) =>
  (value ? { [key]: value } : {}) as Partial<Record<K, string>>;

/** A host that is a directory path names a unix socket's directory. */
export const isUnixSocket = (host: string): boolean => host.startsWith('/');

/** The database for a message: where, which database, which user; never the password. */
export function describePgTarget(target: PgTarget): string {
  const where = isUnixSocket(target.host)
    ? `the unix socket in ${target.host} (port ${target.port})`
    : `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
  return `PostgreSQL database "${target.database}" on ${where} as user "${target.user}"`;
}

/**
 * `text` with every secret of the connection replaced by `***`: a driver's error could echo a
 * value, and a message must never carry one.
 */
export function withoutSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('***');
  return out;
}
