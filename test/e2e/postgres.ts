/** The throwaway PostgreSQL server lives in lab/ (the sharded bench uses it too). */
import * as fs from 'fs';
import { startPostgres, Postgres } from '../../lab/postgres';
import { E2eCluster } from './cluster';

export { startPostgres };
export type { Postgres };

/**
 * A lab cluster whose inventory keeps its state on a fresh throwaway PostgreSQL server, in
 * `schemaName` (every terraform/cdktf/calico-net run gets PG_CONN_STR; the secret stays out of
 * the inventory). The caller stops both in afterAll (cluster first); if the lab does not come
 * up, the server is stopped here.
 */
export async function clusterOnPostgres(
  opts: Parameters<typeof E2eCluster.up>[0],
  schemaName: string,
): Promise<{ cluster: E2eCluster; pg: Postgres }> {
  const pg = startPostgres();
  let cluster: E2eCluster;
  try {
    cluster = await E2eCluster.up(opts);
  } catch (err) {
    pg.stop();
    throw err;
  }
  fs.appendFileSync(cluster.lab.inventoryPath, `state: { backend: pg, schemaName: ${schemaName} }\n`);
  cluster.extraEnv = { PG_CONN_STR: pg.connStr };
  return { cluster, pg };
}

/** Resource addresses (`type.name`, sorted) in the state a pg schema holds. */
export function pgStateResources(pg: Postgres, schema: string): string[] {
  const data = pg.psql(`select data from ${schema}.states where name = 'default'`);
  return (JSON.parse(data).resources as { type: string; name: string }[]).map((r) => `${r.type}.${r.name}`).sort();
}
