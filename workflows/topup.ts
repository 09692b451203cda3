import { ApplicationFailure, patched, proxyActivities, setHandler, ActivityFailure } from '@temporalio/workflow';
import type { TopupActivities } from '../activities/topup';
import { formatRupees } from '../domain/money';
import { topupPollNowSignal, topupStateQuery, type TopupInput, type TopupState, type TopupStatus } from '../contracts/topup';
import { awaitProviderPayment, listenForPaymentConfirmations, type ProviderPaymentWait } from './provider-payment';
import { flowControl, isAbandoned } from './stuck';

/** Kept for callers that still import the types from here; the contract (contracts/topup.ts) owns them. */

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

// Poll the provider 2 s after the charge when no webhook came, doubling up to every 10 minutes.
const FIRST_POLL_MS = 2_000;
const MAX_POLL_MS = 10 * 60_000;

/**
 * A wallet top-up: charge the payment method, wait for the provider's confirmation (webhook, with
 * polling as the fallback), then credit the wallet exactly once.
 */
export async function topupWorkflow(input: TopupInput): Promise<TopupState> {
  const state: TopupState = {
    topupId: input.topupId,
    status: 'pending',
    paymentId: null,
    failureCode: null,
    stuckStep: null,
    stuckReason: null,
  };
  setHandler(topupStateQuery, () => state);
  const pollNow = { requested: false };
  setHandler(topupPollNowSignal, () => {
    pollNow.requested = true;
  });
  const confirmed = listenForPaymentConfirmations();
  const flow = flowControl({ flowType: 'topup', state });
  const summary = (status: TopupStatus, failureCode: string | null) =>
    `Top-up ${input.topupId} of ${formatRupees(input.amount)}: ${status.replace('_', ' ')}${failureCode ? ` (${failureCode})` : ''}`;
  // Support abandoning a stuck step ends the top-up `failed` with nothing credited; a payment the
  // provider already captured is then refunded by hand (the row says so).
  const ends = flow.giveUp<never>('ends the top-up failed; nothing is credited');

  const settle = async (status: TopupStatus, failureCode: string | null = null, message?: string) => {
    state.status = status;
    state.failureCode = failureCode;
    flow.status(status, summary(status, failureCode));
    await flow.step(
      'record_status',
      () => provider.recordTopupStatus({ topupId: input.topupId, status, paymentId: state.paymentId, failureCode, message }),
      {
        abandon: { meaning: 'leaves the top-up row as it was; the flow carries on', run: () => undefined },
      },
    );
  };

  try {
    // 1. Charge. A decline ends the flow; transient provider errors are retried with the same key.
    try {
      const payment = await flow.step('charge', () => provider.createTopupPayment(input), ends);
      state.paymentId = payment.id;
    } catch (err) {
      if (isAbandoned(err)) throw err;
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
    const wait: ProviderPaymentWait = {
      confirmed: () => confirmed(state.paymentId),
      poll: async () => (await flow.step('confirm', () => provider.getTopupPayment(state.paymentId!), ends)).status,
      firstPollMs: FIRST_POLL_MS,
      maxPollMs: MAX_POLL_MS,
    };
    // Recorded histories waited without support's pollNow.
    const outcome = await awaitProviderPayment(patched('topup-poll-now') ? { ...wait, pollNow } : wait);
    if (outcome === 'failed') {
      await settle('failed', 'payment_failed', 'The provider reported the payment failed');
      return state;
    }

    // 3. Credit the wallet: keyed by the top-up, so a retried or repeated credit moves nothing.
    await flow.step(
      'credit',
      () => provider.creditTopup({ topupId: input.topupId, userId: input.userId, amount: input.amount, paymentId: state.paymentId! }),
      ends,
    );
    state.status = 'succeeded';
    flow.status('succeeded', summary('succeeded', null));
  } catch (err) {
    if (!isAbandoned(err)) throw err;
    const paid = state.paymentId ? ` The payment ${state.paymentId} may have been captured and must be refunded by hand.` : '';
    await settle('failed', 'abandoned', `Support abandoned the top-up at step ${err.step}: nothing was credited.${paid}`);
  }
  return state;
}
