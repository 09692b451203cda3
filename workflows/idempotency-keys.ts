import { proxyActivities } from '@temporalio/workflow';
import type { IdempotencyKeyActivities } from '../activities/idempotency-keys';
import type { IdempotencyKeyPruneInput, IdempotencyKeyPruneResult } from '../contracts/maintenance';

const keys = proxyActivities<IdempotencyKeyActivities>({ startToCloseTimeout: '1m', retry: { maximumAttempts: 5 } });

/** Nightly: prune stored Idempotency-Keys older than the retention, a batch at a time. */
export async function pruneIdempotencyKeysWorkflow(input: IdempotencyKeyPruneInput): Promise<IdempotencyKeyPruneResult> {
  let pruned = 0;
  for (;;) {
    const deleted = await keys.pruneIdempotencyKeys({ retentionHours: input.retentionHours });
    pruned += deleted;
    if (deleted === 0) return { pruned };
  }
}
