/** The checkout saga's activity proxies and which of their failures are business answers. */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { ApplicationFailure } from '@temporalio/common';
import type { CheckoutActivities } from '../../activities/checkout';
import { REJECTED } from '../../domain/rejection';

/**
 * Failures that are answers, not outages: the saga compensates at once instead of parking as stuck.
 * Activities say no with a rejection (`Rejected`, its code in the details); the older types are the
 * ones histories recorded before that, still read so those runs replay the same way.
 */
const LEGACY_BUSINESS_FAILURES: Record<string, string> = {
  CartInvalid: 'cart_invalid',
  OutOfStock: 'out_of_stock',
  PaymentDeclined: 'payment_declined',
  InsufficientFunds: 'insufficient_funds',
  OrderClosed: 'order_closed',
  OrderNotFound: 'order_not_found',
};
// Rejections are raised non-retryable; listing them here as well would change the retry policy
// every activity of a running saga is scheduled with, for nothing.
const BUSINESS_TYPES = Object.keys(LEGACY_BUSINESS_FAILURES);

export const isBusinessFailure = (type: string | null): boolean => type === REJECTED || (type !== null && type in LEGACY_BUSINESS_FAILURES);

/** The order's failure code for a business failure: the rejection's (or older failure's) own code, else its type's. */
export function businessCode(cause: ApplicationFailure): string {
  const detail = (cause.details?.[0] ?? {}) as { code?: string };
  return detail.code ?? LEGACY_BUSINESS_FAILURES[cause.type ?? ''] ?? 'rejected';
}

// Short database steps run as local activities: no extra round trip to the Temporal server per step.
export const local = proxyLocalActivities<CheckoutActivities>({
  startToCloseTimeout: '10s',
  localRetryThreshold: '5s',
  retry: {
    initialInterval: '100ms',
    backoffCoefficient: 2,
    maximumInterval: '2s',
    maximumAttempts: 6,
    nonRetryableErrorTypes: BUSINESS_TYPES,
  },
});
// Calls to the outside world and the settlement run as ordinary activities.
export const remote = proxyActivities<CheckoutActivities>({
  startToCloseTimeout: '20s',
  retry: {
    initialInterval: '200ms',
    backoffCoefficient: 2,
    maximumInterval: '10s',
    maximumAttempts: 8,
    nonRetryableErrorTypes: BUSINESS_TYPES,
  },
});
// Compensations must eventually happen: retried without limit (ops see FlowStatus=compensating).
export const compensating = proxyActivities<CheckoutActivities>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '30s' },
});
