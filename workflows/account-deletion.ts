import { condition, defineQuery, defineUpdate, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { AccountDeletionActivities } from '../activities/account-deletion';
import type { DeletionBlocker } from '../domain/identity';
import { FlowStatus } from './search-attributes';

/** One deletion flow per user: starting it again while it runs finds the running one. */
export const accountDeletionWorkflowId = (userId: string) => `account-deletion-${userId}`;

export interface AccountDeletionInput {
  userId: string;
  /** Who asked: the user, or the support agent acting for them. */
  requestedBy: string;
  /** The end of the grace period (30 days after the request by default), ISO 8601. */
  eraseAfter: string;
  /** While money is still owed or held at the end of the grace period, how often to look again. */
  recheckSeconds: number;
}

/**
 * grace → (blocked ⇄ checking) → erasing → erased, or cancelled from grace or blocked (the user
 * logged in, withdrew the request, or support cancelled it).
 */
export type AccountDeletionPhase = 'grace' | 'blocked' | 'erasing' | 'erased' | 'cancelled';

export interface AccountDeletionState {
  userId: string;
  phase: AccountDeletionPhase;
  requestedBy: string;
  requestedAt: string;
  eraseAfter: string;
  /** Why erasure waits, when phase is `blocked`. */
  blockers: DeletionBlocker[];
  cancelledBy: string | null;
  cancelReason: string | null;
  erasedAt: string | null;
}

export interface CancelDeletion {
  by: string;
  reason?: string;
}

/** Accepted during grace or while blocked; refused once erasure started (it cannot be undone). */
export const cancelDeletionUpdate = defineUpdate<AccountDeletionState, [CancelDeletion]>('cancel');
export const accountDeletionStateQuery = defineQuery<AccountDeletionState>('state');

const act = proxyActivities<AccountDeletionActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m' },
});

/**
 * DPDP account deletion: wait out the grace period, then erase the user's personal data while the
 * ledger keeps its rows under the opaque user id. Never while money is owed or held: then the flow
 * waits, checking again every `recheckSeconds`, and can still be cancelled.
 */
export async function accountDeletionWorkflow(input: AccountDeletionInput): Promise<AccountDeletionState> {
  const requestedAt = new Date(); // workflow time: the same on replay
  const state: AccountDeletionState = {
    userId: input.userId,
    phase: 'grace',
    requestedBy: input.requestedBy,
    requestedAt: requestedAt.toISOString(),
    eraseAfter: input.eraseAfter,
    blockers: [],
    cancelledBy: null,
    cancelReason: null,
    erasedAt: null,
  };
  const show = (phase: AccountDeletionPhase) => {
    state.phase = phase;
    upsertSearchAttributes([{ key: FlowStatus, value: phase }]);
  };
  setHandler(accountDeletionStateQuery, () => state);
  setHandler(
    cancelDeletionUpdate,
    (decision) => {
      state.cancelledBy = decision.by;
      state.cancelReason = decision.reason ?? null;
      show('cancelled');
      return state;
    },
    {
      validator: (_decision: CancelDeletion) => {
        if (state.phase !== 'grace' && state.phase !== 'blocked')
          throw new Error(`the deletion is ${state.phase}; it can no longer be cancelled`);
      },
    },
  );
  const cancelled = () => state.phase === 'cancelled';

  show('grace');
  let wait = Math.max(1, Date.parse(input.eraseAfter) - Date.now());
  for (;;) {
    if (await condition(cancelled, wait)) {
      await act.clearDeletionRequest({ userId: input.userId });
      await act.recordDeletionEvent({
        userId: input.userId,
        action: 'account.deletion_cancelled',
        actor: state.cancelledBy ?? 'unknown',
        details: { reason: state.cancelReason },
      });
      return state;
    }
    // The blockers are checked again in the erasing transaction itself: money that appeared
    // during the grace period (an order placed with a still-valid token) keeps the account.
    show('erasing');
    const result = await act.eraseAccount({ userId: input.userId });
    if (result.erased) {
      state.erasedAt = result.erasedAt;
      state.blockers = [];
      break;
    }
    state.blockers = result.blockers;
    show('blocked');
    wait = input.recheckSeconds * 1000;
  }
  await act.recordDeletionEvent({ userId: input.userId, action: 'account.erased', actor: 'system', details: {} });
  show('erased');
  return state;
}
