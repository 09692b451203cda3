/**
 * The seller payout flow's contract: `payout-<payoutId>` (one payout to the bank) and the weekly
 * `payout-sweep-<runKey>`. The API, activities, tests and benches use these definitions.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { StuckFields } from './stuck';

export const payoutWorkflowId = (payoutId: string) => `payout-${payoutId}`;
/**
 * The payout workflow's type, for the weekly sweep's activity, which starts payouts but may not
 * import workflow code (activities never do); the API starts it by its function.
 */
export const PAYOUT_WORKFLOW_TYPE = 'payoutWorkflow';
export const payoutSweepWorkflowId = (runKey: string) => `payout-sweep-${runKey}`;

/** Who asks for the weekly sweep's payouts (the payouts row's `requested_by`). */
export const SWEEP_REQUESTER = 'schedule:weekly-payouts';

/** Ledger and bank keys: ONE bank key for the payout's whole life, one journal key per step. */
export const payoutKeys = {
  provider: (payoutId: string) => `payout-${payoutId}`,
  reserve: (payoutId: string) => `payout-${payoutId}:reserve`,
  finalise: (payoutId: string) => `payout-${payoutId}:finalise`,
  giveBack: (payoutId: string) => `payout-${payoutId}:return`,
  /** The bank sent a paid payout back (RazorpayX `reversed`): the money is the seller's again. */
  reversed: (payoutId: string) => `payout-${payoutId}:reversed`,
};

export interface PayoutInput {
  payoutId: string;
  sellerId: string;
  /** First poll interval while the bank says pending or cannot be reached (doubles, capped). */
  pollMs?: number;
  maxPollMs?: number;
}

export const PAYOUT_FLOW_STATUSES = ['pending', 'in_flight', 'unknown', 'awaiting_bank', 'paid', 'failed', 'skipped'] as const;
export type PayoutFlowStatus = (typeof PAYOUT_FLOW_STATUSES)[number];

/** The payout row's statuses that count as "a payout is under way" (at most one per seller). */
export const ACTIVE_PAYOUT_STATUSES = ['pending', 'in_flight'] as const;

export interface PayoutState extends StuckFields {
  payoutId: string;
  status: PayoutFlowStatus;
  amount: number;
  providerPayoutId: string | null;
  /** How many times the bank call was retried with the SAME key while the outcome was unknown. */
  unknownRetries: number;
  failureCode: string | null;
  /** The bank's reference once paid: from the bank's answer, or from the statement staff read. */
  utr?: string | null;
  /** Set when staff settled the payout from the bank statement instead of the bank's answer. */
  markedBy?: { by: string; reason: string; outcome: PayoutMarkOutcome } | null;
}

export interface PayoutSweepInput {
  limit?: number;
}

export interface PayoutSweepResult {
  started: number;
}

export const payoutStateQuery = defineQuery<PayoutState>('state');
/** Support: poll the bank now instead of waiting for the next poll. */
export const payoutPollNowSignal = defineSignal('pollNow');

/** The statuses in which the bank's answer is still awaited: the only ones a payout can be marked in. */
export const PAYOUT_MARKABLE_STATUSES = ['in_flight', 'unknown', 'awaiting_bank'] as const satisfies readonly PayoutFlowStatus[];

export const PAYOUT_MARK_OUTCOMES = ['paid', 'failed'] as const;
export type PayoutMarkOutcome = (typeof PAYOUT_MARK_OUTCOMES)[number];

/** A bank reference as NEFT, RTGS and IMPS print it (letters and digits). */
export const UTR_PATTERN = /^[A-Za-z0-9]{6,40}$/;
/** A failure code in the bank's or our own snake_case vocabulary. */
export const PAYOUT_FAILURE_CODE_PATTERN = /^[a-z][a-z0-9_]{1,63}$/;

/**
 * Staff read the bank statement: the payout was paid (with the statement's UTR) or failed (with the
 * bank's failure code). Applied exactly as the bank's own answer would be, with the same journal keys.
 */
export interface PayoutMarkSettled {
  outcome: PayoutMarkOutcome;
  utr?: string;
  failureCode?: string;
  reason: string;
  by: string;
}

/**
 * Support: settle a payout from the bank statement while the bank's answer is unknown or pending.
 * The validator refuses it once the payout is no longer waiting on the bank (or already marked);
 * the answer is the payout's state once the outcome is booked.
 */
export const payoutMarkSettledUpdate = defineUpdate<PayoutState, [PayoutMarkSettled]>('markSettled');
