import { Context } from '@temporalio/activity';
import type { EraseResult } from '../contracts/account-deletion';
import { clearDeletionRequest, deletionBlockers, erasedAtOf, eraseUser, lockUser, recordDeletionEventOnce } from '../db/identity';
import { publishRevocation } from '../infra/revocation-store';
import type { ActivityDeps } from './deps';

/** Revoked sessions of an erased user hold no live token past the longest access-token lifetime. */
const LONGEST_ACCESS_TOKEN_SECONDS = 3600;

export function createAccountDeletionActivities({ db, redis }: ActivityDeps) {
  return {
    /** The request is over (cancelled): logins no longer need to cancel it. */
    async clearDeletionRequest({ userId }: { userId: string }): Promise<void> {
      await clearDeletionRequest(db, userId);
    },

    /**
     * Erases the personal data unless money is still owed or held, decided in one transaction
     * (the blockers are read under the user's row lock). Every token of the user stops working.
     */
    async eraseAccount({ userId }: { userId: string }): Promise<EraseResult> {
      const result = await db.transaction(async (trx): Promise<EraseResult> => {
        await lockUser(trx, userId);
        const blockers = await deletionBlockers(trx, userId);
        if (blockers.length) return { erased: false, blockers };
        await eraseUser(trx, userId);
        const erasedAt = await erasedAtOf(trx, userId);
        return { erased: true, erasedAt: new Date(erasedAt ?? Date.now()).toISOString() };
      });
      if (result.erased) await publishRevocation(db, redis, userId, LONGEST_ACCESS_TOKEN_SECONDS);
      return result;
    },

    /** One audit row per event of a run, however often the activity is retried. */
    async recordDeletionEvent(e: { userId: string; action: string; actor: string; details: Record<string, unknown> }): Promise<void> {
      const runId = Context.current().info.workflowExecution?.runId ?? 'none';
      await recordDeletionEventOnce(db, { ...e, runId });
    },
  };
}

export type AccountDeletionActivities = ReturnType<typeof createAccountDeletionActivities>;
