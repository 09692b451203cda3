import { ActivityFailure, ApplicationFailure, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { CheckoutActivities } from '../../activities/checkout';
import type { OrderRefundInput, OrderRefundResult } from '../../contracts/checkout';
import { formatRupees } from '../../domain/money';
import { FlowStatus, OrderId } from '../search-attributes';
import { flowControl, isAbandoned } from '../stuck';

/**
 * `refund-<refundId>`: a refund after settlement (the checkout workflow has finished). One activity,
 * keyed by the refund, retried until it lands; a refund larger than what is left is rejected.
 */
export async function orderRefundWorkflow(input: OrderRefundInput): Promise<OrderRefundResult> {
  const refunds = proxyActivities<CheckoutActivities>({
    startToCloseTimeout: '20s',
    retry: {
      initialInterval: '200ms',
      backoffCoefficient: 2,
      maximumInterval: '30s',
      // The failure types of histories recorded before rejections; a rejection is non-retryable itself.
      nonRetryableErrorTypes: ['RefundTooLarge', 'NotSettled', 'OrderNotFound'],
    },
  });
  upsertSearchAttributes([
    { key: OrderId, value: input.orderId },
    { key: FlowStatus, value: 'refunding' },
  ]);
  const flow = flowControl({ flowType: 'refund' });
  const summary = (status: string) => `Refund ${input.refundId} of ${formatRupees(input.amount)} on order ${input.orderId}: ${status}`;
  flow.summary(summary('refunding'));
  try {
    // Bad data parks the refund (stuck); abandoning it rejects the refund with nothing moved.
    await flow.step('refund', () => refunds.refundAfterSettlement(input), flow.giveUp('ends the refund rejected; nothing is refunded'));
  } catch (err) {
    if (isAbandoned(err)) {
      flow.status('rejected', summary('rejected (abandoned by support)'));
      return { status: 'rejected', message: 'abandoned by support: nothing was refunded' };
    }
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
      flow.status('rejected', summary(`rejected (${err.cause.type ?? 'error'})`));
      return { status: 'rejected', message: err.cause.message };
    }
    throw err;
  }
  flow.status('refunded', summary('refunded'));
  return { status: 'succeeded' };
}
