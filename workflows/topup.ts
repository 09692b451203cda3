import {
  ApplicationFailure,
  condition,
  defineQuery,
  defineSignal,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  ActivityFailure,
} from '@temporalio/workflow';
import type { TopupActivities } from '../activities/topup';
import { FlowStatus } from './search-attributes';

export interface TopupInput {
  topupId: string;
  userId: string;
  amount: number;
  paymentMethod: string;
}

export type TopupStatus = 'pending' | 'awaiting_confirmation' | 'succeeded' | 'declined' | 'failed';

export interface TopupState {
  topupId: string;
  status: TopupStatus;
  paymentId: string | null;
  failureCode: string | null;
}

/** Sent by the provider webhook endpoint when the PSP reports the payment succeeded. */
export const paymentConfirmedSignal = defineSignal<[{ paymentId: string }]>('paymentConfirmed');
export const topupStateQuery = defineQuery<TopupState>('state');

const provider = proxyActivities<TopupActivities>({
  startToCloseTimeout: '15s',
  retry: {
    initialInterval: '200ms',
    backoffCoefficient: 2,
    maximumInterval: '10s',
    maximumAttempts: 10,
    nonRetryableErrorTypes: ['PaymentDeclined'],
  },
});

const FIRST_POLL = 2_000;
const MAX_POLL = 10 * 60_000;

/**
 * A wallet top-up: charge the payment method, wait for the provider's confirmation (webhook, with
 * polling as the fallback), then credit the wallet exactly once.
 */
export async function topupWorkflow(input: TopupInput): Promise<TopupState> {
  const state: TopupState = { topupId: input.topupId, status: 'pending', paymentId: null, failureCode: null };
  let confirmedPaymentId: string | null = null;
  setHandler(topupStateQuery, () => state);
  setHandler(paymentConfirmedSignal, ({ paymentId }) => {
    confirmedPaymentId = paymentId;
  });

  const settle = async (status: TopupStatus, failureCode: string | null = null, message?: string) => {
    state.status = status;
    state.failureCode = failureCode;
    upsertSearchAttributes([{ key: FlowStatus, value: status }]);
    await provider.recordTopupStatus({ topupId: input.topupId, status, paymentId: state.paymentId, failureCode, message });
  };

  // 1. Charge. A decline ends the flow; transient provider errors are retried with the same key.
  try {
    const payment = await provider.createTopupPayment(input);
    state.paymentId = payment.id;
  } catch (err) {
    const failure = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : null;
    if (failure?.type === 'PaymentDeclined') {
      await settle('declined', String((failure.details?.[0] as { code?: string })?.code ?? 'declined'), failure.message);
    } else {
      await settle('failed', 'provider_unavailable', 'The payment provider could not be reached');
    }
    return state;
  }
  await settle('awaiting_confirmation');

  // 2. Wait for confirmation: the webhook usually wins; polling covers a lost webhook.
  let pollEvery = FIRST_POLL;
  for (;;) {
    if (await condition(() => confirmedPaymentId === state.paymentId, pollEvery)) break;
    const payment = await provider.getTopupPayment(state.paymentId!);
    if (payment.status === 'succeeded') break;
    if (payment.status === 'failed') {
      await settle('failed', 'payment_failed', 'The provider reported the payment failed');
      return state;
    }
    pollEvery = Math.min(pollEvery * 2, MAX_POLL);
  }

  // 3. Credit the wallet: keyed by the top-up, so a retried or repeated credit moves nothing.
  await provider.creditTopup({ topupId: input.topupId, userId: input.userId, amount: input.amount, paymentId: state.paymentId! });
  state.status = 'succeeded';
  upsertSearchAttributes([{ key: FlowStatus, value: 'succeeded' }]);
  return state;
}
