import { pruneIdempotencyKeys } from '../db/idempotency';
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
      return pruneIdempotencyKeys(db, req.retentionHours, PRUNE_BATCH);
    },
  };
}

export type IdempotencyKeyActivities = ReturnType<typeof createIdempotencyKeyActivities>;
