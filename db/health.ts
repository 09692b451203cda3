import type { Queryable } from './knex';

/** The cheapest round trip that proves Postgres answers (the readiness probe). */
export async function pingDatabase(q: Queryable): Promise<void> {
  await q.raw('SELECT 1');
}
