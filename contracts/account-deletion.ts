/**
 * The account-deletion flow's contract (workflows/account-deletion.ts implements it): its workflow
 * id, input and state, and the two messages the API sends it. The API, tests and support's CLI use
 * these definitions, never the names.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { DeletionBlocker } from '../domain/identity';

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
 * logged in, withdrew the request, or support cancelled it). Also the flow's FlowStatus values.
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

/** Accepted during grace or while blocked; rejected (`deletion_in_progress`, a conflict) once erasure started. */
export const cancelDeletionUpdate = defineUpdate<AccountDeletionState, [CancelDeletion]>('cancel');
export const accountDeletionStateQuery = defineQuery<AccountDeletionState>('state');

/** What the erasure activity found: done, or the money that still keeps the account. */
export type EraseResult = { erased: true; erasedAt: string } | { erased: false; blockers: DeletionBlocker[] };
