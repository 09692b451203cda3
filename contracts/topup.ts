/**
 * The wallet top-up flow's contract: `topup-<topupId>` charges a payment method, waits for the
 * provider's confirmation (the shared `paymentConfirmedSignal`, or a poll) and credits the wallet
 * once. The API, activities, tests and benches use these definitions; the names below are written
 * nowhere else.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { StuckFields } from './stuck';

export { paymentConfirmedSignal } from './provider-payment';

export const topupWorkflowId = (topupId: string) => `topup-${topupId}`;

/** Provider and journal idempotency keys: one charge and one credit per top-up, however often retried. */
export const topupKeys = {
  charge: (topupId: string) => `topup-${topupId}:charge`,
  credit: (topupId: string) => `topup-${topupId}:credit`,
};

export interface TopupInput {
  topupId: string;
  userId: string;
  amount: number;
  paymentMethod: string;
}

/** The flow's FlowStatus values, and the `topups` row's status. */
export const TOPUP_STATUSES = ['pending', 'awaiting_confirmation', 'succeeded', 'declined', 'failed'] as const;
export type TopupStatus = (typeof TOPUP_STATUSES)[number];

export interface TopupState extends StuckFields {
  topupId: string;
  status: TopupStatus;
  paymentId: string | null;
  failureCode: string | null;
}

export const topupStateQuery = defineQuery<TopupState>('state');
/** Support: ask the provider now instead of waiting for the next poll of an unconfirmed payment. */
export const topupPollNowSignal = defineSignal('pollNow');
