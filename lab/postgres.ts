/**
 * A throwaway PostgreSQL server for the shared-state tests and the sharded bench: its own data directory, listening
 * only on a unix socket in that directory (no TCP at all), run as the postgres user.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

function findBinary(name: string): string {
  const onPath = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  if (onPath) return onPath;
  const debian = '/usr/lib/postgresql';
  const versions = fs.existsSync(debian) ? fs.readdirSync(debian).sort().reverse() : [];
  for (const v of versions) {
    const candidate = path.join(debian, v, 'bin', name);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`PostgreSQL prerequisite missing: ${name} (apt-get install -y postgresql)`);
}

export interface Postgres {
  connStr: string;
  psql(sql: string): string;
  stop(): void;
}

export function startPostgres(): Postgres {
  const initdb = findBinary('initdb');
  const pgCtl = findBinary('pg_ctl');
  const psqlBin = findBinary('psql');
  if (spawnSync('id', ['-u', 'postgres']).status !== 0)
    throw new Error('PostgreSQL prerequisite missing: the postgres user (apt-get install -y postgresql)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-pg-'));
  execFileSync('chown', ['postgres:', dir]);
  const data = path.join(dir, 'data');
  const asPostgres = (argv: string[]) =>
    execFileSync('runuser', ['-u', 'postgres', '--', ...argv], { encoding: 'utf8', cwd: dir });
  asPostgres([initdb, '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  asPostgres([pgCtl, '-D', data, '-l', path.join(dir, 'log'), '-w', '-o', `-k ${dir} -c listen_addresses=''`, 'start']);
  const connStr = `host=${dir} user=postgres dbname=postgres sslmode=disable`;
  return {
    connStr,
    psql: (sql) =>
      execFileSync(psqlBin, ['-h', dir, '-U', 'postgres', '-d', 'postgres', '-tAc', sql], { encoding: 'utf8' }).trim(),
    stop: () => {
      spawnSync('runuser', ['-u', 'postgres', '--', pgCtl, '-D', data, '-m', 'immediate', 'stop'], { cwd: dir });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
