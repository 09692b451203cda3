import type { Db } from '../../db/knex';

/**
 * Samples what this database's busy connections are doing (pg_stat_activity) every `everyMs`
 * until stopped: per sample, how many run, wait for a lock, or sit in an open transaction waiting
 * for their client's next statement. Returns the average count of each over the samples.
 */
export function samplePgWaits(db: Db, everyMs = 50): () => Promise<Record<string, number>> {
  const totals: Record<string, number> = {};
  let samples = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const { rows } = await db.raw(
        `SELECT CASE WHEN state = 'idle in transaction' THEN 'idleInTransaction'
                     WHEN wait_event_type IS NULL THEN 'running'
                     ELSE wait_event_type || ':' || wait_event END AS what, count(*)::int AS n
         FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND state NOT IN ('idle')
         GROUP BY 1`,
      );
      samples++;
      for (const r of rows) totals[r.what] = (totals[r.what] ?? 0) + r.n;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    return Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, Math.round((v / Math.max(1, samples)) * 10) / 10]));
  };
}
