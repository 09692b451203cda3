import { condition, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { AccountDeletionActivities } from '../activities/account-deletion';
import {
  accountDeletionStateQuery,
  cancelDeletionUpdate,
  type AccountDeletionInput,
  type AccountDeletionPhase,
  type AccountDeletionState,
  type CancelDeletion,
} from '../contracts/account-deletion';
import { rejection } from '../domain/rejection';
import { FlowStatus } from './search-attributes';
import { flowControl } from './stuck';

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
  // Erasing on data no retry can fix parks the flow for support (GET /v1/ops/alerts) instead of failing it.
  const flow = flowControl({ flowType: 'account-deletion' });
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
        // Erasure cannot be undone: from `erasing` on, the answer is no (the API's 409).
        if (state.phase !== 'grace' && state.phase !== 'blocked')
          throw rejection('conflict', 'deletion_in_progress', 'The account is being erased; it can no longer be cancelled', {
            phase: state.phase,
          });
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
    const result = await flow.step('erase', () => act.eraseAccount({ userId: input.userId }));
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
