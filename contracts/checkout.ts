/**
 * The checkout flow's contract: `checkout-<orderId>` (the saga) and `refund-<refundId>` (a refund
 * after settlement). The API, activities, tests and benches use these definitions; the names below
 * are written nowhere else.
 *
 * One name per action: each buyer/seller/support action has ONE name, sent as a signal (fire and
 * forget: the Temporal UI, `temporal workflow signal`) or as an update (the API, which must tell the
 * caller whether the action was accepted). The update names the API used before (`cancelOrder`…)
 * are still handled by the workflow, for checkouts that received them before the rename — see
 * LEGACY_ACTION_UPDATE_NAMES.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import type { OrderStatus } from '../domain/checkout/status';
import { retryStepSignal } from './stuck';

export { paymentConfirmedSignal } from './provider-payment';
export { ORDER_STATUSES, TERMINAL_ORDER_STATUSES, isTerminal, type OrderStatus } from '../domain/checkout/status';

/** Workflow ids are readable business keys; starting one twice never starts a second flow. */
export const checkoutWorkflowId = (orderId: string) => `checkout-${orderId}`;
export const orderRefundWorkflowId = (refundId: string) => `refund-${refundId}`;

/** Journal (and provider) idempotency keys: flow + step, so every ledger write is applied at most once. */
export const checkoutKeys = {
  charge: (orderId: string) => `checkout-${orderId}:charge`,
  providerCharge: (orderId: string) => `checkout-${orderId}:provider-charge`,
  refund: (orderId: string) => `checkout-${orderId}:refund`,
  settle: (orderId: string) => `checkout-${orderId}:settle`,
  refundAfterSettlement: (refundId: string) => `order-refund-${refundId}`,
};

export interface CheckoutInput {
  orderId: string;
  buyerId: string;
  sellerId: string;
  total: number;
  /** Charged when the wallet is short; null = wallet only. */
  paymentMethod: string | null;
  /** No `markDelivered` within this long after confirmation cancels and refunds the order. */
  deliveryDeadlineMs: number;
  /** How long after delivery the buyer may return; settlement happens when it closes. */
  returnWindowMs: number;
  /** First provider poll interval (doubles); tests use a few ms. */
  paymentPollMs?: number;
  /**
   * The order of an auction's winner (the lot's id): its price was set by the bidding, its stock
   * reserved and its money captured into escrow when the lot was sold (db/auction-lots.ts#sellLot),
   * so the saga starts at confirmation.
   */
  auctionLotId?: string;
  /**
   * The saga revision the starter asks for (CHECKOUT_SAGA_REVISION). A run started with it takes
   * today's path from its first task without asking `patched()`: each patch marker is an event and
   * an upsert of TemporalChangeVersion (a visibility write on the Temporal server) on the path of
   * every checkout. Runs without it (started before it existed, or by tests of the older paths)
   * still decide by `patched()`, so their histories replay.
   */
  sagaRevision?: number;
}

/**
 * 1: placing in one step (validate, reserve, charge and confirm as one local activity) and the
 * memo summary. A later change to the saga's commands bumps it and branches on it for new runs,
 * with `patched()` for runs of this revision still open.
 */
export const CHECKOUT_SAGA_REVISION = 1;

export type CheckoutAbortKind = 'cancel' | 'return' | 'refund';

export interface CheckoutState {
  orderId: string;
  status: OrderStatus;
  /** The step running (or stuck) right now. */
  step: string | null;
  stuckStep: string | null;
  stuckReason: string | null;
  /** The same as stuckReason (its older name, kept for callers that read it). */
  stuckError: string | null;
  fundingSource: 'wallet' | 'provider' | null;
  paymentId: string | null;
  confirmed: boolean;
  dispatched: boolean;
  delivered: boolean;
  compensationsRegistered: string[];
  compensationsRun: string[];
  abort: { kind: CheckoutAbortKind; code: string; by: string } | null;
  failureCode: string | null;
  failureMessage: string | null;
}

export interface CheckoutActionInput {
  by: string;
  /** Support may act where a buyer may not (cancel after dispatch, refund). */
  role?: 'buyer' | 'seller' | 'support';
  reason?: string;
}

/** The order's final status for each way a saga can be aborted. */
export const ABORT_FINAL_STATUS: Record<CheckoutAbortKind, OrderStatus> = { cancel: 'cancelled', return: 'returned', refund: 'refunded' };

// --- actions: one name each, as a signal and as an update ------------------------------------------
export const cancelSignal = defineSignal<[CheckoutActionInput]>('cancel');
export const cancelUpdate = defineUpdate<CheckoutState, [CheckoutActionInput]>('cancel');
export const markDispatchedSignal = defineSignal<[CheckoutActionInput]>('markDispatched');
export const markDispatchedUpdate = defineUpdate<CheckoutState, [CheckoutActionInput]>('markDispatched');
export const markDeliveredSignal = defineSignal<[CheckoutActionInput]>('markDelivered');
export const markDeliveredUpdate = defineUpdate<CheckoutState, [CheckoutActionInput]>('markDelivered');
export const requestReturnSignal = defineSignal<[CheckoutActionInput]>('requestReturn');
export const requestReturnUpdate = defineUpdate<CheckoutState, [CheckoutActionInput]>('requestReturn');
export const refundSignal = defineSignal<[CheckoutActionInput]>('refund');
export const refundUpdate = defineUpdate<CheckoutState, [CheckoutActionInput]>('refund');
/** The signal is support's shared `retryStep` (contracts/stuck.ts); the update has the same name. */
export { retryStepSignal };
export const retryStepUpdate = defineUpdate<CheckoutState, [CheckoutActionInput]>('retryStep');

/** Returns once the order is confirmed (escrowed), has failed, or is stuck — or after `timeoutMs` (0: no limit). */
export const awaitConfirmationUpdate = defineUpdate<CheckoutState, [{ timeoutMs: number }]>('awaitConfirmation');
export const checkoutStateQuery = defineQuery<CheckoutState>('state');

export type CheckoutAction = 'cancel' | 'dispatch' | 'deliver' | 'return' | 'refund' | 'retry';

/**
 * The update names each action had before it got one name. Only the workflow registers them (a
 * running checkout that accepted one must still replay); nothing sends them any more. They are
 * kept as data rather than literal definitions so that the HTTP operation ids spelt the same way
 * (api/operation-ids.ts: `cancelOrder`…) are not taken for message names by the boundary check.
 */
const LEGACY_ACTION_UPDATE_NAMES: Record<CheckoutAction, string> = {
  cancel: 'cancelOrder',
  dispatch: 'dispatchOrder',
  deliver: 'deliverOrder',
  return: 'returnOrder',
  refund: 'refundOrder',
  retry: 'retryStuckStep',
};
export const legacyActionUpdates = Object.fromEntries(
  Object.entries(LEGACY_ACTION_UPDATE_NAMES).map(([action, name]) => [action, defineUpdate<CheckoutState, [CheckoutActionInput]>(name)]),
) as Record<CheckoutAction, UpdateDefinition<CheckoutState, [CheckoutActionInput]>>;

export interface OrderRefundInput {
  refundId: string;
  orderId: string;
  amount: number;
}

export interface OrderRefundResult {
  status: 'succeeded' | 'rejected';
  message?: string;
}
