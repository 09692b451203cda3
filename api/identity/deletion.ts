import { WorkflowNotFoundError } from '@temporalio/client';
import { clearDeletionRequest, deletionBlockers, findUser, markDeletionRequested, recordAuthEvent } from '../../db/identity';
import type { DeletionBlocker } from '../../domain/identity';
import {
  accountDeletionStateQuery,
  accountDeletionWorkflowId,
  cancelDeletionUpdate,
  type AccountDeletionInput,
  type AccountDeletionState,
} from '../../contracts/account-deletion';
import { accountDeletionWorkflow } from '../../workflows/account-deletion';
import { CustomerId, FlowStatus } from '../../workflows/search-attributes';
import type { ApiDeps } from '../deps';
import { ApiError } from '../errors';
import type { Origin } from './sessions';
import { startFlow } from '../flow-start';

export interface DeletionView {
  userId: string;
  workflowId: string;
  /** `none`: no deletion requested (or the last one was cancelled). */
  status: 'none' | AccountDeletionState['phase'];
  requestedAt: string | null;
  eraseAfter: string | null;
  blockers: DeletionBlocker[];
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

async function liveUser(deps: ApiDeps, userId: string) {
  const user = await findUser(deps.db, userId);
  if (!user || user.erased_at) throw new ApiError(404, 'user_not_found', 'No such account');
  return user;
}

export async function deletionStatus(deps: ApiDeps, userId: string): Promise<DeletionView> {
  const user = await liveUser(deps, userId);
  const view: DeletionView = {
    userId,
    workflowId: accountDeletionWorkflowId(userId),
    status: user.deletion_requested_at ? 'grace' : 'none',
    requestedAt: iso(user.deletion_requested_at),
    eraseAfter: iso(user.deletion_erase_after),
    blockers: [],
  };
  if (!user.deletion_requested_at) return view;
  try {
    const state = await deps.temporal.workflow.getHandle(view.workflowId).query(accountDeletionStateQuery);
    return { ...view, status: state.phase, blockers: state.blockers };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return view;
    throw err;
  }
}

/**
 * Starts the grace period, unless money is owed or held (409, saying which). Asking again while
 * one is pending answers the pending one.
 */
export async function requestDeletion(deps: ApiDeps, userId: string, requestedBy: string, origin: Origin): Promise<DeletionView> {
  const user = await liveUser(deps, userId);
  if (user.deletion_requested_at) return deletionStatus(deps, userId);
  const blockers = await deletionBlockers(deps.db, userId);
  if (blockers.length) {
    throw new ApiError(409, 'deletion_blocked', `The account still has money owed or held: ${blockers.map((b) => b.kind).join(', ')}`, {
      blockers,
    });
  }
  const eraseAfter = new Date(Date.now() + deps.config.ACCOUNT_DELETION_GRACE_SECONDS * 1000);
  const input: AccountDeletionInput = {
    userId,
    requestedBy,
    eraseAfter: eraseAfter.toISOString(),
    recheckSeconds: deps.config.ACCOUNT_DELETION_RECHECK_SECONDS,
  };
  // Row and workflow together: if the start fails the mark is rolled back.
  await deps.db.transaction(async (trx) => {
    await markDeletionRequested(trx, userId, eraseAfter);
    await recordAuthEvent(trx, {
      action: 'account.deletion_requested',
      actor: requestedBy,
      target: { type: 'user', id: userId },
      ...origin,
      details: { eraseAfter: input.eraseAfter },
    });
    await startFlow(deps, accountDeletionWorkflow, {
      workflowId: accountDeletionWorkflowId(userId),
      args: [input],
      typedSearchAttributes: [
        { key: CustomerId, value: userId },
        { key: FlowStatus, value: 'grace' },
      ],
    });
  });
  return {
    userId,
    workflowId: accountDeletionWorkflowId(userId),
    status: 'grace',
    requestedAt: new Date().toISOString(),
    eraseAfter: input.eraseAfter,
    blockers: [],
  };
}

/** Cancels a pending deletion; 404 when none is pending, 409 once erasure has started. */
export async function cancelDeletion(deps: ApiDeps, userId: string, by: string, reason: string): Promise<DeletionView> {
  const user = await liveUser(deps, userId);
  if (!user.deletion_requested_at) throw new ApiError(404, 'no_deletion_pending', 'No deletion of this account is pending');
  const workflowId = accountDeletionWorkflowId(userId);
  // Once erasure has started the update is rejected (`deletion_in_progress`, 409 through the error handler).
  try {
    await deps.temporal.workflow.getHandle(workflowId).executeUpdate(cancelDeletionUpdate, { args: [{ by, reason }] });
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  // The workflow clears it too; doing it here makes the answer and the next read agree at once.
  await clearDeletionRequest(deps.db, userId);
  return { userId, workflowId, status: 'none', requestedAt: null, eraseAfter: null, blockers: [] };
}
