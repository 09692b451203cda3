import { Context } from '@temporalio/activity';
import { clearDeletionRequest, deletionBlockers, eraseUser } from '../db/identity';
import type { DeletionBlocker } from '../domain/identity';
import { publishRevocation } from '../infra/revocation-store';
import type { ActivityDeps } from './deps';

/** Revoked sessions of an erased user hold no live token past the longest access-token lifetime. */
const LONGEST_ACCESS_TOKEN_SECONDS = 3600;

export type EraseResult = { erased: true; erasedAt: string } | { erased: false; blockers: DeletionBlocker[] };

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
        await trx('users').where({ id: userId }).forUpdate().first('id');
        const blockers = await deletionBlockers(trx, userId);
        if (blockers.length) return { erased: false, blockers };
        await eraseUser(trx, userId);
        const row = await trx('users').where({ id: userId }).first('erased_at');
        return { erased: true, erasedAt: new Date(row?.erased_at ?? Date.now()).toISOString() };
      });
      if (result.erased) await publishRevocation(db, redis, userId, LONGEST_ACCESS_TOKEN_SECONDS);
      return result;
    },

    /** One audit row per event of a run, however often the activity is retried. */
    async recordDeletionEvent(e: { userId: string; action: string; actor: string; details: Record<string, unknown> }): Promise<void> {
      const runId = Context.current().info.workflowExecution?.runId ?? 'none';
      await db.raw(
        `INSERT INTO audit_log (actor, roles, action, target_type, target_id, details)
         SELECT ?, '{}', ?, 'user', ?, ?::jsonb
         WHERE NOT EXISTS (SELECT 1 FROM audit_log WHERE target_type = 'user' AND target_id = ? AND action = ? AND details->>'runId' = ?)`,
        [e.actor, e.action, e.userId, JSON.stringify({ ...e.details, runId }), e.userId, e.action, runId],
      );
    },
  };
}

export type AccountDeletionActivities = ReturnType<typeof createAccountDeletionActivities>;
