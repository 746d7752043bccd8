/**
 * Terraform pg backend states read straight from the database: what the shard guard
 * (stacks/shard-guard.ts) needs at every synthesis when `state: { backend: pg }`.
 *
 * Why the `pg` client (pure JavaScript, no native add-on, no install script) and not
 * `terraform state pull` per shard: synthesis runs before every cdktf deploy, diff and destroy,
 * and a state pull needs an initialized working directory per shard (`terraform init`, which
 * also installs the providers) and then a terraform process per shard, each a Go binary's
 * start-up of CPU, so 8 shards would cost seconds of CPU at every synthesis. Here it is one
 * connection and two queries whatever the number of shards: which schemas hold a `states`
 * table, then every shard's row in one statement. Only the reading is ours; the connection
 * follows lib/pq's rules, as Terraform's does (stacks/pg-connection.ts), and writing stays with
 * terraform (`calico-net shard migrate` pushes through it, under its lock).
 *
 * Read only: two SELECTs; no lock is taken, so a deploy running elsewhere is neither blocked nor
 * seen half-written (a row is replaced in one transaction).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { ConnectionOptions } from 'tls';
import { describePgTarget, PgConnectionError, PgTarget, pgTarget, withoutSecrets } from './pg-connection';

/** Terraform's pg backend keeps each workspace's state as a row of `<schema>.states`. */
const STATES_TABLE = 'states';
/** cdktf's stacks run in Terraform's default workspace. */
const WORKSPACE = 'default';
/** Without connect_timeout lib/pq waits for ever; a synthesis must not. */
const DEFAULT_CONNECT_TIMEOUT_S = 30;
const QUERY_TIMEOUT_MS = 30_000;

/** The states could not be read; `database` names it (never with a password). */
export class PgStatesError extends Error {
  constructor(
    readonly database: string,
    readonly reason: string,
  ) {
    super(`cannot read ${database}: ${reason}`);
  }
}

export interface PgStates {
  /** The database, as a message names it. */
  database: string;
  /** Schema → its default workspace's state (JSON text); absent: no states table, or no row. */
  texts: Map<string, string>;
  /** The schemas with a states table whose name starts with the prefix asked for, sorted. */
  prefixed: string[];
}

/** A PostgreSQL identifier, quoted. */
export const quoteIdentifier = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** A file's content, or undefined when it does not exist (other errors are thrown). */
function readIfPresent(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * TLS as lib/pq does it for each sslmode: `require` encrypts without checking the server's
 * certificate (unless a root certificate is given: then as verify-ca); verify-ca checks the
 * chain, verify-full the chain and the host name. A client certificate comes from sslcert and
 * sslkey, or ~/.postgresql/postgresql.crt and .key when both are there.
 */
export function tlsOptions(target: PgTarget, home: string): ConnectionOptions | false {
  if (target.sslMode === 'disable') return false;
  const must = (file: string, key: string) => {
    const content = readIfPresent(file);
    if (content === undefined) throw new PgConnectionError(`${key}: no file ${file}`);
    return content;
  };
  const ca = target.sslRootCert ? must(target.sslRootCert, 'sslrootcert') : undefined;
  const cert = target.sslCert
    ? must(target.sslCert, 'sslcert')
    : readIfPresent(path.join(home, '.postgresql', 'postgresql.crt'));
  const key = target.sslKey
    ? must(target.sslKey, 'sslkey')
    : cert && readIfPresent(path.join(home, '.postgresql', 'postgresql.key'));
  return {
    rejectUnauthorized: target.sslMode !== 'require' || ca !== undefined,
    ...(ca ? { ca } : {}),
    ...(cert && key ? { cert, key } : {}),
    ...(target.sslMode === 'verify-full' ? {} : { checkServerIdentity: () => undefined }),
  };
}

function loginUser(env: Readonly<Record<string, string | undefined>>): string {
  try {
    return os.userInfo().username;
  } catch {
    return env.USER ?? '';
  }
}

/**
 * The default workspace's state of each of `schemas` (a schema that does not exist yet, or holds
 * no row, is absent from `texts`), and which other schemas with a states table start with
 * `prefix`. Throws PgStatesError, naming the database but never the password, when the
 * connection string is unusable or the database cannot be read.
 */
export async function readPgStates(
  connStr: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  schemas: readonly string[],
  prefix?: string,
): Promise<PgStates> {
  let target: PgTarget;
  try {
    target = pgTarget(connStr, env, loginUser(env));
  } catch (err) {
    if (err instanceof PgConnectionError) throw new PgStatesError('the PostgreSQL connection string', `${err.message}`);
    throw err;
  }
  const database = describePgTarget(target);
  const secrets = [target.password, connStr];
  const fail = (err: unknown): never => {
    throw new PgStatesError(database, withoutSecrets(String((err as Error)?.message ?? err), secrets));
  };

  let ssl: ConnectionOptions | false = false;
  try {
    ssl = tlsOptions(target, os.homedir());
  } catch (err) {
    fail(err);
  }
  // Loaded here, not at the top: a cluster on local state never pays for it.
  const { Client } = await import('pg');
  const client = new Client({
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
    password: target.password,
    ssl,
    connectionTimeoutMillis: (target.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_S) * 1000,
    query_timeout: QUERY_TIMEOUT_MS,
    application_name: 'calico-net shard guard',
  });
  // A connection lost after an error is reported by the awaited call; this keeps the event from
  // crashing the process.
  client.on('error', () => undefined);
  let connected = false;
  try {
    await client.connect();
    connected = true;
    const found = await client.query<{ schema: string }>(
      `SELECT n.nspname AS schema FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relname = $1 AND c.relkind IN ('r', 'p')
          AND (n.nspname = ANY($2::text[]) OR left(n.nspname, length($3::text)) = $3::text)`,
      [STATES_TABLE, [...schemas], prefix || null],
    );
    const names = found.rows.map((r) => r.schema).sort();
    const texts = new Map<string, string>();
    if (names.length > 0) {
      const rows = await client.query<{ schema: string; data: string | null }>(
        names
          .map(
            (s, i) =>
              `SELECT $${i + 1}::text AS schema, data FROM ${quoteIdentifier(s)}.${STATES_TABLE} WHERE name = '${WORKSPACE}'`,
          )
          .join(' UNION ALL '),
        names,
      );
      for (const r of rows.rows) if (r.data !== null && r.data.trim() !== '') texts.set(r.schema, r.data);
    }
    const wanted = new Set(schemas);
    return { database, texts, prefixed: names.filter((s) => !wanted.has(s) && prefix && s.startsWith(prefix)) };
  } catch (err) {
    return fail(err);
  } finally {
    if (connected) await client.end().catch(() => undefined);
  }
}
