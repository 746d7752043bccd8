/** The throwaway PostgreSQL server lives in lab/ (the sharded bench uses it too). */
export { startPostgres } from '../../lab/postgres';
export type { Postgres } from '../../lab/postgres';
