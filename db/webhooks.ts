import { checkoutWorkflowId } from '../contracts/checkout';
import { payoutWorkflowId } from '../contracts/payout';
import { subscriptionWorkflowId } from '../contracts/subscription';
import { topupWorkflowId } from '../contracts/topup';
import type { Queryable } from './knex';

export type PaymentFlowKind = 'topup' | 'checkout' | 'subscription';

/** The flow that created a provider payment, as our own tables record it. */
export interface PaymentFlow {
  kind: PaymentFlowKind;
  refId: string;
  workflowId: string;
}

const WORKFLOW_ID: Record<PaymentFlowKind, (refId: string) => string> = {
  topup: topupWorkflowId,
  checkout: checkoutWorkflowId,
  subscription: subscriptionWorkflowId,
};

/**
 * Finds the flow that owns `paymentId` from the rows each flow writes when it charges the
 * provider: a top-up, a checkout card charge, or a subscription renewal. Null when the payment
 * is not ours (or not recorded yet).
 */
export async function findPaymentFlow(q: Queryable, paymentId: string): Promise<PaymentFlow | null> {
  const { rows } = await q.raw(
    `SELECT 'topup' AS kind, id AS ref_id FROM topups WHERE provider_payment_id = :paymentId
     UNION ALL
     SELECT 'checkout', id FROM orders WHERE provider_payment_id = :paymentId
     UNION ALL
     SELECT 'subscription', subscription_id FROM subscription_renewals WHERE provider_payment_id = :paymentId
     LIMIT 1`,
    { paymentId },
  );
  const row = rows[0] as { kind: PaymentFlowKind; ref_id: string } | undefined;
  return row ? { kind: row.kind, refId: row.ref_id, workflowId: WORKFLOW_ID[row.kind](row.ref_id) } : null;
}

/**
 * Claims an event id: true the first time, false for a repeat. Run inside the transaction that
 * acts on the event, so a concurrent repeat waits on this row and then sees it taken.
 */
export async function claimWebhookEvent(
  q: Queryable,
  event: { eventId: string; type: string; paymentId: string; workflowId: string },
): Promise<boolean> {
  const { rows } = await q.raw(
    `INSERT INTO webhook_events (event_id, type, payment_id, workflow_id) VALUES (?, ?, ?, ?)
     ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
    [event.eventId, event.type, event.paymentId, event.workflowId],
  );
  return rows.length > 0;
}

/** The payout flow that sent the provider's payout `providerPayoutId`, from our own payouts table; null when not ours. */
export async function findPayoutFlow(q: Queryable, providerPayoutId: string): Promise<{ payoutId: string; workflowId: string } | null> {
  const row = await q('payouts').where({ provider_payout_id: providerPayoutId }).first('id');
  return row ? { payoutId: row.id as string, workflowId: payoutWorkflowId(row.id as string) } : null;
}
