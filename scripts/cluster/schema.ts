import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureDatabase } from '../../db/admin';
import type { TemporalServerTools } from './install';
import type { ClusterOptions } from './options';

const run = promisify(execFile);

/** The connection flags temporal-sql-tool takes, from a postgres:// URL. */
export function sqlToolFlags(databaseUrl: string, database: string): string[] {
  const url = new URL(databaseUrl);
  const flags = ['--plugin', 'postgres12', '--endpoint', url.hostname, '--port', url.port || '5432'];
  flags.push('--user', decodeURIComponent(url.username || 'postgres'));
  if (url.password) flags.push('--password', decodeURIComponent(url.password));
  return [...flags, '--database', database];
}

/**
 * Creates the cluster's two databases if they are missing and brings their schemas to the
 * version this server build ships, the way Temporal's own set-up does it (create, setup-schema
 * at 0.0, update-schema through the versioned directory). Safe to run again: update-schema
 * applies only the versions above the one the database records.
 */
export async function setUpSchemas(tools: TemporalServerTools, options: ClusterOptions): Promise<void> {
  const targets = [
    { database: options.databaseName, dir: path.join(tools.schemaDir, 'postgresql', 'v12', 'temporal', 'versioned') },
    { database: options.visibilityDatabaseName, dir: path.join(tools.schemaDir, 'postgresql', 'v12', 'visibility', 'versioned') },
  ];
  for (const { database, dir } of targets) {
    await ensureDatabase(options.databaseUrl, database);
    const flags = sqlToolFlags(options.databaseUrl, database);
    // setup-schema -v 0.0 only creates the version bookkeeping tables; it is a no-op once they exist.
    await run(tools.sqlTool, [...flags, 'setup-schema', '-v', '0.0']);
    await run(tools.sqlTool, [...flags, 'update-schema', '-d', dir]);
  }
}

/** Drops the cluster's databases (the soak's own throwaway cluster; never the default one by accident). */
export async function dropDatabases(tools: TemporalServerTools, options: ClusterOptions): Promise<void> {
  for (const database of [options.databaseName, options.visibilityDatabaseName]) {
    await run(tools.sqlTool, [...sqlToolFlags(options.databaseUrl, database), 'drop-database', '--force']).catch(() => undefined);
  }
}
