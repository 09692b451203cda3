import type { ActivityDeps } from './deps';

/** Rows deleted per call: short transactions that never hold up the API's inserts for long. */
export const PRUNE_BATCH = 5_000;

export function createIdempotencyKeyActivities({ db }: ActivityDeps) {
  return {
    /**
     * Deletes up to PRUNE_BATCH stored keys created more than `retentionHours` ago and returns how
     * many it deleted. A request repeated with such a key is then a new request — as with any
     * payment API's key retention: clients retry within minutes, the default keeps a week.
     */
    async pruneIdempotencyKeys(req: { retentionHours: number }): Promise<number> {
      const { rowCount } = await db.raw(
        `DELETE FROM idempotency_keys WHERE ctid IN (
           SELECT ctid FROM idempotency_keys WHERE created_at < now() - make_interval(hours => ?) LIMIT ?)`,
        [req.retentionHours, PRUNE_BATCH],
      );
      return rowCount ?? 0;
    },
  };
}

export type IdempotencyKeyActivities = ReturnType<typeof createIdempotencyKeyActivities>;
